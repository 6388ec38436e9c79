//! Large downloads split into parts every static host accepts.
//!
//! The strictest host's per-file limit is Cloudflare Pages' 25 MiB (see
//! `hosting::HOSTS`), and a national-scale ledger download is far larger. A
//! download larger than `PART_BYTES` is therefore written as
//! `name.part-001.ext`, `name.part-002.ext`, … cut on line boundaries, so
//! `cat name.part-*.ext` gives back the whole file byte for byte (a CSV's
//! byte-order mark and header are in the first part only), and
//! `du-lieu/parts.json` lists each part's size and SHA-256 and the whole
//! file's. A download that fits stays one file, under its usual name.
//!
//! A part is held in memory while it is cut (at most `PART_BYTES` plus one
//! line per download being written), never the whole download. The ledger
//! download's parts are fingerprinted, so a rebuild at the same checkpoint
//! keeps them unread (`keep_split`), as it keeps the download when whole.

use super::output::{FileHash, Sink};
use crate::ledger::hex;
use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;

/// 25 MiB: Cloudflare Pages' limit per file, the strictest of the hosts.
pub const PART_BYTES: u64 = 25 * 1024 * 1024;

/// The part size in force: `PART_BYTES`, or `MINHBACH_PART_BYTES` (for
/// tests, which cannot afford 25 MiB files; like `MINHBACH_TIME`).
pub fn part_bytes() -> u64 {
    std::env::var("MINHBACH_PART_BYTES")
        .ok()
        .and_then(|value| value.parse().ok())
        .filter(|&bytes| bytes > 0)
        .unwrap_or(PART_BYTES)
}

/// One part of a split download.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Part {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// A download as written: whole (`parts` empty) or in parts.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Download {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub parts: Vec<Part>,
}

/// `du-lieu/so-cai.jsonl`, 2 → `du-lieu/so-cai.part-002.jsonl`.
pub fn part_path(path: &str, number: usize) -> String {
    let (folder, name) = path.rsplit_once('/').map_or(("", path), |(f, n)| (f, n));
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
    let dot = if extension.is_empty() { "" } else { "." };
    let slash = if folder.is_empty() { "" } else { "/" };
    format!("{folder}{slash}{stem}.part-{number:03}{dot}{extension}")
}

/// Streams `produce` into `path`, or into parts of at most `limit` bytes
/// cut after a newline when it is larger.
///
/// With `inputs` (the fingerprint of what the download is made from), each
/// part is recorded with a fingerprint of its own, so the next build can
/// keep them unread (`keep_split`).
pub fn write_split(
    sink: &dyn Sink,
    path: &str,
    limit: u64,
    inputs: Option<&FileHash>,
    produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Download> {
    Ok(write_appendable(sink, path, limit, inputs, produce)?.download)
}

/// `write_split`, keeping what the next build needs to append to it.
pub fn write_appendable(
    sink: &dyn Sink,
    path: &str,
    limit: u64,
    inputs: Option<&FileHash>,
    produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Appendable> {
    let writer = PartWriter {
        sink,
        path,
        inputs: inputs.copied(),
        limit: limit as usize,
        buffer: Vec::new(),
        parts: Vec::new(),
        whole: WholeHash::default(),
        bytes: 0,
        failure: None,
    };
    writer.run(produce)
}

/// A download as a build wrote it, with the state of its whole-file hash:
/// enough for the next build to append lines to it (`append_split`)
/// instead of writing it again.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Appendable {
    pub download: Download,
    pub hash: WholeHash,
}

/// Appends what `produce` writes to the download `previous` describes, as
/// if the whole had been written by `write_split`: the parts before the
/// last are kept unread, the last (or the whole file) is read back and
/// continued. `None`, with nothing written or kept, when the previous
/// output does not hold the download as recorded (its last piece's length
/// and SHA-256, every earlier part as the output manifest recorded it).
pub fn append_split(
    sink: &dyn Sink,
    limit: u64,
    inputs: Option<&FileHash>,
    previous: &Appendable,
    produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Option<Appendable>> {
    let download = &previous.download;
    let (last, earlier) = match download.parts.split_last() {
        None => (
            (download.path.as_str(), download.bytes, &download.sha256),
            &[][..],
        ),
        Some((last, earlier)) => ((last.path.as_str(), last.bytes, &last.sha256), earlier),
    };
    let numbered = download
        .parts
        .iter()
        .enumerate()
        .all(|(k, part)| part.path == part_path(&download.path, k + 1));
    if previous.hash.length != download.bytes
        || !numbered
        || !earlier.iter().all(|part| sink.still_written(&part.path))
    {
        return Ok(None);
    }
    let Some(file) = sink.previous(last.0) else {
        return Ok(None);
    };
    let Ok(buffer) = std::fs::read(&file) else {
        return Ok(None);
    };
    if buffer.len() as u64 != last.1 || hex(&Sha256::digest(&buffer)) != *last.2 {
        return Ok(None);
    }
    for part in earlier {
        if !sink.keep_written(&part.path)? {
            bail!(
                "`{}` changed while the site was built; build again",
                part.path
            );
        }
    }
    let writer = PartWriter {
        sink,
        path: &download.path,
        inputs: inputs.copied(),
        limit: limit as usize,
        buffer,
        parts: earlier.to_vec(),
        whole: previous.hash.clone(),
        bytes: download.bytes,
        failure: None,
    };
    writer.run(produce).map(Some)
}

struct PartWriter<'a> {
    sink: &'a dyn Sink,
    path: &'a str,
    inputs: Option<FileHash>,
    limit: usize,
    buffer: Vec<u8>,
    parts: Vec<Part>,
    whole: WholeHash,
    bytes: u64,
    /// The sink's error, kept whole (an `io::Error` would lose its chain).
    failure: Option<anyhow::Error>,
}

impl PartWriter<'_> {
    fn run(
        mut self,
        produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<Appendable> {
        let produced = produce(&mut self);
        if let Some(error) = self.failure.take() {
            return Err(error);
        }
        produced.map_err(|e| anyhow!("failed to write `{}`: {e}", self.path))?;
        // A buffer past the limit is cut when written to; one that only
        // reached it by being read back is cut here.
        self.cut()?;
        self.finish()
    }

    /// Writes out every full part the buffer holds.
    fn cut(&mut self) -> Result<()> {
        while self.buffer.len() > self.limit {
            let Some(newline) = self.buffer[..self.limit].iter().rposition(|&b| b == b'\n') else {
                bail!(
                    "`{}` has a line longer than a part ({} bytes); it cannot be split",
                    self.path,
                    self.limit
                );
            };
            let rest = self.buffer.split_off(newline + 1);
            let part = std::mem::replace(&mut self.buffer, rest);
            self.emit(&part)?;
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        let number = self.parts.len() + 1;
        let path = part_path(self.path, number);
        let part_inputs =
            (self.inputs).map(|inputs| part_fingerprint(&inputs, self.limit as u64, number));
        // One SHA-256 for the part's listing and the output manifest.
        let sha256: FileHash = Sha256::digest(bytes).into();
        (self.sink).write_hashed(&path, bytes, &sha256, part_inputs.as_ref())?;
        self.parts.push(Part {
            path,
            bytes: bytes.len() as u64,
            sha256: hex(&sha256),
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Appendable> {
        if self.parts.is_empty() {
            // The whole file's hash is the file's.
            let sha256 = self.whole.finalize();
            (self.sink).write_hashed(self.path, &self.buffer, &sha256, self.inputs.as_ref())?;
        } else if !self.buffer.is_empty() {
            let last = std::mem::take(&mut self.buffer);
            self.emit(&last)?;
        }
        Ok(Appendable {
            download: Download {
                path: self.path.to_string(),
                bytes: self.bytes,
                sha256: hex(&self.whole.finalize()),
                parts: self.parts,
            },
            hash: self.whole,
        })
    }
}

impl Write for PartWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        self.whole.update(bytes);
        self.bytes += bytes.len() as u64;
        if let Err(error) = self.cut() {
            let message = format!("{error:#}");
            self.failure = Some(error);
            return Err(std::io::Error::other(message));
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 that can be stopped and resumed: the state after the bytes
/// hashed so far (whole 64-byte blocks compressed, the rest kept), so a
/// download's whole-file hash is extended by what a rebuild appends
/// instead of computed again over hundreds of megabytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WholeHash {
    state: [u32; 8],
    /// Bytes hashed so far.
    length: u64,
    /// The bytes after the last whole block (fewer than 64).
    tail: Vec<u8>,
}

impl Default for WholeHash {
    fn default() -> WholeHash {
        WholeHash {
            state: [
                0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
                0x5be0cd19,
            ],
            length: 0,
            tail: Vec::new(),
        }
    }
}

impl WholeHash {
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.length += bytes.len() as u64;
        if !self.tail.is_empty() {
            let take = (64 - self.tail.len()).min(bytes.len());
            self.tail.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.tail.len() < 64 {
                return;
            }
            let block = std::mem::take(&mut self.tail);
            self.compress(&block);
        }
        let whole = bytes.len() / 64 * 64;
        self.compress(&bytes[..whole]);
        self.tail.extend_from_slice(&bytes[whole..]);
    }

    /// Compresses whole 64-byte blocks, each borrowed where it is (copying
    /// them into a batch first cost a quarter of the time).
    fn compress(&mut self, blocks: &[u8]) {
        use sha2::digest::generic_array::GenericArray;
        for block in blocks.chunks_exact(64) {
            sha2::compress256(
                &mut self.state,
                std::slice::from_ref(GenericArray::from_slice(block)),
            );
        }
    }

    /// The digest of everything hashed so far (the state is kept).
    pub fn finalize(&self) -> [u8; 32] {
        let mut last = self.clone();
        let mut padding = vec![0x80u8];
        padding.resize((119 - self.tail.len()) % 64 + 1, 0);
        padding.extend_from_slice(&(self.length.wrapping_mul(8)).to_be_bytes());
        let length = last.length;
        last.update(&padding);
        debug_assert!(last.tail.is_empty() && last.length == length + padding.len() as u64);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(last.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

/// What part `number` of a download is made from: the download's inputs
/// and the part size (which decides where the cuts fall).
fn part_fingerprint(inputs: &FileHash, limit: u64, number: usize) -> FileHash {
    let mut hasher = Sha256::new();
    hasher.update(b"minhbach download part\n");
    hasher.update(inputs);
    hasher.update(limit.to_be_bytes());
    hasher.update((number as u64).to_be_bytes());
    hasher.finalize().into()
}

/// Keeps the parts of `path` that the last build wrote from the same
/// `inputs`, as listed in its `du-lieu/parts.json`, if every one of them
/// can be kept; `None` (nothing kept) otherwise.
pub fn keep_split(
    sink: &dyn Sink,
    path: &str,
    limit: u64,
    inputs: &FileHash,
) -> Result<Option<Download>> {
    let Some(index) = sink.previous(super::routes::PARTS_FILE) else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read(&index) else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Index {
        part_bytes: u64,
        files: Vec<Download>,
    }
    let Ok(index) = serde_json::from_slice::<Index>(&text) else {
        return Ok(None);
    };
    let Some(download) = index.files.into_iter().find(|file| file.path == path) else {
        return Ok(None);
    };
    let fingerprints: Vec<FileHash> = (1..=download.parts.len())
        .map(|number| part_fingerprint(inputs, limit, number))
        .collect();
    let all = index.part_bytes == limit
        && !download.parts.is_empty()
        && download.parts.iter().enumerate().all(|(k, part)| {
            part.path == part_path(path, k + 1) && sink.would_keep(&part.path, &fingerprints[k])
        });
    if !all {
        return Ok(None);
    }
    for (part, fingerprint) in download.parts.iter().zip(&fingerprints) {
        if !sink.keep(&part.path, fingerprint)? {
            bail!(
                "`{}` changed while the site was built; build again",
                part.path
            );
        }
    }
    Ok(Some(download))
}

/// `du-lieu/parts.json`: the split downloads, each with its parts' sizes
/// and SHA-256 and the whole file's, so a download can be checked part by
/// part and after `cat`.
pub fn index(downloads: &[Download], limit: u64) -> String {
    #[derive(Serialize)]
    struct Index<'a> {
        part_bytes: u64,
        files: Vec<&'a Download>,
    }
    let files = downloads.iter().filter(|d| !d.parts.is_empty()).collect();
    let mut text = serde_json::to_string_pretty(&Index {
        part_bytes: limit,
        files,
    })
    .expect("the index serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::output::MemorySink;

    #[test]
    fn a_large_download_is_cut_on_lines_and_cat_gives_it_back() {
        let sink = MemorySink::default();
        let lines: String = (0..100).map(|n| format!("line {n:03}\n")).collect();
        let download = write_split(&sink, "du-lieu/so-cai.jsonl", 100, None, &mut |out| {
            out.write_all(lines.as_bytes())
        })
        .expect("split");
        let files = sink.into_files();
        assert!(!files.contains_key("du-lieu/so-cai.jsonl"));
        assert_eq!(download.parts.len(), 10);
        let mut joined = Vec::new();
        for part in &download.parts {
            let bytes = &files[&part.path];
            assert!(bytes.len() as u64 <= 100 && bytes.ends_with(b"\n"));
            assert_eq!(part.sha256, hex(&Sha256::digest(bytes)));
            joined.extend_from_slice(bytes);
        }
        assert_eq!(joined, lines.as_bytes());
        assert_eq!(download.parts[1].path, "du-lieu/so-cai.part-002.jsonl");
        assert!(index(&[download], 100).contains("\"part_bytes\": 100"));
    }

    #[test]
    fn a_resumed_hash_is_sha256() {
        let data: Vec<u8> = (0..1000u32).map(|n| (n * 7 % 251) as u8).collect();
        for cut in [0, 1, 55, 56, 63, 64, 65, 119, 128, 500, 1000] {
            for end in [cut, cut + 1, 1000] {
                let end = end.min(1000);
                let mut hash = WholeHash::default();
                hash.update(&data[..cut]);
                let resumed: WholeHash =
                    serde_json::from_str(&serde_json::to_string(&hash).unwrap()).unwrap();
                let mut hash = resumed;
                hash.update(&data[cut..end]);
                assert_eq!(
                    hash.finalize().as_slice(),
                    Sha256::digest(&data[..end]).as_slice(),
                    "{cut}..{end}"
                );
            }
        }
    }

    #[test]
    fn appending_gives_what_writing_whole_gives() {
        let lines: String = (0..60)
            .map(|n| format!("line {n:03}{}\n", "x".repeat(n % 7)))
            .collect();
        for split in [0, 1, 5, 14, 30, 59] {
            for limit in [60, 100, 10_000] {
                let cut = lines
                    .match_indices('\n')
                    .nth(split)
                    .map_or(0, |(at, _)| at + 1);
                let (before, after) = lines.split_at(cut);
                let whole = MemorySink::default();
                let expected = write_appendable(&whole, "d/t.csv", limit, None, &mut |out| {
                    out.write_all(lines.as_bytes())
                })
                .unwrap();
                let first = MemorySink::default();
                let previous = write_appendable(&first, "d/t.csv", limit, None, &mut |out| {
                    out.write_all(before.as_bytes())
                })
                .unwrap();
                let dir = tempfile::tempdir().unwrap();
                for (path, bytes) in first.into_files() {
                    let file = dir.path().join(&path);
                    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                    std::fs::write(file, bytes).unwrap();
                }
                let sink = ReadBack {
                    dir: dir.path(),
                    written: MemorySink::default(),
                };
                let appended = append_split(&sink, limit, None, &previous, &mut |out| {
                    out.write_all(after.as_bytes())
                })
                .unwrap()
                .expect("appendable");
                assert_eq!(appended.download.sha256, expected.download.sha256);
                assert_eq!(appended.hash, expected.hash);
                assert_eq!(
                    serde_json::to_string(&appended.download).unwrap(),
                    serde_json::to_string(&expected.download).unwrap(),
                    "split after line {split}, limit {limit}"
                );
                let mut files = whole.into_files();
                for (path, bytes) in sink.written.into_files() {
                    assert_eq!(files.remove(&path), Some(bytes), "{path}");
                }
                // What was not written again is what was kept.
                for path in files.keys() {
                    assert!(
                        previous.download.parts.iter().any(|p| &p.path == path),
                        "{path}"
                    );
                }
            }
        }
    }

    /// A sink whose previous output is a folder, every file still as
    /// written.
    struct ReadBack<'a> {
        dir: &'a std::path::Path,
        written: MemorySink,
    }

    impl Sink for ReadBack<'_> {
        fn write(&self, path: &str, bytes: &[u8]) -> Result<()> {
            self.written.write(path, bytes)
        }
        fn previous(&self, path: &str) -> Option<std::path::PathBuf> {
            Some(self.dir.join(path)).filter(|file| file.is_file())
        }
        fn still_written(&self, path: &str) -> bool {
            self.dir.join(path).is_file()
        }
        fn keep_written(&self, path: &str) -> Result<bool> {
            Ok(self.still_written(path))
        }
    }

    #[test]
    fn a_small_download_stays_whole() {
        let sink = MemorySink::default();
        let download = write_split(&sink, "du-lieu/fund.csv", 100, None, &mut |out| {
            out.write_all(b"a,b\r\n")
        })
        .expect("write");
        assert!(download.parts.is_empty());
        assert_eq!(sink.into_files()["du-lieu/fund.csv"], b"a,b\r\n");
        assert_eq!(
            index(&[download], 100),
            "{\n  \"part_bytes\": 100,\n  \"files\": []\n}\n"
        );
    }

    #[test]
    fn a_line_longer_than_a_part_is_refused() {
        let sink = MemorySink::default();
        let error = write_split(&sink, "x.jsonl", 4, None, &mut |out| {
            out.write_all(b"0123456789\n")
        })
        .expect_err("too long");
        assert!(
            format!("{error:#}").contains("longer than a part"),
            "{error:#}"
        );
    }
}
