//! Reading the ledger back and proving it sound.
//!
//! One pass over the segment files: each line is decoded and checked
//! canonical, hashed as a Merkle leaf (in parallel per segment), and applied
//! to a `State` (in order, since invariants depend on what came before).
//! Whenever the tree reaches the size of a kept checkpoint, its root must
//! match and its signature must verify under the key that signed the batch,
//! as the key history stood when the batch began. Whatever follows the last
//! checkpoint is an unsigned tail: an interrupted append.

use super::entry::{Body, Entry, Role};
use super::merkle::{self, Hash, TreeBuilder};
use super::note::{Checkpoint, SignedNote};
use super::state::{EntryError, State, check_entry_fields};
use super::store::{SEGMENT_ENTRIES, Segment, Store};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;

/// What went wrong, for callers that react differently (recovery hints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// A file could not be read or listed.
    Io,
    /// A line is not a canonical entry.
    Decode,
    /// An entry breaks an invariant or was signed by the wrong key.
    Invariant,
    /// A checkpoint is malformed, has the wrong root or a bad signature.
    Checkpoint,
    /// Entries follow the last checkpoint, or a line is cut short: an append
    /// was interrupted. `minhbach recover` removes them.
    UnsignedTail,
    /// A checkpoint covers entries that are no longer there.
    MissingEntries,
    /// A referenced photo or document is missing or altered.
    Media,
}

/// A verification failure naming the entry (sequence number), file and line.
#[derive(Clone, Debug)]
pub struct VerifyError {
    pub kind: VerifyErrorKind,
    pub seq: Option<u64>,
    pub file: Option<PathBuf>,
    pub line: Option<u64>,
    pub message: String,
    /// What the operator can do about it.
    pub hint: Option<String>,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(seq) = self.seq {
            write!(f, "entry {seq}")?;
            if self.file.is_some() {
                f.write_str(" (")?;
            }
        }
        if let Some(file) = &self.file {
            write!(f, "`{}`", file.display())?;
            if let Some(line) = self.line {
                write!(f, " line {line}")?;
            }
        }
        if self.seq.is_some() && self.file.is_some() {
            f.write_str(")")?;
        }
        if self.seq.is_some() || self.file.is_some() {
            f.write_str(": ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    fn new(kind: VerifyErrorKind, message: impl Into<String>) -> VerifyError {
        VerifyError {
            kind,
            seq: None,
            file: None,
            line: None,
            message: message.into(),
            hint: None,
        }
    }

    fn at(mut self, seq: u64, file: &std::path::Path) -> VerifyError {
        self.seq = Some(seq);
        self.file = Some(file.to_path_buf());
        self.line = Some(seq % SEGMENT_ENTRIES + 1);
        self
    }

    fn in_file(mut self, file: PathBuf) -> VerifyError {
        self.file = Some(file);
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> VerifyError {
        self.hint = Some(hint.into());
        self
    }
}

pub const RECOVER_HINT: &str = "an append was interrupted before it signed these entries; run `minhbach recover` to remove them (every entry covered by a signed checkpoint is kept, the removed lines are saved outside `ledger/`), then append them again";

/// What to check besides the entries and checkpoints.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    pub allow_advances: bool,
    /// Keep every leaf hash (for consistency and inclusion proofs).
    pub keep_leaves: bool,
    /// Hash every referenced media file (slow on large photo sets).
    pub check_media: bool,
}

/// A ledger that verified: its state, tree and newest checkpoint.
pub struct Verified {
    pub state: State,
    pub tree: TreeBuilder,
    pub checkpoint: Checkpoint,
    /// The newest signed checkpoint note, as stored.
    pub checkpoint_note: String,
    /// Every leaf hash, if `keep_leaves` was set.
    pub leaves: Vec<Hash>,
    /// Number of checkpoints kept and checked.
    pub checkpoints: usize,
}

/// A checkpoint kept in `ledger/checkpoints/`.
struct Kept {
    size: u64,
    note: SignedNote,
    checkpoint: Checkpoint,
    /// The note exactly as stored.
    text: String,
}

/// A batch being read: the entries since the previous checkpoint.
struct Batch {
    signer: String,
    role: Option<Role>,
    first_seq: u64,
}

/// Verifies the whole ledger in `store` against `origin`, handing each entry and its line to `visit` once it has been
/// checked, so a reader (the site) reads the ledger once. Entries after the
/// last checkpoint are never visited: they fail verification.
pub fn verify_visiting(
    store: &Store,
    origin: &str,
    options: VerifyOptions,
    visit: &mut dyn FnMut(Entry, &[u8]),
) -> Result<Verified, VerifyError> {
    let checkpoints = read_checkpoints(store, origin)?;
    let segments = store.segments().map_err(io_error)?;
    let mut state = State::new(options.allow_advances);
    let mut tree = TreeBuilder::new();
    let mut leaves = Vec::new();
    let mut batch: Option<Batch> = None;
    let mut next_checkpoint = 0usize;
    let segment_count = segments.len();
    // Reading and decoding (parallel, context-free) of segment k + 1 runs on
    // its own thread while segment k is applied to the state (serial): at
    // W2 the two halves take about as long as each other.
    std::thread::scope(|scope| -> Result<(), VerifyError> {
        let load = |segment: &Segment, reuse: Loaded| {
            let is_last = segment.index as usize + 1 == segment_count;
            load_segment(segment, is_last, reuse)
        };
        let mut next = segments
            .first()
            .map(|first| scope.spawn(move || load(first, Loaded::default())));
        // The buffers of the segment before last, handed to the next load:
        // fresh memory for every 17 MB segment cost a tenth of `verify` in
        // the kernel zeroing pages.
        let mut spare = Loaded::default();
        for (position, segment) in segments.iter().enumerate() {
            let loaded = next
                .take()
                .expect("the segment was started")
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            let reuse = std::mem::take(&mut spare);
            next = segments
                .get(position + 1)
                .map(|following| scope.spawn(move || load(following, reuse)));
            let Loaded {
                bytes,
                lines,
                mut decoded,
            } = loaded;
            for (offset, result) in decoded.drain(..).enumerate() {
                let seq = segment.index * SEGMENT_ENTRIES + offset as u64;
                let at = |error: VerifyError| error.at(seq, &segment.path);
                let (entry, leaf) = result.map_err(at)?;
                let current = match &batch {
                    Some(current) => current,
                    None => {
                        if next_checkpoint >= checkpoints.len() {
                            let signed = checkpoints.last().map_or(0, |c| c.size);
                            return Err(at(VerifyError::new(
                            VerifyErrorKind::UnsignedTail,
                            format!("this entry and those after it follow the last signed checkpoint (tree size {signed}) and are not signed"),
                        ))
                        .hint(RECOVER_HINT));
                        }
                        let role = if state.size() == 0 {
                            None
                        } else {
                            Some(
                                state
                                    .check_signer(&entry.signer)
                                    .map_err(|e| at(invariant(e)))?
                                    .role,
                            )
                        };
                        batch.insert(Batch {
                            signer: entry.signer.clone(),
                            role,
                            first_seq: seq,
                        })
                    }
                };
                if entry.signer != current.signer {
                    return Err(at(VerifyError::new(
                        VerifyErrorKind::Invariant,
                        format!(
                            "entry says it was signed by `{}` but belongs to the batch signed by `{}` (entries from {})",
                            entry.signer, current.signer, current.first_seq
                        ),
                    )));
                }
                let role = current.role;
                state
                    .apply_checked(&entry, role, &mut |target| store.read_entry(target))
                    .map_err(|e| at(invariant(e)))?;
                if options.check_media {
                    check_media(store, &entry).map_err(at)?;
                }
                tree.push(leaf);
                if options.keep_leaves {
                    leaves.push(leaf);
                }
                visit(entry, &bytes[lines[offset].clone()]);
                let kept = &checkpoints[next_checkpoint];
                if tree.size() == kept.size {
                    let finished = batch.take().expect("a batch is open");
                    check_batch(
                        &state,
                        &finished,
                        &tree,
                        &kept.note,
                        &kept.checkpoint,
                        store,
                    )?;
                    next_checkpoint += 1;
                }
            }
            spare = Loaded {
                bytes,
                lines,
                decoded,
            };
        }
        Ok(())
    })?;
    if let Some(Kept { size, .. }) = checkpoints.get(next_checkpoint) {
        return Err(VerifyError::new(
            VerifyErrorKind::MissingEntries,
            format!(
                "this checkpoint covers {size} entries but the ledger holds only {}: signed entries were deleted",
                tree.size()
            ),
        )
        .in_file(store.checkpoint_history_path(*size))
        .hint("restore `ledger/entries/` from a copy (git history, a backup, or the published site's `ledger/`)"));
    }
    let count = next_checkpoint;
    let newest = checkpoints
        .into_iter()
        .last()
        .expect("read_checkpoints refuses none");
    check_latest_copy(store, &newest.text)?;
    Ok(Verified {
        state,
        tree,
        checkpoint: newest.checkpoint,
        checkpoint_note: newest.text,
        leaves,
        checkpoints: count,
    })
}

/// A segment read and decoded, ready to be applied in order.
#[derive(Default)]
struct Loaded {
    bytes: Vec<u8>,
    /// Where each line is in `bytes` (without its newline).
    lines: Vec<std::ops::Range<usize>>,
    decoded: Vec<Result<(Entry, Hash), VerifyError>>,
}

/// Reads a segment, checks its shape and decodes every line in parallel.
/// `reuse` lends its buffers (emptied first), so memory is not fresh each
/// segment.
fn load_segment(segment: &Segment, is_last: bool, reuse: Loaded) -> Result<Loaded, VerifyError> {
    let Loaded {
        mut bytes,
        mut lines,
        mut decoded,
    } = reuse;
    bytes.clear();
    std::fs::File::open(&segment.path)
        .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut bytes))
        .map_err(|e| {
            io_error(anyhow::anyhow!(
                "failed to read `{}`: {e}",
                segment.path.display()
            ))
        })?;
    split_lines(&bytes, segment.index, &segment.path, &mut lines)?;
    if !is_last && lines.len() as u64 != SEGMENT_ENTRIES {
        return Err(VerifyError::new(
            VerifyErrorKind::MissingEntries,
            format!(
                "segment holds {} entries; every segment but the last holds {SEGMENT_ENTRIES}",
                lines.len()
            ),
        )
        .in_file(segment.path.clone()));
    }
    decoded.clear();
    lines
        .par_iter()
        .map(|line| decode_and_check(&bytes[line.clone()]))
        .collect_into_vec(&mut decoded);
    Ok(Loaded {
        bytes,
        lines,
        decoded,
    })
}

/// The context-free part of verifying a line, run in parallel: decoding,
/// the canonical-form check, field checks and the leaf hash.
fn decode_and_check(line: &[u8]) -> Result<(Entry, Hash), VerifyError> {
    let entry = Entry::from_line(line)
        .map_err(|e| VerifyError::new(VerifyErrorKind::Decode, e.to_string()))?;
    check_entry_fields(&entry).map_err(invariant)?;
    Ok((entry, merkle::leaf_hash(line)))
}

fn invariant(error: EntryError) -> VerifyError {
    VerifyError::new(VerifyErrorKind::Invariant, error.to_string())
}

fn io_error(error: anyhow::Error) -> VerifyError {
    VerifyError::new(VerifyErrorKind::Io, format!("{error:#}"))
}

/// Splits a segment into lines, refusing a final line without its newline
/// (a write cut short by a crash).
fn split_lines(
    bytes: &[u8],
    index: u64,
    path: &std::path::Path,
    lines: &mut Vec<std::ops::Range<usize>>,
) -> Result<(), VerifyError> {
    lines.clear();
    lines.reserve(SEGMENT_ENTRIES as usize);
    let mut start = 0;
    for end in newline_offsets(bytes) {
        lines.push(start..end);
        start = end + 1;
    }
    if start != bytes.len() {
        let seq = index * SEGMENT_ENTRIES + lines.len() as u64;
        return Err(VerifyError::new(
            VerifyErrorKind::UnsignedTail,
            "the last line is cut short (no final newline): an append was interrupted while writing",
        )
        .at(seq, path)
        .hint(RECOVER_HINT));
    }
    if let Some(empty) = lines.iter().position(|line| line.is_empty()) {
        let seq = index * SEGMENT_ENTRIES + empty as u64;
        return Err(VerifyError::new(VerifyErrorKind::Decode, "empty line").at(seq, path));
    }
    Ok(())
}

/// The offsets of every `\n` in `bytes`.
fn newline_offsets(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &byte)| byte == b'\n')
        .map(|(offset, _)| offset)
}

/// Reads every kept checkpoint, checking each parses, names this ledger's
/// origin and the size in its file name.
fn read_checkpoints(store: &Store, origin: &str) -> Result<Vec<Kept>, VerifyError> {
    let sizes = store.checkpoint_sizes().map_err(io_error)?;
    if sizes.is_empty() {
        return Err(VerifyError::new(
            VerifyErrorKind::Checkpoint,
            "the ledger has no signed checkpoint",
        )
        .in_file(store.checkpoints_dir()));
    }
    let mut checkpoints = Vec::with_capacity(sizes.len());
    for size in sizes {
        let path = store.checkpoint_history_path(size);
        let bad = |message: String| {
            VerifyError::new(VerifyErrorKind::Checkpoint, message).in_file(path.clone())
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| bad(format!("cannot be read: {e}")))?;
        let note = SignedNote::parse(&text).map_err(|e| bad(e.to_string()))?;
        let checkpoint = note.checkpoint().map_err(|e| bad(e.to_string()))?;
        if checkpoint.origin != origin {
            return Err(bad(format!(
                "names the log `{}`, but this portal's origin (config.toml ledger.origin) is `{origin}`",
                checkpoint.origin
            )));
        }
        if checkpoint.size != size || size == 0 {
            return Err(bad(format!(
                "its tree size {} does not match its file name",
                checkpoint.size
            )));
        }
        checkpoints.push(Kept {
            size,
            note,
            checkpoint,
            text,
        });
    }
    Ok(checkpoints)
}

/// At the end of a batch: the root must match and the batch signer's
/// signature must verify.
fn check_batch(
    state: &State,
    batch: &Batch,
    tree: &TreeBuilder,
    note: &SignedNote,
    checkpoint: &Checkpoint,
    store: &Store,
) -> Result<(), VerifyError> {
    let path = store.checkpoint_history_path(checkpoint.size);
    let last = checkpoint.size - 1;
    let key = state
        .key(&batch.signer)
        .expect("the batch signer was checked when the batch began");
    let signature = note.verify(&key.vkey);
    if tree.root() != checkpoint.root {
        // Which of the two broke says who to ask: a valid signature over
        // another root means the entries changed after signing (or the
        // signer signed something else); an invalid one, a forged file.
        let how = match &signature {
            Ok(()) => format!(
                "the checkpoint is validly signed by `{}`, but over another root: one of entries {}–{last} (lines {}–{} of their segment files) was changed after it was signed, or `{}` signed a root that is not this ledger's",
                batch.signer,
                batch.first_seq,
                batch.first_seq % SEGMENT_ENTRIES + 1,
                last % SEGMENT_ENTRIES + 1,
                batch.signer
            ),
            Err(e) => format!(
                "the checkpoint was replaced: its root does not match entries {}–{last} and it is not validly signed by `{}` ({e})",
                batch.first_seq, batch.signer
            ),
        };
        return Err(VerifyError::new(
            VerifyErrorKind::Checkpoint,
            format!(
                "the root hash signed for tree size {} does not match the entries: {how}",
                checkpoint.size
            ),
        )
        .in_file(path));
    }
    signature.map_err(|e| {
        VerifyError::new(
            VerifyErrorKind::Checkpoint,
            format!(
                "checkpoint for entries {}–{last} is not validly signed by `{}`: {e}",
                batch.first_seq, batch.signer
            ),
        )
        .in_file(path.clone())
    })
}

/// `ledger/checkpoint` must be a copy of the newest kept checkpoint.
fn check_latest_copy(store: &Store, newest: &str) -> Result<(), VerifyError> {
    let path = store.checkpoint_path();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    if text != newest {
        return Err(VerifyError::new(
            VerifyErrorKind::UnsignedTail,
            "is not the newest signed checkpoint kept in `ledger/checkpoints/`",
        )
        .in_file(path)
        .hint("an append was interrupted while publishing its checkpoint, or the file was replaced; run `minhbach recover` to restore it from `ledger/checkpoints/`"));
    }
    Ok(())
}

/// Checks that every photo a progress entry references is in `ledger/media/`
/// with the hash its name claims.
fn check_media(store: &Store, entry: &Entry) -> Result<(), VerifyError> {
    let Body::Progress(progress) = &entry.body else {
        return Ok(());
    };
    for photo in &progress.photos {
        let path = store.media_dir().join(&photo.media);
        let bytes = std::fs::read(&path).map_err(|_| {
            VerifyError::new(
                VerifyErrorKind::Media,
                format!("photo `{}` is missing from `ledger/media/`", photo.media),
            )
        })?;
        let hash = super::privacy::hex(&Sha256::digest(&bytes));
        if !photo.media.starts_with(&hash) {
            return Err(VerifyError::new(
                VerifyErrorKind::Media,
                format!(
                    "photo `{}` was altered: its SHA-256 is now {hash}",
                    photo.media
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that the current ledger extends an older signed checkpoint: its
/// signature verifies under a key in the history, and an RFC 9162
/// consistency proof from its size to the current size, built from the
/// current leaves, verifies between the two roots. A size-0 checkpoint is
/// consistent with every ledger (the empty tree is a prefix of all trees).
pub fn check_extends(
    verified: &Verified,
    old_note_text: &str,
    origin: &str,
) -> Result<Vec<Hash>, VerifyError> {
    let bad = |message: String| VerifyError::new(VerifyErrorKind::Checkpoint, message);
    let note =
        SignedNote::parse(old_note_text).map_err(|e| bad(format!("the older checkpoint: {e}")))?;
    let old = note
        .checkpoint()
        .map_err(|e| bad(format!("the older checkpoint: {e}")))?;
    if old.origin != origin {
        return Err(bad(format!(
            "the older checkpoint names the log `{}`, not `{origin}`",
            old.origin
        )));
    }
    let signed_by_known_key = verified
        .state
        .keys()
        .any(|key| note.verify(&key.vkey).is_ok());
    if !signed_by_known_key {
        return Err(bad(
            "the older checkpoint is not signed by any key in this ledger's key history".into(),
        ));
    }
    let current = &verified.checkpoint;
    if old.size > current.size {
        return Err(bad(format!(
            "the older checkpoint has {} entries but the ledger now has only {}: the ledger was truncated",
            old.size, current.size
        )));
    }
    if old.size == 0 {
        // The empty tree is a prefix of every tree; RFC 9162 defines no
        // proof for it, so only its root is checked.
        if old.root != merkle::EMPTY_ROOT {
            return Err(bad(
                "the older checkpoint has size 0 but not the empty tree's root".into(),
            ));
        }
        return Ok(Vec::new());
    }
    let proof = merkle::consistency_proof(&verified.leaves, old.size)
        .map_err(|e| bad(format!("cannot build the consistency proof: {e}")))?;
    merkle::verify_consistency(old.size, current.size, &old.root, &current.root, &proof).map_err(|e| {
        bad(format!(
            "the ledger does not extend the older checkpoint (tree size {}): {e}; history was rewritten",
            old.size
        ))
    })?;
    Ok(proof)
}
