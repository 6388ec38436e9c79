//! The verified ledger as the site reads it, and the files copied from it:
//! the public download (`du-lieu/so-cai.jsonl`) and the public log under
//! `ledger/` (C2SP tlog-tiles).
//!
//! Both are the exact entry lines. They are copied from the segment files,
//! byte range by byte range, rather than kept in memory while the ledger is
//! verified (hundreds of megabytes at national scale). Only the bytes the
//! verified entries take are copied, so an append during the build (which
//! only adds lines) changes nothing; a segment found shorter than verified
//! stops the build.

use super::Written;
use super::output::{FileHash, Sink};
use super::parts::{self, Appendable, Download};
use super::routes;
use crate::ledger::entry::Entry;
use crate::ledger::published::PublishedKeys;
use crate::ledger::tiles::{self, TILE_WIDTH};
use crate::ledger::{SEGMENT_ENTRIES, Verified, VerifyOptions};
use crate::portal::Portal;
use anyhow::{Context as _, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

/// The verified ledger: its entries from `first` on, where its lines are
/// stored, and the sizes of every checkpoint ever signed.
pub struct LedgerData {
    /// The entries from number `first` on, one `Vec` per segment file
    /// (empty for a segment wholly below `first`), so the model can free
    /// each segment's entries as it turns them into rows: held whole, they
    /// were the build's peak.
    pub entries: Vec<Vec<Entry>>,
    /// The first entry held: entries below it were verified (re-hashed
    /// against the verified-state cache, or judged) but not decoded, as
    /// this build has what it made of them (`reuse`).
    pub first: u64,
    pub verified: Verified,
    /// Each segment file and how many of its bytes the verified entries
    /// take.
    segments: Vec<(PathBuf, u64)>,
    checkpoint_sizes: Vec<u64>,
}

impl LedgerData {
    /// Verifies the ledger (with the verified-state cache) and reads its
    /// entries from number `first` on.
    pub fn read(portal: &Portal, first: u64) -> Result<LedgerData> {
        let ledger = portal.ledger();
        // Sized up front: growing by doubling copies and touches twice the
        // fresh memory (the kernel zeroes each page).
        let count = ledger.checkpoint_sizes()?.last().copied().unwrap_or(0);
        let mut entries: Vec<Vec<Entry>> = Vec::new();
        let options = VerifyOptions {
            keep_leaves: true,
            visit_from: first,
            ..VerifyOptions::default()
        };
        let verified = ledger
            .verify_cached(options, &mut |entry: Entry, _line: &[u8]| {
                let index = (entry.seq / SEGMENT_ENTRIES) as usize;
                while entries.len() <= index {
                    let start = entries.len() as u64 * SEGMENT_ENTRIES;
                    let left = count.saturating_sub(start.max(entry.seq));
                    let held = if entries.len() == index {
                        left.clamp(1, SEGMENT_ENTRIES) as usize
                    } else {
                        0
                    };
                    entries.push(Vec::with_capacity(held));
                }
                entries[index].push(entry);
            })
            .map_err(|e| anyhow!("the ledger does not verify, so nothing is published: {e}"))?;
        entries.resize_with(verified.segment_bytes.len(), Vec::new);
        let segments = verified
            .segment_bytes
            .iter()
            .enumerate()
            .map(|(index, &bytes)| (ledger.segment_path(index as u64), bytes))
            .collect();
        // Read after verifying, without the lock: an append meanwhile may
        // have signed a newer checkpoint, which this build does not show.
        let verified_size = verified.checkpoint.size;
        let mut checkpoint_sizes = ledger.checkpoint_sizes()?;
        checkpoint_sizes.retain(|&size| size <= verified_size);
        Ok(LedgerData {
            entries,
            first: first.min(verified_size),
            verified,
            segments,
            checkpoint_sizes,
        })
    }

    /// The size of the download: every verified line with its newline.
    pub fn download_bytes(&self) -> u64 {
        self.segments.iter().map(|(_, bytes)| bytes).sum()
    }

    /// Writes the download, streamed from the segment files: appended to
    /// the previous build's (`previous`, when the ledger extends what it
    /// was made from), else kept from the last build, unread, when the
    /// checkpoint it was copied at is the same (the root commits to every
    /// line), else written whole. A download larger than a part
    /// (`parts::part_bytes`, 25 MiB) is written in parts. Returns it, and
    /// what the next build needs to append to it (not known when kept).
    pub(super) fn write_download(
        &self,
        sink: &dyn Sink,
        previous: Option<&Appendable>,
    ) -> Result<Written> {
        let checkpoint = &self.verified.checkpoint;
        let mut hasher = Sha256::new();
        hasher.update(b"minhbach ledger download\n");
        hasher.update(crate::code::executable_hash()?);
        hasher.update(checkpoint.size.to_be_bytes());
        hasher.update(checkpoint.root);
        let inputs: FileHash = hasher.finalize().into();
        let limit = parts::part_bytes();
        if let Some(previous) = previous.filter(|p| p.download.bytes <= self.download_bytes()) {
            let mut new_lines = self.segment_stream_from(previous.download.bytes)?;
            if let Some(appended) =
                parts::append_split(sink, limit, Some(&inputs), previous, &mut |out| {
                    std::io::copy(&mut new_lines, out).map(drop)
                })?
            {
                self.check_written(appended.download.bytes)?;
                return Ok(Written::appended(appended));
            }
        }
        if self.download_bytes() > limit {
            if let Some(kept) = parts::keep_split(sink, routes::DOWNLOAD_FILE, limit, &inputs)? {
                return Ok(Written::kept(kept));
            }
        } else if sink.keep(routes::DOWNLOAD_FILE, &inputs)? {
            let kept = Download {
                path: routes::DOWNLOAD_FILE.to_string(),
                bytes: self.download_bytes(),
                sha256: String::new(),
                parts: Vec::new(),
            };
            return Ok(Written::kept(kept));
        }
        let mut segments = self.segment_stream_from(0)?;
        let written = parts::write_appendable(
            sink,
            routes::DOWNLOAD_FILE,
            limit,
            Some(&inputs),
            &mut |out| std::io::copy(&mut segments, out).map(drop),
        )?;
        self.check_written(written.download.bytes)?;
        Ok(Written::whole(written))
    }

    /// The verified bytes of every segment file from byte `offset` of
    /// their concatenation on, as one stream.
    fn segment_stream_from(&self, mut offset: u64) -> Result<Segments> {
        use std::io::{Seek, SeekFrom};
        let mut files = VecDeque::new();
        for (path, bytes) in &self.segments {
            if offset >= *bytes {
                offset -= bytes;
                continue;
            }
            let mut file =
                File::open(path).with_context(|| format!("failed to read `{}`", path.display()))?;
            file.seek(SeekFrom::Start(offset))
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            files.push_back(file.take(bytes - offset));
            offset = 0;
        }
        Ok(Segments { files })
    }

    fn check_written(&self, written: u64) -> Result<()> {
        if written != self.download_bytes() {
            bail!(
                "the ledger's segment files changed while the site was built \
                 ({written} bytes where {} were verified); build again",
                self.download_bytes()
            );
        }
        Ok(())
    }

    /// The verified lines of segment `index`, as stored, each ending in `\n`.
    fn segment_lines(&self, index: usize) -> Result<Vec<u8>> {
        let (path, bytes) = &self.segments[index];
        let mut lines = Vec::with_capacity(*bytes as usize);
        File::open(path)
            .and_then(|file| file.take(*bytes).read_to_end(&mut lines))
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        if lines.len() as u64 != *bytes || lines.last().is_some_and(|&b| b != b'\n') {
            bail!(
                "`{}` changed while the site was built; build again",
                path.display()
            );
        }
        Ok(lines)
    }

    /// The public log under `ledger/`, in the C2SP tlog-tiles layout: the
    /// checkpoint, the log's origin and the verifier keys of every key ever
    /// admitted (so old signatures stay checkable) with the tree size from
    /// which each revoked one is revoked, hash tiles and entry bundles. Returns how
    /// many files.
    ///
    /// An entry bundle is kept from the last build, without being assembled
    /// or hashed, when its level-0 hash tile is the same: the leaf hashes
    /// commit to the lines.
    pub fn write_public_log(&self, sink: &dyn Sink) -> Result<usize> {
        let verified = &self.verified;
        let levels = tiles::tile_levels(&verified.leaves);
        sink.write("ledger/checkpoint", verified.checkpoint_note.as_bytes())?;
        let keys = PublishedKeys::of_ledger(&verified.checkpoint.origin, &verified.state);
        sink.write("ledger/keys", keys.to_text().as_bytes())?;
        let code = crate::code::executable_hash()?;
        let mut files = 2;
        // The segment whose lines are at hand: tiles come in index order, and
        // a tile never spans two segments (65,536 = 256 × 256).
        let mut segment: Option<(usize, Vec<u8>, Vec<usize>)> = None;
        for tile in tiles::tiles_to_publish(verified.checkpoint.size, &self.checkpoint_sizes) {
            let bytes = tiles::tile_bytes(&levels, tile);
            if tile.level == 0 {
                let path = format!("ledger/{}", tile.entries_path());
                let inputs = bundle_fingerprint(&code, &bytes);
                if !sink.keep(&path, &inputs)? {
                    let first = tile.index * TILE_WIDTH;
                    let index = (first / SEGMENT_ENTRIES) as usize;
                    let loaded = match segment.take() {
                        Some(loaded) if loaded.0 == index => loaded,
                        _ => {
                            let lines = self.segment_lines(index)?;
                            let starts = line_starts(&lines);
                            (index, lines, starts)
                        }
                    };
                    let (_, lines, starts) = segment.insert(loaded);
                    let skip = (first % SEGMENT_ENTRIES) as usize;
                    let bundle = tiles::bundle_bytes(
                        starts
                            .windows(2)
                            .skip(skip)
                            .take(tile.width as usize)
                            .map(|pair| &lines[pair[0]..pair[1] - 1]),
                    );
                    sink.write_rendered(&path, &bundle, &inputs)?;
                }
                files += 1;
            }
            sink.write(&format!("ledger/{}", tile.path()), &bytes)?;
            files += 1;
        }
        Ok(files)
    }
}

/// Where each line of `lines` starts, and the end: `starts[k]..starts[k + 1]`
/// is line `k` with its newline.
fn line_starts(lines: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        lines
            .iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'\n')
            .map(|(at, _)| at + 1),
    );
    starts
}

/// What an entry bundle is made from: the program and its level-0 hash tile.
fn bundle_fingerprint(code: &[u8; 32], tile_bytes: &[u8]) -> FileHash {
    let mut hasher = Sha256::new();
    hasher.update(b"minhbach entry bundle\n");
    hasher.update(code);
    hasher.update(tile_bytes);
    hasher.finalize().into()
}

/// The verified byte ranges of the segment files, read as one stream.
struct Segments {
    files: VecDeque<std::io::Take<File>>,
}

impl Read for Segments {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(file) = self.files.front_mut() {
            let read = file.read(buf)?;
            if read > 0 || buf.is_empty() {
                return Ok(read);
            }
            self.files.pop_front();
        }
        Ok(0)
    }
}
