//! The verified-state cache: what a full verification of the ledger up to a
//! signed checkpoint concluded, so the next `build` or `append` re-reads the
//! old entries only to prove they are the same bytes, and judges only the
//! new ones.
//!
//! The file (`.minhbach/cache/verified-state` in a portal) holds the `State`
//! after the checkpoint of size N, the checkpoint's root, a digest of every
//! checkpoint text up to N, the Merkle root of each segment's part of the
//! first N entries, and the SHA-256 of each full segment's bytes. It is keyed three ways, and any mismatch means the
//! cache is ignored, never trusted:
//!
//! - **the code**: the SHA-256 of the running executable (the invariants
//!   change with it) and this format's version;
//! - **the portal**: the ledger's origin and `allow_advances`;
//! - **the ledger**: the checkpoint of size N must still be kept with the
//!   same root, the checkpoint texts up to N must hash to the same digest,
//!   and each segment's entries below N must hash to the same root (or, for
//!   a full segment nobody reads, its bytes to the same digest: one pass of
//!   SHA-256 instead of a hash per entry and the tree) before any of them is
//!   used (`verify`). SHA-256 makes "same root" and "same digest" mean "same
//!   bytes", so the cached state is the state of exactly these entries.
//!
//! The cache wraps verification and verification knows nothing of it: it
//! takes a [`Resume`] — a judgement it re-hashes before trusting — from
//! wherever the caller kept one.
//!
//! The SHA-256 of each of its two parts catches a torn or damaged write. The cache
//! is as trusted as the executable and the portal's private folder beside
//! it: whoever can rewrite it can rewrite `public/` too. `minhbach verify`,
//! the auditor's command, never reads it.

use super::merkle::Hash;
use super::verify::{PendingState, Resume};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The first bytes of the file; the number is this format's version.
const MAGIC: &[u8] = b"minhbach verified-state 3\n";

/// The file's first frame (postcard): everything but the state, which is
/// the second frame. Each frame is its length (u64, little-endian), its
/// SHA-256 and its bytes, so the state is checked and decoded on a thread
/// of its own (`PendingState`) while the segments are re-hashed.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    code: Hash,
    origin: String,
    allow_advances: bool,
    size: u64,
    root: Hash,
    checkpoints: usize,
    checkpoints_digest: Hash,
    segment_roots: Vec<Hash>,
    segment_digests: Vec<Hash>,
}

/// Splits the next frame off `rest`: its bytes and the SHA-256 they should
/// have (not yet checked).
fn frame<'b>(rest: &mut &'b [u8]) -> Option<(&'b [u8], &'b [u8])> {
    let length = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
    let bytes = rest.get(40..40usize.checked_add(length)?)?;
    let checksum = &rest[8..40];
    *rest = &rest[40 + length..];
    Some((bytes, checksum))
}

fn push_frame(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(bytes));
    out.extend_from_slice(bytes);
}

/// What a cache is keyed by besides the ledger itself.
pub struct CacheKey<'a> {
    pub origin: &'a str,
    pub allow_advances: bool,
}

/// Reads the cache at `path` if it exists, is whole, and was written by this
/// executable for this portal; `None` otherwise (a cache only saves time).
pub fn load(path: &Path, key: &CacheKey) -> Option<Resume> {
    let bytes = std::fs::read(path).ok()?;
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let (head, checksum) = frame(&mut rest)?;
    if Sha256::digest(head).as_slice() != checksum {
        return None;
    }
    let stored: Stored = postcard::from_bytes(head).ok()?;
    let state_at = bytes.len() - rest.len();
    frame(&mut rest)?;
    let matches = rest.is_empty()
        && stored.code == crate::code::executable_hash().ok()?
        && stored.origin == key.origin
        && stored.allow_advances == key.allow_advances;
    matches.then(|| Resume {
        size: stored.size,
        root: stored.root,
        checkpoints: stored.checkpoints,
        checkpoints_digest: stored.checkpoints_digest,
        segment_roots: stored.segment_roots,
        segment_digests: stored.segment_digests,
        state: PendingState::decoding(move || {
            let (state, checksum) = frame(&mut &bytes[state_at..])?;
            (Sha256::digest(state).as_slice() == checksum).then_some(())?;
            postcard::from_bytes(state).ok()
        }),
    })
}

/// Writes the cache for a verified ledger (atomically: a temporary file
/// renamed over the old one; readers never see half a file).
pub fn store_cache(path: &Path, key: &CacheKey, verified: &super::Verified) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let stored = Stored {
        code: crate::code::executable_hash()?,
        origin: key.origin.to_string(),
        allow_advances: key.allow_advances,
        size: verified.checkpoint.size,
        root: verified.checkpoint.root,
        checkpoints: verified.checkpoints,
        checkpoints_digest: verified.checkpoints_digest,
        segment_roots: verified.segment_roots.clone(),
        segment_digests: verified.segment_digests.clone(),
    };
    let failed = "failed to encode the verified-state cache";
    let mut bytes = MAGIC.to_vec();
    push_frame(&mut bytes, &postcard::to_stdvec(&stored).context(failed)?);
    push_frame(
        &mut bytes,
        &postcard::to_stdvec(&verified.state).context(failed)?,
    );
    let dir = path.parent().context("the cache path has no parent")?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let temp = dir.join(format!(".verified-state-{}", std::process::id()));
    std::fs::write(&temp, &bytes)
        .with_context(|| format!("failed to write `{}`", temp.display()))?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        anyhow::anyhow!("failed to replace `{}`: {e}", path.display())
    })?;
    remove_leftovers(dir);
    Ok(())
}

/// Removes temporary files of writers killed before their rename. One still
/// being written by another process fails its rename, which costs that
/// process nothing but the cache.
fn remove_leftovers(dir: &Path) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in listing.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(".verified-state-")
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Verifies the ledger with the cache at `path` (none: a full verification)
/// and, when it is worth it (`worth_writing`), writes it anew. A cache that
/// cannot be written costs the next run time, nothing else.
pub fn verify_with_cache<'v>(
    store: &super::store::Store,
    settings: &super::LedgerSettings,
    path: Option<&Path>,
    options: super::VerifyOptions,
    visit: Option<&mut super::verify::Visit<'v>>,
) -> Result<super::Verified, super::VerifyError> {
    let Some(path) = path else {
        return super::verify::verify_visiting(store, &settings.origin, options, None, visit);
    };
    let key = CacheKey {
        origin: &settings.origin,
        allow_advances: settings.allow_advances,
    };
    let options = super::VerifyOptions {
        segment_roots: true,
        ..options
    };
    let cached = load(path, &key);
    let verified = super::verify::verify_visiting(store, &settings.origin, options, cached, visit)?;
    if worth_writing(verified.cached_entries, verified.checkpoint.size) {
        let _ = store_cache(path, &key, &verified);
    }
    Ok(verified)
}

/// Whether a cache that covered the first `cached` of `size` entries is
/// worth writing again: when it covered none (missing, stale or damaged),
/// or when a segment's worth of entries or more were judged past it.
/// Writing it serialises the whole state (282 MB at five million
/// donations, two seconds); judging again the few entries of the appends
/// since costs the next runs far less, until they add up to a segment.
fn worth_writing(cached: u64, size: u64) -> bool {
    let judged = size.saturating_sub(cached);
    (cached == 0 && judged > 0) || judged >= super::SEGMENT_ENTRIES
}

#[cfg(test)]
mod tests {
    use super::worth_writing;
    use crate::SEGMENT_ENTRIES;

    #[test]
    fn the_cache_is_written_again_when_missing_or_a_segment_behind() {
        assert!(worth_writing(0, 9), "none covered");
        assert!(!worth_writing(0, 0), "an empty ledger");
        assert!(!worth_writing(9, 9), "all covered");
        assert!(
            !worth_writing(9, 10),
            "one appended entry is judged again next time"
        );
        assert!(!worth_writing(9, 9 + SEGMENT_ENTRIES - 1));
        assert!(worth_writing(9, 9 + SEGMENT_ENTRIES));
    }
}
