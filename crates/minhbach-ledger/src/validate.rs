//! Field-level checks that need no ledger context, and the error every check
//! of an entry reports (`EntryError`): slugs, dates, lengths, positive amounts of at most `Dong::MAX_AMOUNT`, enumerations already typed by serde. `State::apply`
//! runs them first, so append and verify judge a field the same way.

use super::entry::{BankAccount, Body, KeyEntry};
use super::note::{VerifierKey, is_valid_key_name};
use crate::money::{Dong, MoneyError};
use std::fmt;

/// Why an entry was refused: the field concerned (dotted path, as in the
/// input) and a message an officer can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryError {
    pub field: Option<String>,
    pub message: String,
}

impl EntryError {
    pub fn field(field: &str, message: impl Into<String>) -> EntryError {
        EntryError {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn entry(message: impl Into<String>) -> EntryError {
        EntryError {
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn money(field: &str, error: MoneyError) -> EntryError {
        EntryError::field(field, error.to_string())
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "field `{field}`: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EntryError {}

/// Short single-line texts (names, places, references).
const SHORT_TEXT: usize = 200;
/// Long texts (descriptions, circumstances, notes, reasons).
const LONG_TEXT: usize = 5_000;

pub fn check_fields(body: &Body) -> Result<(), EntryError> {
    match body {
        Body::Key(KeyEntry::Admit {
            name,
            unit,
            vkey,
            role: _,
        }) => {
            key_name("name", name)?;
            verifier_key(vkey)?;
            text("unit", unit, SHORT_TEXT, Line::Single, Empty::Refused)
        }
        Body::Key(KeyEntry::Revoke { name, reason }) => {
            key_name("name", name)?;
            optional_text("reason", reason, LONG_TEXT, Line::Multi)
        }
        Body::Fund(fund) => {
            slug("id", &fund.id)?;
            text("name", &fund.name, SHORT_TEXT, Line::Single, Empty::Refused)?;
            text(
                "description",
                &fund.description,
                LONG_TEXT,
                Line::Multi,
                Empty::Allowed,
            )?;
            if let Some(target) = fund.target {
                positive("target", target)?;
            }
            bank_accounts(fund)
        }
        Body::Donation(donation) => {
            slug("fund", &donation.fund)?;
            text(
                "donor",
                &donation.donor,
                SHORT_TEXT,
                Line::Single,
                Empty::Allowed,
            )?;
            positive("amount", donation.amount)?;
            date("date", &donation.date)?;
            if let Some(value) = &donation.booking_time {
                clock_time("booking_time", value)?;
            }
            optional_text("account", &donation.account, 64, Line::Single)?;
            if let Some(reference) = &donation.reference {
                text("ref", reference, 64, Line::Single, Empty::Refused)?;
            }
            optional_text(
                "description",
                &donation.description,
                LONG_TEXT,
                Line::Single,
            )?;
            optional_text("note", &donation.note, LONG_TEXT, Line::Multi)
        }
        Body::Household(household) => {
            slug("id", &household.id)?;
            text(
                "head",
                &household.head,
                SHORT_TEXT,
                Line::Single,
                Empty::Refused,
            )?;
            text(
                "province",
                &household.province,
                SHORT_TEXT,
                Line::Single,
                Empty::Refused,
            )?;
            optional_text("district", &household.district, SHORT_TEXT, Line::Single)?;
            text(
                "commune",
                &household.commune,
                SHORT_TEXT,
                Line::Single,
                Empty::Refused,
            )?;
            optional_text("village", &household.village, SHORT_TEXT, Line::Single)?;
            text(
                "circumstances",
                &household.circumstances,
                LONG_TEXT,
                Line::Multi,
                Empty::Allowed,
            )?;
            positive("planned", household.planned)?;
            hmac_hex("citizen_id", &household.citizen_id_hmac)?;
            if let Some(last4) = &household.citizen_id_last4
                && (last4.len() != 4 || !last4.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(EntryError::field("citizen_id_last4", "must be four digits"));
            }
            match &household.phone_hmac {
                Some(phone) => hmac_hex("phone", phone),
                None => Ok(()),
            }
        }
        Body::Disbursement(disbursement) => {
            slug("fund", &disbursement.fund)?;
            positive("amount", disbursement.amount)?;
            date("date", &disbursement.date)?;
            match (&disbursement.household, &disbursement.payee) {
                (Some(household), None) => slug("household", household)?,
                (None, Some(payee)) => {
                    text("payee", payee, SHORT_TEXT, Line::Single, Empty::Refused)?
                }
                _ => {
                    return Err(EntryError::field(
                        "household",
                        "a disbursement names exactly one recipient: `household` (an id) or `payee` (a name)",
                    ));
                }
            }
            text(
                "purpose",
                &disbursement.purpose,
                LONG_TEXT,
                Line::Multi,
                Empty::Refused,
            )
        }
        Body::Progress(progress) => {
            slug("household", &progress.household)?;
            date("date", &progress.date)?;
            for (index, photo) in progress.photos.iter().enumerate() {
                media_name(&format!("photos[{index}].media"), &photo.media)?;
                optional_text(
                    &format!("photos[{index}].caption"),
                    &photo.caption,
                    SHORT_TEXT,
                    Line::Single,
                )?;
            }
            optional_text("note", &progress.note, LONG_TEXT, Line::Multi)
        }
        Body::Correction(correction) => {
            text(
                "reason",
                &correction.reason,
                LONG_TEXT,
                Line::Multi,
                Empty::Refused,
            )?;
            match &correction.amend {
                Some(amend) => amend.iter().try_for_each(|(field, value)| {
                    escapes_stay_nfc("amend", field)?;
                    whole_numbers(&format!("amend.{field}"), value)
                }),
                None => Ok(()),
            }
        }
    }
}

/// A verifier key is stored exactly as it prints (no trailing space, no
/// control character): the canonical encoding escapes control characters as
/// `\u00XX`, and a combining mark after one would then compose with the hex
/// digit, leaving a stored line that is not NFC. Found by the `append_input`
/// fuzz target (`…;\u000e\u0301…` inside a `vkey`).
fn verifier_key(vkey: &str) -> Result<(), EntryError> {
    let parsed = VerifierKey::parse(vkey).map_err(|e| EntryError::field("vkey", e.to_string()))?;
    if parsed.to_string() != vkey {
        return Err(EntryError::field(
            "vkey",
            format!("is not written as `{parsed}` (no spaces around it)"),
        ));
    }
    Ok(())
}

/// The ledger holds no fractions (money is integer đồng), and a float in an
/// amendment may not survive a decode and re-encode byte for byte (serde_json
/// reads floats to within one unit in the last place), which would make the
/// stored line non-canonical. Found by the `append_input` fuzz target:
/// `"amend":{"amount":5011…1000}`, past `u64`, became the float `5.01e68`.
fn whole_numbers(field: &str, value: &serde_json::Value) -> Result<(), EntryError> {
    use serde_json::Value;
    match value {
        Value::Number(number) if !number.is_u64() && !number.is_i64() => Err(EntryError::field(
            field,
            format!("is {number}, not a whole number of đồng within 0–18446744073709551615"),
        )),
        Value::String(text) => escapes_stay_nfc(field, text),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(index, item)| whole_numbers(&format!("{field}[{index}]"), item)),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            escapes_stay_nfc(field, key)?;
            whole_numbers(&format!("{field}.{key}"), item)
        }),
        _ => Ok(()),
    }
}

/// A stored line must be NFC as a whole, not only string by string: the
/// canonical encoding writes a line break as `\n` and other control
/// characters as `\u00XX`, so a combining mark right after one would compose
/// with the `n` or the hex digit, and `verify` would refuse the line. Such a
/// mark means nothing after a line break anyway. Found by the
/// `append_input` fuzz target (`\u0000` then U+0301 in an amendment).
fn escapes_stay_nfc(field: &str, value: &str) -> Result<(), EntryError> {
    if !value.chars().any(char::is_control) {
        return Ok(());
    }
    let encoded = serde_json::to_string(value).expect("a string serialises");
    if unicode_normalization::is_nfc(&encoded) {
        return Ok(());
    }
    Err(EntryError::field(
        field,
        "has a combining mark right after a line break, tab or control character",
    ))
}

#[derive(Clone, Copy, PartialEq)]
enum Line {
    Single,
    Multi,
}

#[derive(Clone, Copy, PartialEq)]
enum Empty {
    Allowed,
    Refused,
}

fn text(
    field: &str,
    value: &str,
    max_chars: usize,
    line: Line,
    empty: Empty,
) -> Result<(), EntryError> {
    if empty == Empty::Refused && value.trim().is_empty() {
        return Err(EntryError::field(field, "must not be empty"));
    }
    // A string is never longer in characters than in bytes: most need no
    // count.
    if value.len() > max_chars && value.chars().count() > max_chars {
        return Err(EntryError::field(
            field,
            format!("is longer than {max_chars} characters"),
        ));
    }
    let allowed = |c: char| line == Line::Multi && (c == '\n' || c == '\t');
    let mut has_control = false;
    // Control characters (U+0000-U+001F, U+007F-U+009F) are found by their
    // bytes first: in UTF-8 each is one of these bytes or starts with 0xC2.
    let may_have_control = value
        .bytes()
        .any(|byte| byte < 0x20 || byte == 0x7f || byte == 0xc2);
    if may_have_control {
        for control in value.chars().filter(|c| c.is_control()) {
            if !allowed(control) {
                return Err(EntryError::field(
                    field,
                    format!("contains the control character U+{:04X}", control as u32),
                ));
            }
            has_control = true;
        }
    }
    if has_control {
        escapes_stay_nfc(field, value)?;
    }
    let padded = value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace);
    if padded {
        return Err(EntryError::field(field, "has leading or trailing spaces"));
    }
    Ok(())
}

fn optional_text(
    field: &str,
    value: &Option<String>,
    max_chars: usize,
    line: Line,
) -> Result<(), EntryError> {
    match value {
        Some(value) => text(field, value, max_chars, line, Empty::Refused),
        None => Ok(()),
    }
}

/// Ids are URL path segments on the public site: lowercase ASCII letters,
/// digits and inner hyphens, at most 64 characters.
pub fn slug(field: &str, value: &str) -> Result<(), EntryError> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!(
                "`{value}` is not an id: use 1–64 lowercase letters a–z, digits and inner hyphens"
            ),
        ))
    }
}

/// Dates are `YYYY-MM-DD` and real calendar days. Checked byte by byte
/// (millions of entries are verified; chrono's format parser is slow).
pub fn date(field: &str, value: &str) -> Result<(), EntryError> {
    if parse_date(value).is_some() {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!("`{value}` is not a date in the form YYYY-MM-DD"),
        ))
    }
}

/// Parses `YYYY-MM-DD` strictly (four, two and two digits).
pub fn parse_date(value: &str) -> Option<chrono::NaiveDate> {
    parse_date_bytes(value.as_bytes())
}

fn parse_date_bytes(bytes: &[u8]) -> Option<chrono::NaiveDate> {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&bytes[0..4])?;
    chrono::NaiveDate::from_ymd_opt(year as i32, digits(&bytes[5..7])?, digits(&bytes[8..10])?)
}

/// The value of a run of ASCII digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// Entry times are RFC 3339 UTC to the second: `2025-09-12T08:30:00Z`.
pub fn time(field: &str, value: &str) -> Result<(), EntryError> {
    let bytes = value.as_bytes();
    let valid = bytes.len() == 20
        && parse_date_bytes(&bytes[..10]).is_some()
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
        && bytes[19] == b'Z'
        && digits(&bytes[11..13]).is_some_and(|hour| hour < 24)
        && digits(&bytes[14..16]).is_some_and(|minute| minute < 60)
        && digits(&bytes[17..19]).is_some_and(|second| second < 60);
    if valid {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!("`{value}` is not an RFC 3339 UTC time such as 2025-09-12T08:30:00Z"),
        ))
    }
}

/// A positive amount of at most [`Dong::MAX_AMOUNT`]: every amount field,
/// and an amendment's through the amended body.
fn positive(field: &str, amount: Dong) -> Result<(), EntryError> {
    if amount == Dong::ZERO {
        Err(EntryError::field(
            field,
            "must be a positive whole number of đồng",
        ))
    } else if amount > Dong::MAX_AMOUNT {
        Err(EntryError::field(
            field,
            format!(
                "is {amount} đồng, over the limit of {} đồng (10^15) for one amount",
                Dong::MAX_AMOUNT
            ),
        ))
    } else {
        Ok(())
    }
}

fn key_name(field: &str, name: &str) -> Result<(), EntryError> {
    if is_valid_key_name(name) && name.len() <= 64 {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!("`{name}` is not a key name (no spaces, no `+`, at most 64 bytes)"),
        ))
    }
}

fn hmac_hex(field: &str, value: &str) -> Result<(), EntryError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            "the stored commitment must be 64 lowercase hex digits",
        ))
    }
}

/// Media names are `<sha256 hex>.<ext>` with a known image or document extension.
pub fn media_name(field: &str, value: &str) -> Result<(), EntryError> {
    let valid = value.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == 64
            && hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && MEDIA_EXTENSIONS.contains(&ext)
    });
    if valid {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!(
                "`{value}` is not a media name `<sha256>.<ext>` ({})",
                MEDIA_EXTENSIONS.join(", ")
            ),
        ))
    }
}

/// File types accepted into `ledger/media/`.
pub const MEDIA_EXTENSIONS: [&str; 5] = ["jpg", "png", "webp", "pdf", "gif"];

/// A bank's booking time, `HH:MM:SS`.
fn clock_time(field: &str, value: &str) -> Result<(), EntryError> {
    let bytes = value.as_bytes();
    let valid = bytes.len() == 8
        && bytes[2] == b':'
        && bytes[5] == b':'
        && digits(&bytes[0..2]).is_some_and(|hour| hour < 24)
        && digits(&bytes[3..5]).is_some_and(|minute| minute < 60)
        && digits(&bytes[6..8]).is_some_and(|second| second < 60);
    if valid {
        Ok(())
    } else {
        Err(EntryError::field(
            field,
            format!("`{value}` is not a time of day HH:MM:SS such as 08:05:09"),
        ))
    }
}

/// A fund's accounts: the older single `account` or the list, not both,
/// each valid, no number twice.
fn bank_accounts(fund: &super::entry::Fund) -> Result<(), EntryError> {
    if fund.account.is_some() && !fund.accounts.is_empty() {
        return Err(EntryError::field(
            "accounts",
            "a fund has `account` (one) or `accounts` (a list), not both",
        ));
    }
    let mut numbers = Vec::new();
    for account in fund.bank_accounts() {
        bank_account(account)?;
        if numbers.contains(&&account.number) {
            return Err(EntryError::field(
                "accounts",
                format!("account `{}` is listed twice", account.number),
            ));
        }
        numbers.push(&account.number);
    }
    Ok(())
}

fn bank_account(account: &BankAccount) -> Result<(), EntryError> {
    if account.bank_bin.len() != 6 || !account.bank_bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EntryError::field(
            "account.bank_bin",
            "must be the bank's 6-digit NAPAS BIN, e.g. 970415",
        ));
    }
    let number_ok = (1..=19).contains(&account.number.len())
        && account.number.bytes().all(|b| b.is_ascii_alphanumeric());
    if !number_ok {
        return Err(EntryError::field(
            "account.number",
            "must be 1–19 letters or digits, without spaces",
        ));
    }
    text(
        "account.holder",
        &account.holder,
        SHORT_TEXT,
        Line::Single,
        Empty::Refused,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_dates() {
        assert!(slug("id", "bao-yagi-2024").is_ok());
        for bad in ["", "Bao", "a b", "-a", "a-", "../x", "ă"] {
            assert!(slug("id", bad).is_err(), "{bad}");
        }
        assert!(date("date", "2025-02-28").is_ok());
        for bad in ["2025-02-30", "2025-2-1", "12/09/2025", "2025-02-28T00:00"] {
            assert!(date("date", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_rules() {
        assert!(text("x", "a\nb", 10, Line::Multi, Empty::Refused).is_ok());
        assert!(text("x", "a\nb", 10, Line::Single, Empty::Refused).is_err());
        assert!(text("x", "a\u{0}", 10, Line::Multi, Empty::Refused).is_err());
        assert!(text("x", " a", 10, Line::Single, Empty::Refused).is_err());
        assert!(text("x", "", 10, Line::Single, Empty::Refused).is_err());
        assert!(text("x", "", 10, Line::Single, Empty::Allowed).is_ok());
        assert!(text("x", &"đ".repeat(11), 10, Line::Single, Empty::Allowed).is_err());
        assert!(text("x", &"đ".repeat(10), 10, Line::Single, Empty::Allowed).is_ok());
        // Every control character, one byte or two in UTF-8, and the
        // characters beside them that share their first byte.
        for control in ['\u{1f}', '\u{7f}', '\u{80}', '\u{9f}'] {
            let value = format!("a{control}b");
            assert!(text("x", &value, 10, Line::Multi, Empty::Refused).is_err());
        }
        for plain in ['\u{a0}', '\u{bf}', 'đ', '\u{7e}'] {
            let value = format!("a{plain}b");
            assert!(text("x", &value, 10, Line::Multi, Empty::Refused).is_ok());
        }
    }

    #[test]
    fn a_verifier_key_is_stored_as_it_prints() {
        let key = super::super::note::SigningKey::generate("mttq-quangtri")
            .unwrap()
            .verifier_key();
        let admit = |vkey: &str| {
            Body::Key(KeyEntry::Admit {
                name: "mttq-quangtri".into(),
                unit: "MTTQ Quảng Trị".into(),
                role: super::super::entry::Role::Admin,
                vkey: vkey.into(),
            })
        };
        assert!(check_fields(&admit(&key.to_string())).is_ok());
        for bad in [
            format!("{key}\n"),
            format!("{key};\u{e}\u{301}0"),
            "mttq-q;\u{e}\u{301}0".to_string(),
        ] {
            let error = check_fields(&admit(&bad)).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("vkey"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn no_combining_mark_follows_an_escaped_character() {
        assert!(text("x", "a\n\u{301}b", 10, Line::Multi, Empty::Refused).is_err());
        assert!(text("x", "a\t\u{30c}b", 10, Line::Multi, Empty::Refused).is_err());
        assert!(text("x", "a\t\u{300}b", 10, Line::Multi, Empty::Refused).is_ok());
        assert!(text("x", "a\nb\u{301}", 10, Line::Multi, Empty::Refused).is_ok());
        let line = r#"{"seq":3,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":2,"reason":"x","amend":{"note":"a\u000e\u0301b"}}"#;
        let entry: crate::entry::Entry = serde_json::from_str(line).unwrap();
        let error = check_fields(&entry.body).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("amend.note"), "{error}");
        let key = r#"{"seq":3,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":2,"reason":"x","amend":{"n\u000e\u0301":1}}"#;
        let entry: crate::entry::Entry = serde_json::from_str(key).unwrap();
        assert!(check_fields(&entry.body).is_err());
    }

    #[test]
    fn amendments_hold_no_fractions() {
        let line = r#"{"seq":3,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":2,"reason":"x","amend":{"amount":5.011111111111111e68}}"#;
        let entry: crate::entry::Entry = serde_json::from_str(line).unwrap();
        let error = check_fields(&entry.body).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("amend.amount"), "{error}");
        assert!(error.to_string().contains("not a whole number"), "{error}");
        let nested = r#"{"seq":3,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":2,"reason":"x","amend":{"account":{"number":[0.5]}}}"#;
        let entry: crate::entry::Entry = serde_json::from_str(nested).unwrap();
        let error = check_fields(&entry.body).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("amend.account.number[0]"));
        let whole = r#"{"seq":3,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":2,"reason":"x","amend":{"amount":18446744073709551615}}"#;
        let entry: crate::entry::Entry = serde_json::from_str(whole).unwrap();
        assert!(check_fields(&entry.body).is_ok());
    }
}
