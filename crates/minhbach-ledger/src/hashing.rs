//! A writer that hashes what it passes on: for files whose SHA-256 is
//! recorded as they are written (the verified-state cache, the site's
//! output files), so they are not read back to be hashed. And the frames
//! both caches are made of (the verified state's, the site's model state):
//! a length (u64, little-endian), the SHA-256 of the bytes, the bytes.

use sha2::{Digest, Sha256};
use std::io::Write;

/// A frame's header: its length and SHA-256.
pub const FRAME_HEAD: usize = 40;

/// Writes `bytes` as a frame.
pub fn write_frame(out: &mut (impl Write + ?Sized), bytes: &[u8]) -> std::io::Result<()> {
    out.write_all(&(bytes.len() as u64).to_le_bytes())?;
    out.write_all(&Sha256::digest(bytes))?;
    out.write_all(bytes)
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
