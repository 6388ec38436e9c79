//! Text cells for files that people open in a spreadsheet: the open data's
//! CSV files and the importer's rejects and report files.
//!
//! A cell is text written by whoever the ledger or a statement quotes (a
//! transfer's memo is written by the sender), so it is guarded against
//! formula injection (OWASP "CSV Injection") in one place for every file.

/// A text cell, neutralised against formula injection, without bidi
/// embedding, override and isolate controls (`vn::is_bidi_control`), so a
/// spreadsheet shows the same order of text as the site.
///
/// Besides OWASP's `=`, `+`, `-`, `@`, tab and carriage return, a line feed
/// and the fullwidth forms `＝`, `＋`, `－`, `＠` get a single quote in
/// front: spreadsheets set to an East Asian input mode read a fullwidth
/// `＝1+1` as a formula.
pub fn guard_cell(value: &str) -> String {
    let value = crate::vn::strip_bidi_controls(value);
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠') => {
            format!("'{value}")
        }
        _ => value.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_as_text() {
        assert_eq!(guard_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard_cell("＝1+1"), "'＝1+1");
        assert_eq!(guard_cell("+84 912"), "'+84 912");
        assert_eq!(guard_cell("Nguyễn Văn An"), "Nguyễn Văn An");
    }
}
