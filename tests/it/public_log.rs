//! The public log a build publishes (C2SP tlog-tiles under `ledger/`),
//! checked with nothing but the published files, and donation receipts
//! (C2SP tlog-proof) checked offline.

use crate::common;

use common::{SAMPLE, TestPortal, folder_of, log_file, minhbach};
use minhbach::site::routes;
use predicates::prelude::*;
use predicates::str::contains;
use std::fs;
use std::path::PathBuf;

/// A portal with enough entries for a full tile and partial tiles, built.
fn built_portal() -> (TestPortal, PathBuf) {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let donations: String = (0..300)
        .map(|i| format!("{{\"kind\":\"donation\",\"fund\":\"bao-so-5\",\"donor\":\"Người {i}\",\"amount\":{},\"date\":\"2025-09-13\",\"channel\":\"bank\",\"ref\":\"T{i}\"}}\n", 1000 + i))
        .collect();
    portal.append(&donations).assert().success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    (portal, site)
}

#[test]
fn a_built_site_publishes_a_verifiable_tile_tree() {
    let (portal, site) = built_portal();
    let log = site.join(folder_of(routes::LEDGER_DIR));
    // 308 entries: one full level-0 tile and bundle, a partial of width 52,
    // a partial level-1 tile of width 1 (the older checkpoints' partials of
    // tile 0 are gone: that tile is full now).
    for path in [
        "checkpoint",
        "keys",
        "tile/0/000",
        "tile/entries/000",
        "tile/0/001.p/52",
        "tile/entries/001.p/52",
        "tile/1/000.p/1",
    ] {
        assert!(log.join(path).is_file(), "missing {}", log_file(path));
    }
    assert_eq!(fs::read(log.join("tile/0/000")).unwrap().len(), 256 * 32);
    assert_eq!(
        fs::read(log.join("checkpoint")).unwrap(),
        fs::read(portal.ledger().join("checkpoint")).unwrap()
    );
    let keys = fs::read_to_string(log.join("keys")).unwrap();
    assert_eq!(keys.lines().count(), 3, "{keys}");
    assert!(keys.starts_with("origin test.minhbach.example/ledger\nadmin+"));
    // Anyone can check it without the portal.
    minhbach()
        .args(["verify", "--site"])
        .arg(&site)
        .current_dir(portal.dir.path())
        .assert()
        .success()
        .stdout(contains("ok: the site's log holds 308 entries"));
}

#[test]
fn a_corrupted_tile_bundle_or_checkpoint_fails() {
    let (portal, site) = built_portal();
    let log = site.join(folder_of(routes::LEDGER_DIR));
    let checkpoint = log_file("checkpoint");
    let cases: [(&str, usize, &str); 4] = [
        ("tile/0/000", 40, "this hash tile does not match"),
        ("tile/1/000.p/1", 3, "this hash tile does not match"),
        ("tile/entries/001.p/52", 60, "entry 256"),
        ("checkpoint", 45, &checkpoint),
    ];
    for (path, offset, expected) in cases {
        let file = log.join(path);
        let original = fs::read(&file).unwrap();
        let mut bytes = original.clone();
        bytes[offset] ^= 0x01;
        fs::write(&file, &bytes).unwrap();
        minhbach()
            .args(["verify", "--site"])
            .arg(&site)
            .current_dir(portal.dir.path())
            .assert()
            .code(1)
            .stderr(contains(expected));
        fs::write(&file, &original).unwrap();
    }
    fs::remove_file(log.join("tile/entries/000")).unwrap();
    minhbach()
        .args(["verify", "--site"])
        .arg(&site)
        .assert()
        .code(1)
        .stderr(contains("tile/entries/000"));
}

#[test]
fn the_site_log_extends_an_older_checkpoint() {
    let (portal, site) = built_portal();
    let old = portal.ledger().join("checkpoints/000000000008");
    minhbach()
        .args(["verify", "--site"])
        .arg(&site)
        .arg("--since")
        .arg(&old)
        .assert()
        .success()
        .stdout(contains("extends the older checkpoint"));
}

#[test]
fn a_receipt_proves_a_donation_offline() {
    let (portal, site) = built_portal();
    let output = portal.run(&["prove", "300"]).output().unwrap();
    assert!(output.status.success());
    let receipt = portal.dir.path().join("300.tlog-proof");
    fs::write(&receipt, &output.stdout).unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "), "{text}");
    assert!(text.contains("\nindex 300\n"));
    // Inside the portal, against its key history.
    portal
        .run(&["verify", "--proof", receipt.to_str().unwrap()])
        .assert()
        .success()
        .stdout(contains("ok: entry 300 (donation)").and(contains("Người 292")));
    // Anywhere, against the published keys.
    let keys = site.join(log_file("keys"));
    minhbach()
        .current_dir(portal.dir.path())
        .args([
            "verify",
            "--proof",
            receipt.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ])
        .assert()
        .success();
    minhbach()
        .current_dir(portal.dir.path())
        .args(["verify", "--proof", receipt.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("--keys"));
    // A changed amount, a changed hash or a changed checkpoint fails.
    let forged_amount = text.replace(&extra_of(&text), &forge(&extra_of(&text)));
    let tampered = [
        forged_amount,
        text.replacen("\nindex 300\n", "\nindex 301\n", 1),
        flip_hash_line(&text),
        text.replace("\n308\n", "\n309\n"),
    ];
    for (i, bad) in tampered.iter().enumerate() {
        assert_ne!(bad, &text, "case {i} did not change the receipt");
        fs::write(&receipt, bad).unwrap();
        portal
            .run(&["verify", "--proof", receipt.to_str().unwrap()])
            .assert()
            .code(1)
            .stderr(contains("the proof does not hold"));
    }
}

/// The base64 entry on the `extra` line.
fn extra_of(text: &str) -> String {
    text.lines()
        .nth(1)
        .unwrap()
        .strip_prefix("extra ")
        .unwrap()
        .to_string()
}

/// The entry with its amount raised, as a forger would try.
fn forge(extra: &str) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let line = String::from_utf8(engine.decode(extra).unwrap()).unwrap();
    let forged = line.replace(r#""amount":1292"#, r#""amount":9292"#);
    assert_ne!(forged, line);
    engine.encode(forged)
}

fn flip_hash_line(text: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let hash = &mut lines[3];
    let first = hash.remove(0);
    hash.insert(0, if first == 'A' { 'B' } else { 'A' });
    lines.join("\n")
}
