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
use crate::ledger::merkle;
use crate::ledger::published::PublishedKeys;
use crate::ledger::tiles::{self, TILE_WIDTH, Tile, TileLevels};
use crate::ledger::{SEGMENT_ENTRIES, Settled, Verified, VerifyOptions};
use crate::portal::Portal;
use anyhow::{Context as _, Result, anyhow, bail};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, VecDeque};
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
    /// The verification's conclusion; its `state` is left empty, as what
    /// the site reads of it is `state`.
    pub verified: Verified,
    /// The verified state, settled (`State::settle`): nothing is judged
    /// after verifying, and the parts that judge are most of its memory.
    pub state: Settled,
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
        let mut verified = ledger
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
        let state = std::mem::take(&mut verified.state).settle();
        Ok(LedgerData {
            entries,
            first: first.min(verified_size),
            verified,
            state,
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
    /// A full segment's level-0 and level-1 tiles and its entry bundles are
    /// kept from the last build, without their leaves being hashed or their
    /// lines read, when the segment's root is the same: it commits to every
    /// line. The segments the verified-state cache vouched for by their
    /// bytes' digest have no leaves at hand (`Verified::leaves_from`): a
    /// file of theirs that cannot be kept has them hashed again. An entry
    /// bundle of the last segment is kept when its level-0 hash tile is the
    /// same.
    pub fn write_public_log(&self, sink: &dyn Sink) -> Result<usize> {
        const { assert!(SEGMENT_ENTRIES == tiles::LEVEL_2_SPAN) };
        let verified = &self.verified;
        let sealed = (verified.leaves_from / SEGMENT_ENTRIES) as usize;
        let levels = TileLevels::new(&verified.segment_roots[..sealed], &verified.leaves);
        sink.write("ledger/checkpoint", verified.checkpoint_note.as_bytes())?;
        let keys = PublishedKeys::of_ledger(&verified.checkpoint.origin, self.state.keys());
        sink.write("ledger/keys", keys.to_text().as_bytes())?;
        let code = crate::code::executable_hash()?;
        // Tiles by the segment they are in (a tile never spans two; one
        // above level 1 reads none), each segment's in order on one thread
        // with its lines read once, the segments in parallel: one after
        // another, the log was a single-threaded step of a cold build.
        let mut by_segment: BTreeMap<usize, Vec<Tile>> = BTreeMap::new();
        for tile in tiles::tiles_to_publish(verified.checkpoint.size, &self.checkpoint_sizes) {
            let index = (tile.first_entry() / SEGMENT_ENTRIES) as usize;
            by_segment.entry(index).or_default().push(tile);
        }
        let files = by_segment
            .into_par_iter()
            .map(|(index, tiles)| self.write_segment_tiles(sink, &code, &levels, index, &tiles))
            .try_reduce(|| 0, |a, b| Ok(a + b))?;
        Ok(2 + files)
    }

    /// The tiles and entry bundles of segment `index`'s part of the log,
    /// kept where the last build's are still as written; the number of
    /// files they are.
    fn write_segment_tiles(
        &self,
        sink: &dyn Sink,
        code: &[u8; 32],
        levels: &TileLevels,
        index: usize,
        tiles: &[Tile],
    ) -> Result<usize> {
        let mut files = 0;
        // The segment's lines (and, if not at hand, leaves), once read.
        let mut at_hand: Option<SegmentAtHand> = None;
        for &tile in tiles {
            let path = format!("ledger/{}", tile.path());
            let entries_path = format!("ledger/{}", tile.entries_path());
            files += 1 + usize::from(tile.level == 0);
            // A full segment's root, for its level-0 and level-1 tiles.
            let root = (tile.level <= 1)
                .then(|| levels.subtree_root(index))
                .flatten();
            if let Some(root) = root {
                let tile_inputs = segment_tile_fingerprint(code, &root, &path);
                let bundle_inputs = segment_tile_fingerprint(code, &root, &entries_path);
                let tile_kept = sink.keep(&path, &tile_inputs)?;
                let bundle_kept = tile.level > 0 || sink.keep(&entries_path, &bundle_inputs)?;
                if tile_kept && bundle_kept {
                    continue;
                }
                // The segment's lines are read only if a bundle or the
                // leaves are needed.
                if !tile_kept {
                    let bytes = match levels.tile_bytes(tile) {
                        Some(bytes) => bytes,
                        None => self
                            .at_hand(&mut at_hand, index, levels)?
                            .tile_bytes(tile, index)?,
                    };
                    sink.write_rendered(&path, &bytes, &tile_inputs)?;
                }
                if !bundle_kept {
                    let segment = self.at_hand(&mut at_hand, index, levels)?;
                    sink.write_rendered(&entries_path, &segment.bundle(tile), &bundle_inputs)?;
                }
                continue;
            }
            let bytes = levels
                .tile_bytes(tile)
                .context("a tile past the full segments has its hashes at hand")?;
            if tile.level == 0 {
                let inputs = bundle_fingerprint(code, &bytes);
                if !sink.keep(&entries_path, &inputs)? {
                    let segment = self.at_hand(&mut at_hand, index, levels)?;
                    sink.write_rendered(&entries_path, &segment.bundle(tile), &inputs)?;
                }
            }
            sink.write(&path, &bytes)?;
        }
        Ok(files)
    }

    /// Segment `index`'s lines, read unless they are the ones at hand; its
    /// leaves too if `levels` has none of them, hashed again and checked
    /// against its root.
    fn at_hand<'s>(
        &self,
        at_hand: &'s mut Option<SegmentAtHand>,
        index: usize,
        levels: &TileLevels,
    ) -> Result<&'s SegmentAtHand> {
        if at_hand.as_ref().is_some_and(|s| s.index == index) {
            return Ok(at_hand.as_ref().expect("just checked"));
        }
        let lines = self.segment_lines(index)?;
        let starts = line_starts(&lines);
        let first = index as u64 * SEGMENT_ENTRIES;
        let leaves = match levels.has_leaf(first) {
            true => None,
            false => {
                let leaves: Vec<_> = starts
                    .par_windows(2)
                    .map(|pair| merkle::leaf_hash(&lines[pair[0]..pair[1] - 1]))
                    .collect();
                if Some(merkle::root(&leaves)) != levels.subtree_root(index) {
                    bail!(
                        "`{}` changed while the site was built; build again",
                        self.segments[index].0.display()
                    );
                }
                Some(leaves)
            }
        };
        Ok(at_hand.insert(SegmentAtHand {
            index,
            lines,
            starts,
            leaves,
        }))
    }
}

/// A segment's lines read for the public log, and its leaves when the
/// verification did not keep them.
struct SegmentAtHand {
    index: usize,
    lines: Vec<u8>,
    starts: Vec<usize>,
    leaves: Option<Vec<merkle::Hash>>,
}

impl SegmentAtHand {
    /// The entry bundle of level-0 `tile`, which lies in this segment.
    fn bundle(&self, tile: Tile) -> Vec<u8> {
        let skip = (tile.index * TILE_WIDTH % SEGMENT_ENTRIES) as usize;
        tiles::bundle_bytes(
            self.starts
                .windows(2)
                .skip(skip)
                .take(tile.width as usize)
                .map(|pair| &self.lines[pair[0]..pair[1] - 1]),
        )
    }

    /// A level-0 or level-1 tile of this segment, from its leaves hashed
    /// again.
    fn tile_bytes(&self, tile: Tile, index: usize) -> Result<Vec<u8>> {
        let leaves = self
            .leaves
            .as_deref()
            .context("a segment's leaves are hashed when its tiles are not at hand")?;
        // Within the segment, its leaves are a tree of their own.
        let local = Tile {
            index: tile.index - (index as u64 * SEGMENT_ENTRIES) / tile.entries_per_tile(),
            ..tile
        };
        TileLevels::new(&[], leaves)
            .tile_bytes(local)
            .context("a segment's tile is cut from its own leaves")
    }
}

/// What a full segment's level-0 or level-1 tile, or entry bundle, at
/// `path` is made from: the program and the segment's root.
fn segment_tile_fingerprint(code: &[u8; 32], root: &[u8; 32], path: &str) -> FileHash {
    let mut hasher = Sha256::new();
    hasher.update(b"minhbach segment tile\n");
    hasher.update(code);
    hasher.update(root);
    hasher.update(path.as_bytes());
    hasher.finalize().into()
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
