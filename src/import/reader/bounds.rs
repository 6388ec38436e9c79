//! What a spreadsheet may make `import` hold, checked before calamine opens
//! it.
//!
//! A workbook is a zip of XML, and both layers multiply: deflate shrinks
//! repetitive XML about a thousand times, and an `.ods` row or cell may say
//! it repeats (`table:number-rows-repeated`, `table:number-columns-repeated`).
//! calamine reads an `.ods` whole into a dense sheet and an `.xlsx`'s whole
//! shared-string table, so an 809-byte `.ods` reached 7.5 GB and an 827 KB
//! `.xlsx` with 20 million shared strings 1 GB. Here every member of the zip
//! is inflated once through a counter (its declared size may lie) and the
//! parts calamine holds whole are scanned as a stream, counting what it would
//! build, before it builds anything.
//!
//! The scan of an `.ods` follows calamine 0.38's `ods.rs`: a row's cells are
//! held up to its last non-empty one (at most 16,384), rows are capped at
//! 1,048,576 per sheet, and the sheet is a dense rectangle from the first to
//! the last non-empty row, as wide as the widest; empty rows at the ends cost
//! nothing, so the 1,048,576-row tail LibreOffice writes is no cost. It
//! counts at least what calamine holds, never less.

use quick_xml::events::{BytesStart, Event};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The most bytes one member of a workbook's zip may inflate to (a sheet of
/// about half a million rows); the declared size and the bytes actually
/// inflated are both checked.
pub const MAX_MEMBER_BYTES: u64 = 256 << 20;
/// The most cells an `.ods` may have once its repeated rows and columns are
/// expanded, over all its sheets: 200,000 rows of ten columns. calamine
/// holds about 60 bytes a cell, twice (values and formulas), plus its text.
pub const MAX_CELLS: u64 = 2_000_000;
/// The most text an `.ods`'s cells may hold once repeats are expanded.
pub const MAX_TEXT_BYTES: u64 = 128 << 20;
/// The most shared strings an `.xlsx` may have (calamine holds them all,
/// about 50 bytes each besides their text): a statement's references and
/// descriptions for a million rows.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;

/// calamine's caps on an `.ods` sheet (`ods.rs`): rows per sheet, and cells
/// held per row.
const ODS_MAX_ROWS: u64 = 1_048_576;
const ODS_MAX_COLUMNS: u64 = 16_384;

/// A spreadsheet past one of the bounds. It is the file's content that is
/// refused, so `import` exits 1, as for an invalid row, and not 2, as for a
/// file it cannot read. The message is Vietnamese, then English.
#[derive(Debug, thiserror::Error)]
#[error("`{}`: {vietnamese} — {english}", file.display())]
pub struct SpreadsheetTooLarge {
    pub file: PathBuf,
    vietnamese: String,
    english: String,
}

/// Which bound was passed.
enum Bound {
    Member { name: String },
    Cells,
    Text,
    SharedStrings,
    Row { row: usize },
}

impl SpreadsheetTooLarge {
    fn new(file: &Path, bound: Bound) -> SpreadsheetTooLarge {
        let (vietnamese, english) = match bound {
            Bound::Member { name } => (
                format!(
                    "phần `{name}` của tệp giải nén ra hơn {} byte, vượt giới hạn {} MiB của một phần bảng tính",
                    Grouped(MAX_MEMBER_BYTES),
                    MAX_MEMBER_BYTES >> 20
                ),
                format!(
                    "member `{name}` inflates to more than {MAX_MEMBER_BYTES} bytes, over the {} MiB limit of one part of a workbook",
                    MAX_MEMBER_BYTES >> 20
                ),
            ),
            Bound::Cells => (
                format!(
                    "bảng tính có hơn {} ô khi trải các hàng, cột lặp lại, vượt giới hạn khi nhập; hãy chia nhỏ tệp",
                    Grouped(MAX_CELLS)
                ),
                format!(
                    "the spreadsheet has more than {MAX_CELLS} cells once its repeated rows and columns are expanded, over the import limit; split the file"
                ),
            ),
            Bound::Text => (
                format!(
                    "chữ trong các ô dài hơn {} byte khi trải các hàng, cột lặp lại, vượt giới hạn khi nhập; hãy chia nhỏ tệp",
                    Grouped(MAX_TEXT_BYTES)
                ),
                format!(
                    "its cells hold more than {MAX_TEXT_BYTES} bytes of text once repeated rows and columns are expanded, over the import limit; split the file"
                ),
            ),
            Bound::SharedStrings => (
                format!(
                    "bảng tính có hơn {} chuỗi dùng chung, vượt giới hạn khi nhập; hãy chia nhỏ tệp",
                    Grouped(MAX_SHARED_STRINGS)
                ),
                format!(
                    "the workbook has more than {MAX_SHARED_STRINGS} shared strings, over the import limit; split the file"
                ),
            ),
            Bound::Row { row } => (
                format!(
                    "hàng {row} có hơn {} byte chữ, vượt giới hạn của một hàng",
                    Grouped(super::MAX_ROW_BYTES)
                ),
                format!(
                    "row {row} holds more than {} bytes of text, over the limit of a row",
                    super::MAX_ROW_BYTES
                ),
            ),
        };
        SpreadsheetTooLarge {
            file: file.to_path_buf(),
            vietnamese,
            english,
        }
    }

    /// The refusal of a row of an `.xlsx` whose cells add up to more than
    /// [`super::MAX_ROW_BYTES`] (16,384 cells may each name the same 1 MiB
    /// shared string).
    pub fn row(file: &Path, row: usize) -> SpreadsheetTooLarge {
        SpreadsheetTooLarge::new(file, Bound::Row { row })
    }
}

/// `2.000.000`, as Vietnamese write numbers.
struct Grouped(u64);

impl fmt::Display for Grouped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::vn::group_digits(self.0))
    }
}

/// What the zip holds that calamine reads whole.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Workbook {
    /// `.xlsx`, `.xlsm`: the shared strings.
    Xlsx,
    /// `.ods`: every sheet, in `content.xml`.
    Ods,
    /// `.xlsb`: only the members' sizes are checked.
    Other,
}

/// Checks the workbook at `path` against the bounds. A file that is not a
/// zip, or a member that does not inflate, is left for calamine to report.
pub fn check(path: &Path, workbook: Workbook) -> Result<(), SpreadsheetTooLarge> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(mut archive) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let refuse = |bound| Err(SpreadsheetTooLarge::new(path, bound));
    for index in 0..archive.len() {
        let Ok(mut member) = archive.by_index(index) else {
            continue;
        };
        let name = member.name().map(|n| n.into_owned()).unwrap_or_default();
        if member.size() > MAX_MEMBER_BYTES {
            return refuse(Bound::Member { name });
        }
        let mut counted = Counted {
            inner: (&mut member).take(MAX_MEMBER_BYTES + 1),
            bytes: 0,
        };
        let scanned = match workbook {
            Workbook::Ods if name == "content.xml" => {
                scan_ods(BufReader::with_capacity(1 << 16, &mut counted))
            }
            Workbook::Xlsx if name.to_ascii_lowercase().ends_with("sharedstrings.xml") => {
                scan_shared_strings(BufReader::with_capacity(1 << 16, &mut counted))
            }
            _ => Ok(()),
        };
        if let Err(bound) = scanned {
            return refuse(bound);
        }
        // The rest of the member, counted too: its header may lie.
        let _ = std::io::copy(&mut counted, &mut std::io::sink());
        if counted.bytes > MAX_MEMBER_BYTES {
            return refuse(Bound::Member { name });
        }
    }
    Ok(())
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.bytes += read as u64;
        Ok(read)
    }
}

fn xml_reader<R: BufRead>(input: R) -> quick_xml::Reader<R> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.check_comments = false;
    config.trim_text(false);
    reader
}

/// Counts the `<si>` items of an `.xlsx`'s shared-string table, and refuses
/// a table declaring more (`uniqueCount`, which calamine reserves room for).
/// A malformed table stops the count: calamine reports it.
fn scan_shared_strings(input: impl BufRead) -> Result<(), Bound> {
    let mut reader = xml_reader(input);
    let mut buffer = Vec::new();
    let mut strings = 0u64;
    loop {
        buffer.clear();
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(e) | Event::Empty(e)) => match e.local_name().as_ref() {
                b"si" => {
                    strings += 1;
                    if strings > MAX_SHARED_STRINGS {
                        return Err(Bound::SharedStrings);
                    }
                }
                b"sst" => {
                    let declared = attribute(&e, b"uniqueCount").and_then(|v| number(&v));
                    if declared.is_some_and(|count| count > MAX_SHARED_STRINGS) {
                        return Err(Bound::SharedStrings);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

fn attribute(element: &BytesStart<'_>, key: &[u8]) -> Option<Vec<u8>> {
    element
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == key)
        .map(|a| a.value.into_owned())
}

/// A whole number as calamine parses it; anything else counts as 1, since
/// calamine then refuses the file itself.
fn number(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// The running count of what calamine would hold for an `.ods`.
#[derive(Default)]
struct OdsTally {
    /// Cells and text of the sheets already scanned.
    done_cells: u64,
    done_text: u64,
    sheet: SheetTally,
    row: RowTally,
    cell: Option<CellTally>,
}

/// One sheet (`table:table`).
#[derive(Default)]
struct SheetTally {
    /// Rows so far, after calamine's cap.
    rows: u64,
    /// Each row's cells as read, before repeats (calamine keeps them all).
    raw_cells: u64,
    raw_text: u64,
    /// Rows from the first non-empty row to the last, repeats counted.
    span_rows: u64,
    /// Empty rows since the last non-empty one.
    pending_rows: u64,
    seen_content: bool,
    widest: u64,
    /// Text of non-empty rows, repeats counted.
    expanded_text: u64,
}

impl SheetTally {
    /// What calamine holds for this sheet: its rows as read, then the dense
    /// rectangle, with values and formulas alike.
    fn cells(&self) -> u64 {
        self.raw_cells
            .max(self.span_rows.saturating_mul(self.widest))
    }

    fn text(&self) -> u64 {
        self.raw_text.max(self.expanded_text)
    }
}

/// One row (`table:table-row`).
#[derive(Default)]
struct RowTally {
    repeats: u64,
    /// Cells calamine keeps: up to the last non-empty one.
    cells: u64,
    /// Empty cells not kept unless a non-empty one follows.
    pending_empty: u64,
    text: u64,
}

/// One cell (`table:table-cell`, `table:covered-table-cell`).
struct CellTally {
    repeats: u64,
    empty: bool,
    text: u64,
    /// Whether calamine reads the cell's paragraphs as its value.
    reads_content: bool,
}

impl OdsTally {
    fn check(&self) -> Result<(), Bound> {
        if self.done_cells.saturating_add(self.sheet.cells()) > MAX_CELLS {
            return Err(Bound::Cells);
        }
        if self.done_text.saturating_add(self.sheet.text()) > MAX_TEXT_BYTES {
            return Err(Bound::Text);
        }
        Ok(())
    }

    fn start_sheet(&mut self) {
        self.done_cells = self.done_cells.saturating_add(self.sheet.cells());
        self.done_text = self.done_text.saturating_add(self.sheet.text());
        self.sheet = SheetTally::default();
    }

    fn start_row(&mut self, element: &BytesStart<'_>) {
        let repeats = attribute(element, b"table:number-rows-repeated")
            .and_then(|v| number(&v))
            .unwrap_or(1);
        let repeats = repeats.min(ODS_MAX_ROWS.saturating_sub(self.sheet.rows));
        self.sheet.rows += repeats;
        self.row = RowTally {
            repeats,
            ..RowTally::default()
        };
    }

    fn end_row(&mut self) -> Result<(), Bound> {
        let (sheet, row) = (&mut self.sheet, &self.row);
        sheet.raw_cells = sheet.raw_cells.saturating_add(row.cells);
        sheet.raw_text = sheet.raw_text.saturating_add(row.text);
        if row.cells > 0 {
            sheet.span_rows = sheet
                .span_rows
                .saturating_add(sheet.pending_rows)
                .saturating_add(row.repeats);
            sheet.pending_rows = 0;
            sheet.seen_content = true;
            sheet.widest = sheet.widest.max(row.cells);
            sheet.expanded_text = sheet
                .expanded_text
                .saturating_add(row.text.saturating_mul(row.repeats));
        } else if sheet.seen_content {
            sheet.pending_rows = sheet.pending_rows.saturating_add(row.repeats);
        }
        self.check()
    }

    /// Starts a cell; returns whether calamine reads its paragraphs as its
    /// value.
    fn start_cell(&mut self, element: &BytesStart<'_>) -> bool {
        let mut cell = CellTally {
            repeats: 1,
            empty: true,
            text: 0,
            reads_content: false,
        };
        let mut has_value = false;
        for attribute in element.attributes().with_checks(false).flatten() {
            let value = attribute.value.len() as u64;
            match attribute.key.as_ref() {
                b"table:number-columns-repeated" => {
                    cell.repeats = number(&attribute.value).unwrap_or(1);
                }
                b"office:value"
                | b"office:string-value"
                | b"office:date-value"
                | b"office:time-value"
                | b"office:boolean-value" => {
                    has_value = true;
                    cell.empty = false;
                    cell.text += value;
                }
                b"table:formula" => {
                    cell.empty = false;
                    cell.text += value;
                }
                b"office:value-type" => {
                    cell.empty = false;
                    cell.reads_content = attribute.value.as_ref() == b"string";
                }
                _ => {}
            }
        }
        cell.reads_content &= !has_value;
        let reads_content = cell.reads_content;
        self.cell = Some(cell);
        reads_content
    }

    /// Adds a cell as calamine's `read_row` does: the empty cells before it
    /// are kept only when a non-empty one follows, and a row holds at most
    /// 16,384 cells.
    fn end_cell(&mut self) -> Result<(), Bound> {
        let Some(cell) = self.cell.take() else {
            return Ok(());
        };
        let row = &mut self.row;
        row.cells += row
            .pending_empty
            .min(ODS_MAX_COLUMNS.saturating_sub(row.cells));
        row.pending_empty = 0;
        let repeats = cell.repeats.min(ODS_MAX_COLUMNS.saturating_sub(row.cells));
        if cell.empty {
            row.pending_empty = repeats;
        } else {
            row.cells += repeats;
            row.text = row.text.saturating_add(cell.text.saturating_mul(repeats));
        }
        // A single row's text, before its own repeats, is bound too.
        if row.text > MAX_TEXT_BYTES {
            return Err(Bound::Text);
        }
        Ok(())
    }

    fn add_text(&mut self, bytes: u64) {
        if let Some(cell) = self.cell.as_mut().filter(|c| c.reads_content) {
            cell.text = cell.text.saturating_add(bytes);
        }
    }
}

/// Where the scan of `content.xml` is, as calamine's parser would be:
/// `parse_content`, `read_table`, `read_row`, then `get_datatype` for a
/// string cell whose paragraphs are its value (which ends at the first end of
/// any cell, as calamine's does) or `read_to_end_into` for any other cell
/// (which skips to the end of the same-named element).
enum Mode {
    Outside,
    Table,
    Row,
    Content { in_annotation: bool },
    Skip { name: Vec<u8>, depth: u32 },
}

/// Scans `content.xml` of an `.ods`, refusing it as soon as what calamine
/// would hold passes a bound. A malformed document stops the scan: calamine
/// reports it.
fn scan_ods(input: impl BufRead) -> Result<(), Bound> {
    let mut reader = xml_reader(input);
    // As calamine reads it: `<a/>` is a start and an end.
    reader.config_mut().expand_empty_elements = true;
    let mut buffer = Vec::new();
    let mut tally = OdsTally::default();
    let mut mode = Mode::Outside;
    loop {
        buffer.clear();
        let event = match reader.read_event_into(&mut buffer) {
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(event) => event,
        };
        mode = match (mode, event) {
            (Mode::Outside, Event::Start(e)) if e.name().as_ref() == b"table:table" => {
                tally.start_sheet();
                Mode::Table
            }
            (Mode::Table, Event::Start(e)) if e.name().as_ref() == b"table:table-row" => {
                tally.start_row(&e);
                Mode::Row
            }
            (Mode::Table, Event::End(e)) if e.name().as_ref() == b"table:table" => Mode::Outside,
            (Mode::Row, Event::Start(e)) if is_cell(e.name().as_ref()) => {
                let reads_content = tally.start_cell(&e);
                if reads_content {
                    Mode::Content {
                        in_annotation: false,
                    }
                } else {
                    Mode::Skip {
                        name: e.name().as_ref().to_vec(),
                        depth: 1,
                    }
                }
            }
            (Mode::Row, Event::End(e)) if e.name().as_ref() == b"table:table-row" => {
                tally.end_row()?;
                Mode::Table
            }
            (Mode::Content { in_annotation }, event) => match event {
                Event::End(e) if in_annotation && e.name().as_ref() == b"office:annotation" => {
                    Mode::Content {
                        in_annotation: false,
                    }
                }
                Event::End(e) if !in_annotation && is_cell(e.name().as_ref()) => {
                    tally.end_cell()?;
                    Mode::Row
                }
                Event::Start(e) => {
                    match e.name().as_ref() {
                        b"text:p" | b"text:tab" | b"text:line-break" => tally.add_text(1),
                        b"text:s" => tally.add_text(
                            attribute(&e, b"text:c")
                                .and_then(|v| number(&v))
                                .unwrap_or(1),
                        ),
                        _ => {}
                    }
                    let in_annotation = in_annotation || e.name().as_ref() == b"office:annotation";
                    Mode::Content { in_annotation }
                }
                Event::Text(text) => {
                    tally.add_text(text.len() as u64);
                    Mode::Content { in_annotation }
                }
                Event::CData(text) => {
                    tally.add_text(text.len() as u64);
                    Mode::Content { in_annotation }
                }
                Event::GeneralRef(reference) => {
                    tally.add_text(reference.len() as u64 + 2);
                    Mode::Content { in_annotation }
                }
                _ => Mode::Content { in_annotation },
            },
            (Mode::Skip { name, depth }, Event::Start(e))
                if e.name().as_ref() == name.as_slice() =>
            {
                Mode::Skip {
                    name,
                    depth: depth + 1,
                }
            }
            (Mode::Skip { name, depth }, Event::End(e)) if e.name().as_ref() == name.as_slice() => {
                if depth == 1 {
                    tally.end_cell()?;
                    Mode::Row
                } else {
                    Mode::Skip {
                        name,
                        depth: depth - 1,
                    }
                }
            }
            (mode, _) => mode,
        };
    }
}

fn is_cell(name: &[u8]) -> bool {
    name == b"table:table-cell" || name == b"table:covered-table-cell"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(rows: &str) -> Result<(), &'static str> {
        let xml = format!(
            r#"<office:document-content><office:body><office:spreadsheet><table:table table:name="S">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        scan_ods(xml.as_bytes()).map_err(|bound| match bound {
            Bound::Cells => "cells",
            Bound::Text => "text",
            _ => "other",
        })
    }

    const EMPTY_TAIL: &str = r#"<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#;

    #[test]
    fn only_what_calamine_holds_is_counted() {
        let value = r#"<table:table-cell office:value-type="float" office:value="1"/>"#;
        // Empty rows and cells after the last value cost nothing.
        assert_eq!(
            scan(&format!(
                "<table:table-row>{value}</table:table-row>{EMPTY_TAIL}"
            )),
            Ok(())
        );
        // Empty rows between two values are held: 1,048,000 × 2 cells.
        let wide = format!(
            r#"<table:table-row>{value}{value}</table:table-row>{EMPTY_TAIL}<table:table-row>{value}</table:table-row>"#
        );
        assert_eq!(scan(&wide), Err("cells"));
        // A row is held up to its last value, its empty cells before it too.
        let row = |repeats: u32| {
            format!(
                r#"<table:table-row table:number-rows-repeated="{repeats}"><table:table-cell table:number-columns-repeated="9999"/>{value}</table:table-row>"#
            )
        };
        assert_eq!(scan(&row(200)), Ok(()));
        assert_eq!(scan(&row(201)), Err("cells"));
    }

    #[test]
    fn text_is_counted_with_its_repeats_and_spaces() {
        let spaces = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>a<text:s text:c="200000000"/></text:p></table:table-cell></table:table-row>"#;
        assert_eq!(scan(spaces), Err("text"));
        let repeated = r#"<table:table-row table:number-rows-repeated="1000"><table:table-cell office:value-type="string" office:string-value="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" table:number-columns-repeated="1500"/></table:table-row>"#;
        assert_eq!(scan(repeated), Err("text"));
    }

    /// calamine ends a string cell at the first end of any cell, so cells
    /// nested in its paragraphs become cells of the row: they count.
    #[test]
    fn cells_nested_in_a_string_cell_count_as_calamine_reads_them() {
        let nested = r#"<table:table-row table:number-rows-repeated="1000"><table:table-cell office:value-type="string"><text:p>x</text:p><table:table-cell/><table:table-cell office:value="1" table:number-columns-repeated="16000"/></table:table-cell></table:table-row>"#;
        assert_eq!(scan(nested), Err("cells"));
    }

    #[test]
    fn declared_shared_strings_count_too() {
        let sst = |count: u64, items: &str| {
            format!(r#"<sst xmlns="x" uniqueCount="{count}">{items}</sst>"#)
        };
        assert!(scan_shared_strings(sst(3, "<si><t>a</t></si>").as_bytes()).is_ok());
        assert!(scan_shared_strings(sst(MAX_SHARED_STRINGS + 1, "").as_bytes()).is_err());
    }
}
