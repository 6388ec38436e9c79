//! The ledger through the binary: exit codes, messages and files, as an
//! officer and an auditor see them.

use crate::common;

use common::{SAMPLE, TestPortal, minhbach};
use predicates::prelude::*;
use predicates::str::contains;
use std::fs;

#[test]
fn init_makes_a_verifiable_portal_and_a_private_key() {
    let portal = TestPortal::new();
    for path in [
        "config.toml",
        "content/_index.md",
        "themes/default/theme.toml",
        "ledger/checkpoint",
        "ledger/entries/000000.jsonl",
        ".minhbach/secret",
    ] {
        assert!(portal.root().join(path).exists(), "{path}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&portal.admin_key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = fs::metadata(portal.root().join(".minhbach/secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let vkey = fs::read_to_string(portal.admin_key.with_extension("key.pub")).unwrap();
    assert!(
        vkey.starts_with("admin+") && vkey.trim().split('+').nth(1).unwrap().len() == 8,
        "{vkey}"
    );
    let genesis = fs::read_to_string(portal.segment()).unwrap();
    assert!(genesis.starts_with(r#"{"seq":0,"time":"2025-09-12T08:00:00Z","signer":"admin","kind":"key","action":"admit","name":"admin""#), "{genesis}");
    assert!(genesis.contains(vkey.trim()));
    let checkpoint = fs::read_to_string(portal.ledger().join("checkpoint")).unwrap();
    assert!(
        checkpoint.starts_with("test.minhbach.example/ledger\n2\n"),
        "{checkpoint}"
    );
    assert!(
        checkpoint.contains("\n\n— canbo ") || checkpoint.contains("\n\n— admin "),
        "{checkpoint}"
    );
    portal
        .run(&["verify"])
        .assert()
        .success()
        .stdout(contains("ok: 2 entries, 2 signed checkpoints"));
}

#[test]
fn key_new_prints_the_verifier_key_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.key");
    let assert = minhbach()
        .args(["key", "new", "--name", "canbo-x", "--out"])
        .arg(&out)
        .assert()
        .success();
    let printed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(
        printed,
        fs::read_to_string(dir.path().join("a.key.pub")).unwrap()
    );
    assert!(
        fs::read_to_string(&out)
            .unwrap()
            .starts_with("PRIVATE+KEY+canbo-x+")
    );
    minhbach()
        .args(["key", "new", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("already exists"));
    minhbach()
        .args(["key", "new", "--name", "bad name", "--out"])
        .arg(dir.path().join("b.key"))
        .assert()
        .code(2);
}

#[test]
fn private_keys_are_refused_inside_published_folders() {
    let portal = TestPortal::new();
    for folder in ["ledger", "content", "public", "static"] {
        let target = portal.root().join(folder).join("k.key");
        minhbach()
            .args(["key", "new", "--out"])
            .arg(&target)
            .assert()
            .code(2)
            .stderr(contains(format!("`{folder}/`")));
        assert!(!target.exists());
    }
    let dir = tempfile::tempdir().unwrap();
    minhbach()
        .arg("init")
        .arg(dir.path().join("p"))
        .arg("--key")
        .arg(dir.path().join("p/ledger/admin.key"))
        .assert()
        .code(2)
        .stderr(contains("refusing"));
    assert!(!dir.path().join("p").exists());
}

#[test]
fn append_stores_entries_and_never_private_values() {
    let portal = TestPortal::new();
    portal
        .append(SAMPLE)
        .assert()
        .success()
        .stdout(contains("appended entries 2–7"));
    let ledger_bytes: Vec<u8> = common::snapshot(&portal.ledger())
        .into_values()
        .flatten()
        .collect();
    let text = String::from_utf8_lossy(&ledger_bytes);
    for private in ["045190001234", "0912345678", "912345678", "190001234"] {
        assert!(!text.contains(private), "`{private}` leaked into ledger/");
    }
    // Not even the last four digits: the ledger is published whole.
    assert!(!text.contains("citizen_id_last4") && text.contains("citizen_id_hmac"));
    portal.run(&["balance"]).assert().success().stdout(
        contains("bao-so-5")
            .and(contains("2.500.000"))
            .and(contains("1.500.000"))
            .and(contains("1.000.000")),
    );
    portal
        .run(&["log", "--kind", "donation"])
        .assert()
        .success()
        .stdout(contains("Nguyễn Văn An").and(contains("household").not()));
    portal
        .run(&["log", "--household", "qt-0001"])
        .assert()
        .success()
        .stdout(contains("progress").and(contains("disbursement")));
    portal
        .run(&["show", "3"])
        .assert()
        .success()
        .stdout(contains(r#""donor": "Nguyễn Văn An""#));
    portal.run(&["verify"]).assert().success();
}

/// Each bad batch: exit 1, an error naming the input line and field, and
/// `ledger/` byte-for-byte unchanged.
#[test]
fn rejected_appends_change_nothing() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let donation = |fields: &str| {
        format!(
            r#"{{"kind":"donation","fund":"bao-so-5","donor":"A","date":"2025-09-12","channel":"bank",{fields}}}"#
        )
    };
    let good = donation(r#""amount":1000,"ref":"OK1""#);
    let cases: Vec<(String, &str)> = vec![
        (donation(r#""amount":0"#), "line 1: field `amount`: must be a positive"),
        (donation(r#""amount":-5"#), "line 1: field `amount`"),
        (donation(r#""amount":1.5"#), "line 1: field `amount`"),
        (donation(r#""amount":"1000""#), "line 1: field `amount`"),
        (donation(r#""amount":18446744073709551615"#), "over the limit of 1000000000000000 đồng"),
        (donation(r#""amount":1,"ref":"FT25255001""#), "field `ref`: bank reference `FT25255001` is already recorded"),
        (format!("{good}\n{}", donation(r#""amount":1,"ref":"OK1""#)), "line 2: field `ref`"),
        (donation(r#""amount":1,"colour":"red""#), "unknown field `colour`"),
        (r#"{"kind":"donation","fund":"khong-co","donor":"A","amount":1,"date":"2025-09-12","channel":"bank"}"#.into(), "field `fund`: no fund `khong-co`"),
        (r#"{"kind":"donation","fund":"bao-so-5","donor":"A","amount":1,"date":"2025-02-30","channel":"bank"}"#.into(), "field `date`"),
        (r#"{"kind":"donation","fund":"bao-so-5","donor":"A","amount":1,"date":"2025-09-12","channel":"crypto"}"#.into(), "field `channel`"),
        (r#"{"kind":"disbursement","fund":"bao-so-5","amount":1000001,"date":"2025-09-13","payee":"UBND xã","purpose":"x"}"#.into(), "has received only 2500000"),
        (r#"{"kind":"disbursement","fund":"bao-so-5","amount":1,"date":"2025-09-13","purpose":"x"}"#.into(), "exactly one recipient"),
        (r#"{"kind":"household","id":"qt-0002","head":"B","province":"Quảng Trị","commune":"xã Cồn Tiên","circumstances":"","support":"new","planned":60000000,"citizen_id":"045 190 001 234"}"#.into(), "already registered to household `qt-0001`"),
        (r#"{"kind":"household","id":"qt-0001","head":"B","province":"Quảng Trị","commune":"xã Cồn Tiên","circumstances":"","support":"new","planned":60000000,"citizen_id":"045190009999"}"#.into(), "household `qt-0001` already exists"),
        (r#"{"kind":"household","id":"QT 2","head":"B","province":"Quảng Trị","commune":"xã","circumstances":"","support":"new","planned":1,"citizen_id":"045190009999"}"#.into(), "field `id`"),
        (r#"{"kind":"household","id":"qt-9","head":"B","province":"Quảng Trị","commune":"xã","circumstances":"","support":"new","planned":1,"citizen_id":"12345"}"#.into(), "field `citizen_id`"),
        (r#"{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"approved"}"#.into(), "stages only move forward"),
        (r#"{"kind":"progress","household":"qt-0001","date":"2025-09-01","stage":"started"}"#.into(), "before the household's previous stage change"),
        (r#"{"kind":"progress","household":"qt-404","date":"2025-09-15","stage":"started"}"#.into(), "no household `qt-404`"),
        (r#"{"kind":"correction","target":99,"reason":"x"}"#.into(), "field `target`"),
        (r#"{"kind":"correction","target":1,"reason":"x"}"#.into(), "key entry"),
        (r#"{"kind":"correction","target":3,"reason":"x","amend":{"fund":"khac"}}"#.into(), "field `amend.fund`: cannot be amended"),
        (r#"{"kind":"correction","target":4,"reason":"x"}"#.into(), "would have received"),
        (r#"{"kind":"key","action":"revoke","name":"admin"}"#.into(), "only an administrator may admit or revoke keys"),
        (r#"{"kind":"gift","x":1}"#.into(), "field `kind`: unknown kind `gift`"),
        ("not json".into(), "line 1: not a JSON object"),
        (format!("{good}\n\n{good}x"), "line 3: not a JSON object"),
    ];
    for (input, expected) in cases {
        let before = portal.snapshot();
        let output = portal.append(&input).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "accepted {input}");
        assert!(
            stderr.contains(expected),
            "refusing {input}: expected `{expected}` in {stderr}"
        );
        assert!(stderr.contains("nothing was appended"), "{stderr}");
        assert!(
            portal.snapshot() == before,
            "ledger changed after refusing {input}"
        );
    }
    portal
        .run(&["verify"])
        .assert()
        .success()
        .stdout(contains("ok: 8 entries"));
}

#[test]
fn corrections_void_and_amend_with_history_kept() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    portal.append(r#"{"kind":"correction","target":3,"reason":"Nhập sai số tiền","amend":{"amount":600000}}"#).assert().success();
    portal
        .run(&["balance"])
        .assert()
        .success()
        .stdout(contains("2.600.000"));
    // Voiding the 2,000,000 cash gift would leave less received than disbursed.
    portal
        .append(r#"{"kind":"correction","target":4,"reason":"Trùng phiếu thu"}"#)
        .assert()
        .code(1)
        .stderr(contains(
            "would have received 600000 đồng, less than the 1500000 đồng it has disbursed",
        ));
    portal.append(r#"{"kind":"donation","fund":"bao-so-5","donor":"B","amount":100000,"date":"2025-09-12","channel":"cash"}"#).assert().success();
    portal
        .append(r#"{"kind":"correction","target":9,"reason":"Trùng phiếu thu"}"#)
        .assert()
        .success();
    portal
        .run(&["balance"])
        .assert()
        .success()
        .stdout(contains("2.600.000"));
    portal
        .append(r#"{"kind":"correction","target":9,"reason":"again"}"#)
        .assert()
        .code(1)
        .stderr(contains("already voided"));
    portal.run(&["show", "3"]).assert().success().stdout(
        contains(r#""amount": 500000"#)
            .and(contains("corrected by entry 8"))
            .and(contains(r#""amount": 600000"#)),
    );
    portal.run(&["verify"]).assert().success();
}

#[test]
fn only_admitted_unrevoked_keys_may_append() {
    let portal = TestPortal::new();
    let admin = portal.admin_key.to_str().unwrap().to_string();
    let officer = portal.officer_key.to_str().unwrap().to_string();
    // An officer cannot admit keys.
    let stranger = portal.dir.path().join("keys/stranger.key");
    minhbach()
        .args(["key", "new", "--name", "stranger", "--out"])
        .arg(&stranger)
        .assert()
        .success();
    let stranger_vkey = fs::read_to_string(stranger.with_extension("key.pub")).unwrap();
    portal
        .run(&[
            "key",
            "add",
            "--key",
            &officer,
            "--name",
            "stranger",
            "--unit",
            "x",
            stranger_vkey.trim(),
        ])
        .assert()
        .code(1)
        .stderr(contains("only an administrator"));
    // An unknown key cannot append.
    portal
        .run(&["append", "--key", stranger.to_str().unwrap(), "-"])
        .write_stdin(SAMPLE)
        .assert()
        .code(1)
        .stderr(contains("key `stranger` has not been admitted"));
    // A different key under an admitted name cannot append.
    let impostor = portal.dir.path().join("keys/impostor.key");
    minhbach()
        .args(["key", "new", "--name", "canbo", "--out"])
        .arg(&impostor)
        .assert()
        .success();
    portal
        .run(&["append", "--key", impostor.to_str().unwrap(), "-"])
        .write_stdin(SAMPLE)
        .assert()
        .code(1)
        .stderr(contains("does not match the key admitted"));
    // A revoked key cannot append.
    portal
        .run(&[
            "key",
            "revoke",
            "--key",
            &admin,
            "--reason",
            "Mất máy tính",
            "canbo",
        ])
        .assert()
        .success();
    portal
        .append(SAMPLE)
        .assert()
        .code(1)
        .stderr(contains("key `canbo` was revoked at entry 2"));
    portal
        .run(&["key", "list"])
        .assert()
        .success()
        .stdout(contains("revoked at entry 2"));
    // The last administrator cannot be revoked.
    portal
        .run(&["key", "revoke", "--key", &admin, "admin"])
        .assert()
        .code(1)
        .stderr(contains("last administrator"));
    portal.run(&["verify"]).assert().success();
}

#[test]
fn verify_names_the_damage() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let original = fs::read_to_string(portal.segment()).unwrap();
    fs::write(
        portal.segment(),
        original.replace("Nguyễn Văn An", "Nguyễn Văn Ân"),
    )
    .unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("one of entries 2–7").and(contains("signed by `canbo`")));
    fs::write(
        portal.segment(),
        original.replace(r#""amount":500000"#, r#""amount": 500000"#),
    )
    .unwrap();
    portal.run(&["verify"]).assert().code(1).stderr(
        contains("entry 3 (`")
            .and(contains("000000.jsonl` line 4)"))
            .and(contains("canonical")),
    );
    fs::write(portal.segment(), &original).unwrap();
    portal.run(&["verify"]).assert().success();
}

#[test]
fn an_interrupted_append_is_explained_and_recovered() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let signed = fs::read(portal.segment()).unwrap();
    // A crash after writing lines but before signing: complete but unsigned lines, then half a line.
    let mut torn = signed.clone();
    torn.extend_from_slice(br#"{"seq":8,"time":"2025-09-12T08:00:00Z","signer":"canbo","kind":"donation","fund":"bao-so-5","donor":"X","amount":1,"date":"2025-09-12","channel":"cash"}"#);
    torn.extend_from_slice(b"\n{\"seq\":9,\"ti");
    fs::write(portal.segment(), &torn).unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("cut short").and(contains("minhbach recover")));
    portal
        .append(SAMPLE)
        .assert()
        .code(1)
        .stderr(contains("does not verify"));
    portal.run(&["recover"]).assert().success().stdout(
        contains("removed 2 unsigned entry line(s)")
            .and(contains("ok: the ledger verifies (8 entries)")),
    );
    assert_eq!(fs::read(portal.segment()).unwrap(), signed);
    let rescued: Vec<_> = fs::read_dir(portal.root().join(".minhbach"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("rescued-"))
        .collect();
    assert_eq!(rescued.len(), 1);
    assert!(
        fs::read_to_string(rescued[0].path())
            .unwrap()
            .contains(r#""donor":"X""#)
    );
    // A crash between the checkpoint history and the latest copy.
    let latest = fs::read(portal.ledger().join("checkpoint")).unwrap();
    fs::write(portal.ledger().join("checkpoint"), b"stale").unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("not the newest signed checkpoint"));
    portal
        .run(&["recover"])
        .assert()
        .success()
        .stdout(contains("restored `ledger/checkpoint`"));
    assert_eq!(
        fs::read(portal.ledger().join("checkpoint")).unwrap(),
        latest
    );
    // The next append works.
    portal.append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Y","amount":5,"date":"2025-09-12","channel":"cash"}"#).assert().success();
    portal
        .run(&["verify"])
        .assert()
        .success()
        .stdout(contains("ok: 9 entries"));
}

#[test]
fn signed_entries_that_disappear_cannot_be_recovered_away() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let text = fs::read_to_string(portal.segment()).unwrap();
    let kept: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    fs::write(portal.segment(), kept).unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("signed entries were deleted"));
    portal
        .run(&["recover"])
        .assert()
        .code(1)
        .stderr(contains("signed entries were deleted"));
}

#[test]
fn concurrent_appends_never_lose_an_entry() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let root = portal.root();
            let key = portal.officer_key.clone();
            std::thread::spawn(move || {
                minhbach()
                    .current_dir(root)
                    .args(["append", "--key", key.to_str().unwrap(), "-"])
                    .write_stdin(format!(r#"{{"kind":"donation","fund":"bao-so-5","donor":"Người {i}","amount":1000,"date":"2025-09-12","channel":"bank","ref":"CC{i}"}}"#))
                    .assert()
                    .success();
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    portal
        .run(&["verify"])
        .assert()
        .success()
        .stdout(contains("ok: 16 entries, 11 signed checkpoints"));
    let log = portal.run(&["log", "--kind", "donation"]).output().unwrap();
    let text = String::from_utf8(log.stdout).unwrap();
    for i in 0..8 {
        assert!(text.contains(&format!("Người {i}")), "{text}");
    }
}

#[test]
fn verify_since_proves_the_ledger_extends_an_older_checkpoint() {
    let portal = TestPortal::new();
    let old = portal.dir.path().join("old-checkpoint");
    fs::copy(portal.ledger().join("checkpoint"), &old).unwrap();
    // A fork: the same portal copied, then a different append in each copy.
    let fork = tempfile::tempdir().unwrap();
    copy_dir(&portal.root(), fork.path());
    portal.append(SAMPLE).assert().success();
    portal
        .run(&["verify", "--since", old.to_str().unwrap()])
        .assert()
        .success()
        .stdout(contains("extends"));
    minhbach()
        .current_dir(fork.path())
        .args(["append", "--key", portal.officer_key.to_str().unwrap(), "-"])
        .write_stdin(r#"{"kind":"fund","id":"khac","name":"Quỹ khác","description":""}"#)
        .assert()
        .success();
    let forked = portal.dir.path().join("forked-checkpoint");
    fs::copy(fork.path().join("ledger/checkpoint"), &forked).unwrap();
    portal
        .run(&["verify", "--since", forked.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(contains("does not extend"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    minhbach()
        .current_dir(dir.path())
        .arg("verify")
        .assert()
        .code(2)
        .stderr(contains("not a portal"));
    minhbach().arg("frobnicate").assert().code(2);
    let portal = TestPortal::new();
    portal
        .run(&["append", "--key", "/nonexistent/key"])
        .assert()
        .code(2)
        .stderr(contains("cannot read the private key"));
    portal.run(&["log", "--kind", "gift"]).assert().code(2);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn photos_are_stored_by_hash_and_checked() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let photos = portal.dir.path().join("photos");
    fs::create_dir_all(&photos).unwrap();
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::RgbImage::from_pixel(32, 24, image::Rgb([120, 80, 40]))
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    fs::write(photos.join("truoc.jpg"), jpeg.into_inner()).unwrap();
    fs::write(photos.join("evil.jpg"), b"<svg onload=alert(1)>").unwrap();
    let input = portal.dir.path().join("progress.jsonl");
    fs::write(&input, r#"{"kind":"progress","household":"qt-0001","date":"2025-09-20","stage":"started","photos":[{"file":"photos/evil.jpg"}]}"#).unwrap();
    let officer = portal.officer_key.to_str().unwrap();
    portal
        .run(&["append", "--key", officer, input.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(contains("field `photos[0].file`").and(contains("is not a JPEG")));
    assert!(!portal.ledger().join("media").exists());
    fs::write(&input, r#"{"kind":"progress","household":"qt-0001","date":"2025-09-20","stage":"started","photos":[{"file":"photos/truoc.jpg","caption":"Nhà trước khi sửa"}]}"#).unwrap();
    portal
        .run(&["append", "--key", officer, input.to_str().unwrap()])
        .assert()
        .success();
    let stored: Vec<_> = portal
        .ledger()
        .join("media")
        .read_dir()
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(stored.len(), 1);
    let name = stored[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.ends_with(".jpg") && name.len() == 68, "{name}");
    assert!(
        fs::read_to_string(portal.segment())
            .unwrap()
            .contains(&format!(
                r#""photos":[{{"media":"{name}","caption":"Nhà trước khi sửa"}}]"#
            ))
    );
    portal.run(&["verify"]).assert().success();
    fs::write(&stored[0], b"\xFF\xD8\xFF\xE0 a swapped photo").unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("was altered"));
    fs::remove_file(&stored[0]).unwrap();
    portal
        .run(&["verify"])
        .assert()
        .code(1)
        .stderr(contains("is missing from `ledger/media/`"));
}

/// `append` keeps a bank reference once per fund, account and booking day:
/// a bank's daily number comes back on other days, as another transfer.
/// A fund lists its accounts (`accounts`) or has the older single
/// `account`; a donation names one of them.
#[test]
fn a_bank_reference_is_recorded_once_per_account_and_day() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let donation = |fields: &str| {
        format!(
            r#"{{"kind":"donation","fund":"bao-so-5","donor":"A","amount":1,"channel":"bank",{fields}}}"#
        )
    };
    portal
        .append(&donation(r#""date":"2025-09-13","ref":"FT25255001""#))
        .assert()
        .success();
    portal
        .append(&donation(
            r#""date":"2025-09-12","booking_time":"08:05:09","account":"113000006100","ref":"FT25255001","description":"MBVCB.1.2.A ung ho""#,
        ))
        .assert()
        .success();
    for (input, expected) in [
        (
            donation(r#""date":"2025-09-13","ref":"FT25255001""#),
            "bank reference `FT25255001` is already recorded in fund `bao-so-5` on 2025-09-13",
        ),
        (
            donation(r#""date":"2025-09-14","booking_time":"8:05:09""#),
            "field `booking_time`: `8:05:09` is not a time of day",
        ),
        (
            donation(r#""date":"2025-09-14","account":"999""#),
            "field `account`: fund `bao-so-5` has no account `999` (its accounts: 113000006100)",
        ),
        (
            r#"{"kind":"fund","id":"hai","name":"Hai","description":"","account":{"bank_bin":"970415","number":"1","holder":"A"},"accounts":[{"bank_bin":"970415","number":"2","holder":"A"}]}"#.to_string(),
            "field `accounts`: a fund has `account` (one) or `accounts` (a list), not both",
        ),
        (
            r#"{"kind":"fund","id":"hai","name":"Hai","description":"","accounts":[{"bank_bin":"970415","number":"2","holder":"A"},{"bank_bin":"970436","number":"2","holder":"B"}]}"#.to_string(),
            "account `2` is listed twice",
        ),
    ] {
        let before = portal.snapshot();
        portal
            .append(&input)
            .assert()
            .code(1)
            .stderr(contains(expected));
        assert!(portal.snapshot() == before, "{input}");
    }
    portal.run(&["verify"]).assert().success();
}
