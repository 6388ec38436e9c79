//! Many writers at once with a build running meanwhile: 8
//! processes appending 20 donations each and one importing 5 statements,
//! while `minhbach build` runs again and again. No entry is lost or
//! doubled, the ledger verifies, and every build publishes one consistent
//! checkpoint: its tree size, the entries in its public log, its donation
//! CSV and the fund total on its pages all describe the same prefix of the
//! final ledger.

use crate::common;

use common::{TestPortal, log_file, minhbach, page_file};
use minhbach::site::routes;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const APPENDERS: usize = 8;
const APPENDS_EACH: usize = 20;
const IMPORTS: usize = 5;
const ROWS_PER_IMPORT: usize = 10;

/// What one build published, read from `public/` right after it.
#[derive(Debug)]
struct Published {
    tree_size: u64,
    csv_rows: u64,
    fund_received: u64,
    fund_donations: u64,
}

/// One donation line with a reference unique to (appender, index).
fn donation(appender: usize, index: usize) -> String {
    format!(
        r#"{{"kind":"donation","fund":"bao-so-5","donor":"Người {appender}","amount":{},"date":"2025-09-13","channel":"bank","ref":"AP{appender:02}N{index:03}"}}"#,
        amount(appender, index)
    )
}

fn amount(appender: usize, index: usize) -> u64 {
    10_000 + (appender * 100 + index) as u64
}

/// Appends one at a time; returns the references that were appended.
fn appender(portal: &TestPortal, appender: usize) -> Vec<String> {
    let mut appended = Vec::new();
    for index in 0..APPENDS_EACH {
        let output = portal.append(&donation(appender, index)).output().unwrap();
        assert!(
            output.status.success(),
            "appender {appender}, append {index} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        appended.push(format!("AP{appender:02}N{index:03}"));
    }
    appended
}

/// Imports statements of fresh rows; returns the references imported.
fn importer(portal: &TestPortal) -> Vec<String> {
    let mut imported = Vec::new();
    for import in 0..IMPORTS {
        let file = portal.dir.path().join(format!("sao-ke-{import}.csv"));
        let mut csv = String::from("date,ref,amount,donor\n");
        for row in 0..ROWS_PER_IMPORT {
            let reference = format!("IM{import:02}R{row:03}");
            csv += &format!("13/09/2025,{reference},{},Phạm Văn Cường\n", 20_000 + row);
            imported.push(reference);
        }
        std::fs::write(&file, csv).unwrap();
        let key = portal.officer_key.to_str().unwrap();
        let output = portal
            .run(&[
                "import",
                "donations",
                file.to_str().unwrap(),
                "--fund",
                "bao-so-5",
                "--key",
                key,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "import {import} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    imported
}

/// Builds the site and reads back what it published.
fn build_and_read(portal: &TestPortal) -> Published {
    let output = portal.run(&["build"]).output().unwrap();
    assert!(
        output.status.success(),
        "build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let public = portal.root().join("public");
    minhbach()
        .args(["verify", "--site"])
        .arg(&public)
        .assert()
        .success();
    read_published(&public)
}

fn read_published(public: &Path) -> Published {
    let checkpoint = std::fs::read_to_string(public.join(log_file("checkpoint"))).unwrap();
    let tree_size = checkpoint.lines().nth(1).unwrap().parse().unwrap();
    let csv = std::fs::read_to_string(public.join(routes::table_file("donation"))).unwrap();
    let csv_rows = csv.lines().skip(1).filter(|l| !l.is_empty()).count() as u64;
    let page = std::fs::read_to_string(public.join(page_file(&routes::fund("bao-so-5")))).unwrap();
    let (fund_received, fund_donations) = received_on_page(&page);
    Published {
        tree_size,
        csv_rows,
        fund_received,
        fund_donations,
    }
}

/// The fund page's "received" figure (`1.250.000 ₫`) and donation count.
fn received_on_page(page: &str) -> (u64, u64) {
    let stat = page
        .split(r#"<p class="stat">"#)
        .nth(1)
        .expect("the fund page shows what it received");
    let number = |text: &str| -> u64 {
        text.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a number")
    };
    let strong = stat
        .split("<strong>")
        .nth(1)
        .unwrap()
        .split("</strong>")
        .next()
        .unwrap();
    let small = stat
        .split("<small>")
        .nth(1)
        .unwrap()
        .split("</small>")
        .next()
        .unwrap();
    (number(strong), number(small))
}

/// Per prefix length of the final ledger: donations to `bao-so-5` so far
/// (count and sum).
fn donation_prefixes(segment: &Path) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(segment).unwrap();
    let mut prefixes = vec![(0, 0)];
    let (mut count, mut sum) = (0, 0);
    for line in text.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        if entry["kind"] == "donation" && entry["fund"] == "bao-so-5" {
            count += 1;
            sum += entry["amount"].as_u64().unwrap();
        }
        prefixes.push((count, sum));
    }
    prefixes
}

#[test]
fn appenders_importers_and_builds_at_once_lose_nothing_and_publish_one_checkpoint() {
    let portal = Arc::new(TestPortal::new());
    portal.append(common::SAMPLE).assert().success();
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..=APPENDERS)
        .map(|writer| {
            let portal = Arc::clone(&portal);
            std::thread::spawn(move || match writer {
                APPENDERS => importer(&portal),
                _ => appender(&portal, writer),
            })
        })
        .collect();
    let builder = {
        let (portal, done) = (Arc::clone(&portal), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut builds = Vec::new();
            while !done.load(Ordering::SeqCst) {
                builds.push(build_and_read(&portal));
            }
            builds
        })
    };
    let mut written: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    done.store(true, Ordering::SeqCst);
    let mut builds = builder.join().unwrap();
    builds.push(build_and_read(&portal));

    portal.run(&["verify"]).assert().success();
    let in_ledger = references_in_ledger(&portal.segment());
    written.sort();
    let expected = APPENDERS * APPENDS_EACH + IMPORTS * ROWS_PER_IMPORT;
    assert_eq!(written.len(), expected);
    let doubled: Vec<_> = in_ledger.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "entries appended twice: {doubled:?}");
    let in_ledger: Vec<String> = in_ledger
        .into_keys()
        .filter(|r| r != "FT25255001")
        .collect();
    assert_eq!(
        in_ledger, written,
        "the ledger does not hold exactly what was appended"
    );

    let prefixes = donation_prefixes(&portal.segment());
    let final_size = prefixes.len() as u64 - 1;
    for (index, build) in builds.iter().enumerate() {
        let (count, sum) = prefixes[build.tree_size as usize];
        assert_eq!(
            (build.csv_rows, build.fund_donations, build.fund_received),
            (count, count, sum),
            "build {index} of {} published checkpoint {} but its pages describe another prefix: {build:?}",
            builds.len(),
            build.tree_size
        );
    }
    assert_eq!(builds.last().unwrap().tree_size, final_size);
    let sizes: Vec<u64> = builds.iter().map(|b| b.tree_size).collect();
    println!(
        "{} builds during the appends published tree sizes {sizes:?}",
        builds.len() - 1
    );
}

/// Bank references in the ledger with how many times each occurs.
fn references_in_ledger(segment: &Path) -> BTreeMap<String, usize> {
    let mut references = BTreeMap::new();
    for line in std::fs::read_to_string(segment).unwrap().lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(reference) = entry["ref"].as_str() {
            *references.entry(reference.to_string()).or_default() += 1;
        }
    }
    references
}
