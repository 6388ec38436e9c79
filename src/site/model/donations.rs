//! The donation rows: millions at national scale, and only ever appended
//! to (a correction makes every row again, `corrects_earlier`).
//!
//! They are held in full chunks of `CHUNK` rows and the rows after the last
//! full one (the tail). A chunk the model cache holds (`cache`) is named by
//! the SHA-256 of its bytes there, and a rebuild reads its rows only when a
//! step needs them: the lookup index's extension and the newest pages need
//! the tail, a kept page needs nothing (its fingerprint names the chunks
//! its rows are in, `Donations::identity`), so the rows of pages that did
//! not change are neither read nor held. A chunk that cannot be read when
//! needed (removed or damaged since) fails the step with `NeedsEveryEntry`,
//! and the build runs again making every row from the ledger.

use super::DonationRow;
use crate::site::NeedsEveryEntry;
use anyhow::Result;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Donation rows per chunk (a few in unit tests, so they cross several).
#[cfg(not(test))]
const CHUNK: usize = 65_536;
#[cfg(test)]
const CHUNK: usize = 4;

/// The chunk size in force: `CHUNK`, or `MINHBACH_MODEL_CHUNK_ROWS` (for
/// integration tests, which cannot afford 65,536 donations; like
/// `MINHBACH_PART_BYTES`). The model cache records it and is not read by a
/// build with another.
pub fn chunk_rows() -> usize {
    static ROWS: OnceLock<usize> = OnceLock::new();
    *ROWS.get_or_init(|| {
        std::env::var("MINHBACH_MODEL_CHUNK_ROWS")
            .ok()
            .and_then(|value| value.parse().ok())
            .filter(|&rows| rows > 0)
            .unwrap_or(CHUNK)
    })
}

#[derive(Default)]
pub struct Donations {
    chunks: Vec<Chunk>,
    tail: Vec<DonationRow>,
}

/// `CHUNK` rows.
pub struct Chunk {
    /// The `seq` of its first row: finds a row by `seq` without reading
    /// the chunk's rows.
    first_seq: u64,
    /// The SHA-256 (hex) of its bytes in the model cache, which is its
    /// file's name there: set when read from the cache or kept in it.
    name: OnceLock<String>,
    /// Its rows, once made or read; `Err` if its file could not be read
    /// or is not what its name says.
    rows: OnceLock<Result<Vec<DonationRow>, ()>>,
    /// Its file in the model cache, for rows not read yet.
    file: Option<PathBuf>,
}

impl Chunk {
    /// A chunk of the model cache, read on first use.
    pub fn cached(name: String, first_seq: u64, file: PathBuf) -> Chunk {
        Chunk {
            first_seq,
            name: OnceLock::from(name),
            rows: OnceLock::new(),
            file: Some(file),
        }
    }

    /// Whether its rows are held (made by this build, or read).
    pub fn is_read(&self) -> bool {
        self.rows.get().is_some()
    }

    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    pub fn name(&self) -> Option<&str> {
        self.name.get().map(String::as_str)
    }

    /// Names a chunk made by this build once the cache holds it.
    pub fn set_name(&self, name: String) {
        let _ = self.name.set(name);
    }

    /// Its rows, read from its file on first use.
    pub fn rows(&self) -> Result<&[DonationRow]> {
        let rows = self.rows.get_or_init(|| {
            let (Some(file), Some(name)) = (&self.file, self.name.get()) else {
                return Err(());
            };
            let bytes = std::fs::read(file).map_err(|_| ())?;
            if crate::ledger::hex(&Sha256::digest(&bytes)) != *name {
                return Err(());
            }
            let rows: Vec<DonationRow> = postcard::from_bytes(&bytes).map_err(|_| ())?;
            let in_order =
                rows.len() == chunk_rows() && rows.first().map(|r| r.seq) == Some(self.first_seq);
            in_order.then_some(rows).ok_or(())
        });
        match rows {
            Ok(rows) => Ok(rows),
            Err(()) => Err(NeedsEveryEntry.into()),
        }
    }
}

impl std::fmt::Debug for Donations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Donations")
            .field("chunks", &self.chunks.len())
            .field("tail", &self.tail.len())
            .finish()
    }
}

impl Donations {
    /// The model cache's chunks and the rows after them.
    pub fn from_parts(chunks: Vec<Chunk>, tail: Vec<DonationRow>) -> Donations {
        Donations { chunks, tail }
    }

    pub fn len(&self) -> usize {
        self.chunks.len() * chunk_rows() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }

    /// Of the chunks the model cache holds, how many were read, and how
    /// many there are.
    pub fn cached_read(&self) -> (usize, usize) {
        let cached = self.chunks.iter().filter(|chunk| chunk.file.is_some());
        let read = cached.clone().filter(|chunk| chunk.is_read()).count();
        (read, cached.count())
    }

    /// The rows after the last full chunk.
    pub fn tail(&self) -> &[DonationRow] {
        &self.tail
    }

    /// Room for `additional` rows (at most what the tail takes before it
    /// becomes a chunk).
    pub fn reserve(&mut self, additional: usize) {
        self.tail
            .reserve(additional.min(chunk_rows().saturating_sub(self.tail.len())));
    }

    pub fn push(&mut self, row: DonationRow) {
        self.tail.push(row);
        if self.tail.len() == chunk_rows() {
            let rows = std::mem::take(&mut self.tail);
            self.chunks.push(Chunk {
                first_seq: rows[0].seq,
                name: OnceLock::new(),
                rows: OnceLock::from(Ok(rows)),
                file: None,
            });
        }
    }

    /// The rows numbered `range` (clamped to the rows there are), reading
    /// the chunks they are in.
    pub fn range(&self, range: Range<usize>) -> Result<Vec<&DonationRow>> {
        let end = range.end.min(self.len());
        let mut rows = Vec::with_capacity(end.saturating_sub(range.start));
        let mut at = range.start;
        while at < end {
            let (slice, offset) = self.slice_at(at)?;
            let take = (end - at).min(slice.len() - offset);
            rows.extend(&slice[offset..offset + take]);
            at += take;
        }
        Ok(rows)
    }

    /// The chunk (or tail) holding row `index`, and where in it.
    fn slice_at(&self, index: usize) -> Result<(&[DonationRow], usize)> {
        let chunk = index / chunk_rows();
        match self.chunks.get(chunk) {
            Some(full) => Ok((full.rows()?, index % chunk_rows())),
            None => Ok((&self.tail, index - self.chunks.len() * chunk_rows())),
        }
    }

    pub fn get(&self, index: usize) -> Result<Option<&DonationRow>> {
        if index >= self.len() {
            return Ok(None);
        }
        let (slice, offset) = self.slice_at(index)?;
        Ok(slice.get(offset))
    }

    /// Every row, each chunk read (in parallel) if it is not yet.
    pub fn all(&self) -> Result<Vec<&DonationRow>> {
        let chunks: Vec<&[DonationRow]> = self
            .chunks
            .par_iter()
            .map(Chunk::rows)
            .collect::<Result<_>>()?;
        let mut rows = Vec::with_capacity(self.len());
        for chunk in chunks {
            rows.extend(chunk);
        }
        rows.extend(&self.tail);
        Ok(rows)
    }

    /// The row of entry `seq`, if it is a donation.
    pub fn find_seq(&self, seq: u64) -> Result<Option<&DonationRow>> {
        let in_chunk = self.chunks.partition_point(|chunk| chunk.first_seq <= seq);
        let slice = match self.tail.first() {
            Some(first) if first.seq <= seq => &self.tail[..],
            _ if in_chunk == 0 => return Ok(None),
            _ => self.chunks[in_chunk - 1].rows()?,
        };
        Ok(slice
            .binary_search_by_key(&seq, |row| row.seq)
            .ok()
            .map(|at| &slice[at]))
    }

    /// What determines the rows numbered `range` without reading a chunk:
    /// the names of the chunks its rows in chunks are in, and its rows in
    /// the tail (`None` for no rows, or a row in a chunk the cache does not
    /// hold). A page fingerprinted by it is kept while those chunks and
    /// rows are, since a chunk's name is the hash of its rows' bytes; the
    /// page that spans the last chunk and the tail is no exception.
    pub fn identity(&self, range: Range<usize>) -> Option<(Vec<&str>, &[DonationRow])> {
        let sealed = self.chunks.len() * chunk_rows();
        let end = range.end.min(self.len());
        if range.start >= end {
            return None;
        }
        let names = match range.start < sealed {
            true => self.chunks[range.start / chunk_rows()..end.min(sealed).div_ceil(chunk_rows())]
                .iter()
                .map(Chunk::name)
                .collect::<Option<_>>()?,
            false => Vec::new(),
        };
        Some((
            names,
            &self.tail[range.start.max(sealed) - sealed..end.max(sealed) - sealed],
        ))
    }
}
