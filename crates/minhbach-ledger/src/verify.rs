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
use super::identity::TransferHashes;
use super::merkle::{self, Hash, TreeBuilder};
use super::note::{Checkpoint, SignedNote};
use super::state::{State, check_entry_fields};
use super::store::{SEGMENT_ENTRIES, Segment, Store};
use super::validate::EntryError;
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

/// Who reads each verified entry and its line (the site).
pub type Visit<'v> = dyn FnMut(Entry, &[u8]) + 'v;

/// What to check besides the entries and checkpoints.
#[derive(Clone, Copy, Debug, Default)]
pub struct VerifyOptions {
    pub allow_advances: bool,
    /// Keep the leaf hashes (for consistency and inclusion proofs, and the
    /// public log's tiles): every one, but those of the full segments that
    /// the verified-state cache vouched for by their bytes' digest
    /// (`Verified::leaves_from`).
    pub keep_leaves: bool,
    /// Hash every referenced media file (slow on large photo sets).
    pub check_media: bool,
    /// Compute each segment's Merkle root (for the verified-state cache).
    pub segment_roots: bool,
    /// Hand the visitor only the entries from this number on. Those below
    /// it that the verified-state cache covers are then only re-hashed,
    /// never decoded (a reader that keeps what it made of them).
    pub visit_from: u64,
}

/// A ledger that verified: its state, tree and newest checkpoint.
pub struct Verified {
    pub state: State,
    pub tree: TreeBuilder,
    pub checkpoint: Checkpoint,
    /// The newest signed checkpoint note, as stored.
    pub checkpoint_note: String,
    /// The leaf hashes from number `leaves_from` on, if `keep_leaves` was
    /// set.
    pub leaves: Vec<Hash>,
    /// The first leaf in `leaves`: the full segments below it were checked
    /// by the SHA-256 of their bytes against the verified-state cache, and
    /// their leaves never hashed (0 without a cache).
    pub leaves_from: u64,
    /// Number of checkpoints kept and checked.
    pub checkpoints: usize,
    /// The digest of every kept checkpoint's text (`cache`).
    pub checkpoints_digest: Hash,
    /// The Merkle root of each segment's entries, if `segment_roots` was set.
    pub segment_roots: Vec<Hash>,
    /// The SHA-256 of each full segment's bytes, if `segment_roots` was set.
    pub segment_digests: Vec<Hash>,
    /// How many of the first entries were judged by the verified-state
    /// cache (re-hashed, not re-checked); 0 without a cache.
    pub cached_entries: u64,
    /// How many bytes of each segment file the verified entries take, with
    /// their newlines.
    pub segment_bytes: Vec<u64>,
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

/// Verifies the whole ledger in `store` against `origin`, handing each
/// entry and its line to `visit` once it has been checked, so a reader (the
/// site) reads the ledger once. Entries after the last checkpoint are never
/// visited: they fail verification.
///
/// With `resume` (an earlier conclusion, see [`Resume`]), the entries it
/// covers are only re-hashed: a segment whose entries hash to the recorded
/// root is taken as verified, and only what follows is judged. A segment
/// that does not match restarts the verification from the first entry
/// without it, visiting only the entries not visited yet, so the result
/// never depends on what was resumed from.
pub fn verify_visiting<'v>(
    store: &Store,
    origin: &str,
    options: VerifyOptions,
    resume: Option<Resume>,
    mut visit: Option<&mut Visit<'v>>,
) -> Result<Verified, VerifyError> {
    let checkpoints = read_checkpoints(store, origin)?;
    let resume = resume.filter(|resume| resume_matches(resume, &checkpoints));
    let first = verify_pass(
        store,
        &checkpoints,
        options,
        resume,
        0,
        visit.as_deref_mut(),
    )?;
    let pass = match first {
        Pass::Stale { visited_below } => {
            verify_pass(store, &checkpoints, options, None, visited_below, visit)?
        }
        done => done,
    };
    let Pass::Done(mut parts) = pass else {
        unreachable!("a pass without a cache is never stale")
    };
    let count = parts.checkpoints;
    if let Some(Kept { size, .. }) = checkpoints.get(count) {
        return Err(VerifyError::new(
            VerifyErrorKind::MissingEntries,
            format!(
                "this checkpoint covers {size} entries but the ledger holds only {}: signed entries were deleted",
                parts.tree.size()
            ),
        )
        .in_file(store.checkpoint_history_path(*size))
        .hint("restore `ledger/entries/` from a copy (git history, a backup, or the published site's `ledger/`)"));
    }
    let checkpoints_digest = digest_of(&checkpoints);
    let newest = checkpoints
        .into_iter()
        .last()
        .expect("read_checkpoints refuses none");
    check_latest_copy(store, &newest.text)?;
    Ok(Verified {
        state: parts.state,
        tree: parts.tree,
        checkpoint: newest.checkpoint,
        checkpoint_note: newest.text,
        leaves: std::mem::take(&mut parts.leaves),
        leaves_from: parts.leaves_from,
        checkpoints: count,
        checkpoints_digest,
        segment_roots: parts.segment_roots,
        segment_digests: parts.segment_digests,
        cached_entries: parts.cached_entries,
        segment_bytes: parts.segment_bytes,
    })
}

/// An earlier verification's conclusion up to a signed checkpoint, to resume
/// from (the verified-state cache keeps one). It is never trusted as given:
/// `verify_visiting` uses it only if the checkpoints up to `size` are the
/// same texts and each segment's entries hash to the same root.
pub struct Resume {
    pub size: u64,
    pub root: Hash,
    /// Number of checkpoints kept up to `size` (the next one to check).
    pub checkpoints: usize,
    pub checkpoints_digest: Hash,
    /// The Merkle root of each segment's entries below `size`.
    pub segment_roots: Vec<Hash>,
    /// The SHA-256 of each full segment's bytes below `size`: a segment
    /// whose bytes still hash to it is the one whose root was computed.
    pub segment_digests: Vec<Hash>,
    pub state: PendingState,
}

/// The state of a `Resume`, possibly still being decoded on another thread:
/// it is first needed after the cached entries are re-hashed, so reading it
/// (hundreds of megabytes at national scale) need not come before.
pub struct PendingState(Box<dyn FnOnce() -> Option<State> + Send>);

impl PendingState {
    /// A state `decode` makes on a thread of its own, started now.
    pub fn decoding(decode: impl FnOnce() -> Option<State> + Send + 'static) -> PendingState {
        let thread = std::thread::spawn(decode);
        PendingState(Box::new(move || thread.join().ok().flatten()))
    }

    /// The state; `None` if it could not be decoded.
    pub fn wait(self) -> Option<State> {
        (self.0)()
    }
}

/// The digest of the checkpoint texts kept up to a size, in order: what the
/// cache's judgement of signatures rests on.
#[derive(Default)]
struct CheckpointsDigest(Sha256);

impl CheckpointsDigest {
    fn add(&mut self, size: u64, text: &str) {
        self.0.update(size.to_le_bytes());
        self.0.update((text.len() as u64).to_le_bytes());
        self.0.update(text.as_bytes());
    }

    fn value(&self) -> Hash {
        self.0.clone().finalize().into()
    }
}

/// Whether an earlier conclusion still describes this ledger's checkpoints:
/// the one at its size is kept with its root, and every text up to it is
/// unchanged.
fn resume_matches(cache: &Resume, checkpoints: &[Kept]) -> bool {
    let Some(last) = cache.checkpoints.checked_sub(1) else {
        return false;
    };
    let Some(kept) = checkpoints.get(last) else {
        return false;
    };
    kept.size == cache.size
        && kept.checkpoint.root == cache.root
        && digest_of(&checkpoints[..cache.checkpoints]) == cache.checkpoints_digest
        && cache.segment_roots.len() as u64 == cache.size.div_ceil(SEGMENT_ENTRIES)
        && cache.segment_digests.len() as u64 <= cache.size / SEGMENT_ENTRIES
}

fn digest_of(checkpoints: &[Kept]) -> Hash {
    let mut digest = CheckpointsDigest::default();
    for kept in checkpoints {
        digest.add(kept.size, &kept.text);
    }
    digest.value()
}

/// What one pass over the segments ended with.
enum Pass {
    Done(Box<Parts>),
    /// A segment did not match the cache; entries below this were visited.
    Stale {
        visited_below: u64,
    },
}

/// A verified ledger before its newest checkpoint is checked.
struct Parts {
    state: State,
    tree: TreeBuilder,
    leaves: Vec<Hash>,
    leaves_from: u64,
    /// Checkpoints checked (or vouched for by the cache).
    checkpoints: usize,
    segment_roots: Vec<Hash>,
    segment_digests: Vec<Hash>,
    cached_entries: u64,
    segment_bytes: Vec<u64>,
}

/// What judging the entries past the trusted prefix keeps from one entry to
/// the next: the state, the open batch and the next checkpoint to check.
struct Judge<'c> {
    state: State,
    batch: Option<Batch>,
    next_checkpoint: usize,
    checkpoints: &'c [Kept],
}

impl Judge<'_> {
    /// Takes the cached state once it is needed; `false` if it could not be
    /// decoded (the pass is then stale: the cache is not used).
    fn take_state(&mut self, pending: &mut Option<PendingState>) -> bool {
        match pending.take().map(PendingState::wait) {
            None => true,
            Some(Some(state)) => {
                self.state = state;
                true
            }
            Some(None) => false,
        }
    }

    /// Judges `entry` (number `seq`): it belongs to a batch a checkpoint
    /// covers and that its signer opened, it keeps every invariant under
    /// the signer's role, and its media are stored. The error is not yet
    /// placed at the entry (the caller knows its file).
    fn apply(
        &mut self,
        entry: &Entry,
        transfer: Option<TransferHashes>,
        seq: u64,
        store: &Store,
        options: VerifyOptions,
    ) -> Result<(), VerifyError> {
        let current = self.batch_of(entry, seq)?;
        if entry.signer != current.signer {
            return Err(VerifyError::new(
                VerifyErrorKind::Invariant,
                format!(
                    "entry says it was signed by `{}` but belongs to the batch signed by `{}` (entries from {})",
                    entry.signer, current.signer, current.first_seq
                ),
            ));
        }
        let role = current.role;
        self.state
            .apply_hashed(entry, transfer, role, &mut |target| {
                store.read_entry(target)
            })
            .map_err(invariant)?;
        if options.check_media {
            check_media(store, entry)?;
        }
        Ok(())
    }

    /// The open batch, or a new one opened by `entry`: a checkpoint must be
    /// left to cover it, and its signer must be an admitted key (but for
    /// the genesis, which admits the first).
    fn batch_of(&mut self, entry: &Entry, seq: u64) -> Result<&Batch, VerifyError> {
        if self.batch.is_none() {
            if self.next_checkpoint >= self.checkpoints.len() {
                let signed = self.checkpoints.last().map_or(0, |c| c.size);
                return Err(VerifyError::new(
                    VerifyErrorKind::UnsignedTail,
                    format!("this entry and those after it follow the last signed checkpoint (tree size {signed}) and are not signed"),
                )
                .hint(RECOVER_HINT));
            }
            let role = if self.state.size() == 0 {
                None
            } else {
                Some(
                    self.state
                        .check_signer(&entry.signer)
                        .map_err(invariant)?
                        .role,
                )
            };
            self.batch = Some(Batch {
                signer: entry.signer.clone(),
                role,
                first_seq: seq,
            });
        }
        Ok(self.batch.as_ref().expect("a batch is open"))
    }

    /// When the tree has reached the next kept checkpoint's size, checks
    /// that checkpoint (root and signature) and closes the batch.
    fn close_signed_batch(&mut self, tree: &TreeBuilder, store: &Store) -> Result<(), VerifyError> {
        let kept = &self.checkpoints[self.next_checkpoint];
        if tree.size() == kept.size {
            let finished = self.batch.take().expect("a batch is open");
            check_batch(
                &self.state,
                &finished,
                tree,
                &kept.note,
                &kept.checkpoint,
                store,
            )?;
            self.next_checkpoint += 1;
        }
        Ok(())
    }
}

/// One pass over every segment: `cache`'s entries re-hashed, the rest
/// decoded, applied and checked; entries below `visited_below` not visited
/// again.
fn verify_pass<'v>(
    store: &Store,
    checkpoints: &[Kept],
    options: VerifyOptions,
    cache: Option<Resume>,
    visited_below: u64,
    mut visit: Option<&mut Visit<'v>>,
) -> Result<Pass, VerifyError> {
    let segments = store.segments().map_err(io_error)?;
    // The cached state, until the first entry past the cache needs it.
    let (mut pending, next_checkpoint, cached) = match cache {
        Some(cache) => (
            Some(cache.state),
            cache.checkpoints,
            Some((
                cache.size,
                cache.root,
                cache.segment_roots,
                cache.segment_digests,
            )),
        ),
        None => (None, 0, None),
    };
    let state = State::new(options.allow_advances);
    let trusted = cached.as_ref().map_or(0, |(size, ..)| *size);
    let mut tree = TreeBuilder::new();
    let mut segment_roots = Vec::new();
    let mut segment_digests = Vec::new();
    let mut judge = Judge {
        state,
        batch: None,
        next_checkpoint,
        checkpoints,
    };
    let mut segment_bytes = Vec::with_capacity(segments.len());
    let segment_count = segments.len();
    // Entries from here on are visited (and so decoded).
    let visit_from = match visit {
        Some(_) => visited_below.max(options.visit_from),
        None => u64::MAX,
    };
    // Whether the tree, at the cache's last entry, has another root.
    let disagrees =
        |tree: &TreeBuilder| (cached.as_ref()).is_some_and(|(_, root, ..)| tree.root() != *root);
    // The full segments the cache covers whole and nobody reads are checked
    // by their bytes' digest: each is one subtree of the cache's root.
    let sealed = match &cached {
        Some((_, _, roots, digests)) => sealed_prefix(&segments, digests, trusted.min(visit_from))
            .into_iter()
            .zip(roots.iter().zip(digests))
            .collect(),
        None => Vec::new(),
    };
    for &(bytes, (root, digest)) in &sealed {
        tree.push_subtree(*root, SEGMENT_ENTRIES.trailing_zeros());
        if options.segment_roots {
            segment_roots.push(*root);
            segment_digests.push(*digest);
        }
        segment_bytes.push(bytes);
    }
    let leaves_from = tree.size();
    if leaves_from > 0 && leaves_from == trusted && disagrees(&tree) {
        return Ok(Pass::Stale {
            visited_below: visited_below.max(leaves_from - 1),
        });
    }
    let mut leaves = Vec::new();
    if options.keep_leaves {
        // Every other segment's worth: grown by doubling, the old and new
        // buffers (a hash per entry) were copied and held at once.
        leaves.reserve_exact((segments.len() - sealed.len()) * SEGMENT_ENTRIES as usize);
    }
    // Reading and decoding (parallel, context-free) of segment k + 1 runs on
    // its own thread while segment k is applied to the state (serial): the
    // two halves take about as long as each other.
    std::thread::scope(|scope| -> Result<Pass, VerifyError> {
        let load = |segment: &Segment, reuse: Loaded| {
            let first = segment.index * SEGMENT_ENTRIES;
            let plan = Plan {
                is_last: segment.index as usize + 1 == segment_count,
                trusted: trusted.saturating_sub(first).min(SEGMENT_ENTRIES) as usize,
                expected: cached
                    .as_ref()
                    .and_then(|(_, _, roots, _)| roots.get(segment.index as usize).copied()),
                decode_from: visit_from.saturating_sub(first).min(SEGMENT_ENTRIES) as usize,
                root: options.segment_roots,
            };
            load_segment(segment, plan, reuse)
        };
        let mut next = segments
            .get(sealed.len())
            .map(|first| scope.spawn(move || load(first, Loaded::default())));
        // The buffers of the segment before last, handed to the next load:
        // fresh memory for every segment cost `verify` its time in the
        // kernel zeroing pages.
        let mut spare = Loaded::default();
        for (position, segment) in segments.iter().enumerate().skip(sealed.len()) {
            let loaded = next
                .take()
                .expect("the segment was started")
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            if loaded.stale {
                return Ok(Pass::Stale {
                    visited_below: visited_below.max(segment.index * SEGMENT_ENTRIES),
                });
            }
            let reuse = std::mem::take(&mut spare);
            next = segments
                .get(position + 1)
                .map(|following| scope.spawn(move || load(following, reuse)));
            let Loaded {
                bytes,
                lines,
                mut decoded,
                leaves: hashes,
                root,
                digest,
                whole,
                ..
            } = loaded;
            segment_roots.extend(root);
            segment_digests.extend(digest);
            segment_bytes.push(0);
            if let Some(whole) = whole {
                tree.push_subtree(whole, SEGMENT_ENTRIES.trailing_zeros());
            }
            if decoded.is_empty() && !hashes.is_empty() {
                // Every line the cache covers, none visited: only its bytes
                // and leaves are taken, not an entry at a time.
                let end = segment.index * SEGMENT_ENTRIES + hashes.len() as u64;
                if let Some(bytes) = segment_bytes.last_mut() {
                    *bytes = lines.iter().map(|line| line.len() as u64 + 1).sum();
                }
                if whole.is_none() {
                    hashes.iter().for_each(|leaf| tree.push(*leaf));
                }
                if options.keep_leaves {
                    leaves.extend_from_slice(&hashes);
                }
                if end == trusted && disagrees(&tree) {
                    return Ok(Pass::Stale {
                        visited_below: visited_below.max(end - 1),
                    });
                }
            }
            // Entries are taken out only for the visitor: the rest are
            // dropped with `decoded` when the next load clears it, on the
            // loading thread, not on this serial one.
            for (offset, line) in decoded.iter_mut().enumerate() {
                let (leaf, transfer) = (line.leaf, line.transfer);
                let result = &mut line.entry;
                let seq = segment.index * SEGMENT_ENTRIES + offset as u64;
                let at = |error: VerifyError| error.at(seq, &segment.path);
                let entry = match result {
                    Ok(entry) => entry,
                    Err(error) => return Err(at(error.clone())),
                };
                if let Some(bytes) = segment_bytes.last_mut() {
                    *bytes += lines[offset].len() as u64 + 1;
                }
                if whole.is_none() {
                    tree.push(leaf);
                }
                if options.keep_leaves {
                    leaves.push(leaf);
                }
                if seq < trusted {
                    if seq + 1 == trusted && disagrees(&tree) {
                        return Ok(Pass::Stale {
                            visited_below: visited_below.max(seq),
                        });
                    }
                    if let (Some(visit), Some(entry)) = (visit.as_deref_mut(), entry.take())
                        && seq >= visit_from
                    {
                        visit(entry, &bytes[lines[offset].clone()]);
                    }
                    continue;
                }
                if !judge.take_state(&mut pending) {
                    return Ok(Pass::Stale {
                        visited_below: visited_below.max(seq),
                    });
                }
                let judged = entry.as_ref().expect("entries past the cache are decoded");
                judge
                    .apply(judged, transfer, seq, store, options)
                    .map_err(at)?;
                if let Some(visit) = visit.as_deref_mut()
                    && seq >= visit_from
                    && let Some(entry) = entry.take()
                {
                    visit(entry, &bytes[lines[offset].clone()]);
                }
                judge.close_signed_batch(&tree, store)?;
            }
            spare = Loaded {
                bytes,
                lines,
                decoded,
                leaves: hashes,
                ..Loaded::default()
            };
        }
        if tree.size() < trusted {
            // Whole segments the cache covered are gone: the full pass names
            // the checkpoint whose entries are missing.
            return Ok(Pass::Stale { visited_below });
        }
        if !judge.take_state(&mut pending) {
            return Ok(Pass::Stale {
                visited_below: visited_below.max(tree.size()),
            });
        }
        Ok(Pass::Done(Box::new(Parts {
            state: judge.state,
            tree,
            leaves,
            leaves_from,
            checkpoints: judge.next_checkpoint,
            segment_roots,
            segment_digests,
            cached_entries: trusted,
            segment_bytes,
        })))
    })
}

/// A segment read and decoded, ready to be applied in order.
#[derive(Default)]
struct Loaded {
    bytes: Vec<u8>,
    /// Where each line is in `bytes` (without its newline).
    lines: Vec<std::ops::Range<usize>>,
    /// Each line decoded; empty when the cache covers every line and nobody
    /// reads them (`leaves` then).
    decoded: Vec<Decoded>,
    /// Each line's leaf hash when `decoded` is empty: a segment's entries as
    /// `(Ok(None), hash)` pairs were written and read again for nothing.
    leaves: Vec<Hash>,
    /// The Merkle root of the segment's lines, if asked for.
    root: Option<Hash>,
    /// The SHA-256 of a full segment's bytes, when its root was asked for.
    digest: Option<Hash>,
    /// The root of a full segment the cache covers entirely, checked against
    /// the cache's: the tree takes it as one subtree instead of 65,536
    /// leaves (hashing them into the tree again was time on the serial
    /// thread of every rebuild).
    whole: Option<Hash>,
    /// The lines the cache covers do not hash to its root.
    stale: bool,
}

/// A line as loaded.
struct Decoded {
    /// `None` for a line the cache vouches for, when nobody reads it.
    entry: Result<Option<Entry>, VerifyError>,
    leaf: Hash,
    /// A donation's keys, for a line to be judged: hashed here, in
    /// parallel, not on the serial thread that judges.
    transfer: Option<TransferHashes>,
}

impl Decoded {
    /// A line to be judged: decoded and checked without context.
    fn judged(line: &[u8], leaf: Hash) -> Decoded {
        let entry = decode_and_check(line);
        let transfer = entry.as_ref().ok().and_then(TransferHashes::of_entry);
        Decoded {
            entry: entry.map(Some),
            leaf,
            transfer,
        }
    }
}

/// How to load a segment.
struct Plan {
    is_last: bool,
    /// How many of its first lines the cache covers.
    trusted: usize,
    /// The cache's root of those lines.
    expected: Option<Hash>,
    /// Decode the lines the cache covers from this one on (someone reads
    /// those entries).
    decode_from: usize,
    /// Compute the root of all its lines.
    root: bool,
}

/// Reads a segment, checks its shape and decodes every line in parallel.
/// `reuse` lends its buffers (emptied first), so memory is not fresh each
/// segment.
fn load_segment(segment: &Segment, plan: Plan, reuse: Loaded) -> Result<Loaded, VerifyError> {
    let Loaded {
        mut bytes,
        mut lines,
        mut decoded,
        leaves: mut hashes,
        ..
    } = reuse;
    bytes.clear();
    hashes.clear();
    std::fs::File::open(&segment.path)
        .and_then(|mut file| std::io::Read::read_to_end(&mut file, &mut bytes))
        .map_err(|e| {
            io_error(anyhow::anyhow!(
                "failed to read `{}`: {e}",
                segment.path.display()
            ))
        })?;
    split_lines(&bytes, segment.index, &segment.path, &mut lines)?;
    if !plan.is_last && lines.len() as u64 != SEGMENT_ENTRIES {
        return Err(VerifyError::new(
            VerifyErrorKind::MissingEntries,
            format!(
                "segment holds {} entries; every segment but the last holds {SEGMENT_ENTRIES}",
                lines.len()
            ),
        )
        .in_file(segment.path.clone()));
    }
    let mut stale = false;
    // The root of all the segment's lines, when the cache covers them all
    // and it was just checked against the cache's.
    let mut checked_root = None;
    if plan.trusted == 0 {
        let judged = |line: &std::ops::Range<usize>| {
            let line = &bytes[line.clone()];
            Decoded::judged(line, merkle::leaf_hash(line))
        };
        // Each line replaces the last segment's line at its place, on the
        // worker that decodes it: rayon hands a worker much the same range
        // every segment, so the entry it drops is mostly one it allocated,
        // freed and reused on one thread and in its cache. Cleared in one
        // place, every entry was freed by another thread than the one that
        // made it (mimalloc's slower cross-thread free).
        decoded.truncate(lines.len());
        let reused = decoded.len();
        decoded
            .par_iter_mut()
            .zip(&lines[..reused])
            .for_each(|(slot, line)| *slot = judged(line));
        let more: Vec<Decoded> = lines[reused..].par_iter().map(judged).collect();
        decoded.extend(more);
    } else {
        decoded.clear();
        // Hashed first: nothing the cache covers is used before its
        // segment is known to be the bytes the cache judged.
        lines
            .par_iter()
            .map(|line| merkle::leaf_hash(&bytes[line.clone()]))
            .collect_into_vec(&mut hashes);
        let trusted_root =
            (hashes.len() >= plan.trusted).then(|| merkle::root(&hashes[..plan.trusted]));
        stale = trusted_root.is_none() || plan.expected != trusted_root;
        if !stale && plan.trusted == lines.len() {
            checked_root = trusted_root;
        }
        if !stale && plan.trusted.min(plan.decode_from) < lines.len() {
            (0..lines.len())
                .into_par_iter()
                .map(|index| {
                    let (line, leaf) = (&bytes[lines[index].clone()], hashes[index]);
                    let entry = if index >= plan.trusted {
                        return Decoded::judged(line, leaf);
                    } else if index >= plan.decode_from {
                        Entry::from_verified_line(line)
                            .map(Some)
                            .map_err(|e| VerifyError::new(VerifyErrorKind::Decode, e.to_string()))
                    } else {
                        Ok(None)
                    };
                    Decoded {
                        entry,
                        leaf,
                        transfer: None,
                    }
                })
                .collect_into_vec(&mut decoded);
        }
    }
    if !decoded.is_empty() {
        hashes.clear();
    }
    let root = (plan.root && !stale).then(|| {
        checked_root.unwrap_or_else(|| {
            let hashes: Vec<Hash> = match decoded.is_empty() {
                true => hashes.clone(),
                false => decoded.iter().map(|line| line.leaf).collect(),
            };
            merkle::root(&hashes)
        })
    });
    let full = lines.len() as u64 == SEGMENT_ENTRIES;
    let whole = checked_root.filter(|_| full);
    let digest = (root.is_some() && full).then(|| Sha256::digest(&bytes).into());
    Ok(Loaded {
        bytes,
        lines,
        decoded,
        leaves: hashes,
        root,
        digest,
        whole,
        stale,
    })
}

/// How many of the first segments are full, below `covered` entries, and
/// still the bytes whose SHA-256 the cache recorded (`digests`), with each
/// one's length: one pass of SHA-256 over the bytes, the files hashed in
/// parallel, instead of a leaf hash per line and the tree over them. The
/// first that differs (or cannot be read) ends the prefix; it and the rest
/// are checked line by line, which finds and names what changed.
fn sealed_prefix(segments: &[Segment], digests: &[Hash], covered: u64) -> Vec<u64> {
    let candidates = digests
        .len()
        .min(segments.len())
        .min((covered / SEGMENT_ENTRIES) as usize);
    let found: Vec<Option<u64>> = segments[..candidates]
        .par_iter()
        .zip(&digests[..candidates])
        .map(|(segment, digest)| {
            let (bytes, actual) = file_digest(&segment.path).ok()?;
            (actual == *digest).then_some(bytes)
        })
        .collect();
    found.into_iter().map_while(|bytes| bytes).collect()
}

/// A file's length and the SHA-256 of its bytes, read a block at a time.
fn file_digest(path: &std::path::Path) -> std::io::Result<(u64, Hash)> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    let mut length = 0u64;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok((length, hasher.finalize().into())),
            Ok(read) => {
                hasher.update(&buffer[..read]);
                length += read as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The context-free part of verifying a line, run in parallel: decoding,
/// the canonical-form check and field checks.
fn decode_and_check(line: &[u8]) -> Result<Entry, VerifyError> {
    let entry = Entry::from_line(line)
        .map_err(|e| VerifyError::new(VerifyErrorKind::Decode, e.to_string()))?;
    check_entry_fields(&entry).map_err(invariant)?;
    Ok(entry)
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
    if verified.leaves_from != 0 {
        return Err(bad(
            "the leaves of the first segments were not kept (verified with the cache)".into(),
        ));
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
