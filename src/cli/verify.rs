//! `minhbach verify [--since CHECKPOINT]` and `minhbach recover`.

use super::{ledger_of, now, open_portal, usage};
use crate::ledger::VerifyOptions;
use anyhow::Result;
use base64::Engine;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// An older published checkpoint (signed note): also prove the ledger extends it.
    #[arg(long)]
    since: Option<PathBuf>,
}

pub fn run(root: &Path, args: VerifyArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let old_note = match &args.since {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            usage(format!(
                "cannot read the checkpoint `{}`: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let options = VerifyOptions {
        keep_leaves: old_note.is_some(),
        check_media: true,
        ..VerifyOptions::default()
    };
    let verified = ledger.verify(options)?;
    let root_hash = base64::engine::general_purpose::STANDARD.encode(verified.checkpoint.root);
    println!(
        "ok: {} entries, {} signed checkpoints, every signature and invariant checked",
        verified.checkpoint.size, verified.checkpoints
    );
    println!("root {root_hash} (origin {})", verified.checkpoint.origin);
    if let (Some(path), Some(note)) = (&args.since, old_note) {
        let proof = ledger.check_extends(&verified, &note)?;
        println!(
            "ok: extends `{}` (consistency proof of {} hashes)",
            path.display(),
            proof.len()
        );
    }
    Ok(())
}

pub fn recover(root: &Path) -> Result<()> {
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let stamp = now().replace([':', '-'], "");
    let rescue = portal
        .root
        .join(".minhbach")
        .join(format!("rescued-{stamp}.jsonl"));
    let report = ledger.recover(&rescue)?;
    if report.removed_lines > 0 {
        println!(
            "removed {} unsigned entry line(s) after the last signed checkpoint; they are saved in `{}`",
            report.removed_lines,
            rescue.display()
        );
    }
    if report.restored_checkpoint {
        println!("restored `ledger/checkpoint` from the newest signed checkpoint");
    }
    if report.removed_temporary > 0 {
        println!(
            "removed {} temporary file(s) left by an interrupted write",
            report.removed_temporary
        );
    }
    let verified = ledger.verify(VerifyOptions::default())?;
    println!(
        "ok: the ledger verifies ({} entries)",
        verified.checkpoint.size
    );
    Ok(())
}
