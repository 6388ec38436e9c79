//! Realistic bank statements for the import benchmark, and their score:
//!
//! ```text
//! cargo run --release --example bench_statements -- OUT_DIR TRANSFERS [--long]
//! cargo run --release --example bench_statements -- --score OUT_DIR PORTAL_DIR
//! ```
//!
//! The first form writes `OUT_DIR/*.csv` (six statements of one fund's three
//! accounts, shaped like the volunteers' transcriptions of the 2024 typhoon
//! statements: see `statements/gen.rs`), their mappings `row.toml` and
//! `daily.toml`, `funds.jsonl` (the fund `yagi` with its accounts),
//! `imports.txt` (one `FILE ACCOUNT MAPPING` line per statement, in import
//! order) and `truth.txt` (the true number and sum of transfers). `--long`
//! adds what banks write after the sender's words (about 120 characters a
//! description on average, as on the real statements: the lookup benchmarks
//! of issue 17 use it).
//!
//! The second form compares a portal's ledger, after importing every
//! statement in order, with the truth: transfers lost or counted twice, and
//! how often the donor's name taken from the description is right.

#[path = "statements/gen.rs"]
mod generator;

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, out, portal] if flag == "--score" => score(out.into(), portal.into()),
        [out, count] => write(
            out.into(),
            count.parse().expect("TRANSFERS is a number"),
            generator::Texts::Short,
        ),
        [out, count, flag] if flag == "--long" => write(
            out.into(),
            count.parse().expect("TRANSFERS is a number"),
            generator::Texts::Long,
        ),
        _ => {
            eprintln!(
                "usage: bench_statements OUT_DIR TRANSFERS [--long] | --score OUT_DIR PORTAL_DIR"
            );
            std::process::exit(2);
        }
    }
}

fn write(out: PathBuf, count: usize, texts: generator::Texts) -> std::io::Result<()> {
    std::fs::create_dir_all(&out)?;
    let generated = match texts {
        generator::Texts::Short => generator::generate(count, 2024),
        generator::Texts::Long => {
            std::fs::write(out.join("long.txt"), "")?;
            generator::generate_with(count, 2024, texts)
        }
    };
    let mut imports = String::new();
    for statement in &generated.statements {
        std::fs::write(out.join(&statement.file), &statement.text)?;
        let mapping = if statement.daily {
            "daily.toml"
        } else {
            "row.toml"
        };
        imports.push_str(&format!(
            "{} {} {mapping}\n",
            statement.file,
            generator::ACCOUNTS[statement.account].1
        ));
    }
    std::fs::write(out.join("imports.txt"), imports)?;
    std::fs::write(out.join("requested.txt"), count.to_string())?;
    std::fs::write(out.join("row.toml"), generator::ROW_MAPPING)?;
    std::fs::write(out.join("daily.toml"), generator::DAILY_MAPPING)?;
    let accounts: Vec<String> = generator::ACCOUNTS
        .iter()
        .map(|(bin, number, _)| {
            format!(r#"{{"bank_bin":"{bin}","number":"{number}","holder":"UBTW MTTQ VIET NAM"}}"#)
        })
        .collect();
    std::fs::write(
        out.join("funds.jsonl"),
        format!(
            r#"{{"kind":"fund","id":"yagi","name":"Ủng hộ đồng bào bị ảnh hưởng bão Yagi","description":"Sao kê thực tế, dữ liệu sinh để đo","accounts":[{}]}}"#,
            accounts.join(",")
        ) + "\n",
    )?;
    let rows: usize = generated.statements.iter().map(|s| s.rows.len()).sum();
    std::fs::write(
        out.join("truth.txt"),
        format!(
            "transfers {}\ndong {}\nrows {rows}\n",
            generated.transfers.len(),
            generated.total()
        ),
    )?;
    println!(
        "{} transfers ({} đồng) in {rows} statement rows",
        generated.transfers.len(),
        generated.total()
    );
    Ok(())
}

/// The generator is deterministic: the truth is made again, not stored.
fn score(out: PathBuf, portal: PathBuf) -> std::io::Result<()> {
    let truth = std::fs::read_to_string(out.join("truth.txt"))?;
    let count: usize = truth
        .lines()
        .find_map(|l| l.strip_prefix("transfers "))
        .and_then(|n| n.parse().ok())
        .expect("truth.txt names the transfers");
    // `write` asked for `count` and got at least that many; generate again
    // with the same request (the per-day count is derived from it).
    let requested = std::fs::read_to_string(out.join("requested.txt"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(count);
    let texts = if out.join("long.txt").exists() {
        generator::Texts::Long
    } else {
        generator::Texts::Short
    };
    let generated = generator::generate_with(requested, 2024, texts);
    let report = generator::compare(&generated, &ledger_donations(&portal.join("ledger"))?);
    println!("{report}");
    Ok(())
}

/// (account, date, booking time, amount, description, donor) of every
/// donation of a ledger.
fn ledger_donations(ledger: &std::path::Path) -> std::io::Result<Vec<[String; 6]>> {
    let mut found = Vec::new();
    let mut segments: Vec<PathBuf> = std::fs::read_dir(ledger.join("entries"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    segments.sort();
    for segment in segments {
        for line in std::fs::read_to_string(segment)?.lines() {
            let entry: serde_json::Value =
                serde_json::from_str(line).expect("ledger lines are JSON");
            if entry["kind"] != "donation" {
                continue;
            }
            let text = |field: &str| entry[field].as_str().unwrap_or_default().to_string();
            found.push([
                text("account"),
                text("date"),
                text("booking_time"),
                entry["amount"].to_string(),
                text("description"),
                text("donor"),
            ]);
        }
    }
    Ok(found)
}
