//! Rows of a CSV file or a spreadsheet, one at a time.
//!
//! CSV: UTF-8 with or without a byte-order mark, the delimiter (`,`, `;` or
//! tab) guessed from the first lines unless the mapping names it, quoted
//! fields as Excel writes them. `.xlsx`: read cell by cell from the sheet's
//! XML with calamine, so neither format holds more than one row at a time
//! (`.xls`, `.xlsb` and `.ods`, which calamine reads only whole, are
//! accepted too). Row numbers are the ones a spreadsheet program shows: the
//! line of a CSV record, the row of a sheet.
//!
//! A workbook is checked against `bounds` before calamine opens it, since
//! calamine holds parts of it whole (an `.ods`'s sheets, an `.xlsx`'s shared
//! strings) and a small zip can unpack to gigabytes.

mod bounds;

pub use bounds::SpreadsheetTooLarge;

use anyhow::{Context, Result, anyhow, bail};
use calamine::Reader;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// How many rows are searched for the header row when the mapping does not
/// give its number (the reader sniffs a CSV's delimiter over as many).
pub const HEADER_SEARCH_ROWS: usize = 50;

/// One cell as the file holds it. Spreadsheets type their cells; CSV cells
/// are all text.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A spreadsheet date: year, month, day.
    Date(i32, u32, u32),
}

impl Cell {
    /// The cell as text: numbers without a needless `.0`, dates as
    /// `YYYY-MM-DD`.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(text) => Cow::Borrowed(text.as_str()),
            Cell::Number(number) => Cow::Owned(number_text(*number)),
            Cell::Date(year, month, day) => Cow::Owned(format!("{year:04}-{month:02}-{day:02}")),
        }
    }

    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }
}

/// An integral number prints as an integer (`1000000`, not `1000000.0` or
/// `1e6`), so a reference or an ID read from a numeric cell stays readable.
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e17 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

/// A row and its number (1-based, as a spreadsheet program shows it).
#[derive(Clone, Debug)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn cell(&self, position: usize) -> &Cell {
        self.cells.get(position).unwrap_or(&Cell::Empty)
    }

    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }
}

/// How far reading has got, for a progress bar.
#[derive(Clone, Copy, Debug, Default)]
pub struct Position {
    pub rows: u64,
    /// Bytes read and the file's size, for CSV.
    pub bytes: Option<(u64, u64)>,
}

/// What the reader needs from the mapping.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    pub delimiter: Option<u8>,
    pub sheet: Option<String>,
    /// The header row's number if known, to guess the delimiter from it.
    pub header_row: Option<usize>,
}

/// Whether to go on reading after a row.
pub enum Flow {
    Continue,
    Stop,
}

/// Calls `visit` with every row that is not blank, in order.
pub fn for_each_row(
    path: &Path,
    options: &ReadOptions,
    visit: &mut dyn FnMut(Row, Position) -> Result<Flow>,
) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "xlsx" | "xlsm" => read_xlsx(path, options, visit),
        "xls" | "xlsb" | "ods" => read_workbook(path, options, visit),
        _ => read_csv(path, options, visit),
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn read_csv(
    path: &Path,
    options: &ReadOptions,
    visit: &mut dyn FnMut(Row, Position) -> Result<Flow>,
) -> Result<()> {
    let delimiter = match options.delimiter {
        Some(delimiter) => delimiter,
        None => guess_delimiter(path, options.header_row)?,
    };
    let file = open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = BufReader::with_capacity(1 << 16, file);
    let starts_with_bom = input
        .fill_buf()
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .starts_with(BOM);
    if starts_with_bom {
        input.consume(BOM.len());
    }
    let newlines = std::rc::Rc::new(std::cell::RefCell::new(std::collections::VecDeque::new()));
    let record_start = std::rc::Rc::new(std::cell::Cell::new(0));
    let tracker = LineTracker {
        inner: input,
        offset: 0,
        newlines: newlines.clone(),
        line_has_content: false,
        record_start: record_start.clone(),
    };
    let mut lines_before = 0;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(tracker);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            if is_row_too_long(&e) {
                // The row starts after the previous record and any blank lines.
                let start = record_start.get();
                let pending = newlines.borrow();
                let before = pending.iter().filter(|&&(at, _)| at < start).count();
                let blank = pending.iter().skip(before).take_while(|&&(_, b)| b).count();
                return anyhow!(
                    "`{}` row {}: the row is longer than {MAX_ROW_BYTES} bytes (a cell too large, or a quote never closed)",
                    path.display(),
                    lines_before + before + blank + 1
                );
            }
            anyhow!(
                "`{}`: {}",
                path.display(),
                e.to_string().replace("CSV error: ", "")
            )
        })?;
        if !more {
            return Ok(());
        }
        // The csv crate's own line count leaves out the blank lines it skips,
        // so rows are numbered here from the newlines before the record's
        // end, less those inside its quoted fields.
        let end = reader.position().byte();
        record_start.set(end);
        let mut pending = newlines.borrow_mut();
        while pending.front().is_some_and(|&(at, _)| at + 1 < end) {
            pending.pop_front();
            lines_before += 1;
        }
        drop(pending);
        let inside = record.as_slice().iter().filter(|&&b| b == b'\n').count();
        let number = lines_before + 1 - inside;
        let mut cells = Vec::with_capacity(record.len());
        for (index, field) in record.iter().enumerate() {
            let text = std::str::from_utf8(field).map_err(|_| {
                anyhow!(
                    "`{}` row {number}, column {}: not UTF-8 text; save the file as \"CSV UTF-8\" (Excel) or UTF-8 (LibreOffice)",
                    path.display(),
                    index + 1
                )
            })?;
            cells.push(if text.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(text.to_string())
            });
        }
        let row = Row { number, cells };
        if row.is_blank() {
            continue;
        }
        rows += 1;
        let offset = reader.position().byte() + if starts_with_bom { 3 } else { 0 };
        let position = Position {
            rows,
            bytes: Some((offset.min(size), size)),
        };
        if let Flow::Stop = visit(row, position)? {
            return Ok(());
        }
    }
}

/// The longest CSV row read, in bytes. No valid row comes near it (a ledger
/// entry is at most 64 KiB); without it one giant cell, or a quote never
/// closed, would be held whole in memory, with every newline inside it noted.
pub const MAX_ROW_BYTES: u64 = 1 << 20;

/// The csv reader's own buffer: it may read this far past a record's end
/// before handing the record over.
const CSV_BUFFER_SLACK: u64 = 64 << 10;

/// The message of the error `LineTracker` returns for a row too long.
const ROW_TOO_LONG: &str = "row too long";

fn is_row_too_long(error: &csv::Error) -> bool {
    matches!(error.kind(), csv::ErrorKind::Io(e) if e.to_string() == ROW_TOO_LONG)
}

/// Passes bytes through, noting where each newline is, so rows can be
/// numbered by line. Only the newlines not yet behind the current record are
/// kept: as many as the csv reader's buffer holds. Refuses to read more than
/// [`MAX_ROW_BYTES`] past the end of the last record.
struct LineTracker<R> {
    inner: R,
    offset: u64,
    /// Each newline's offset, and whether the line it ends is blank (the csv
    /// reader skips blank lines, so a row starts after them).
    newlines: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<(u64, bool)>>>,
    /// Whether the current line has had anything but `\r` yet.
    line_has_content: bool,
    /// Where the record being read starts (the previous one's end).
    record_start: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.offset > self.record_start.get() + MAX_ROW_BYTES + CSV_BUFFER_SLACK {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                ROW_TOO_LONG,
            ));
        }
        let read = self.inner.read(buffer)?;
        let mut newlines = self.newlines.borrow_mut();
        for (index, &byte) in buffer[..read].iter().enumerate() {
            match byte {
                b'\n' => {
                    newlines.push_back((self.offset + index as u64, !self.line_has_content));
                    self.line_has_content = false;
                }
                b'\r' => {}
                _ => self.line_has_content = true,
            }
        }
        self.offset += read as u64;
        Ok(read)
    }
}

/// Guesses the delimiter from the first lines: the candidate found the same
/// (non-zero) number of times on the most lines, outside quotes. Title rows
/// above the header and commas inside `400.000,00` amounts of a
/// semicolon-separated file do not fool it, since the true delimiter is the
/// one every header and data line agrees on.
fn guess_delimiter(path: &Path, header_row: Option<usize>) -> Result<u8> {
    let mut head = Vec::with_capacity(1 << 16);
    open(path)?
        .take(1 << 16)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let head = head.strip_prefix(BOM).unwrap_or(&head);
    let text = String::from_utf8_lossy(head);
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .take(HEADER_SEARCH_ROWS)
        .collect();
    if let Some(row) = header_row.filter(|&row| row > 0)
        && let Some(line) = text.lines().nth(row - 1)
    {
        // The mapping says where the header is: the delimiter it uses most.
        if let Some(best) = [b';', b',', b'\t']
            .into_iter()
            .max_by_key(|&d| count_outside_quotes(line, d))
            .filter(|&d| count_outside_quotes(line, d) > 0)
        {
            return Ok(best);
        }
    }
    let mut best = (b',', 0, 0);
    for delimiter in [b';', b',', b'\t'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|line| count_outside_quotes(line, delimiter))
            .collect();
        let mut tally: std::collections::BTreeMap<usize, usize> = Default::default();
        for &count in counts.iter().filter(|&&c| c > 0) {
            *tally.entry(count).or_default() += 1;
        }
        if let Some((&count, &agreeing)) =
            tally.iter().max_by_key(|(count, lines)| (**lines, **count))
            && (agreeing, count) > (best.1, best.2)
        {
            best = (delimiter, agreeing, count);
        }
    }
    Ok(best.0)
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for byte in line.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b if b == delimiter && !quoted => count += 1,
            _ => {}
        }
    }
    count
}

fn sheet_name(names: &[String], wanted: Option<&str>, path: &Path) -> Result<String> {
    match wanted {
        Some(name) => match names.iter().find(|n| n.as_str() == name) {
            Some(found) => Ok(found.clone()),
            None => bail!(
                "`{}` has no sheet `{name}` (sheets: {})",
                path.display(),
                names.join(", ")
            ),
        },
        None => names
            .first()
            .cloned()
            .ok_or_else(|| anyhow!("`{}` has no sheet", path.display())),
    }
}

fn read_xlsx(
    path: &Path,
    options: &ReadOptions,
    visit: &mut dyn FnMut(Row, Position) -> Result<Flow>,
) -> Result<()> {
    bounds::check(path, bounds::Workbook::Xlsx)?;
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(path)
        .map_err(|e| anyhow!("cannot read `{}` as an .xlsx workbook: {e}", path.display()))?;
    let sheet = sheet_name(&workbook.sheet_names(), options.sheet.as_deref(), path)?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| anyhow!("cannot read sheet `{sheet}` of `{}`: {e}", path.display()))?;
    let mut current: Option<Row> = None;
    // The text of the current row: 16,384 cells may each name the same
    // 1 MiB shared string, and the row holds a copy of each.
    let mut row_bytes = 0;
    let mut rows = 0;
    let mut emit = |row: Row, rows: &mut u64| -> Result<Flow> {
        if row.is_blank() {
            return Ok(Flow::Continue);
        }
        *rows += 1;
        visit(
            row,
            Position {
                rows: *rows,
                bytes: None,
            },
        )
    };
    loop {
        let next = cells
            .next_cell()
            .map_err(|e| anyhow!("`{}` sheet `{sheet}`: {e}", path.display()))?;
        let Some(cell) = next else { break };
        let (row_index, column) = cell.get_position();
        let number = row_index as usize + 1;
        if current.as_ref().is_some_and(|row| row.number != number)
            && let Some(done) = current.take()
            && let Flow::Stop = emit(done, &mut rows)?
        {
            return Ok(());
        }
        let row = current.get_or_insert_with(|| {
            row_bytes = 0;
            Row {
                number,
                cells: Vec::new(),
            }
        });
        let column = column as usize;
        check_column(column, path, number)?;
        let len = cell_text_len(cell.get_value());
        check_cell_size(len, path, number, column)?;
        row_bytes += len as u64;
        if row_bytes > MAX_ROW_BYTES {
            return Err(SpreadsheetTooLarge::row(path, number).into());
        }
        if row.cells.len() <= column {
            row.cells.resize(column + 1, Cell::Empty);
        }
        row.cells[column] = cell_of(cell.get_value());
    }
    if let Some(done) = current.take() {
        emit(done, &mut rows)?;
    }
    Ok(())
}

fn read_workbook(
    path: &Path,
    options: &ReadOptions,
    visit: &mut dyn FnMut(Row, Position) -> Result<Flow>,
) -> Result<()> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if extension.eq_ignore_ascii_case("ods") {
        bounds::check(path, bounds::Workbook::Ods)?;
    } else if extension.eq_ignore_ascii_case("xlsb") {
        bounds::check(path, bounds::Workbook::Other)?;
    }
    let mut workbook = calamine::open_workbook_auto(path)
        .map_err(|e| anyhow!("cannot read `{}` as a workbook: {e}", path.display()))?;
    let sheet = sheet_name(&workbook.sheet_names(), options.sheet.as_deref(), path)?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| anyhow!("cannot read sheet `{sheet}` of `{}`: {e}", path.display()))?;
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    if let Some((last_row, last_column)) = range.end() {
        check_column(last_column as usize, path, last_row as usize + 1)?;
    }
    let mut rows = 0;
    for (offset, cells) in range.rows().enumerate() {
        let number = first_row as usize + offset + 1;
        let mut row_cells = vec![Cell::Empty; first_column as usize];
        for (index, cell) in cells.iter().enumerate() {
            let len = match cell {
                calamine::Data::String(text) => text.len(),
                _ => 0,
            };
            check_cell_size(len, path, number, first_column as usize + index)?;
            row_cells.push(data_cell(cell));
        }
        let row = Row {
            number,
            cells: row_cells,
        };
        if row.is_blank() {
            continue;
        }
        rows += 1;
        let position = Position { rows, bytes: None };
        if let Flow::Stop = visit(row, position)? {
            break;
        }
    }
    Ok(())
}

/// The longest spreadsheet cell taken, in bytes; as [`MAX_ROW_BYTES`] for
/// CSV. calamine has the cell in memory already, but it is not copied, and
/// the import stops at once with the row and column named.
pub const MAX_CELL_BYTES: usize = 1 << 20;

fn cell_text_len(value: &calamine::DataRef<'_>) -> usize {
    use calamine::DataRef;
    match value {
        DataRef::String(text) => text.len(),
        DataRef::SharedString(text) => text.len(),
        _ => 0,
    }
}

/// Columns a spreadsheet can have (Excel's last is XFD, the 16,384th). A row
/// is held as a vector as wide as its last cell, so a crafted reference such
/// as `ZZZZZZ3` (321 million columns) cost 7.5 GB before this check. Found
/// by the `import_xlsx` fuzz target.
pub const MAX_COLUMNS: usize = 16_384;

fn check_column(column: usize, path: &Path, row: usize) -> Result<()> {
    if column >= MAX_COLUMNS {
        bail!(
            "`{}` row {row}: a cell in column {}, past the last column a spreadsheet has ({MAX_COLUMNS}, XFD)",
            path.display(),
            column + 1
        );
    }
    Ok(())
}

fn check_cell_size(len: usize, path: &Path, row: usize, column: usize) -> Result<()> {
    if len > MAX_CELL_BYTES {
        bail!(
            "`{}` row {row}, column {}: the cell holds {len} bytes, over the {MAX_CELL_BYTES}-byte limit",
            path.display(),
            column + 1
        );
    }
    Ok(())
}

fn excel_date(date: &calamine::ExcelDateTime) -> Cell {
    let (year, month, day, ..) = date.to_ymd_hms_milli();
    Cell::Date(i32::from(year), u32::from(month), u32::from(day))
}

fn cell_of(value: &calamine::DataRef<'_>) -> Cell {
    use calamine::DataRef;
    match value {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(number) => Cell::Number(*number as f64),
        DataRef::Float(number) => Cell::Number(*number),
        DataRef::String(text) | DataRef::DateTimeIso(text) | DataRef::DurationIso(text) => {
            Cell::Text(text.clone())
        }
        DataRef::SharedString(text) => Cell::Text(text.to_string()),
        DataRef::Bool(value) => Cell::Text(value.to_string()),
        DataRef::DateTime(date) => excel_date(date),
        DataRef::Error(error) => Cell::Text(format!("#{error}")),
    }
}

fn data_cell(value: &calamine::Data) -> Cell {
    use calamine::Data;
    match value {
        Data::Empty => Cell::Empty,
        Data::Int(number) => Cell::Number(*number as f64),
        Data::Float(number) => Cell::Number(*number),
        Data::String(text) | Data::DateTimeIso(text) | Data::DurationIso(text) => {
            Cell::Text(text.clone())
        }
        Data::Bool(value) => Cell::Text(value.to_string()),
        Data::DateTime(date) => excel_date(date),
        Data::Error(error) => Cell::Text(format!("#{error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(text: &[u8], options: &ReadOptions) -> Vec<(usize, Vec<String>)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        std::fs::write(&path, text).unwrap();
        let mut rows = Vec::new();
        for_each_row(&path, options, &mut |row, _| {
            rows.push((
                row.number,
                row.cells.iter().map(|c| c.text().into_owned()).collect(),
            ));
            Ok(Flow::Continue)
        })
        .unwrap();
        rows
    }

    #[test]
    fn semicolons_with_decimal_commas_and_title_rows() {
        let text = "SAO KÊ TÀI KHOẢN, từ 01/09 đến 10/09\n\nSTT;Ngày;Số tiền;Nội dung\n1;01/09/2024;400.000,00;UNG HO, BAO\n2;02/09/2024;50.000,00;MTTQ\n";
        let rows = rows_of(text.as_bytes(), &ReadOptions::default());
        assert_eq!(rows[0].0, 1);
        assert_eq!(rows[1].0, 3);
        assert_eq!(rows[1].1, vec!["STT", "Ngày", "Số tiền", "Nội dung"]);
        assert_eq!(rows[2].1[2], "400.000,00");
        assert_eq!(rows[2].1[3], "UNG HO, BAO");
        assert_eq!(rows[3].0, 5);
    }

    #[test]
    fn commas_with_quoted_amounts_and_a_bom() {
        let text = b"\xEF\xBB\xBFdate,ref,amount\n12/09/2024,FT1,\"50,000\"\n";
        let rows = rows_of(text, &ReadOptions::default());
        assert_eq!(rows[0].1, vec!["date", "ref", "amount"]);
        assert_eq!(rows[1].1, vec!["12/09/2024", "FT1", "50,000"]);
    }

    #[test]
    fn rows_are_numbered_by_line_across_crlf_blank_lines_and_quoted_breaks() {
        let text = "a,b\r\n\r\n1,\"two\r\nlines\"\r\n2,x\r\n\r\n3,y";
        let rows = rows_of(text.as_bytes(), &ReadOptions::default());
        let numbers: Vec<usize> = rows.iter().map(|(number, _)| *number).collect();
        assert_eq!(numbers, vec![1, 3, 5, 7]);
        assert_eq!(rows[1].1[1], "two\r\nlines");
    }

    #[test]
    fn numbers_print_as_people_write_them() {
        assert_eq!(Cell::Number(1_000_000.0).text(), "1000000");
        assert_eq!(Cell::Number(2.5).text(), "2.5");
        assert_eq!(Cell::Date(2024, 9, 1).text(), "2024-09-01");
    }

    #[test]
    fn a_giant_cell_is_refused_with_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input.csv");
        let mut text = b"date,ref,amount\n12/09/2024,FT1,1000\n\n12/09/2024,\"".to_vec();
        text.extend(std::iter::repeat_n(b'\n', 2 * MAX_ROW_BYTES as usize));
        std::fs::write(&path, text).unwrap();
        let mut seen = 0;
        let error = for_each_row(&path, &ReadOptions::default(), &mut |_, _| {
            seen += 1;
            Ok(Flow::Continue)
        })
        .unwrap_err()
        .to_string();
        assert_eq!(seen, 2);
        assert!(
            error.contains("input.csv` row 4: the row is longer than 1048576 bytes"),
            "{error}"
        );
    }
}
