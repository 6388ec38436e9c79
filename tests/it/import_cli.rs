//! `minhbach import` through the binary: the three documented bank layouts,
//! the default layouts, idempotence, all-or-nothing, rejected rows, debit
//! lines, a BOM, semicolons and .xlsx.

use crate::common;

use common::TestPortal;
use predicates::prelude::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};

const FUND: &str = r#"{"kind":"fund","id":"bao-so-3","name":"Ủng hộ đồng bào bị thiệt hại do bão số 3","description":"Quỹ cứu trợ"}"#;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn mapping(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/import")
        .join(name)
}

/// A portal with one fund, `bao-so-3`.
fn portal() -> TestPortal {
    let portal = TestPortal::new();
    portal.append(FUND).assert().success();
    portal
}

fn import(portal: &TestPortal, what: &str, file: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut args = vec![
        "import",
        what,
        file.to_str().unwrap(),
        "--key",
        portal.officer_key.to_str().unwrap(),
    ];
    if what == "donations" {
        args.extend(["--fund", "bao-so-3"]);
    }
    args.extend(extra);
    portal.run(&args)
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// The rows of a statement's summary line (`… read = A added (…) + R
/// already recorded (…) + D debit lines (…) + Z zero-amount + X rejected
/// (…)`), as `[added, recorded, debits, zero, rejected]`.
fn counts(out: &str) -> [u64; 5] {
    let line = out
        .lines()
        .find(|line| line.contains(" read = "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let parts: Vec<u64> = line
        .split(" read = ")
        .nth(1)
        .unwrap()
        .split(" + ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    parts.try_into().unwrap()
}

/// The donation entries of the ledger, as `(ref, donor, amount, date,
/// description)`.
fn donations(portal: &TestPortal) -> Vec<(String, String, u64, String, Option<String>)> {
    let mut found = Vec::new();
    for segment in std::fs::read_dir(portal.ledger().join("entries")).unwrap() {
        let text = std::fs::read_to_string(segment.unwrap().path()).unwrap();
        for line in text.lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            if entry["kind"] == "donation" {
                assert_eq!(entry["channel"], "bank");
                found.push((
                    entry["ref"].as_str().unwrap_or_default().to_string(),
                    entry["donor"].as_str().unwrap().to_string(),
                    entry["amount"].as_u64().unwrap(),
                    entry["date"].as_str().unwrap().to_string(),
                    entry["description"]
                        .as_str()
                        .or(entry["note"].as_str())
                        .map(str::to_string),
                ));
            }
        }
    }
    found
}

#[test]
fn default_layout_imports_and_a_reimport_adds_nothing() {
    let portal = portal();
    let file = fixture("donations.csv");
    let assert = import(&portal, "donations", &file, &[]).assert().success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [3, 0, 0, 0, 0], "{out}");
    assert!(
        out.contains("fund `bao-so-3`: +1.700.000 ₫ (received 1.700.000 ₫ in all)"),
        "{out}"
    );
    assert!(out.contains("signed checkpoint"), "{out}");
    assert_eq!(
        donations(&portal),
        vec![
            (
                "FT24256001".into(),
                "Nguyễn Văn An".into(),
                500_000,
                "2024-09-12".into(),
                Some("ủng hộ bão số 3".into())
            ),
            (
                "FT24256002".into(),
                "".into(),
                1_000_000,
                "2024-09-12".into(),
                None
            ),
            (
                "FT24256003".into(),
                "Trần Thị Bình".into(),
                200_000,
                "2024-09-12".into(),
                None
            ),
        ]
    );
    portal.run(&["verify"]).assert().success();

    let before = portal.snapshot();
    let assert = import(&portal, "donations", &file, &[]).assert().success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [0, 3, 0, 0, 0], "{out}");
    assert!(out.contains("the ledger is unchanged"), "{out}");
    // The same rows: none told apart by its text (a row's note was).
    assert!(!out.contains("different bank text"), "{out}");
    assert_eq!(
        portal.snapshot(),
        before,
        "a re-import must not touch the ledger"
    );
}

#[test]
fn one_import_is_one_signed_checkpoint() {
    let portal = portal();
    let checkpoints = || {
        std::fs::read_dir(portal.ledger().join("checkpoints"))
            .unwrap()
            .count()
    };
    let before = checkpoints();
    import(
        &portal,
        "donations",
        &fixture("vietcombank.csv"),
        &["--map", mapping("vietcombank.toml").to_str().unwrap()],
    )
    .assert()
    .success();
    assert_eq!(checkpoints(), before + 1);
}

#[test]
fn vietcombank_layout_with_title_rows_debits_and_a_total_row() {
    let portal = portal();
    let map = mapping("vietcombank.toml");
    let assert = import(
        &portal,
        "donations",
        &fixture("vietcombank.csv"),
        &["--map", map.to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [3, 0, 1, 0, 0], "{out}");
    assert!(out.contains("+1.250.000 ₫"), "{out}");
    let found = donations(&portal);
    assert_eq!(found.len(), 3);
    assert_eq!(
        (found[0].1.as_str(), found[0].2, found[0].3.as_str()),
        ("NGUYEN VAN AN", 1_000_000, "2024-09-10")
    );
    assert_eq!(found[1].1, "LE THI HOA");
    assert_eq!(
        (found[2].1.as_str(), found[2].2),
        ("", 200_000),
        "no name in the description: anonymous"
    );
    assert_eq!(
        found[2].4.as_deref(),
        Some("ung ho dong bao mien Bac"),
        "the description is kept whole"
    );
    let again = import(
        &portal,
        "donations",
        &fixture("vietcombank.csv"),
        &["--map", map.to_str().unwrap()],
    )
    .assert()
    .success();
    assert_eq!(counts(&stdout(&again)), [0, 3, 1, 0, 0]);
}

#[test]
fn vietinbank_layout_with_a_bom_times_and_signed_decimal_amounts() {
    let portal = portal();
    assert!(
        std::fs::read(fixture("vietinbank.csv"))
            .unwrap()
            .starts_with(b"\xEF\xBB\xBF")
    );
    let assert = import(
        &portal,
        "donations",
        &fixture("vietinbank.csv"),
        &["--map", mapping("vietinbank.toml").to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [3, 0, 1, 0, 0], "{out}");
    assert!(out.contains("+3.000.000 ₫"), "{out}");
    let found = donations(&portal);
    assert_eq!(
        found
            .iter()
            .map(|d| (d.0.as_str(), d.1.as_str(), d.2, d.3.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("FT24256A0001", "TRAN THI BINH", 400_000, "2024-09-12"),
            (
                "FT24256A0002",
                "CONG TY TNHH AN PHAT",
                2_500_000,
                "2024-09-12"
            ),
            ("FT24256A0004", "", 100_000, "2024-09-12"),
        ]
    );
}

#[test]
fn bidv_layout_with_a_type_column_and_comma_grouping() {
    let portal = portal();
    let assert = import(
        &portal,
        "donations",
        &fixture("bidv.csv"),
        &["--map", mapping("bidv.toml").to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [3, 0, 1, 0, 0], "{out}");
    let found = donations(&portal);
    assert_eq!(
        found
            .iter()
            .map(|d| (d.1.as_str(), d.2))
            .collect::<Vec<_>>(),
        vec![
            ("PHAM MINH DUC", 50_000),
            ("NGO THANH HUONG", 1_000_000),
            ("", 300_000)
        ]
    );
}

/// The BIDV layout as a spreadsheet: typed dates and numbers, text refs.
fn write_bidv_xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Sao ke").unwrap();
    sheet
        .write_string(0, 0, "SAO KÊ TÀI KHOẢN 2151 0000 123456")
        .unwrap();
    let header = [
        "Ngày hiệu lực",
        "Số tham chiếu",
        "Loại GD",
        "Số tiền",
        "Mô tả giao dịch",
    ];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(2, column as u16, *text).unwrap();
    }
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let rows: [(&str, &str, f64, &str); 3] = [
        (
            "2409140001",
            "C",
            750_000.0,
            "IBFT VU THI LAN chuyen tien ung ho",
        ),
        ("2409140002", "D", 11_000.0, "Phi SMS"),
        (
            "2409140003",
            "C",
            5_000_000.0,
            "CONG DOAN TRUONG THPT ung ho bao so 3",
        ),
    ];
    for (index, (reference, kind, amount, description)) in rows.iter().enumerate() {
        let row = 3 + index as u32;
        let date = ExcelDateTime::from_ymd(2024, 9, 14).unwrap();
        sheet
            .write_datetime_with_format(row, 0, &date, &date_format)
            .unwrap();
        sheet.write_string(row, 1, *reference).unwrap();
        sheet.write_string(row, 2, *kind).unwrap();
        sheet.write_number(row, 3, *amount).unwrap();
        sheet.write_string(row, 4, *description).unwrap();
    }
    workbook.save(path).unwrap();
}

#[test]
fn xlsx_statement_imports() {
    let portal = portal();
    let file = portal.dir.path().join("sao-ke.xlsx");
    write_bidv_xlsx(&file);
    let map = mapping("bidv.toml");
    let assert = import(
        &portal,
        "donations",
        &file,
        &["--map", map.to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [2, 0, 1, 0, 0], "{out}");
    assert!(out.contains("+5.750.000 ₫"), "{out}");
    let found = donations(&portal);
    assert_eq!(
        found
            .iter()
            .map(|d| (d.0.as_str(), d.1.as_str(), d.2, d.3.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("2409140001", "VU THI LAN", 750_000, "2024-09-14"),
            (
                "2409140003",
                "CONG DOAN TRUONG THPT",
                5_000_000,
                "2024-09-14"
            ),
        ]
    );
    let again = import(
        &portal,
        "donations",
        &file,
        &["--map", map.to_str().unwrap()],
    )
    .assert()
    .success();
    assert_eq!(counts(&stdout(&again)), [0, 2, 1, 0, 0]);
}

#[test]
fn a_bad_row_refuses_the_whole_file() {
    let portal = portal();
    let before = portal.snapshot();
    import(&portal, "donations", &fixture("bad-row.csv"), &[])
        .assert()
        .code(1)
        .stderr(contains(
            "bad-row.csv` row 3, column `amount`: `1.000,50` has a fraction of a đồng",
        ))
        .stderr(contains("nothing was appended"));
    assert_eq!(portal.snapshot(), before);
}

/// Rows are read a chunk at a time and parsed together: what the officer
/// is told is still what comes first in the file, a refused row before an
/// unreadable one or an unreadable row before a refused one, and an
/// unreadable file imports nothing even with --skip-invalid.
#[test]
fn the_first_problem_in_the_file_is_the_one_named() {
    let portal = portal();
    let before = portal.snapshot();
    let file = portal.dir.path().join("statement.csv");
    let good = |n: u32| format!("12/09/2024,FT2425{n:04},\"500,000\",Nguyễn Văn An,\n");
    let refused = "12/09/2024,FT24250003,\"1.000,50\",Trần Thị Bình,\n";
    let unreadable = b"12/09/2024,FT24250005,\"200,000\",Tr\xe1n,\n";
    let mut refused_first = format!(
        "date,ref,amount,donor,note\n{}{}{refused}{}",
        good(1),
        good(2),
        good(4)
    )
    .into_bytes();
    refused_first.extend_from_slice(unreadable);
    refused_first.extend_from_slice(good(6).as_bytes());
    std::fs::write(&file, &refused_first).unwrap();
    import(&portal, "donations", &file, &[])
        .assert()
        .code(1)
        .stderr(contains(
            "statement.csv` row 4, column `amount`: `1.000,50` has a fraction",
        ))
        .stderr(contains("UTF-8").not());
    let mut unreadable_first = format!("date,ref,amount,donor,note\n{}", good(1)).into_bytes();
    unreadable_first.extend_from_slice(unreadable);
    unreadable_first.extend_from_slice(refused.as_bytes());
    std::fs::write(&file, &unreadable_first).unwrap();
    let rejects = portal.dir.path().join("rejects.csv");
    for extra in [&[][..], &["--skip-invalid", rejects.to_str().unwrap()][..]] {
        import(&portal, "donations", &file, extra)
            .assert()
            .code(2)
            .stderr(contains("statement.csv` row 3, column 4: not UTF-8 text"))
            .stderr(contains("fraction").not());
    }
    assert_eq!(portal.snapshot(), before);
}

/// A statement longer than the rows parsed together (4,096): every row is
/// accounted for in count and đồng, in file order, a refused row in a later
/// chunk is named by its own row number, nothing after the total line is
/// read, and the same file again adds nothing.
#[test]
fn a_long_statement_is_read_in_order_across_chunks() {
    let portal = portal();
    let file = portal.dir.path().join("long.csv");
    let rejects = portal.dir.path().join("rejects.csv");
    let mut text = String::from("date,ref,amount,donor,note\n");
    let (mut credits, mut credited, mut debited) = (Vec::new(), 0u64, 0u64);
    for n in 1..=9_000u64 {
        let amount = 10_000 + n * 7 % 50 * 1_000;
        let reference = format!("FT2425{n:05}");
        if n == 6_001 {
            // Row 6,002 of the file (the header is row 1).
            text.push_str(&format!(
                "12/09/2024,{reference},\"1.000,50\",Trần Thị Bình,\n"
            ));
        } else if n % 1_000 == 0 {
            text.push_str(&format!("12/09/2024,{reference},-{amount},,phí / fee\n"));
            debited += amount;
        } else {
            text.push_str(&format!(
                "12/09/2024,{reference},{amount},Nguyễn Văn An {n},\n"
            ));
            credits.push(reference);
            credited += amount;
        }
    }
    text.push_str("Tổng cộng,,,,\n12/09/2024,FT9999,1000000,after the total,\n");
    std::fs::write(&file, text).unwrap();
    let assert = import(
        &portal,
        "donations",
        &file,
        &["--skip-invalid", rejects.to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [8_990, 0, 9, 0, 1], "{out}");
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert!(rejected.contains("\n6002,amount,"), "{rejected}");
    let found = donations(&portal);
    assert_eq!(
        found.iter().map(|d| &d.0).collect::<Vec<_>>(),
        credits.iter().collect::<Vec<_>>()
    );
    assert_eq!(found.iter().map(|d| d.2).sum::<u64>(), credited);
    assert!(debited > 0);
    portal.run(&["verify"]).assert().success();
    let again = import(
        &portal,
        "donations",
        &file,
        &[
            "--skip-invalid",
            portal.dir.path().join("again.csv").to_str().unwrap(),
        ],
    )
    .assert()
    .success();
    assert_eq!(counts(&stdout(&again)), [0, 8_990, 9, 0, 1]);
}

#[test]
fn skip_invalid_writes_the_rejected_rows_and_imports_the_rest() {
    let portal = portal();
    let rejects = portal.dir.path().join("rejects.csv");
    let assert = import(
        &portal,
        "donations",
        &fixture("some-invalid.csv"),
        &["--skip-invalid", rejects.to_str().unwrap()],
    )
    .assert()
    .success();
    let out = stdout(&assert);
    assert_eq!(counts(&out), [2, 0, 0, 0, 2], "{out}");
    assert!(out.contains("rejects.csv"), "{out}");
    let text = std::fs::read_to_string(&rejects).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "row,column,reason,date,ref,amount,donor,note");
    assert!(
        lines[1].starts_with("3,amount,\"`1.000,50` has a fraction of a đồng"),
        "{text}"
    );
    assert!(
        lines[1].ends_with(",12/09/2024,FT24256202,\"1.000,50\",Trần Thị Bình,"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("4,date,`31/02/2024` is not a date"),
        "{text}"
    );
    assert_eq!(lines.len(), 3, "{text}");
    let refs: Vec<String> = donations(&portal).into_iter().map(|d| d.0).collect();
    assert_eq!(refs, ["FT24256201", "FT24256204"]);
}

#[test]
fn a_debit_only_statement_appends_nothing() {
    let portal = portal();
    let before = portal.snapshot();
    let assert = import(&portal, "donations", &fixture("debit-only.csv"), &[])
        .assert()
        .success()
        .stdout(contains("the ledger is unchanged"));
    assert_eq!(counts(&stdout(&assert)), [0, 0, 1, 0, 0]);
    assert_eq!(portal.snapshot(), before);
}

#[test]
fn usage_errors_exit_2() {
    let portal = portal();
    let file = fixture("donations.csv");
    let key = portal.officer_key.to_str().unwrap().to_string();
    portal
        .run(&[
            "import",
            "donations",
            file.to_str().unwrap(),
            "--key",
            &key,
            "--fund",
            "khong-co",
        ])
        .assert()
        .code(2)
        .stderr(contains("no fund `khong-co`").and(contains("bao-so-3")));
    let bad_map = portal.dir.path().join("bad.toml");
    std::fs::write(&bad_map, "[columns]\nngay = 1\n").unwrap();
    import(
        &portal,
        "donations",
        &file,
        &["--map", bad_map.to_str().unwrap()],
    )
    .assert()
    .code(2)
    .stderr(contains("unknown column `ngay`"));
    import(
        &portal,
        "donations",
        &portal.dir.path().join("missing.csv"),
        &[],
    )
    .assert()
    .code(2)
    .stderr(contains("missing.csv"));
}

#[test]
fn a_file_without_the_columns_names_what_is_missing() {
    let portal = portal();
    let file = portal.dir.path().join("odd.csv");
    std::fs::write(&file, "a,b,c\n1,2,3\n").unwrap();
    import(&portal, "donations", &file, &[])
        .assert()
        .code(1)
        .stderr(contains("no header row found").and(contains("no `date` column")));
}

#[test]
fn households_import_with_default_and_vietnamese_headers() {
    let portal = portal();
    let assert = import(&portal, "households", &fixture("households.csv"), &[])
        .assert()
        .success();
    let out = stdout(&assert);
    assert!(
        out.contains("2 rows added, 0 duplicates skipped, 0 rejected"),
        "{out}"
    );
    assert!(
        out.contains("households: 1 new house, 1 repair, 90.000.000 ₫ planned"),
        "{out}"
    );
    let assert = import(&portal, "households", &fixture("households-vi.csv"), &[])
        .assert()
        .success();
    assert!(stdout(&assert).contains("2 rows added"));
    let ledger = std::fs::read_to_string(portal.segment()).unwrap();
    assert!(ledger.contains(r#""id":"qt-0201","head":"Pả Văn Lìn","province":"Quảng Trị","commune":"xã Hướng Lập","village":"bản Cù Bai","circumstances":"Hộ nghèo","support":"new","planned":60000000"#), "{ledger}");
    assert!(ledger.contains(r#""id":"qt-0101""#) && ledger.contains(r#""photo_consent":true"#));
    for private in ["045190000101", "0912000101", "045190000202"] {
        assert!(!ledger.contains(private), "{private} must never be stored");
    }
    let before = portal.snapshot();
    import(&portal, "households", &fixture("households.csv"), &[])
        .assert()
        .success()
        .stdout(contains("0 rows added, 2 duplicates skipped"));
    assert_eq!(portal.snapshot(), before);
    portal.run(&["verify"]).assert().success();
}

#[test]
fn a_citizen_id_registered_twice_is_refused_by_row_and_column() {
    let portal = portal();
    import(&portal, "households", &fixture("households.csv"), &[])
        .assert()
        .success();
    let file = portal.dir.path().join("again.csv");
    std::fs::write(
        &file,
        "id,head,province,commune,circumstances,support,planned,citizen_id\nqt-0999,Hồ Văn Tâm,Quảng Trị,xã Hướng Phùng,,sửa chữa,30.000.000,045 190 000 101\n",
    )
    .unwrap();
    import(&portal, "households", &file, &[])
        .assert()
        .code(1)
        .stderr(contains(
            "row 2, column `citizen_id`: this citizen ID is already registered",
        ));
}

#[test]
fn households_from_xlsx_keep_leading_zeros_of_numeric_ids() {
    use rust_xlsxwriter::Workbook;
    let portal = portal();
    let file = portal.dir.path().join("danh-sach.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let header = [
        "Mã hộ",
        "Chủ hộ",
        "Tỉnh",
        "Xã",
        "Hoàn cảnh",
        "Hình thức hỗ trợ",
        "Kinh phí",
        "CCCD",
        "SĐT",
    ];
    for (column, text) in header.iter().enumerate() {
        sheet.write_string(0, column as u16, *text).unwrap();
    }
    let cells = [
        "qt-0301",
        "Nguyễn Thị Hà",
        "Quảng Trị",
        "xã Gio Linh",
        "Nhà bị tốc mái",
        "sửa chữa",
    ];
    for (column, text) in cells.iter().enumerate() {
        sheet.write_string(1, column as u16, *text).unwrap();
    }
    sheet.write_number(1, 6, 30_000_000.0).unwrap();
    sheet.write_number(1, 7, 45_190_000_301.0).unwrap();
    sheet.write_number(1, 8, 912_000_301.0).unwrap();
    workbook.save(&file).unwrap();
    import(&portal, "households", &file, &[])
        .assert()
        .success()
        .stdout(contains("1 row added"));
    let ledger = std::fs::read_to_string(portal.segment()).unwrap();
    assert!(
        ledger.contains("citizen_id_hmac") && !ledger.contains("citizen_id_last4"),
        "{ledger}"
    );
}

#[test]
fn default_headers_are_found_below_title_rows_and_the_total_row_ends_the_data() {
    let portal = portal();
    let assert = import(&portal, "donations", &fixture("vietcombank.csv"), &[])
        .assert()
        .success();
    assert_eq!(counts(&stdout(&assert)), [3, 0, 1, 0, 0]);
}

/// A refusal only the ledger makes (an id that is not a slug) still names
/// the row and column, and with --skip-invalid is set aside like the others;
/// the row after it takes its entry number (entries are made ready ahead,
/// numbered as if every one were taken).
#[test]
fn a_row_the_ledger_refuses_is_named_or_set_aside() {
    let portal = portal();
    let file = portal.dir.path().join("roster.csv");
    std::fs::write(
        &file,
        "id,head,province,commune,circumstances,support,planned,citizen_id\n\
         qt-0401,Lê Văn Tư,Quảng Trị,xã Cam Lộ,,new,60000000,045190000401\n\
         QT 0402,Lê Văn Năm,Quảng Trị,xã Cam Lộ,,repair,30000000,045190000402\n\
         qt-0403,Lê Văn Sáu,Quảng Trị,xã Cam Lộ,,repair,20000000,045190000403\n",
    )
    .unwrap();
    let before = portal.snapshot();
    import(&portal, "households", &file, &[])
        .assert()
        .code(1)
        .stderr(contains(
            "roster.csv` row 3, column `id`: `qt 0402` is not an id",
        ))
        .stderr(contains("nothing was appended"));
    assert_eq!(portal.snapshot(), before);
    let rejects = portal.dir.path().join("rejects.csv");
    import(
        &portal,
        "households",
        &file,
        &["--skip-invalid", rejects.to_str().unwrap()],
    )
    .assert()
    .success()
    .stdout(contains("2 rows added, 0 duplicates skipped, 1 rejected"));
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(text.contains("\n3,id,"), "{text}");
    assert!(text.contains("QT 0402,Lê Văn Năm"), "{text}");
    portal.run(&["verify"]).assert().success();
    let entries = std::fs::read_to_string(portal.segment()).unwrap();
    let last: Vec<&str> = entries.lines().rev().take(2).collect();
    assert!(last[0].contains("\"id\":\"qt-0403\""), "{entries}");
    assert!(last[1].contains("\"id\":\"qt-0401\""), "{entries}");
}
