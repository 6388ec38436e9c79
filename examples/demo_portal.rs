//! Regenerates the demo portal's ledger (`ledger/`) from the deterministic
//! data in `demo/data.rs`, through the same library calls `minhbach append`
//! uses, so the committed demo is a real, verifiable ledger.
//!
//! ```text
//! cargo run --release --example demo_portal [PORTAL_DIR]
//! ```
//!
//! DEMO KEYS ONLY: the signing keys and the portal secret are derived from
//! fixed, public seeds so that anyone regenerating the demo gets the same
//! bytes. They protect nothing; a real portal makes its keys with
//! `minhbach key new` and keeps them private.

#[path = "demo/data.rs"]
mod data;
#[path = "demo/photos.rs"]
mod photos;

use minhbach::config::Config;
use minhbach::ledger::note::SigningKey;
use minhbach::ledger::{InputContext, Ledger, LedgerSettings, Pending, Secret, parse_input};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const SEED: u64 = 2025;

/// A demo-only key, derived from a public label. Not secret.
fn demo_key(name: &str) -> SigningKey {
    let seed: [u8; 32] =
        Sha256::digest(format!("minhbach DEMO ONLY, NOT SECRET: key {name}")).into();
    SigningKey::from_seed(name, seed).expect("valid demo key name")
}

/// The demo portal secret, derived from a public label. Not secret.
fn demo_secret() -> Secret {
    Secret::from_bytes(Sha256::digest("minhbach DEMO ONLY, NOT SECRET: portal secret").into())
}

fn main() -> anyhow::Result<()> {
    let root = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let config = Config::load(&root.join("config.toml"))?;
    let ledger_dir = root.join("ledger");
    if ledger_dir.exists() {
        std::fs::remove_dir_all(&ledger_dir)?;
    }
    let secret = demo_secret();
    let secret_path = root.join(&config.ledger.secret);
    std::fs::create_dir_all(secret_path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&secret_path, secret.to_file_text())?;

    let settings = LedgerSettings {
        origin: config.ledger.origin.clone(),
        allow_advances: config.ledger.allow_advances,
    };
    let ledger = Ledger::new(&ledger_dir, settings);
    let admin = demo_key(data::ADMIN);
    ledger.create(
        &admin,
        "Ban Thường trực Ủy ban MTTQ Việt Nam tỉnh Quảng Trị",
        "2025-08-01T07:30:00Z",
    )?;
    let officers = [
        (
            data::OFFICER_DONGHOI,
            "Ban Công tác Mặt trận, cơ quan Ủy ban MTTQ tỉnh tại Đồng Hới",
        ),
        (
            data::OFFICER_VINHLINH,
            "Văn phòng Ủy ban MTTQ tỉnh tại Vĩnh Linh",
        ),
    ];
    let admissions = officers
        .iter()
        .map(|(name, unit)| {
            let line = serde_json::json!({
                "kind": "key", "action": "admit", "name": name, "unit": unit,
                "role": "officer", "vkey": demo_key(name).verifier_key().to_string(),
            });
            pending(&line, &secret, &ledger, Path::new("."))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    ledger.append(admissions, &admin, "2025-08-01T07:45:00Z")?;

    let mut batches = data::generate(SEED);
    // A few drawn photos (with GPS in their EXIF, as from a phone) for the
    // progress entries of households that consented; written to a scratch
    // folder, then stored by hash under `ledger/media/` by the append.
    let photo_dir =
        std::env::temp_dir().join(format!("minhbach-demo-photos-{}", std::process::id()));
    let photo_count = photos::attach(&mut batches, &photo_dir)?;
    let mut entries = data::SEQ_OFFSET;
    for batch in &batches {
        let key = demo_key(batch.signer);
        let items = batch
            .entries
            .iter()
            .map(|line| pending(line, &secret, &ledger, &photo_dir))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let time = format!("{}T17:00:00Z", batch.day);
        let report = ledger.append(items, &key, &time)?;
        entries = report.checkpoint.size;
    }
    let _ = std::fs::remove_dir_all(&photo_dir);
    println!(
        "demo ledger written to `{}`: {entries} entries in {} signed batches, {photo_count} photos",
        ledger_dir.display(),
        batches.len() + 2
    );
    Ok(())
}

/// `photo_dir`: where the photos named in `line` are, as the folder of an
/// officer's input file.
fn pending(
    line: &serde_json::Value,
    secret: &Secret,
    ledger: &Ledger,
    photo_dir: &Path,
) -> anyhow::Result<Pending> {
    let context = InputContext {
        secret: Some(secret),
        base_dir: photo_dir.to_path_buf(),
        media_dir: ledger.media_dir(),
        check_media: minhbach::media::check_photo,
    };
    parse_input(&line.to_string(), &context).map_err(|e| anyhow::anyhow!("demo entry {line}: {e}"))
}
