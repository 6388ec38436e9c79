//! Checking a published log (a site's `ledger/` tile tree) and the proofs
//! handed to donors, with nothing but the published files.
//!
//! `verify_published` reads the checkpoint, the verifier keys and every entry
//! bundle, re-checks every entry and invariant as `verify` does, rebuilds the
//! tree and compares every published hash tile with it, so a changed byte in
//! any tile, bundle or the checkpoint is caught. `make_proof` and
//! `check_proof` are the C2SP `tlog-proof` receipts: the entry line travels
//! in the `extra` field, so the receipt alone proves the donation.

use super::entry::Entry;
use super::merkle::{self, Hash};
use super::note::{Checkpoint, SignedNote, VerifierKey};
use super::state::{KeyRecord, State, check_entry_fields};
use super::tiles::{self, TILE_WIDTH, Tile};
use super::verify::{VerifyError, VerifyErrorKind};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rayon::prelude::*;
use std::path::Path;

/// A published log that verified.
pub struct PublishedLog {
    pub checkpoint: Checkpoint,
    /// The checkpoint's signed note, as published.
    pub checkpoint_note: String,
    pub state: State,
    pub leaves: Vec<Hash>,
    /// Every entry, in order: what the site's other files (the lookup
    /// index) are checked against.
    pub entries: Vec<Entry>,
}

fn failure(kind: VerifyErrorKind, file: &Path, message: impl Into<String>) -> VerifyError {
    VerifyError {
        kind,
        seq: None,
        file: Some(file.to_path_buf()),
        line: None,
        message: message.into(),
        hint: None,
    }
}

/// A site's `keys` file: the log's origin and the verifier key of every key
/// the ledger ever admitted, with the tree size from which a revoked one is
/// revoked.
///
/// ```text
/// origin quangtri.minhbach.example/ledger
/// admin+1a2b3c4d+AQ…
/// canbo+5e6f7a8b+AQ… revoked-from 1234
/// ```
///
/// A checkpoint signed by a key revoked from a size at or below its own
/// tree size is refused: the key was lost or its officer left, and anything
/// it signs for a tree that already holds its revocation is a fork.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKeys {
    /// `None` in a file written before origins were published.
    pub origin: Option<String>,
    pub keys: Vec<PublishedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedKey {
    pub vkey: VerifierKey,
    pub revoked_from: Option<u64>,
}

impl PublishedKeys {
    /// The keys of a verified ledger's history, in the order they were
    /// admitted.
    pub fn of_ledger<'k>(origin: &str, keys: impl Iterator<Item = &'k KeyRecord>) -> PublishedKeys {
        let mut records: Vec<_> = keys.collect();
        records.sort_by_key(|key| key.admitted_seq);
        PublishedKeys {
            origin: Some(origin.to_string()),
            keys: records
                .into_iter()
                .map(|record| PublishedKey {
                    vkey: record.vkey.clone(),
                    revoked_from: record.revoked_from(),
                })
                .collect(),
        }
    }

    /// The file's text.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        if let Some(origin) = &self.origin {
            text.push_str(&format!("origin {origin}\n"));
        }
        for key in &self.keys {
            match key.revoked_from {
                Some(size) => text.push_str(&format!("{} revoked-from {size}\n", key.vkey)),
                None => text.push_str(&format!("{}\n", key.vkey)),
            }
        }
        text
    }

    /// Parses the file's text (blank lines and `#` comments allowed).
    pub fn parse(text: &str) -> Result<PublishedKeys, (u64, String)> {
        let mut keys = PublishedKeys {
            origin: None,
            keys: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            let number = number as u64 + 1;
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(origin) = line.strip_prefix("origin ") {
                if keys.origin.replace(origin.to_string()).is_some() {
                    return Err((number, "a second `origin` line".into()));
                }
                continue;
            }
            let (vkey, revoked_from) = match line.split_once(' ') {
                None => (line, None),
                Some((vkey, rest)) => {
                    let size = rest
                        .strip_prefix("revoked-from ")
                        .and_then(|size| size.parse::<u64>().ok())
                        .ok_or_else(|| {
                            (
                                number,
                                format!("`{rest}` is not `revoked-from <tree size>`"),
                            )
                        })?;
                    (vkey, Some(size))
                }
            };
            let vkey = VerifierKey::parse(vkey).map_err(|e| (number, e.to_string()))?;
            keys.keys.push(PublishedKey { vkey, revoked_from });
        }
        Ok(keys)
    }
}

/// Reads a `keys` file.
pub fn read_keys(path: &Path) -> Result<PublishedKeys, VerifyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| failure(VerifyErrorKind::Io, path, format!("cannot be read: {e}")))?;
    PublishedKeys::parse(&text).map_err(|(line, message)| {
        let mut error = failure(VerifyErrorKind::Checkpoint, path, message);
        error.line = Some(line);
        error
    })
}

/// Verifies the tile tree under `dir` (a site's `ledger/` folder).
pub fn verify_published(dir: &Path, allow_advances: bool) -> Result<PublishedLog, VerifyError> {
    let checkpoint_path = dir.join("checkpoint");
    let note_text = std::fs::read_to_string(&checkpoint_path).map_err(|e| {
        failure(
            VerifyErrorKind::Io,
            &checkpoint_path,
            format!("cannot be read: {e}"),
        )
    })?;
    let note = SignedNote::parse(&note_text)
        .map_err(|e| failure(VerifyErrorKind::Checkpoint, &checkpoint_path, e.to_string()))?;
    let checkpoint = note
        .checkpoint()
        .map_err(|e| failure(VerifyErrorKind::Checkpoint, &checkpoint_path, e.to_string()))?;
    let keys_path = dir.join("keys");
    let keys = read_keys(&keys_path)?;
    let lines = read_bundles(dir, checkpoint.size)?;
    let checked: Vec<Result<(Entry, Hash), VerifyError>> = lines
        .par_iter()
        .enumerate()
        .map(|(seq, line)| {
            let entry =
                Entry::from_line(line).map_err(|e| entry_error(dir, seq as u64, e.to_string()))?;
            check_entry_fields(&entry).map_err(|e| entry_error(dir, seq as u64, e.to_string()))?;
            Ok((entry, merkle::leaf_hash(line)))
        })
        .collect();
    // The first failure in ledger order, whichever thread found it first.
    let decoded: Vec<(Entry, Hash)> = checked.into_iter().collect::<Result<_, _>>()?;
    let mut state = State::new(allow_advances);
    let mut leaves = Vec::with_capacity(decoded.len());
    for (seq, (entry, leaf)) in decoded.iter().enumerate() {
        let role = if seq == 0 {
            None
        } else {
            let key = state
                .check_signer(&entry.signer)
                .map_err(|e| entry_error(dir, seq as u64, e.to_string()))?;
            Some(key.role)
        };
        let mut lookup = |target: u64| {
            decoded
                .get(target as usize)
                .map(|(e, _)| e.clone())
                .ok_or_else(|| format!("no entry {target}"))
        };
        state
            .apply_checked(entry, role, &mut lookup)
            .map_err(|e| entry_error(dir, seq as u64, e.to_string()))?;
        leaves.push(*leaf);
    }
    check_hash_tiles(dir, &leaves)?;
    if merkle::root(&leaves) != checkpoint.root {
        return Err(failure(
            VerifyErrorKind::Checkpoint,
            &checkpoint_path,
            "its root hash does not match the published entries",
        ));
    }
    check_signature(
        &checkpoint_path,
        &note,
        &keys,
        &state,
        decoded.last().map(|(e, _)| e),
    )?;
    // The keys file is what receipts and the lookup page trust: it must say
    // exactly what the ledger's key history says, revocations included.
    let expected = PublishedKeys::of_ledger(&checkpoint.origin, state.keys());
    if keys != expected {
        return Err(failure(
            VerifyErrorKind::Checkpoint,
            &keys_path,
            format!(
                "does not match the ledger's key history (origin and every key with its revocation); it should read:\n{}",
                expected.to_text()
            ),
        ));
    }
    Ok(PublishedLog {
        checkpoint,
        checkpoint_note: note_text,
        state,
        leaves,
        entries: decoded.into_iter().map(|(entry, _)| entry).collect(),
    })
}

fn entry_error(dir: &Path, seq: u64, message: String) -> VerifyError {
    let tile = Tile {
        level: 0,
        index: seq / TILE_WIDTH,
        width: TILE_WIDTH,
    };
    let mut error = failure(
        VerifyErrorKind::Decode,
        &dir.join(tile.entries_path()),
        message,
    );
    error.seq = Some(seq);
    error
}

/// Reads the entry bundles covering `size` entries, in order.
fn read_bundles(dir: &Path, size: u64) -> Result<Vec<Vec<u8>>, VerifyError> {
    let mut lines = Vec::with_capacity(size as usize);
    let bundles = tiles::tiles_for_size(size)
        .into_iter()
        .filter(|t| t.level == 0);
    for tile in bundles {
        let path = dir.join(tile.entries_path());
        let bytes = std::fs::read(&path).map_err(|e| {
            failure(
                VerifyErrorKind::MissingEntries,
                &path,
                format!("cannot be read: {e}"),
            )
        })?;
        let bundle = tiles::split_bundle(&bytes)
            .map_err(|message| failure(VerifyErrorKind::Decode, &path, message))?;
        if bundle.len() as u64 != tile.width {
            return Err(failure(
                VerifyErrorKind::MissingEntries,
                &path,
                format!("holds {} entries, not {}", bundle.len(), tile.width),
            ));
        }
        lines.extend(bundle.into_iter().map(<[u8]>::to_vec));
    }
    Ok(lines)
}

/// Every published hash tile must equal the one rebuilt from the entries.
fn check_hash_tiles(dir: &Path, leaves: &[Hash]) -> Result<(), VerifyError> {
    let levels = tiles::TileLevels::new(&[], leaves);
    for tile in tiles::tiles_for_size(leaves.len() as u64) {
        let path = dir.join(tile.path());
        let bytes = std::fs::read(&path).map_err(|e| {
            failure(
                VerifyErrorKind::MissingEntries,
                &path,
                format!("cannot be read: {e}"),
            )
        })?;
        if Some(bytes) != levels.tile_bytes(tile) {
            return Err(failure(
                VerifyErrorKind::Checkpoint,
                &path,
                "this hash tile does not match the published entries",
            ));
        }
    }
    Ok(())
}

/// The checkpoint must be signed by the key that signed the last entry, as
/// admitted in the ledger and listed in the published `keys` file.
fn check_signature(
    path: &Path,
    note: &SignedNote,
    keys: &PublishedKeys,
    state: &State,
    last: Option<&Entry>,
) -> Result<(), VerifyError> {
    let Some(last) = last else {
        return Err(failure(
            VerifyErrorKind::Checkpoint,
            path,
            "the published log is empty",
        ));
    };
    let record = state.key(&last.signer).ok_or_else(|| {
        failure(
            VerifyErrorKind::Checkpoint,
            path,
            format!("key `{}` is not in the ledger", last.signer),
        )
    })?;
    if !keys.keys.iter().any(|key| key.vkey == record.vkey) {
        return Err(failure(
            VerifyErrorKind::Checkpoint,
            path,
            format!(
                "the signer `{}` is missing from the published `keys` file",
                last.signer
            ),
        ));
    }
    note.verify(&record.vkey).map_err(|e| {
        failure(
            VerifyErrorKind::Checkpoint,
            path,
            format!("not validly signed by `{}`: {e}", last.signer),
        )
    })
}

/// The first line of a `tlog-proof`.
pub const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A C2SP `tlog-proof` for entry `index`: the entry line as `extra`, the
/// inclusion proof in the checkpointed tree of all `leaves`, and the signed
/// checkpoint note.
pub fn make_proof(line: &[u8], index: u64, leaves: &[Hash], note: &str) -> Result<String, String> {
    let proof = merkle::inclusion_proof(leaves, index).map_err(|e| e.to_string())?;
    let mut text = format!(
        "{PROOF_HEADER}\nextra {}\nindex {index}\n",
        BASE64.encode(line)
    );
    for hash in proof {
        text.push_str(&BASE64.encode(hash));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(note);
    Ok(text)
}

/// What a proof proved.
#[derive(Debug)]
pub struct ProvenEntry {
    pub entry: Entry,
    pub checkpoint: Checkpoint,
    pub signer: String,
}

/// The origin line of a `tlog-proof`'s checkpoint, read without checking
/// anything else (`check_proof` checks the whole).
pub fn proof_origin(text: &str) -> Result<String, String> {
    if text.split('\n').next() != Some(PROOF_HEADER) {
        return Err(format!(
            "not a tlog-proof: the first line must be `{PROOF_HEADER}`"
        ));
    }
    let note = text
        .split_once("\n\n")
        .map(|(_, note)| note)
        .ok_or("not a tlog-proof: no blank line before the checkpoint")?;
    let note = SignedNote::parse(note).map_err(|e| format!("the checkpoint: {e}"))?;
    let checkpoint = note
        .checkpoint()
        .map_err(|e| format!("the checkpoint: {e}"))?;
    Ok(checkpoint.origin)
}

/// Checks a `tlog-proof` offline: the entry hashes into the checkpointed
/// tree at its index, the checkpoint is of the keys' log (its origin) and
/// signed by one of `keys` not revoked at or before its tree size.
pub fn check_proof(text: &str, keys: &PublishedKeys) -> Result<ProvenEntry, String> {
    let mut lines = text.split('\n');
    if lines.next() != Some(PROOF_HEADER) {
        return Err(format!(
            "not a tlog-proof: the first line must be `{PROOF_HEADER}`"
        ));
    }
    let extra = lines
        .next()
        .and_then(|line| line.strip_prefix("extra "))
        .ok_or("the proof carries no entry (`extra` line)")?;
    let line = BASE64
        .decode(extra)
        .map_err(|_| "the `extra` line is not base64")?;
    let index: u64 = lines
        .next()
        .and_then(|line| line.strip_prefix("index "))
        .and_then(|n| n.parse().ok())
        .ok_or("the `index` line is missing or not a number")?;
    let mut path = Vec::new();
    for hash in lines.by_ref() {
        if hash.is_empty() {
            break;
        }
        let bytes = BASE64
            .decode(hash)
            .map_err(|_| format!("`{hash}` is not a base64 hash"))?;
        path.push(
            Hash::try_from(bytes.as_slice())
                .map_err(|_| format!("`{hash}` is not a 32-byte hash"))?,
        );
    }
    let note_text: String = lines.collect::<Vec<_>>().join("\n");
    let note = SignedNote::parse(&note_text).map_err(|e| format!("the checkpoint: {e}"))?;
    let checkpoint = note
        .checkpoint()
        .map_err(|e| format!("the checkpoint: {e}"))?;
    let entry = Entry::from_line(&line).map_err(|e| format!("the entry: {e}"))?;
    if entry.seq != index {
        return Err(format!(
            "the entry says it is number {}, the proof says {index}",
            entry.seq
        ));
    }
    merkle::verify_inclusion(
        &merkle::leaf_hash(&line),
        index,
        checkpoint.size,
        &path,
        &checkpoint.root,
    )
    .map_err(|e| format!("the entry is not in the checkpointed ledger: {e}"))?;
    if let Some(origin) = &keys.origin
        && *origin != checkpoint.origin
    {
        return Err(format!(
            "the checkpoint is of the log `{}`, not `{origin}`",
            checkpoint.origin
        ));
    }
    // A note may carry several signatures: one by a key not revoked for
    // this size is enough, one by a revoked key is reported as such.
    let signed_by: Vec<&PublishedKey> = keys
        .keys
        .iter()
        .filter(|key| note.verify(&key.vkey).is_ok())
        .collect();
    let revoked = |key: &PublishedKey| key.revoked_from.is_some_and(|from| from <= checkpoint.size);
    let signer = match (
        signed_by.iter().find(|key| !revoked(key)),
        signed_by.first(),
    ) {
        (Some(signer), _) => *signer,
        (None, Some(key)) => {
            return Err(format!(
                "the checkpoint (tree size {}) is signed by `{}`, revoked from tree size {}: a revoked key cannot vouch for a tree that holds its revocation (a fork made with a lost key)",
                checkpoint.size,
                key.vkey.name(),
                key.revoked_from.unwrap_or_default()
            ));
        }
        (None, None) => {
            return Err("the checkpoint is not signed by any of the ledger's keys".into());
        }
    };
    Ok(ProvenEntry {
        entry,
        checkpoint,
        signer: signer.vkey.name().to_string(),
    })
}
