//! `minhbach init DIR --key FILE`: a new portal with its genesis.

use super::key::generate_key_file;
use super::signing::load_signing_key;
use super::signing::write_private_file;
use super::{now, usage};
use crate::config::Config;
use crate::ledger::{Ledger, Secret};
use crate::portal::{PUBLISHED_DIRS, refuse_published_location};
use anyhow::{Context, Result};
use clap::Args;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The new portal's directory (created; must be empty if it exists).
    dir: PathBuf,
    /// The administrator's private key; made (with FILE.pub) if missing.
    #[arg(long)]
    key: PathBuf,
    /// The administrator key's name when it is made (default: "admin").
    #[arg(long)]
    name: Option<String>,
    /// The administrator's unit.
    #[arg(long, default_value = "Ban Thường trực Ủy ban MTTQ Việt Nam")]
    unit: String,
    /// The portal's title.
    #[arg(long, default_value = "Cổng thông tin cứu trợ – thiện nguyện")]
    title: String,
    /// The log's origin line in every checkpoint, e.g. `cuutro.example.vn/ledger`; it never changes.
    #[arg(long)]
    origin: Option<String>,
}

pub fn run(args: InitArgs) -> Result<()> {
    let dir = &args.dir;
    if dir.exists()
        && fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(usage(format!(
            "`{}` already exists and is not empty",
            dir.display()
        )));
    }
    refuse_key_inside(dir, &args.key)?;
    let origin = args.origin.unwrap_or_else(|| {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "portal".into());
        format!("minhbach.local/{name}")
    });
    let config_text = config_template(&args.title, &origin);
    let config = Config::parse(&config_text, &dir.join("config.toml"))
        .map_err(|e| usage(format!("{e:#}")))?;
    let key = if args.key.exists() {
        load_signing_key(&args.key)?
    } else {
        let made = generate_key_file(&args.key, args.name.as_deref().unwrap_or("admin"))?;
        eprintln!(
            "made the administrator key `{}` ({})",
            args.key.display(),
            made.verifier_key()
        );
        made
    };
    for sub in ["content", "static", "themes/default/templates", "ledger"] {
        fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("failed to create `{}`", dir.join(sub).display()))?;
    }
    write(dir, "config.toml", &config_text)?;
    write(dir, ".gitignore", "/public/\n/.public.*\n/.minhbach/\n")?;
    write(dir, "content/_index.md", INDEX_MD)?;
    write(dir, "content/gioi-thieu.md", ABOUT_MD)?;
    write(dir, "static/.gitkeep", "")?;
    write(dir, "themes/default/theme.toml", THEME_TOML)?;
    write(dir, "themes/default/templates/.gitkeep", "")?;
    write_private_file(
        &dir.join(&config.ledger.secret),
        &Secret::generate().to_file_text(),
    )?;
    let ledger = Ledger::new(&dir.join("ledger"), config.ledger_settings());
    let report = ledger.create(&key, &args.unit, &now())?;
    println!(
        "created the portal `{}`: genesis admits `{}` as administrator; checkpoint {} signed",
        dir.display(),
        key.name(),
        report.checkpoint.size
    );
    println!("verifier key: {}", key.verifier_key());
    Ok(())
}

/// The key must not end up in the new portal's published folders.
fn refuse_key_inside(dir: &Path, key: &Path) -> Result<()> {
    let absolute = |path: &Path| -> PathBuf {
        let joined = std::env::current_dir().unwrap_or_default().join(path);
        let mut clean = PathBuf::new();
        for component in joined.components() {
            match component {
                std::path::Component::ParentDir => {
                    clean.pop();
                }
                std::path::Component::CurDir => {}
                other => clean.push(other),
            }
        }
        clean
    };
    let (dir, key_abs) = (absolute(dir), absolute(key));
    for published in PUBLISHED_DIRS {
        if key_abs.starts_with(dir.join(published)) {
            return Err(usage(format!(
                "refusing to keep the private key `{}` inside the portal's `{published}/` directory, which is committed or published",
                key.display()
            )));
        }
    }
    refuse_published_location(key, "the private key").map_err(|e| usage(e.to_string()))
}

fn write(dir: &Path, name: &str, text: &str) -> Result<()> {
    let path = dir.join(name);
    fs::write(&path, text).with_context(|| format!("failed to write `{}`", path.display()))
}

fn config_template(title: &str, origin: &str) -> String {
    format!(
        r#"# The portal's settings. See the README for every key.
title = {title:?}
description = "Công khai minh bạch các khoản ủng hộ, chi hỗ trợ và danh sách hộ được hỗ trợ."
base_url = "/"
default_language = "vi"
languages = ["vi", "en"]
theme = "default"

[ledger]
# Names this log in every signed checkpoint. Never change it.
origin = {origin:?}
# The portal secret for commitments of citizen IDs and phone numbers.
# Keep it private and outside ledger/, content/, static/ and public/.
secret = ".minhbach/secret"
# Whether a fund may disburse more than it has received.
allow_advances = false

[privacy]
# How household names appear: "full", "abbreviated" or "initials".
household_names = "full"
# Show the last four digits of citizen IDs (********1234). They are never in the
# ledger: when true, append and import keep them beside the secret
# (citizen-id-last4.tsv), and only the site built there shows them.
show_citizen_id_last4 = false

[extra]
"#
    )
}

const INDEX_MD: &str = r#"+++
title = "Trang chủ"
+++

Mọi khoản ủng hộ, mọi khoản chi và danh sách hộ được hỗ trợ đều được ghi vào một sổ cái có chữ ký số, công khai để bất kỳ ai cũng có thể kiểm tra.
"#;

const ABOUT_MD: &str = r#"+++
title = "Giới thiệu"
+++

Cổng thông tin này công khai các khoản ủng hộ và chi hỗ trợ của Ủy ban Mặt trận Tổ quốc.
"#;

const THEME_TOML: &str = r#"name = "default"
description = "The default minhbach theme: Vietnamese first, English second."
"#;
