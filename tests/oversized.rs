//! Oversized input: a 100 MB line (append input, ledger segment), a
//! million-row CSV ending in a giant cell, a giant `.xlsx` cell, JSON nested
//! far past serde_json's recursion limit (append input, entry line). Each
//! must end with an error naming the file and line (or row and column), in
//! bounded memory: the child's peak resident set is read from `wait4`, so
//! the bound is on memory, never on time.
//!
//! The big inputs are generated here, in a temporary directory.

#[path = "it/common/mod.rs"]
mod common;

use common::TestPortal;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const MB: usize = 1 << 20;

/// What a child process did: exit code, output, and its peak resident set.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    peak_rss_mb: usize,
}

/// Runs the binary inside the portal with `args` and waits for it with
/// `wait4`, whose resource usage is this child's alone (tests run in
/// parallel threads, so `RUSAGE_CHILDREN` would mix their children).
fn measured(portal: &TestPortal, args: &[&str]) -> Run {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let stdout_path = out_dir.path().join("stdout");
    let stderr_path = out_dir.path().join("stderr");
    let child = Command::new(assert_cmd::cargo::cargo_bin("minhbach"))
        .env("MINHBACH_TIME", common::TIME)
        .current_dir(portal.root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("spawn minhbach");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our child,
    // not waited for by anyone else (`child` is dropped without `wait`).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    drop(child);
    assert!(libc::WIFEXITED(status), "killed by a signal: {status:#x}");
    Run {
        code: libc::WEXITSTATUS(status),
        stdout: std::fs::read_to_string(&stdout_path).unwrap(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as usize / 1024,
    }
}

/// A portal with one fund, `quy`.
fn portal_with_fund() -> TestPortal {
    let portal = TestPortal::new();
    portal
        .append(r#"{"kind":"fund","id":"quy","name":"Quỹ cứu trợ","description":""}"#)
        .assert()
        .success();
    portal
}

/// Writes `head`, then `size` copies of `fill`, then `tail`, without holding
/// the big part in memory (see `measured` for why that matters).
fn write_big(path: &Path, head: &[u8], fill: u8, size: usize, tail: &[u8]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    file.write_all(head).unwrap();
    write_fill(&mut file, fill, size);
    file.write_all(tail).unwrap();
    file.flush().unwrap();
}

/// Writes `size` copies of `fill`, a megabyte at a time.
fn write_fill(out: &mut (impl Write + ?Sized), fill: u8, size: usize) {
    let chunk = vec![fill; MB.min(size)];
    for _ in 0..size / MB {
        out.write_all(&chunk).unwrap();
    }
    out.write_all(&chunk[..size % MB]).unwrap();
}

/// Exit 1: a validation failure. (A file `import` cannot read as a table,
/// including one with a row or cell over the limit, exits 2 like any
/// unreadable file: see `cli::import`.)
fn assert_failed(run: &Run, code: i32, messages: &[&str], max_rss_mb: usize) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    for message in messages {
        assert!(
            run.stderr.contains(message),
            "{message:?} not in: {}",
            run.stderr
        );
    }
    eprintln!("peak RSS {} MB: {}", run.peak_rss_mb, run.stderr.trim());
    assert!(
        run.peak_rss_mb < max_rss_mb,
        "peak RSS {} MB, over {max_rss_mb} MB",
        run.peak_rss_mb
    );
}

#[test]
fn a_100_mb_append_line_is_refused_in_bounded_memory() {
    let portal = portal_with_fund();
    let before = portal.snapshot();
    let input = portal.dir.path().join("big.jsonl");
    let good = r#"{"kind":"donation","fund":"quy","donor":"An","amount":1000,"date":"2025-09-12","channel":"cash"}"#;
    let head = format!("{good}\n{}", r#"{"kind":"donation","fund":"quy","donor":""#);
    let tail = br#"","amount":1000,"date":"2025-09-12","channel":"cash"}
"#;
    write_big(&input, head.as_bytes(), b'a', 100 * MB, tail);
    let key = portal.officer_key.to_str().unwrap();
    let run = measured(&portal, &["append", "--key", key, input.to_str().unwrap()]);
    assert_failed(
        &run,
        1,
        &[
            "big.jsonl` line 2",
            "over the 1048576-byte limit of an input line",
            "nothing was appended",
        ],
        64,
    );
    assert_eq!(portal.snapshot(), before, "the ledger changed");
}

#[test]
fn a_100_mb_line_in_a_segment_fails_verify_in_bounded_memory() {
    let portal = portal_with_fund();
    let head = br#"{"seq":2,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"donation","fund":"quy","donor":""#;
    let tail = br#"","amount":1000,"date":"2025-09-12","channel":"cash"}
"#;
    let segment = portal.segment();
    let mut bytes = std::fs::read(&segment).unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    let big = portal.dir.path().join("big-segment");
    bytes.extend_from_slice(head);
    write_big(&big, &bytes, b'a', 100 * MB, tail);
    std::fs::rename(&big, &segment).unwrap();
    let run = measured(&portal, &["verify"]);
    let line = format!("line {}", lines + 1);
    assert_failed(
        &run,
        1,
        &["000000.jsonl", &line, "over the 65535-byte limit"],
        400,
    );
}

#[test]
fn a_million_row_csv_ending_in_a_giant_cell_is_refused_by_row() {
    let portal = portal_with_fund();
    let csv = portal.dir.path().join("sao-ke.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(file, "date,ref,amount,donor").unwrap();
    // Debit lines: read and counted, never kept, so only the reader's memory
    // is measured.
    for row in 0..1_000_000 {
        writeln!(file, "12/09/2025,FT{row},-1000,").unwrap();
    }
    file.write_all(b"12/09/2025,FTX,1000,\"").unwrap();
    write_fill(&mut file, b'x', 50 * MB);
    file.write_all(b"\"\n").unwrap();
    file.flush().unwrap();
    drop(file);
    let key = portal.officer_key.to_str().unwrap();
    let run = measured(
        &portal,
        &[
            "import",
            "donations",
            csv.to_str().unwrap(),
            "--fund",
            "quy",
            "--key",
            key,
        ],
    );
    assert_failed(
        &run,
        2,
        &["sao-ke.csv` row 1000002: the row is longer than 1048576 bytes"],
        64,
    );
}

#[test]
fn a_giant_xlsx_cell_is_refused_by_row_and_column() {
    let run = import_stored_xlsx("D2", 40 * MB);
    // calamine holds the cell's text while reading it (measured: about 3.3
    // times the cell); it is not copied further.
    assert_failed(
        &run,
        2,
        &[
            "sao-ke.xlsx` row 2, column 4: the cell holds 41943040 bytes, over the 1048576-byte limit",
        ],
        200,
    );
}

/// Found by the `import_xlsx` fuzz target: a cell far to the right made the
/// row as wide as its column (7.5 GB for `ZZZZZZ2`).
#[test]
fn an_xlsx_cell_past_the_last_column_is_refused_in_bounded_memory() {
    let run = import_stored_xlsx("ZZZZZZ2", 10);
    assert_failed(
        &run,
        2,
        &[
            "sao-ke.xlsx` row 2: a cell in column 321272406, past the last column a spreadsheet has (16384, XFD)",
        ],
        64,
    );
}

#[test]
fn deeply_nested_append_input_stops_at_the_recursion_limit() {
    let portal = portal_with_fund();
    let before = portal.snapshot();
    let depth = 400_000;
    let line = format!(
        r#"{{"kind":"correction","target":1,"reason":"x","amend":{{"note":{}1{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let input = portal.dir.path().join("nested.jsonl");
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let key = portal.officer_key.to_str().unwrap();
    let run = measured(&portal, &["append", "--key", key, input.to_str().unwrap()]);
    assert_failed(
        &run,
        1,
        &["nested.jsonl` line 1", "recursion limit exceeded"],
        64,
    );
    // Within the limit: parsed, then refused as a field, not a crash.
    let line = format!(
        r#"{{"kind":"correction","target":2,"reason":"x","amend":{{"note":{}"x"{}}}}}"#,
        "[".repeat(120),
        "]".repeat(120)
    );
    std::fs::write(&input, format!("{line}\n")).unwrap();
    let run = measured(&portal, &["append", "--key", key, input.to_str().unwrap()]);
    assert_failed(&run, 1, &["nested.jsonl` line 1", "amend"], 64);
    assert_eq!(portal.snapshot(), before, "the ledger changed");
}

#[test]
fn a_deeply_nested_entry_line_fails_verify_at_the_recursion_limit() {
    let portal = portal_with_fund();
    let segment = portal.segment();
    let mut bytes = std::fs::read(&segment).unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    // Within the 64 KiB line limit, far past serde_json's 128 levels.
    let depth = 30_000;
    let line = format!(
        r#"{{"seq":{lines},"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"correction","target":1,"reason":"x","amend":{{"note":{}1{}}}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    std::fs::write(&segment, bytes).unwrap();
    let run = measured(&portal, &["verify"]);
    let line = format!("line {}", lines + 1);
    assert_failed(
        &run,
        1,
        &["000000.jsonl", &line, "recursion limit exceeded"],
        64,
    );
}

/// `import donations` of a statement from [`write_stored_xlsx`].
fn import_stored_xlsx(cell: &str, cell_bytes: usize) -> Run {
    let portal = portal_with_fund();
    let xlsx = portal.dir.path().join("sao-ke.xlsx");
    write_stored_xlsx(&xlsx, cell, cell_bytes);
    let key = portal.officer_key.to_str().unwrap();
    let args = [
        "import",
        "donations",
        xlsx.to_str().unwrap(),
        "--fund",
        "quy",
        "--key",
        key,
    ];
    measured(&portal, &args)
}

/// An `.xlsx` workbook, stored without compression (so no zip crate is
/// needed), whose sheet has a header row and one row with a `cell_bytes`
/// inline-string cell at `cell` (D2 for the donor).
fn write_stored_xlsx(path: &Path, cell: &str, cell_bytes: usize) {
    const NS: &str = "http://schemas.openxmlformats.org";
    let content_types = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{NS}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}/spreadsheetml/2006/main" xmlns:r="{NS}/officeDocument/2006/relationships"><sheets><sheet name="Sao ke" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let workbook_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
    );
    let text = |r: &str, t: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#);
    let sheet_head = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData><row r="1">{}{}{}{}</row><row r="2">{}{}<c r="C2"><v>1000</v></c><c r="{}" t="inlineStr"><is><t>"#,
        text("A1", "date"),
        text("B1", "ref"),
        text("C1", "amount"),
        text("D1", "donor"),
        text("A2", "12/09/2025"),
        text("B2", "FT1"),
        cell,
    );
    let small = |name, text: &str| Member {
        name,
        head: text.as_bytes().to_vec(),
        fill: 0,
        tail: Vec::new(),
    };
    let members = [
        small("[Content_Types].xml", &content_types),
        small("_rels/.rels", &rels),
        small("xl/workbook.xml", &workbook),
        small("xl/_rels/workbook.xml.rels", &workbook_rels),
        Member {
            name: "xl/worksheets/sheet1.xml",
            head: sheet_head.into_bytes(),
            fill: cell_bytes,
            tail: b"</t></is></c></row></sheetData></worksheet>".to_vec(),
        },
    ];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write_stored_zip(&mut out, &members);
    out.flush().unwrap();
}

/// A zip member: `head`, `fill` bytes `x`, then `tail`.
struct Member {
    name: &'static str,
    head: Vec<u8>,
    fill: usize,
    tail: Vec<u8>,
}

impl Member {
    fn len(&self) -> u32 {
        (self.head.len() + self.fill + self.tail.len()) as u32
    }

    fn crc32(&self) -> u32 {
        let table = crc32_table();
        let mut crc = !0u32;
        let mut update = |bytes: &[u8]| {
            for &byte in bytes {
                crc = table[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
            }
        };
        update(&self.head);
        let chunk = vec![b'x'; MB.min(self.fill)];
        for _ in 0..self.fill / MB {
            update(&chunk);
        }
        update(&chunk[..self.fill % MB]);
        update(&self.tail);
        !crc
    }
}

/// A zip archive of `members`, stored (method 0): local headers, data, the
/// central directory and its end record (PKWARE APPNOTE 4.3).
fn write_stored_zip(out: &mut impl Write, members: &[Member]) {
    let mut offset = 0u32;
    let mut central = Vec::new();
    for member in members {
        let (crc, size) = (member.crc32(), member.len());
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u32.to_le_bytes()); // time, date
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(member.name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        let mut local = 0x0403_4b50u32.to_le_bytes().to_vec();
        common(&mut local);
        local.extend_from_slice(member.name.as_bytes());
        out.write_all(&local).unwrap();
        out.write_all(&member.head).unwrap();
        write_fill(out, b'x', member.fill);
        out.write_all(&member.tail).unwrap();
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(member.name.as_bytes());
        offset += local.len() as u32 + size;
    }
    let count = members.len() as u16;
    out.write_all(&central).unwrap();
    let mut end = 0x0605_4b50u32.to_le_bytes().to_vec();
    end.extend_from_slice(&[0; 4]); // disk numbers
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&count.to_le_bytes());
    end.extend_from_slice(&(central.len() as u32).to_le_bytes());
    end.extend_from_slice(&offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.write_all(&end).unwrap();
}

/// The CRC-32 (IEEE) table.
fn crc32_table() -> Vec<u32> {
    (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect()
}

/// Writes one zip member's bytes.
type WriteMember<'a> = &'a mut dyn FnMut(&mut dyn Write);

/// A zip of `members`, each written by its function, deflated as office
/// programs do; big members are streamed, never held here.
fn write_zip(path: &Path, members: &mut [(&str, WriteMember)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for (name, write) in members.iter_mut() {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(true);
        zip.start_file(*name, options).unwrap();
        write(&mut zip);
    }
    zip.finish().unwrap().flush().unwrap();
}

const ODS_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sao ke">"#;
const ODS_TAIL: &str =
    "</table:table></office:spreadsheet></office:body></office:document-content>";

/// An `.ods` whose only sheet holds `rows` (`table:table-row` elements).
fn write_ods(path: &Path, rows: &str) {
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    write_zip(
        path,
        &mut [
            ("mimetype", &mut |out: &mut dyn Write| {
                out.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
                    .unwrap()
            }),
            ("META-INF/manifest.xml", &mut |out: &mut dyn Write| {
                out.write_all(manifest.as_bytes()).unwrap()
            }),
            ("content.xml", &mut |out: &mut dyn Write| {
                write!(out, "{ODS_HEAD}{rows}{ODS_TAIL}").unwrap()
            }),
        ],
    );
}

fn ods_text(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

/// `import donations FILE` into a portal with the fund `quy`.
fn import_measured(portal: &TestPortal, file: &Path) -> Run {
    let key = portal.officer_key.to_str().unwrap();
    let file = file.to_str().unwrap();
    measured(
        portal,
        &["import", "donations", file, "--fund", "quy", "--key", key],
    )
}

/// From the security review: 809 bytes of `.ods`, one row repeated 6,000
/// times with a cell repeated 16,000 times, made calamine build 96 million
/// cells (7.5 GB) before any row was looked at.
#[test]
fn a_small_ods_with_repeated_rows_and_columns_is_refused_in_bounded_memory() {
    let portal = portal_with_fund();
    let ods = portal.dir.path().join("sao-ke.ods");
    let row = r#"<table:table-row table:number-rows-repeated="6000"><table:table-cell office:value-type="string" table:number-columns-repeated="16000"><text:p>Nguyễn Văn An</text:p></table:table-cell></table:table-row>"#;
    write_ods(&ods, row);
    assert!(std::fs::metadata(&ods).unwrap().len() < 2_000);
    let before = portal.snapshot();
    let run = import_measured(&portal, &ods);
    assert_failed(
        &run,
        1,
        &[
            "sao-ke.ods`: bảng tính có hơn 2.000.000 ô khi trải các hàng, cột lặp lại, vượt giới hạn khi nhập",
            "the spreadsheet has more than 2000000 cells once its repeated rows and columns are expanded, over the import limit; split the file",
        ],
        64,
    );
    assert_eq!(portal.snapshot(), before);
}

/// The bound counts what calamine holds, not what the file says it repeats:
/// LibreOffice ends every sheet with a million empty rows of a thousand
/// empty cells, and such a file imports.
#[test]
fn an_ods_with_libreoffices_empty_tail_still_imports() {
    let portal = portal_with_fund();
    let ods = portal.dir.path().join("sao-ke.ods");
    let empty_tail = r#"<table:table-cell table:number-columns-repeated="1020"/>"#;
    let rows = format!(
        r#"<table:table-row>{}{}{}{}{empty_tail}</table:table-row><table:table-row>{}{}<table:table-cell office:value-type="float" office:value="250000"><text:p>250000</text:p></table:table-cell>{}{empty_tail}</table:table-row><table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#,
        ods_text("date"),
        ods_text("ref"),
        ods_text("amount"),
        ods_text("donor"),
        ods_text("12/09/2025"),
        ods_text("FT1"),
        ods_text("Nguyễn Văn An"),
    );
    write_ods(&ods, &rows);
    let run = import_measured(&portal, &ods);
    assert_eq!(run.code, 0, "{}", run.stderr);
    portal
        .run(&["balance"])
        .assert()
        .success()
        .stdout(predicates::str::contains("250.000"));
}

/// A minimal `.xlsx` whose shared strings are written by `shared_strings`
/// and whose sheet's first row holds `cells` naming them.
fn write_xlsx_with_shared_strings(
    path: &Path,
    cells: &str,
    shared_strings: &mut dyn FnMut(&mut dyn Write),
) {
    const NS: &str = "http://schemas.openxmlformats.org";
    let content_types = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{NS}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#
    );
    let rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
    );
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}/spreadsheetml/2006/main" xmlns:r="{NS}/officeDocument/2006/relationships"><sheets><sheet name="Sao ke" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    let workbook_rels = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{NS}/package/2006/relationships"><Relationship Id="rId1" Type="{NS}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{NS}/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
    );
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}/spreadsheetml/2006/main"><sheetData><row r="1">{cells}</row></sheetData></worksheet>"#
    );
    let small = |text: String| move |out: &mut dyn Write| out.write_all(text.as_bytes()).unwrap();
    write_zip(
        path,
        &mut [
            ("[Content_Types].xml", &mut small(content_types)),
            ("_rels/.rels", &mut small(rels)),
            ("xl/workbook.xml", &mut small(workbook)),
            ("xl/_rels/workbook.xml.rels", &mut small(workbook_rels)),
            ("xl/sharedStrings.xml", shared_strings),
            ("xl/worksheets/sheet1.xml", &mut small(sheet)),
        ],
    );
}

/// A cell naming the first shared string.
const A1: &str = r#"<c r="A1" t="s"><v>0</v></c>"#;

const SST_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// From the security review: an 827 KB `.xlsx` with 20 million shared
/// strings took 1 GB, all held by calamine before the first row. Here 3
/// million (a few hundred KB).
#[test]
fn an_xlsx_with_millions_of_shared_strings_is_refused_in_bounded_memory() {
    let portal = portal_with_fund();
    let xlsx = portal.dir.path().join("sao-ke.xlsx");
    write_xlsx_with_shared_strings(&xlsx, A1, &mut |out| {
        out.write_all(SST_HEAD.as_bytes()).unwrap();
        let chunk = "<si><t>x</t></si>".repeat(10_000);
        for _ in 0..300 {
            out.write_all(chunk.as_bytes()).unwrap();
        }
        out.write_all(b"</sst>").unwrap();
    });
    assert!(std::fs::metadata(&xlsx).unwrap().len() < MB as u64);
    let run = import_measured(&portal, &xlsx);
    assert_failed(
        &run,
        1,
        &[
            "sao-ke.xlsx`: bảng tính có hơn 2.000.000 chuỗi dùng chung",
            "the workbook has more than 2000000 shared strings, over the import limit",
        ],
        64,
    );
}

/// A shared string of 300 MB deflates to 300 KB; calamine held it whole
/// (and three times over while reading it).
#[test]
fn an_xlsx_member_inflating_past_the_bound_is_refused_in_bounded_memory() {
    let portal = portal_with_fund();
    let xlsx = portal.dir.path().join("sao-ke.xlsx");
    write_xlsx_with_shared_strings(&xlsx, A1, &mut |out| {
        out.write_all(SST_HEAD.as_bytes()).unwrap();
        out.write_all(b"<si><t>").unwrap();
        write_fill(out, b'x', 300 * MB);
        out.write_all(b"</t></si></sst>").unwrap();
    });
    let run = import_measured(&portal, &xlsx);
    assert_failed(
        &run,
        1,
        &[
            "sao-ke.xlsx`: phần `xl/sharedStrings.xml` của tệp giải nén ra hơn 268.435.456 byte",
            "member `xl/sharedStrings.xml` inflates to more than 268435456 bytes, over the 256 MiB limit of one part of a workbook",
        ],
        64,
    );
}

/// 16,384 cells of a row may each name the same 1 MiB shared string: the row
/// would hold 16 GB of copies. A row's text is bound to 1 MiB, as in a CSV.
#[test]
fn an_xlsx_row_naming_a_big_shared_string_many_times_is_refused() {
    let portal = portal_with_fund();
    let xlsx = portal.dir.path().join("sao-ke.xlsx");
    write_xlsx_with_shared_strings(
        &xlsx,
        &format!("{A1}{}", A1.replace("A1", "B1")),
        &mut |out| {
            out.write_all(SST_HEAD.as_bytes()).unwrap();
            out.write_all(b"<si><t>").unwrap();
            write_fill(out, b'x', 600 << 10);
            out.write_all(b"</t></si></sst>").unwrap();
        },
    );
    let run = import_measured(&portal, &xlsx);
    assert_failed(
        &run,
        1,
        &[
            "sao-ke.xlsx`: hàng 1 có hơn 1.048.576 byte chữ",
            "row 1 holds more than 1048576 bytes of text, over the limit of a row",
        ],
        64,
    );
}
