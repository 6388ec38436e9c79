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
        check_media: minhbach::media::check_photo,
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

/// A verified-state cache written from the untampered ledger, put back
/// before each check: tampering must be reported word for word as without
/// it (the cache can change only the time).
struct GoodCache {
    _dir: tempfile::TempDir,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl GoodCache {
    fn of(ledger_dir: &Path) -> GoodCache {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verified-state");
        let ledger = Ledger::new(ledger_dir, settings()).with_cache(path.clone());
        ledger
            .verify_cached(VerifyOptions::default(), &mut |_, _| {})
            .unwrap();
        let bytes = fs::read(&path).expect("the cache is written");
        let again = ledger
            .verify_cached(VerifyOptions::default(), &mut |_, _| {})
            .unwrap();
        assert_eq!(
            again.cached_entries, again.checkpoint.size,
            "the cache is used"
        );
        GoodCache {
            _dir: dir,
            path,
            bytes,
        }
    }

    /// Verifies with the good cache and checks the outcome is `verify`'s.
    fn verify_same(&self, ledger_dir: &Path, case: &str) -> Result<(), String> {
        fs::write(&self.path, &self.bytes).unwrap();
        let plain = verify(&Ledger::new(ledger_dir, settings()));
        let cached = Ledger::new(ledger_dir, settings())
            .with_cache(self.path.clone())
            .verify_cached(VerifyOptions::default(), &mut |_, _| {})
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(cached, plain, "{case}: the cache changed the outcome");
        plain
    }
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
    let cache = GoodCache::of(dir.path());
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
            let case = format!("flipping byte {position} with {flip:#x}");
            assert!(
                cache.verify_same(dir.path(), &case).is_err(),
                "{case} went unnoticed"
            );
            checked += 1;
        }
    }
    fs::write(segment(dir.path()), &original).unwrap();
    verify(&ledger).unwrap();
    cache.verify_same(dir.path(), "untouched").unwrap();
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
    let cache = GoodCache::of(dir.path());
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
        assert!(
            cache.verify_same(dir.path(), &name).is_err(),
            "{name} went unnoticed"
        );
    }
    write_lines(dir.path(), &original);
    verify(&ledger).unwrap();
}

#[test]
fn a_forged_checkpoint_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = build_ledger(dir.path());
    let cache = GoodCache::of(dir.path());
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
        let error = cache.verify_same(dir.path(), name).expect_err(name);
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

/// A ledger of more than one segment: the cache vouches for each segment by
/// its own root, so a change in either is caught, and a cache of an older
/// size covers part of the last segment it saw.
#[test]
fn a_cache_over_several_segments_is_checked_segment_by_segment() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::new(dir.path(), settings());
    let admin = key("admin");
    let context = InputContext {
        secret: None,
        base_dir: PathBuf::from("."),
        media_dir: dir.path().join("media"),
        check_media: minhbach::media::check_photo,
    };
    let donations = |from: usize, count: usize| {
        (from..from + count)
            .map(|n| {
                let line = format!(
                    r#"{{"kind":"donation","fund":"quy-a","donor":"Người {n}","amount":{},"date":"2025-09-02","channel":"bank","ref":"FT{n}"}}"#,
                    1000 * (n % 97 + 1)
                );
                parse_input(&line, &context).unwrap()
            })
            .collect::<Vec<_>>()
    };
    ledger
        .create(&admin, "MTTQ", "2025-09-01T00:00:00Z")
        .unwrap();
    let fund = r#"{"kind":"fund","id":"quy-a","name":"Quỹ A","description":"Mô tả"}"#;
    let mut first = vec![parse_input(fund, &context).unwrap()];
    first.extend(donations(0, 66_000));
    ledger
        .append(first, &admin, "2025-09-02T00:00:00Z")
        .unwrap();
    let cache = GoodCache::of(dir.path());
    // Appended after the cache was written: part of segment 1 is covered.
    ledger
        .append(donations(66_000, 10), &admin, "2025-09-03T00:00:00Z")
        .unwrap();
    fs::write(&cache.path, &cache.bytes).unwrap();
    let mut visited = 0u64;
    let cached = Ledger::new(dir.path(), settings())
        .with_cache(cache.path.clone())
        .verify_cached(VerifyOptions::default(), &mut |entry, _| {
            assert_eq!(entry.seq, visited, "every entry once, in order");
            visited += 1;
        })
        .unwrap();
    let plain = ledger.verify(VerifyOptions::default()).unwrap();
    assert_eq!(cached.cached_entries, 66_002);
    assert_eq!(visited, plain.checkpoint.size);
    assert_eq!(cached.tree.root(), plain.tree.root());
    let totals = |verified: &minhbach::ledger::Verified| {
        format!("{:?}", verified.state.funds().collect::<Vec<_>>())
    };
    assert_eq!(totals(&cached), totals(&plain));
    // A change in either segment is reported as without the cache.
    for (file, needle) in [
        ("000000.jsonl", "Người 7\""),
        ("000001.jsonl", "Người 65999\""),
    ] {
        let path = dir.path().join("entries").join(file);
        let original = fs::read_to_string(&path).unwrap();
        assert!(original.contains(needle), "{file}");
        fs::write(&path, original.replacen(needle, "Người 8\"", 1)).unwrap();
        let error = cache.verify_same(dir.path(), file).unwrap_err();
        assert!(error.contains("does not match the entries"), "{error}");
        fs::write(&path, original).unwrap();
    }
    // The last segment deleted: its entries are missing, cache or not.
    let last = dir.path().join("entries/000001.jsonl");
    let original = fs::read(&last).unwrap();
    fs::remove_file(&last).unwrap();
    let error = cache
        .verify_same(dir.path(), "segment 1 deleted")
        .unwrap_err();
    assert!(error.contains("signed entries were deleted"), "{error}");
    fs::write(&last, original).unwrap();
}
