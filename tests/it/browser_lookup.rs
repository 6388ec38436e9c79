//! The lookup page in a real browser: headless Chromium, driven over the
//! DevTools protocol (`--remote-debugging-pipe`, so no WebSocket client is
//! needed), against the demo site built into a temporary directory and served
//! by a tiny static server on 127.0.0.1.
//!
//! Chromium is `$CHROMIUM`, else `/usr/bin/chromium` (Debian's package; `.ci/run`
//! installs it). Without it the test says so and passes, unless
//! `MINHBACH_BROWSER_TESTS=required` (set by `.ci/run`), where it fails.

use crate::common;

use common::browser::{Chromium, chromium_binary, serve, serve_ignoring_ranges};
use common::{log_file, minhbach, page_file, page_in};
use minhbach::site::routes;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// What the lookup test does with the browser.
trait LookupPage {
    fn open(&mut self, url: &str);
    fn search(&mut self, query: &str) -> Vec<Found>;
}

impl LookupPage for Chromium {
    fn open(&mut self, url: &str) {
        self.navigate(url);
        self.wait_for(
            "document.readyState === 'complete' && !!document.querySelector('form#lookup')",
        );
    }

    /// Submits a query and waits until the search and the automatic proofs
    /// are done; returns the results.
    fn search(&mut self, query: &str) -> Vec<Found> {
        self.eval(&format!(
            "(() => {{ const form = document.querySelector('form#lookup'); \
             for (const input of form.querySelectorAll('input')) input.value = ''; \
             form.querySelector('input[name=q]').value = {}; form.requestSubmit(); }})()",
            json!(query)
        ));
        self.wait_for(
            "(() => { const status = document.getElementById('lookup-status').textContent; \
             if (!status || status === document.querySelector('form#lookup').dataset.tSearching) return false; \
             return [...document.querySelectorAll('#results li.donation')].every(li => \
               li.dataset.proof || li.querySelector('button.prove')); })()",
        );
        let rows = self.eval(
            "[...document.querySelectorAll('#results li.donation')].map(li => \
             ({seq: Number(li.dataset.seq), proof: li.dataset.proof || null, text: li.textContent}))",
        );
        serde_json::from_value::<Vec<Value>>(rows)
            .expect("a list")
            .into_iter()
            .map(|row| Found {
                seq: row["seq"].as_u64().expect("seq"),
                proof: row["proof"].as_str().map(str::to_string),
                text: row["text"].as_str().unwrap_or("").to_string(),
            })
            .collect()
    }
}

/// A copy of the demo portal whose newest checkpoint is signed by the demo
/// administrator, whose verifier key's base64 holds a `+`: the page once
/// split keys on every `+` and failed every proof for such keys.
fn signed_by_a_key_with_plus(dir: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let portal = dir.join("portal");
    for item in walkdir::WalkDir::new(repository).min_depth(1) {
        let item = item.expect("walk");
        let relative = item.path().strip_prefix(repository).expect("inside");
        let top = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str();
        if !["config.toml", "content", "ledger", "themes"]
            .iter()
            .any(|keep| top == *keep)
        {
            continue;
        }
        let target = portal.join(relative);
        if item.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(item.path(), &target).expect("copy");
        }
    }
    // The demo's keys are derived from public labels (examples/demo_portal.rs).
    let seed: [u8; 32] = Sha256::digest("minhbach DEMO ONLY, NOT SECRET: key mttq-quangtri").into();
    let key = minhbach::ledger::note::SigningKey::from_seed("mttq-quangtri", seed).expect("key");
    let vkey = key.verifier_key().to_string();
    assert!(vkey.split_once('+').unwrap().1[9..].contains('+'), "{vkey}");
    let key_file = dir.join("admin.key");
    std::fs::write(&key_file, key.to_file_text()).expect("key file");
    minhbach()
        .current_dir(&portal)
        .arg("append")
        .arg("--key")
        .arg(&key_file)
        .write_stdin(r#"{"kind":"donation","fund":"vi-nguoi-ngheo","donor":"Lê Văn Cộng","amount":150000,"date":"2025-12-01","channel":"cash"}"#)
        .assert()
        .success();
    portal
}

#[derive(Debug)]
struct Found {
    seq: u64,
    proof: Option<String>,
    text: String,
}

fn seqs(found: &[Found]) -> Vec<u64> {
    found.iter().map(|f| f.seq).collect()
}

// ---- the demo data the test looks for ---------------------------------------

/// The newest donation of the demo ledger by "Nguyễn Văn An" with a bank reference,
/// never corrected: (seq, amount, ref, date).
fn known_donation(portal: &Path) -> (u64, u64, String, String) {
    let mut lines = Vec::new();
    let mut segments: Vec<PathBuf> = std::fs::read_dir(portal.join("ledger/entries"))
        .expect("entries")
        .map(|e| e.expect("entry").path())
        .collect();
    segments.sort();
    for segment in segments {
        let text = std::fs::read_to_string(segment).expect("segment");
        lines.extend(
            text.lines()
                .map(|line| serde_json::from_str::<Value>(line).expect("an entry")),
        );
    }
    let corrected: Vec<u64> = lines
        .iter()
        .filter(|e| e["kind"] == "correction")
        .filter_map(|e| e["target"].as_u64())
        .collect();
    let entry = lines
        .iter()
        .rfind(|e| {
            e["kind"] == "donation"
                && e["donor"] == "Nguyễn Văn An"
                && e["ref"].is_string()
                && !corrected.contains(&e["seq"].as_u64().unwrap_or(0))
        })
        .expect("the demo has a donation by Nguyễn Văn An");
    (
        entry["seq"].as_u64().expect("seq"),
        entry["amount"].as_u64().expect("amount"),
        entry["ref"].as_str().expect("ref").to_string(),
        entry["date"].as_str().expect("date").to_string(),
    )
}

/// The size of entry bundle `n` of the site's log, whole or partial.
fn bundle_bytes(site: &Path, n: u64) -> u64 {
    let whole = site.join(log_file(&format!("tile/entries/{}", tile_path(n))));
    let file = match std::fs::metadata(&whole) {
        Ok(_) => whole,
        Err(_) => {
            let partial = site.join(log_file(&format!("tile/entries/{}.p", tile_path(n))));
            let mut widths = std::fs::read_dir(&partial).expect("a partial bundle");
            widths.next().expect("a width").expect("entry").path()
        }
    };
    std::fs::metadata(file).expect("bundle").len()
}

fn tile_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

#[test]
fn lookup_finds_and_proves_donations_in_chromium() {
    let Some(binary) = chromium_binary() else {
        let required = std::env::var("MINHBACH_BROWSER_TESTS").as_deref() == Ok("required");
        assert!(
            !required,
            "Chromium is required but not installed (set CHROMIUM or install `chromium`)"
        );
        eprintln!("browser_lookup: no Chromium found (set CHROMIUM); the browser test did not run");
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let portal = signed_by_a_key_with_plus(scratch.path());
    let site = scratch.path().join("site");
    minhbach()
        .current_dir(&portal)
        .args(["build", "-o"])
        .arg(&site)
        .assert()
        .success();
    let (seq, amount, reference, date) = known_donation(&portal);
    let page = std::fs::read_to_string(site.join(page_file(routes::LOOKUP_VI))).expect("the page");
    assert!(
        page.contains("<noscript>") && page.contains(&format!("href=\"{}\"", routes::DONATIONS))
    );

    let base = serve(site.clone());
    let mut browser = Chromium::launch(&binary);
    browser.open(&format!("{base}{}", routes::LOOKUP_VI));

    // Names: with and without diacritics, any case, word prefixes.
    let with_marks = browser.search("Nguyễn Văn An");
    assert!(seqs(&with_marks).contains(&seq), "{with_marks:?}");
    // The first five are proven, the first from its whole entry bundle, the
    // others from a byte range of theirs (this server answers ranges, as
    // static hosts do): a fraction of the bundles' bytes.
    let proven: Vec<u64> = with_marks
        .iter()
        .filter(|f| f.proof.is_some())
        .map(|f| f.seq)
        .collect();
    assert!(
        proven.len() > 1
            && with_marks
                .iter()
                .all(|f| f.proof.as_deref() != Some("fail")),
        "{with_marks:?}"
    );
    let mut bundles: Vec<u64> = proven.iter().map(|seq| seq / 256).collect();
    bundles.dedup();
    let whole: u64 = bundles.iter().map(|&n| bundle_bytes(&site, n)).sum();
    let proof_bytes = browser.eval("Number(document.getElementById('results').dataset.proofBytes)");
    let proof_bytes = proof_bytes.as_u64().expect("proof bytes");
    // Besides, each fund shown is proven once: a range of its entry's bundle
    // and the level-0 hash tile (8 KB) of its path.
    let fund_proof = 16 * 1024;
    assert!(
        bundles.len() > 2 && proof_bytes < whole / 2 + fund_proof,
        "{proof_bytes} bytes to prove {proven:?}, whose {} bundles weigh {whole}",
        bundles.len()
    );
    for query in [
        "nguyen van an",
        "NGUYEN VAN AN",
        "nguyễn an",
        "nguyen va an",
    ] {
        let found = browser.search(query);
        assert!(
            seqs(&found).contains(&seq),
            "`{query}` misses {seq}: {found:?}"
        );
    }
    assert_eq!(seqs(&browser.search("nguyen van an")), seqs(&with_marks));
    let family = browser.search("NGUYEN");
    assert!(!family.is_empty() && family.iter().all(|f| f.text.contains("Nguyễn")));

    // Amounts, three ways.
    let grouped = vivn_amount(amount);
    let by_amount = browser.search(&grouped);
    assert!(!by_amount.is_empty());
    assert!(
        by_amount
            .iter()
            .all(|f| f.text.contains(&format!("{grouped} ₫"))),
        "{by_amount:?}"
    );
    assert_eq!(seqs(&browser.search(&amount.to_string())), seqs(&by_amount));
    if amount % 1000 == 0 {
        assert_eq!(
            seqs(&browser.search(&format!("{}k", amount / 1000))),
            seqs(&by_amount)
        );
    }
    // Name and amount together narrow to the donation.
    let both = browser.search(&format!("nguyen van an {grouped}"));
    assert!(seqs(&both).contains(&seq) && both.len() <= with_marks.len());

    // The bank reference, case-insensitive: one result, proven.
    let by_ref = browser.search(&reference.to_lowercase());
    assert_eq!(seqs(&by_ref), [seq]);
    assert_eq!(by_ref[0].proof.as_deref(), Some("ok"), "{by_ref:?}");
    assert!(
        by_ref[0]
            .text
            .contains("Đã xác minh trong trình duyệt của bạn")
    );

    // The receipt the page offers passes `minhbach verify --proof` offline.
    let receipt = browser.eval(
        "fetch(document.querySelector('#results li.donation a.receipt').href).then(r => r.text())",
    );
    let receipt_file = scratch.path().join("receipt.tlog-proof");
    std::fs::write(&receipt_file, receipt.as_str().expect("text")).expect("write");
    minhbach()
        .current_dir(scratch.path())
        .args(["verify", "--proof"])
        .arg(&receipt_file)
        .arg("--keys")
        .arg(site.join(log_file("keys")))
        .assert()
        .success();

    // A date, both ways, and a range: every result is of that day.
    let (year, month, day) = (&date[..4], &date[5..7], &date[8..10]);
    let shown = format!("{day}/{month}/{year}");
    let on_day = browser.search(&shown);
    assert!(
        !on_day.is_empty() && on_day.iter().all(|f| f.text.contains(&shown)),
        "{on_day:?}"
    );
    assert_eq!(seqs(&browser.search(&date)), seqs(&on_day));
    assert_eq!(
        seqs(&browser.search(&format!("{shown}-{shown}"))),
        seqs(&on_day)
    );
    let in_range = browser.search(&format!("nguyen van an 01/01/2025 - {shown}"));
    assert!(seqs(&in_range).contains(&seq), "{in_range:?}");

    // The page remembered the verified checkpoint; a site showing a smaller
    // or a different tree of the same size is flagged.
    let origin = std::fs::read_to_string(site.join(log_file("checkpoint"))).expect("checkpoint");
    let (origin, size) = {
        let mut lines = origin.lines();
        (
            lines.next().unwrap().to_string(),
            lines.next().unwrap().parse::<u64>().unwrap(),
        )
    };
    let stored = browser.eval(&format!(
        "localStorage.getItem({})",
        json!(format!("minhbach.checkpoint.{origin}"))
    ));
    assert!(
        stored
            .as_str()
            .unwrap_or("")
            .contains(&format!("\"size\":{size}")),
        "{stored}"
    );
    for forged in [size + 10, size] {
        browser.eval(&format!(
            "localStorage.setItem({}, JSON.stringify({{size: {forged}, root: btoa('x'.repeat(32))}}))",
            json!(format!("minhbach.checkpoint.{origin}"))
        ));
        browser.open(&format!("{base}{}", routes::LOOKUP_VI));
        browser.search(&reference);
        browser.wait_for("!document.getElementById('checkpoint-warning').hidden");
    }
    browser.eval("localStorage.clear()");

    // English page.
    browser.open(&format!("{base}{}", page_in("en", routes::lookup("en"))));
    let english = browser.search(&reference);
    assert_eq!(seqs(&english), [seq]);
    assert!(
        english[0].text.contains("Verified in your browser"),
        "{english:?}"
    );

    // A corrupted hash tile (the leaf next to ours) makes the proof fail.
    let tile = site.join(log_file(&format!("tile/0/{}", tile_path(seq / 256))));
    let original = std::fs::read(&tile).expect("tile");
    let mut corrupted = original.clone();
    corrupted[((seq ^ 1) % 256) as usize * 32] ^= 0x01;
    std::fs::write(&tile, &corrupted).expect("write");
    browser.open(&format!("{base}{}", routes::LOOKUP_VI));
    let failed = browser.search(&reference);
    assert_eq!(failed[0].proof.as_deref(), Some("fail"), "{failed:?}");
    std::fs::write(&tile, &original).expect("restore");
}

/// `500000` → `500.000`.
fn vivn_amount(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

// ---- round trips: issue 6, "a first result within 1 s on a phone" -----------

/// What one query fetched, from the page's Resource Timing entries, in ms
/// from the submit: each fetch's path, start and end, and when the first
/// result, every result (the status line) and the first proof verdict showed.
#[derive(Debug)]
struct Timeline {
    fetches: Vec<(String, f64, f64)>,
    first_result: Option<f64>,
    all_results: f64,
    first_proof: Option<f64>,
}

impl Timeline {
    /// The round trips paid in sequence, for each fetch: one more than the
    /// most of any fetch that had ended before it started.
    fn waves(&self) -> Vec<u32> {
        let mut waves: Vec<u32> = Vec::new();
        for (_, start, _) in &self.fetches {
            let before = self
                .fetches
                .iter()
                .zip(&waves)
                .filter(|((_, _, end), _)| end <= start)
                .map(|(_, wave)| *wave)
                .max()
                .unwrap_or(0);
            waves.push(before + 1);
        }
        waves
    }

    /// The round trips paid in sequence before `time`.
    fn waves_before(&self, time: f64) -> u32 {
        self.fetches
            .iter()
            .zip(self.waves())
            .filter(|((_, _, end), _)| *end <= time)
            .map(|(_, wave)| wave)
            .max()
            .unwrap_or(0)
    }
}

/// Submits `query` and waits for the automatic proofs; the page is loaded
/// and has fetched ahead what it fetches on load.
fn timeline(browser: &mut Chromium, query: &str) -> Timeline {
    let result = browser.eval(&format!(
        r#"new Promise((resolve, reject) => {{
          const form = document.querySelector('form#lookup');
          const list = document.getElementById('results');
          const status = document.getElementById('lookup-status');
          const seen = {{}};
          let start = 0;
          const check = () => {{
            const now = performance.now() - start;
            if (seen.first === undefined && list.querySelector('li.donation')) seen.first = now;
            if (seen.all === undefined && status.textContent && status.textContent !== form.dataset.tSearching) seen.all = now;
            if (seen.proof === undefined && list.querySelector('li.donation[data-proof]')) seen.proof = now;
            if (list.dataset.proofBytes === undefined) return;
            observer.disconnect();
            resolve({{ ...seen, fetches: performance.getEntriesByType('resource')
              .filter(e => e.startTime >= start)
              .map(e => [new URL(e.name).pathname, e.startTime - start, e.responseEnd - start]) }});
          }};
          const observer = new MutationObserver(check);
          observer.observe(document.querySelector('main'), {{ subtree: true, childList: true, attributes: true, characterData: true }});
          setTimeout(() => reject(new Error('no verdict: ' + status.textContent)), 60000);
          performance.clearResourceTimings();
          form.elements.q.value = {};
          start = performance.now();
          form.requestSubmit();
        }})"#,
        json!(query)
    ));
    let time = |key: &str| result[key].as_f64();
    Timeline {
        fetches: serde_json::from_value(result["fetches"].clone()).expect("fetches"),
        first_result: time("first"),
        all_results: time("all").expect("a status"),
        first_proof: time("proof"),
    }
}

/// Issue 6 asks for a first result within 1 s on a phone-class connection.
/// On a phone a request costs a round trip (150 ms at Lighthouse's mobile
/// preset) and a fetch that waits for another's answer pays one more, so
/// what the page controls is how many it pays in sequence: this counts them
/// in Chromium, with 200 ms added to every request so that fetches made
/// together and fetches made one after the other cannot be confused, and
/// holds the page to the fewest the index allows (the times themselves are
/// measured by `tests/browser/lookup_timing.mjs`, see BENCHMARKS.md).
#[test]
fn a_lookup_pays_few_round_trips_in_sequence() {
    let Some(binary) = chromium_binary() else {
        assert!(
            !common::browser::required(),
            "Chromium is required but not installed (set CHROMIUM or install `chromium`)"
        );
        eprintln!("browser_lookup: no Chromium found (set CHROMIUM); the browser test did not run");
        return;
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = scratch.path().join("site");
    minhbach()
        .current_dir(repository)
        .args(["build", "-o"])
        .arg(&site)
        .assert()
        .success();
    let (seq, amount, reference, date) = known_donation(repository);
    // Whole entry bundles (a host that ignores ranges), so that each file is
    // fetched whole, once, whatever the proofs share.
    let base = serve_ignoring_ranges(site);
    let mut browser = Chromium::launch(&binary);
    browser.open(&format!("{base}{}", routes::LOOKUP_VI));
    // What the page fetches ahead while the visitor types.
    browser.wait_for(&format!(
        "['manifest.json', '{}', '{}'].every(file => \
         performance.getEntriesByType('resource').some(e => e.name.endsWith(file)))",
        log_file("checkpoint"),
        log_file("keys"),
    ));
    browser.emulate_latency(200.0);

    let day = format!("{}/{}/{}", &date[8..10], &date[5..7], &date[..4]);
    // (query, round trips before the first result): a reference shard, then
    // the record; a dictionary shard, postings, then records; with other
    // words, their postings in one more.
    let cases = [
        (reference.to_lowercase(), 2),
        (vivn_amount(amount), 3),
        (day, 3),
        ("NGUYEN".to_string(), 3),
        ("nguyen van an".to_string(), 4),
    ];
    for (query, most) in cases {
        let timeline = timeline(&mut browser, &query);
        let first = timeline.first_result.expect("a result");
        assert!(
            timeline.waves_before(first) <= most,
            "`{query}`: the first result came after {} round trips in sequence, not {most}: {timeline:#?}",
            timeline.waves_before(first)
        );
        // Proofs never hold up the results: nothing of the log is fetched
        // before every result is shown.
        let shown = timeline.all_results;
        assert!(
            timeline
                .fetches
                .iter()
                .all(|(path, start, _)| !path.starts_with(routes::LEDGER_DIR) || *start >= shown),
            "`{query}`: a proof fetch started before the results were shown: {timeline:#?}"
        );
        // The first verdict needs one round trip more: the entry bundle and
        // the hash tiles together, the checkpoint and keys in hand already.
        let proof = timeline.first_proof.expect("a verdict");
        assert!(
            timeline.waves_before(proof) <= timeline.waves_before(shown) + 1,
            "`{query}`: the first proof took {} round trips after the results: {timeline:#?}",
            timeline.waves_before(proof) - timeline.waves_before(shown)
        );
        // Every file once: proofs share the tiles; the manifest, checkpoint
        // and keys were fetched ahead.
        let mut paths: Vec<&str> = timeline.fetches.iter().map(|f| f.0.as_str()).collect();
        paths.sort_unstable();
        let count = paths.len();
        paths.dedup();
        assert_eq!(
            paths.len(),
            count,
            "`{query}` fetched a file twice: {paths:?}"
        );
        assert!(
            !paths.iter().any(|path| path.ends_with("manifest.json")
                || *path == format!("/{}", log_file("checkpoint"))
                || *path == format!("/{}", log_file("keys"))),
            "`{query}`: {paths:?}"
        );
    }

    // A new query while the last one's proofs are on their way (the page
    // aborts them, and forgets their files) is answered and proven in full.
    let after = browser.eval(&format!(
        r#"new Promise((resolve, reject) => {{
          const form = document.querySelector('form#lookup');
          const list = document.getElementById('results');
          const status = document.getElementById('lookup-status');
          let second = false;
          const observer = new MutationObserver(() => {{
            const searching = !status.textContent || status.textContent === form.dataset.tSearching;
            if (!second && !searching && list.querySelector('li.donation')) {{
              second = true;
              form.elements.q.value = {};
              form.requestSubmit();
            }} else if (second && list.dataset.proofBytes !== undefined) {{
              observer.disconnect();
              resolve({{ status: status.textContent, error: form.dataset.tError,
                rows: [...list.querySelectorAll('li.donation')].map(li => [Number(li.dataset.seq), li.dataset.proof]) }});
            }}
          }});
          observer.observe(document.querySelector('main'), {{ subtree: true, childList: true, attributes: true, characterData: true }});
          setTimeout(() => reject(new Error('no verdict: ' + status.textContent)), 60000);
          form.elements.q.value = 'NGUYEN';
          form.requestSubmit();
        }})"#,
        json!(reference)
    ));
    assert_eq!(after["rows"], json!([[seq, "ok"]]), "{after}");
    let status = after["status"].as_str().unwrap_or("");
    assert!(
        !status.starts_with(after["error"].as_str().unwrap_or("?")),
        "{after}"
    );
}

/// The page checks every figure it shows against proven entries: a record
/// the index marks amended or voided is proven with its corrections, and an
/// edited record (another donor and 50.000.000 ₫ for an entry of 1.001 ₫),
/// a voided record shown as live, or a checkpoint signed by a key revoked
/// at or before its size is shown as failed, never as verified.
#[test]
fn lookup_shows_as_verified_only_what_the_proven_entries_say() {
    let Some(binary) = chromium_binary() else {
        assert!(
            !common::browser::required(),
            "Chromium is required but not installed (set CHROMIUM or install `chromium`)"
        );
        eprintln!("browser_lookup: no Chromium found (set CHROMIUM); the browser test did not run");
        return;
    };
    let portal = common::TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let lines = [
        r#"{"kind":"donation","fund":"bao-so-5","donor":"Trần Thị Bé","amount":1001,"date":"2025-09-13","channel":"bank","ref":"FT25256001"}"#,
        r#"{"kind":"correction","target":8,"reason":"ghi chú sai","amend":{"note":"chuyển khoản lần 2"}}"#,
        r#"{"kind":"correction","target":3,"reason":"trùng giao dịch"}"#,
    ];
    for line in lines {
        portal.append(line).assert().success();
    }
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let base = serve(site.clone());
    let mut browser = Chromium::launch(&binary);
    let search = |browser: &mut Chromium, query: &str| {
        browser.open(&format!("{base}{}", routes::LOOKUP_VI));
        let found = browser.search(query);
        assert_eq!(found.len(), 1, "`{query}`: {found:?}");
        found.into_iter().next().unwrap()
    };
    // Honest records, amended and voided, are proven with their corrections.
    let amended = search(&mut browser, "FT25256001");
    assert_eq!(amended.proof.as_deref(), Some("ok"), "{amended:?}");
    let voided = search(&mut browser, "FT25255001");
    assert_eq!(voided.proof.as_deref(), Some("ok"), "{voided:?}");

    let shard = site.join(format!("{}/r/0", routes::LOOKUP_INDEX_DIR));
    let records = std::fs::read_to_string(&shard).expect("records");
    let record = |seq: &str| {
        records
            .lines()
            .find(|line| line.starts_with(&format!("{seq}\t")))
            .expect("a record")
            .to_string()
    };
    let (eight, three) = (record("8"), record("3"));
    let forgeries = [
        (
            "FT25256001",
            records.replace(
                &eight,
                &eight
                    .replace("Trần Thị Bé", "Trần Thị Bé Khác")
                    .replace("\t1001\t", "\t50000000\t"),
            ),
        ),
        (
            "FT25255001",
            records.replace(&three, &three.replace("\tv\t", "\t\t")),
        ),
    ];
    for (query, forged) in forgeries {
        std::fs::write(&shard, forged).expect("write");
        let found = search(&mut browser, query);
        assert_eq!(found.proof.as_deref(), Some("fail"), "{found:?}");
        assert!(
            found.text.contains("differs from the proven entry"),
            "{found:?}"
        );
    }
    std::fs::write(&shard, &records).expect("restore");

    // The newest checkpoint is signed by `canbo`: published as revoked from
    // a size at or below it, no proof holds.
    let keys_file = site.join(log_file("keys"));
    let keys = std::fs::read_to_string(&keys_file).expect("keys");
    let canbo = keys
        .lines()
        .find(|line| line.starts_with("canbo+"))
        .expect("canbo's key");
    std::fs::write(
        &keys_file,
        keys.replace(canbo, &format!("{canbo} revoked-from 11")),
    )
    .expect("write");
    let found = search(&mut browser, "FT25256001");
    assert_eq!(found.proof.as_deref(), Some("fail"), "{found:?}");
    assert!(found.text.contains("revoked"), "{found:?}");
}

// ---- find your transfer in the bank's own words -----------------------------

use crate::generator;

/// The words, adjacent pairs and codes of a donation, as the index makes
/// them (`site::lookup::tokens`), computed here from the ledger's entries.
struct Searchable {
    seq: u64,
    amount: u64,
    date: String,
    words: Vec<String>,
    /// Runs of adjacent words.
    runs: Vec<Vec<String>>,
    codes: Vec<String>,
}

fn searchable(portal: &Path) -> Vec<Searchable> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(portal.join("ledger/entries"))
        .expect("entries")
        .map(|e| e.expect("entry").path())
        .collect();
    segments.sort();
    let mut found = Vec::new();
    for segment in segments {
        for line in std::fs::read_to_string(segment).expect("segment").lines() {
            let entry: Value = serde_json::from_str(line).expect("an entry");
            if entry["kind"] != "donation" {
                continue;
            }
            let mut item = Searchable {
                seq: entry["seq"].as_u64().expect("seq"),
                amount: entry["amount"].as_u64().expect("amount"),
                date: entry["date"].as_str().expect("date").to_string(),
                words: Vec::new(),
                runs: Vec::new(),
                codes: Vec::new(),
            };
            for field in ["donor", "description", "note"] {
                let tokens = minhbach::site::lookup::tokens(entry[field].as_str().unwrap_or(""));
                for run in tokens.runs {
                    item.words.extend(run.iter().cloned());
                    item.runs.push(run);
                }
                item.codes.extend(tokens.codes);
            }
            found.push(item);
        }
    }
    found
}

impl Searchable {
    fn has_words(&self, words: &[&str]) -> bool {
        words.iter().all(|w| self.words.iter().any(|x| x == w))
    }
    /// Words typed in order, as the index matches them: two words as a
    /// pair, more as each three adjacent somewhere.
    fn has_phrase(&self, words: &[&str]) -> bool {
        words.windows(words.len().min(3)).all(|typed| {
            self.runs
                .iter()
                .any(|run| run.windows(typed.len()).any(|found| found == typed))
        })
    }
    fn has_word_starting(&self, prefix: &str) -> bool {
        self.words.iter().any(|w| w.starts_with(prefix))
    }
}

/// What a query shows once every result has been loaded with `button.more`.
#[derive(Debug)]
struct AllResults {
    seqs: Vec<u64>,
    count: u64,
    status: String,
    texts: Vec<String>,
    /// The first count shown, and what it counts (`phrase`: the words in
    /// order; `all`; `newest`: a typed part of a word, from `floor` on).
    first_count: u64,
    first_scope: String,
    floor: u64,
}

/// Searches, then presses `button.more` until there is none (the last one
/// asks for the words apart, after the phrase matches), and returns every
/// result in the order shown, the count the page gives and its status.
fn search_all(browser: &mut Chromium, query: &str) -> AllResults {
    search_all_fields(browser, &[("q", query)])
}

/// `search_all` with the form's fields (`q`, `name`, `amount`, `from`, `to`,
/// `code`) set as given, the others empty.
fn search_all_fields(browser: &mut Chromium, fields: &[(&str, &str)]) -> AllResults {
    let fields: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    browser.eval(&format!(
        "(() => {{ const form = document.querySelector('form#lookup'); const fields = {}; \
         for (const input of form.querySelectorAll('input')) input.value = fields[input.name] || ''; \
         form.requestSubmit(); }})()",
        Value::Object(fields)
    ));
    browser.wait_for("document.getElementById('results').dataset.count !== undefined");
    let first = browser.eval(
        "({ count: Number(document.getElementById('results').dataset.count), \
            scope: document.getElementById('results').dataset.scope })",
    );
    loop {
        let shown = browser
            .eval("document.querySelectorAll('#results li.donation').length")
            .as_u64()
            .expect("a number");
        let more = browser.eval(
            "(() => { const b = document.querySelector('form#lookup button.more'); if (!b) return false; b.click(); return true; })()",
        );
        if more != json!(true) {
            break;
        }
        // A page more, or the words apart found and counted (perhaps none).
        browser.wait_for(&format!(
            "(() => {{ const list = document.getElementById('results'); \
               const shown = list.querySelectorAll('li.donation').length; \
               return !document.querySelector('form#lookup button.more[disabled]') && list.dataset.count !== undefined && \
                 (shown > {shown} || (list.dataset.scope !== 'phrase' && Number(list.dataset.count) === shown)); }})()"
        ));
    }
    let found = browser.eval(
        "({ seqs: [...document.querySelectorAll('#results li.donation')].map(li => Number(li.dataset.seq)), \
            texts: [...document.querySelectorAll('#results li.donation')].map(li => li.textContent), \
            count: Number(document.getElementById('results').dataset.count), \
            floor: Number(document.getElementById('results').dataset.floor), \
            status: document.getElementById('lookup-status').textContent })",
    );
    AllResults {
        first_count: first["count"].as_u64().expect("count"),
        first_scope: first["scope"].as_str().unwrap_or("").to_string(),
        floor: found["floor"].as_u64().expect("floor"),
        seqs: serde_json::from_value(found["seqs"].clone()).expect("seqs"),
        texts: serde_json::from_value(found["texts"].clone()).expect("texts"),
        count: found["count"].as_u64().expect("count"),
        status: found["status"].as_str().unwrap_or("").to_string(),
    }
}

/// Issue 17: on statements shaped like the real ones (the sender's name and
/// the bank's codes inside free text; `examples/statements/gen.rs`,
/// imported as an officer would), every word and code of the description is
/// found, diacritics or not; words typed in order rank adjacent words
/// first; name, amount and day combine with the exact count; `button.more`
/// reaches the last result; and results are proven.
#[test]
fn transfers_are_found_in_the_banks_own_words() {
    let Some(binary) = chromium_binary() else {
        assert!(
            !common::browser::required(),
            "Chromium is required but not installed (set CHROMIUM or install `chromium`)"
        );
        eprintln!("browser_lookup: no Chromium found (set CHROMIUM); the browser test did not run");
        return;
    };
    let portal = common::TestPortal::new();
    let accounts: Vec<String> = generator::ACCOUNTS
        .iter()
        .map(|(bin, number, _)| {
            format!(r#"{{"bank_bin":"{bin}","number":"{number}","holder":"UBTW MTTQ VIET NAM"}}"#)
        })
        .collect();
    portal
        .append(&format!(
            r#"{{"kind":"fund","id":"yagi","name":"Ủng hộ đồng bào bị ảnh hưởng bão Yagi","description":"Sao kê","accounts":[{}]}}"#,
            accounts.join(",")
        ))
        .assert()
        .success();
    let statements = portal.dir.path().join("statements");
    std::fs::create_dir_all(&statements).expect("mkdir");
    std::fs::write(statements.join("row.toml"), generator::ROW_MAPPING).expect("write");
    std::fs::write(statements.join("daily.toml"), generator::DAILY_MAPPING).expect("write");
    for statement in generator::generate_with(1500, 17, generator::Texts::Long).statements {
        let file = statements.join(&statement.file);
        std::fs::write(&file, &statement.text).expect("write");
        let mapping = statements.join(if statement.daily {
            "daily.toml"
        } else {
            "row.toml"
        });
        portal
            .run(&[
                "import",
                "donations",
                file.to_str().unwrap(),
                "--fund",
                "yagi",
                "--account",
                generator::ACCOUNTS[statement.account].1,
                "--map",
                mapping.to_str().unwrap(),
                "--key",
                portal.officer_key.to_str().unwrap(),
            ])
            .assert()
            .success();
    }
    // Transfers whose texts the test knows, newest last: a scattered
    // `NGUYEN … VAN AN` newer than an adjacent one, codes, a name to type
    // with diacritics, and a dozen `NGUYEN VAN AN` of one amount and day.
    let account = generator::ACCOUNTS[0].1;
    let donation = |time: &str, amount: u64, date: &str, description: &str| {
        format!(
            r#"{{"kind":"donation","fund":"yagi","donor":"","amount":{amount},"date":"{date}","booking_time":"{time}","channel":"bank","account":"{account}","description":"{description}"}}"#
        )
    };
    let mut lines = vec![
        donation(
            "23:00:01",
            500_000,
            "2024-09-15",
            "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho dong bao bi bao lu",
        ),
        donation(
            "23:00:02",
            500_000,
            "2024-09-15",
            "NGUYEN THI HOA chuyen tien ung ho VAN AN va gia dinh",
        ),
        donation(
            "23:00:03",
            200_000,
            "2024-09-16",
            "LE THI MAI UNG HO BA CON LU LUT FT24256123456789 -CTLNHIDI123456",
        ),
        donation(
            "23:00:04",
            300_000,
            "2024-09-16",
            "TKThe :0491000012345 tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho mien Bac",
        ),
        donation(
            "23:00:05",
            100_000,
            "2024-09-17",
            "IBFT TRAN THI BICH NGOC chuyen khoan ung ho",
        ),
    ];
    for i in 0..12 {
        lines.push(donation(
            &format!("22:{i:02}:00"),
            500_000,
            "2024-09-15",
            "IBFT NGUYEN VAN AN chuyen khoan ung ho",
        ));
    }
    portal.append(&(lines.join("\n") + "\n")).assert().success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let donations = searchable(&portal.root());
    let known = |text: &str| {
        let tokens = minhbach::site::lookup::tokens(text);
        donations
            .iter()
            .rev()
            .find(|d| {
                tokens.codes.iter().all(|c| d.codes.contains(c))
                    && tokens.runs.iter().all(|run| {
                        let words: Vec<&str> = run.iter().map(String::as_str).collect();
                        d.has_phrase(&words)
                    })
            })
            .expect("a known donation")
            .seq
    };
    let adjacent = known("CT nhanh 247 den: NGUYEN VAN AN chuyen tien");
    let scattered = known("NGUYEN THI HOA chuyen tien ung ho VAN AN va gia dinh");
    let by_ft = known("LE THI MAI UNG HO BA CON LU LUT FT24256123456789");
    let by_sms = known("MBVCB.7012345678.123456.LE THI HOA");
    let bich_ngoc = known("IBFT TRAN THI BICH NGOC chuyen khoan");
    assert!(scattered > adjacent);

    let base = serve(site);
    let mut browser = Chromium::launch(&binary);
    browser.open(&format!("{base}{}", routes::LOOKUP_VI));

    // A name typed with diacritics finds the unaccented description.
    let typed = search_all(&mut browser, "Trần Thị Bích Ngọc");
    let expected = donations
        .iter()
        .filter(|d| d.has_words(&["tran", "thi", "bich", "ngoc"]))
        .count() as u64;
    assert_eq!(typed.count, expected, "{typed:?}");
    assert_eq!(typed.seqs.len() as u64, expected);
    let position = typed
        .seqs
        .iter()
        .position(|&s| s == bich_ngoc)
        .expect("found");
    assert!(typed.texts[position].contains("IBFT TRAN THI BICH NGOC chuyen khoan ung ho"));

    // Words typed in order: every adjacent match first, newest first, then
    // the scattered ones, newest first; the exact count; every result
    // reachable with `button.more`.
    let words = ["nguyen", "van", "an"];
    let name = search_all(&mut browser, "nguyen van an");
    let mut phrase: Vec<u64> = donations
        .iter()
        .filter(|d| d.has_words(&words) && d.has_phrase(&words))
        .map(|d| d.seq)
        .collect();
    let mut others: Vec<u64> = donations
        .iter()
        .filter(|d| d.has_words(&words) && !d.has_phrase(&words))
        .map(|d| d.seq)
        .collect();
    phrase.reverse();
    others.reverse();
    assert!(
        phrase.len() > 10 && others.contains(&scattered),
        "{phrase:?} {others:?}"
    );
    // First the phrase matches, counted: three words are one term.
    assert_eq!(name.first_scope, "phrase", "{name:?}");
    assert_eq!(name.first_count, phrase.len() as u64, "{name:?}");
    let expected: Vec<u64> = phrase.iter().chain(&others).copied().collect();
    assert_eq!(name.seqs, expected, "{name:?}");
    assert_eq!(name.count, expected.len() as u64);
    assert!(
        name.status
            .contains(&format!("Tìm thấy {} khoản", expected.len())),
        "{}",
        name.status
    );
    let rank = |seq: u64| name.seqs.iter().position(|&s| s == seq).expect("shown");
    assert!(rank(adjacent) < rank(scattered));

    // Name, amount and day together, in one query: the exact count.
    let combined = search_all(&mut browser, "Nguyễn Văn An 500.000 15/09/2024");
    let expected: Vec<u64> = donations
        .iter()
        .rev()
        .filter(|d| d.has_words(&words) && d.amount == 500_000 && d.date == "2024-09-15")
        .map(|d| d.seq)
        .collect();
    assert!(expected.len() > 12, "{expected:?}");
    let in_order = donations
        .iter()
        .filter(|d| d.has_phrase(&words) && d.amount == 500_000 && d.date == "2024-09-15")
        .count() as u64;
    assert_eq!(combined.first_scope, "phrase", "{combined:?}");
    assert_eq!(combined.first_count, in_order, "{combined:?}");
    assert!(in_order < expected.len() as u64);
    assert_eq!(combined.count, expected.len() as u64, "{combined:?}");
    let mut shown = combined.seqs.clone();
    shown.sort_unstable();
    let mut wanted = expected.clone();
    wanted.sort_unstable();
    assert_eq!(shown, wanted);
    assert!(
        combined
            .status
            .contains(&format!("Tìm thấy {} khoản", expected.len())),
        "{}",
        combined.status
    );
    assert!(
        combined
            .texts
            .iter()
            .all(|t| t.contains("500.000 ₫") && t.contains("15/09/2024"))
    );

    // The same in separate fields, and fields with the query box.
    let fields = search_all_fields(
        &mut browser,
        &[
            ("name", "Nguyễn Văn An"),
            ("amount", "500.000"),
            ("from", "2024-09-15"),
            ("to", "2024-09-15"),
        ],
    );
    assert_eq!(fields.seqs, combined.seqs, "{fields:?}");
    assert_eq!(
        (fields.first_count, fields.count),
        (combined.first_count, combined.count)
    );
    let mixed = search_all_fields(
        &mut browser,
        &[
            ("q", "nguyen van an"),
            ("amount", "500k"),
            ("from", "2024-09-15"),
        ],
    );
    assert_eq!(mixed.seqs, combined.seqs, "{mixed:?}");
    let by_code = search_all_fields(&mut browser, &[("code", "FT24256123456789")]);
    assert_eq!(by_code.seqs, [by_ft], "{by_code:?}");

    // A typed part of a word finds every word it begins; past a byte bound
    // on their postings, only the newest donations, saying so.
    let part = "tha";
    let starting = |from: usize| -> Vec<u64> {
        donations[from..]
            .iter()
            .rev()
            .filter(|d| d.has_word_starting(part) && !d.has_words(&[part]))
            .map(|d| d.seq)
            .collect()
    };
    let prefix = search_all(&mut browser, part);
    assert_eq!(prefix.first_scope, "all", "{}", prefix.status);
    assert_eq!(prefix.seqs, starting(0), "{prefix:?}");
    // (Postings already fetched cost nothing: a fresh page.)
    browser.open(&format!("{base}{}", routes::LOOKUP_VI));
    browser.eval("document.querySelector('form#lookup').dataset.prefixBudget = '64'");
    let bounded = search_all(&mut browser, part);
    browser.eval("delete document.querySelector('form#lookup').dataset.prefixBudget");
    assert_eq!(
        (bounded.first_scope.as_str(), bounded.first_count),
        ("newest", bounded.count),
        "{}",
        bounded.status
    );
    assert!(bounded.floor > 0);
    let newest = starting(bounded.floor as usize);
    assert!(!newest.is_empty() && newest.len() < prefix.seqs.len());
    assert_eq!(bounded.seqs, newest, "{bounded:?}");
    assert_eq!(bounded.count, newest.len() as u64);
    assert!(
        bounded.status.contains(&format!(
            "trong {} khoản mới nhất",
            donations.len() - bounded.floor as usize
        )),
        "{}",
        bounded.status
    );

    // Codes inside the description, whole or in parts, and proven.
    for (query, seq) in [
        ("FT24256123456789", by_ft),
        ("ctlnhidi123456", by_ft),
        ("MBVCB.7012345678.123456", by_sms),
        ("7012345678", by_sms),
    ] {
        let found = browser.search(query);
        assert_eq!(seqs(&found), [seq], "`{query}`: {found:?}");
        assert_eq!(found[0].proof.as_deref(), Some("ok"), "{found:?}");
        assert!(found[0].text.contains(account), "{found:?}");
    }

    // A result past the first page is proven on request.
    search_all(&mut browser, "nguyen van an");
    browser
        .eval("[...document.querySelectorAll('#results li.donation button.prove')].pop().click()");
    browser.wait_for(
        "(() => { const li = [...document.querySelectorAll('#results li.donation')].pop(); return li.dataset.proof === 'ok'; })()",
    );

    // The page with its fields open, results and a button shown, on a
    // phone's screen, in both languages: no serious axe-core violation
    // (as `browser_a11y.rs` checks the other pages) and no sideways scroll.
    let axe_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    if !axe_file.is_file() {
        assert!(
            !common::browser::required(),
            "axe-core is required (`npm ci --prefix tests/browser`)"
        );
        return;
    }
    let axe = std::fs::read_to_string(&axe_file).expect("axe.min.js");
    browser.set_width(320);
    for page in [
        page_in("vi", routes::lookup("vi")),
        page_in("en", routes::lookup("en")),
    ] {
        browser.open(&format!("{base}{page}"));
        browser.eval("document.querySelector('details.lookup-fields').open = true");
        search_all_fields(&mut browser, &[("name", "Nguyễn Văn An")]);
        browser.search("nguyen van an");
        browser.eval(&format!("{axe};\n1"));
        let report = browser.eval(
            "axe.run(document, {resultTypes: ['violations']}).then(r => ({passes: r.passes.length, \
             serious: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3) \
               .map(n => n.target.join(' ')).join(', ')}`)}))",
        );
        assert!(report["passes"].as_u64().unwrap_or(0) > 10, "{report}");
        assert_eq!(report["serious"], json!([]), "{page}");
        let width = browser.eval("document.documentElement.scrollWidth");
        assert!(
            width.as_u64().unwrap_or(0) <= 320,
            "{page}: {width} px wide"
        );
    }
}
