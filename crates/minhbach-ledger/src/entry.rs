//! Entry kinds (the public data contract) and their one canonical encoding.
//!
//! A stored entry is one JSON object on one line: `seq`, `time`, `signer`,
//! `kind`, then the kind's fields in the order declared here, absent optional
//! fields omitted, no insignificant whitespace, strings in Unicode NFC. The
//! canonical form is whatever `Entry::to_line` produces; `Entry::from_line`
//! accepts a line only if encoding it again gives the same bytes, so a byte is
//! a byte forever and two honest implementations agree on every leaf hash.
//!
//! What officers write (`Input`) differs from what is stored only where the
//! ledger must transform it: private fields become keyed commitments and
//! photo files become content-addressed media references.

use crate::money::Dong;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// The longest entry line accepted, in bytes without the newline: the
/// tlog-tiles entry-bundle format stores each entry's length in 16 bits.
pub const MAX_LINE_BYTES: usize = 65_535;

/// A stored ledger entry.
///
/// Serialised with the header first and the body's fields flattened after
/// `kind`. Deserialised by hand (see `EntryVisitor`): the header fields must
/// come first, in order, and the rest of the object goes straight to the
/// kind's struct, which refuses unknown fields. serde's own `flatten` would
/// buffer every field of every entry, the main cost of verifying millions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The entry's position in the ledger, from 0.
    pub seq: u64,
    /// When the entry was appended, RFC 3339 UTC to the second. Informative:
    /// the signed checkpoint, not this clock, is what orders entries.
    pub time: String,
    /// The name of the key that signed the checkpoint covering this entry.
    pub signer: String,
    #[serde(flatten)]
    pub body: Body,
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Entry, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> serde::de::Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entry object starting with seq, time, signer and kind")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        use serde::de::value::MapAccessDeserializer;
        expect_key(&mut map, "seq")?;
        let seq: u64 = map.next_value()?;
        expect_key(&mut map, "time")?;
        let time: String = map.next_value()?;
        expect_key(&mut map, "signer")?;
        let signer: String = map.next_value()?;
        expect_key(&mut map, "kind")?;
        let kind: Kind = map.next_value()?;
        let rest = MapAccessDeserializer::new(map);
        let body = match kind {
            Kind::Key => Body::Key(KeyEntry::deserialize(rest)?),
            Kind::Fund => Body::Fund(Box::new(Fund::deserialize(rest)?)),
            Kind::Donation => Body::Donation(Donation::deserialize(rest)?),
            Kind::Household => Body::Household(Box::new(Household::deserialize(rest)?)),
            Kind::Disbursement => Body::Disbursement(Disbursement::deserialize(rest)?),
            Kind::Progress => Body::Progress(Progress::deserialize(rest)?),
            Kind::Correction => Body::Correction(Correction::deserialize(rest)?),
        };
        Ok(Entry {
            seq,
            time,
            signer,
            body,
        })
    }
}

/// Reads the next key and requires it to be `name`, without allocating.
fn expect_key<'de, A: serde::de::MapAccess<'de>>(
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    use serde::de::Error;
    match map.next_key_seed(KeyIs(name))? {
        Some(true) => Ok(()),
        Some(false) => Err(A::Error::custom(format!(
            "expected field `{name}` here (header fields come first, in order)"
        ))),
        None => Err(A::Error::missing_field(name)),
    }
}

/// A key seed answering whether the key equals the expected name.
struct KeyIs(&'static str);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIs {
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyIs {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the field name `{}`", self.0)
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// An entry's kind, read without allocating.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Key,
    Fund,
    Donation,
    Household,
    Disbursement,
    Progress,
    Correction,
}

/// Every entry kind, in the order of the data contract.
pub const KINDS: [&str; 7] = [
    "key",
    "fund",
    "donation",
    "household",
    "disbursement",
    "progress",
    "correction",
];

/// An entry's kind and fields, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    Key(KeyEntry),
    /// Boxed, as `Household` is: the two largest kinds would otherwise set
    /// the size of every entry, and a national ledger is millions of
    /// donations (312 bytes an entry unboxed, 200 boxed).
    Fund(Box<Fund>),
    Donation(Donation),
    Household(Box<Household>),
    Disbursement(Disbursement),
    Progress(Progress),
    Correction(Correction),
}

/// Admission or revocation of a signing key. The first entry of every ledger
/// (the genesis) admits the administrator key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeyEntry {
    Admit {
        name: String,
        unit: String,
        role: Role,
        /// The C2SP verifier key, `<name>+<key id>+<base64 key>`.
        vkey: String,
    },
    Revoke {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May append anything, including key admissions and revocations.
    Admin,
    /// May append everything but `key` entries.
    Officer,
}

impl Role {
    /// The name the ledger stores (serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fund {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Dong>,
    /// The one account of a fund written before funds had several; read
    /// as a list of one (`Fund::bank_accounts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<BankAccount>,
    /// The accounts the fund receives through. A fund has `account` or
    /// `accounts`, never both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<BankAccount>,
}

impl Fund {
    /// The fund's accounts, whichever form the entry uses.
    pub fn bank_accounts(&self) -> impl Iterator<Item = &BankAccount> {
        self.account.iter().chain(self.accounts.iter())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccount {
    /// The bank's 6-digit NAPAS BIN, e.g. `970415`.
    pub bank_bin: String,
    pub number: String,
    pub holder: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Donation {
    pub fund: String,
    /// The donor's name as given; empty for an anonymous gift.
    pub donor: String,
    pub amount: Dong,
    pub date: String,
    /// The bank's booking time, `HH:MM:SS`, where the statement gives it:
    /// part of a transfer's identity (`ledger::identity`). Not `time`: that
    /// is every entry's header field (when it was appended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_time: Option<String>,
    pub channel: Channel,
    /// The number of the fund's account that received the transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The bank's reference or number for the transfer: recorded once per
    /// fund, account and booking date.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The bank's own text for the transfer, whole (normalised whitespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Bank,
    Cash,
    InKind,
    Other,
}

impl Channel {
    /// Every channel; a new variant goes here and in `as_str`.
    pub const ALL: [Channel; 4] = [
        Channel::Bank,
        Channel::Cash,
        Channel::InKind,
        Channel::Other,
    ];

    /// The name the ledger stores (serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Bank => "bank",
            Channel::Cash => "cash",
            Channel::InKind => "in_kind",
            Channel::Other => "other",
        }
    }
}

/// A supported household as stored: private fields appear only as keyed
/// commitments (and, optionally shown, the last four digits of the ID).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Household {
    pub id: String,
    pub head: String,
    pub province: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub commune: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village: Option<String>,
    pub circumstances: String,
    pub support: Support,
    pub planned: Dong,
    pub photo_consent: bool,
    /// HMAC-SHA256 of the citizen ID under the portal secret, hex.
    pub citizen_id_hmac: String,
    /// The citizen ID's last four digits, in entries written before they
    /// were taken out of the ledger line (they are personal data, and the
    /// ledger is published whole). New entries carry none: a portal that
    /// shows them keeps them in a private side store beside its secret
    /// (`Portal::citizen_id_last4_path`). Kept here, unchanged, so old lines
    /// re-encode to the bytes their Merkle leaves commit to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen_id_last4: Option<String>,
    /// HMAC-SHA256 of the phone number under the portal secret, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_hmac: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// A new house (60 million đồng in the 2025 programme).
    New,
    /// A repair (30 million đồng).
    Repair,
}

impl Support {
    /// Every kind of support; a new variant goes here and in `as_str`.
    pub const ALL: [Support; 2] = [Support::New, Support::Repair];

    /// The name the ledger stores (serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Support::New => "new",
            Support::Repair => "repair",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disbursement {
    pub fund: String,
    pub amount: Dong,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
    pub purpose: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    pub household: String,
    pub date: String,
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<Photo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A photo as stored: `media` names `ledger/media/<sha256>.<ext>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    pub media: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A house's stage. Stages only move forward, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Approved,
    Started,
    Completed,
    HandedOver,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Approved,
        Stage::Started,
        Stage::Completed,
        Stage::HandedOver,
    ];

    /// The name the ledger stores (serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Approved => "approved",
            Stage::Started => "started",
            Stage::Completed => "completed",
            Stage::HandedOver => "handed_over",
        }
    }
}

/// Voids (no `amend`) or amends an earlier entry. History keeps both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    pub target: u64,
    pub reason: String,
    /// Replacement values for some of the target's fields. Keys are sorted
    /// (serde_json's map is ordered), so the encoding stays canonical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amend: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What an officer appends: one JSON object per line, the fields of the data
/// contract plus `kind`. It differs from `Body` in the household's private
/// fields and the progress photos' local files.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    Key(KeyEntry),
    Fund(Fund),
    Donation(Donation),
    Household(HouseholdInput),
    Disbursement(Disbursement),
    Progress(ProgressInput),
    Correction(Correction),
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    pub id: String,
    pub head: String,
    pub province: String,
    #[serde(default)]
    pub district: Option<String>,
    pub commune: String,
    #[serde(default)]
    pub village: Option<String>,
    pub circumstances: String,
    pub support: Support,
    pub planned: Dong,
    #[serde(default)]
    pub photo_consent: bool,
    /// Private: never stored, only its commitment.
    pub citizen_id: String,
    /// Private: never stored, only its commitment.
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressInput {
    pub household: String,
    pub date: String,
    pub stage: Stage,
    #[serde(default)]
    pub photos: Vec<PhotoInput>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A photo to attach: a local `file` (copied into `ledger/media/`) or the
/// `media` name of one already there.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoInput {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub media: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Key(_) => "key",
            Body::Fund(_) => "fund",
            Body::Donation(_) => "donation",
            Body::Household(_) => "household",
            Body::Disbursement(_) => "disbursement",
            Body::Progress(_) => "progress",
            Body::Correction(_) => "correction",
        }
    }
}

/// Why a stored line is not a valid canonical entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("line is {0} bytes, over the {MAX_LINE_BYTES}-byte limit")]
    TooLong(usize),
    #[error("line is not valid UTF-8")]
    NotUtf8,
    #[error("line is not a valid entry: {0}")]
    Json(String),
    #[error(
        "line is not in canonical form (field order, whitespace, escapes or unknown fields differ)"
    )]
    NotCanonical,
    #[error("line is not in Unicode NFC")]
    NotNfc,
}

impl Entry {
    /// The canonical line, without the trailing newline.
    pub fn to_line(&self) -> String {
        // Serialising plain data to a String cannot fail: no maps with
        // non-string keys, no foreign Serialize impls.
        serde_json::to_string(self).expect("entry serialises")
    }

    /// Decodes a stored line and checks it is canonical.
    pub fn from_line(line: &[u8]) -> Result<Entry, DecodeError> {
        if line.len() > MAX_LINE_BYTES {
            return Err(DecodeError::TooLong(line.len()));
        }
        let text = std::str::from_utf8(line).map_err(|_| DecodeError::NotUtf8)?;
        let entry: Entry =
            serde_json::from_str(text).map_err(|e| DecodeError::Json(strip_position(&e)))?;
        if !encodes_to(&entry, line) {
            return Err(DecodeError::NotCanonical);
        }
        if !is_nfc_line(text) {
            return Err(DecodeError::NotNfc);
        }
        Ok(entry)
    }
}

impl Entry {
    /// Decodes a line known to be one `from_line` accepted before: its bytes
    /// hash to a Merkle root a full verification judged (the verified-state
    /// cache), so the canonical-form and NFC checks would only repeat.
    pub(crate) fn from_verified_line(line: &[u8]) -> Result<Entry, DecodeError> {
        serde_json::from_slice(line).map_err(|e| DecodeError::Json(strip_position(&e)))
    }
}

/// Whether `entry` encodes to exactly `line`: the encoder's output is
/// compared as it is written, with no copy (`verify` does this for every
/// entry, and allocating each line showed in its profile).
fn encodes_to(entry: &Entry, line: &[u8]) -> bool {
    struct Compare<'a> {
        rest: &'a [u8],
        same: bool,
    }
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            match self.rest.strip_prefix(bytes) {
                Some(rest) if self.same => self.rest = rest,
                _ => self.same = false,
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut compare = Compare {
        rest: line,
        same: true,
    };
    serde_json::to_writer(&mut compare, entry).expect("entry serialises");
    compare.same && compare.rest.is_empty()
}

/// `unicode_normalization::is_nfc`, looking only at the non-ASCII runs of the
/// line, each with the character before it. Exact: an ASCII character is a
/// starter that is unchanged by NFC and never the second character of a
/// composition, so only a run, and what it may compose with, can differ.
fn is_nfc_line(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| !b.is_ascii()) {
        let start = at + offset;
        let end = bytes[start..]
            .iter()
            .position(u8::is_ascii)
            .map_or(bytes.len(), |n| start + n);
        // Run boundaries are character boundaries: ASCII bytes never occur
        // inside a multi-byte UTF-8 character.
        let from = start.saturating_sub(1);
        if !unicode_normalization::is_nfc(&text[from..end]) {
            return false;
        }
        at = end;
    }
    true
}

/// serde_json appends " at line 1 column N" to messages; for a single stored
/// line the ledger reports its own file and line instead.
fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// Normalises a string to Unicode NFC, the only form the ledger stores.
pub fn nfc(text: &str) -> String {
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.to_string()
    } else {
        text.nfc().collect()
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The lists of values the site names (`Channel::ALL`, …) are the
    /// names serde stores, each once.
    #[test]
    fn value_lists_are_the_stored_names() {
        fn check<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
            all: &[T],
            name: impl Fn(&T) -> &'static str,
        ) {
            let mut seen = std::collections::BTreeSet::new();
            for value in all {
                let stored = serde_json::to_string(value).unwrap();
                assert_eq!(stored, format!("\"{}\"", name(value)));
                assert_eq!(&serde_json::from_str::<T>(&stored).unwrap(), value);
                assert!(seen.insert(stored), "{value:?} listed twice");
            }
        }
        check(&Channel::ALL, |c| c.as_str());
        check(&Support::ALL, |s| s.as_str());
        check(&Stage::ALL, |s| s.as_str());
    }

    fn donation(donor: &str, amount: u64, reference: Option<&str>) -> Entry {
        Entry {
            seq: 7,
            time: "2025-09-12T08:00:00Z".into(),
            signer: "canbo".into(),
            body: Body::Donation(Donation {
                fund: "bao-yagi".into(),
                donor: donor.into(),
                amount: Dong::new(amount),
                date: "2025-09-12".into(),
                booking_time: None,
                channel: Channel::Bank,
                account: None,
                reference: reference.map(Into::into),
                description: None,
                note: None,
            }),
        }
    }

    #[test]
    fn canonical_line_has_fixed_field_order() {
        let line = donation("Nguyễn Văn An", 500_000, Some("FT123")).to_line();
        assert_eq!(
            line,
            r#"{"seq":7,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"donation","fund":"bao-yagi","donor":"Nguyễn Văn An","amount":500000,"date":"2025-09-12","channel":"bank","ref":"FT123"}"#
        );
        assert_eq!(
            Entry::from_line(line.as_bytes()).unwrap(),
            donation("Nguyễn Văn An", 500_000, Some("FT123"))
        );
    }

    #[test]
    fn non_canonical_lines_are_refused() {
        let line = donation("A", 1, None).to_line();
        let spaced = line.replace(",\"amount\"", ", \"amount\"");
        assert_eq!(
            Entry::from_line(spaced.as_bytes()),
            Err(DecodeError::NotCanonical)
        );
        let reordered = line.replace(
            r#""seq":7,"time":"2025-09-12T08:00:00Z""#,
            r#""time":"2025-09-12T08:00:00Z","seq":7"#,
        );
        assert!(matches!(
            Entry::from_line(reordered.as_bytes()),
            Err(DecodeError::Json(m)) if m.contains("expected field `seq`")
        ));
        let extra = line.replace(r#""channel":"bank""#, r#""channel":"bank","x":1"#);
        assert!(matches!(
            Entry::from_line(extra.as_bytes()),
            Err(DecodeError::Json(m)) if m.contains("unknown field `x`")
        ));
        let escaped = line.replace("\"A\"", "\"\\u0041\"");
        assert_eq!(
            Entry::from_line(escaped.as_bytes()),
            Err(DecodeError::NotCanonical)
        );
        let decomposed = donation("Nguye\u{302}\u{303}n", 1, None).to_line();
        assert_eq!(
            Entry::from_line(decomposed.as_bytes()),
            Err(DecodeError::NotNfc)
        );
        assert!(matches!(
            Entry::from_line(b"{\"seq\":1}"),
            Err(DecodeError::Json(_))
        ));
        assert_eq!(Entry::from_line(&[0xff]), Err(DecodeError::NotUtf8));
    }

    #[test]
    fn nfc_composes() {
        assert_eq!(nfc("Nguye\u{302}\u{303}n"), "Nguyễn");
    }

    proptest! {
        #[test]
        fn encoding_round_trips(donor in "\\PC{0,40}", amount in 1u64.., reference in proptest::option::of("[A-Z0-9]{1,20}")) {
            let entry = donation(&nfc(&donor), amount, reference.as_deref());
            let line = entry.to_line();
            prop_assert!(!line.contains('\n'));
            prop_assert_eq!(Entry::from_line(line.as_bytes()).unwrap(), entry);
        }

        #[test]
        fn the_nfc_check_of_a_line_is_exact(
            text in "[a-eA-Y0-9n\\\\\"\u{300}-\u{36f}\u{1100}-\u{1112}\u{1161}-\u{1175}\u{11a8}-\u{11c2}àáạảãăâêôơưđẠ-ỹ\u{ac00}-\u{ac10}\u{0bc6}\u{0bbe}\u{0b95}]{0,24}",
            noise in "\\PC{0,12}",
        ) {
            for line in [text.clone(), format!("{noise}{text}"), format!("{text}{noise}")] {
                prop_assert_eq!(is_nfc_line(&line), unicode_normalization::is_nfc(&line), "{:?}", line);
            }
        }

        #[test]
        fn decoding_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Entry::from_line(&bytes);
        }
    }
}
