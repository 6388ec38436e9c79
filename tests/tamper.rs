//! Tampering with a ledger is always caught: every single-byte change of
//! every entry line, every deleted, duplicated or swapped line, every
//! truncation, and every replaced checkpoint fails verification. The cases
//! are generated from a small ledger, not hand-listed.

use minhbach::ledger::note::{Checkpoint, SigningKey, sign_checkpoint};
use minhbach::ledger::{InputContext, Ledger, LedgerSettings, Secret, VerifyOptions, parse_input};
use std::fs;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "test.minhbach.example/tamper";

fn key(name: &str) -> SigningKey {
    SigningKey::from_seed(name, [name.len() as u8; 32]).unwrap()
}

fn settings() -> LedgerSettings {
    LedgerSettings {
        origin: ORIGIN.into(),
        allow_advances: false,
    }
}

/// A ledger of four batches: genesis, an officer's admission, two batches of entries.
fn build_ledger(dir: &Path) -> Ledger {
    let ledger = Ledger::new(dir, settings());
    let admin = key("admin");
    let officer = key("officer-a");
    let secret = Secret::from_bytes([9; 32]);
    let context = InputContext {
        secret: Some(&secret),
        base_dir: PathBuf::from("."),
        media_dir: dir.join("media"),
    };
    let parse = |lines: &[String]| {
        lines
            .iter()
            .map(|l| parse_input(l, &context).unwrap())
            .collect::<Vec<_>>()
    };
    ledger
        .create(&admin, "MTTQ tỉnh", "2025-09-01T00:00:00Z")
        .unwrap();
    let admit = format!(
        r#"{{"kind":"key","action":"admit","name":"officer-a","unit":"MTTQ xã","role":"officer","vkey":"{}"}}"#,
        officer.verifier_key()
    );
    ledger
        .append(parse(&[admit]), &admin, "2025-09-01T00:01:00Z")
        .unwrap();
    let first = [
        r#"{"kind":"fund","id":"quy-a","name":"Quỹ A","description":"Mô tả"}"#.to_string(),
        r#"{"kind":"donation","fund":"quy-a","donor":"Trần Thị Bích","amount":300000,"date":"2025-09-02","channel":"bank","ref":"FT1"}"#.to_string(),
        r#"{"kind":"household","id":"ho-1","head":"Hồ Văn Ba","province":"Quảng Trị","commune":"xã Hướng Hiệp","circumstances":"","support":"new","planned":60000000,"citizen_id":"045090000001"}"#.to_string(),
    ];
    ledger
        .append(parse(&first), &officer, "2025-09-02T00:00:00Z")
        .unwrap();
    let second = [
        r#"{"kind":"disbursement","fund":"quy-a","amount":100000,"date":"2025-09-03","household":"ho-1","purpose":"Tạm ứng"}"#.to_string(),
        r#"{"kind":"progress","household":"ho-1","date":"2025-09-03","stage":"approved"}"#.to_string(),
        r#"{"kind":"correction","target":3,"reason":"Sai số tiền","amend":{"amount":350000}}"#.to_string(),
    ];
    ledger
        .append(parse(&second), &officer, "2025-09-03T00:00:00Z")
        .unwrap();
    ledger
}

fn verify(ledger: &Ledger) -> Result<(), String> {
    ledger
        .verify(VerifyOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn segment(dir: &Path) -> PathBuf {
    dir.join("entries/000000.jsonl")
}

#[test]
fn the_fixture_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    verify(&ledger).unwrap();
}

#[test]
fn every_single_byte_change_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let original = fs::read(segment(dir.path())).unwrap();
    let mut checked = 0;
    for position in 0..original.len() {
        if original[position] == b'\n' {
            continue; // newline changes are covered by the line tests below
        }
        for flip in [0x01u8, 0x20, 0x80] {
            let mut bytes = original.clone();
            bytes[position] ^= flip;
            fs::write(segment(dir.path()), &bytes).unwrap();
            assert!(
                verify(&ledger).is_err(),
                "flipping byte {position} with {flip:#x} went unnoticed"
            );
            checked += 1;
        }
    }
    fs::write(segment(dir.path()), &original).unwrap();
    verify(&ledger).unwrap();
    assert!(checked > 2_000, "{checked}");
}

fn lines(dir: &Path) -> Vec<Vec<u8>> {
    fs::read(segment(dir))
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn write_lines(dir: &Path, lines: &[Vec<u8>]) {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    fs::write(segment(dir), bytes).unwrap();
}

#[test]
fn deleted_duplicated_swapped_and_truncated_lines_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let original = lines(dir.path());
    let mut cases: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for index in 0..original.len() {
        let mut deleted = original.clone();
        deleted.remove(index);
        cases.push((format!("delete line {index}"), deleted));
        let mut duplicated = original.clone();
        duplicated.insert(index, original[index].clone());
        cases.push((format!("duplicate line {index}"), duplicated));
        if index + 1 < original.len() {
            let mut swapped = original.clone();
            swapped.swap(index, index + 1);
            cases.push((format!("swap lines {index} and {}", index + 1), swapped));
        }
        cases.push((
            format!("truncate to {index} lines"),
            original[..index].to_vec(),
        ));
    }
    for (name, tampered) in cases {
        write_lines(dir.path(), &tampered);
        assert!(verify(&ledger).is_err(), "{name} went unnoticed");
    }
    write_lines(dir.path(), &original);
    verify(&ledger).unwrap();
}

#[test]
fn a_forged_checkpoint_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let verified = ledger.verify(VerifyOptions::default()).unwrap();
    let good = verified.checkpoint.clone();
    let newest = dir.path().join(format!("checkpoints/{:012}", good.size));
    let mut wrong_root = good.clone();
    wrong_root.root[0] ^= 1;
    let forgeries = [
        (
            "right root, stranger's key with the officer's name",
            sign_checkpoint(
                &good,
                &SigningKey::from_seed("officer-a", [42; 32]).unwrap(),
            ),
        ),
        (
            "right root, the administrator instead of the batch signer",
            sign_checkpoint(&good, &key("admin")),
        ),
        (
            "wrong root, the right key",
            sign_checkpoint(&wrong_root, &key("officer-a")),
        ),
        (
            "another origin",
            sign_checkpoint(
                &Checkpoint {
                    origin: "evil.example/log".into(),
                    ..good.clone()
                },
                &key("officer-a"),
            ),
        ),
    ];
    let original = fs::read(&newest).unwrap();
    for (name, note) in forgeries {
        fs::write(&newest, &note).unwrap();
        fs::write(dir.path().join("checkpoint"), &note).unwrap();
        let error = verify(&ledger).expect_err(name);
        assert!(error.contains("checkpoint"), "{name}: {error}");
    }
    fs::write(&newest, &original).unwrap();
    fs::write(dir.path().join("checkpoint"), &original).unwrap();
    verify(&ledger).unwrap();
    // Replacing only the latest copy is caught too.
    fs::write(
        dir.path().join("checkpoint"),
        sign_checkpoint(&wrong_root, &key("officer-a")),
    )
    .unwrap();
    assert!(
        verify(&ledger)
            .unwrap_err()
            .contains("not the newest signed checkpoint")
    );
}

#[test]
fn an_entry_change_names_the_batch_it_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let text = fs::read_to_string(segment(dir.path())).unwrap();
    fs::write(
        segment(dir.path()),
        text.replace("Trần Thị Bích", "Trần Thị Bich"),
    )
    .unwrap();
    let error = verify(&ledger).unwrap_err();
    assert!(error.contains("one of entries 2–4"), "{error}");
    assert!(error.contains("signed by `officer-a`"), "{error}");
}

#[test]
fn a_consistency_proof_links_old_and_new_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let old = fs::read_to_string(dir.path().join("checkpoints/000000000002")).unwrap();
    let verified = ledger
        .verify(VerifyOptions {
            keep_leaves: true,
            ..VerifyOptions::default()
        })
        .unwrap();
    let proof = ledger.check_extends(&verified, &old).unwrap();
    assert!(!proof.is_empty());
    // A checkpoint of the same size over different entries (a fork) fails.
    let fork_dir = tempfile::tempdir().unwrap();
    let fork = Ledger::new(fork_dir.path(), settings());
    fork.create(&key("admin"), "another unit", "2025-09-01T00:00:00Z")
        .unwrap();
    let forked = fs::read_to_string(fork_dir.path().join("checkpoint")).unwrap();
    let error = ledger
        .check_extends(&verified, &forked)
        .unwrap_err()
        .to_string();
    assert!(error.contains("does not extend"), "{error}");
}
