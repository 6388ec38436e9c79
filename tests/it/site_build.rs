//! `minhbach build` and `check` through the binary, on small portals made
//! with `init`, `key` and `append`.

use crate::common;

use common::{SAMPLE, TestPortal, log_file, page_file, page_in, snapshot};
use minhbach::site::routes;
use predicates::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A portal with the sample entries, a voided donation and `page_size = 2`.
fn sample_portal() -> TestPortal {
    let portal = TestPortal::new();
    set_page_size(&portal, 2);
    portal.append(SAMPLE).assert().success();
    // Entry 3 is the first donation (500.000 ₫): void it.
    portal
        .append(r#"{"kind":"correction","target":3,"reason":"Nhập trùng giao dịch"}"#)
        .assert()
        .success();
    portal
}

fn set_page_size(portal: &TestPortal, size: usize) {
    let path = portal.root().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("page_size = {size}\n{text}")).unwrap();
}

fn build(portal: &TestPortal, output: &Path) {
    portal
        .run(&["build", "-o", output.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("built"));
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text_files(files: &BTreeMap<PathBuf, Vec<u8>>) -> impl Iterator<Item = (&PathBuf, String)> {
    files
        .iter()
        .map(|(path, bytes)| (path, String::from_utf8_lossy(bytes).into_owned()))
}

#[test]
fn every_page_kind_is_built() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    for page in [
        page_file(routes::HOME),
        page_file(&page_in("en", routes::HOME)),
        page_file(&routes::fund("bao-so-5")),
        page_file(&page_in("en", &routes::fund("bao-so-5"))),
        page_file(routes::DONATIONS),
        page_file(&routes::numbered(routes::DONATIONS, 1)),
        page_file(routes::DISBURSEMENTS),
        page_file(&routes::numbered(routes::DISBURSEMENTS, 1)),
        page_file(routes::HOUSEHOLDS),
        page_file(&routes::province("quang-tri")),
        page_file(&routes::commune("quang-tri", "xa-vinh-linh")),
        page_file(&routes::household("qt-0001")),
        page_file(routes::REPORTS),
        page_file(&routes::report("2025-09-14")),
        page_file(routes::VERIFY),
        page_file(routes::OPEN_DATA),
        routes::DOWNLOAD_FILE.into(),
        routes::table_file("donation"),
        routes::table_file("household"),
        routes::FEED_FILE.into(),
        routes::CHECKPOINT_FILE.into(),
        "gioi-thieu/index.html".into(),
        routes::SITEMAP_FILE.into(),
        routes::ROBOTS_FILE.into(),
        routes::file_of(routes::NOT_FOUND).into(),
        "style.css".into(),
    ] {
        assert!(out.join(&page).is_file(), "missing {page}");
    }
    let fund = read(out.join(page_file(&routes::fund("bao-so-5"))));
    // The voided donation is listed as voided and not counted.
    assert!(fund.contains("<strong>2.000.000 ₫</strong>"), "{fund}");
    assert!(fund.contains(r#"<tr id="e3" class="voided">"#), "{fund}");
    assert!(fund.contains("Nhập trùng giao dịch"), "{fund}");
    let household = read(out.join(page_file(&routes::household("qt-0001"))));
    assert!(household.contains("Lê Thị Hoa"));
    assert!(household.contains("1.500.000 ₫"));
    assert!(read(out.join(page_file(&page_in("en", routes::HOME)))).contains("<html lang=\"en\">"));
    assert!(read(out.join(page_file(routes::VERIFY))).contains("test.minhbach.example/ledger"));
    assert!(read(out.join(page_file(&routes::report("2025-09-14")))).contains("Đã duyệt"));
}

/// Every path `site::routes` names exists in a built site, in each language:
/// the one place paths are spelled and what the build writes cannot drift.
#[test]
fn every_route_is_a_file_the_build_writes() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    let page = |language: &str, path: &str| out.join(page_file(&page_in(language, path)));
    for language in ["vi", "en"] {
        for path in [
            routes::HOME,
            routes::DONATIONS,
            routes::DISBURSEMENTS,
            routes::HOUSEHOLDS,
            routes::REPORTS,
            routes::VERIFY,
            routes::OPEN_DATA,
            routes::lookup(language),
            &routes::numbered(routes::DONATIONS, 1),
            &routes::fund("bao-so-5"),
        ] {
            assert!(page(language, path).is_file(), "{language} {path}");
        }
    }
    for file in [
        routes::DOWNLOAD_FILE,
        routes::PARTS_FILE,
        routes::FEED_FILE,
        routes::CHECKPOINT_FILE,
        routes::SITEMAP_FILE,
        routes::ROBOTS_FILE,
        &routes::table_file("donation"),
        &format!("{}/manifest.json", routes::LOOKUP_INDEX_DIR),
        &log_file("checkpoint"),
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert!(out.join(routes::file_of(routes::NOT_FOUND)).is_file());
}

#[test]
fn private_fields_never_reach_the_site() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    for (path, text) in text_files(&snapshot(&out)) {
        for secret in [
            "045190001234",
            "0912345678",
            "912345678",
            "190001234",
            "********1234",
        ] {
            assert!(!text.contains(secret), "`{secret}` in {}", path.display());
        }
        // Commitments appear only in the exact copies of the ledger (the
        // download and the entry bundles, so they re-hash to the signed
        // root), never on pages or in CSVs.
        let ledger_copy = path == std::path::Path::new(routes::DOWNLOAD_FILE)
            || path.starts_with(log_file("tile/entries"));
        if !ledger_copy {
            assert!(!text.contains("hmac"), "a commitment in {}", path.display());
        }
    }
    let copy = read(out.join(routes::DOWNLOAD_FILE));
    assert_eq!(
        copy,
        read(portal.segment()),
        "the published ledger is the exact entry lines"
    );
}

#[test]
fn donor_names_are_escaped() {
    let portal = sample_portal();
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"<script>alert(1)</script>","amount":100000,"date":"2025-09-15","channel":"bank","ref":"FT-XSS"}"#)
        .assert()
        .success();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    let mut seen = 0;
    for (path, text) in text_files(&snapshot(&out)) {
        let name = path.to_string_lossy();
        if !(name.ends_with(".html") || name.ends_with(".xml")) {
            continue;
        }
        assert!(!text.contains("<script>alert"), "unescaped in {name}");
        if text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") {
            seen += 1;
        }
    }
    assert!(
        seen >= 2,
        "the escaped donor should appear on several pages"
    );
}

#[test]
fn builds_are_deterministic_and_incremental() {
    let portal = sample_portal();
    let first = portal.dir.path().join("first");
    let second = portal.dir.path().join("second");
    build(&portal, &first);
    build(&portal, &second);
    assert_eq!(snapshot(&first), snapshot(&second));
    // Rebuilding into the same directory renders and rewrites nothing: every
    // page's fingerprint is the same from one process to the next (a hash
    // map in a context would not be).
    let rebuild = portal
        .run(&["build", "-v", "-o", first.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 0 written,"))
        .stdout(predicate::str::contains(" 0 removed"));
    let (kept, total) = pages_kept(rebuild.get_output());
    assert_eq!(kept, total, "a rebuild keeps every page");
}

/// `(kept, total)` from the "N of M pages kept" line of `build -v`.
fn pages_kept(output: &std::process::Output) -> (usize, usize) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let line = stderr
        .lines()
        .find(|line| line.contains("pages kept"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let numbers: Vec<usize> = line
        .split(' ')
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn a_rebuild_skips_unchanged_pages_yet_always_equals_a_cold_build() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    let cold = |name: &str| {
        let dir = portal.dir.path().join(name);
        build(&portal, &dir);
        snapshot(&dir)
    };
    build(&portal, &out);
    assert!(
        portal.dir.path().join(".out.manifest").is_file(),
        "the manifest sits beside the output"
    );
    // An append: the pages it touches change, the others are kept.
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Người mới","amount":300000,"date":"2025-09-16","channel":"bank","ref":"FT-NEW-1"}"#)
        .assert()
        .success();
    let rebuild = portal
        .run(&["build", "-v", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    let (kept, total) = pages_kept(&rebuild);
    assert!(kept > total / 2 && kept < total, "{kept} of {total} kept");
    assert_eq!(snapshot(&out), cold("cold-1"));
    // A template changed: every page depends on the templates.
    std::fs::create_dir_all(portal.root().join("templates")).unwrap();
    std::fs::write(
        portal.root().join("templates/404.html"),
        "{% extends \"base.html\" %}{% block content %}<p>trang riêng</p>{% endblock content %}",
    )
    .unwrap();
    let rebuild = portal
        .run(&["build", "-v", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        pages_kept(&rebuild).0,
        0,
        "a template changed: nothing is kept"
    );
    assert!(read(out.join(routes::file_of(routes::NOT_FOUND))).contains("trang riêng"));
    assert_eq!(snapshot(&out), cold("cold-2"));
    // Pages edited or deleted by hand are put back, though their inputs
    // did not change.
    // So are the ledger download and an entry bundle, which a rebuild
    // keeps unread when the ledger did not change.
    std::fs::write(
        out.join(page_file(&routes::household("qt-0001"))),
        "sửa tay",
    )
    .unwrap();
    std::fs::remove_file(out.join(page_file(&routes::fund("bao-so-5")))).unwrap();
    std::fs::write(out.join(routes::DOWNLOAD_FILE), "{}\n").unwrap();
    let bundle = walkdir::WalkDir::new(out.join(log_file("tile/entries")))
        .into_iter()
        .map(|entry| entry.unwrap())
        .find(|entry| entry.file_type().is_file())
        .expect("an entry bundle");
    std::fs::write(bundle.path(), "").unwrap();
    portal
        .run(&["build", "-o", out.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains(" 4 written,"));
    assert_eq!(snapshot(&out), cold("cold-3"));
}

#[test]
fn numbered_pages_are_stable_across_an_append() {
    // Regression for issue 3: page N always holds the same entries.
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    let donations = |n: usize| out.join(page_file(&routes::numbered(routes::DONATIONS, n)));
    let page_one = std::fs::read(donations(1)).unwrap();
    assert!(!donations(3).exists());
    for (index, amount) in [(1, 300_000), (2, 400_000)] {
        portal
            .append(&format!(
                r#"{{"kind":"donation","fund":"bao-so-5","donor":"Người {index}","amount":{amount},"date":"2025-09-16","channel":"bank","ref":"FT-NEW-{index}"}}"#
            ))
            .assert()
            .success();
    }
    build(&portal, &out);
    assert_eq!(
        std::fs::read(donations(1)).unwrap(),
        page_one,
        "page 1 changed after an append"
    );
    let page_two = read(donations(2));
    assert!(page_two.contains("Người 1"), "{page_two}");
    let newest = read(out.join(page_file(routes::DONATIONS)));
    assert!(newest.contains("Người 2"), "{newest}");
    assert!(donations(3).is_file());
}

#[test]
fn portal_templates_override_the_theme() {
    let portal = sample_portal();
    std::fs::create_dir_all(portal.root().join("templates")).unwrap();
    std::fs::write(
        portal.root().join("templates/404.html"),
        "{% extends \"base.html\" %}{% block content %}<p>trang riêng của cổng</p>{% endblock content %}",
    )
    .unwrap();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    assert!(read(out.join(routes::file_of(routes::NOT_FOUND))).contains("trang riêng của cổng"));
}

#[test]
fn a_sub_path_site_has_no_broken_links() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    portal
        .run(&[
            "build",
            "-o",
            out.to_str().unwrap(),
            "--base-url",
            "https://example.github.io/minhbach/",
        ])
        .assert()
        .success();
    let files: BTreeMap<String, Vec<u8>> = snapshot(&out)
        .into_iter()
        .map(|(path, bytes)| (path.to_string_lossy().replace('\\', "/"), bytes))
        .collect();
    let broken = minhbach::site::links::broken_links(&files, "/minhbach/");
    assert!(broken.is_empty(), "{broken:?}");
    assert!(
        read(out.join(page_file(routes::HOME)))
            .contains(&format!("href=\"/minhbach{}\"", routes::DONATIONS))
    );
    assert!(read(out.join(routes::ROBOTS_FILE)).contains(&format!(
        "https://example.github.io/minhbach/{}",
        routes::SITEMAP_FILE
    )));
}

#[test]
fn check_passes_and_writes_nothing() {
    let portal = sample_portal();
    portal.run(&["check"]).assert().success();
    assert!(!portal.root().join("public").exists());
}

#[test]
fn check_names_a_broken_internal_link() {
    let portal = sample_portal();
    std::fs::write(
        portal.root().join("content/sai.md"),
        "+++\ntitle = \"Sai\"\n+++\n\nĐoạn một.\n\nXem [trang](@/khong-co.md).\n",
    )
    .unwrap();
    portal
        .run(&["check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`content/sai.md` line 7"))
        .stderr(predicate::str::contains("@/khong-co.md"));
    assert!(!portal.root().join("public").exists());
}

#[test]
fn a_content_page_at_a_generated_page_s_place_is_refused() {
    let portal = sample_portal();
    std::fs::write(
        portal.root().join("content/xac-minh.md"),
        "+++\ntitle = \"Xác minh\"\n+++\n\nTrang riêng.\n",
    )
    .unwrap();
    portal
        .run(&["build"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "would both be written to `xac-minh/index.html`; rename one",
        ))
        .stderr(predicate::str::contains("xac-minh.md"))
        .stderr(predicate::str::contains("the generated page Verify"));
    assert!(!portal.root().join("public").exists());
}

#[test]
fn check_names_a_template_error() {
    let portal = sample_portal();
    std::fs::create_dir_all(portal.root().join("templates")).unwrap();
    std::fs::write(
        portal.root().join("templates/page.html"),
        "{% extends \"base.html\" %}\n{% block content %}\n<p>{{ page.missing_field.deeper }}</p>\n{% endblock content %}\n",
    )
    .unwrap();
    portal
        .run(&["check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("templates/page.html:3"));
    // A syntax error is reported the same way.
    std::fs::write(
        portal.root().join("templates/page.html"),
        "{% extends \"base.html\" %}\n{% block content %}\n{{ page.title( }}\n{% endblock content %}\n",
    )
    .unwrap();
    portal
        .run(&["check"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("templates/page.html:3"));
}

#[test]
fn a_failed_build_leaves_the_output_untouched() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    let before = snapshot(&out);
    std::fs::create_dir_all(portal.root().join("templates")).unwrap();
    std::fs::write(
        portal.root().join("templates/household.html"),
        "{{ household.nope.nope }}",
    )
    .unwrap();
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"B","amount":1000,"date":"2025-09-16","channel":"cash"}"#)
        .assert()
        .success();
    portal
        .run(&["build", "-o", out.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("templates/household.html:1"))
        .stderr(predicate::str::contains("unchanged"));
    assert_eq!(snapshot(&out), before);
    let leftovers: Vec<_> = std::fs::read_dir(portal.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Names beside `out` (`.out.*`), sorted.
fn beside_output(portal: &TestPortal) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(portal.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".out."))
        .collect();
    names.sort();
    names
}

#[test]
fn what_a_killed_build_left_is_removed_by_the_next() {
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    build(&portal, &out);
    let built = snapshot(&out);
    let before = beside_output(&portal);
    // What a build killed half-way leaves beside its output, under names
    // that end in its process id: its staging directory with pages in it, a
    // manifest and a state not yet put in place, a chunk half written.
    let dir = portal.dir.path();
    let killed = "4000000000";
    let staging = dir.join(format!(".out.staging-{killed}"));
    std::fs::create_dir_all(staging.join("quy")).unwrap();
    std::fs::write(staging.join("quy/index.html"), "<p>half</p>").unwrap();
    std::fs::write(staging.join("17"), "a flat staged file").unwrap();
    std::fs::write(dir.join(format!(".out.manifest-{killed}")), "half").unwrap();
    std::fs::write(dir.join(format!(".out.model-state-{killed}")), "half").unwrap();
    let chunks = dir.join(".out.model-chunks");
    std::fs::create_dir_all(&chunks).unwrap();
    std::fs::write(chunks.join(format!("00ff-{killed}")), "half").unwrap();
    // A leftover that is a link is removed, not what it leads to; files of
    // the user's whose names are no temporary's stay.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("keep.txt"), "mine").unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join(".out.staging-4000000001")).unwrap();
    std::fs::write(dir.join(".out.notes"), "mine").unwrap();
    std::fs::write(dir.join(".out.backup-20251130"), "mine").unwrap();

    build(&portal, &out);
    let mut expected = before.clone();
    expected.push(".out.notes".into());
    expected.push(".out.backup-20251130".into());
    expected.sort();
    assert_eq!(beside_output(&portal), expected);
    assert!(expected.contains(&".out.lock".to_string()), "{expected:?}");
    let chunk_names: Vec<String> = std::fs::read_dir(&chunks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        chunk_names.iter().all(|name| !name.ends_with(killed)),
        "{chunk_names:?}"
    );
    assert_eq!(read(elsewhere.join("keep.txt")), "mine");
    assert_eq!(snapshot(&out), built, "the output is the build's");
}

#[test]
fn a_second_build_of_one_output_waits_for_the_first() {
    use std::io::BufRead;
    let portal = sample_portal();
    let out = portal.dir.path().join("out");
    // The lock a running build holds on its output, taken here.
    let lock = std::fs::File::create(portal.dir.path().join(".out.lock")).unwrap();
    lock.lock().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("minhbach"))
        .current_dir(portal.root())
        .env("MINHBACH_TIME", common::TIME)
        .args(["build", "-o", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(
        line.contains("một lần dựng khác đang ghi") && line.contains("waiting for it"),
        "{line:?}"
    );
    // Waiting, it has written nothing.
    assert!(!out.exists());
    assert_eq!(child.try_wait().unwrap(), None);
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(out.join("index.html").is_file());
}

/// The verified-state cache (`.minhbach/cache/verified-state`) changes how
/// long a build takes, never what it writes: with it, without it, damaged,
/// or copied from another portal, the output is a cold build's; it never
/// reaches the output; and it never hides a changed entry.
#[test]
fn the_verified_state_cache_changes_only_the_time() {
    let portal = sample_portal();
    let cache = portal.root().join(".minhbach/cache/verified-state");
    let out = portal.dir.path().join("out");
    let build_verbose = |portal: &TestPortal| {
        let output = portal
            .run(&["build", "-v", "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
            .lines()
            .find(|line| line.contains("re-hashed only"))
            .unwrap_or_else(|| panic!("{stderr}"))
            .to_string()
    };
    let cold = |name: &str| {
        std::fs::remove_file(&cache).unwrap();
        let dir = portal.dir.path().join(name);
        build(&portal, &dir);
        snapshot(&dir)
    };
    assert!(cache.is_file(), "each append refreshes the cache");
    std::fs::remove_file(&cache).unwrap();
    assert_starts(build_verbose(&portal), "verify: 0 of 9 ");
    assert!(cache.is_file(), "a build writes the cache");
    assert_starts(build_verbose(&portal), "verify: 9 of 9 ");
    // An append judges only its own entries; the next build likewise.
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Người mới","amount":300000,"date":"2025-09-16","channel":"bank","ref":"FT-NEW-1"}"#)
        .assert()
        .success();
    assert_starts(build_verbose(&portal), "verify: 9 of 10 ");
    // Not written again for one entry: judging it again costs less than
    // writing the whole state (until a segment's worth has been appended).
    assert_starts(build_verbose(&portal), "verify: 9 of 10 ");
    let with_cache = snapshot(&out);
    assert_eq!(with_cache, cold("cold-1"));
    assert!(
        !with_cache
            .keys()
            .any(|path| path.to_string_lossy().contains("verified-state")),
        "the cache is not published"
    );
    // Damaged (in its first part, in the state read beside the re-hashing,
    // at its last byte): ignored, rewritten, same output.
    for at in [
        40,
        std::fs::metadata(&cache).unwrap().len() as usize / 2,
        usize::MAX,
    ] {
        let mut bytes = std::fs::read(&cache).unwrap();
        let at = at.min(bytes.len() - 1);
        bytes[at] ^= 0x40;
        std::fs::write(&cache, &bytes).unwrap();
        assert_starts(build_verbose(&portal), "verify: 0 of 10 ");
        assert_eq!(snapshot(&out), with_cache);
    }
    // Another portal's cache (same origin, same executable): ignored.
    let other = TestPortal::new();
    other.append(SAMPLE).assert().success();
    other.run(&["build"]).assert().success();
    std::fs::copy(other.root().join(".minhbach/cache/verified-state"), &cache).unwrap();
    assert_starts(build_verbose(&portal), "verify: 0 of 10 ");
    assert_eq!(snapshot(&out), with_cache);
    // A changed entry is caught with a good cache as without one.
    let segment = std::fs::read_to_string(portal.segment()).unwrap();
    std::fs::write(portal.segment(), segment.replacen("500000", "900000", 1)).unwrap();
    let with = portal
        .run(&["build"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    std::fs::remove_file(&cache).unwrap();
    let without = portal
        .run(&["build"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&with),
        String::from_utf8_lossy(&without)
    );
    assert!(String::from_utf8_lossy(&with).contains("does not verify"));
}

/// A full segment (65,536 entries) the cache covers joins the Merkle tree as
/// one subtree: the checkpoint signed after it and every later verification
/// must agree with a tree built leaf by leaf; a byte changed in it still
/// stops the build.
#[test]
fn a_whole_segment_from_the_cache_gives_the_same_tree_and_still_stops_a_tampered_build() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let mut csv = String::from("date,ref,amount,donor,note\n");
    for row in 0..70_000 {
        csv.push_str(&format!("2025-09-15,SEG{row},10000,Người {row},\n"));
    }
    portal.import_statement(&csv);
    // `check` judges the import and writes the cache over all of it; the
    // append after it takes segment 0 from the cache as one subtree, and
    // signs a checkpoint over the tree so built (its own cache, written as
    // it begins, covers the 70,008 entries before it).
    portal.run(&["check"]).assert().success();
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Người mới","amount":300000,"date":"2025-09-16","channel":"bank","ref":"FT-NEW-1"}"#)
        .assert()
        .success();
    portal
        .run(&["verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: 70009 entries"));
    // `build -v`, which must succeed: what it printed.
    let build = || {
        let output = portal.run(&["build", "-v"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        stderr
    };
    let stderr = build();
    assert!(
        stderr.contains("verify: 70008 of 70009 entries re-hashed only"),
        "{stderr}"
    );
    // A rebuild reads none of segment 0's entries: the cache vouches for
    // it by the SHA-256 of its bytes, its leaves are not hashed.
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Người mới","amount":400000,"date":"2025-09-16","channel":"bank","ref":"FT-NEW-2"}"#)
        .assert()
        .success();
    let stderr = build();
    assert!(
        stderr.contains(
            "verify: 70008 of 70010 entries re-hashed only (verified-state cache), \
             the first 65536 as whole segments by their digest"
        ),
        "{stderr}"
    );
    // The public log's tiles and bundles of the segment are the cold
    // build's, though its leaves were not hashed: the ones kept by its root
    // and, once removed, made again from its lines.
    let tiles = |portal: &TestPortal| snapshot(&portal.root().join("public/ledger"));
    let built = tiles(&portal);
    std::fs::remove_dir_all(portal.root().join(".minhbach/cache")).unwrap();
    let cold = portal.dir.path().join("cold");
    portal
        .run(&["build", "-o", cold.to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(snapshot(&cold.join("ledger")), built, "a cold build's log");
    let bundle = portal.root().join("public/ledger/tile/entries/007");
    let tile = portal.root().join("public/ledger/tile/1/000");
    std::fs::remove_file(&bundle).unwrap();
    std::fs::remove_file(&tile).unwrap();
    let stderr = build();
    assert!(
        stderr.contains("the first 65536 as whole segments"),
        "{stderr}"
    );
    assert_eq!(tiles(&portal), built, "the removed tiles made again");
    // And the log they make up verifies as published.
    portal
        .run(&["verify", "--site", "public"])
        .assert()
        .success()
        .stdout(predicate::str::contains("70010 entries"));

    // The trust rule: the cache vouches for the sealed segment by its root,
    // so a changed byte in it still stops the build, and the published site
    // stays as it was.
    let published = snapshot(&portal.root().join("public"));
    let sealed = std::fs::read_to_string(portal.segment()).unwrap();
    assert_eq!(sealed.lines().count(), 65_536, "segment 0 is full");
    std::fs::write(
        portal.segment(),
        sealed.replacen("\"Người 40000\"", "\"Người 40001\"", 1),
    )
    .unwrap();
    assert_ne!(std::fs::read_to_string(portal.segment()).unwrap(), sealed);
    portal
        .run(&["build"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("does not verify"))
        .stderr(predicate::str::contains("unchanged"));
    assert_eq!(snapshot(&portal.root().join("public")), published);
    portal.run(&["verify"]).assert().failure();
}

fn assert_starts(line: String, start: &str) {
    assert!(line.starts_with(start), "{line}");
}

/// `build -o` replaces the output folder's contents with the site, so it may
/// only ever delete what an earlier build of that folder wrote: the portal,
/// a folder above it or inside its sources, a symbolic link and a
/// non-empty folder of someone else's are refused, and files put into an
/// output by hand stay.
#[test]
fn build_output_never_deletes_what_no_build_made() {
    let portal = sample_portal();
    let ledger_before = portal.snapshot();
    let root = portal.root();
    let config = std::fs::read(root.join("config.toml")).unwrap();
    let secret = std::fs::read(root.join(".minhbach/secret")).unwrap();
    let refused = |output: &str, message: &str| {
        portal
            .run(&["build", "-o", output])
            .assert()
            .failure()
            .stderr(predicate::str::contains(message))
            .stderr(predicate::str::contains("refusing to build into"));
    };
    refused(".", "the portal or a folder above it");
    refused(root.to_str().unwrap(), "the portal or a folder above it");
    refused("..", "the portal or a folder above it");
    refused("ledger/site", "inside the portal's `ledger/`");
    refused("content", "inside the portal's `content/`");
    refused(".minhbach/site", "inside the portal's `.minhbach/`");
    assert_eq!(portal.snapshot(), ledger_before, "the ledger is untouched");
    assert_eq!(std::fs::read(root.join("config.toml")).unwrap(), config);
    assert_eq!(
        std::fs::read(root.join(".minhbach/secret")).unwrap(),
        secret
    );

    // Someone's folder: refused without --force, kept whole with it.
    let victim = portal.dir.path().join("victim");
    std::fs::create_dir_all(victim.join("sub")).unwrap();
    std::fs::write(victim.join("thesis.docx"), b"years of work").unwrap();
    std::fs::write(victim.join("sub/index.html"), b"mine").unwrap();
    refused(
        victim.to_str().unwrap(),
        "not empty and no earlier build made it",
    );
    assert_eq!(
        std::fs::read(victim.join("thesis.docx")).unwrap(),
        b"years of work"
    );
    portal
        .run(&["build", "--force", "-o", victim.to_str().unwrap()])
        .assert()
        .success();
    assert!(
        victim.join(page_file(routes::HOME)).is_file(),
        "the site is built"
    );
    assert_eq!(
        std::fs::read(victim.join("thesis.docx")).unwrap(),
        b"years of work"
    );
    assert_eq!(
        std::fs::read(victim.join("sub/index.html")).unwrap(),
        b"mine"
    );
    // The next build knows it (its manifest) and still deletes only its own.
    std::fs::write(victim.join("notes.txt"), b"added later").unwrap();
    build(&portal, &victim);
    assert_eq!(
        std::fs::read(victim.join("thesis.docx")).unwrap(),
        b"years of work"
    );
    assert_eq!(
        std::fs::read(victim.join("notes.txt")).unwrap(),
        b"added later"
    );

    // A symbolic link as the output root is refused; what it leads to stays.
    #[cfg(unix)]
    {
        let link = portal.dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        refused(link.to_str().unwrap(), "symbolic link");
        // Even an earlier build's output, reached through a link.
        let out = portal.dir.path().join("out");
        build(&portal, &out);
        let link = portal.dir.path().join("out-link");
        std::os::unix::fs::symlink(&out, &link).unwrap();
        refused(link.to_str().unwrap(), "symbolic link");
    }

    // An earlier build's output: a page the new build no longer makes goes,
    // a file put there by hand stays, and a directory of the output replaced
    // by a link is not followed to delete what it leads to.
    let out = portal.dir.path().join("out2");
    build(&portal, &out);
    let page = out.join("gioi-thieu/index.html");
    std::fs::write(out.join("by-hand.txt"), b"x").unwrap();
    let content = root.join("content/gioi-thieu.md");
    let about = std::fs::read(&content).unwrap();
    std::fs::remove_file(&content).unwrap();
    build(&portal, &out);
    std::fs::write(&content, about).unwrap();
    assert!(
        !page.exists(),
        "a page of the last build that is gone is removed"
    );
    assert!(
        out.join("by-hand.txt").is_file(),
        "a file put there by hand stays"
    );
    #[cfg(unix)]
    {
        build(&portal, &out);
        assert!(page.exists());
        let elsewhere = portal.dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("index.html"), b"not the site's").unwrap();
        std::fs::remove_dir_all(out.join("gioi-thieu")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("gioi-thieu")).unwrap();
        std::fs::remove_file(&content).unwrap();
        build(&portal, &out);
        assert_eq!(
            std::fs::read(elsewhere.join("index.html")).unwrap(),
            b"not the site's"
        );
    }
}
