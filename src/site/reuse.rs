//! What a rebuild may reuse of the previous build's output, and the one
//! rule that decides it (ARCHITECTURE.md, "What a rebuild trusts").
//!
//! A build that writes its output leaves beside it, per kind of file it can
//! extend, a small state file saying what made it ([`Maker`]) and what it
//! wrote: the lookup index (`lookup::extend`) and the append-only open data
//! (the ledger download and the CSV tables, `parts::append_split`). The
//! next build extends those files instead of writing them again only if
//! the same executable and config made them and the ledger it verified
//! begins with exactly the entries they were made from. Each state file is
//! removed before the output changes and written after the merge, so an
//! interrupted build leaves none that describes an output it no longer is.

use super::ledger_files::LedgerData;
use super::output::{self, Sink};
use crate::portal::Portal;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::path::Path;

/// What made a build's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maker {
    /// The executable's identity (`code::executable_hash`), hex.
    pub code: String,
    /// The SHA-256 of the config (as parsed), hex.
    pub config: String,
    /// The checkpoint the output shows: its size, and its note as kept in
    /// the ledger.
    pub size: u64,
    pub checkpoint: String,
}

impl Maker {
    /// This build's maker: the checkpoint's note as verification read it
    /// from the kept checkpoints. `None` if the executable cannot be
    /// hashed (then no state is written and the next build writes
    /// everything).
    pub fn of(portal: &Portal, data: &LedgerData) -> Option<Maker> {
        let (code, config) = code_and_config(portal)?;
        Some(Maker {
            code,
            config,
            size: data.verified.checkpoint.size,
            checkpoint: data.verified.checkpoint_note.clone(),
        })
    }

    /// Whether `previous` may still be extended, as far as can be told
    /// before the ledger is verified: the same executable and config, and
    /// its checkpoint still kept with the same note. `may_extend` decides
    /// after.
    pub fn still_current(previous: &Maker, portal: &Portal) -> bool {
        code_and_config(portal)
            .is_some_and(|(code, config)| previous.made_by(&code, &config, portal))
    }

    /// Whether an output `previous` made may be extended by this build:
    /// the same executable and config, and the checkpoint it showed still
    /// kept with the same note. The verification before checks every kept
    /// checkpoint against the entries, so the ledger now begins with
    /// exactly the entries that output was made from.
    pub fn may_extend(&self, previous: &Maker, portal: &Portal) -> bool {
        previous.size <= self.size && previous.made_by(&self.code, &self.config, portal)
    }

    /// Made by this executable (`code`) and config, from a checkpoint the
    /// ledger still keeps with the same note.
    fn made_by(&self, code: &str, config: &str, portal: &Portal) -> bool {
        self.code == code
            && self.config == config
            && portal.ledger().kept_checkpoint(self.size).as_ref() == Some(&self.checkpoint)
    }
}

/// The executable's identity and the config's SHA-256, hex.
fn code_and_config(portal: &Portal) -> Option<(String, String)> {
    let config = serde_json::to_vec(&portal.config).ok()?;
    Some((
        crate::ledger::hex(&crate::code::executable_hash().ok()?),
        crate::ledger::hex(&sha2::Sha256::digest(&config)),
    ))
}

/// The state file `name` the previous build left, if it reads as a `T`.
pub fn previous<T: for<'de> Deserialize<'de>>(sink: &dyn Sink, name: &str) -> Option<T> {
    serde_json::from_slice(&sink.previous_state(name)?).ok()
}

/// The state files this build leaves, by name.
pub type States = Vec<(&'static str, StateFile)>;

/// A state file's bytes, or the state already written beside the output.
#[derive(Debug)]
pub enum StateFile {
    Bytes(Vec<u8>),
    Written(output::WrittenState),
}

/// Every state file a build may leave.
pub const NAMES: [&str; 4] = [
    super::lookup::extend::STATE_FILE,
    OPEN_DATA_STATE,
    super::model::cache::STATE_FILE,
    HOUSEHOLD_PAGES_STATE,
];

/// The open data's state file.
pub const OPEN_DATA_STATE: &str = "opendata-state";

/// What every household page of the output was made from
/// ([`HouseholdPages`]).
pub const HOUSEHOLD_PAGES_STATE: &str = "household-pages-state";

/// The digest of the site-wide inputs and of every household page's own
/// (`pages::Pages::households_digest`) the last build rendered or kept its
/// household pages from. A build that finds the same digest keeps each
/// household page still as written without fingerprinting it: its
/// fingerprint would be the one the manifest records.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdPages {
    pub digest: String,
}

/// Removes every state file beside `output` (before it changes).
pub fn forget(output: &Path) -> Result<()> {
    for name in NAMES {
        output::forget_state(output, name)?;
    }
    Ok(())
}

/// Writes this build's state files beside `output` (after the merge).
/// One that cannot be written costs the next build time, nothing else.
pub fn store(output: &Path, states: States) {
    for (name, file) in states {
        let _ = match file {
            StateFile::Bytes(bytes) => output::write_state(output, name, &bytes),
            StateFile::Written(written) => written.commit(),
        };
    }
}

/// A state serialised for `States`.
pub fn state<T: Serialize>(name: &'static str, value: &T) -> (&'static str, StateFile) {
    let bytes = serde_json::to_vec(value).expect("a state serialises");
    (name, StateFile::Bytes(bytes))
}
