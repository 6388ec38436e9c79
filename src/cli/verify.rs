//! `minhbach verify [--since CHECKPOINT] [--site DIR] [--proof FILE]` and
//! `minhbach recover`.

use super::{ledger_of, now, open_portal, usage};
use crate::ledger::note::Checkpoint;
use crate::ledger::published::{self, PublishedKeys, PublishedLog};
use crate::ledger::{Verified, VerifyOptions, merkle};
use crate::site::lookup;
use anyhow::{Result, anyhow, bail};
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
    // Every check runs before anything is printed: a failing verification
    // prints no "ok" line, so a script or a reader skimming the output never
    // sees a success that a later check took back.
    if let Some(site) = &args.site
        && let Some(url) = site.to_str().filter(|_| super::monitor::is_url(site))
    {
        return super::monitor::run(root, url, args.state.as_deref(), old_note.as_deref());
    }
    let report = if let Some(proof) = &args.proof {
        verify_proof(root, proof, args.keys.as_deref())?
    } else if let Some(site) = &args.site {
        verify_site(root, site, old_note.as_deref())?
    } else {
        verify_portal(root, args.since.as_deref(), old_note.as_deref())?
    };
    for line in report {
        println!("{line}");
    }
    Ok(())
}

fn verify_portal(root: &Path, since: Option<&Path>, old_note: Option<&str>) -> Result<Vec<String>> {
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let options = VerifyOptions {
        keep_leaves: old_note.is_some(),
        check_media: true,
        ..VerifyOptions::default()
    };
    let verified = ledger.verify(options)?;
    let mut report = vec![
        format!(
            "ok: {} entries, {} signed checkpoints, every signature and invariant checked",
            verified.checkpoint.size, verified.checkpoints
        ),
        root_line(&verified.checkpoint.root, &verified.checkpoint.origin),
    ];
    if let (Some(path), Some(note)) = (since, old_note) {
        let proof = ledger.check_extends(&verified, note)?;
        report.push(format!(
            "ok: extends `{}` (consistency proof of {} hashes)",
            path.display(),
            proof.len()
        ));
    }
    Ok(report)
}

fn read(path: &Path, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read {what} `{}`: {e}", path.display())))
}

fn root_line(root: &merkle::Hash, origin: &str) -> String {
    let root = base64::engine::general_purpose::STANDARD.encode(root);
    format!("root {root} (origin {origin})")
}

/// Verifies a site's `ledger/` tile tree with only the published files.
fn verify_site(root: &Path, site: &Path, old_note: Option<&str>) -> Result<Vec<String>> {
    let dir = site.join("ledger");
    if !dir.join("checkpoint").is_file() {
        return Err(usage(format!(
            "`{}` has no public log (`ledger/checkpoint` not found)",
            site.display()
        )));
    }
    // A site of a portal that allows advances is judged by that setting.
    let config = open_portal(root).map(|p| p.config).ok();
    let allow_advances = config.as_ref().is_some_and(|c| c.ledger.allow_advances);
    let mut log = published::verify_published(&dir, allow_advances)?;
    let mut report = vec![
        format!(
            "ok: the site's log holds {} entries; every tile, entry, invariant and the checkpoint signature checked",
            log.checkpoint.size
        ),
        root_line(&log.checkpoint.root, &log.checkpoint.origin),
    ];
    // The lookup index, rebuilt from the proven entries, must be the one the
    // site serves (a site without the lookup page has none to check).
    if site
        .join(crate::site::routes::LOOKUP_INDEX_DIR)
        .join("manifest.json")
        .is_file()
    {
        let privacy = config.map(|c| c.privacy).unwrap_or_default();
        let files = lookup::check_index(site, &mut log, &privacy)
            .map_err(|e| anyhow!("`{}`: {e:#}", site.display()))?;
        report.push(format!(
            "ok: the lookup index ({files} files under `{}`) is the one the log's entries give",
            crate::site::routes::LOOKUP_INDEX_DIR
        ));
    }
    match old_note {
        Some(note) => {
            let proof = extends_published(&log, note)?;
            report.push(format!(
                "ok: extends the older checkpoint (consistency proof of {} hashes)",
                proof.len()
            ));
        }
        // The checks above hold for any log with this origin, a re-created
        // one (new administrator key, entries rewritten) included: only an
        // older checkpoint ties the site to the log seen before.
        None => report.push(
            "note: this does not show that the site serves the log you saw before (a log re-created \
             under the same origin with a new key passes these checks too): keep its `ledger/checkpoint` \
             and pass it next time with --since"
                .to_string(),
        ),
    }
    Ok(report)
}

/// The site's log must extend an older checkpoint: its signature verifies
/// under a key of the log, and a consistency proof links the two roots.
fn extends_published(log: &PublishedLog, old_note: &str) -> Result<Vec<merkle::Hash>> {
    let verified = Verified {
        state: log.state.clone(),
        tree: log.leaves.iter().copied().collect(),
        checkpoint: log.checkpoint.clone(),
        checkpoint_note: log.checkpoint_note.clone(),
        leaves: log.leaves.clone(),
        leaves_from: 0,
        checkpoints: 0,
        checkpoints_digest: [0; 32],
        segment_roots: Vec::new(),
        segment_digests: Vec::new(),
        cached_entries: 0,
        segment_bytes: Vec::new(),
    };
    Ok(crate::ledger::check_extends(
        &verified,
        old_note,
        &log.checkpoint.origin,
    )?)
}

/// Checks a receipt against a keys file, or inside a portal against its
/// ledger: the portal's key history and origin. Inside a portal, a receipt
/// of its log (its origin) must also have a checkpoint that is one of the
/// ledger's trees (the same root at its size), with or without `--keys`, so
/// a fork signed with a key that was lost is refused even before the key is
/// revoked.
fn verify_proof(root: &Path, proof: &Path, keys_file: Option<&Path>) -> Result<Vec<String>> {
    let text = read(proof, "the proof")?;
    let portal = open_portal(root).ok();
    let keys = match (keys_file, &portal) {
        (Some(path), _) => Some(published::read_keys(path)?),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(usage(
                "outside a portal, pass the published keys with --keys FILE (a site's ledger/keys)",
            ));
        }
    };
    let fail =
        |message: String| anyhow!("`{}`: the proof does not hold: {message}", proof.display());
    // The receipt's own origin decides whether the local ledger must hold
    // its tree; the keys then check that origin and the signature.
    let origin = published::proof_origin(&text).map_err(fail)?;
    let local = match &portal {
        Some(portal) if keys.is_none() || portal.config.ledger.origin == origin => {
            let options = VerifyOptions {
                keep_leaves: true,
                ..VerifyOptions::default()
            };
            Some(ledger_of(portal).verify(options)?)
        }
        _ => None,
    };
    let keys = match (keys, &local) {
        (Some(keys), _) => keys,
        (None, Some(verified)) => {
            PublishedKeys::of_ledger(&verified.checkpoint.origin, verified.state.keys())
        }
        (None, None) => unreachable!("without --keys, the portal's ledger was verified"),
    };
    let proven = published::check_proof(&text, &keys).map_err(fail)?;
    if let Some(verified) = &local {
        same_tree(verified, &proven.checkpoint).map_err(fail)?;
    }
    Ok(vec![
        format!(
            "ok: entry {} ({}) is in the ledger `{}` of {} entries, signed by `{}`",
            proven.entry.seq,
            proven.entry.body.kind(),
            proven.checkpoint.origin,
            proven.checkpoint.size,
            proven.signer
        ),
        proven.entry.to_line(),
    ])
}

/// A receipt's checkpoint must be a tree of the local ledger: at its size,
/// the local ledger's root is the same.
fn same_tree(verified: &Verified, checkpoint: &Checkpoint) -> Result<(), String> {
    let local_size = verified.checkpoint.size;
    if checkpoint.size > local_size {
        return Err(format!(
            "its checkpoint (tree size {}) is newer than this ledger ({local_size} entries): update the portal's ledger and check again",
            checkpoint.size
        ));
    }
    let local_root = merkle::root(&verified.leaves[..checkpoint.size as usize]);
    if local_root != checkpoint.root {
        return Err(format!(
            "its checkpoint is not this ledger's: at tree size {} this ledger's root is {}, the receipt's {} (a fork)",
            checkpoint.size,
            base64::engine::general_purpose::STANDARD.encode(local_root),
            base64::engine::general_purpose::STANDARD.encode(checkpoint.root)
        ));
    }
    Ok(())
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
