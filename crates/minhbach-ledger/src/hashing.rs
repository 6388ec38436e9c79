//! A writer that hashes what it passes on: for files whose SHA-256 is
//! recorded as they are written (the verified-state cache, the site's
//! output files), so they are not read back to be hashed. And the frames
//! both caches are made of (the verified state's, the site's model state):
//! a length (u64, little-endian), the SHA-256 of the bytes, the bytes.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// A frame's header: its length and SHA-256.
pub const FRAME_HEAD: usize = 40;

/// Writes `bytes` as a frame.
pub fn write_frame(out: &mut (impl Write + ?Sized), bytes: &[u8]) -> std::io::Result<()> {
    write_hashed_frame(out, bytes, &Sha256::digest(bytes).into())
}

/// Writes `bytes`, whose SHA-256 the caller has made, as a frame.
pub fn write_hashed_frame(
    out: &mut (impl Write + ?Sized),
    bytes: &[u8],
    checksum: &[u8; 32],
) -> std::io::Result<()> {
    debug_assert_eq!(<[u8; 32]>::from(Sha256::digest(bytes)), *checksum);
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(checksum)?;
    out.write_all(bytes)
}

/// The file at `path`, read past its first bytes if they are `magic` (a
/// cache's format and version), at its first frame.
pub fn open_framed(path: &std::path::Path, magic: &[u8]) -> Option<std::fs::File> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut start = vec![0; magic.len()];
    file.read_exact(&mut start).ok()?;
    (start == magic).then_some(file)
}

/// The next frame's header: its length and SHA-256.
pub fn read_frame_head(reader: &mut impl Read) -> Option<(u64, [u8; 32])> {
    let mut head = [0; FRAME_HEAD];
    reader.read_exact(&mut head).ok()?;
    let length = u64::from_le_bytes(head[..8].try_into().ok()?);
    Some((length, head[8..].try_into().ok()?))
}

/// The next frame's bytes, if they are all there and hash to its SHA-256.
pub fn read_frame(reader: &mut impl Read) -> Option<Vec<u8>> {
    let (length, checksum) = read_frame_head(reader)?;
    let mut bytes = Vec::new();
    reader.take(length).read_to_end(&mut bytes).ok()?;
    let whole = bytes.len() as u64 == length && Sha256::digest(&bytes).as_slice() == checksum;
    whole.then_some(bytes)
}

pub struct HashingWriter<W> {
    out: W,
    hasher: Sha256,
    length: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(out: W) -> HashingWriter<W> {
        HashingWriter {
            out,
            hasher: Sha256::new(),
            length: 0,
        }
    }

    /// The writer, and the length and SHA-256 of what passed through it.
    pub fn finish(self) -> (W, u64, [u8; 32]) {
        (self.out, self.length, self.hasher.finalize().into())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.out.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        self.length += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
