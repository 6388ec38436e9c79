//! The identity of the running code, for caches whose meaning depends on
//! it (page fingerprints, the verified-state cache, the model cache): read
//! once per process.
//!
//! On Unix it is the executable file's identity, not its bytes: its device,
//! inode, length, and modification and change times to the nanosecond (as
//! ccache's default `compiler_check = mtime` does, with the inode and the
//! change time besides). Installing or building another executable gives
//! it a new inode or change time, so the caches of one build of minhbach
//! are never read by another; hashing the file's bytes instead (the whole
//! executable) cost every build and every `append` its time. A copy
//! of the same executable is another identity: its first build is a cold one.

use anyhow::{Context as _, Result};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The identity of the running executable, as a SHA-256.
pub fn executable_hash() -> Result<[u8; 32]> {
    static HASH: OnceLock<Result<[u8; 32], String>> = OnceLock::new();
    HASH.get_or_init(|| identity().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// The running executable, even if its path has been replaced since it
/// started (Linux's `/proc/self/exe`), else its path.
fn open_executable() -> Result<std::fs::File> {
    if let Ok(file) = std::fs::File::open("/proc/self/exe") {
        return Ok(file);
    }
    let executable = std::env::current_exe().context("failed to locate the minhbach executable")?;
    std::fs::File::open(&executable)
        .with_context(|| format!("failed to read `{}`", executable.display()))
}

#[cfg(unix)]
fn identity() -> Result<[u8; 32]> {
    use std::os::unix::fs::MetadataExt;
    let meta = open_executable()?
        .metadata()
        .context("failed to read the minhbach executable's metadata")?;
    let mut hasher = Sha256::new();
    hasher.update(b"minhbach executable identity 1\n");
    for number in [meta.dev(), meta.ino(), meta.size()] {
        hasher.update(number.to_le_bytes());
    }
    for (seconds, nanoseconds) in [
        (meta.mtime(), meta.mtime_nsec()),
        (meta.ctime(), meta.ctime_nsec()),
    ] {
        hasher.update(seconds.to_le_bytes());
        hasher.update(nanoseconds.to_le_bytes());
    }
    Ok(hasher.finalize().into())
}

/// Elsewhere, the executable's bytes (streamed: a debug build is a few
/// hundred megabytes).
#[cfg(not(unix))]
fn identity() -> Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut open_executable()?, &mut hasher)
        .context("failed to read the minhbach executable")?;
    Ok(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    /// The same process has one identity; it names this executable (a
    /// change of its file's time would change it: not done here, the
    /// test binary is shared).
    #[test]
    fn the_identity_is_stable_within_a_process() {
        let first = super::executable_hash().unwrap();
        assert_eq!(super::executable_hash().unwrap(), first);
        assert_eq!(super::identity().unwrap(), first);
        assert_ne!(first, [0; 32]);
    }
}
