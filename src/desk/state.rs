//! The state every handler shares (`State<AppState>`): the portal, its
//! ledger, the officer's key, the draft and the templates.

use super::draft::Draft;
use super::security::Guard;
use crate::ledger::note::SigningKey;
use crate::ledger::{Ledger, Secret};
use crate::portal::Portal;
use std::sync::{Arc, Mutex};

/// Everything a handler may use.
pub struct Desk {
    pub portal: Portal,
    pub ledger: Ledger,
    pub key: SigningKey,
    pub secret: Option<Secret>,
    pub draft: Draft,
    pub templates: tera::Tera,
    /// The site as the public will see it, built under `/site/` into a
    /// private temporary folder, and the checkpoint size it was built at.
    pub preview: Mutex<Option<u64>>,
    pub preview_dir: tempfile::TempDir,
}

pub struct Shared {
    pub desk: Desk,
    /// Shared with the security layers, which need nothing else.
    pub guard: Arc<Guard>,
}

pub type AppState = Arc<Shared>;
