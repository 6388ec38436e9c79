//! A rebuild after an append is the cold build of the same ledger, byte for
//! byte: after an entry of every kind, a correction that amends and one that
//! voids, a key admitted and a key revoked. A rebuild may reuse whatever it
//! likes of the previous build; what it publishes may not differ.

use crate::common;

use common::{SAMPLE, TestPortal, snapshot};
use std::path::Path;

/// Builds into `output` and returns the build's standard output.
fn build(portal: &TestPortal, output: &Path) -> String {
    let out = portal
        .run(&["build", "-o", output.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same ledger built from nothing: a new output folder and no
/// verified-state cache.
fn cold(
    portal: &TestPortal,
    name: &str,
) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let cache = portal.root().join(".minhbach/cache");
    if cache.exists() {
        std::fs::remove_dir_all(&cache).unwrap();
    }
    let dir = portal.dir.path().join(name);
    build(portal, &dir);
    snapshot(&dir)
}

#[test]
fn a_rebuild_equals_a_cold_build_after_every_kind_of_entry() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
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
        build(&portal, &out);
        let rebuilt = snapshot(&out);
        assert_ne!(rebuilt, before, "{what}: the site did not change");
        let cold = cold(&portal, &format!("cold-{number}"));
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
}
