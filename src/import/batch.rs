//! What an import produces, and the row-by-row driver both imports share:
//! find the header row, hand each data row to the import, collect the
//! refused rows or stop at the first, write the rejects file.

use super::mapping::{Columns, Field, Mapping, resolve, row_texts};
use super::reader::{Cell, Flow, HEADER_SEARCH_ROWS, Position, ReadOptions, Row, for_each_row};
use crate::ledger::Pending;
use crate::money::Dong;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The entries to append from one file, and what was left out.
#[derive(Debug, Default)]
pub struct Batch {
    pub pending: Vec<Pending>,
    /// The file row of each pending entry, to name a row the ledger refuses.
    pub rows: Vec<usize>,
    /// Households only: rows whose id is already registered (or earlier in
    /// the file), skipped. A statement's are in `statement.recorded`.
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
    /// Statements only: every row read, accounted for in rows and đồng.
    pub statement: Statement,
    /// Statements only: every row not added but the rejected ones (those
    /// are in `rejected`), in file order, for `--report`.
    pub skipped: Vec<Skipped>,
}

/// A number of rows and their sum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub rows: u64,
    pub dong: Dong,
}

impl Tally {
    /// Adds a row. Every tally of a statement is part of `Statement::read`,
    /// whose sum was checked first, so no part can overflow.
    pub fn add(&mut self, dong: Dong) {
        self.rows += 1;
        self.dong = self
            .dong
            .checked_add(dong)
            .expect("a part of the rows read is at most their checked sum");
    }

    /// Takes a row out (an entry the ledger refused after the reading).
    pub fn remove(&mut self, dong: Dong) {
        self.rows -= 1;
        self.dong = self
            .dong
            .checked_sub(dong)
            .expect("only a row added is removed");
    }
}

/// Where every row of a statement went. `read` equals the sum of the other
/// tallies, in rows and in đồng.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Statement {
    pub read: Tally,
    pub added: Tally,
    pub recorded: Tally,
    /// Of `recorded`: rows whose bank text differs from the entry's.
    pub recorded_differing: u64,
    pub debits: Tally,
    pub zero: Tally,
    pub rejected: Tally,
    /// The `ref` column's name, when it counted 1, 2, 3 … and was taken as
    /// a row number.
    pub row_numbers: Option<String>,
}

impl Statement {
    /// The other tallies added up: equal to `read` when nothing is lost.
    pub fn accounted(&self) -> Tally {
        [
            self.added,
            self.recorded,
            self.debits,
            self.zero,
            self.rejected,
        ]
        .iter()
        .fold(Tally::default(), |sum, part| Tally {
            rows: sum.rows + part.rows,
            dong: sum
                .dong
                .checked_add(part.dong)
                .unwrap_or(Dong::new(u64::MAX)),
        })
    }
}

/// A statement row not added, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub row: usize,
    pub amount: Dong,
    pub reason: SkipReason,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Already in the ledger as entry `seq`; `description` is a hash of the
    /// row's bank text, to tell whether the entry's differs.
    Recorded {
        seq: u64,
        description: u64,
        differs: bool,
    },
    Debit,
    Zero,
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

    /// Sets aside a row whose entry the ledger refused (`append`'s own
    /// judgement, after the reading): out of the totals and the statement's
    /// added rows, into its rejected rows, with the ledger's reason. The CLI
    /// and the desk's wizard both call this, so they reconcile alike.
    pub fn set_aside(
        &mut self,
        row: usize,
        body: &crate::ledger::entry::Body,
        field: Option<&str>,
        reason: &str,
    ) -> Rejection {
        let rejection = Rejection {
            row,
            column: self.column_of(field),
            reason: reason.to_string(),
        };
        self.unaccount(body);
        if let crate::ledger::entry::Body::Donation(donation) = body {
            self.statement.added.remove(donation.amount);
            self.statement.rejected.add(donation.amount);
        }
        rejection
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

/// What an import makes of a data row on its own, given the positions of
/// its fields: run in parallel, a chunk of rows at a time.
pub(crate) type RowParser<'a, T> = dyn Fn(&Row, &[Option<usize>]) -> T + Sync + 'a;

/// What an import does with each data row in order, given what the parser
/// made of it: it adds to the batch and says whether the row was taken.
pub(crate) type RowHandler<'a, T> =
    dyn FnMut(&Row, T, &[Option<usize>], &mut Batch) -> RowOutcome + 'a;

/// How many data rows are parsed together.
const CHUNK_ROWS: usize = 4096;

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
    pub fixes: Option<&'a RowFixes>,
}

/// Cells an officer corrected, by file row and column position (0-based),
/// laid over the file's own data rows as it is read: the file itself is
/// never changed, and the corrected rows are judged by the same code as
/// every other row. The desk's import wizard fixes rejected rows this way.
pub type RowFixes = BTreeMap<usize, BTreeMap<usize, String>>;

/// A row with the officer's corrections laid over its cells.
fn with_fixes(mut row: Row, fixes: Option<&RowFixes>) -> Row {
    if let Some(cells) = fixes.and_then(|fixes| fixes.get(&row.number)) {
        for (&position, text) in cells {
            if row.cells.len() <= position {
                row.cells.resize(position + 1, Cell::Empty);
            }
            row.cells[position] = Cell::Text(text.clone());
        }
    }
    row
}

/// The cells of some rows of a file, as text (for showing a rejected row
/// to fix it). The file is read again: an import keeps only row numbers.
pub fn row_cells(
    source: &Path,
    mapping: &Mapping,
    rows: &std::collections::BTreeSet<usize>,
) -> anyhow::Result<BTreeMap<usize, Vec<String>>> {
    let mut found = BTreeMap::new();
    if rows.is_empty() {
        return Ok(found);
    }
    let last = *rows.last().expect("not empty");
    for_each_row(source, &read_options(mapping), &mut |row, _| {
        if rows.contains(&row.number) {
            found.insert(row.number, row_texts(&row.cells));
        }
        Ok(if row.number >= last {
            Flow::Stop
        } else {
            Flow::Continue
        })
    })?;
    Ok(found)
}

pub(crate) fn read_options(mapping: &Mapping) -> ReadOptions {
    ReadOptions {
        delimiter: mapping.delimiter,
        sheet: mapping.sheet.clone(),
        header_row: mapping.header_row,
    }
}

/// Reads the file, finds the columns, and calls `on_row` with each data row,
/// what `parse` made of it and the positions of `fields`, in order. `parse`
/// runs on a chunk of rows at a time, in parallel. Fills the batch's header
/// and rejections; returns where the columns were found.
pub(crate) fn drive<T: Send>(
    settings: &Drive,
    batch: &mut Batch,
    progress: &mut dyn FnMut(Position),
    parse: &RowParser<T>,
    on_row: &mut RowHandler<T>,
) -> Result<Columns, ImportError> {
    let mut driver = Driver {
        settings,
        batch,
        parse,
        on_row,
        chunk: Vec::with_capacity(CHUNK_ROWS),
        position: Position::default(),
        sized: false,
        columns: None,
        first_header_error: None,
        rows_searched: 0,
        stopped: None,
    };
    let path = settings.path;
    let read = for_each_row(
        path,
        &read_options(settings.mapping),
        &mut |row, position| {
            if position.rows.is_multiple_of(1024) {
                progress(position);
            }
            driver.position = position;
            Ok(driver.visit(row))
        },
    );
    // The rows read before a read error are handled first: a row refused
    // before the error is what the officer is told, as when rows were
    // handled one by one.
    driver.flush();
    if let Some(error) = driver.stopped {
        return Err(error);
    }
    read.map_err(ImportError::Read)?;
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

struct Driver<'a, 'b, T> {
    settings: &'a Drive<'a>,
    batch: &'b mut Batch,
    parse: &'b RowParser<'b, T>,
    on_row: &'b mut RowHandler<'b, T>,
    /// Data rows read and not yet handled.
    chunk: Vec<Row>,
    /// Where reading is.
    position: Position,
    /// Whether the batch was sized for the whole file.
    sized: bool,
    columns: Option<Columns>,
    first_header_error: Option<String>,
    rows_searched: usize,
    stopped: Option<ImportError>,
}

impl<T: Send> Driver<'_, '_, T> {
    fn visit(&mut self, row: Row) -> Flow {
        if self.columns.is_none() {
            return self.look_for_header(row);
        }
        let row = with_fixes(row, self.settings.fixes);
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
        self.chunk.push(row);
        if self.chunk.len() == CHUNK_ROWS {
            self.size_batch();
            self.flush();
        }
        match self.stopped {
            Some(_) => Flow::Stop,
            None => Flow::Continue,
        }
    }

    /// Parses the rows read so far in parallel, then hands them on in order,
    /// up to the first refused row when refused rows stop the import.
    fn flush(&mut self) {
        let (Some(columns), None) = (&self.columns, &self.stopped) else {
            return;
        };
        let parse = self.parse;
        let positions = &columns.positions;
        let mut parsed = Vec::with_capacity(self.chunk.len());
        self.chunk
            .par_iter()
            .map(|row| parse(row, positions))
            .collect_into_vec(&mut parsed);
        for (row, made) in self.chunk.drain(..).zip(parsed) {
            let rejection = match (self.on_row)(&row, made, positions, self.batch) {
                RowOutcome::Taken => continue,
                RowOutcome::Rejected { column, reason } => Rejection {
                    row: row.number,
                    column: column.map(|c| columns.name(c)).unwrap_or_default(),
                    reason,
                },
            };
            if self.settings.skip_invalid {
                self.batch.rejected.push(rejection);
            } else {
                self.stopped = Some(ImportError::Row {
                    file: self.settings.path.to_path_buf(),
                    rejection,
                });
                break;
            }
        }
    }

    /// Once, when the first full chunk is handed on: a national statement's
    /// million pending entries, grown by doubling, were copied and their
    /// memory faulted in twice over. Sized from the bytes the first chunk
    /// took (CSV only; a shorter file needs no sizing); an estimate, so if
    /// the memory is not there the vectors grow as before.
    fn size_batch(&mut self) {
        if std::mem::replace(&mut self.sized, true) {
            return;
        }
        if let Some((read, size)) = self.position.bytes.filter(|&(read, _)| read > 0) {
            let rows = (self.position.rows as u128 * size as u128 / read as u128) as usize;
            let room = rows + rows / 16;
            let _ = self.batch.pending.try_reserve(room);
            let _ = self.batch.rows.try_reserve(room);
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
    // A date or a row number, the first cell of nearly every row, never
    // is: folding keeps an ASCII digit as it is, and what comes before it
    // folds to no letter or digit.
    if (first_cell.chars().find(|c| c.is_alphanumeric())).is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    folds_to_total(first_cell)
}

fn folds_to_total(first_cell: &str) -> bool {
    let folded = super::mapping::fold_header(first_cell);
    matches!(
        folded.as_str(),
        "tong cong" | "tong" | "cong" | "total" | "tong so" | "grand total"
    ) || folded.starts_with("tong cong ")
}

/// Writes the refused rows as CSV: `row`, `column`, `reason`, then the row's
/// own cells under the file's own header, so an officer can fix the rows and
/// import the rejects file itself.
pub fn write_rejects(
    out: &Path,
    source: &Path,
    mapping: &Mapping,
    batch: &Batch,
) -> anyhow::Result<()> {
    let by_row: BTreeMap<usize, Vec<String>> = batch
        .rejected
        .iter()
        .map(|r| (r.row, vec![r.column.clone(), r.reason.clone()]))
        .collect();
    write_rows(
        out,
        source,
        mapping,
        &["column", "reason"],
        &batch.header,
        &by_row,
    )
}

/// Writes `--report`: every statement row not added, in file order, with
/// what happened to it (`outcome`), the column at fault and the reason, the
/// entry it matched when it is already recorded, then the row's own cells,
/// so an officer can check a statement against the ledger line by line.
pub fn write_report(
    out: &Path,
    source: &Path,
    mapping: &Mapping,
    batch: &Batch,
) -> anyhow::Result<()> {
    let mut by_row: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for skipped in &batch.skipped {
        let (outcome, reason, entry) = match &skipped.reason {
            SkipReason::Recorded { seq, differs, .. } => (
                "recorded",
                if *differs {
                    "already recorded; the bank's text differs from the entry's".to_string()
                } else {
                    "already recorded".to_string()
                },
                seq.to_string(),
            ),
            SkipReason::Debit => ("debit", "a debit line".to_string(), String::new()),
            SkipReason::Zero => ("zero", "a zero amount".to_string(), String::new()),
        };
        by_row.insert(
            skipped.row,
            vec![outcome.into(), String::new(), reason, entry],
        );
    }
    for rejection in &batch.rejected {
        by_row.insert(
            rejection.row,
            vec![
                "rejected".into(),
                rejection.column.clone(),
                rejection.reason.clone(),
                String::new(),
            ],
        );
    }
    write_rows(
        out,
        source,
        mapping,
        &["outcome", "column", "reason", "entry"],
        &batch.header,
        &by_row,
    )
}

/// A CSV of some of the source's rows: `row`, the given columns, then the
/// row's own cells. The source is read again for the cells: an import keeps
/// only the numbers of the rows, never the rows. Every text cell is guarded
/// against formula injection: a transfer's text is written by the sender.
fn write_rows(
    out: &Path,
    source: &Path,
    mapping: &Mapping,
    columns: &[&str],
    header: &[String],
    by_row: &BTreeMap<usize, Vec<String>>,
) -> anyhow::Result<()> {
    use crate::spreadsheet::guard_cell;
    use anyhow::Context;
    // `create_new`: an existing file is never overwritten (`cli::import`
    // refuses it first, with a clearer message).
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("failed to create `{}`", out.display()))?;
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(std::io::BufWriter::new(file));
    let mut record = vec!["row".to_string()];
    record.extend(columns.iter().map(|c| c.to_string()));
    record.extend(header.iter().map(|h| guard_cell(h)));
    writer.write_record(&record)?;
    if !by_row.is_empty() {
        for_each_row(source, &read_options(mapping), &mut |row, _| {
            if let Some(cells) = by_row.get(&row.number) {
                let mut record = vec![row.number.to_string()];
                record.extend(cells.iter().map(|c| guard_cell(c)));
                record.extend(row_texts(&row.cells).iter().map(|c| guard_cell(c)));
                writer.write_record(&record)?;
            }
            Ok(Flow::Continue)
        })?;
    }
    writer
        .flush()
        .with_context(|| format!("failed to write `{}`", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn total_lines_are_told_from_data_rows() {
        for total in [
            "Tổng cộng",
            " TỔNG CỘNG: ",
            "Total",
            "Tổng cộng 5 giao dịch",
            "Cộng",
        ] {
            assert!(is_total_row(total), "{total}");
        }
        for data in ["12/09/2024", "1", "2 Tổng cộng", "Tổng cộng5", "FT2425"] {
            assert!(!is_total_row(data), "{data}");
        }
    }

    proptest! {
        #[test]
        fn the_shortcut_agrees_with_the_fold(
            text in "[ \\-:.0-9TtCcGgôổộÔỔỘơngáÁạĐđ\u{0300}\u{0301}\u{0345}\u{2126}]{0,14}"
        ) {
            prop_assert_eq!(is_total_row(&text), folds_to_total(&text));
        }
    }
}
