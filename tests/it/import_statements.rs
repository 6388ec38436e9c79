//! `minhbach import donations` on statements shaped like real ones: dates
//! without a year, one-digit hours, row numbers restarting per file, bank
//! numbers reused on other days, identical rows, zero amounts, long and
//! badly spaced descriptions, a fund with two accounts, and a statement
//! re-issued for an overlapping period with masked and extended texts.
//! Every row read is accounted for (`--report`), and the files an import
//! writes never land inside the portal or over another file.

use crate::common;

use common::{TestPortal, page_file};
use minhbach::site::routes;
use predicates::str::contains;
use std::path::{Path, PathBuf};

const FUND: &str = r#"{"kind":"fund","id":"yagi","name":"Ủng hộ đồng bào bị ảnh hưởng bão Yagi","description":"","accounts":[{"bank_bin":"970436","number":"0011001932418","holder":"MTTQ VIET NAM"},{"bank_bin":"970415","number":"1122334455","holder":"MTTQ VIET NAM"}]}"#;
const ACCOUNT: &str = "0011001932418";
const OTHER_ACCOUNT: &str = "1122334455";

fn pdf_mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/import/sao-ke-pdf.toml")
}

fn portal() -> TestPortal {
    let portal = TestPortal::new();
    portal.append(FUND).assert().success();
    portal
}

/// A statement in the volunteers' layout, `date,bank,id,money,desc,page`.
fn statement(portal: &TestPortal, name: &str, rows: &[(&str, &str, &str, &str)]) -> PathBuf {
    let mut text = String::from("date,bank,id,money,desc,page\n");
    for (date, id, money, desc) in rows {
        text.push_str(&format!("{date},VCB,{id},\"{money}\",\"{desc}\",1\n"));
    }
    let path = portal.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn write(portal: &TestPortal, name: &str, text: &str) -> PathBuf {
    let path = portal.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn import(
    portal: &TestPortal,
    file: &Path,
    map: Option<&Path>,
    extra: &[&str],
) -> assert_cmd::Command {
    let mut args = vec![
        "import".to_string(),
        "donations".into(),
        file.to_str().unwrap().into(),
        "--key".into(),
        portal.officer_key.to_str().unwrap().into(),
        "--fund".into(),
        "yagi".into(),
    ];
    if let Some(map) = map {
        args.extend(["--map".into(), map.to_str().unwrap().into()]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    portal.run(&args)
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// The summary line: rows and đồng of `read`, then of added, already
/// recorded, debit lines, zero amounts and rejected.
fn summary(out: &str) -> ((u64, u64), [(u64, u64); 5]) {
    let line = out
        .lines()
        .find(|line| line.contains(" read = "))
        .unwrap_or_else(|| panic!("no summary in {out}"));
    let parse = |part: &str| {
        let rows: u64 = part.split(' ').next().unwrap().parse().unwrap();
        let dong: u64 = part
            .split_once('(')
            .map(|(_, rest)| {
                rest.split(' ')
                    .next()
                    .unwrap()
                    .replace('.', "")
                    .parse()
                    .unwrap()
            })
            .unwrap_or(0);
        (rows, dong)
    };
    let (read, parts) = line.split_once(" read = ").unwrap();
    let read = parse(read.rsplit(": ").next().unwrap());
    let parts: Vec<(u64, u64)> = parts.split(" + ").map(parse).collect();
    (read, parts.try_into().unwrap())
}

fn counts(out: &str) -> [u64; 5] {
    summary(out).1.map(|(rows, _)| rows)
}

/// Every donation of the ledger as JSON values.
fn donations(portal: &TestPortal) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let mut segments: Vec<PathBuf> = std::fs::read_dir(portal.ledger().join("entries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segments.sort();
    for segment in segments {
        for line in std::fs::read_to_string(segment).unwrap().lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap();
            if entry["kind"] == "donation" {
                found.push(entry);
            }
        }
    }
    found
}

fn total(portal: &TestPortal) -> u64 {
    donations(portal)
        .iter()
        .map(|d| d["amount"].as_u64().unwrap())
        .sum()
}

#[test]
fn dates_without_a_year_and_one_digit_hours_take_the_mapping_year() {
    let portal = portal();
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[
            (
                "01/09 10:27:58",
                "1",
                "500.000",
                "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho",
            ),
            (
                "10/09 0:54:04",
                "2",
                "200.000",
                "IBFT TRAN MINH CHAU chuyen khoan ung ho",
            ),
            ("09/09", "3", "100.000", "Ung ho dong bao"),
        ],
    );
    let no_year = write(
        &portal,
        "no-year.toml",
        "[columns]\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n",
    );
    import(&portal, &file, Some(&no_year), &["--account", ACCOUNT])
        .assert()
        .code(1)
        .stderr(contains("`01/09 10:27:58` is not a date"))
        .stderr(contains("needs `year = …` in the mapping"));
    let assert = import(
        &portal,
        &file,
        Some(&pdf_mapping()),
        &["--account", ACCOUNT],
    )
    .assert()
    .success();
    assert_eq!(counts(&stdout(&assert)), [3, 0, 0, 0, 0]);
    let found = donations(&portal);
    let seen: Vec<(&str, Option<&str>, &str)> = found
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap(),
                d["booking_time"].as_str(),
                d["donor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("2024-09-01", Some("10:27:58"), "NGUYEN VAN AN"),
            ("2024-09-10", Some("00:54:04"), "TRAN MINH CHAU"),
            ("2024-09-09", None, ""),
        ]
    );
    // Row numbers are never recorded; the account and the bank's text are.
    assert!(found.iter().all(|d| d.get("ref").is_none()));
    assert!(found.iter().all(|d| d["account"] == ACCOUNT));
    assert_eq!(found[2]["description"], "Ung ho dong bao");
    portal.run(&["verify"]).assert().success();
}

#[test]
fn a_bank_number_reused_on_another_day_is_another_transfer() {
    let portal = portal();
    let daily = write(
        &portal,
        "daily.toml",
        "year = 2024\nref_kind = \"daily\"\n[columns]\ndate = \"date\"\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n",
    );
    let rows = [
        (
            "01/09 08:00:00",
            "5213",
            "25.000.000",
            "CONG TY AN PHAT ung ho",
        ),
        ("03/09 09:10:11", "5213", "300.000", "LE VAN BA ung ho"),
        ("03/09 09:10:11", "5214", "300.000", "Ung ho"),
        ("03/09 09:10:11", "5215", "300.000", "Ung ho"),
        ("07/09 17:00:00", "5213", "1.000.000", "PHAM THI CUC ung ho"),
    ];
    let file = statement(&portal, "sao-ke.csv", &rows);
    let assert = import(&portal, &file, Some(&daily), &["--account", ACCOUNT])
        .assert()
        .success();
    assert_eq!(counts(&stdout(&assert)), [5, 0, 0, 0, 0]);
    assert_eq!(total(&portal), 26_900_000);
    let again = import(&portal, &file, Some(&daily), &["--account", ACCOUNT])
        .assert()
        .success();
    assert_eq!(counts(&stdout(&again)), [0, 5, 0, 0, 0]);
    assert_eq!(total(&portal), 26_900_000);
    // The same number twice on one day and account is one transfer: the
    // ledger refuses the second, naming the row.
    let twice = statement(
        &portal,
        "twice.csv",
        &[
            ("08/09 10:00:00", "77", "100.000", "Ung ho"),
            ("08/09 11:00:00", "77", "200.000", "Ung ho"),
        ],
    );
    import(&portal, &twice, Some(&daily), &["--account", ACCOUNT])
        .assert()
        .code(1)
        .stderr(contains(
            "twice.csv` row 3, column `id`: bank reference `77` is already recorded",
        ));
}

#[test]
fn row_numbers_restarting_in_a_second_file_of_one_account_lose_nothing() {
    let portal = portal();
    // No ref_kind: a column counting 1, 2, 3 … is taken as row numbers.
    let map = write(
        &portal,
        "map.toml",
        "year = 2024\n[columns]\ndate = \"date\"\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n",
    );
    let first = statement(
        &portal,
        "a.csv",
        &[
            ("01/09 08:00:00", "1", "100.000", "Ung ho"),
            ("01/09 08:05:00", "2", "200.000", "Ung ho"),
            ("01/09 08:10:00", "3", "300.000", "Ung ho"),
        ],
    );
    let second = statement(
        &portal,
        "b.csv",
        &[
            ("02/09 08:00:00", "1", "100.000", "Ung ho"),
            ("02/09 08:05:00", "2", "200.000", "Ung ho"),
        ],
    );
    let out = stdout(
        &import(&portal, &first, Some(&map), &["--account", ACCOUNT])
            .assert()
            .success(),
    );
    assert_eq!(counts(&out), [3, 0, 0, 0, 0]);
    assert!(
        out.contains("column `id` counts 1, 2, 3 …: taken as row numbers"),
        "{out}"
    );
    let out = stdout(
        &import(&portal, &second, Some(&map), &["--account", ACCOUNT])
            .assert()
            .success(),
    );
    assert_eq!(counts(&out), [2, 0, 0, 0, 0], "{out}");
    assert_eq!(total(&portal), 900_000);
}

/// The second statement covers 10–17 September, the first 1–12: the
/// overlap is written with masked account numbers, appended text, one-digit
/// hours and its own row numbers. Only 13–17 September is new.
#[test]
fn overlapping_statement_adds_only_new_transfers() {
    let portal = portal();
    let first = statement(
        &portal,
        "1-12.csv",
        &[
            (
                "01/09 10:27:58",
                "1",
                "500.000",
                "TKThe :0491000012345 tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho",
            ),
            (
                "10/09 00:54:04",
                "2",
                "200.000",
                "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho",
            ),
            ("11/09 23:08:17", "3", "50.000", "Ung ho"),
            ("11/09 23:08:17", "4", "50.000", "Ung ho"),
            (
                "12/09 07:00:00",
                "5",
                "1.000.000",
                "IBFT TRAN MINH CHAU chuyen khoan ung ho",
            ),
        ],
    );
    let second = statement(
        &portal,
        "10-17.csv",
        &[
            (
                "10/09 0:54:04",
                "1",
                "200.000",
                "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho.CT tu 0491000012xxx toi - CTLNHIDI000123; thoi gian GD:10/09/2024 0:",
            ),
            ("11/09 23:08:17", "2", "50.000", "Ung ho"),
            ("11/09 23:08:17", "3", "50.000", "Ung ho"),
            (
                "12/09 7:00:00",
                "4",
                "1.000.000",
                "IBFT TRAN MINH CHAU chuyen khoan ung ho",
            ),
            (
                "13/09 9:00:00",
                "5",
                "2.000.000",
                "LE THI MAI UNG HO BA CON LU LUT FT24256123456789 -CTLNHIDI000124",
            ),
            ("17/09 21:15:00", "6", "50.000", "Ung ho"),
        ],
    );
    let map = pdf_mapping();
    import(&portal, &first, Some(&map), &["--account", ACCOUNT])
        .assert()
        .success();
    assert_eq!(total(&portal), 1_800_000);
    let report = portal.dir.path().join("bao-cao.csv");
    let out = stdout(
        &import(
            &portal,
            &second,
            Some(&map),
            &["--account", ACCOUNT, "--report", report.to_str().unwrap()],
        )
        .assert()
        .success(),
    );
    let ((read, read_dong), parts) = summary(&out);
    assert_eq!((read, read_dong), (6, 3_350_000), "{out}");
    assert_eq!(parts[0], (2, 2_050_000), "added: {out}");
    assert_eq!(parts[1], (4, 1_300_000), "already recorded: {out}");
    assert!(
        out.contains("1 of the rows already recorded have a different bank text"),
        "{out}"
    );
    assert_eq!(total(&portal), 3_850_000);
    let added: Vec<String> = donations(&portal)[5..]
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["date"].as_str().unwrap(),
                d["donor"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(added, ["2024-09-13 LE THI MAI", "2024-09-17 "]);
    // The report pairs each recorded row with its entry, one to one.
    let text = std::fs::read_to_string(&report).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "row,outcome,column,reason,entry,date,bank,id,money,desc,page"
    );
    assert!(
        lines[1].starts_with(
            "2,recorded,,already recorded; the bank's text differs from the entry's,4,10/09 0:54:04"
        ),
        "{text}"
    );
    assert!(
        lines[2].starts_with("3,recorded,,already recorded,5,"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("4,recorded,,already recorded,6,"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("5,recorded,,already recorded,7,"),
        "{text}"
    );
    assert_eq!(lines.len(), 5, "{text}");
    // Importing either again adds nothing.
    for file in [&first, &second] {
        let out = stdout(
            &import(&portal, file, Some(&map), &["--account", ACCOUNT])
                .assert()
                .success(),
        );
        assert_eq!(counts(&out)[0], 0, "{out}");
    }
    portal.run(&["verify"]).assert().success();
}

#[test]
fn identical_transfers_on_one_statement_both_count() {
    let portal = portal();
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[
            ("05/09 12:00:00", "1", "100.000", "Ung ho"),
            ("05/09 12:00:00", "2", "100.000", "Ung ho"),
            ("05/09 12:00:00", "3", "100.000", "Ung ho"),
        ],
    );
    let map = pdf_mapping();
    let out = stdout(
        &import(&portal, &file, Some(&map), &["--account", ACCOUNT])
            .assert()
            .success(),
    );
    assert_eq!(counts(&out), [3, 0, 0, 0, 0]);
    let out = stdout(
        &import(&portal, &file, Some(&map), &["--account", ACCOUNT])
            .assert()
            .success(),
    );
    assert_eq!(counts(&out), [0, 3, 0, 0, 0]);
    assert_eq!(total(&portal), 300_000);
}

#[test]
fn two_accounts_of_one_fund_never_take_each_others_transfers() {
    let portal = portal();
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[("05/09 12:00:00", "1", "100.000", "Ung ho")],
    );
    let map = pdf_mapping();
    let before = portal.snapshot();
    import(&portal, &file, Some(&map), &[])
        .assert()
        .code(2)
        .stderr(contains(
            "receives through several accounts (0011001932418, 1122334455); say which one",
        ));
    import(&portal, &file, Some(&map), &["--account", "999"])
        .assert()
        .code(2)
        .stderr(contains("`999` is not an account of fund `yagi`"));
    assert_eq!(portal.snapshot(), before);
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        let out = stdout(
            &import(&portal, &file, Some(&map), &["--account", account])
                .assert()
                .success(),
        );
        assert_eq!(counts(&out), [1, 0, 0, 0, 0], "{account}: {out}");
    }
    let accounts: Vec<String> = donations(&portal)
        .iter()
        .map(|d| d["account"].as_str().unwrap().into())
        .collect();
    assert_eq!(accounts, [ACCOUNT, OTHER_ACCOUNT]);
    // The fund's page shows what each account received, and each
    // donation's bank text.
    portal.run(&["build"]).assert().success();
    let page = std::fs::read_to_string(
        portal
            .root()
            .join("public")
            .join(page_file(&routes::fund("yagi"))),
    )
    .unwrap();
    assert!(page.contains("Theo tài khoản nhận"), "{page}");
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        assert!(
            page.contains(&format!(
                "<tr><th scope=\"row\"><code>{account}</code></th><td>MTTQ VIET NAM</td><td class=\"num\">1</td>"
            )),
            "{page}"
        );
    }
    assert!(page.contains("<small>Ung ho</small>"), "{page}");
    // A donation appended by hand to an account the fund does not have is refused.
    portal
        .append(r#"{"kind":"donation","fund":"yagi","donor":"","amount":1,"date":"2024-09-05","channel":"bank","account":"42"}"#)
        .assert()
        .code(1)
        .stderr(contains("field `account`: fund `yagi` has no account `42`"));
}

#[test]
fn zero_amount_lines_are_skipped_and_counted() {
    let portal = portal();
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[
            ("05/09 12:00:00", "1", "100.000", "Ung ho"),
            ("05/09 12:01:00", "2", "0", "Phi quan ly"),
            ("05/09 12:02:00", "3", "-20.000", "Phi chuyen tien"),
        ],
    );
    let out = stdout(
        &import(
            &portal,
            &file,
            Some(&pdf_mapping()),
            &["--account", ACCOUNT],
        )
        .assert()
        .success(),
    );
    let ((read, read_dong), parts) = summary(&out);
    assert_eq!((read, read_dong), (3, 120_000));
    assert_eq!(
        parts,
        [(1, 100_000), (0, 0), (1, 20_000), (1, 0), (0, 0)],
        "{out}"
    );
}

#[test]
fn long_badly_spaced_descriptions_are_normalised_not_refused() {
    let portal = portal();
    // A space falls exactly on character 200 of the description.
    let long = format!(
        "{} {}  ung ho   dong bao  ",
        "x".repeat(199),
        "y".repeat(60)
    );
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[("05/09 12:00:00", "1", "100.000", &format!("  {long}"))],
    );
    let map = write(
        &portal,
        "map.toml",
        "year = 2024\nref_kind = \"row\"\ndonor_fallback = \"description\"\ndonor_pattern = '^(?P<donor>NOBODY)'\n[columns]\ndate = \"date\"\nref = \"id\"\namount = \"money\"\ndescription = \"desc\"\n",
    );
    let out = stdout(
        &import(&portal, &file, Some(&map), &["--account", ACCOUNT])
            .assert()
            .success(),
    );
    assert_eq!(counts(&out), [1, 0, 0, 0, 0], "{out}");
    let found = donations(&portal);
    assert_eq!(found[0]["donor"], "x".repeat(199));
    assert_eq!(
        found[0]["description"],
        format!("{} {} ung ho dong bao", "x".repeat(199), "y".repeat(60))
    );
}

/// Every row read is added, already recorded, a debit, a zero or rejected,
/// in rows and in đồng, and `--report` lists each one not added.
#[test]
fn the_summary_reconciles_every_row_to_the_dong() {
    let portal = portal();
    let map = pdf_mapping();
    let first = statement(
        &portal,
        "a.csv",
        &[("05/09 12:00:00", "1", "700.000", "Ung ho")],
    );
    import(&portal, &first, Some(&map), &["--account", ACCOUNT])
        .assert()
        .success();
    let file = statement(
        &portal,
        "b.csv",
        &[
            ("05/09 12:00:00", "1", "700.000", "Ung ho"),
            ("05/09 12:01:00", "2", "150.000", "Ung ho"),
            ("05/09 12:02:00", "3", "0", "Phi"),
            ("05/09 12:03:00", "4", "-30.000", "Phi"),
            (
                "31/02 12:04:00",
                "5",
                "90.000",
                "=HYPERLINK(\"\"http://x.example\"\",\"\"Xem\"\")",
            ),
            ("05/09 12:05:00", "6", "1.000,50", "Ung ho"),
        ],
    );
    let rejects = portal.dir.path().join("rejects.csv");
    let report = portal.dir.path().join("report.csv");
    let out = stdout(
        &import(
            &portal,
            &file,
            Some(&map),
            &[
                "--account",
                ACCOUNT,
                "--skip-invalid",
                rejects.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        )
        .assert()
        .success(),
    );
    let ((read, read_dong), parts) = summary(&out);
    assert_eq!(
        parts,
        [(1, 150_000), (1, 700_000), (1, 30_000), (1, 0), (2, 90_000)],
        "{out}"
    );
    assert_eq!(read, parts.iter().map(|p| p.0).sum::<u64>(), "{out}");
    assert_eq!(read_dong, parts.iter().map(|p| p.1).sum::<u64>(), "{out}");
    assert_eq!((read, read_dong), (6, 970_000));
    let text = std::fs::read_to_string(&report).unwrap();
    let outcomes: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["recorded", "zero", "debit", "rejected", "rejected"],
        "{text}"
    );
    // The sender's memo is a formula: shown as text in both files.
    for file in [&rejects, &report] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains("'=HYPERLINK("), "{text}");
        assert!(
            !text.contains(",=HYPERLINK(") && !text.contains("\"=HYPERLINK("),
            "{text}"
        );
    }
}

#[test]
fn import_files_are_never_written_inside_the_portal_or_over_a_file() {
    let portal = portal();
    let file = statement(
        &portal,
        "sao-ke.csv",
        &[("05/09 12:00:00", "1", "1.000,50", "Ung ho")],
    );
    let map = pdf_mapping();
    let segment = portal.ledger().join("entries/000000.jsonl");
    let before = portal.snapshot();
    for (option, target) in [
        ("--skip-invalid", segment.clone()),
        ("--report", segment.clone()),
        ("--skip-invalid", portal.root().join("public/x.csv")),
        ("--report", portal.root().join("content/x.csv")),
    ] {
        import(
            &portal,
            &file,
            Some(&map),
            &["--account", ACCOUNT, option, target.to_str().unwrap()],
        )
        .assert()
        .code(2)
        .stderr(contains("refusing to write the"));
        assert_eq!(portal.snapshot(), before, "{option} {}", target.display());
    }
    let existing = portal.dir.path().join("rejects.csv");
    std::fs::write(&existing, "giữ nguyên").unwrap();
    for option in ["--skip-invalid", "--report"] {
        import(
            &portal,
            &file,
            Some(&map),
            &["--account", ACCOUNT, option, existing.to_str().unwrap()],
        )
        .assert()
        .code(2)
        .stderr(contains("already exists; name a new file"));
    }
    import(
        &portal,
        &file,
        Some(&map),
        &[
            "--account",
            ACCOUNT,
            "--skip-invalid",
            file.to_str().unwrap(),
        ],
    )
    .assert()
    .code(2);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "giữ nguyên");
    assert_eq!(portal.snapshot(), before);
}

use crate::generator;

/// The realistic generator's six statements of three accounts (overlapping
/// re-issue, daily numbers, restarting row numbers, identical rows, zero and
/// debit lines), imported in order: exactly the true transfers are recorded,
/// and no donor gets another person's name.
#[test]
fn generated_real_statements_record_every_transfer_once() {
    let portal = TestPortal::new();
    let generated = generator::generate(600, 7);
    let accounts: Vec<String> = generator::ACCOUNTS
        .iter()
        .map(|(bin, number, _)| {
            format!(r#"{{"bank_bin":"{bin}","number":"{number}","holder":"MTTQ"}}"#)
        })
        .collect();
    portal
        .append(&format!(
            r#"{{"kind":"fund","id":"yagi","name":"Yagi","description":"","accounts":[{}]}}"#,
            accounts.join(",")
        ))
        .assert()
        .success();
    let row_map = write(&portal, "row.toml", generator::ROW_MAPPING);
    let daily_map = write(&portal, "daily.toml", generator::DAILY_MAPPING);
    for statement in &generated.statements {
        let file = write(&portal, &statement.file, &statement.text);
        let map = if statement.daily {
            &daily_map
        } else {
            &row_map
        };
        let out = stdout(
            &import(
                &portal,
                &file,
                Some(map),
                &["--account", generator::ACCOUNTS[statement.account].1],
            )
            .assert()
            .success(),
        );
        let ((read, read_dong), parts) = summary(&out);
        assert_eq!(read as usize, statement.rows.len(), "{out}");
        assert_eq!(read, parts.iter().map(|p| p.0).sum::<u64>(), "{out}");
        assert_eq!(read_dong, parts.iter().map(|p| p.1).sum::<u64>(), "{out}");
    }
    let found: Vec<[String; 6]> = donations(&portal)
        .iter()
        .map(|d| {
            let text = |field: &str| d[field].as_str().unwrap_or_default().to_string();
            [
                text("account"),
                text("date"),
                text("booking_time"),
                d["amount"].to_string(),
                text("description"),
                text("donor"),
            ]
        })
        .collect();
    let score = generator::compare(&generated, &found);
    assert_eq!(
        (score.recorded, score.recorded_dong),
        (score.transfers, score.dong),
        "{score}"
    );
    assert_eq!(score.unmatched, 0, "{score}");
    assert_eq!(score.names_wrong, 0, "{score}");
    assert!(score.names_right * 10 >= score.named * 8, "{score}");
    assert_eq!(score.anonymous_right, score.anonymous, "{score}");
    portal.run(&["verify"]).assert().success();
}

/// A ledger written before funds had several accounts (one `account`) and
/// before donations recorded theirs and their booking time: re-importing
/// the statement its donations came from adds nothing, and the old form
/// still verifies unchanged.
#[test]
fn donations_recorded_before_accounts_and_times_are_still_found() {
    let portal = TestPortal::new();
    portal
        .append(concat!(
            r#"{"kind":"fund","id":"yagi","name":"Yagi","description":"","account":{"bank_bin":"970436","number":"0011001932418","holder":"MTTQ"}}"#,
            "\n",
            r#"{"kind":"donation","fund":"yagi","donor":"","amount":500000,"date":"2024-09-12","channel":"bank","ref":"FT24256001","note":"ung ho"}"#,
        ))
        .assert()
        .success();
    let file = write(
        &portal,
        "sao-ke.csv",
        "date,ref,amount,description\n12/09/2024 10:15:32,FT24256001,500.000,ung ho\n12/09/2024 10:16:00,FT24256002,200.000,ung ho\n",
    );
    let out = stdout(&import(&portal, &file, None, &[]).assert().success());
    assert_eq!(counts(&out), [1, 1, 0, 0, 0], "{out}");
    let added = &donations(&portal)[1];
    assert_eq!(
        added["account"], ACCOUNT,
        "the fund's only account is recorded"
    );
    assert_eq!(added["booking_time"], "10:16:00");
    portal.run(&["verify"]).assert().success();
}
