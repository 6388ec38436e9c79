//! The identity of the running code, for caches whose meaning depends on
//! it (page fingerprints, the verified-state cache): the SHA-256 of the
//! executable, read once per process.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The SHA-256 of the running executable.
pub fn executable_hash() -> Result<[u8; 32]> {
    static HASH: OnceLock<Result<[u8; 32], String>> = OnceLock::new();
    HASH.get_or_init(|| {
        let hash = || -> Result<[u8; 32]> {
            let executable =
                std::env::current_exe().context("failed to locate the minhbach executable")?;
            // Streamed: a debug build is a few hundred megabytes.
            let mut hasher = Sha256::new();
            std::fs::File::open(&executable)
                .and_then(|mut file| std::io::copy(&mut file, &mut hasher))
                .with_context(|| format!("failed to read `{}`", executable.display()))?;
            Ok(hasher.finalize().into())
        };
        hash().map_err(|e| format!("{e:#}"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}
