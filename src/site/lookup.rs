//! The static search index behind the lookup page (`/tra-cuu/`,
//! `/en/lookup/`): sharded files a browser fetches a few at a time, so a
//! query at 5,000,000 donations moves a bounded number of bytes and the site
//! stays plain files on any static host.
//!
//! Donations are numbered by their position among all donations (`index`,
//! the number that fixes their list page forever). Under `tra-cuu/chi-muc/`:
//!
//! ```text
//! manifest.json     counts, page size, chunk sizes, funds (id, name, seq, corrections)
//! d/<shard>         dictionary: `term \t count \t newest [\t postings] [\t chunk starts]`
//! p/<term>/<k>      postings chunk k of a term: indices k·4096 .. (k+1)·4096
//! r/<k>             records of donations k·32 .. (k+1)·32, one per line:
//!                   `seq \t donor \t amount \t date \t fund \t ref \t flags \t corrections`
//! f/<shard>         bank references: `folded-ref \t index`, by FNV-1a hash
//! ```
//!
//! Terms: `n<word>` for each folded word of the donor's name (pure numbers
//! are left out), `a<amount>`, `d<yyyymmdd>`. Dictionary shards: a word by its
//! first two characters (`nng` holds `nnguyen`, `nngoc`…), an amount by its
//! digit count and first two digits (`a6-50`), a date by its month
//! (`d202509`). A term with at most `INLINE` postings keeps them in its
//! dictionary line and has no postings file. A postings chunk is either
//! varint deltas or a bitmap, whichever is smaller.
//!
//! The browser (`lookup.js`) lets the criterion with the fewest postings
//! drive: it walks that one's postings newest first and, for each candidate,
//! fetches only the chunk of each other criterion that would hold it (the
//! dictionary lists where every chunk starts), rarest criterion first. It
//! stops at a page of results or when it has spent its byte budget.
//!
//! Determinism: every map is sorted before output, so a rebuild gives the
//! same bytes; an append changes the manifest, the newest record shard, the
//! last chunk and dictionary line of each term it touches, and the reference
//! shards of its new references.

use super::model::{CorrectionRef, Model, ModelOptions};
use super::output::{MemorySink, Sink};
use crate::config::PrivacyConfig;
use crate::ledger::published::PublishedLog;
use crate::portal::CitizenIdDigits;
use crate::vn;
use anyhow::{Context as _, Result, bail};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Where the index lives, relative to the site root.
pub const INDEX_DIR: &str = super::routes::LOOKUP_INDEX_DIR;
/// Postings per chunk file.
pub const CHUNK: usize = 4096;
/// Donations per record shard.
pub const RECORDS_PER_SHARD: usize = 32;
/// Average references per reference shard, at most.
pub const REFS_PER_SHARD: usize = 1024;
/// Postings kept inline in the dictionary when a term has at most this many.
pub const INLINE: usize = 16;
/// Donations per parallel indexing block.
const BLOCK: usize = 65_536;

/// The lookup page's path in a language: Vietnamese `/tra-cuu/`, others
/// `/lookup/` (so English is `/en/lookup/`).
pub fn page_path(language: &str) -> &'static str {
    super::routes::lookup(language)
}

/// Rebuilds the index from a published log's entries (proven by
/// `verify --site`) and compares it with the site's `tra-cuu/chi-muc/`,
/// file by file: a record, a fund name, a correction or a posting the
/// ledger does not say is found here, where the browser, which proves only
/// the results it shows, cannot see a missing one. Returns how many files
/// were compared. Takes the log's entries (`log.entries` is left empty):
/// the model consumes them rather than copying millions.
pub fn check_index(site: &Path, log: &mut PublishedLog, privacy: &PrivacyConfig) -> Result<usize> {
    let dir = site.join(INDEX_DIR);
    let manifest_path = dir.join("manifest.json");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&manifest_path)
            .with_context(|| format!("failed to read `{}`", manifest_path.display()))?,
    )
    .with_context(|| format!("`{}` is not JSON", manifest_path.display()))?;
    let page_size = manifest["page_size"]
        .as_u64()
        .with_context(|| format!("`{}` has no `page_size`", manifest_path.display()))?
        as usize;
    let model = Model::build(
        vec![std::mem::take(&mut log.entries)],
        &log.state,
        &log.checkpoint,
        &log.checkpoint_note,
        &ModelOptions {
            privacy,
            page_size,
            citizen_id_digits: &CitizenIdDigits::default(),
        },
    )?;
    let sink = MemorySink::default();
    write_index(&model, page_size, &sink)?;
    let expected = sink.into_files();
    let mut published = BTreeMap::new();
    for item in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let item = item.with_context(|| format!("failed to read `{}`", dir.display()))?;
        if item.file_type().is_file() {
            let relative = item.path().strip_prefix(site).expect("under the site");
            let bytes = std::fs::read(item.path())
                .with_context(|| format!("failed to read `{}`", item.path().display()))?;
            published.insert(relative.to_string_lossy().replace('\\', "/"), bytes);
        }
    }
    // Paths in both maps are relative to the site, `/`-separated.
    for (path, bytes) in &expected {
        match published.get(path) {
            None => bail!("the lookup index lacks `{path}`, which the ledger's entries give"),
            Some(found) if found != bytes => bail!(
                "the lookup index's `{path}` is not what the ledger's entries give: the lookup page would show figures the log does not hold"
            ),
            Some(_) => {}
        }
    }
    if let Some(extra) = published.keys().find(|path| !expected.contains_key(*path)) {
        bail!("the lookup index holds `{extra}`, which the ledger's entries do not give");
    }
    Ok(expected.len())
}

/// What writing the index produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct IndexReport {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Serialize)]
struct Manifest<'a> {
    version: u32,
    donations: usize,
    page_size: usize,
    chunk: usize,
    records: usize,
    inline: usize,
    ref_bits: u32,
    /// `[id, name, seq, [corrections]]` of every fund, in ledger order;
    /// records name a fund by its position here. The page proves the fund's
    /// entry and its corrections before it shows the name as verified.
    funds: Vec<(&'a str, &'a str, u64, Vec<u64>)>,
}

/// The sequence numbers of the corrections that voided or amended an entry,
/// in ledger order: the page proves each and replays them, so an amended
/// or voided record is checked against proven entries like any other.
fn correction_seqs(voided: Option<&CorrectionRef>, amended: &[CorrectionRef]) -> Vec<u64> {
    let mut seqs: Vec<u64> = amended.iter().chain(voided).map(|c| c.seq).collect();
    seqs.sort_unstable();
    seqs
}

/// Writes the whole index for the model's donations.
pub fn write_index(model: &Model, page_size: usize, sink: &dyn Sink) -> Result<IndexReport> {
    let donations = &model.donations;
    let fund_position: BTreeMap<&str, usize> = model
        .funds
        .iter()
        .enumerate()
        .map(|(position, fund)| (fund.id.as_str(), position))
        .collect();
    let references = donations.iter().filter(|d| d.reference.is_some()).count();
    let ref_bits = ref_bits(references);
    let manifest = Manifest {
        version: 2,
        donations: donations.len(),
        page_size,
        chunk: CHUNK,
        records: RECORDS_PER_SHARD,
        inline: INLINE,
        ref_bits,
        funds: model
            .funds
            .iter()
            .map(|fund| {
                (
                    fund.id.as_str(),
                    fund.name.as_str(),
                    fund.seq,
                    correction_seqs(fund.voided.as_ref(), &fund.amended),
                )
            })
            .collect(),
    };
    let files = AtomicUsize::new(0);
    let total_bytes = AtomicU64::new(0);
    // Called from many threads: the sink is shared by the rendering threads.
    let write = |path: String, bytes: &[u8]| -> Result<()> {
        sink.write(&format!("{INDEX_DIR}/{path}"), bytes)?;
        files.fetch_add(1, Ordering::Relaxed);
        total_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    };
    write(
        "manifest.json".into(),
        serde_json::to_string(&manifest)?.as_bytes(),
    )?;

    // Records, one shard per 32 donations.
    donations
        .par_chunks(RECORDS_PER_SHARD)
        .enumerate()
        .try_for_each(|(shard, rows)| {
            let mut text = String::with_capacity(rows.len() * 80);
            for row in rows {
                let fund = fund_position.get(&*row.fund).copied().unwrap_or(0);
                let flags = match (row.voided.is_some(), !row.amended.is_empty()) {
                    (true, true) => "va",
                    (true, false) => "v",
                    (false, true) => "a",
                    (false, false) => "",
                };
                let corrections = correction_seqs(row.voided.as_deref(), &row.amended)
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                writeln!(
                    text,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    row.seq,
                    plain(&row.donor),
                    row.amount,
                    row.date,
                    fund,
                    plain(row.reference.as_deref().unwrap_or("")),
                    flags,
                    corrections
                )
                .expect("writing to a String cannot fail");
            }
            write(format!("r/{shard}"), text.as_bytes())
        })?;

    // References, by hash.
    let mut ref_shards: BTreeMap<u32, Vec<(String, usize)>> = BTreeMap::new();
    for (index, row) in donations.iter().enumerate() {
        if let Some(reference) = &row.reference {
            let folded = fold_reference(reference);
            ref_shards
                .entry(ref_shard(&folded, ref_bits))
                .or_default()
                .push((folded, index));
        }
    }
    ref_shards
        .into_par_iter()
        .try_for_each(|(shard, mut lines)| {
            lines.sort();
            let text: String = lines
                .iter()
                .map(|(reference, index)| format!("{reference}\t{index}\n"))
                .collect();
            write(format!("f/{shard}"), text.as_bytes())
        })?;

    // Postings: per block in parallel, then concatenated in block order so
    // every list stays sorted.
    let blocks: Vec<ahash::AHashMap<String, Vec<u32>>> = donations
        .par_chunks(BLOCK)
        .enumerate()
        .map(|(block, rows)| {
            let mut folds = ahash::AHashMap::new();
            let mut map: ahash::AHashMap<String, Vec<u32>> = ahash::AHashMap::new();
            // Each term is spelled into one reused buffer and copied only
            // when new: most rows repeat terms already seen.
            let mut term = String::new();
            let mut add = |term: &str, index: u32| match map.get_mut(term) {
                Some(list) => list.push(index),
                None => {
                    map.insert(term.to_string(), vec![index]);
                }
            };
            for (offset, row) in rows.iter().enumerate() {
                let index = (block * BLOCK + offset) as u32;
                for word in name_words_cached(&row.donor, &mut folds) {
                    term.clear();
                    term.push('n');
                    push_escaped(&mut term, &word);
                    add(&term, index);
                }
                term.clear();
                write!(term, "a{}", row.amount).expect("writing to a String cannot fail");
                add(&term, index);
                term.clear();
                term.push('d');
                term.extend(row.date.chars().filter(|&c| c != '-'));
                add(&term, index);
            }
            map
        })
        .collect();
    let mut postings: ahash::AHashMap<String, Vec<u32>> = ahash::AHashMap::new();
    for block in blocks {
        for (term, list) in block {
            postings.entry(term).or_default().extend(list);
        }
    }
    let mut terms: Vec<(String, Vec<u32>)> = postings.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    let mut dictionary: BTreeMap<String, String> = BTreeMap::new();
    for (term, list) in &terms {
        let line = dictionary.entry(dictionary_shard(term)).or_default();
        let newest = list.last().copied().unwrap_or(0);
        line.push_str(&format!("{term}\t{}\t{newest}", list.len()));
        if list.len() <= INLINE {
            line.push('\t');
            push_deltas(line, list.iter().copied());
        } else if list.len() > CHUNK {
            // Where each chunk starts, so a browser can fetch just the chunk
            // that would hold a given donation.
            line.push_str("\t\t");
            push_deltas(line, list.iter().step_by(CHUNK).copied());
        }
        line.push('\n');
    }
    for (shard, text) in &dictionary {
        write(format!("d/{shard}"), text.as_bytes())?;
    }
    terms
        .par_iter()
        .filter(|(_, list)| list.len() > INLINE)
        .flat_map_iter(|(term, list)| {
            list.chunks(CHUNK)
                .enumerate()
                .map(move |(k, chunk)| (term, k, chunk))
        })
        .try_for_each(|(term, k, chunk)| write(format!("p/{term}/{k}"), &encode_chunk(chunk)))?;
    Ok(IndexReport {
        files: files.into_inner(),
        bytes: total_bytes.into_inner(),
    })
}

/// Tabs and newlines would break a record line (validation refuses control
/// characters, but records must never depend on that).
fn plain(text: &str) -> Cow<'_, str> {
    let text = crate::vn::strip_bidi_controls(text);
    if text.contains(['\t', '\n', '\r']) {
        Cow::Owned(text.replace(['\t', '\n', '\r'], " "))
    } else {
        text
    }
}

/// The folded words of a donor's name that are indexed: alphanumeric runs,
/// without pure numbers (a number in a query is an amount or a reference).
pub fn name_words(name: &str) -> Vec<String> {
    name_words_cached(name, &mut ahash::AHashMap::new())
}

/// `name_words` with a cache of folded characters: folding one character at
/// a time gives the same result as `vn::fold` (marks fold to nothing,
/// whitespace splits words either way) at a fraction of the cost.
fn name_words_cached(name: &str, folds: &mut ahash::AHashMap<char, String>) -> Vec<String> {
    let mut folded = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii() {
            folded.push(c.to_ascii_lowercase());
        } else {
            let text = folds
                .entry(c)
                .or_insert_with(|| vn::fold(c.encode_utf8(&mut [0; 4])));
            folded.push_str(text);
        }
    }
    let mut words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !word.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// A term in a file path: `a`–`z` and `0`–`9` as they are, anything else as
/// `_<hex code point>_` (self-delimiting, so prefixes stay prefixes).
/// Appended to `out` (terms are spelled into one reused buffer).
fn push_escaped(out: &mut String, word: &str) {
    for c in word.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else {
            write!(out, "_{:x}_", c as u32).expect("writing to a String cannot fail");
        }
    }
}

/// The dictionary shard a term is listed in.
fn dictionary_shard(term: &str) -> String {
    let (kind, rest) = term.split_at(1);
    match kind {
        // Two characters of the word (each possibly escaped).
        "n" => {
            let mut shard = String::from("n");
            let mut chars = rest.chars();
            for _ in 0..2 {
                match chars.next() {
                    Some('_') => {
                        shard.push('_');
                        for c in chars.by_ref() {
                            shard.push(c);
                            if c == '_' {
                                break;
                            }
                        }
                    }
                    Some(c) => shard.push(c),
                    None => break,
                }
            }
            shard
        }
        "a" => format!("a{}-{}", rest.len(), &rest[..rest.len().min(2)]),
        _ => format!("d{}", &rest[..rest.len().min(6)]),
    }
}

/// Bank references compare case-insensitively, without spaces.
pub fn fold_reference(reference: &str) -> String {
    vn::fold(reference).replace(' ', "")
}

/// How many leading hash bits name a reference shard, so that shards hold at
/// most `REFS_PER_SHARD` references on average.
fn ref_bits(references: usize) -> u32 {
    let mut bits = 0;
    while bits < 24 && (references >> bits) > REFS_PER_SHARD {
        bits += 1;
    }
    bits
}

/// FNV-1a (32 bits): simple enough to compute the same way in the browser.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

fn ref_shard(folded: &str, bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        fnv1a(folded.as_bytes()) >> (32 - bits)
    }
}

/// Sorted numbers as comma-separated base-36 differences.
fn push_deltas(line: &mut String, values: impl Iterator<Item = u32>) {
    let mut previous = 0;
    for (position, value) in values.enumerate() {
        if position > 0 {
            line.push(',');
        }
        line.push_str(&base36(value - previous));
        previous = value;
    }
}

fn base36(mut value: u32) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(value % 36) as usize]);
        value /= 36;
        if value == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

fn put_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A chunk of sorted postings: `0` + varint(first) + varint deltas, or `1` +
/// varint(first) + a bitmap (bit i, least significant first, is `first + i`),
/// whichever is smaller.
fn encode_chunk(postings: &[u32]) -> Vec<u8> {
    let first = postings[0];
    let last = postings[postings.len() - 1];
    let mut deltas = vec![0u8];
    put_varint(&mut deltas, first);
    for pair in postings.windows(2) {
        put_varint(&mut deltas, pair[1] - pair[0]);
    }
    let bitmap_len = (last - first) as usize / 8 + 1;
    let mut bitmap = vec![1u8];
    put_varint(&mut bitmap, first);
    if bitmap.len() + bitmap_len >= deltas.len() {
        return deltas;
    }
    let start = bitmap.len();
    bitmap.resize(start + bitmap_len, 0);
    for &index in postings {
        let bit = (index - first) as usize;
        bitmap[start + bit / 8] |= 1 << (bit % 8);
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_chunk(bytes: &[u8]) -> Vec<u32> {
        let mut position = 1;
        let varint = |position: &mut usize| {
            let (mut value, mut shift) = (0u32, 0);
            loop {
                let byte = bytes[*position];
                *position += 1;
                value |= u32::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    return value;
                }
                shift += 7;
            }
        };
        let first = varint(&mut position);
        let mut out = vec![first];
        if bytes[0] == 0 {
            while position < bytes.len() {
                let next = out[out.len() - 1] + varint(&mut position);
                out.push(next);
            }
        } else {
            out.clear();
            for (offset, byte) in bytes[position..].iter().enumerate() {
                for bit in 0..8 {
                    if byte & (1 << bit) != 0 {
                        out.push(first + (offset * 8 + bit) as u32);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn chunks_round_trip_in_both_encodings() {
        let sparse = vec![5, 300, 70_000, 1_000_000];
        let dense: Vec<u32> = (1000..5000).filter(|i| i % 3 != 0).collect();
        assert_eq!(encode_chunk(&sparse)[0], 0);
        assert_eq!(encode_chunk(&dense)[0], 1);
        assert_eq!(decode_chunk(&encode_chunk(&sparse)), sparse);
        assert_eq!(decode_chunk(&encode_chunk(&dense)), dense);
        assert_eq!(decode_chunk(&encode_chunk(&[7])), [7]);
    }

    #[test]
    fn names_fold_into_words() {
        assert_eq!(name_words("Nguyễn Văn An"), ["an", "nguyen", "van"]);
        assert_eq!(name_words("ĐINH thị-Đào 2024"), ["dao", "dinh", "thi"]);
        assert_eq!(name_words("Lớp 12A1"), ["12a1", "lop"]);
        for name in ["Nguyễn Văn Ấn", "Trương Thị Bích Ngọc", "Ê-đê Ông"] {
            let mut words: Vec<String> = vn::fold(name)
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect();
            words.sort();
            words.dedup();
            assert_eq!(name_words(name), words, "{name}");
        }
    }

    #[test]
    fn shards_and_escapes() {
        assert_eq!(dictionary_shard("nnguyen"), "nng");
        assert_eq!(dictionary_shard("na"), "na");
        let mut term = String::from("n");
        push_escaped(&mut term, "ökö");
        assert_eq!(term, "n_f6_k_f6_");
        assert_eq!(dictionary_shard(&term), "n_f6_k");
        assert_eq!(dictionary_shard("a500000"), "a6-50");
        assert_eq!(dictionary_shard("d20250912"), "d202509");
        assert_eq!(fold_reference("FT 2525 abc"), "ft2525abc");
        assert_eq!(ref_bits(0), 0);
        assert_eq!(ref_bits(1024), 0);
        assert_eq!(ref_bits(1025), 1);
        assert_eq!(ref_bits(5_000_000), 13);
        // The reference FNV-1a vectors.
        assert_eq!(fnv1a(b""), 0x811c9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c292c);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(71), "1z");
    }
}
