//! Appending a batch: all of it and one signed checkpoint, or nothing.
//!
//! Under the exclusive lock: verify what is there, apply every new entry to
//! the state (any refusal ends here, before a byte is written), then write
//! media, entry lines (fsync), the checkpoint history file, and the latest
//! checkpoint copy, in that order. A crash between the lines and the
//! checkpoint leaves an unsigned tail that `verify` reports and `recover`
//! removes; a write error rolls the files back to their old lengths.

use super::entry::{Entry, KeyEntry, MAX_LINE_BYTES, Role};
use super::input::{Pending, PendingMedia};
use super::merkle::{self, TreeBuilder};
use super::note::{Checkpoint, SigningKey, sign_checkpoint};
use super::state::{EntryError, State};
use super::store::{self, LedgerLock, SEGMENT_ENTRIES, Store};
use super::verify::{self, VerifyError, VerifyOptions};
use std::fs;
use std::path::PathBuf;

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
        fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("failed to create `{}`: {e}", dir.display()))?;
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
    pending: Vec<Pending>,
    key: &SigningKey,
    time: &str,
) -> Result<AppendReport, AppendError> {
    if pending.is_empty() {
        return Err(AppendError::Empty);
    }
    let mut session = AppendSession::begin(store, settings, key, time, &mut |_, _| {})?;
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
    /// Locks and verifies the ledger (handing each entry to `visit`) and
    /// checks that `key` may sign.
    pub fn begin(
        store: &'a Store,
        settings: &'a LedgerSettings,
        key: &'a SigningKey,
        time: &str,
        visit: &mut dyn FnMut(Entry, &[u8]),
    ) -> Result<AppendSession<'a>, AppendError> {
        let lock = store.lock_exclusive()?;
        let options = VerifyOptions {
            allow_advances: settings.allow_advances,
            ..VerifyOptions::default()
        };
        let verified = verify::verify_visiting(store, &settings.origin, options, visit)?;
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
        if self.poisoned {
            return Err(EntryError::entry(
                "an earlier correction was refused; start the append again",
            ));
        }
        let seq = self.first_seq + self.lines.len() as u64;
        let entry = Entry {
            seq,
            time: self.time.clone(),
            signer: self.key.name().to_string(),
            body: item.body,
        };
        let line = entry.to_line();
        if line.len() > MAX_LINE_BYTES {
            return Err(EntryError::entry(format!(
                "the entry is {} bytes, over the {MAX_LINE_BYTES}-byte limit",
                line.len()
            )));
        }
        let (first_seq, lines, store) = (self.first_seq, &self.lines, self.store);
        let mut lookup = |target: u64| match target.checked_sub(first_seq) {
            Some(offset) => lines
                .get(offset as usize)
                .ok_or_else(|| format!("no entry {target}"))
                .and_then(|line| Entry::from_line(line.as_bytes()).map_err(|e| e.to_string())),
            None => store.read_entry(target),
        };
        if let Err(error) = self.state.apply(&entry, self.role, &mut lookup) {
            self.poisoned = matches!(entry.body, super::entry::Body::Correction(_));
            return Err(error);
        }
        self.tree.push(merkle::leaf_hash(line.as_bytes()));
        self.lines.push(line);
        self.media.extend(item.media);
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
            undo.roll_back();
            return Err(AppendError::Io(error));
        }
        Ok(AppendReport {
            first_seq: self.first_seq,
            appended: self.lines.len() as u64,
            checkpoint,
            note,
        })
    }
}

/// Files to restore if a write fails part-way.
#[derive(Default)]
struct Undo {
    truncate: Vec<(PathBuf, u64)>,
    remove: Vec<PathBuf>,
}

impl Undo {
    fn roll_back(self) {
        for (path, length) in self.truncate {
            if let Ok(file) = fs::OpenOptions::new().write(true).open(&path) {
                let _ = file.set_len(length);
                let _ = file.sync_all();
            }
        }
        for path in self.remove {
            let _ = fs::remove_file(path);
        }
    }
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
            fs::create_dir_all(store.media_dir())?;
            undo.remove.push(path.clone());
            store::write_atomic(&path, &item.bytes)?;
        }
    }
    // Group lines by segment so each file is opened, written and synced once.
    let mut seq = first_seq;
    let mut start = 0;
    while start < lines.len() {
        let segment = seq / SEGMENT_ENTRIES;
        let room = (SEGMENT_ENTRIES - seq % SEGMENT_ENTRIES) as usize;
        let end = (start + room).min(lines.len());
        let mut bytes = Vec::new();
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
    fs::create_dir_all(store.checkpoints_dir())?;
    undo.remove.push(history.clone());
    store::write_atomic(&history, note.as_bytes())?;
    // From here on the batch is signed and kept; a failure to refresh the
    // copy is repaired by `recover` and must not undo signed entries.
    undo.truncate.clear();
    undo.remove.clear();
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
/// newest kept checkpoint. Refuses if signed entries are missing.
pub fn recover(store: &Store, rescue: &std::path::Path) -> anyhow::Result<RecoverReport> {
    let _lock = store.lock_exclusive()?;
    let mut report = RecoverReport::default();
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
                fs::remove_file(item.path())?;
                report.removed_temporary += 1;
            }
        }
    }
    let sizes = store.checkpoint_sizes()?;
    let Some(&signed) = sizes.last() else {
        anyhow::bail!(
            "the ledger has no signed checkpoint; nothing can be recovered (restore `ledger/` from a copy)"
        );
    };
    let mut rescued = Vec::new();
    let segments = store.segments()?;
    let mut total = 0u64;
    for segment in &segments {
        let bytes = fs::read(&segment.path)?;
        let keep_lines = signed
            .saturating_sub(segment.index * SEGMENT_ENTRIES)
            .min(SEGMENT_ENTRIES) as usize;
        let mut offset = 0usize;
        let mut kept = 0usize;
        while kept < keep_lines {
            match bytes[offset..].iter().position(|&b| b == b'\n') {
                Some(end) => {
                    offset += end + 1;
                    kept += 1;
                }
                None => break,
            }
        }
        total += kept as u64;
        if offset < bytes.len() {
            rescued.extend_from_slice(&bytes[offset..]);
            if !rescued.ends_with(b"\n") {
                rescued.push(b'\n');
            }
            report.removed_lines += bytes[offset..]
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
            save_rescued(rescue, &rescued)?;
            if offset == 0 {
                fs::remove_file(&segment.path)?;
            } else {
                let file = fs::OpenOptions::new().write(true).open(&segment.path)?;
                file.set_len(offset as u64)?;
                file.sync_all()?;
            }
        }
    }
    if total < signed {
        anyhow::bail!(
            "the newest checkpoint covers {signed} entries but only {total} are in `ledger/entries/`: signed entries were deleted; restore them from a copy (git history, a backup or the published site)"
        );
    }
    let newest = fs::read(store.checkpoint_history_path(signed))?;
    if fs::read(store.checkpoint_path()).ok().as_deref() != Some(newest.as_slice()) {
        store::write_atomic(&store.checkpoint_path(), &newest)?;
        report.restored_checkpoint = true;
    }
    Ok(report)
}

/// Saves the rescued lines before anything is truncated.
fn save_rescued(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    store::write_atomic(path, bytes)
}
