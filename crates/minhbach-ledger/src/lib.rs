//! The signed append-only ledger: entries in canonical JSON Lines, an RFC 6962
//! Merkle tree over them, checkpoints signed as C2SP signed notes, the key
//! history, and the invariants checked on append and on verify.
//!
//! This crate is the contract the application's three consumers read — the
//! site, the importer and the officers' desk — through [`Ledger`],
//! [`entry::Entry`], [`State`], [`parse_input`] and [`published`]. It
//! depends on nothing of theirs (templates, Markdown, HTTP, spreadsheets,
//! image decoders): what it needs of them, it is given (a photo decoder in
//! [`InputContext::check_media`]).

mod append;
mod cache;
pub mod code;
pub mod entry;
mod fault;
pub mod hashing;
pub mod identity;
mod input;
pub mod merkle;
pub mod money;
pub mod note;
mod privacy;
pub mod published;
pub mod sized;
mod sorted_base;
mod state;
mod store;
pub mod tiles;
mod validate;
mod verify;

pub use append::{
    AppendError, AppendReport, AppendSession, LedgerSettings, RecoverReport, Refused,
};
pub use cache::decode_frame;
pub use input::{
    CheckMedia, InputContext, MAX_INPUT_LINE_BYTES, Pending, PendingMedia, parse_input,
};
pub use privacy::{Secret, hex};
pub use state::{FundTotals, KeyRecord, Settled, State, check_entry_fields};
pub use store::SEGMENT_ENTRIES;
pub use validate::{EntryError, parse_date};
pub use verify::{
    RECOVER_HINT, Verified, VerifyError, VerifyErrorKind, VerifyOptions, check_extends,
};

use std::path::{Path, PathBuf};

/// A ledger directory with the settings it is judged by.
#[derive(Clone, Debug)]
pub struct Ledger {
    store: store::Store,
    settings: LedgerSettings,
    /// The verified-state cache, if the caller keeps one (`with_cache`).
    cache: Option<PathBuf>,
}

impl Ledger {
    pub fn new(dir: &Path, settings: LedgerSettings) -> Ledger {
        Ledger {
            store: store::Store::new(dir),
            settings,
            cache: None,
        }
    }

    /// Keeps a verified-state cache at `path` (see `cache`): `append`,
    /// `begin_append` and `verify_cached` then re-hash the entries it covers
    /// instead of judging them again, and refresh it. `verify` never reads
    /// it.
    pub fn with_cache(mut self, path: PathBuf) -> Ledger {
        self.cache = Some(path);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.store.dir
    }

    pub fn media_dir(&self) -> PathBuf {
        self.store.media_dir()
    }

    /// Writes the genesis: entry 0 admits `admin` as administrator.
    pub fn create(
        &self,
        admin: &note::SigningKey,
        unit: &str,
        time: &str,
    ) -> Result<AppendReport, AppendError> {
        append::create(&self.store, &self.settings, admin, unit, time)
    }

    /// Appends a batch and signs one checkpoint, or appends nothing.
    pub fn append(
        &self,
        pending: Vec<Pending>,
        key: &note::SigningKey,
        time: &str,
    ) -> Result<AppendReport, AppendError> {
        append::append(
            &self.store,
            &self.settings,
            self.cache.as_deref(),
            pending,
            key,
            time,
        )
    }

    /// Starts an append: takes the exclusive lock and verifies the ledger
    /// once; push entries, then commit.
    pub fn begin_append<'a>(
        &'a self,
        key: &'a note::SigningKey,
        time: &str,
    ) -> Result<AppendSession<'a>, AppendError> {
        AppendSession::begin(
            &self.store,
            &self.settings,
            self.cache.as_deref(),
            key,
            time,
        )
    }

    /// Verifies every entry, checkpoint and signature, under a shared lock,
    /// never trusting the cache: this is the auditor's check.
    pub fn verify(&self, options: VerifyOptions) -> Result<Verified, VerifyError> {
        self.verify_inner(options, None, None)
    }

    /// `verify`, handing each checked entry and its line to `visit`.
    pub fn verify_visiting(
        &self,
        options: VerifyOptions,
        visit: &mut dyn FnMut(entry::Entry, &[u8]),
    ) -> Result<Verified, VerifyError> {
        self.verify_inner(options, None, Some(visit))
    }

    /// `verify_visiting` with the verified-state cache, if one is kept: the
    /// entries it covers are re-hashed and handed to `visit` but not judged
    /// again; the result is the same as without it.
    pub fn verify_cached(
        &self,
        options: VerifyOptions,
        visit: &mut dyn FnMut(entry::Entry, &[u8]),
    ) -> Result<Verified, VerifyError> {
        self.verify_inner(options, self.cache.as_deref(), Some(visit))
    }

    fn verify_inner<'v>(
        &self,
        options: VerifyOptions,
        cache: Option<&Path>,
        visit: Option<&mut verify::Visit<'v>>,
    ) -> Result<Verified, VerifyError> {
        let _lock = self.lock_shared()?;
        let options = VerifyOptions {
            allow_advances: self.settings.allow_advances,
            ..options
        };
        cache::verify_with_cache(&self.store, &self.settings, cache, options, visit)
    }

    /// The sizes of every checkpoint ever signed, ascending.
    pub fn checkpoint_sizes(&self) -> anyhow::Result<Vec<u64>> {
        self.store.checkpoint_sizes()
    }

    /// The checkpoint note kept for tree size `size`, exactly as stored, if
    /// one was signed at that size. Verification checks every kept
    /// checkpoint against the entries, so after it the same note at the
    /// same size means the same first `size` entries.
    pub fn kept_checkpoint(&self, size: u64) -> Option<String> {
        std::fs::read_to_string(self.store.checkpoint_history_path(size)).ok()
    }

    /// The file of entry segment `index` (entries `index·SEGMENT_ENTRIES`
    /// onwards): lets the site copy verified lines from the files instead of
    /// holding them all in memory.
    pub fn segment_path(&self, index: u64) -> PathBuf {
        self.store.segment_path(index)
    }

    fn lock_shared(&self) -> Result<store::LedgerLock, VerifyError> {
        self.store.lock_shared().map_err(|e| VerifyError {
            kind: VerifyErrorKind::Io,
            seq: None,
            file: Some(self.store.dir.clone()),
            line: None,
            message: format!("{e:#}"),
            hint: None,
        })
    }

    /// Proves the verified ledger extends an older checkpoint; returns the
    /// consistency proof.
    pub fn check_extends(
        &self,
        verified: &Verified,
        old_note: &str,
    ) -> Result<Vec<merkle::Hash>, VerifyError> {
        verify::check_extends(verified, old_note, &self.settings.origin)
    }

    /// Repairs an interrupted append; unsigned lines are saved to `rescue`.
    pub fn recover(&self, rescue: &Path) -> anyhow::Result<RecoverReport> {
        append::recover(&self.store, rescue)
    }

    /// Reads entry `seq`.
    pub fn read_entry(&self, seq: u64) -> Result<entry::Entry, String> {
        self.store.read_entry(seq)
    }

    /// Calls `visit` with entries `seqs` (ascending) in that order, without
    /// verifying: only the segments that hold them are read, and each
    /// segment's wanted lines are decoded in parallel.
    pub fn for_each_entry_of(
        &self,
        seqs: &[u64],
        visit: &mut dyn FnMut(entry::Entry) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        use rayon::prelude::*;
        let mut rest = seqs;
        for segment in self.store.segments()? {
            let first = segment.index * SEGMENT_ENTRIES;
            let here = rest.partition_point(|&seq| seq < first + SEGMENT_ENTRIES);
            let (wanted, after) = rest.split_at(here);
            rest = after;
            if wanted.is_empty() {
                continue;
            }
            let bytes = std::fs::read(&segment.path)
                .map_err(|e| anyhow::anyhow!("failed to read `{}`: {e}", segment.path.display()))?;
            let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            let entries: Vec<anyhow::Result<entry::Entry>> = wanted
                .par_iter()
                .map(|&seq| {
                    // Below `first` only if a segment file is missing.
                    let line = (seq.checked_sub(first))
                        .and_then(|offset| lines.get(offset as usize))
                        .copied();
                    store::entry_on_line(line, seq, &segment.path).map_err(anyhow::Error::msg)
                })
                .collect();
            for entry in entries {
                visit(entry?)?;
            }
        }
        match rest.first() {
            Some(seq) => Err(anyhow::anyhow!("no entry {seq} in the ledger")),
            None => Ok(()),
        }
    }

    /// Calls `visit` with every entry in order, without verifying (for `log`
    /// and `show`, after a verify, or for the site).
    pub fn for_each_entry(
        &self,
        visit: &mut dyn FnMut(entry::Entry) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        for segment in self.store.segments()? {
            let bytes = std::fs::read(&segment.path)
                .map_err(|e| anyhow::anyhow!("failed to read `{}`: {e}", segment.path.display()))?;
            for (offset, line) in bytes
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .enumerate()
            {
                let entry = entry::Entry::from_line(line).map_err(|e| {
                    anyhow::anyhow!("`{}` line {}: {e}", segment.path.display(), offset + 1)
                })?;
                visit(entry)?;
            }
        }
        Ok(())
    }
}
