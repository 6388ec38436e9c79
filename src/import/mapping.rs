//! The layout of a statement or roster: `MAP.toml`.
//!
//! A mapping says which column is which (by header name or 1-based number),
//! where the header row is (banks put title rows above it), how dates and
//! amounts are written, which lines are credits, and how to take the donor's
//! name out of the transfer description. Every key is optional; without a
//! mapping file the default column names of `Fields` are looked for.
//!
//! ```toml
//! header_row = 7                   # 1 = the first row; 0 = no header row
//! delimiter = ";"                  # CSV only; guessed when left out
//! sheet = "Sao kê"                 # .xlsx only; the first sheet by default
//! end_marker = "^Tổng"             # a row whose first cell matches ends the data
//! date_format = "%d/%m/%Y %H:%M:%S"  # or a list of chrono formats
//! year = 2024                      # for date formats without a year (`%d/%m %H:%M:%S`)
//! ref_kind = "daily"               # "unique", "daily" or "row" (see `RefKind`)
//! decimal_separator = ","          # "," (1.000.000 / 400.000,00) or "."
//! credit_values = ["C", "Có"]      # values of the `type` column that are credits
//! debit_values = ["D", "Nợ"]
//! donor_pattern = '(?i)^(?P<donor>.+?) (chuyen tien|ung ho)'
//! donor_fallback = "anonymous"     # or "description"
//!
//! [columns]
//! date = "Ngày giao dịch"
//! ref = "Số tham chiếu"
//! amount = "Số tiền ghi có"
//! debit = "Số tiền ghi nợ"
//! description = 6
//! ```

use super::amount::DecimalSeparator;
use super::reader::Cell;
use crate::vn::fold;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A mapping file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    header_row: Option<usize>,
    delimiter: Option<String>,
    sheet: Option<String>,
    end_marker: Option<String>,
    date_format: Option<OneOrMany>,
    year: Option<i32>,
    ref_kind: Option<RefKind>,
    decimal_separator: Option<String>,
    credit_values: Option<Vec<String>>,
    debit_values: Option<Vec<String>>,
    donor_pattern: Option<String>,
    donor_fallback: Option<DonorFallback>,
    #[serde(default)]
    columns: BTreeMap<String, ColumnSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A column named by its header or by its 1-based number.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ColumnSpec {
    Name(String),
    Number(usize),
}

/// What to record as the donor when the description does not match
/// `donor_pattern` (or there is none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DonorFallback {
    /// An anonymous gift (`""`); the description is still kept as the note.
    #[default]
    Anonymous,
    /// The whole description.
    Description,
}

/// What a statement's `ref` column is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// A bank reference no other transfer ever has (`FT24256…`).
    Unique,
    /// A bank number unique only within a day: other days reuse it.
    Daily,
    /// A row number (1, 2, 3 …) meaning nothing outside its file: kept for
    /// the report, never recorded, never part of a transfer's identity.
    Row,
}

/// A checked mapping.
#[derive(Debug, Default)]
pub struct Mapping {
    /// `Some(0)`: no header row; `None`: find it.
    pub header_row: Option<usize>,
    pub delimiter: Option<u8>,
    pub sheet: Option<String>,
    pub end_marker: Option<Regex>,
    pub date_formats: Vec<String>,
    /// The year of dates written without one.
    pub year: Option<i32>,
    /// `None`: a bank reference, unless the column counts 1, 2, 3 ….
    pub ref_kind: Option<RefKind>,
    pub decimal: DecimalSeparator,
    /// Folded values of the `type` column.
    pub credit_values: Vec<String>,
    pub debit_values: Vec<String>,
    pub donor_pattern: Option<Regex>,
    pub donor_fallback: DonorFallback,
    pub columns: BTreeMap<String, ColumnSpec>,
}

/// Type-column values understood without a mapping, folded.
const CREDIT_VALUES: [&str; 6] = ["c", "co", "cr", "credit", "ghi co", "+"];
const DEBIT_VALUES: [&str; 6] = ["d", "no", "dr", "debit", "ghi no", "-"];

impl Mapping {
    /// Reads and checks a mapping file; the error explains what to fix.
    pub fn load(path: &Path) -> Result<Mapping, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the mapping `{}`: {e}", path.display()))?;
        Mapping::parse(&text).map_err(|e| format!("mapping `{}`: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Mapping, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let delimiter = match file.delimiter.as_deref() {
            None => None,
            Some("\\t" | "\t" | "tab") => Some(b'\t'),
            Some(text) if text.len() == 1 && text.is_ascii() => Some(text.as_bytes()[0]),
            Some(other) => {
                return Err(format!(
                    "`delimiter` must be one character such as \";\" or \",\", not `{other}`"
                ));
            }
        };
        let decimal = match file.decimal_separator.as_deref() {
            None | Some("auto") => DecimalSeparator::Auto,
            Some(",") => DecimalSeparator::Comma,
            Some(".") => DecimalSeparator::Dot,
            Some(other) => {
                return Err(format!(
                    "`decimal_separator` must be \",\" or \".\", not `{other}`"
                ));
            }
        };
        let regex = |key: &str, pattern: &Option<String>| -> Result<Option<Regex>, String> {
            pattern
                .as_deref()
                .map(|p| {
                    Regex::new(p).map_err(|e| format!("`{key}` is not a regular expression: {e}"))
                })
                .transpose()
        };
        let donor_pattern = regex("donor_pattern", &file.donor_pattern)?;
        if let Some(pattern) = &donor_pattern
            && !pattern.capture_names().any(|name| name == Some("donor"))
        {
            return Err(
                "`donor_pattern` needs a group named `donor`, such as `(?P<donor>.+?) chuyen tien`"
                    .into(),
            );
        }
        for (key, spec) in &file.columns {
            if *spec == ColumnSpec::Number(0) {
                return Err(format!(
                    "columns.{key}: column numbers start at 1 (the first column)"
                ));
            }
        }
        if let Some(year) = file.year
            && !(1900..3000).contains(&year)
        {
            return Err(format!("`year` must be a year such as 2024, not {year}"));
        }
        let folded = |values: Option<Vec<String>>, default: &[&str]| match values {
            Some(values) => values.iter().map(|v| fold(v)).collect(),
            None => default.iter().map(|v| v.to_string()).collect(),
        };
        Ok(Mapping {
            header_row: file.header_row,
            delimiter,
            sheet: file.sheet,
            end_marker: regex("end_marker", &file.end_marker)?,
            date_formats: match file.date_format {
                None => Vec::new(),
                Some(OneOrMany::One(format)) => vec![format],
                Some(OneOrMany::Many(formats)) => formats,
            },
            year: file.year,
            ref_kind: file.ref_kind,
            decimal,
            credit_values: folded(file.credit_values, &CREDIT_VALUES),
            debit_values: folded(file.debit_values, &DEBIT_VALUES),
            donor_pattern,
            donor_fallback: file.donor_fallback.unwrap_or_default(),
            columns: file.columns,
        })
    }

    /// Refuses `[columns]` keys the import does not know (a typo would
    /// otherwise silently fall back to the default header names).
    pub fn check_columns(&self, fields: &[Field]) -> Result<(), String> {
        for key in self.columns.keys() {
            if !fields.iter().any(|field| field.key == key) {
                let known: Vec<&str> = fields.iter().map(|field| field.key).collect();
                return Err(format!(
                    "unknown column `{key}` in [columns]; this import knows: {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}

/// A column the import reads, with the header names it answers to by
/// default (folded: lower case, no diacritics, punctuation as spaces), best
/// first.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub key: &'static str,
    pub required: bool,
    pub aliases: &'static [&'static str],
}

/// Where each field is in the file, and the header text to name it by.
#[derive(Clone, Debug)]
pub struct Columns {
    /// Per field of the import, in the same order: the 0-based column.
    pub positions: Vec<Option<usize>>,
    /// The header row's cells as text (empty without a header row).
    pub header: Vec<String>,
    /// The header row's number, 0 if none.
    pub header_row: usize,
}

impl Columns {
    /// How an error names a column: its header as the officer sees it, or
    /// its number.
    pub fn name(&self, position: usize) -> String {
        match self.header.get(position).map(|h| h.trim()) {
            Some(header) if !header.is_empty() => header.to_string(),
            _ => format!("column {}", position + 1),
        }
    }
}

/// Folds a header for comparison: "Số tiền (VND)" → "so tien vnd".
pub fn fold_header(text: &str) -> String {
    let folded = fold(text);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds every field in a header row; `Err` names the first required field
/// that is missing.
pub fn resolve(
    fields: &[Field],
    mapping: &Mapping,
    header: &[String],
) -> Result<Vec<Option<usize>>, String> {
    let folded: Vec<String> = header.iter().map(|h| fold_header(h)).collect();
    let strip_unit = |h: &str| {
        h.trim_end_matches(" vnd")
            .trim_end_matches(" dong")
            .to_string()
    };
    let find = |name: &str| {
        let wanted = fold_header(name);
        folded
            .iter()
            .position(|h| *h == wanted)
            .or_else(|| folded.iter().position(|h| strip_unit(h) == wanted))
    };
    let mut positions = Vec::with_capacity(fields.len());
    for field in fields {
        let position = match mapping.columns.get(field.key) {
            Some(ColumnSpec::Number(number)) => Some(number - 1),
            Some(ColumnSpec::Name(name)) => match find(name) {
                Some(position) => Some(position),
                None => return Err(format!("no column `{name}` (for `{}`)", field.key)),
            },
            None => field.aliases.iter().find_map(|alias| find(alias)),
        };
        if position.is_none() && field.required {
            return Err(format!(
                "no `{}` column (looked for: {})",
                field.key,
                field.aliases.join(", ")
            ));
        }
        positions.push(position);
    }
    Ok(positions)
}

/// The text of a row's cells, for the header and for rejected rows.
pub fn row_texts(cells: &[Cell]) -> Vec<String> {
    cells.iter().map(|cell| cell.text().into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [Field; 3] = [
        Field {
            key: "date",
            required: true,
            aliases: &["date", "ngay giao dich"],
        },
        Field {
            key: "amount",
            required: true,
            aliases: &["amount", "so tien ghi co", "so tien"],
        },
        Field {
            key: "note",
            required: false,
            aliases: &["note", "noi dung"],
        },
    ];

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn headers_match_without_case_or_diacritics() {
        let header = strings(&[
            "STT",
            "Ngày Giao Dịch",
            "Số tiền ghi nợ",
            "Số tiền ghi có (VND)",
            "Nội dung",
        ]);
        let positions = resolve(&FIELDS, &Mapping::default(), &header).unwrap();
        assert_eq!(positions, vec![Some(1), Some(3), Some(4)]);
        let error = resolve(&FIELDS, &Mapping::default(), &strings(&["a", "b"])).unwrap_err();
        assert!(error.contains("no `date` column"), "{error}");
    }

    #[test]
    fn a_mapping_names_or_numbers_columns() {
        let mapping = Mapping::parse("[columns]\ndate = 2\namount = \"Có\"\n").unwrap();
        let positions = resolve(&FIELDS, &mapping, &strings(&["x", "y", "CÓ"])).unwrap();
        assert_eq!(positions, vec![Some(1), Some(2), None]);
        let error = resolve(&FIELDS, &mapping, &strings(&["x", "y"])).unwrap_err();
        assert!(error.contains("no column `Có`"), "{error}");
    }

    #[test]
    fn bad_mappings_explain_themselves() {
        for (text, expected) in [
            ("colour = 1", "unknown field `colour`"),
            ("delimiter = \";;\"", "one character"),
            ("decimal_separator = \"'\"", "must be"),
            ("donor_pattern = \"(.+)\"", "group named `donor`"),
            ("donor_pattern = \"(\"", "not a regular expression"),
            ("[columns]\ndate = 0", "start at 1"),
            ("year = 24", "a year such as 2024"),
            ("ref_kind = \"bank\"", "unknown variant `bank`"),
        ] {
            let error = Mapping::parse(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let mapping = Mapping::parse("[columns]\ndat = 1").unwrap();
        let error = mapping.check_columns(&FIELDS).unwrap_err();
        assert!(error.contains("unknown column `dat`"), "{error}");
    }
}
