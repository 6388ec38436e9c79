//! Dates as statements and rosters print them, read into the ledger's
//! `YYYY-MM-DD`.
//!
//! Vietnamese banks write the day first (`12/09/2024`, often with the time:
//! `12/09/2024 10:15:32`); exports from other systems use `2024-09-12`. A
//! mapping file may list its own chrono formats (`%d-%m-%Y`, ...). A
//! spreadsheet cell that holds a real date is taken as it is.
//!
//! Statements transcribed from the banks' PDFs often leave the year out
//! (`01/09 10:27:58`, `09/09`): a mapping's `year` supplies it, and hours
//! may have one digit (`0:54:04`). The booking time, where the text has one,
//! is kept as `HH:MM:SS`: it is part of a transfer's identity.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use std::borrow::Cow;

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

/// The formats tried, with a mapping's `year`, when it names none.
pub const DEFAULT_YEARLESS_FORMATS: [&str; 3] = ["%d/%m %H:%M:%S", "%d/%m %H:%M", "%d/%m"];

/// Parses `text` with the first of `formats` that reads all of it. A format
/// with a time accepts the time; a date-only format also accepts a date
/// followed by a time, so `%d/%m/%Y` reads `12/09/2024 10:15:32`.
pub fn parse_date(text: &str, formats: &[String]) -> Option<NaiveDate> {
    parse_date_time(text, formats, None).map(|(date, _)| date)
}

/// `parse_date`, with the time of day when the text has one, and `year`
/// for formats without a year (`%d/%m %H:%M:%S`, `%d/%m`).
pub fn parse_date_time(
    text: &str,
    formats: &[String],
    year: Option<i32>,
) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut formats: Vec<&str> = if formats.is_empty() {
        DEFAULT_FORMATS.to_vec()
    } else {
        formats.iter().map(String::as_str).collect()
    };
    if year.is_some() && formats == DEFAULT_FORMATS {
        formats.extend(DEFAULT_YEARLESS_FORMATS);
    }
    for format in &formats {
        // A format without a year gets the mapping's, written after it.
        let (text, format): (Cow<str>, Cow<str>) = match year {
            Some(year) if !has_year(format) => (
                format!("{text} {year}").into(),
                format!("{format} %Y").into(),
            ),
            _ => (text.into(), (*format).into()),
        };
        // A format with a time is read with it (a date-only parse would
        // ignore the time); a date-only format as a date.
        if has_time(&format) {
            if let Ok(time) = NaiveDateTime::parse_from_str(&text, &format) {
                return plausible(time.date()).map(|date| (date, Some(time.time())));
            }
        } else if let Ok(date) = NaiveDate::parse_from_str(&text, &format) {
            return plausible(date).map(|date| (date, None));
        }
    }
    // A date-only format, then a time: try the text before the first space.
    let (day, rest) = text.split_once([' ', 'T'])?;
    let date = formats.iter().find_map(|format| match year {
        Some(year) if !has_year(format) => {
            NaiveDate::parse_from_str(&format!("{day} {year}"), &format!("{format} %Y")).ok()
        }
        _ => NaiveDate::parse_from_str(day, format).ok(),
    })?;
    plausible(date).map(|date| (date, parse_time(rest)))
}

fn has_time(format: &str) -> bool {
    ["%H", "%I", "%k", "%l", "%T", "%R", "%X", "%c", "%+", "%s"]
        .iter()
        .any(|field| format.contains(field))
}

fn has_year(format: &str) -> bool {
    ["%Y", "%y", "%G", "%g", "%F", "%D", "%c", "%x", "%+", "%s"]
        .iter()
        .any(|field| format.contains(field))
}

/// A time of day as statements write it: `10:27:58`, `0:54:04`, `9:05`.
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
}

/// The ledger's form of a booking time, `HH:MM:SS`.
pub fn ledger_time(time: NaiveTime) -> String {
    use chrono::Timelike;
    // Written directly: chrono's format string is parsed again for each of
    // a statement's million rows.
    // A leap second (`23:59:60`) is second 59 and a nanosecond past a
    // second in chrono.
    let second = time.second() + time.nanosecond() / 1_000_000_000;
    format!("{:02}:{:02}:{second:02}", time.hour(), time.minute())
}

/// Years outside 1900–2999 are a wrong format or a wrong column, not a
/// donation date (a two-digit year read with `%Y` gives year 24).
fn plausible(date: NaiveDate) -> Option<NaiveDate> {
    use chrono::Datelike;
    (1900..3000).contains(&date.year()).then_some(date)
}

/// The ledger's form, `YYYY-MM-DD`.
pub fn ledger_date(date: NaiveDate) -> String {
    use chrono::Datelike;
    // `plausible` keeps the year to four digits.
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_forms_are_chronos() {
        for text in [
            "00:00:00", "0:54:04", "9:05", "23:59:59", "23:59:60", "12:00:01",
        ] {
            let time = parse_time(text).unwrap();
            assert_eq!(
                ledger_time(time),
                time.format("%H:%M:%S").to_string(),
                "{text}"
            );
        }
        let mut date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        while chrono::Datelike::year(&date) < 3000 {
            assert_eq!(ledger_date(date), date.format("%Y-%m-%d").to_string());
            date = date + chrono::Days::new(97);
        }
    }

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
    fn a_year_completes_dates_without_one() {
        let with_year = |text: &str, formats: &[&str]| {
            let formats: Vec<String> = formats.iter().map(|f| f.to_string()).collect();
            parse_date_time(text, &formats, Some(2024))
                .map(|(date, time)| (ledger_date(date), time.map(ledger_time)))
        };
        let both = ["%d/%m %H:%M:%S", "%d/%m"];
        assert_eq!(
            with_year("01/09 10:27:58", &both),
            Some(("2024-09-01".into(), Some("10:27:58".into())))
        );
        assert_eq!(
            with_year("10/09 0:54:04", &both),
            Some(("2024-09-10".into(), Some("00:54:04".into())))
        );
        assert_eq!(with_year("09/09", &both), Some(("2024-09-09".into(), None)));
        assert_eq!(with_year("31/02", &both), None);
        // Without a mapping's formats, the year-less defaults are tried.
        assert_eq!(
            with_year("9/9 1:02:03", &[]),
            Some(("2024-09-09".into(), Some("01:02:03".into())))
        );
        // A date with its own year keeps it.
        assert_eq!(
            with_year("12/09/2023", &[]),
            Some(("2023-09-12".into(), None))
        );
        assert_eq!(parse_date("01/09 10:27:58", &[]), None);
    }

    #[test]
    fn times_are_read_with_the_date() {
        assert_eq!(
            parse_date_time("12/09/2024 8:05:09", &[], None).map(|(_, t)| t.map(ledger_time)),
            Some(Some("08:05:09".into()))
        );
        assert_eq!(
            parse_date_time("12/09/2024", &[], None).map(|(_, t)| t),
            Some(None)
        );
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
