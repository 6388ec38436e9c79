//! Appending a batch: all of it and one signed checkpoint, or nothing.
//!
//! Under the exclusive lock: verify what is there, apply every new entry to
//! the state (any refusal ends here, before a byte is written), then write
//! media, entry lines (fsync), the checkpoint history file, and the latest
//! checkpoint copy, in that order. A crash between the lines and the
//! checkpoint leaves an unsigned tail that `verify` reports and `recover`
//! removes; a write error rolls the files back to their old lengths.

use super::entry::{Entry, KeyEntry, MAX_LINE_BYTES, Role};
use super::input::Pending;
use super::merkle::{self, TreeBuilder};
use super::note::{Checkpoint, SigningKey, sign_checkpoint};
use super::state::{EntryError, State};
use super::store::{self, SEGMENT_ENTRIES, Store};
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
    let _lock = store.lock_exclusive()?;
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
    let empty = Base {
        state: State::new(settings.allow_advances),
        tree: TreeBuilder::new(),
    };
    write_batch(store, settings, empty, None, vec![genesis], admin, time)
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
    let _lock = store.lock_exclusive()?;
    let options = VerifyOptions {
        allow_advances: settings.allow_advances,
        ..VerifyOptions::default()
    };
    let verified = verify::verify(store, &settings.origin, options)?;
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
    let base = Base {
        state: verified.state,
        tree: verified.tree,
    };
    write_batch(store, settings, base, role, pending, key, time)
}

/// The verified ledger a batch builds on.
struct Base {
    state: State,
    tree: TreeBuilder,
}

fn write_batch(
    store: &Store,
    settings: &LedgerSettings,
    base: Base,
    role: Option<Role>,
    pending: Vec<Pending>,
    key: &SigningKey,
    time: &str,
) -> Result<AppendReport, AppendError> {
    let Base {
        mut state,
        mut tree,
    } = base;
    let first_seq = tree.size();
    let mut batch: Vec<Entry> = Vec::with_capacity(pending.len());
    let mut lines = Vec::with_capacity(pending.len());
    let mut media = Vec::new();
    for (index, item) in pending.into_iter().enumerate() {
        let entry = Entry {
            seq: first_seq + index as u64,
            time: time.to_string(),
            signer: key.name().to_string(),
            body: item.body,
        };
        let line = entry.to_line();
        if line.len() > MAX_LINE_BYTES {
            let error = EntryError::entry(format!(
                "the entry is {} bytes, over the {MAX_LINE_BYTES}-byte limit",
                line.len()
            ));
            return Err(AppendError::Entry { index, error });
        }
        state
            .apply(
                &entry,
                role,
                &mut |target| match target.checked_sub(first_seq) {
                    Some(offset) => batch
                        .get(offset as usize)
                        .cloned()
                        .ok_or_else(|| format!("no entry {target}")),
                    None => store.read_entry(target),
                },
            )
            .map_err(|error| AppendError::Entry { index, error })?;
        tree.push(merkle::leaf_hash(line.as_bytes()));
        batch.push(entry);
        lines.push(line);
        media.extend(item.media);
    }
    let checkpoint = Checkpoint {
        origin: settings.origin.clone(),
        size: tree.size(),
        root: tree.root(),
    };
    let note = sign_checkpoint(&checkpoint, key);
    let mut undo = Undo::default();
    let written = write_files(
        store,
        first_seq,
        &lines,
        &media,
        &checkpoint,
        &note,
        &mut undo,
    );
    if let Err(error) = written {
        undo.roll_back();
        return Err(AppendError::Io(error));
    }
    Ok(AppendReport {
        first_seq,
        appended: lines.len() as u64,
        checkpoint,
        note,
    })
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
    media: &[super::input::PendingMedia],
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
