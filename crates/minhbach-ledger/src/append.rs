//! Appending a batch: all of it and one signed checkpoint, or nothing.
//!
//! Under the exclusive lock: verify what is there, apply every new entry to
//! the state (any refusal ends here, before a byte is written), then write
//! media, entry lines (fsync), the checkpoint history file, and the latest
//! checkpoint copy, in that order. A crash between the lines and the
//! checkpoint leaves an unsigned tail that `verify` reports and `recover`
//! removes; a write error rolls the files back to their old lengths.

use super::entry::{Entry, KeyEntry, MAX_LINE_BYTES, Role};
use super::fault;
use super::identity::TransferHashes;
use super::input::{Pending, PendingMedia};
use super::merkle::{self, TreeBuilder};
use super::note::{Checkpoint, SigningKey, sign_checkpoint};
use super::state::{State, check_entry_fields};
use super::store::{self, LedgerLock, SEGMENT_ENTRIES, Store};
use super::validate::EntryError;
use super::verify::{VerifyError, VerifyOptions};
use anyhow::Context;
use rayon::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

/// Why an append was refused. Nothing was written in any case but `Io`
/// after a partial write, which is rolled back.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("the ledger does not verify, so nothing was appended: {0}")]
    Ledger(#[from] VerifyError),
    #[error("{0}")]
    Signer(String),
    /// The `index`-th pending entry (0-based) was refused.
    #[error("entry {index} of the batch: {error}")]
    Entry { index: usize, error: EntryError },
    #[error("nothing to append")]
    Empty,
    #[error(transparent)]
    Io(#[from] anyhow::Error),
}

/// What an append did.
#[derive(Clone, Debug)]
pub struct AppendReport {
    pub first_seq: u64,
    pub appended: u64,
    pub checkpoint: Checkpoint,
    /// The signed checkpoint note.
    pub note: String,
}

/// Settings of the ledger being appended to.
#[derive(Clone, Debug)]
pub struct LedgerSettings {
    pub origin: String,
    pub allow_advances: bool,
}

/// Creates a new ledger whose genesis admits `admin` as administrator.
pub fn create(
    store: &Store,
    settings: &LedgerSettings,
    admin: &SigningKey,
    unit: &str,
    time: &str,
) -> Result<AppendReport, AppendError> {
    // `media/` is made by the first append that brings a photo, so a ledger
    // without photos has no empty folder (git would not keep it anyway).
    for dir in [store.entries_dir(), store.checkpoints_dir()] {
        create_dir(&dir)?;
    }
    let lock = store.lock_exclusive()?;
    if !store.segments()?.is_empty() || !store.checkpoint_sizes()?.is_empty() {
        return Err(AppendError::Signer(format!(
            "`{}` already holds a ledger",
            store.dir.display()
        )));
    }
    let genesis = Pending {
        body: super::entry::Body::Key(KeyEntry::Admit {
            name: admin.name().to_string(),
            unit: unit.to_string(),
            role: Role::Admin,
            vkey: admin.verifier_key().to_string(),
        }),
        media: Vec::new(),
        citizen_id_last4: None,
    };
    let mut session = AppendSession::new(
        store,
        settings,
        lock,
        admin,
        time,
        None,
        State::new(settings.allow_advances),
        TreeBuilder::new(),
    );
    session
        .push(genesis)
        .map_err(|error| AppendError::Entry { index: 0, error })?;
    session.commit()
}

/// Appends `pending` entries signed by `key`.
pub fn append(
    store: &Store,
    settings: &LedgerSettings,
    cache: Option<&Path>,
    pending: Vec<Pending>,
    key: &SigningKey,
    time: &str,
) -> Result<AppendReport, AppendError> {
    if pending.is_empty() {
        return Err(AppendError::Empty);
    }
    let mut session = AppendSession::begin(store, settings, cache, key, time)?;
    for (index, item) in pending.into_iter().enumerate() {
        session
            .push(item)
            .map_err(|error| AppendError::Entry { index, error })?;
    }
    session.commit()
}

/// An append in progress: it holds the exclusive lock and the verified state
/// from `begin` to `commit`, so a caller that pushes entries one at a time
/// (an import of a million rows) verifies the ledger once and can skip a
/// refused entry and go on. Nothing is written before `commit`; dropping the
/// session appends nothing.
pub struct AppendSession<'a> {
    store: &'a Store,
    settings: &'a LedgerSettings,
    _lock: LedgerLock,
    key: &'a SigningKey,
    time: String,
    role: Option<Role>,
    state: State,
    tree: TreeBuilder,
    first_seq: u64,
    lines: Vec<String>,
    media: Vec<PendingMedia>,
    /// Set when a refused correction may have left the state half-changed:
    /// nothing more can be pushed or committed.
    poisoned: bool,
}

impl<'a> AppendSession<'a> {
    /// Locks and verifies the ledger (the entries the verified-state cache
    /// at `cache` covers are only re-hashed) and checks that `key` may sign.
    pub fn begin(
        store: &'a Store,
        settings: &'a LedgerSettings,
        cache: Option<&Path>,
        key: &'a SigningKey,
        time: &str,
    ) -> Result<AppendSession<'a>, AppendError> {
        let lock = store.lock_exclusive()?;
        let options = VerifyOptions {
            allow_advances: settings.allow_advances,
            ..VerifyOptions::default()
        };
        let verified = super::cache::verify_with_cache(store, settings, cache, options, None)?;
        let record = verified
            .state
            .check_signer(key.name())
            .map_err(|e| AppendError::Signer(e.to_string()))?;
        if record.vkey != key.verifier_key() {
            return Err(AppendError::Signer(format!(
                "the private key named `{}` does not match the key admitted under that name ({})",
                key.name(),
                record.vkey
            )));
        }
        let role = Some(record.role);
        Ok(AppendSession::new(
            store,
            settings,
            lock,
            key,
            time,
            role,
            verified.state,
            verified.tree,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        store: &'a Store,
        settings: &'a LedgerSettings,
        lock: LedgerLock,
        key: &'a SigningKey,
        time: &str,
        role: Option<Role>,
        state: State,
        tree: TreeBuilder,
    ) -> AppendSession<'a> {
        let first_seq = tree.size();
        AppendSession {
            store,
            settings,
            _lock: lock,
            key,
            time: time.to_string(),
            role,
            state,
            tree,
            first_seq,
            lines: Vec::new(),
            media: Vec::new(),
            poisoned: false,
        }
    }

    /// The ledger's state with every entry pushed so far.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Entries pushed so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Checks one entry against every invariant and adds it to the batch. A
    /// refused entry leaves the session as it was, except a refused
    /// correction, after which the session cannot continue.
    pub fn push(&mut self, item: Pending) -> Result<(), EntryError> {
        let seq = self.next_seq();
        self.push_prepared(self.prepare_one(item, seq))
            .map_err(|refused| refused.error)
    }

    /// `push` of each item in order, telling `pushed` the outcome of the
    /// `index`-th; it returns whether to go on. The work `push` does on an
    /// entry alone (encoding, hashing, the field checks) is done in
    /// parallel, a segment's worth of entries at a time.
    pub fn push_all(
        &mut self,
        items: Vec<Pending>,
        pushed: &mut dyn FnMut(usize, Result<(), Box<Refused>>) -> bool,
    ) {
        let mut index = 0;
        self.lines.reserve(items.len());
        let donations = (items.iter())
            .filter(|item| matches!(item.body, super::entry::Body::Donation(_)))
            .count();
        self.state.reserve_transfers(donations);
        let mut items = items.into_iter();
        loop {
            let chunk: Vec<Pending> = items.by_ref().take(SEGMENT_ENTRIES as usize).collect();
            if chunk.is_empty() {
                return;
            }
            for prepared in self.prepare(chunk) {
                if !pushed(index, self.push_prepared(prepared)) {
                    return;
                }
                index += 1;
            }
        }
    }

    /// Makes entries ready to push, in parallel: each encoded, hashed and
    /// its fields checked as the entry it will be if every one before it is
    /// taken (`push_prepared` makes one again if not).
    fn prepare(&self, items: Vec<Pending>) -> Vec<Prepared> {
        let first = self.next_seq();
        let mut prepared = Vec::with_capacity(items.len());
        items
            .into_par_iter()
            .enumerate()
            .map(|(index, item)| self.prepare_one(item, first + index as u64))
            .collect_into_vec(&mut prepared);
        prepared
    }

    fn next_seq(&self) -> u64 {
        self.first_seq + self.lines.len() as u64
    }

    fn prepare_one(&self, item: Pending, seq: u64) -> Prepared {
        let entry = Entry {
            seq,
            time: self.time.clone(),
            signer: self.key.name().to_string(),
            body: item.body,
        };
        let line = entry.to_line();
        let leaf = merkle::leaf_hash(line.as_bytes());
        let checked = match line.len() {
            length if length > MAX_LINE_BYTES => Err(EntryError::entry(format!(
                "the entry is {length} bytes, over the {MAX_LINE_BYTES}-byte limit"
            ))),
            _ => check_entry_fields(&entry),
        };
        let transfer = TransferHashes::of_entry(&entry);
        Prepared {
            entry,
            line,
            leaf,
            checked,
            transfer,
            media: item.media,
        }
    }

    /// `push` of an entry `prepare` made ready; a refused one is handed back
    /// with the error.
    fn push_prepared(&mut self, prepared: Prepared) -> Result<(), Box<Refused>> {
        let seq = self.next_seq();
        if prepared.entry.seq != seq {
            // An entry before it was refused: it takes that number.
            let Prepared { entry, media, .. } = prepared;
            let item = Pending {
                body: entry.body,
                media,
                citizen_id_last4: None,
            };
            return self.push_prepared(self.prepare_one(item, seq));
        }
        let refuse = |error: EntryError, prepared: Prepared| {
            Box::new(Refused {
                error,
                body: prepared.entry.body,
            })
        };
        if self.poisoned {
            let error =
                EntryError::entry("an earlier correction was refused; start the append again");
            return Err(refuse(error, prepared));
        }
        if let Err(error) = &prepared.checked {
            return Err(refuse(error.clone(), prepared));
        }
        let Prepared { entry, leaf, .. } = &prepared;
        let (first_seq, lines, store) = (self.first_seq, &self.lines, self.store);
        let mut lookup = |target: u64| match target.checked_sub(first_seq) {
            Some(offset) => lines
                .get(offset as usize)
                .ok_or_else(|| format!("no entry {target}"))
                .and_then(|line| Entry::from_line(line.as_bytes()).map_err(|e| e.to_string())),
            None => store.read_entry(target),
        };
        let applied = self
            .state
            .apply_hashed(entry, prepared.transfer, self.role, &mut lookup);
        if let Err(error) = applied {
            self.poisoned = matches!(entry.body, super::entry::Body::Correction(_));
            return Err(refuse(error, prepared));
        }
        self.tree.push(*leaf);
        let Prepared { line, media, .. } = prepared;
        self.lines.push(line);
        self.media.extend(media);
        Ok(())
    }

    /// Writes the batch and signs one checkpoint; rolls back on a write error.
    pub fn commit(self) -> Result<AppendReport, AppendError> {
        if self.poisoned {
            return Err(AppendError::Signer(
                "an earlier correction was refused; nothing was appended".into(),
            ));
        }
        if self.lines.is_empty() {
            return Err(AppendError::Empty);
        }
        let checkpoint = Checkpoint {
            origin: self.settings.origin.clone(),
            size: self.tree.size(),
            root: self.tree.root(),
        };
        let note = sign_checkpoint(&checkpoint, self.key);
        let mut undo = Undo::default();
        let written = write_files(
            self.store,
            self.first_seq,
            &self.lines,
            &self.media,
            &checkpoint,
            &note,
            &mut undo,
        );
        if let Err(error) = written {
            let history = self.store.checkpoint_history_path(checkpoint.size);
            return Err(AppendError::Io(match undo.roll_back() {
                Ok(()) => error,
                Err(RollBackError::Incomplete(undo_error)) => error.context(format!(
                    "nothing was appended, but the partial write could not be undone ({undo_error}); run `minhbach recover` once the disk is writable"
                )),
                Err(RollBackError::Signed(undo_error)) => error.context(format!(
                    "the entries were appended and signed in `{}` (it could not be removed: {undo_error}); run `minhbach recover` once the disk is writable",
                    history.display()
                )),
            }));
        }
        Ok(AppendReport {
            first_seq: self.first_seq,
            appended: self.lines.len() as u64,
            checkpoint,
            note,
        })
    }
}

/// An entry made ready to push (`AppendSession::prepare`).
struct Prepared {
    entry: Entry,
    line: String,
    leaf: merkle::Hash,
    /// The context-free checks: the line's length and `check_entry_fields`.
    checked: Result<(), EntryError>,
    transfer: Option<TransferHashes>,
    media: Vec<PendingMedia>,
}

/// An entry the ledger refused, with its body.
#[derive(Debug)]
pub struct Refused {
    pub error: EntryError,
    pub body: super::entry::Body,
}

/// Files to restore if a write fails part-way.
#[derive(Default)]
struct Undo {
    /// The checkpoint history file, once its write has begun: it signs the
    /// batch, so it is undone first, and while it stays the lines it signs
    /// must stay too.
    history: Option<PathBuf>,
    truncate: Vec<(PathBuf, u64)>,
    remove: Vec<PathBuf>,
}

/// Why a rollback did not bring the ledger back to where it was.
enum RollBackError {
    /// The checkpoint history file could not be removed: the batch is
    /// signed and kept (its lines were synced before it was written).
    Signed(String),
    /// Something else could not be undone: an unsigned tail remains.
    Incomplete(String),
}

impl Undo {
    /// Removes the history file first, and stops there if it cannot (cutting
    /// lines a signed checkpoint covers would lose signed entries). Then
    /// tries every other step even after one fails; what cannot be undone
    /// (the disk went away) is left as a crash would leave it, an unsigned
    /// tail or a temporary file that `recover` removes.
    fn roll_back(self) -> Result<(), RollBackError> {
        let failed = |path: &Path, error: std::io::Error| format!("`{}`: {error}", path.display());
        if let Some(history) = self.history.as_deref().filter(|path| path.exists()) {
            if let Err(error) = fault::remove_file(history)
                && history.exists()
            {
                return Err(RollBackError::Signed(failed(history, error)));
            }
            // Until the removal is durable the lines stay: were it lost in a
            // power cut, the checkpoint would come back and cover them.
            let dir = history.parent().unwrap_or(Path::new("."));
            if let Err(error) = store::sync_dir(dir) {
                return Err(RollBackError::Incomplete(failed(dir, error)));
            }
        }
        let mut first = None;
        for (path, length) in &self.truncate {
            // A segment the failed write never reached needs nothing (and
            // on a read-only disk could not be opened to check).
            if fs::metadata(path).is_ok_and(|meta| meta.len() == *length) {
                continue;
            }
            let cut = fault::open_write(path).and_then(|file| {
                fault::set_len(&file, path, *length)?;
                fault::sync(&file, path)
            });
            if let Err(error) = cut {
                first.get_or_insert(failed(path, error));
            }
        }
        for path in &self.remove {
            match fault::remove_file(path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    first.get_or_insert(failed(path, error));
                }
                _ => {}
            }
        }
        match first {
            Some(message) => Err(RollBackError::Incomplete(message)),
            None => Ok(()),
        }
    }
}

/// Creates a ledger directory, naming it in the error.
fn create_dir(dir: &Path) -> anyhow::Result<()> {
    fault::create_dir_all(dir).with_context(|| format!("failed to create `{}`", dir.display()))
}

fn write_files(
    store: &Store,
    first_seq: u64,
    lines: &[String],
    media: &[PendingMedia],
    checkpoint: &Checkpoint,
    note: &str,
    undo: &mut Undo,
) -> anyhow::Result<()> {
    for item in media {
        let path = store.media_dir().join(&item.name);
        if !path.exists() {
            create_dir(&store.media_dir())?;
            undo.remove.push(path.clone());
            store::write_atomic(&path, &item.bytes)?;
        }
    }
    // Group lines by segment so each file is opened, written and synced once.
    let mut seq = first_seq;
    let mut start = 0;
    // One buffer for every segment, sized once: grown by doubling for each
    // segment it was most of a national import's fresh memory.
    let mut bytes = Vec::new();
    while start < lines.len() {
        let segment = seq / SEGMENT_ENTRIES;
        let room = (SEGMENT_ENTRIES - seq % SEGMENT_ENTRIES) as usize;
        let end = (start + room).min(lines.len());
        bytes.clear();
        bytes.reserve(lines[start..end].iter().map(|line| line.len() + 1).sum());
        for line in &lines[start..end] {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        let path = store.segment_path(segment);
        match fs::metadata(&path) {
            Ok(meta) => undo.truncate.push((path.clone(), meta.len())),
            Err(_) => undo.remove.push(path.clone()),
        }
        store::append_and_sync(&path, &bytes)?;
        seq += (end - start) as u64;
        start = end;
    }
    let history = store.checkpoint_history_path(checkpoint.size);
    create_dir(&store.checkpoints_dir())?;
    undo.history = Some(history.clone());
    store::write_atomic(&history, note.as_bytes())?;
    // From here on the batch is signed and kept; a failure to refresh the
    // copy is repaired by `recover` and must not undo signed entries.
    *undo = Undo::default();
    store::write_atomic(&store.checkpoint_path(), note.as_bytes()).map_err(|e| {
        e.context(format!("the entries were appended and signed in `{}`, but the latest checkpoint copy was not updated; run `minhbach recover`", history.display()))
    })
}

/// What `recover` did.
#[derive(Clone, Debug, Default)]
pub struct RecoverReport {
    /// Unsigned entry lines removed (saved to the rescue file).
    pub removed_lines: usize,
    /// Whether `ledger/checkpoint` was rewritten.
    pub restored_checkpoint: bool,
    /// Temporary files removed.
    pub removed_temporary: usize,
}

/// Repairs an interrupted append without losing any signed entry: removes
/// lines after the newest kept checkpoint (saving them to `rescue`), a cut
/// line, leftover temporary files, and restores `ledger/checkpoint` from the
/// newest kept checkpoint. Refuses, changing nothing, if signed entries are
/// missing. Every step can be interrupted and `recover` run again.
pub fn recover(store: &Store, rescue: &Path) -> anyhow::Result<RecoverReport> {
    let _lock = store.lock_exclusive()?;
    let sizes = store.checkpoint_sizes()?;
    let Some(&signed) = sizes.last() else {
        anyhow::bail!(
            "the ledger has no signed checkpoint; nothing can be recovered (restore `ledger/` from a copy)"
        );
    };
    // Everything is read and checked before anything is changed, so a
    // refusal leaves `ledger/` as it was.
    let cuts = plan_cuts(store, signed)?;
    let mut report = RecoverReport {
        removed_temporary: remove_temporary_files(store)?,
        ..RecoverReport::default()
    };
    if !cuts.is_empty() {
        let mut rescued = Vec::new();
        for cut in &cuts {
            rescued.extend_from_slice(&cut.tail);
            if !rescued.ends_with(b"\n") {
                rescued.push(b'\n');
            }
            report.removed_lines += cut
                .tail
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
        }
        save_rescued(rescue, &rescued)?;
        for cut in &cuts {
            apply_cut(cut)?;
        }
    }
    let history = store.checkpoint_history_path(signed);
    let newest =
        fs::read(&history).with_context(|| format!("failed to read `{}`", history.display()))?;
    if fs::read(store.checkpoint_path()).ok().as_deref() != Some(newest.as_slice()) {
        store::write_atomic(&store.checkpoint_path(), &newest)?;
        report.restored_checkpoint = true;
    }
    Ok(report)
}

/// The unsigned end of one segment file: the bytes after `keep`.
struct Cut {
    path: PathBuf,
    keep: u64,
    tail: Vec<u8>,
}

/// Finds, per segment, what follows the first `signed` entries; refuses if
/// fewer than `signed` complete lines are there.
fn plan_cuts(store: &Store, signed: u64) -> anyhow::Result<Vec<Cut>> {
    let mut cuts = Vec::new();
    let mut total = 0u64;
    for segment in store.segments()? {
        let bytes = fs::read(&segment.path)
            .with_context(|| format!("failed to read `{}`", segment.path.display()))?;
        let wanted = signed
            .saturating_sub(segment.index * SEGMENT_ENTRIES)
            .min(SEGMENT_ENTRIES) as usize;
        let (kept, offset) = complete_lines(&bytes, wanted);
        total += kept as u64;
        if offset < bytes.len() {
            cuts.push(Cut {
                path: segment.path,
                keep: offset as u64,
                tail: bytes[offset..].to_vec(),
            });
        }
    }
    if total < signed {
        anyhow::bail!(
            "the newest checkpoint covers {signed} entries but only {total} are in `ledger/entries/`: signed entries were deleted; restore them from a copy (git history, a backup or the published site)"
        );
    }
    Ok(cuts)
}

/// Counts up to `wanted` newline-terminated lines from the start of
/// `bytes`; returns how many were found and the offset after the last one.
fn complete_lines(bytes: &[u8], wanted: usize) -> (usize, usize) {
    let mut offset = 0;
    let mut kept = 0;
    while kept < wanted {
        match bytes[offset..].iter().position(|&b| b == b'\n') {
            Some(end) => {
                offset += end + 1;
                kept += 1;
            }
            None => break,
        }
    }
    (kept, offset)
}

/// Cuts a segment back to its signed lines (removing a segment that holds
/// none), synced so the cut survives a crash.
fn apply_cut(cut: &Cut) -> anyhow::Result<()> {
    let path = &cut.path;
    let result = if cut.keep == 0 {
        fault::remove_file(path)
            .and_then(|()| store::sync_dir(path.parent().unwrap_or(Path::new("."))))
    } else {
        fault::open_write(path).and_then(|file| {
            fault::set_len(&file, path, cut.keep)?;
            fault::sync(&file, path)
        })
    };
    result.with_context(|| format!("failed to cut the unsigned lines from `{}`", path.display()))
}

/// Removes the temporary files an interrupted atomic write leaves behind.
fn remove_temporary_files(store: &Store) -> anyhow::Result<usize> {
    let mut removed = 0;
    for dir in [
        store.dir.clone(),
        store.checkpoints_dir(),
        store.media_dir(),
    ] {
        let Ok(items) = fs::read_dir(&dir) else {
            continue;
        };
        for item in items.flatten() {
            if item.file_name().to_string_lossy().ends_with(".tmp") {
                let path = item.path();
                fault::remove_file(&path)
                    .with_context(|| format!("failed to remove `{}`", path.display()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Saves the rescued lines before anything is cut. A rescue file of the
/// same name (an earlier `recover` in the same second, or this one run
/// again after an interruption) is added to, never overwritten, unless it
/// already ends with these very lines.
fn save_rescued(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fault::create_dir_all(parent)
            .with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    let mut all = fs::read(path).unwrap_or_default();
    if all.ends_with(bytes) {
        return Ok(());
    }
    all.extend_from_slice(bytes);
    store::write_atomic(path, &all)
}
