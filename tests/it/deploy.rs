//! Deploying: the built demo served by Debian's nginx on loopback under a
//! sub-path with the committed `docs/deploy/nginx.conf`, checked with curl
//! (status, `Cache-Control`, `Content-Type` of every kind of file) and in
//! Chromium (the lookup page finds and proves a donation through nginx).

use crate::common;

use common::browser::{Chromium, chromium_binary};
use common::nginx::{Head, Nginx, curl_head, free_port, nginx_binary};
use common::{download_part, folder_of, log_file, minhbach, page_file};
use minhbach::site::routes;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const REVALIDATE: &str = "public, max-age=60, must-revalidate";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Builds the demo portal for `http://127.0.0.1:PORT/minhbach/` into
/// `root/minhbach/`.
fn build_demo_under_sub_path(root: &Path, port: u16) -> PathBuf {
    let site = root.join("minhbach");
    minhbach()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-o"])
        .arg(&site)
        .arg("--base-url")
        .arg(format!("http://127.0.0.1:{port}/minhbach/"))
        // Parts of 300 kB, so the demo's downloads are split as a national
        // portal's are at 25 MiB.
        .env("MINHBACH_PART_BYTES", "300000")
        .assert()
        .success();
    site
}

/// The first file under `dir` (sorted) whose path relative to the site
/// satisfies `wanted`.
fn find_file(site: &Path, under: &str, wanted: impl Fn(&str) -> bool) -> String {
    let mut found: Vec<String> = walkdir::WalkDir::new(site.join(under))
        .into_iter()
        .map(|e| e.expect("walk"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(site)
                .expect("inside")
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| wanted(p))
        .collect();
    found.sort();
    found
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no such file under {under}"))
}

fn expect(head: &Head, what: &str, cache_control: &str, content_type: &str) {
    assert_eq!(head.status, 200, "{what}");
    assert_eq!(head.header("cache-control"), Some(cache_control), "{what}");
    let got = head.header("content-type").unwrap_or("");
    // A full type (with its charset) must be exact: nginx's `charset` must
    // not add a second one.
    let exact = content_type.contains(';');
    assert!(
        if exact {
            got == content_type
        } else {
            got.starts_with(content_type)
        },
        "{what}: Content-Type `{got}`, expected `{content_type}`"
    );
}

#[test]
fn nginx_serves_the_demo_under_a_sub_path_with_the_cache_rules() {
    let Some(nginx_path) = nginx_binary() else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let root = scratch.path().join("www");
    let port = free_port();
    let site = build_demo_under_sub_path(&root, port);
    let nginx = Nginx::start(&nginx_path, &root, port);
    let url = |path: &str| format!("{}/minhbach/{path}", nginx.base());

    let partial = find_file(&site, &log_file("tile/0"), |p| p.contains(".p/"));
    let full = find_file(&site, &log_file("tile/0"), |p| !p.contains(".p/"));
    let bundle = find_file(&site, &log_file("tile/entries"), |p| !p.contains(".p/"));
    let photo = find_file(&site, folder_of(&routes::media("")), |p| {
        p.ends_with("thumb.webp")
    });
    let cases: Vec<(String, &str, &str)> = vec![
        (
            log_file("checkpoint"),
            REVALIDATE,
            "text/plain; charset=utf-8",
        ),
        (log_file("keys"), REVALIDATE, "text/plain; charset=utf-8"),
        (full, IMMUTABLE, "application/octet-stream"),
        (partial, REVALIDATE, "application/octet-stream"),
        (bundle, IMMUTABLE, "application/octet-stream"),
        (photo, IMMUTABLE, "image/webp"),
        (
            routes::file_of(routes::HOME).into(),
            REVALIDATE,
            "text/html",
        ),
        (
            routes::file_of(routes::DONATIONS).into(),
            REVALIDATE,
            "text/html",
        ),
        (
            format!("{}/manifest.json", routes::LOOKUP_INDEX_DIR),
            REVALIDATE,
            "application/json",
        ),
        ("style.css".into(), REVALIDATE, "text/css"),
        (page_file(routes::OPEN_DATA), REVALIDATE, "text/html"),
        (download_part(1), REVALIDATE, "application/octet-stream"),
        (routes::PARTS_FILE.into(), REVALIDATE, "application/json"),
    ];
    for (path, cache_control, content_type) in &cases {
        let head = curl_head(&url(path));
        expect(&head, path, cache_control, content_type);
    }
    // The checkpoint's bytes come through unchanged.
    let served = std::process::Command::new("curl")
        .args(["-sS", &url(&log_file("checkpoint"))])
        .output()
        .expect("curl");
    assert_eq!(
        served.stdout,
        std::fs::read(site.join(log_file("checkpoint"))).expect("checkpoint")
    );
    // A missing file is a 404 that no cache keeps for a year, and the
    // other hosts' `_headers` is not served.
    let missing = curl_head(&url(&log_file("tile/0/999")));
    assert_eq!(missing.status, 404);
    assert_ne!(missing.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(curl_head(&url("_headers")).status, 404);

    // The log verifies over HTTP through nginx.
    minhbach()
        .args(["verify", "--site", &url(""), "--state"])
        .arg(scratch.path().join("state"))
        .assert()
        .success()
        .stdout(predicates::str::contains("every tile, entry, invariant"));
}

#[test]
fn chromium_finds_and_proves_a_donation_through_nginx() {
    let Some(nginx_path) = nginx_binary() else {
        return;
    };
    let Some(chromium) = chromium_binary() else {
        assert!(
            !common::browser::required(),
            "Chromium is required but not installed"
        );
        eprintln!("no Chromium found; the browser test did not run");
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let root = scratch.path().join("www");
    let port = free_port();
    build_demo_under_sub_path(&root, port);
    let nginx = Nginx::start(&nginx_path, &root, port);
    let (seq, reference) = a_donation_with_a_reference();

    let mut browser = Chromium::launch(&chromium);
    browser.navigate(&format!("{}/minhbach{}", nginx.base(), routes::LOOKUP_VI));
    browser
        .wait_for("document.readyState === 'complete' && !!document.querySelector('form#lookup')");
    browser.eval(&format!(
        "(() => {{ const form = document.querySelector('form#lookup'); \
         form.querySelector('input[name=q]').value = {}; form.requestSubmit(); }})()",
        json!(reference)
    ));
    browser.wait_for(&format!(
        "(() => {{ const li = document.querySelector('#results li.donation[data-seq=\"{seq}\"]'); \
         return !!li && !!li.dataset.proof; }})()"
    ));
    let proof = browser.eval(&format!(
        "document.querySelector('#results li.donation[data-seq=\"{seq}\"]').dataset.proof"
    ));
    assert_eq!(
        proof,
        json!("ok"),
        "the donation {seq} ({reference}) was not proven"
    );
}

/// The newest donation of the demo ledger with a bank reference:
/// (seq, reference).
fn a_donation_with_a_reference() -> (u64, String) {
    let entries = Path::new(env!("CARGO_MANIFEST_DIR")).join("ledger/entries");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(entries)
        .expect("entries")
        .map(|e| e.expect("entry").path())
        .collect();
    segments.sort();
    let last = segments.last().expect("a segment");
    let text = std::fs::read_to_string(last).expect("segment");
    let entry = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("an entry"))
        .rfind(|e| e["kind"] == "donation" && e["ref"].is_string())
        .expect("a donation with a reference");
    (
        entry["seq"].as_u64().expect("seq"),
        entry["ref"].as_str().expect("ref").to_string(),
    )
}

/// A portal whose ledger download (and donation CSV) is over 25 MiB: 1,900
/// donations, each with a 5,000-character note of 3-byte letters.
fn portal_with_a_large_ledger() -> common::TestPortal {
    let portal = common::TestPortal::new();
    let mut lines =
        String::from(r#"{"kind":"fund","id":"bao-so-5","name":"Bão số 5","description":"Ủng hộ"}"#);
    lines.push('\n');
    let note = "ữ".repeat(5_000);
    for n in 0..1_900 {
        lines.push_str(&format!(
            r#"{{"kind":"donation","fund":"bao-so-5","donor":"Người {n}","amount":{},"date":"2025-09-12","channel":"bank","ref":"FT{n:08}","note":"{note}"}}"#,
            10_000 + n
        ));
        lines.push('\n');
    }
    portal.append(&lines).assert().success();
    portal
}

#[test]
fn check_host_fails_on_a_file_over_the_limit_and_passes_after_the_split() {
    let portal = portal_with_a_large_ledger();
    let site = portal.dir.path().join("site");
    let site_arg = site.to_str().unwrap();
    // Built as before downloads were split: one 27 MB ledger file.
    portal
        .run(&["build", "-o", site_arg])
        .env("MINHBACH_PART_BYTES", "1000000000")
        .assert()
        .success();
    assert!(
        std::fs::metadata(site.join(routes::DOWNLOAD_FILE))
            .unwrap()
            .len()
            > 25 << 20
    );
    let refused = portal
        .run(&["check", "--host", "cloudflare-pages", "-o", site_arg])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("over cloudflare-pages's limit of 25.0 MiB per file")
            && stderr.contains(&format!("`{}`", routes::DOWNLOAD_FILE))
            && stderr.contains(&format!("`{}`", routes::table_file("donation")))
            && stderr.contains("splits downloads into parts"),
        "{stderr}"
    );
    // GitHub Pages takes 100 MB files: the same site fits.
    portal
        .run(&["check", "--host", "github-pages", "-o", site_arg])
        .assert()
        .success();

    // Built again with the split: every file fits, and the parts join
    // back into the ledger.
    portal.run(&["build", "-o", site_arg]).assert().success();
    assert!(!site.join(routes::DOWNLOAD_FILE).exists());
    portal
        .run(&["check", "--host", "cloudflare-pages", "-o", site_arg])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "ok: the site fits cloudflare-pages",
        ));
    let index: Value =
        serde_json::from_slice(&std::fs::read(site.join(routes::PARTS_FILE)).unwrap()).unwrap();
    let ledger = index["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|file| file["path"] == routes::DOWNLOAD_FILE)
        .expect("the ledger is split");
    let mut joined = Vec::new();
    for part in ledger["parts"].as_array().unwrap() {
        let bytes = std::fs::read(site.join(part["path"].as_str().unwrap())).unwrap();
        assert!(bytes.len() as u64 <= 25 << 20);
        assert_eq!(part["bytes"].as_u64(), Some(bytes.len() as u64));
        joined.extend_from_slice(&bytes);
    }
    assert_eq!(joined, std::fs::read(portal.segment()).unwrap());
    let page = std::fs::read_to_string(site.join(page_file(routes::OPEN_DATA))).unwrap();
    let part = download_part(2);
    let part_name = part.rsplit('/').next().unwrap();
    assert!(page.contains(part_name) && page.contains("SHA-256"));
    // The site's log verifies with the split layout.
    portal
        .run(&["verify", "--site", site_arg])
        .assert()
        .success();
}

// ---- verify --site URL: watching the published log over HTTP ----------------

/// `minhbach verify --site URL --state STATE`.
fn verify_url(url: &str, state: &Path) -> assert_cmd::assert::Assert {
    minhbach()
        .args(["verify", "--site", url, "--state"])
        .arg(state)
        .assert()
}

fn donation(n: u32) -> String {
    format!(
        "{{\"kind\":\"donation\",\"fund\":\"bao-so-5\",\"donor\":\"Người {n}\",\"amount\":{},\"date\":\"2025-09-12\",\"channel\":\"bank\",\"ref\":\"FT{n:08}\"}}\n",
        10_000 + n
    )
}

/// A portal with a fund and two signed batches of donations.
fn small_portal() -> common::TestPortal {
    let portal = common::TestPortal::new();
    let fund = r#"{"kind":"fund","id":"bao-so-5","name":"Bão số 5","description":"Ủng hộ"}"#;
    portal
        .append(&format!("{fund}\n{}", donation(1)))
        .assert()
        .success();
    portal
        .append(&format!("{}{}", donation(2), donation(3)))
        .assert()
        .success();
    portal
}

fn build(portal_root: &Path, site: &Path) {
    minhbach()
        .current_dir(portal_root)
        .args(["build", "--force", "-o"])
        .arg(site)
        .assert()
        .success();
}

fn stderr_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

fn checkpoint_size(site: &Path) -> u64 {
    let text = std::fs::read_to_string(site.join(log_file("checkpoint"))).expect("checkpoint");
    text.lines()
        .nth(1)
        .expect("size line")
        .parse()
        .expect("a size")
}

#[test]
fn verify_site_url_remembers_checkpoints_and_catches_a_rollback() {
    let portal = small_portal();
    let site = portal.dir.path().join("site");
    let state = portal.dir.path().join("state");
    build(&portal.root(), &site);
    let url = format!("{}/", common::browser::serve(site.clone()));

    verify_url(&url, &state)
        .success()
        .stdout(predicates::str::contains("first time this log is seen"));
    let size = checkpoint_size(&site);
    // The same site again, then a grown one: proven consistent.
    verify_url(&url, &state)
        .success()
        .stdout(predicates::str::contains(format!(
            "consistent with checkpoint {size}"
        )));
    portal.append(&donation(4)).assert().success();
    build(&portal.root(), &site);
    verify_url(&url, &state)
        .success()
        .stdout(predicates::str::contains(format!(
            "consistent with checkpoint {size} (root"
        )))
        .stdout(predicates::str::contains("consistency proof of"));

    // `--since` with a URL: the site extends a checkpoint kept by hand.
    let kept = portal.ledger().join(format!("checkpoints/{size:012}"));
    minhbach()
        .args(["verify", "--site", &url, "--state"])
        .arg(&state)
        .arg("--since")
        .arg(&kept)
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "ok: extends the older checkpoint",
        ));

    // The served checkpoint swapped for an older, validly signed one.
    let newest = checkpoint_size(&site);
    let older = portal.ledger().join(format!("checkpoints/{size:012}"));
    std::fs::copy(&older, site.join(log_file("checkpoint"))).expect("swap the checkpoint");
    let refused = verify_url(&url, &state).code(1);
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains("rollback")
            && stderr.contains(&format!("now shows checkpoint {size} (root"))
            && stderr.contains(&format!("older than checkpoint {newest} (root")),
        "{stderr}"
    );
    // Not remembered: the next run fails as well.
    verify_url(&url, &state).code(1);

    // A new log under another origin, in place of the old one.
    let other = portal_with_origin(portal.dir.path(), "other.minhbach.example/ledger");
    build(&other, &site);
    let stderr = stderr_of(&verify_url(&url, &state).code(1));
    assert!(
        stderr.contains("now serves the log `other.minhbach.example/ledger`, not the log `test.minhbach.example/ledger`"),
        "{stderr}"
    );
}

/// A portal of the log `origin`, with a fund and a donation signed by its
/// administrator: returns its folder.
fn portal_with_origin(dir: &Path, origin: &str) -> PathBuf {
    let root = dir.join("other-portal");
    let key = dir.join("other-keys/admin.key");
    minhbach()
        .arg("init")
        .arg(&root)
        .arg("--key")
        .arg(&key)
        .args(["--origin", origin])
        .assert()
        .success();
    let fund = r#"{"kind":"fund","id":"bao-so-5","name":"Bão số 5","description":"Ủng hộ"}"#;
    minhbach()
        .current_dir(&root)
        .arg("append")
        .arg("--key")
        .arg(&key)
        .arg("-")
        .write_stdin(format!("{fund}\n{}", donation(1)))
        .assert()
        .success();
    root
}

/// A copy of a portal folder: the same keys sign a different history.
fn copy_portal(from: &Path, to: &Path) {
    for item in walkdir::WalkDir::new(from) {
        let item = item.expect("walk");
        let target = to.join(item.path().strip_prefix(from).expect("inside"));
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
}

#[test]
fn verify_site_url_catches_a_fork_signed_with_the_same_key() {
    let portal = small_portal();
    let fork = portal.dir.path().join("fork");
    copy_portal(&portal.root(), &fork);
    let site = portal.dir.path().join("site");
    let state = portal.dir.path().join("state");
    portal.append(&donation(10)).assert().success();
    build(&portal.root(), &site);
    let url = format!("{}/", common::browser::serve(site.clone()));
    verify_url(&url, &state).success();
    let seen = checkpoint_size(&site);

    // The same officer key signs another entry at the same position: the
    // site is replaced by this fork, which verifies on its own.
    let officer = portal.officer_key.to_str().unwrap();
    minhbach()
        .current_dir(&fork)
        .args(["append", "--key", officer, "-"])
        .write_stdin(donation(11))
        .assert()
        .success();
    build(&fork, &site);
    assert_eq!(checkpoint_size(&site), seen);
    let refused = verify_url(&url, &state).code(1);
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains("fork") && stderr.matches(&format!("checkpoint {seen} (root")).count() == 2,
        "{stderr}"
    );
    // A longer fork does not extend what was seen either.
    minhbach()
        .current_dir(&fork)
        .args(["append", "--key", officer, "-"])
        .write_stdin(donation(12))
        .assert()
        .success();
    build(&fork, &site);
    let refused = verify_url(&url, &state).code(1);
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains("fork")
            && stderr.contains(&format!("now shows checkpoint {} (root", seen + 1))
            && stderr.contains(&format!("does not extend checkpoint {seen} (root")),
        "{stderr}"
    );
}

#[test]
fn verify_site_url_explains_an_unreachable_site_and_a_page_that_is_not_a_log() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let state = scratch.path().join("state");
    let nobody = format!("http://127.0.0.1:{}/", free_port());
    let refused = verify_url(&nobody, &state).code(1);
    let stderr = stderr_of(&refused);
    assert!(
        stderr.contains(&format!("cannot reach {nobody}")) && stderr.contains("after 4 tries"),
        "{stderr}"
    );

    // A plain site: no `ledger/checkpoint`.
    let plain = scratch.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("index.html"), "<!DOCTYPE html><p>Xin chào</p>").unwrap();
    let url = format!("{}/", common::browser::serve(plain.clone()));
    let stderr = stderr_of(&verify_url(&url, &state).code(1));
    assert!(
        stderr.contains(&format!("{url} is not a minhbach log"))
            && stderr.contains(&format!(
                "{}` was not found (HTTP 404)",
                log_file("checkpoint")
            )),
        "{stderr}"
    );
    // A site that answers a page where the checkpoint should be.
    std::fs::create_dir_all(plain.join(folder_of(routes::LEDGER_DIR))).unwrap();
    std::fs::write(
        plain.join(log_file("checkpoint")),
        "<!DOCTYPE html><p>Xin chào</p>",
    )
    .unwrap();
    let stderr = stderr_of(&verify_url(&url, &state).code(1));
    assert!(
        stderr.contains("is not a minhbach log") && stderr.contains("is not a signed checkpoint"),
        "{stderr}"
    );
    assert!(
        !state.exists(),
        "nothing is remembered of a site that is not a log"
    );
}

#[test]
fn split_ledger_parts_are_rebuilt_when_tampered_with_and_follow_appends() {
    let portal = small_portal();
    let site = portal.dir.path().join("site");
    let build_split = || {
        portal
            .run(&["build", "-o", site.to_str().unwrap()])
            .env("MINHBACH_PART_BYTES", "700")
            .assert()
            .success()
    };
    let joined = || {
        let mut bytes = Vec::new();
        for number in 1.. {
            let part = site.join(download_part(number));
            let Ok(part) = std::fs::read(part) else { break };
            assert!(part.len() <= 700);
            bytes.extend(part);
        }
        bytes
    };
    build_split();
    let ledger = std::fs::read(portal.segment()).unwrap();
    assert_eq!(joined(), ledger);
    // Unchanged ledger: nothing to write; a part changed by hand is put back.
    build_split().stdout(predicates::str::contains(": 0 written"));
    std::fs::write(site.join(download_part(2)), "{}\n").unwrap();
    build_split();
    assert_eq!(joined(), ledger);
    // An append: the parts follow the ledger.
    portal.append(&donation(5)).assert().success();
    build_split();
    assert_eq!(joined(), std::fs::read(portal.segment()).unwrap());
}
