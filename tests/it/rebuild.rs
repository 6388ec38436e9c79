//! A rebuild after an append is the cold build of the same ledger, byte for
//! byte: after an entry of every kind, a correction that amends and one that
//! voids, a key admitted and a key revoked. A rebuild may reuse whatever it
//! likes of the previous build; what it publishes may not differ.

use crate::common;

use common::{SAMPLE, TestPortal, snapshot};
use minhbach::site::parts::part_path;
use minhbach::site::routes;
use std::path::Path;

/// Builds into `output` with `-v` and `env` set; returns the build's
/// standard error (its steps).
fn build(portal: &TestPortal, output: &Path, env: &[(&str, &str)]) -> String {
    let out = portal
        .run(&["build", "-v", "-o", output.to_str().unwrap()])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "build failed:\n{stderr}");
    stderr
}

/// A site: every file under it with its bytes.
type Site = std::collections::BTreeMap<std::path::PathBuf, Vec<u8>>;

/// The same ledger built from nothing: a new output folder and no
/// verified-state cache; `env` set for the build.
fn cold(portal: &TestPortal, name: &str, env: &[(&str, &str)]) -> Site {
    let cache = portal.root().join(".minhbach/cache");
    if cache.exists() {
        std::fs::remove_dir_all(&cache).unwrap();
    }
    let dir = portal.dir.path().join(name);
    build(portal, &dir, env);
    snapshot(&dir)
}

/// Asserts the site at `rebuilt` is `cold`, file for file.
fn assert_same(rebuilt: &Path, cold: &Site, what: &str) {
    let rebuilt = snapshot(rebuilt);
    let differing: Vec<_> = rebuilt
        .keys()
        .chain(cold.keys())
        .filter(|path| rebuilt.get(*path) != cold.get(*path))
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: the rebuild differs from a cold build in {differing:?}"
    );
}

#[test]
fn a_rebuild_equals_a_cold_build_after_every_kind_of_entry() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("out");
    build(&portal, &out, &[]);
    let admin = portal.admin_key.to_str().unwrap().to_string();
    let new_key = portal.dir.path().join("keys/canbo-2.key");

    // Each step changes the ledger one way; after each, the rebuild of `out`
    // must equal a cold build.
    type Step<'a> = (&'a str, Box<dyn Fn(&TestPortal) + 'a>);
    let append = |lines: &'static str| -> Box<dyn Fn(&TestPortal)> {
        Box::new(move |portal: &TestPortal| {
            portal.append(lines).assert().success();
        })
    };
    let steps: Vec<Step> = vec![
        (
            "a fund",
            append(
                r#"{"kind":"fund","id":"lu-mien-trung","name":"Ủng hộ miền Trung","description":"Quỹ thứ hai"}"#,
            ),
        ),
        (
            "a donation",
            append(
                r#"{"kind":"donation","fund":"lu-mien-trung","donor":"Trần Thị Bình","amount":750000,"date":"2025-09-15","channel":"bank","ref":"FT25258007","note":"ủng hộ bà con"}"#,
            ),
        ),
        (
            "a household",
            append(
                r#"{"kind":"household","id":"qt-0002","head":"Phạm Văn Cường","province":"Quảng Trị","commune":"xã Gio Linh","circumstances":"Mất nhà","support":"new","planned":60000000,"photo_consent":false,"citizen_id":"045190005678","phone":"0987654321"}"#,
            ),
        ),
        (
            "a disbursement",
            append(
                r#"{"kind":"disbursement","fund":"lu-mien-trung","amount":500000,"date":"2025-09-16","household":"qt-0002","purpose":"Hỗ trợ ban đầu"}"#,
            ),
        ),
        (
            "a progress stage",
            append(
                r#"{"kind":"progress","household":"qt-0002","date":"2025-09-17","stage":"approved"}"#,
            ),
        ),
        (
            "a correction that amends",
            append(
                r#"{"kind":"correction","target":9,"reason":"ghi chú sai","amend":{"note":"chuyển khoản lần 2"}}"#,
            ),
        ),
        (
            "a correction that voids",
            append(r#"{"kind":"correction","target":3,"reason":"trùng giao dịch"}"#),
        ),
        (
            "a key admitted",
            Box::new(move |portal: &TestPortal| {
                common::minhbach()
                    .args(["key", "new", "--name", "canbo-2", "--out"])
                    .arg(&new_key)
                    .assert()
                    .success();
                let vkey = std::fs::read_to_string(new_key.with_extension("key.pub")).unwrap();
                portal
                    .run(&[
                        "key",
                        "add",
                        "--key",
                        &admin,
                        "--name",
                        "canbo-2",
                        "--unit",
                        "MTTQ xã Gio Linh",
                        vkey.trim(),
                    ])
                    .assert()
                    .success();
            }),
        ),
        (
            "a key revoked",
            Box::new(move |portal: &TestPortal| {
                portal
                    .run(&[
                        "key",
                        "revoke",
                        "--key",
                        portal.admin_key.to_str().unwrap(),
                        "canbo-2",
                    ])
                    .assert()
                    .success();
            }),
        ),
    ];
    for (number, (what, step)) in steps.iter().enumerate() {
        let before = snapshot(&out);
        step(&portal);
        let steps = build(&portal, &out, &[]);
        // The rows of the entries before are the model cache's, unless a
        // correction came: then every entry is decoded and made into rows.
        let corrected = what.starts_with("a correction");
        assert_eq!(
            steps.contains("from the model cache"),
            !corrected,
            "{what}:\n{steps}"
        );
        assert_eq!(
            steps.contains("every entry is needed"),
            corrected,
            "{what}:\n{steps}"
        );
        let rebuilt = snapshot(&out);
        assert_ne!(rebuilt, before, "{what}: the site did not change");
        assert_same(&out, &cold(&portal, &format!("cold-{number}"), &[]), what);
    }

    // A model cache damaged by hand is not used: the build decodes every
    // entry again, and publishes what a cold build does.
    let state = portal.dir.path().join(".out.model-state");
    let mut bytes = std::fs::read(&state).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&state, bytes).unwrap();
    portal
        .append(r#"{"kind":"donation","fund":"lu-mien-trung","donor":"Lê Văn Dũng","amount":300000,"date":"2025-09-18","channel":"cash"}"#)
        .assert()
        .success();
    let steps = build(&portal, &out, &[]);
    assert!(!steps.contains("from the model cache"), "{steps}");
    assert!(steps.contains("every entry is needed"), "{steps}");
    assert_same(
        &out,
        &cold(&portal, "cold-damaged", &[]),
        "a damaged model cache",
    );
    let steps = build(&portal, &out, &[]);
    assert!(
        steps.contains("from the model cache"),
        "written again:\n{steps}"
    );
}

/// Parts of 64 KiB, so the download and the donations table are split.
const PARTS: &[(&str, &str)] = &[("MINHBACH_PART_BYTES", "65536")];

/// Builds with `-v` into `output` (parts of `PARTS`); returns the
/// lines of the lookup index and open data steps.
fn build_index_line(portal: &TestPortal, output: &Path) -> String {
    build(portal, output, PARTS)
        .lines()
        .filter(|line| line.starts_with("lookup index") || line.starts_with("open data"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A rebuild after appended donations extends the previous build's lookup
/// index, ledger download and tables instead of writing them whole, and the
/// result is the cold build's; a file changed by hand, or (for the index) a
/// correction, makes it write that file whole again.
#[test]
fn the_lookup_index_and_open_data_are_extended_by_appended_entries() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    // A statement whose words repeat past every form a term's postings
    // take: inline, runs of a day, chunk files past 4,096.
    let mut csv = String::from("date,ref,amount,donor,note\n");
    let names = ["Nguyễn Văn An", "Lê Thị Hoa", "Trần Minh Châu"];
    for row in 0..4_200 {
        csv.push_str(&format!(
            "2025-09-{:02},FT2525{row:06},{},{},ung ho dong bao bao lu {}\n",
            15 + row / 1_000,
            [100_000, 200_000, 500_000][row % 3],
            names[row % 3],
            if row % 5 == 0 {
                "MBVCB.7012345678.123456"
            } else {
                ""
            }
        ));
    }
    portal.import_statement(&csv);
    let out = portal.dir.path().join("out");
    let line = build_index_line(&portal, &out);
    assert!(!line.contains("extended"), "{line}");

    let donation = |n: usize| {
        format!(
            r#"{{"kind":"donation","fund":"bao-so-5","donor":"Nguyễn Văn An","amount":200000,"date":"2025-09-20","channel":"bank","ref":"FT-NEW-{n}","note":"ung ho dong bao"}}"#
        )
    };
    let batch: Vec<String> = (1..=30).map(donation).collect();
    let steps = [
        donation(0),
        batch.join("\n"),
        String::from(
            r#"{"kind":"donation","fund":"bao-so-5","donor":"Ẩn danh mới","amount":1,"date":"2025-09-21","channel":"cash"}"#,
        ),
    ];
    for (number, lines) in steps.iter().enumerate() {
        portal.append(lines).assert().success();
        let line = build_index_line(&portal, &out);
        assert!(line.contains("lookup index: extended from"), "{line}");
        assert!(line.contains("open data: 8 downloads extended"), "{line}");
        assert_same(
            &out,
            &cold(&portal, &format!("cold-{number}"), PARTS),
            lines,
        );
    }
    let count_parts = |path: &str| {
        (1..)
            .take_while(|&n| out.join(part_path(path, n)).is_file())
            .count()
    };
    let donations = routes::table_file("donation");
    assert!(
        count_parts(routes::DOWNLOAD_FILE) > 3,
        "the download is split"
    );
    assert!(count_parts(&donations) > 3, "the donations table is split");

    // A part changed by hand, the last or an earlier one: that download is
    // written whole, and the output is again the cold build's.
    let changed = [
        part_path(routes::DOWNLOAD_FILE, 2),
        part_path(&donations, 1),
    ];
    for (number, part) in changed.iter().enumerate() {
        let file = out.join(part);
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 1;
        std::fs::write(&file, bytes).unwrap();
        portal.append(&donation(200 + number)).assert().success();
        let line = build_index_line(&portal, &out);
        assert!(line.contains("open data: 7 downloads extended"), "{line}");
        assert_same(
            &out,
            &cold(&portal, &format!("cold-part-{number}"), PARTS),
            part,
        );
    }
    portal
        .run(&["verify", "--site", out.to_str().unwrap()])
        .assert()
        .success();

    // An index file changed by hand: the index is written whole.
    let shard = out.join("tra-cuu/chi-muc/d/wng");
    let text = std::fs::read_to_string(&shard).unwrap();
    std::fs::write(&shard, text.replacen("wnguyen\t", "wnguyen\t9", 1)).unwrap();
    portal.append(&donation(100)).assert().success();
    let line = build_index_line(&portal, &out);
    assert!(!line.contains("lookup index: extended"), "{line}");
    assert_same(
        &out,
        &cold(&portal, "cold-edited", PARTS),
        "after a hand edit",
    );

    // A correction can change old records: written whole.
    portal
        .append(r#"{"kind":"correction","target":20,"reason":"trùng giao dịch"}"#)
        .assert()
        .success();
    let line = build_index_line(&portal, &out);
    assert!(!line.contains("lookup index: extended"), "{line}");
    assert_same(
        &out,
        &cold(&portal, "cold-corrected", PARTS),
        "after a correction",
    );
    // And the build after it extends again.
    portal.append(&donation(101)).assert().success();
    let line = build_index_line(&portal, &out);
    assert!(line.contains("lookup index: extended from"), "{line}");
    assert_same(
        &out,
        &cold(&portal, "cold-last", PARTS),
        "after the correction",
    );

    // Parts of another size are cut elsewhere: the open data is written
    // whole, as a cold build with that size writes it.
    let other: &[(&str, &str)] = &[("MINHBACH_PART_BYTES", "100000")];
    portal.append(&donation(102)).assert().success();
    let stderr = build(&portal, &out, other);
    assert!(
        !stderr.contains("open data: 8 downloads extended"),
        "{stderr}"
    );
    assert_same(
        &out,
        &cold(&portal, "cold-other-size", other),
        "another part size",
    );
}

/// Chunks of 16 donation rows in the model cache, so a small ledger has
/// several (65,536 otherwise).
const SMALL_CHUNKS: &[(&str, &str)] = &[("MINHBACH_MODEL_CHUNK_ROWS", "16")];

/// `count` donations to the sample's fund, numbered from `from`.
fn donations(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| {
            format!(
                r#"{{"kind":"donation","fund":"bao-so-5","donor":"Người ủng hộ {n}","amount":{},"date":"2025-09-15","channel":"bank","ref":"FT{n:06}"}}"#,
                100_000 + n
            ) + "\n"
        })
        .collect()
}

/// The `render: K of N pages kept` line's N - K.
fn pages_rendered(steps: &str) -> usize {
    let line = steps
        .lines()
        .find(|line| line.contains("pages kept"))
        .unwrap_or_else(|| panic!("no render line:\n{steps}"));
    let numbers: Vec<usize> = line
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    numbers[1] - numbers[0]
}

/// A rebuild reads no donation rows but those of the pages that change:
/// the pages of rows in full chunks are fingerprinted by the chunks' names.
/// A chunk damaged since is noticed when a page needs its rows, and the
/// build then makes every row again; the output is a cold build's either way.
#[test]
fn a_rebuild_reads_only_the_donation_rows_it_shows() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let config = portal.root().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("page_size = 5\n{text}")).unwrap();
    // 122 donations: seven full chunks and ten rows after them.
    portal.append(&donations(0, 120)).assert().success();
    let out = portal.dir.path().join("out");
    build(&portal, &out, SMALL_CHUNKS);

    portal.append(&donations(120, 1)).assert().success();
    let steps = build(&portal, &out, SMALL_CHUNKS);
    assert!(steps.contains("from the model cache"), "{steps}");
    // The newest chunks only: the 50 newest entries (the feed's, rows 73
    // to 122) are in the last three and the tail.
    assert!(
        steps.contains("model: 3 of 7 chunks of donation rows read (model cache)"),
        "{steps}"
    );
    let rendered = pages_rendered(&steps);
    assert!(rendered <= 12, "{rendered} pages rendered:\n{steps}");
    assert_same(
        &out,
        &cold(&portal, "cold-chunks", SMALL_CHUNKS),
        "rows in chunks",
    );

    // Every chunk damaged, and a page of the oldest rows removed from the
    // output: that page needs chunk 0's rows, finds them damaged, and the
    // build makes every row again (writing the chunks anew).
    let chunks = portal.dir.path().join(".out.model-chunks");
    for file in std::fs::read_dir(&chunks).unwrap() {
        let path = file.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[5] ^= 1;
        std::fs::write(&path, bytes).unwrap();
    }
    let oldest = routes::numbered(routes::DONATIONS, 1);
    std::fs::remove_file(out.join(format!("{}index.html", oldest.trim_start_matches('/'))))
        .unwrap();
    let steps = build(&portal, &out, SMALL_CHUNKS);
    assert!(steps.contains("every entry is needed"), "{steps}");
    assert_same(
        &out,
        &cold(&portal, "cold-damaged-chunk", SMALL_CHUNKS),
        "a damaged chunk",
    );
    let steps = build(&portal, &out, SMALL_CHUNKS);
    assert!(
        steps.contains("model: 3 of 7 chunks of donation rows read (model cache)"),
        "written again:\n{steps}"
    );
    assert_eq!(pages_rendered(&steps), 0, "{steps}");
}
