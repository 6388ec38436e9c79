//! Dates as statements and rosters print them, read into the ledger's
//! `YYYY-MM-DD`.
//!
//! Vietnamese banks write the day first (`12/09/2024`, often with the time:
//! `12/09/2024 10:15:32`); exports from other systems use `2024-09-12`. A
//! mapping file may list its own chrono formats (`%d-%m-%Y`, ...). A
//! spreadsheet cell that holds a real date is taken as it is.

use chrono::{NaiveDate, NaiveDateTime};

/// The formats tried when a mapping does not name its own, in order. Day
/// first: no Vietnamese statement puts the month first.
pub const DEFAULT_FORMATS: [&str; 8] = [
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y",
];

/// Parses `text` with the first of `formats` that reads all of it. A format
/// with a time accepts the time; a date-only format also accepts a date
/// followed by a time, so `%d/%m/%Y` reads `12/09/2024 10:15:32`.
pub fn parse_date(text: &str, formats: &[String]) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let formats: Vec<&str> = if formats.is_empty() {
        DEFAULT_FORMATS.to_vec()
    } else {
        formats.iter().map(String::as_str).collect()
    };
    for format in &formats {
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            return plausible(date);
        }
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return plausible(time.date());
        }
    }
    // A date-only format, then a time: try the text before the first space.
    let (day, _) = text.split_once([' ', 'T'])?;
    formats
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(day, format).ok())
        .and_then(plausible)
}

/// Years outside 1900–2999 are a wrong format or a wrong column, not a
/// donation date (a two-digit year read with `%Y` gives year 24).
fn plausible(date: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    (1900..3000).contains(&date.year()).then_some(date)
}

/// The ledger's form, `YYYY-MM-DD`.
pub fn ledger_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default(text: &str) -> Option<String> {
        parse_date(text, &[]).map(ledger_date)
    }

    #[test]
    fn day_first_with_or_without_time() {
        assert_eq!(default("12/09/2024").as_deref(), Some("2024-09-12"));
        assert_eq!(default("1/9/2024").as_deref(), Some("2024-09-01"));
        assert_eq!(
            default("12/09/2024 10:15:32").as_deref(),
            Some("2024-09-12")
        );
        assert_eq!(default("12/09/2024 10:15").as_deref(), Some("2024-09-12"));
        assert_eq!(default("2024-09-12").as_deref(), Some("2024-09-12"));
        assert_eq!(
            default("2024-09-12T10:15:32").as_deref(),
            Some("2024-09-12")
        );
        assert_eq!(default(" 12.09.2024 ").as_deref(), Some("2024-09-12"));
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(default("31/02/2024"), None);
        assert_eq!(default("09/13/2024"), None);
        assert_eq!(default("12/09/24"), None);
        assert_eq!(default(""), None);
        assert_eq!(default("hôm qua"), None);
    }

    #[test]
    fn a_mapping_may_name_its_formats() {
        let formats = vec!["%d-%m-%Y %H:%M:%S".to_string(), "%Y%m%d".to_string()];
        assert_eq!(
            parse_date("12-09-2024 08:00:00", &formats).map(ledger_date),
            Some("2024-09-12".into())
        );
        assert_eq!(
            parse_date("20240912", &formats).map(ledger_date),
            Some("2024-09-12".into())
        );
        assert_eq!(parse_date("12/09/2024", &formats), None);
    }
}
