//! The ledger's files under `ledger/`:
//!
//! ```text
//! ledger/entries/000000.jsonl     entries 0..65535, one canonical line each
//! ledger/entries/000001.jsonl     entries 65536..131071, …
//! ledger/checkpoints/<size>       every checkpoint ever signed (12-digit size)
//! ledger/checkpoint               a copy of the newest one
//! ledger/media/<sha256>.<ext>     photos and documents, content-addressed
//! ```
//!
//! Segment files keep each file small enough for git and for a static host,
//! and make the n-th entry's file a division away. Writers take an exclusive
//! `flock` on the `ledger/` directory, readers a shared one, so two appends
//! never interleave and a verify never sees half an append.

use super::entry::Entry;
use super::fault;
use anyhow::{Context, Result, bail};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Entries per segment file (the tlog-tiles entry bundle holds 256; a
/// segment is 256 bundles).
pub const SEGMENT_ENTRIES: u64 = 65_536;

/// The ledger directory and its layout.
#[derive(Clone, Debug)]
pub struct Store {
    pub dir: PathBuf,
}

/// A held lock on the ledger; released on drop.
pub struct LedgerLock {
    _file: File,
}

/// A segment file as found on disk.
#[derive(Clone, Debug)]
pub struct Segment {
    pub index: u64,
    pub path: PathBuf,
}

impl Store {
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    pub fn entries_dir(&self) -> PathBuf {
        self.dir.join("entries")
    }

    pub fn checkpoints_dir(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    pub fn checkpoint_path(&self) -> PathBuf {
        self.dir.join("checkpoint")
    }

    pub fn media_dir(&self) -> PathBuf {
        self.dir.join("media")
    }

    pub fn segment_path(&self, index: u64) -> PathBuf {
        self.entries_dir().join(format!("{index:06}.jsonl"))
    }

    pub fn checkpoint_history_path(&self, size: u64) -> PathBuf {
        self.checkpoints_dir().join(format!("{size:012}"))
    }

    /// Takes the exclusive lock, waiting for other writers.
    pub fn lock_exclusive(&self) -> Result<LedgerLock> {
        let file = self.open_dir()?;
        file.lock()
            .with_context(|| format!("failed to lock `{}`", self.dir.display()))?;
        Ok(LedgerLock { _file: file })
    }

    /// Takes a shared lock, waiting for a running append to finish.
    pub fn lock_shared(&self) -> Result<LedgerLock> {
        let file = self.open_dir()?;
        file.lock_shared()
            .with_context(|| format!("failed to lock `{}`", self.dir.display()))?;
        Ok(LedgerLock { _file: file })
    }

    fn open_dir(&self) -> Result<File> {
        File::open(&self.dir).with_context(|| {
            format!(
                "failed to open the ledger directory `{}`",
                self.dir.display()
            )
        })
    }

    /// Lists the segment files in order, checking their names are contiguous.
    pub fn segments(&self) -> Result<Vec<Segment>> {
        let dir = self.entries_dir();
        let mut indexes = Vec::new();
        for item in
            fs::read_dir(&dir).with_context(|| format!("failed to read `{}`", dir.display()))?
        {
            let item = item.with_context(|| format!("failed to read `{}`", dir.display()))?;
            let name = item.file_name();
            let name = name.to_string_lossy();
            let index = name
                .strip_suffix(".jsonl")
                .filter(|stem| stem.len() == 6 && stem.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|stem| stem.parse::<u64>().ok());
            match index {
                Some(index) => indexes.push(index),
                None => bail!(
                    "unexpected file `{}` in the ledger: only segment files `NNNNNN.jsonl` belong there",
                    item.path().display()
                ),
            }
        }
        indexes.sort_unstable();
        for (expected, &index) in indexes.iter().enumerate() {
            if index != expected as u64 {
                bail!(
                    "segment `{}` is missing: segment files must be numbered from 000000 without gaps",
                    self.segment_path(expected as u64).display()
                );
            }
        }
        Ok(indexes
            .into_iter()
            .map(|index| Segment {
                index,
                path: self.segment_path(index),
            })
            .collect())
    }

    /// The sizes of every checkpoint kept in `checkpoints/`, ascending.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>> {
        let dir = self.checkpoints_dir();
        let mut sizes = Vec::new();
        for item in
            fs::read_dir(&dir).with_context(|| format!("failed to read `{}`", dir.display()))?
        {
            let item = item.with_context(|| format!("failed to read `{}`", dir.display()))?;
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.ends_with(".tmp") {
                continue;
            }
            match name.parse::<u64>() {
                Ok(size) if name.len() == 12 => sizes.push(size),
                _ => bail!(
                    "unexpected file `{}`: only checkpoints named by their 12-digit tree size belong there",
                    item.path().display()
                ),
            }
        }
        sizes.sort_unstable();
        Ok(sizes)
    }

    /// Reads the line of entry `seq` from its segment (for corrections that
    /// refer to an earlier entry).
    pub fn read_entry(&self, seq: u64) -> Result<Entry, String> {
        let path = self.segment_path(seq / SEGMENT_ENTRIES);
        let bytes =
            fs::read(&path).map_err(|e| format!("failed to read `{}`: {e}", path.display()))?;
        let wanted = (seq % SEGMENT_ENTRIES) as usize;
        entry_on_line(bytes.split(|&b| b == b'\n').nth(wanted), seq, &path)
    }
}

/// Entry `seq` from its line of the segment file `path` (`None`: the file
/// has no such line).
pub(crate) fn entry_on_line(line: Option<&[u8]>, seq: u64, path: &Path) -> Result<Entry, String> {
    let line = (line.filter(|line| !line.is_empty()))
        .ok_or_else(|| format!("no entry {seq} in the ledger"))?;
    Entry::from_line(line).map_err(|e| format!("entry {seq} in `{}`: {e}", path.display()))
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync,
/// rename, fsync of the directory. A crash leaves the old file or the new
/// one, never a mix.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let result = (|| -> std::io::Result<()> {
        let mut file = fault::create(&tmp)?;
        fault::write_all(&mut file, &tmp, bytes)?;
        fault::sync(&file, &tmp)?;
        fault::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    })();
    if result.is_err() {
        let _ = fault::remove_file(&tmp);
    }
    result.with_context(|| format!("failed to write `{}`", path.display()))
}

/// Fsyncs a directory so a created or renamed file inside it survives a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fault::sync_dir(dir)
}

/// Appends `bytes` to a segment file and fsyncs it.
pub fn append_and_sync(path: &Path, bytes: &[u8]) -> Result<()> {
    let created = !path.exists();
    let mut file =
        fault::open_append(path).with_context(|| format!("failed to open `{}`", path.display()))?;
    fault::write_all(&mut file, path, bytes)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    fault::sync(&file, path).with_context(|| format!("failed to sync `{}`", path.display()))?;
    if created {
        sync_dir(path.parent().unwrap_or(Path::new(".")))
            .with_context(|| format!("failed to sync the directory of `{}`", path.display()))?;
    }
    Ok(())
}
