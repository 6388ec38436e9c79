//! `minhbach verify [--since CHECKPOINT] [--site DIR] [--proof FILE]` and
//! `minhbach recover`.

use super::{ledger_of, now, open_portal, usage};
use crate::ledger::note::VerifierKey;
use crate::ledger::published::{self, PublishedLog};
use crate::ledger::{Verified, VerifyOptions, merkle};
use anyhow::{Result, bail};
use base64::Engine;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// An older published checkpoint (signed note): also prove the ledger extends it.
    #[arg(long)]
    since: Option<PathBuf>,
    /// Verify a built or downloaded site's public log (DIR/ledger/) instead of this portal's ledger;
    /// or a live site's (an http:// or https:// URL), remembering each checkpoint seen.
    #[arg(long, conflicts_with = "proof", value_name = "DIR|URL")]
    site: Option<PathBuf>,
    /// With --site URL: where the checkpoints seen are remembered
    /// (default `$XDG_STATE_HOME/minhbach`, else `~/.local/state/minhbach`).
    #[arg(long, requires = "site", value_name = "DIR")]
    state: Option<PathBuf>,
    /// Check a donation receipt (a .tlog-proof file) offline.
    #[arg(long)]
    proof: Option<PathBuf>,
    /// With --proof outside a portal: the published verifier keys (a site's ledger/keys).
    #[arg(long, requires = "proof")]
    keys: Option<PathBuf>,
}

pub fn run(root: &Path, args: VerifyArgs) -> Result<()> {
    let old_note = match &args.since {
        Some(path) => Some(read(path, "the checkpoint")?),
        None => None,
    };
    if let Some(proof) = &args.proof {
        return verify_proof(root, proof, args.keys.as_deref());
    }
    if let Some(site) = &args.site {
        if let Some(url) = site.to_str().filter(|_| super::monitor::is_url(site)) {
            return super::monitor::run(root, url, args.state.as_deref(), old_note.as_deref());
        }
        return verify_site(root, site, old_note.as_deref());
    }
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let options = VerifyOptions {
        keep_leaves: old_note.is_some(),
        check_media: true,
        ..VerifyOptions::default()
    };
    let verified = ledger.verify(options)?;
    println!(
        "ok: {} entries, {} signed checkpoints, every signature and invariant checked",
        verified.checkpoint.size, verified.checkpoints
    );
    print_root(&verified.checkpoint.root, &verified.checkpoint.origin);
    if let (Some(path), Some(note)) = (&args.since, old_note) {
        let proof = ledger.check_extends(&verified, &note)?;
        print_extends(path, proof.len());
    }
    Ok(())
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {what} `{}`: {e}", path.display())))
}

fn print_root(root: &merkle::Hash, origin: &str) {
    let root = base64::engine::general_purpose::STANDARD.encode(root);
    println!("root {root} (origin {origin})");
}

fn print_extends(path: &Path, hashes: usize) {
    println!(
        "ok: extends `{}` (consistency proof of {hashes} hashes)",
        path.display()
    );
}

/// Verifies a site's `ledger/` tile tree with only the published files.
fn verify_site(root: &Path, site: &Path, old_note: Option<&str>) -> Result<()> {
    let dir = site.join("ledger");
    if !dir.join("checkpoint").is_file() {
        return Err(usage(format!(
            "`{}` has no public log (`ledger/checkpoint` not found)",
            site.display()
        )));
    }
    // A site of a portal that allows advances is judged by that setting.
    let allow_advances = open_portal(root)
        .map(|p| p.config.ledger.allow_advances)
        .unwrap_or(false);
    let log = published::verify_published(&dir, allow_advances)?;
    println!(
        "ok: the site's log holds {} entries; every tile, entry, invariant and the checkpoint signature checked",
        log.checkpoint.size
    );
    print_root(&log.checkpoint.root, &log.checkpoint.origin);
    if let Some(note) = old_note {
        let proof = extends_published(&log, note)?;
        println!(
            "ok: extends the older checkpoint (consistency proof of {} hashes)",
            proof.len()
        );
    }
    Ok(())
}

/// The site's log must extend an older checkpoint: its signature verifies
/// under a key of the log, and a consistency proof links the two roots.
fn extends_published(log: &PublishedLog, old_note: &str) -> Result<Vec<merkle::Hash>> {
    let verified = Verified {
        state: log.state.clone(),
        tree: log.leaves.iter().copied().collect(),
        checkpoint: log.checkpoint.clone(),
        checkpoint_note: String::new(),
        leaves: log.leaves.clone(),
        checkpoints: 0,
        checkpoints_digest: [0; 32],
        segment_roots: Vec::new(),
        cached_entries: 0,
    };
    Ok(crate::ledger::check_extends(
        &verified,
        old_note,
        &log.checkpoint.origin,
    )?)
}

/// Checks a receipt against the portal's key history, or a keys file.
fn verify_proof(root: &Path, proof: &Path, keys_file: Option<&Path>) -> Result<()> {
    let text = read(proof, "the proof")?;
    let keys: Vec<VerifierKey> = match keys_file {
        Some(path) => published::read_keys(path)?,
        None => {
            let Ok(portal) = open_portal(root) else {
                return Err(usage(
                    "outside a portal, pass the published keys with --keys FILE (a site's ledger/keys)",
                ));
            };
            let verified = ledger_of(&portal).verify(VerifyOptions::default())?;
            verified.state.keys().map(|key| key.vkey.clone()).collect()
        }
    };
    match published::check_proof(&text, &keys) {
        Ok(proven) => {
            println!(
                "ok: entry {} ({}) is in the ledger `{}` of {} entries, signed by `{}`",
                proven.entry.seq,
                proven.entry.body.kind(),
                proven.checkpoint.origin,
                proven.checkpoint.size,
                proven.signer
            );
            println!("{}", proven.entry.to_line());
            Ok(())
        }
        Err(message) => bail!("`{}`: the proof does not hold: {message}", proof.display()),
    }
}

#[derive(Args, Debug)]
pub struct ProveArgs {
    /// The entry's sequence number.
    seq: u64,
}

/// Prints the tlog-proof receipt of entry `seq` in the current checkpoint.
pub fn prove(root: &Path, args: ProveArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let mut line = None;
    let options = VerifyOptions {
        keep_leaves: true,
        ..VerifyOptions::default()
    };
    let verified = ledger.verify_visiting(options, &mut |entry, bytes| {
        if entry.seq == args.seq {
            line = Some(bytes.to_vec());
        }
    })?;
    let Some(line) = line else {
        bail!(
            "there is no entry {} in the ledger (it holds {})",
            args.seq,
            verified.checkpoint.size
        );
    };
    let proof = published::make_proof(&line, args.seq, &verified.leaves, &verified.checkpoint_note)
        .map_err(anyhow::Error::msg)?;
    print!("{proof}");
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
