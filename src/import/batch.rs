//! What an import produces, and the row-by-row driver both imports share:
//! find the header row, hand each data row to the import, collect the
//! refused rows or stop at the first, write the rejects file.

use super::mapping::{Columns, Field, HEADER_SEARCH_ROWS, Mapping, resolve, row_texts};
use super::reader::{Flow, Position, ReadOptions, Row, for_each_row};
use crate::ledger::Pending;
use crate::money::Dong;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The entries to append from one file, and what was left out.
#[derive(Debug, Default)]
pub struct Batch {
    pub pending: Vec<Pending>,
    /// The file row of each pending entry, to name a row the ledger refuses.
    pub rows: Vec<usize>,
    /// Rows already in the ledger (or earlier in the file): skipped.
    pub duplicates: u64,
    /// Debit lines of a statement: skipped.
    pub debits: u64,
    /// Rows refused, when invalid rows are skipped.
    pub rejected: Vec<Rejection>,
    /// The sum of the amounts appended (donations) or planned (households).
    pub total: Dong,
    /// Households only: how many new houses and repairs were taken.
    pub new_houses: u64,
    pub repairs: u64,
    /// Where the header is and what it says.
    pub header_row: usize,
    pub header: Vec<String>,
    /// For each ledger field, the file column it came from.
    pub field_columns: Vec<(&'static str, String)>,
}

impl Batch {
    /// Takes an entry the ledger refused out of the totals.
    pub fn unaccount(&mut self, body: &crate::ledger::entry::Body) {
        use crate::ledger::entry::{Body, Support};
        match body {
            Body::Donation(donation) => {
                self.total = self.total.checked_sub(donation.amount).unwrap_or_default();
            }
            Body::Household(household) => {
                self.total = self
                    .total
                    .checked_sub(household.planned)
                    .unwrap_or_default();
                match household.support {
                    Support::New => self.new_houses = self.new_houses.saturating_sub(1),
                    Support::Repair => self.repairs = self.repairs.saturating_sub(1),
                }
            }
            _ => {}
        }
    }

    /// The column to blame for a refused ledger field.
    pub fn column_of(&self, field: Option<&str>) -> String {
        let field = field.map(|f| f.split(['.', '[']).next().unwrap_or(f));
        field
            .and_then(|f| self.field_columns.iter().find(|(key, _)| *key == f))
            .map(|(_, column)| column.clone())
            .or_else(|| field.map(str::to_string))
            .unwrap_or_default()
    }
}

/// A refused row: its number, the column at fault and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "row {}: {}", self.row, self.reason)
        } else {
            write!(
                f,
                "row {}, column `{}`: {}",
                self.row, self.column, self.reason
            )
        }
    }
}

/// Why an import produced no batch.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read (missing, not a workbook, not UTF-8).
    #[error("{0:#}")]
    Read(anyhow::Error),
    /// The mapping names a column this import does not know.
    #[error("{0}")]
    Mapping(String),
    /// The file does not have the columns the import needs.
    #[error("`{}`: {message}", file.display())]
    Layout { file: PathBuf, message: String },
    /// A row is invalid and invalid rows are not being skipped.
    #[error("`{}` {rejection}", file.display())]
    Row { file: PathBuf, rejection: Rejection },
}

/// What an import does with each data row, given the positions of its
/// fields; it adds to the batch and says whether the row was taken.
pub(crate) type RowHandler<'a> = dyn FnMut(&Row, &[Option<usize>], &mut Batch) -> RowOutcome + 'a;

/// What an import asks of each data row.
pub(crate) enum RowOutcome {
    Taken,
    Rejected {
        column: Option<usize>,
        reason: String,
    },
}

/// The shared part of an import's settings.
pub(crate) struct Drive<'a> {
    pub path: &'a Path,
    pub mapping: &'a Mapping,
    pub fields: &'a [Field],
    pub skip_invalid: bool,
}

pub(crate) fn read_options(mapping: &Mapping) -> ReadOptions {
    ReadOptions {
        delimiter: mapping.delimiter,
        sheet: mapping.sheet.clone(),
        header_row: mapping.header_row,
    }
}

/// Reads the file, finds the columns, and calls `on_row` with each data row
/// and the positions of `fields`. Fills the batch's header and rejections;
/// returns where the columns were found.
pub(crate) fn drive(
    settings: &Drive,
    batch: &mut Batch,
    progress: &mut dyn FnMut(Position),
    on_row: &mut RowHandler,
) -> Result<Columns, ImportError> {
    let mut driver = Driver {
        settings,
        batch,
        on_row,
        columns: None,
        first_header_error: None,
        rows_searched: 0,
        stopped: None,
    };
    let path = settings.path;
    for_each_row(
        path,
        &read_options(settings.mapping),
        &mut |row, position| {
            if position.rows.is_multiple_of(1024) {
                progress(position);
            }
            Ok(driver.visit(row))
        },
    )
    .map_err(ImportError::Read)?;
    if let Some(error) = driver.stopped {
        return Err(error);
    }
    match driver.columns {
        Some(columns) => {
            driver.batch.header_row = columns.header_row;
            driver.batch.header = columns.header.clone();
            Ok(columns)
        }
        None => Err(ImportError::Layout {
            file: path.to_path_buf(),
            message: match driver.first_header_error {
                Some(message) => format!(
                    "no header row found in the first {HEADER_SEARCH_ROWS} rows: {message} (name the columns in a --map file)"
                ),
                None => "the file holds no rows".to_string(),
            },
        }),
    }
}

struct Driver<'a, 'b> {
    settings: &'a Drive<'a>,
    batch: &'b mut Batch,
    on_row: &'b mut RowHandler<'b>,
    columns: Option<Columns>,
    first_header_error: Option<String>,
    rows_searched: usize,
    stopped: Option<ImportError>,
}

impl Driver<'_, '_> {
    fn visit(&mut self, row: Row) -> Flow {
        if self.columns.is_none() {
            return self.look_for_header(row);
        }
        let mapping = self.settings.mapping;
        if let Some(first) = row.cells.iter().find(|cell| !cell.is_blank()) {
            let text = first.text();
            let ends = match &mapping.end_marker {
                Some(marker) => marker.is_match(text.trim()),
                None => is_total_row(&text),
            };
            if ends {
                return Flow::Stop;
            }
        }
        let columns = self.columns.as_ref().expect("header found");
        let rejection = match (self.on_row)(&row, &columns.positions, self.batch) {
            RowOutcome::Taken => None,
            RowOutcome::Rejected { column, reason } => Some(Rejection {
                row: row.number,
                column: column.map(|c| columns.name(c)).unwrap_or_default(),
                reason,
            }),
        };
        match rejection {
            None => Flow::Continue,
            Some(rejection) if self.settings.skip_invalid => {
                self.batch.rejected.push(rejection);
                Flow::Continue
            }
            Some(rejection) => {
                self.stopped = Some(ImportError::Row {
                    file: self.settings.path.to_path_buf(),
                    rejection,
                });
                Flow::Stop
            }
        }
    }

    fn look_for_header(&mut self, row: Row) -> Flow {
        let Drive {
            mapping, fields, ..
        } = *self.settings;
        let (candidate, searching) = match mapping.header_row {
            Some(0) => (Vec::new(), false),
            Some(number) if row.number < number => return Flow::Continue,
            Some(_) => (row_texts(&row.cells), false),
            None => (row_texts(&row.cells), true),
        };
        match resolve(fields, mapping, &candidate) {
            Ok(positions) => {
                let header_row = if candidate.is_empty() { 0 } else { row.number };
                self.columns = Some(Columns {
                    positions,
                    header: candidate,
                    header_row,
                });
                if header_row == 0 {
                    // No header row: this row is already data.
                    return self.visit(row);
                }
                Flow::Continue
            }
            Err(message) if searching => {
                self.rows_searched += 1;
                self.first_header_error.get_or_insert(message);
                if self.rows_searched >= HEADER_SEARCH_ROWS {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            }
            Err(message) => {
                self.stopped = Some(ImportError::Layout {
                    file: self.settings.path.to_path_buf(),
                    message: format!("header row {}: {message}", row.number),
                });
                Flow::Stop
            }
        }
    }
}

/// Without an `end_marker`, a row whose first cell says "Tổng cộng" (or
/// "Tổng", "Cộng", "Total") is the statement's total line and ends the data.
fn is_total_row(first_cell: &str) -> bool {
    let folded = super::mapping::fold_header(first_cell);
    matches!(
        folded.as_str(),
        "tong cong" | "tong" | "cong" | "total" | "tong so" | "grand total"
    ) || folded.starts_with("tong cong ")
}

/// Writes the refused rows as CSV: `row`, `column`, `reason`, then the row's
/// own cells under the file's own header, so an officer can fix the rows and
/// import the rejects file itself. The source is read again for the cells:
/// an import keeps only the numbers of refused rows, never the rows.
pub fn write_rejects(
    out: &Path,
    source: &Path,
    mapping: &Mapping,
    batch: &Batch,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let by_row: BTreeMap<usize, &Rejection> = batch.rejected.iter().map(|r| (r.row, r)).collect();
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(out)
        .with_context(|| format!("failed to create `{}`", out.display()))?;
    let mut header = vec!["row".to_string(), "column".into(), "reason".into()];
    header.extend(batch.header.iter().cloned());
    writer.write_record(&header)?;
    if !by_row.is_empty() {
        for_each_row(source, &read_options(mapping), &mut |row, _| {
            if let Some(rejection) = by_row.get(&row.number) {
                let mut record = vec![
                    rejection.row.to_string(),
                    rejection.column.clone(),
                    rejection.reason.clone(),
                ];
                record.extend(row_texts(&row.cells));
                writer.write_record(&record)?;
            }
            Ok(Flow::Continue)
        })?;
    }
    writer
        .flush()
        .with_context(|| format!("failed to write `{}`", out.display()))
}
