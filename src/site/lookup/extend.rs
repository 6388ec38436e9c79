//! A rebuild's index: the previous build's, extended by the donations
//! appended since, so its work is that of the new donations and the terms
//! they hold, not of the whole ledger.
//!
//! Each build that writes its output leaves beside it a small state file
//! ([`State`], `.public.lookup-state` beside `public/`): what the index then
//! held (the donations, the codes) and what made it (`reuse::Maker`). The
//! next build extends that index only if all of these hold, and otherwise
//! writes it whole (`super::write_index`):
//!
//! - `reuse::Maker::may_extend`: the same executable, format and config,
//!   and the ledger this build verified begins with exactly the entries
//!   that index was built from;
//! - no correction was appended since (a correction changes old records);
//! - every index file the previous build wrote is still as written (the
//!   length and time the output manifest recorded: the rule that keeps an
//!   unchanged page);
//! - the codes still fit in as many code shards.
//!
//! The old records, dictionary lines and postings chunks are then what a
//! whole write would give. Written: the record shards from the one the
//! first new donation falls in, and for each term the new donations hold,
//! its dictionary shard (the term's line from its old line and last
//! postings chunk, read back) and its postings chunks from its last old one
//! on; the manifest. Everything else is kept. The state file is removed
//! before the output changes and written after, so an interrupted build
//! leaves none. `tests::extending_equals_writing_whole` checks the bytes
//! against a whole write across every form a term's postings take.

use super::{
    CHUNK, DonationRow, INLINE, IndexReport, IndexWriter, RECORDS_PER_SHARD, code_bits,
    decode_chunk, dictionary_shard, encode_chunk, has_chunks, parse_deltas, parse_runs,
    postings_of, push_chunked_line, push_dictionary_line, record_shard,
};
use super::{Model, Sink};
use anyhow::Result;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state file's name beside the output (`output::write_state`).
pub const STATE_FILE: &str = "lookup-state";

/// What the previous build's index held and what made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The index format (`FORMAT_VERSION`).
    pub format: u32,
    pub maker: crate::site::reuse::Maker,
    /// How many donations it holds, how many distinct codes, and the hash
    /// bits that shard them.
    pub donations: usize,
    pub codes: usize,
    pub code_bits: u32,
}

/// Reads a file the previous build wrote, by its path under the index
/// directory (`d/wng`); `None` if there is none.
pub type ReadPrevious<'a> = dyn Fn(&str) -> Result<Option<Vec<u8>>> + Sync + 'a;

/// Extends the previous index (`from`, whose files `read` reads) to the
/// model's donations, writing only what changes. `None`, with nothing
/// written, when it cannot: the codes need more shards, or a file read back
/// is not what this code writes. The caller keeps the files not written.
pub fn extend(
    model: &Model,
    page_size: usize,
    sink: &dyn Sink,
    from: &State,
    read: &ReadPrevious,
) -> Result<Option<IndexReport>> {
    let fund_position = super::fund_positions(model);
    // The rows from the first record shard that changes: the tail's, at
    // most one chunk's besides.
    let first = (from.donations / RECORDS_PER_SHARD) * RECORDS_PER_SHARD;
    if from.donations > model.donations.len() {
        return Ok(None);
    }
    let rows = model.donations.range(first..model.donations.len())?;
    let Some(extension) = extension(&rows, first, &fund_position, from, read)? else {
        return Ok(None);
    };
    let writer = IndexWriter::new(sink);
    extension
        .files
        .par_iter()
        .try_for_each(|(path, bytes)| writer.write(path.clone(), bytes))?;
    writer.write_manifest(model, page_size, extension.code_bits)?;
    Ok(Some(writer.report(extension.codes, extension.code_bits)))
}

/// Index files to write: path under the index directory, bytes.
type Files = Vec<(String, Vec<u8>)>;

/// The files an extension writes (all but the manifest), and the codes.
struct Extension {
    files: Files,
    codes: usize,
    code_bits: u32,
}

/// A dictionary shard as read back: its lines, sorted by term.
struct Shard {
    name: String,
    lines: Vec<String>,
}

impl Shard {
    fn position(&self, term: &str) -> Result<usize, usize> {
        self.lines
            .binary_search_by(|line| line.split('\t').next().unwrap_or("").cmp(term))
    }
}

/// `rows`: the donations from number `first` (the first of the record
/// shard `from` ends in) to the last.
fn extension(
    rows: &[&DonationRow],
    first: usize,
    fund_position: &BTreeMap<&str, usize>,
    from: &State,
    read: &ReadPrevious,
) -> Result<Option<Extension>> {
    let Some(new_rows) = rows.get(from.donations - first..) else {
        return Ok(None);
    };
    let mut terms: Vec<(String, Vec<u32>)> =
        postings_of(new_rows, from.donations).into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut by_shard: BTreeMap<String, Vec<(String, Vec<u32>)>> = BTreeMap::new();
    for (term, list) in terms {
        by_shard
            .entry(dictionary_shard(&term, from.code_bits))
            .or_default()
            .push((term, list));
    }
    // Read every shard the new terms fall in before writing anything.
    let shards: Vec<Option<Shard>> = by_shard
        .keys()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|name| read_shard(name, read))
        .collect::<Result<_>>()?;
    let Some(shards) = shards.into_iter().collect::<Option<Vec<Shard>>>() else {
        return Ok(None);
    };
    let new_codes = shards
        .iter()
        .zip(by_shard.values())
        .flat_map(|(shard, terms)| terms.iter().map(move |(term, _)| (shard, term)))
        .filter(|(shard, term)| term.starts_with('c') && shard.position(term).is_err())
        .count();
    let codes = from.codes + new_codes;
    if code_bits(codes) != from.code_bits {
        return Ok(None);
    }
    let updated: Vec<Option<Files>> = shards
        .into_par_iter()
        .zip(by_shard.into_values().collect::<Vec<_>>())
        .map(|(shard, terms)| update_shard(shard, terms, read))
        .collect::<Result<_>>()?;
    let Some(updated) = updated.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let mut files: Files = updated.into_iter().flatten().collect();
    let first_shard = first / RECORDS_PER_SHARD;
    for (offset, rows) in rows.chunks(RECORDS_PER_SHARD).enumerate() {
        files.push((
            format!("r/{}", first_shard + offset),
            record_shard(rows, fund_position).into_bytes(),
        ));
    }
    Ok(Some(Extension {
        files,
        codes,
        code_bits: from.code_bits,
    }))
}

/// A dictionary shard of the previous index; an empty one if it had none
/// (no term fell in it yet); `None` if it is not what this code writes.
fn read_shard(name: &str, read: &ReadPrevious) -> Result<Option<Shard>> {
    let lines = match read(&format!("d/{name}"))? {
        None => Vec::new(),
        Some(bytes) => {
            let Ok(text) = String::from_utf8(bytes) else {
                return Ok(None);
            };
            let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
            let sorted = lines
                .windows(2)
                .all(|pair| pair[0].split('\t').next() < pair[1].split('\t').next());
            if !sorted || lines.iter().any(|line| !line.ends_with('\n')) {
                return Ok(None);
            }
            lines
        }
    };
    Ok(Some(Shard {
        name: name.to_string(),
        lines,
    }))
}

/// The shard with each new term's line updated or inserted, and the
/// postings chunks that change; `None` if an old line or chunk is not what
/// this code writes.
fn update_shard(
    mut shard: Shard,
    terms: Vec<(String, Vec<u32>)>,
    read: &ReadPrevious,
) -> Result<Option<Files>> {
    let mut files = Vec::new();
    for (term, new) in terms {
        let mut line = String::new();
        match shard.position(&term) {
            Err(at) => {
                push_term(&mut line, &mut files, &term, &new);
                shard.lines.insert(at, line);
            }
            Ok(at) => {
                if !extend_line(&mut line, &mut files, &shard.lines[at], &term, &new, read)? {
                    return Ok(None);
                }
                shard.lines[at] = line;
            }
        }
    }
    files.push((
        format!("d/{}", shard.name),
        shard.lines.concat().into_bytes(),
    ));
    Ok(Some(files))
}

/// The postings chunks of `list`, numbered from `first`: a whole list's
/// from 0, a tail's from the chunk it starts.
fn push_chunks(files: &mut Files, term: &str, first: usize, list: &[u32]) {
    for (k, chunk) in list.chunks(CHUNK).enumerate() {
        files.push((format!("p/{term}/{}", first + k), encode_chunk(chunk)));
    }
}

/// A term's dictionary line and, if its postings are in files, all its
/// chunks: for a term whose whole list is at hand.
fn push_term(line: &mut String, files: &mut Files, term: &str, list: &[u32]) {
    push_dictionary_line(line, term, list);
    if has_chunks(list) {
        push_chunks(files, term, 0, list);
    }
}

/// A term's new line, from its old one and the new postings (all after
/// its old ones), and the chunks that change; `false` if the old line or
/// chunk is not what this code writes.
fn extend_line(
    line: &mut String,
    files: &mut Files,
    old: &str,
    term: &str,
    new: &[u32],
    read: &ReadPrevious,
) -> Result<bool> {
    let fields: Vec<&str> = old.trim_end_matches('\n').split('\t').collect();
    let Some(count) = fields.get(1).and_then(|count| count.parse::<usize>().ok()) else {
        return Ok(false);
    };
    let whole = |mut list: Vec<u32>| {
        (list.len() == count && list.last() < new.first()).then(|| {
            list.extend_from_slice(new);
            list
        })
    };
    let list = match fields.len() {
        // Inline postings, or runs: the whole list is in the line.
        4 if count <= INLINE => parse_deltas(fields[3]).and_then(whole),
        6 => parse_runs(fields[5]).and_then(whole),
        // Postings in chunk files: only the last one changes.
        3 | 5 if count > INLINE => {
            let last = (count - 1) / CHUNK;
            let starts = match fields.get(4) {
                Some(starts) => parse_deltas(starts),
                None => Some(Vec::new()),
            };
            let Some(mut starts) =
                starts.filter(|starts| count <= CHUNK || starts.len() == last + 1)
            else {
                return Ok(false);
            };
            let Some(mut tail) = read(&format!("p/{term}/{last}"))?
                .and_then(|bytes| decode_chunk(&bytes))
                .filter(|tail| tail.len() == count - last * CHUNK && tail.last() < new.first())
            else {
                return Ok(false);
            };
            tail.extend_from_slice(new);
            starts.truncate(last);
            starts.extend(tail.iter().step_by(CHUNK));
            let newest = tail.last().copied().unwrap_or(0);
            push_chunked_line(line, term, count + new.len(), newest, starts.into_iter());
            push_chunks(files, term, last, &tail);
            return Ok(true);
        }
        _ => None,
    };
    let Some(list) = list else {
        return Ok(false);
    };
    push_term(line, files, term, &list);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::{IndexWriter, write_rows};
    use super::*;
    use crate::site::model::{Anchor, DonationRow};
    use crate::site::output::MemorySink;
    use std::sync::Arc;

    /// The postings merged a window of blocks at a time are those of all
    /// the rows made in one map, every list ascending.
    #[test]
    fn postings_merged_by_window_equal_one_map() {
        use super::super::{BLOCK, WINDOW_BLOCKS, merged_postings, postings_of};
        let rows = rows(1_000);
        let all: Vec<&DonationRow> = rows.iter().collect();
        assert!(BLOCK * WINDOW_BLOCKS * 3 < all.len());
        let mut merged = merged_postings(&all);
        merged.sort_unstable();
        let mut whole: Vec<(String, Vec<u32>)> = postings_of(&all, 0).into_iter().collect();
        whole.sort_unstable();
        assert!(
            whole
                .iter()
                .any(|(_, list)| list.len() > BLOCK * WINDOW_BLOCKS)
        );
        assert_eq!(merged, whole);
    }

    /// Donations shaped like a statement: a few names and texts repeated
    /// (terms past `INLINE` and `CHUNK`), days in runs (terms in runs that
    /// later break into chunks), a reference each (codes).
    fn rows(count: usize) -> Vec<DonationRow> {
        let fund: Arc<str> = Arc::from("quy");
        let names = [
            "Nguyễn Văn An",
            "Lê Thị Hoa",
            "Trần Minh Châu",
            "Phạm Văn Bình",
        ];
        let texts = [
            "ung ho dong bao bao lu",
            "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho",
            "MBVCB.7012345678.123456.LE THI HOA ung ho",
        ];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        (0..count)
            .map(|index| {
                let pick = next();
                DonationRow {
                    seq: index as u64 + 2,
                    index,
                    page: index / 100,
                    fund: fund.clone(),
                    fund_name: fund.clone(),
                    donor: if pick % 7 == 0 {
                        format!("Người {}", pick % 50)
                    } else {
                        names[pick % names.len()].to_string()
                    },
                    amount: [50_000, 100_000, 200_000, 500_000][pick % 4] * (1 + (pick % 5) as u64),
                    // Runs of days, then scattered (a day term past RUNS_INLINE).
                    date: format!(
                        "2025-09-{:02}",
                        1 + if index < 3000 { index / 200 } else { pick % 28 }
                    ),
                    channel: crate::ledger::entry::Channel::Bank,
                    booking_time: None,
                    account: None,
                    reference: Some(format!("FT{:08}", index)),
                    description: Some(texts[pick % texts.len()].to_string()),
                    note: None,
                    voided: None,
                    amended: Vec::new(),
                    anchor: Anchor(index as u64 + 2),
                }
            })
            .collect()
    }

    fn maker() -> crate::site::reuse::Maker {
        crate::site::reuse::Maker {
            code: String::new(),
            config: String::new(),
            size: 0,
            checkpoint: String::new(),
        }
    }

    fn whole(rows: &[&DonationRow]) -> (BTreeMap<String, Vec<u8>>, usize, u32) {
        let sink = MemorySink::default();
        let writer = IndexWriter::new(&sink);
        let (codes, bits) = write_rows(rows, &BTreeMap::new(), &writer).unwrap();
        (strip(sink.into_files()), codes, bits)
    }

    fn strip(files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
        let prefix = format!("{}/", crate::site::routes::LOOKUP_INDEX_DIR);
        files
            .into_iter()
            .map(|(path, bytes)| (path.strip_prefix(&prefix).unwrap().to_string(), bytes))
            .collect()
    }

    #[test]
    fn extending_equals_writing_whole() {
        let rows = rows(9_100);
        let all: Vec<&DonationRow> = rows.iter().collect();
        let mut extended = 0;
        for from in [1, 15, 16, 17, 200, 1000, 3000, 4095, 4096, 4097, 5000, 8190] {
            for added in [1, 2, 17, 100, 900] {
                let (previous, codes, code_bits) = whole(&all[..from]);
                let state = State {
                    format: super::super::FORMAT_VERSION,
                    maker: maker(),
                    donations: from,
                    codes,
                    code_bits,
                };
                let read = |path: &str| Ok(previous.get(path).cloned());
                let (expected, expected_codes, expected_bits) = whole(&all[..from + added]);
                let first = from / RECORDS_PER_SHARD * RECORDS_PER_SHARD;
                let Some(extension) = extension(
                    &all[first..from + added],
                    first,
                    &BTreeMap::new(),
                    &state,
                    &read,
                )
                .unwrap() else {
                    assert_ne!(expected_bits, code_bits, "from {from}, {added} added");
                    continue;
                };
                extended += 1;
                assert_eq!(extension.codes, expected_codes);
                let mut result = previous.clone();
                for (path, bytes) in extension.files {
                    result.insert(path, bytes);
                }
                assert_eq!(
                    result.keys().collect::<Vec<_>>(),
                    expected.keys().collect::<Vec<_>>(),
                    "from {from}, {added} added"
                );
                for (path, bytes) in &expected {
                    assert!(
                        result[path] == *bytes,
                        "from {from}, {added} added: `{path}` differs:\n{}\n{}",
                        String::from_utf8_lossy(&result[path]),
                        String::from_utf8_lossy(bytes)
                    );
                }
            }
        }
        assert!(extended >= 40, "only {extended} cases extended");
    }

    #[test]
    fn a_file_not_as_written_gives_up_before_writing() {
        let rows = rows(300);
        let all: Vec<&DonationRow> = rows.iter().collect();
        let (mut previous, codes, code_bits) = whole(&all[..250]);
        let state = State {
            format: super::super::FORMAT_VERSION,
            maker: maker(),
            donations: 250,
            codes,
            code_bits,
        };
        let shard = previous
            .keys()
            .find(|path| path.starts_with("d/wng"))
            .unwrap()
            .clone();
        previous.insert(shard, b"wnguyen\t3\n".to_vec());
        let read = |path: &str| Ok(previous.get(path).cloned());
        assert!(
            extension(&all[240..], 240, &BTreeMap::new(), &state, &read)
                .unwrap()
                .is_none()
        );
    }
}
