//! Bank statement rows into `donation` entries (channel `bank`).
//!
//! A row is a debit line (skipped and counted), a duplicate (its reference is
//! already in the fund, or earlier in the file: skipped and counted), or a
//! donation. The donor is the donor column if there is one, else the
//! `donor` group of the mapping's pattern applied to the description, else
//! anonymous (or the description, if the mapping says so); the description
//! is kept as the note.

use super::amount::{AmountError, parse_amount};
use super::batch::{Batch, Drive, ImportError, RowOutcome, drive};
use super::date::{ledger_date, parse_date};
use super::mapping::{DonorFallback, Field, Mapping, fold_header};
use super::reader::{Cell, Position, Row};
use crate::ledger::entry::{Body, Channel, Donation, nfc};
use crate::ledger::{Pending, State};
use crate::money::Dong;
use ahash::AHashSet;
use std::path::Path;

/// The columns of a statement, in this order (see `Col`).
pub const FIELDS: [Field; 8] = [
    Field {
        key: "date",
        required: true,
        aliases: &[
            "date",
            "ngay giao dich",
            "ngay gd",
            "ngay",
            "ngay hach toan",
            "ngay chuyen",
            "transaction date",
            "posting date",
        ],
    },
    Field {
        key: "ref",
        required: true,
        aliases: &[
            "ref",
            "reference",
            "so tham chieu",
            "ma giao dich",
            "ma gd",
            "so giao dich",
            "so but toan",
            "so ct",
            "so chung tu",
            "reference number",
            "ref no",
            "transaction id",
            "transaction no",
        ],
    },
    Field {
        key: "amount",
        required: true,
        aliases: &[
            "amount",
            "so tien ghi co",
            "ghi co",
            "so tien co",
            "phat sinh co",
            "credit amount",
            "credit",
            "so tien",
            "so tien giao dich",
        ],
    },
    Field {
        key: "donor",
        required: false,
        aliases: &[
            "donor",
            "nguoi chuyen",
            "ten nguoi chuyen",
            "nguoi ung ho",
            "ten nguoi ung ho",
            "nha hao tam",
            "ten tai khoan doi ung",
            "ten doi ung",
            "ho ten",
            "ho va ten",
        ],
    },
    Field {
        key: "note",
        required: false,
        aliases: &["note", "ghi chu"],
    },
    Field {
        key: "description",
        required: false,
        aliases: &[
            "description",
            "noi dung",
            "mo ta",
            "dien giai",
            "noi dung giao dich",
            "noi dung chuyen khoan",
            "chi tiet giao dich",
            "chi tiet",
            "transaction description",
            "details",
        ],
    },
    Field {
        key: "debit",
        required: false,
        aliases: &[
            "debit",
            "so tien ghi no",
            "ghi no",
            "so tien no",
            "phat sinh no",
            "debit amount",
        ],
    },
    Field {
        key: "type",
        required: false,
        aliases: &[
            "type",
            "loai",
            "loai giao dich",
            "loai gd",
            "no co",
            "c d",
            "d c",
            "dr cr",
            "credit debit",
        ],
    },
];

/// Indices into `FIELDS`.
#[derive(Clone, Copy)]
enum Col {
    Date = 0,
    Ref,
    Amount,
    Donor,
    Note,
    Description,
    Debit,
    Type,
}

/// A statement import into one fund.
pub struct DonationImport<'a> {
    pub path: &'a Path,
    pub fund: &'a str,
    pub mapping: &'a Mapping,
    /// Set invalid rows aside instead of refusing the file.
    pub skip_invalid: bool,
}

/// The longest texts the ledger takes (see `ledger::validate`).
const DONOR_CHARS: usize = 200;
const NOTE_CHARS: usize = 5_000;
const REF_CHARS: usize = 64;

/// Reads a statement into a batch of donations for `import.fund`, judged
/// against the ledger `state` for duplicates.
pub fn read_donations(
    import: &DonationImport,
    state: &State,
    progress: &mut dyn FnMut(Position),
) -> Result<Batch, ImportError> {
    import
        .mapping
        .check_columns(&FIELDS)
        .map_err(ImportError::Mapping)?;
    let mut batch = Batch::default();
    let mut seen: AHashSet<String> = AHashSet::new();
    let settings = Drive {
        path: import.path,
        mapping: import.mapping,
        fields: &FIELDS,
        skip_invalid: import.skip_invalid,
    };
    let columns = drive(
        &settings,
        &mut batch,
        progress,
        &mut |row, positions, batch| {
            let reader = RowReader {
                row,
                positions,
                mapping: import.mapping,
            };
            match donation_of(&reader, import.fund) {
                Err((column, reason)) => RowOutcome::Rejected {
                    column: positions[column as usize],
                    reason,
                },
                Ok(None) => {
                    batch.debits += 1;
                    RowOutcome::Taken
                }
                Ok(Some(donation)) => {
                    let reference = donation.reference.clone().unwrap_or_default();
                    if state.has_reference(import.fund, &reference) || !seen.insert(reference) {
                        batch.duplicates += 1;
                        return RowOutcome::Taken;
                    }
                    match batch.total.checked_add(donation.amount) {
                        Ok(total) => batch.total = total,
                        Err(error) => {
                            return RowOutcome::Rejected {
                                column: positions[Col::Amount as usize],
                                reason: error.to_string(),
                            };
                        }
                    }
                    batch.pending.push(Pending {
                        body: Body::Donation(donation),
                        media: Vec::new(),
                        citizen_id_last4: None,
                    });
                    batch.rows.push(row.number);
                    RowOutcome::Taken
                }
            }
        },
    )?;
    let name = |col: Col| columns.positions[col as usize].map(|p| columns.name(p));
    let description = name(Col::Description);
    batch.field_columns = [
        ("date", name(Col::Date)),
        ("ref", name(Col::Ref)),
        ("amount", name(Col::Amount)),
        ("donor", name(Col::Donor).or(description.clone())),
        ("note", name(Col::Note).or(description)),
    ]
    .into_iter()
    .filter_map(|(field, column)| column.map(|c| (field, c)))
    .collect();
    batch
        .field_columns
        .push(("fund", format!("--fund {}", import.fund)));
    Ok(batch)
}

/// A row with the positions of the statement's columns.
struct RowReader<'a> {
    row: &'a Row,
    positions: &'a [Option<usize>],
    mapping: &'a Mapping,
}

type RowError = (Col, String);

impl RowReader<'_> {
    fn cell(&self, col: Col) -> Option<&Cell> {
        self.positions[col as usize].map(|p| self.row.cell(p))
    }

    /// A text cell, trimmed, with control characters made spaces;
    /// `None` if the column is absent or the cell is blank.
    fn text(&self, col: Col, multi_line: bool) -> Option<String> {
        let cell = self.cell(col)?;
        let text = clean_text(&cell.text(), multi_line);
        (!text.is_empty()).then_some(text)
    }

    /// An amount cell: `None` if blank; negative numbers are kept.
    fn amount(&self, col: Col) -> Result<Option<(bool, u64)>, RowError> {
        match self.cell(col) {
            None | Some(Cell::Empty) => Ok(None),
            Some(Cell::Number(number)) => {
                if number.fract() != 0.0 {
                    Err((col, format!("`{number}` {}", AmountError::Fraction)))
                } else if number.abs() >= 1.8e19 {
                    Err((col, format!("`{number}` {}", AmountError::Overflow)))
                } else {
                    Ok(Some((*number < 0.0, number.abs() as u64)))
                }
            }
            Some(cell) => {
                let text = cell.text();
                if text.trim().is_empty() {
                    return Ok(None);
                }
                parse_amount(&text, self.mapping.decimal)
                    .map(|amount| Some((amount.negative, amount.dong)))
                    .map_err(|error| (col, format!("`{}` {error}", text.trim())))
            }
        }
    }
}

/// Makes a cell's text fit a ledger field: trimmed, no control characters
/// (line breaks are kept in notes), single spaces in one-line fields.
fn clean_text(text: &str, multi_line: bool) -> String {
    if multi_line {
        let lines: Vec<String> = text
            .lines()
            .map(|line| clean_text(line, false))
            .filter(|line| !line.is_empty())
            .collect();
        return lines.join("\n");
    }
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    nfc(&spaced.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The donation a row records, `None` for a debit line.
fn donation_of(reader: &RowReader, fund: &str) -> Result<Option<Donation>, RowError> {
    let mapping = reader.mapping;
    if let Some(kind) = reader.text(Col::Type, false) {
        let folded = fold_header(&kind);
        if mapping
            .debit_values
            .iter()
            .any(|v| fold_header(v) == folded)
        {
            return Ok(None);
        }
        if !mapping
            .credit_values
            .iter()
            .any(|v| fold_header(v) == folded)
        {
            return Err((
                Col::Type,
                format!(
                    "`{kind}` is neither a credit ({}) nor a debit ({}); set credit_values and debit_values in the mapping",
                    mapping.credit_values.join(", "),
                    mapping.debit_values.join(", ")
                ),
            ));
        }
    }
    let debit = reader.amount(Col::Debit)?.filter(|&(_, dong)| dong > 0);
    let credit = reader.amount(Col::Amount)?;
    let (negative, dong) = match (credit, debit) {
        (Some((_, credit)), Some(_)) if credit > 0 => {
            return Err((
                Col::Amount,
                "the row has both a credit and a debit amount".into(),
            ));
        }
        (_, Some(_)) => return Ok(None),
        (None, None) => return Err((Col::Amount, "is empty".into())),
        (Some(amount), None) => amount,
    };
    if negative {
        return Ok(None);
    }
    if dong == 0 {
        return Err((
            Col::Amount,
            "is zero; a donation is a positive amount".into(),
        ));
    }
    let reference = reader.text(Col::Ref, false).ok_or((
        Col::Ref,
        "is empty; a bank line needs its reference so that importing the statement again skips it"
            .to_string(),
    ))?;
    if reference.chars().count() > REF_CHARS {
        return Err((Col::Ref, format!("is longer than {REF_CHARS} characters")));
    }
    let date = match reader.cell(Col::Date) {
        Some(Cell::Date(year, month, day)) => chrono::NaiveDate::from_ymd_opt(*year, *month, *day),
        Some(cell) => parse_date(&cell.text(), &mapping.date_formats),
        None => None,
    };
    let date = date.ok_or_else(|| {
        let text = reader
            .cell(Col::Date)
            .map(|c| c.text().into_owned())
            .unwrap_or_default();
        let formats = if mapping.date_formats.is_empty() {
            "dd/mm/yyyy (with or without a time) or yyyy-mm-dd".to_string()
        } else {
            mapping.date_formats.join(", ")
        };
        (Col::Date, format!("`{text}` is not a date ({formats})"))
    })?;
    let description = reader.text(Col::Description, true);
    let (donor, donor_column) = match reader.text(Col::Donor, false) {
        Some(donor) => (donor, Col::Donor),
        None => (
            donor_from_description(mapping, description.as_deref()).unwrap_or_default(),
            Col::Description,
        ),
    };
    if donor.chars().count() > DONOR_CHARS {
        return Err((
            donor_column,
            format!("the donor's name is longer than {DONOR_CHARS} characters"),
        ));
    }
    let (note, note_column) = match reader.text(Col::Note, true) {
        Some(note) => (Some(note), Col::Note),
        None => (description, Col::Description),
    };
    if let Some(note) = &note
        && note.chars().count() > NOTE_CHARS
    {
        return Err((
            note_column,
            format!("is longer than {NOTE_CHARS} characters"),
        ));
    }
    Ok(Some(Donation {
        fund: fund.to_string(),
        donor,
        amount: Dong::new(dong),
        date: ledger_date(date),
        channel: Channel::Bank,
        reference: Some(reference),
        note,
    }))
}

/// The donor's name taken out of a transfer description by the mapping's
/// pattern, or the fallback.
fn donor_from_description(mapping: &Mapping, description: Option<&str>) -> Option<String> {
    let description = description?;
    let one_line = clean_text(description, false);
    if let Some(pattern) = &mapping.donor_pattern
        && let Some(found) = pattern
            .captures(&one_line)
            .and_then(|captures| captures.name("donor"))
    {
        let name = clean_text(found.as_str(), false);
        if !name.is_empty() {
            return Some(name);
        }
    }
    match mapping.donor_fallback {
        DonorFallback::Anonymous => None,
        DonorFallback::Description => Some(one_line.chars().take(DONOR_CHARS).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(text: &str) -> Mapping {
        Mapping::parse(text).unwrap()
    }

    #[test]
    fn the_donor_comes_out_of_the_description() {
        let mapping = mapping(
            r#"donor_pattern = '(?i)^(?:IBFT |MBVCB\.\d+\.)?(?P<donor>[A-Z ]+?) (?:chuyen tien|ung ho|chuyen khoan)'"#,
        );
        assert_eq!(
            donor_from_description(
                &mapping,
                Some("MBVCB.123456.NGUYEN VAN AN chuyen tien ung ho bao so 3")
            ),
            Some("NGUYEN VAN AN".into())
        );
        assert_eq!(
            donor_from_description(&mapping, Some("ung ho dong bao")),
            None
        );
        let mut fallback = mapping;
        fallback.donor_fallback = DonorFallback::Description;
        assert_eq!(
            donor_from_description(&fallback, Some("  ủng  hộ\nđồng bào ")),
            Some("ủng hộ đồng bào".into())
        );
    }

    #[test]
    fn text_is_cleaned_for_the_ledger() {
        assert_eq!(clean_text("  a \t b\r\n", false), "a b");
        assert_eq!(
            clean_text(" dòng 1 \r\n\r\n dòng  2 ", true),
            "dòng 1\ndòng 2"
        );
        assert_eq!(clean_text("Nguye\u{302}\u{303}n", false), "Nguyễn");
    }
}
