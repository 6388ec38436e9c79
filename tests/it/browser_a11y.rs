//! The public pages in a real browser: the demo site built into a
//! temporary directory, served on 127.0.0.1, opened in headless Chromium
//! driven over the DevTools protocol on a pipe (the approach of
//! `browser_lookup.rs`). On the home, fund, household, report, commune and
//! verify pages, in both languages:
//!
//! - nothing is logged to the console as an error and no script throws;
//! - no request leaves the site;
//! - the page fits a 320 px wide phone screen without scrolling sideways;
//! - axe-core (npm, `tests/browser/node_modules/axe-core`, installed by
//!   `.ci/run` with `npm ci`) finds no serious or critical violation.
//!
//! Chromium is `$CHROMIUM`, else Debian's `/usr/bin/chromium`. Without
//! Chromium or axe-core the test says so and passes, unless
//! `MINHBACH_BROWSER_TESTS=required` (set by `.ci/run`), where it fails.

use crate::common;

use common::browser::{Chromium, chromium_binary, required, serve};
use common::{folder_of, minhbach, page_in};
use minhbach::site::routes;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the accessibility test does with the browser.
trait PublicPage {
    fn open(&mut self, url: &str);
    fn errors(&self) -> Vec<String>;
    fn requests(&self) -> Vec<String>;
}

impl PublicPage for Chromium {
    /// Opens `url` and waits until it and every image on it have loaded.
    fn open(&mut self, url: &str) {
        self.navigate(url);
        // Events were cleared before navigating: a load event is this page's.
        let start = Instant::now();
        while !self
            .events
            .iter()
            .any(|event| event["method"] == "Page.loadEventFired")
        {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{url} did not load"
            );
            std::thread::sleep(Duration::from_millis(20));
            self.eval("1");
        }
        // Lazy images load once scrolled into view: scroll through the page.
        self.eval(
            "(async () => { for (let y = 0; y < document.body.scrollHeight; y += 600) { \
             window.scrollTo(0, y); await new Promise(r => setTimeout(r, 20)); } \
             window.scrollTo(0, 0); await Promise.all([...document.images].map(img => \
             img.complete ? null : new Promise(r => { img.onload = img.onerror = r; }))); })()",
        );
        // Flush events that arrived meanwhile.
        self.eval("1");
    }

    /// Console errors, uncaught exceptions and failed loads since `open`.
    fn errors(&self) -> Vec<String> {
        let mut errors = Vec::new();
        for event in &self.events {
            let params = &event["params"];
            match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => {
                    errors.push(format!("exception: {}", params["exceptionDetails"]))
                }
                Some("Runtime.consoleAPICalled")
                    if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                {
                    errors.push(format!("console.{}: {}", params["type"], params["args"]))
                }
                Some("Log.entryAdded") if params["entry"]["level"] == "error" => errors.push(
                    format!("{}: {}", params["entry"]["url"], params["entry"]["text"]),
                ),
                Some("Network.loadingFailed") => {
                    errors.push(format!("load failed: {}", params["errorText"]))
                }
                _ => {}
            }
        }
        errors
    }

    /// Every URL the page requested since `open`.
    fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|event| event["method"] == "Network.requestWillBeSent")
            .filter_map(|event| event["params"]["request"]["url"].as_str())
            .map(str::to_string)
            .collect()
    }
}

// ---- the pages --------------------------------------------------------------

/// A household page that shows photos, the newest daily report, a commune.
fn sample_pages(site: &Path) -> Vec<String> {
    let mut households: Vec<PathBuf> = std::fs::read_dir(site.join(folder_of(routes::HOUSEHOLDS)))
        .expect("the households' folder")
        .map(|e| e.expect("entry").path().join("index.html"))
        .filter(|p| p.is_file())
        .collect();
    households.sort();
    let with_photos = households
        .iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .expect("page")
                .contains("<picture>")
        })
        .expect("the demo has a household page with photos");
    let household = with_photos
        .parent()
        .and_then(|p| p.file_name())
        .expect("id")
        .to_string_lossy()
        .into_owned();
    let mut days: Vec<String> = std::fs::read_dir(site.join(folder_of(routes::REPORTS)))
        .expect("the reports' folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("20"))
        .collect();
    days.sort();
    let day = days.last().expect("a report");
    let fund = std::fs::read_dir(site.join(folder_of(&routes::fund(""))))
        .expect("the funds' folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .min()
        .expect("a fund");
    let mut pages = Vec::new();
    for language in ["vi", "en"] {
        pages.push(page_in(language, routes::HOME));
        pages.push(page_in(language, &routes::fund(&fund)));
        pages.push(page_in(language, &routes::household(&household)));
        pages.push(page_in(language, &routes::report(day)));
    }
    pages.push(routes::commune("quang-tri", "xa-bo-trach"));
    pages.push(routes::VERIFY.to_string());
    pages.push(routes::DONATIONS.to_string());
    pages
}

#[test]
fn public_pages_are_accessible_and_quiet_in_chromium() {
    let axe_file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    let (Some(binary), true) = (chromium_binary(), axe_file.is_file()) else {
        assert!(
            !required(),
            "Chromium and axe-core are required (install `chromium`; `npm ci --prefix tests/browser`)"
        );
        eprintln!(
            "browser_a11y: Chromium or tests/browser/node_modules/axe-core missing; the browser test did not run"
        );
        return;
    };
    let axe = std::fs::read_to_string(&axe_file).expect("axe.min.js");
    let portal = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("temp dir");
    let site = scratch.path().join("site");
    minhbach()
        .current_dir(&portal)
        .args(["build", "-o"])
        .arg(&site)
        .assert()
        .success();
    let base = serve(site.clone());
    let mut browser = Chromium::launch(&binary);
    let mut problems = Vec::new();
    for page in sample_pages(&site) {
        let url = format!("{base}{page}");
        for width in [320, 1280] {
            browser.set_width(width);
            browser.open(&url);
            for error in browser.errors() {
                problems.push(format!("{page} at {width}px: {error}"));
            }
            for request in browser.requests() {
                if !request.starts_with(&base) && !request.starts_with("data:") {
                    problems.push(format!("{page}: request leaves the site: {request}"));
                }
            }
            let overflow = browser.eval("document.documentElement.scrollWidth");
            if overflow.as_u64().unwrap_or(0) > u64::from(width) {
                problems.push(format!(
                    "{page}: {overflow} px wide on a {width} px screen (scrolls sideways)"
                ));
            }
            // Every image loaded (thumbnails, VietQR codes).
            let broken = browser.eval(
                "[...document.images].filter(i => !i.naturalWidth).map(i => i.currentSrc || i.src)",
            );
            if broken.as_array().is_some_and(|b| !b.is_empty()) {
                problems.push(format!("{page}: images that did not load: {broken}"));
            }
        }
        if browser.eval("typeof axe") != json!("object") {
            browser.eval(&format!("{axe};\n1"));
        }
        let report = browser.eval(
            "axe.run(document, {resultTypes: ['violations']}).then(r => ({passes: r.passes.length, \
             serious: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3) \
               .map(n => n.target.join(' ')).join(', ')}`)}))",
        );
        // A sanity check that axe really looked at the page.
        assert!(
            report["passes"].as_u64().unwrap_or(0) > 10,
            "{page}: {report}"
        );
        for violation in report["serious"].as_array().expect("a list") {
            problems.push(format!("{page}: axe: {}", violation.as_str().unwrap_or("")));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
