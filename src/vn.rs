//! Vietnamese text and formats: money as `1.250.000 ₫`, dates as `12/09/2025`
//! (English `12 Sep 2025`), diacritic-insensitive folding for search, and the
//! public forms of personal data (household names per the privacy setting,
//! masked citizen IDs). Pure functions, no I/O.

use crate::config::NameDisplay;
use unicode_normalization::UnicodeNormalization;

/// Groups digits by thousands with dots, the Vietnamese way: `1.250.000`.
pub fn group_digits(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('.');
        }
        out.push(digit);
    }
    out
}

/// An amount of đồng as the public reads it: `1.250.000 ₫`.
pub fn format_vnd(dong: u64) -> String {
    format!("{} ₫", group_digits(dong))
}

/// Splits `YYYY-MM-DD` (or the date part of an RFC 3339 time) into numbers;
/// `None` if it is not such a date.
fn date_parts(date: &str) -> Option<(u32, u32, u32)> {
    use chrono::Datelike;
    let date = date.get(..10)?;
    // The ledger's own form read byte by byte (pages format a million
    // dates); anything else through chrono's format parser.
    let parsed = crate::ledger::parse_date(date)
        .or_else(|| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())?;
    Some((parsed.year() as u32, parsed.month(), parsed.day()))
}

/// `2025-09-12` → `12/09/2025`. Anything that is not a date is returned as is,
/// so a template never fails on an odd value.
pub fn date_vi(date: &str) -> String {
    match date_parts(date) {
        Some((year, month, day)) => format!("{day:02}/{month:02}/{year}"),
        None => date.to_string(),
    }
}

/// `2025-09-12` → `12 Sep 2025`.
pub fn date_en(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match date_parts(date) {
        Some((year, month, day)) => format!("{day} {} {year}", MONTHS[month as usize - 1]),
        None => date.to_string(),
    }
}

/// A date in the page's language (`vi` or `en`).
pub fn format_date(date: &str, language: &str) -> String {
    match language {
        "en" => date_en(date),
        _ => date_vi(date),
    }
}

/// Folds text for diacritic-insensitive search: lower case, tone and vowel
/// marks removed, `đ` → `d`, runs of whitespace made one space.
/// "Nguyễn Văn Ấn" → "nguyen van an".
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        match c {
            'đ' | 'Đ' => out.push('d'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Whether `c` is a Unicode bidi embedding, override or isolate control
/// (U+202A–U+202E, U+2066–U+2069), the characters of "Trojan Source" attacks.
///
/// Published text never needs them: Vietnamese is written left to right,
/// and a right-to-left name displays correctly by the Unicode bidi algorithm
/// alone. What they can do is harm: a donor name holding U+202E (right-to-left
/// override) and no closing U+202C reverses everything after it up to the end
/// of the paragraph, so `Nguyễn Văn An` followed by `#42 · 12/09/2025` could
/// show a different entry number or date. The implicit marks (LRM, RLM, ALM)
/// are kept: they only change how neutral characters next to them lean and
/// cannot reorder a neighbour's text.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` without bidi embedding, override and isolate controls (see
/// `is_bidi_control`): what pages, feeds and spreadsheets show. The ledger
/// keeps the exact text; only its public views are stripped.
pub fn strip_bidi_controls(text: &str) -> std::borrow::Cow<'_, str> {
    // Every one of them is encoded with lead byte 0xE2: most text has none
    // (this runs on every donor name of every CSV row and lookup record).
    if text.as_bytes().contains(&0xE2) && text.contains(is_bidi_control) {
        std::borrow::Cow::Owned(text.chars().filter(|&c| !is_bidi_control(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A household head's name as the privacy setting allows it on public pages:
/// in full, "Nguyễn V. A." (family name kept), or "N. V. A.".
pub fn display_name(name: &str, display: NameDisplay) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let initial = |word: &str| {
        let first: String = word.chars().take(1).flat_map(char::to_uppercase).collect();
        format!("{first}.")
    };
    match display {
        NameDisplay::Full => words.join(" "),
        NameDisplay::Abbreviated => match words.split_first() {
            Some((family, rest)) => std::iter::once(family.to_string())
                .chain(rest.iter().map(|word| initial(word)))
                .collect::<Vec<_>>()
                .join(" "),
            None => String::new(),
        },
        NameDisplay::Initials => words
            .iter()
            .map(|word| initial(word))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A citizen ID shown by its last four digits only: `********1234`.
pub fn mask_last4(last4: &str) -> String {
    format!("********{last4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_dates() {
        assert_eq!(format_vnd(1_250_000), "1.250.000 ₫");
        assert_eq!(format_vnd(0), "0 ₫");
        assert_eq!(date_vi("2025-09-12"), "12/09/2025");
        assert_eq!(date_en("2025-09-12"), "12 Sep 2025");
        assert_eq!(date_vi("2025-09-12T08:00:00Z"), "12/09/2025");
        assert_eq!(format_date("2025-01-05", "en"), "5 Jan 2025");
        assert_eq!(date_vi("soon"), "soon");
    }

    #[test]
    fn dates_read_as_chrono_reads_them() {
        let chrono = |date: &str| {
            use chrono::Datelike;
            let parsed = chrono::NaiveDate::parse_from_str(date.get(..10)?, "%Y-%m-%d").ok()?;
            Some((parsed.year() as u32, parsed.month(), parsed.day()))
        };
        for date in [
            "2025-09-12",
            "2024-02-29",
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "0001-01-01",
            "9999-12-31",
            "2025-9-12xx",
            "2025-09-1x",
            "+202-09-12",
            "2025/09/12",
            "2025-09-12T23:59:59Z",
            "20250912",
            "",
            "ngày 12",
        ] {
            assert_eq!(date_parts(date), chrono(date), "{date}");
        }
    }

    #[test]
    fn folding_removes_diacritics() {
        assert_eq!(fold("Nguyễn Văn Ấn"), "nguyen van an");
        assert_eq!(fold("  ĐINH   Thị Đào "), "dinh thi dao");
        assert_eq!(fold("Nguye\u{302}\u{303}n"), "nguyen");
    }

    #[test]
    fn names_and_masks() {
        let name = "Nguyễn Văn Ấn";
        assert_eq!(display_name(name, NameDisplay::Full), "Nguyễn Văn Ấn");
        assert_eq!(display_name(name, NameDisplay::Abbreviated), "Nguyễn V. Ấ.");
        assert_eq!(display_name(name, NameDisplay::Initials), "N. V. Ấ.");
        assert_eq!(mask_last4("1234"), "********1234");
    }

    #[test]
    fn bidi_controls_are_stripped_and_marks_kept() {
        assert_eq!(
            strip_bidi_controls("\u{202e}gnp.exe \u{2067}An\u{2069}\u{202a}\u{202c}"),
            "gnp.exe An"
        );
        assert_eq!(strip_bidi_controls("Lê \u{200f}Hoa"), "Lê \u{200f}Hoa");
        assert!(matches!(
            strip_bidi_controls("Nguyễn"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn groups_by_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1_000), "1.000");
        assert_eq!(group_digits(1_250_000), "1.250.000");
        assert_eq!(group_digits(u64::MAX), "18.446.744.073.709.551.615");
    }
}
