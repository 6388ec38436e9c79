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
//! - **the code**: the running executable's identity (`code`) (the invariants
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

use super::hashing::{
    FRAME_HEAD, HashingWriter, open_framed, read_frame, read_frame_head, write_frame,
};
use super::merkle::Hash;
use super::verify::{PendingState, Resume};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The first bytes of the file; the number is this format's version.
const MAGIC: &[u8] = b"minhbach verified-state 6\n";

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

/// Writes `value` as the frame at the end of `file` (positioned there),
/// encoded as it is written rather than whole first; the header is filled
/// in once its length and SHA-256 are known.
fn write_streamed_frame(
    mut file: std::fs::File,
    value: &impl serde::Serialize,
) -> anyhow::Result<std::fs::File> {
    use std::io::{Seek, SeekFrom};
    let head_at = file.stream_position()?;
    file.write_all(&[0; FRAME_HEAD])?;
    let mut out = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    postcard::to_io(value, &mut out)?;
    let (out, length, digest) = out.finish();
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(head_at))?;
    file.write_all(&length.to_le_bytes())?;
    file.write_all(&digest)?;
    Ok(file)
}

/// What a cache is keyed by besides the ledger itself.
pub struct CacheKey<'a> {
    pub origin: &'a str,
    pub allow_advances: bool,
}

/// Reads the cache at `path` if it exists, is whole, and was written by this
/// executable for this portal; `None` otherwise (a cache only saves time).
/// The state is decoded on a thread of its own as its frame is read
/// (`FrameReader`), not from the whole file read first.
pub fn load(path: &Path, key: &CacheKey) -> Option<Resume> {
    let mut file = open_framed(path, MAGIC)?;
    let head = read_frame(&mut file)?;
    let stored: Stored = postcard::from_bytes(&head).ok()?;
    let (length, checksum) = read_frame_head(&mut file)?;
    let state_at = (MAGIC.len() + 2 * FRAME_HEAD) as u64 + head.len() as u64;
    let matches = file.metadata().ok()?.len() == state_at.checked_add(length)?
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
        state: PendingState::decoding(move || FrameReader::new(file, length).decode(&checksum)),
    })
}

/// A frame read a block at a time as postcard decodes it, each block hashed
/// on the way: read whole first, the state's frame (a quarter-gigabyte at
/// national scale) sat in memory beside the state decoded from it. What is
/// decoded is used only if the bytes hash to the frame's SHA-256 and were
/// all read.
struct FrameReader<R> {
    reader: R,
    /// Bytes of the frame not yet read.
    unread: u64,
    block: Vec<u8>,
    /// Where decoding is in `block`.
    at: usize,
    /// A take that spans blocks, copied.
    scratch: Vec<u8>,
    hasher: Sha256,
}

/// Decodes a postcard value from the next `length` bytes of `reader` as
/// they are read, a block at a time, each hashed on the way (for the
/// site's model cache as for this one's state): `None` unless they decode
/// to one value that takes them all and they hash to `checksum`.
pub fn decode_frame<T: serde::de::DeserializeOwned>(
    reader: impl Read,
    length: u64,
    checksum: &[u8; 32],
) -> Option<T> {
    FrameReader::new(reader, length).decode(checksum)
}

impl<R: Read> FrameReader<R> {
    const BLOCK: usize = 1 << 20;

    fn new(reader: R, length: u64) -> FrameReader<R> {
        FrameReader {
            reader,
            unread: length,
            block: Vec::with_capacity(Self::BLOCK),
            at: 0,
            scratch: Vec::new(),
            hasher: Sha256::new(),
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(self, checksum: &[u8; 32]) -> Option<T> {
        let mut decoder = postcard::Deserializer::from_flavor(self);
        let value = T::deserialize(&mut decoder).ok()?;
        let (whole, digest) = decoder.finalize().ok()?;
        (whole && digest == *checksum).then_some(value)
    }

    /// The next block; an error at the frame's end.
    fn refill(&mut self) -> postcard::Result<()> {
        let next = self.unread.min(Self::BLOCK as u64) as usize;
        if next == 0 {
            return Err(postcard::Error::DeserializeUnexpectedEnd);
        }
        self.block.resize(next, 0);
        self.reader
            .read_exact(&mut self.block)
            .map_err(|_| postcard::Error::DeserializeUnexpectedEnd)?;
        self.hasher.update(&self.block);
        self.unread -= next as u64;
        self.at = 0;
        Ok(())
    }
}

impl<'de, R: Read + 'de> postcard::de_flavors::Flavor<'de> for FrameReader<R> {
    /// Whether the frame was read to its end, and its SHA-256.
    type Remainder = (bool, [u8; 32]);
    type Source = ();

    fn pop(&mut self) -> postcard::Result<u8> {
        if self.at == self.block.len() {
            self.refill()?;
        }
        self.at += 1;
        Ok(self.block[self.at - 1])
    }

    /// The bytes left, for postcard's bound on a sequence's length.
    fn size_hint(&self) -> Option<usize> {
        usize::try_from(self.unread)
            .ok()?
            .checked_add(self.block.len() - self.at)
    }

    /// Borrowing from the frame is not possible: nothing in `State` does.
    fn try_take_n(&mut self, _: usize) -> postcard::Result<&'de [u8]> {
        Err(postcard::Error::DeserializeUnexpectedEnd)
    }

    fn try_take_n_temp<'a>(&'a mut self, count: usize) -> postcard::Result<&'a [u8]>
    where
        'de: 'a,
    {
        if self.block.len() - self.at >= count {
            self.at += count;
            return Ok(&self.block[self.at - count..self.at]);
        }
        if count > self.size_hint().unwrap_or(usize::MAX) {
            return Err(postcard::Error::DeserializeUnexpectedEnd);
        }
        self.scratch.clear();
        while self.scratch.len() < count {
            if self.at == self.block.len() {
                self.refill()?;
            }
            let take = (count - self.scratch.len()).min(self.block.len() - self.at);
            self.scratch
                .extend_from_slice(&self.block[self.at..self.at + take]);
            self.at += take;
        }
        Ok(&self.scratch)
    }

    fn finalize(self) -> postcard::Result<(bool, [u8; 32])> {
        let whole = self.unread == 0 && self.at == self.block.len();
        Ok((whole, self.hasher.finalize().into()))
    }
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
    let head = postcard::to_stdvec(&stored).context(failed)?;
    let dir = path.parent().context("the cache path has no parent")?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let temp = dir.join(format!(".verified-state-{}", std::process::id()));
    let written = (|| -> anyhow::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(MAGIC)?;
        write_frame(&mut file, &head)?;
        write_streamed_frame(file, &verified.state).context(failed)?;
        Ok(())
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error.context(format!("failed to write `{}`", temp.display())));
    }
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
/// Writing it serialises the whole state (a few dozen bytes per entry);
/// judging again the few entries of the appends since costs the next runs
/// far less, until they add up to a segment.
fn worth_writing(cached: u64, size: u64) -> bool {
    let judged = size.saturating_sub(cached);
    (cached == 0 && judged > 0) || judged >= super::SEGMENT_ENTRIES
}

#[cfg(test)]
mod tests {
    use super::{FrameReader, worth_writing};
    use crate::SEGMENT_ENTRIES;
    use sha2::{Digest, Sha256};

    /// A frame decoded as it is read gives the value encoded, strings and
    /// numbers that span its blocks included, and nothing when its bytes do
    /// not hash to the checksum or it is not read to its end.
    #[test]
    fn a_frame_decodes_as_read_and_only_whole_and_unchanged() {
        let value: Vec<(u64, String)> = (0..60_000u64)
            .map(|n| (n * 1_000_003, "ngân hàng ".repeat((n % 7) as usize)))
            .collect();
        let bytes = postcard::to_stdvec(&value).unwrap();
        assert!(bytes.len() > 2 * FrameReader::<&[u8]>::BLOCK);
        let checksum: [u8; 32] = Sha256::digest(&bytes).into();
        let decode = |bytes: &[u8], length: u64, checksum: &[u8; 32]| {
            FrameReader::new(bytes, length).decode::<Vec<(u64, String)>>(checksum)
        };
        assert_eq!(decode(&bytes, bytes.len() as u64, &checksum), Some(value));
        assert_eq!(decode(&bytes, bytes.len() as u64, &[0; 32]), None);
        let mut damaged = bytes.clone();
        damaged[FrameReader::<&[u8]>::BLOCK + 5] ^= 1;
        assert_eq!(decode(&damaged, bytes.len() as u64, &checksum), None);
        let mut longer = bytes.clone();
        longer.push(0);
        let longer_checksum: [u8; 32] = Sha256::digest(&longer).into();
        assert_eq!(
            decode(&longer, longer.len() as u64, &longer_checksum),
            None,
            "a byte left over"
        );
        assert_eq!(
            decode(&bytes[..bytes.len() - 1], bytes.len() as u64, &checksum),
            None
        );
    }

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
