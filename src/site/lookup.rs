//! The static search index behind the lookup page (`/tra-cuu/`,
//! `/en/lookup/`): sharded files a browser fetches a few at a time, so a
//! query at 5,000,000 donations moves a bounded number of bytes and the site
//! stays plain files on any static host.
//!
//! Donations are numbered by their position among all donations (`index`,
//! the number that fixes their list page forever). Under `tra-cuu/chi-muc/`:
//!
//! ```text
//! manifest.json     format version, counts, page size, chunk sizes, funds (id, name, seq, corrections)
//! d/<shard>         dictionary: `term \t count \t newest [\t postings] [\t\t chunk starts [\t runs]]`
//! p/<term>/<k>      postings chunk k of a term: its postings k·4096 .. (k+1)·4096
//! r/<k>             records of donations k·16 .. (k+1)·16, one per line:
//!                   `seq \t donor \t amount \t date \t fund \t ref \t flags \t corrections
//!                    \t booking time \t account \t description \t note`
//! ```
//!
//! Terms (`terms_of`): `w<word>` for each folded word of the donor's name,
//! the bank's description and the note; `b<word>.<word>` for each pair and
//! `t<word>.<word>.<word>` for each three of adjacent words (so words typed
//! in order find adjacent words first without positions, and a name of
//! three words, or each three of a longer one, is one term whose list and
//! exact count are one dictionary line); `c<code>` for code-like tokens (a part holding a
//! digit, 6 characters or more: `ft24256123456789`, `7012345678`; a dotted
//! chain's prefixes `mbvcb.7012345678`, `mbvcb.7012345678.123456`; the
//! bank reference, without spaces); `a<amount>`, `d<yyyymmdd>`, and the two
//! together, `x<amount>-<yyyymmdd>`. Words and
//! codes are spelled in paths with `a`–`z`, `0`–`9` as they are and anything
//! else as `_<hex code point>_`. `tokens` is the one definition of words and
//! codes; `lookup/fold.js` implements it again and `node --test` checks it
//! against vectors this module writes (`write_vectors`).
//!
//! Dictionary shards: a word by its first two characters (`wng` holds
//! `wnguyen`, `wngoc`…), a pair by the first two of its first word and the
//! first of its second (`bng.v`), three words likewise (`tng.v.a`), an amount by its digit count and first
//! two digits (`a6-50`), a date by its month (`d202409`), an amount on a
//! day by both (`x6-50-202409`), a code by the
//! leading `code_bits` bits of its FNV-1a hash (`c<n>`), so one holds about
//! `CODES_PER_SHARD` codes. A term with at most `INLINE` postings keeps them
//! in its dictionary line and has no postings file; so does a longer one in
//! at most `RUNS_INLINE` runs of consecutive donations (a day), as runs
//! (`gap,length − 1` pairs in base 36). A postings chunk is
//! varint deltas, a bitmap or runs, whichever is smallest (a day's
//! donations are a few runs, one per imported statement).
//!
//! The browser (`lookup/index.js`) gets the exact count of a single term
//! from its dictionary line and streams its postings newest first, a chunk
//! at a time; for several criteria it intersects the exact sets, rarest
//! first, fetching of each other criterion only the chunks that would hold
//! a remaining candidate (the dictionary lists where every chunk starts).
//! Pair and three-word terms give the phrase matches, which rank first and
//! are what the page counts until asked for the words apart too.
//!
//! Determinism: every map is sorted before output, so a rebuild gives the
//! same bytes; an append changes the manifest, the newest record shard, the
//! last chunk and dictionary line of each term it touches.

pub mod extend;

use super::model::{CorrectionRef, DonationRow, Model, ModelOptions};
use super::output::{MemorySink, Sink};
use super::routes;
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

/// Postings per chunk file.
pub const CHUNK: usize = 4096;
/// Donations per record shard: a result's record costs a 16th of a shard
/// of descriptions (about 3 KB), and a page of results spread over the log
/// stays well under the query budget.
pub const RECORDS_PER_SHARD: usize = 16;
/// Average codes per code dictionary shard, at most.
pub const CODES_PER_SHARD: usize = 256;
/// The index format, in the manifest: the page refuses, saying so, an index
/// of another version (a cached old script meeting a new index).
pub const FORMAT_VERSION: u32 = 4;
/// A part holding a digit is a code from this many characters.
pub const CODE_MIN: usize = 6;
/// A word or code longer than this, spelled as in paths, is not indexed:
/// its term (a pair is two) must stay a short file name.
pub const TERM_MAX: usize = 60;
/// Postings kept inline in the dictionary when a term has at most this many.
pub const INLINE: usize = 16;
/// A longer term's postings are kept in the dictionary as runs of
/// consecutive donations when they are at most this many runs (a day's
/// donations: a few runs, one per statement), and it has no postings files.
pub const RUNS_INLINE: usize = 64;
/// Donations per parallel indexing block; a few in unit tests, so that
/// their indexes cross blocks and windows.
const BLOCK: usize = if cfg!(test) { 7 } else { 65_536 };
/// Blocks indexed at a time before their postings are merged: a few per
/// core, so both stay busy while little is held.
const WINDOW_BLOCKS: usize = 4;

/// Rebuilds the index from a published log's entries (proven by
/// `verify --site`) and compares it with the site's `tra-cuu/chi-muc/`,
/// file by file: a record, a fund name, a correction or a posting the
/// ledger does not say is found here, where the browser, which proves only
/// the results it shows, cannot see a missing one. Returns how many files
/// were compared. Takes the log's entries (`log.entries` is left empty):
/// the model consumes them rather than copying millions.
pub fn check_index(site: &Path, log: &mut PublishedLog, privacy: &PrivacyConfig) -> Result<usize> {
    let dir = site.join(routes::LOOKUP_INDEX_DIR);
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
        &log.state.settled(),
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
    /// Distinct code terms, and the hash bits that shard them.
    pub codes: usize,
    pub code_bits: u32,
}

#[derive(Serialize)]
struct Manifest<'a> {
    version: u32,
    donations: usize,
    page_size: usize,
    chunk: usize,
    records: usize,
    inline: usize,
    code_bits: u32,
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

/// The words and codes of a text, folded as `vn::fold` folds.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    /// Runs of adjacent words, in order: a number between two words (a
    /// date, a code) ends a run, so only words that touch make a pair.
    pub runs: Vec<Vec<String>>,
    /// Code-like tokens, in order of appearance, without repeats.
    pub codes: Vec<String>,
}

/// Splits a text into words and codes: the one definition the index and
/// the page (`lookup/fold.js`, checked against `write_vectors`) share.
///
/// The folded text is cut at whitespace into pieces and each piece into
/// parts, the runs of letters and digits. A part without a digit is a word;
/// a part with a digit is a code if it has `CODE_MIN` characters or more,
/// a word if it also has a letter (`12a1`), else nothing (a short number: an
/// amount, a day, a time). A part longer than `TERM_MAX` spelled as in
/// paths is nothing too. Words are adjacent unless something that is not
/// a word comes between them. A piece whose parts are joined by dots (the
/// SMS code `MBVCB.7012345678.123456`) also gives each prefix ending before
/// a dot or at its end, from its second part on, if it holds a code part.
pub fn tokens(text: &str) -> Tokens {
    tokens_cached(text, &mut ahash::AHashMap::new())
}

fn tokens_cached(text: &str, folds: &mut ahash::AHashMap<char, String>) -> Tokens {
    let folded = fold_cached(text, folds);
    let mut out = Tokens::default();
    let mut run: Vec<String> = Vec::new();
    for piece in folded.split(char::is_whitespace) {
        let parts = alphanumeric_runs(piece);
        let mut code_seen = false;
        for (position, &(begin, end)) in parts.iter().enumerate() {
            let part = &piece[begin..end];
            let has_digit = part.chars().any(char::is_numeric);
            let has_letter = part.chars().any(|c| !c.is_numeric());
            if escaped_len(part) > TERM_MAX {
                end_run(&mut out.runs, &mut run);
            } else if has_digit && part.chars().count() >= CODE_MIN {
                push_code(&mut out.codes, part);
                code_seen = true;
                end_run(&mut out.runs, &mut run);
            } else if !has_digit || has_letter {
                run.push(part.to_string());
            } else {
                end_run(&mut out.runs, &mut run);
            }
            // A dotted chain's prefixes, from its second part on.
            let chain_ends = position + 1 == parts.len() || piece[end..].starts_with('.');
            if position >= 1 && code_seen && chain_ends {
                let prefix = &piece[parts[0].0..end];
                if prefix.contains('.') && escaped_len(prefix) <= TERM_MAX {
                    push_code(&mut out.codes, prefix);
                }
            }
        }
    }
    end_run(&mut out.runs, &mut run);
    out
}

/// The length of a word spelled as in paths (`push_escaped`).
fn escaped_len(word: &str) -> usize {
    word.chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                1
            } else {
                format!("_{:x}_", c as u32).len()
            }
        })
        .sum()
}

/// The byte ranges of the runs of letters and digits of a piece.
fn alphanumeric_runs(piece: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (at, c) in piece.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(begin)) => {
                runs.push((begin, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(begin) = start {
        runs.push((begin, piece.len()));
    }
    runs
}

fn push_code(codes: &mut Vec<String>, code: &str) {
    if !codes.iter().any(|c| c == code) {
        codes.push(code.to_string());
    }
}

fn end_run(runs: &mut Vec<Vec<String>>, run: &mut Vec<String>) {
    if !run.is_empty() {
        runs.push(std::mem::take(run));
    }
}

/// `vn::fold` one character at a time, with a cache: marks fold to nothing
/// and whitespace only separates, so the tokens are the same at a fraction
/// of the cost (`tests::cached_folding_tokenizes_as_vn_fold`).
fn fold_cached(text: &str, folds: &mut ahash::AHashMap<char, String>) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            folded.push(c.to_ascii_lowercase());
        } else {
            let text = folds
                .entry(c)
                .or_insert_with(|| vn::fold(c.encode_utf8(&mut [0; 4])));
            if text.is_empty() && c.is_whitespace() {
                folded.push(' ');
            } else {
                folded.push_str(text);
            }
        }
    }
    folded
}

/// The searchable texts of a donation: its donor, the bank's description and
/// its note (the donor's name is usually inside the description too).
fn texts(row: &super::model::DonationRow) -> impl Iterator<Item = &str> {
    std::iter::once(row.donor.as_str())
        .chain(row.description.as_deref())
        .chain(row.note.as_deref())
}

/// Every term of a donation, each once, spelled as in paths.
pub fn terms_of(row: &super::model::DonationRow) -> Vec<String> {
    let mut folds = ahash::AHashMap::new();
    let mut terms = Terms::default();
    push_terms(row, &mut folds, &mut terms);
    terms.unique().into_iter().map(str::to_string).collect()
}

/// A donation's terms, spelled one after another into one buffer that is
/// reused from row to row: a `String` a term (25 a row with a bank text)
/// was most of the index's allocations.
#[derive(Default)]
struct Terms {
    text: String,
    /// Where each term ends in `text`.
    ends: Vec<usize>,
}

impl Terms {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Starts a term of `kind` (`w`, `b`, …); `end` ends it.
    fn start(&mut self, kind: char) -> usize {
        let at = self.text.len();
        self.text.push(kind);
        at
    }

    fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    /// A whole term: `kind` and one word spelled as in paths.
    fn push(&mut self, kind: char, word: &str) {
        self.start(kind);
        push_escaped(&mut self.text, word);
        self.end();
    }

    /// The terms, each once, sorted.
    fn unique(&self) -> Vec<&str> {
        let mut start = 0;
        let mut terms: Vec<&str> = (self.ends.iter())
            .map(|&end| {
                let term = &self.text[start..end];
                start = end;
                term
            })
            .collect();
        terms.sort_unstable();
        terms.dedup();
        terms
    }
}

fn push_terms(
    row: &super::model::DonationRow,
    folds: &mut ahash::AHashMap<char, String>,
    terms: &mut Terms,
) {
    for text in texts(row) {
        let found = tokens_cached(text, folds);
        for run in &found.runs {
            for (position, word) in run.iter().enumerate() {
                terms.push('w', word);
                if let Some(next) = run.get(position + 1) {
                    let pair = terms.start('b');
                    push_escaped(&mut terms.text, word);
                    terms.text.push('.');
                    push_escaped(&mut terms.text, next);
                    terms.end();
                    if let Some(third) = run.get(position + 2) {
                        let words = pair + 1..terms.text.len();
                        terms.start('t');
                        terms.text.extend_from_within(words);
                        terms.text.push('.');
                        push_escaped(&mut terms.text, third);
                        terms.end();
                    }
                }
            }
        }
        for code in &found.codes {
            terms.push('c', code);
        }
    }
    if let Some(reference) = &row.reference {
        let folded = fold_reference(reference);
        if !folded.is_empty() {
            terms.push('c', &folded);
        }
    }
    let day = || row.date.chars().filter(|&c| c != '-');
    terms.start('a');
    write!(terms.text, "{}", row.amount).expect("writing to a String cannot fail");
    terms.end();
    // An amount on a day, one term: a donation has exactly one of each, so
    // a name, an amount and a day need two lists, not three.
    terms.start('x');
    write!(terms.text, "{}-", row.amount).expect("writing to a String cannot fail");
    terms.text.extend(day());
    terms.end();
    terms.start('d');
    terms.text.extend(day());
    terms.end();
}

/// The parts the postings' terms are merged in, in parallel.
const MERGE_PARTS: usize = 64;

/// Terms and their postings (donation numbers, ascending).
type Postings = Vec<(String, Vec<u32>)>;

/// Writes the whole index for the model's donations.
pub fn write_index(model: &Model, page_size: usize, sink: &dyn Sink) -> Result<IndexReport> {
    let writer = IndexWriter::new(sink);
    let donations = model.donations.all()?;
    let (codes, code_bits) = write_rows(&donations, &fund_positions(model), &writer)?;
    writer.write_manifest(model, page_size, code_bits)?;
    Ok(writer.report(codes, code_bits))
}

/// Writes the records, dictionary and postings of `donations` (everything
/// but the manifest); returns the number of distinct codes and the hash
/// bits that shard them.
fn write_rows(
    donations: &[&DonationRow],
    fund_position: &BTreeMap<&str, usize>,
    writer: &IndexWriter,
) -> Result<(usize, u32)> {
    // Records, one shard per 16 donations, written on one thread while the
    // postings are made on the others: created from two threads at once in
    // their one directory, each waited (spinning) for the directory's lock.
    let (records, terms) = rayon::join(
        || -> Result<()> {
            for (shard, rows) in donations.chunks(RECORDS_PER_SHARD).enumerate() {
                let text = record_shard(rows, fund_position);
                writer.write(format!("r/{shard}"), text.as_bytes())?;
            }
            Ok(())
        },
        || merged_postings(donations),
    );
    records?;
    let codes = terms
        .iter()
        .filter(|(term, _)| term.starts_with('c'))
        .count();
    let code_bits = code_bits(codes);

    // Each dictionary shard's lines in term order, the shards made and
    // written in parallel. Terms are grouped by a hash of their shard's
    // name, not the name (a string a term, all alive at once beside the
    // postings); a group's names are made again when it is written, and
    // split should two shards share a hash. Only a group's terms are put in
    // order, not all of them at once.
    let hasher = ahash::RandomState::with_seeds(0, 0, 0, 0);
    let mut by_hash: Vec<(u64, usize)> = terms
        .par_iter()
        .enumerate()
        .map(|(at, (term, _))| (hasher.hash_one(dictionary_shard(term, code_bits)), at))
        .collect();
    by_hash.par_sort_unstable();
    let groups: Vec<&[(u64, usize)]> = by_hash.chunk_by(|a, b| a.0 == b.0).collect();
    groups.par_iter().try_for_each(|group| {
        let mut lines: Vec<(String, &str, &[u32])> = (group.iter())
            .map(|&(_, at)| {
                let (term, list) = &terms[at];
                (
                    dictionary_shard(term, code_bits),
                    term.as_str(),
                    list.as_slice(),
                )
            })
            .collect();
        lines.sort_unstable_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        lines.chunk_by(|a, b| a.0 == b.0).try_for_each(|lines| {
            let mut text = String::new();
            for &(_, term, list) in lines {
                push_dictionary_line(&mut text, term, list);
            }
            writer.write(format!("d/{}", lines[0].0), text.as_bytes())
        })
    })?;
    terms
        .par_iter()
        .filter(|(_, list)| has_chunks(list))
        .flat_map_iter(|(term, list)| {
            list.chunks(CHUNK)
                .enumerate()
                .map(move |(k, chunk)| (term, k, chunk))
        })
        .try_for_each(|(term, k, chunk)| {
            writer.write(format!("p/{term}/{k}"), &encode_chunk(chunk))
        })?;
    Ok((codes, code_bits))
}

/// Every term's postings (the terms in no order): a window of blocks at a time, each
/// block's postings made in parallel and parted by their terms' hash, then
/// each part's lists extended in block order, the parts in parallel, so every
/// list stays sorted. Only one window's block postings are alive beside the
/// merged ones (made for every block before merging, they were most of the
/// index's memory at W3; merged on one thread, the index's serial tail).
fn merged_postings(donations: &[&DonationRow]) -> Postings {
    let parting = ahash::RandomState::with_seeds(0, 0, 0, 0);
    let mut merged: Vec<ahash::AHashMap<String, Vec<u32>>> =
        (0..MERGE_PARTS).map(|_| ahash::AHashMap::new()).collect();
    let window = BLOCK * WINDOW_BLOCKS;
    for (at, rows) in donations.chunks(window).enumerate() {
        let blocks: Vec<Vec<Postings>> = rows
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(block, rows)| {
                let mut parts: Vec<Postings> = vec![Vec::new(); MERGE_PARTS];
                for (term, list) in postings_of(rows, at * window + block * BLOCK) {
                    let part = parting.hash_one(&term) % MERGE_PARTS as u64;
                    parts[part as usize].push((term, list));
                }
                parts
            })
            .collect();
        let mut by_part: Vec<Vec<Postings>> = (0..MERGE_PARTS)
            .map(|_| Vec::with_capacity(blocks.len()))
            .collect();
        for block in blocks {
            for (part, lists) in block.into_iter().enumerate() {
                by_part[part].push(lists);
            }
        }
        merged
            .par_iter_mut()
            .zip(by_part)
            .for_each(|(merged, blocks)| {
                for (term, list) in blocks.into_iter().flatten() {
                    merged.entry(term).or_default().extend(list);
                }
            });
    }
    merged.into_par_iter().flat_map_iter(|part| part).collect()
}

/// Writes the files of the index under `tra-cuu/chi-muc/`, counting them.
/// Called from many threads: the sink is shared by the rendering threads.
struct IndexWriter<'s> {
    sink: &'s dyn Sink,
    files: AtomicUsize,
    bytes: AtomicU64,
}

impl<'s> IndexWriter<'s> {
    fn new(sink: &'s dyn Sink) -> IndexWriter<'s> {
        IndexWriter {
            sink,
            files: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    fn write(&self, path: String, bytes: &[u8]) -> Result<()> {
        self.sink
            .write(&format!("{}/{path}", routes::LOOKUP_INDEX_DIR), bytes)?;
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    fn write_manifest(&self, model: &Model, page_size: usize, code_bits: u32) -> Result<()> {
        let manifest = Manifest {
            version: FORMAT_VERSION,
            donations: model.donations.len(),
            page_size,
            chunk: CHUNK,
            records: RECORDS_PER_SHARD,
            inline: INLINE,
            code_bits,
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
        self.write(
            "manifest.json".into(),
            serde_json::to_string(&manifest)?.as_bytes(),
        )
    }

    fn report(self, codes: usize, code_bits: u32) -> IndexReport {
        IndexReport {
            files: self.files.into_inner(),
            bytes: self.bytes.into_inner(),
            codes,
            code_bits,
        }
    }
}

/// Each fund's position in the manifest, by id: records name funds so.
fn fund_positions(model: &Model) -> BTreeMap<&str, usize> {
    model
        .funds
        .iter()
        .enumerate()
        .map(|(position, fund)| (fund.id.as_str(), position))
        .collect()
}

/// The text of one record shard: a line per donation.
fn record_shard(rows: &[&DonationRow], fund_position: &BTreeMap<&str, usize>) -> String {
    let mut text = String::with_capacity(rows.len() * 200);
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
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            row.seq,
            plain(&row.donor),
            row.amount,
            row.date,
            fund,
            plain(row.reference.as_deref().unwrap_or("")),
            flags,
            corrections,
            plain(row.booking_time.as_deref().unwrap_or("")),
            plain(row.account.as_deref().unwrap_or("")),
            plain(row.description.as_deref().unwrap_or("")),
            plain(row.note.as_deref().unwrap_or("")),
        )
        .expect("writing to a String cannot fail");
    }
    text
}

/// Every term of `rows` with the donations (numbered from `first`) that
/// hold it, in order.
fn postings_of(rows: &[&DonationRow], first: usize) -> ahash::AHashMap<String, Vec<u32>> {
    let mut folds = ahash::AHashMap::new();
    let mut map: ahash::AHashMap<String, Vec<u32>> = ahash::AHashMap::new();
    let mut terms = Terms::default();
    for (offset, row) in rows.iter().enumerate() {
        let index = (first + offset) as u32;
        terms.clear();
        push_terms(row, &mut folds, &mut terms);
        for term in terms.unique() {
            match map.get_mut(term) {
                Some(list) => list.push(index),
                None => {
                    map.insert(term.to_string(), vec![index]);
                }
            }
        }
    }
    map
}

/// A term's dictionary line: `term \t count \t newest`, then its postings
/// when at most `INLINE`, else where each chunk starts (more than `CHUNK`)
/// and its runs (`in_runs`).
fn push_dictionary_line(line: &mut String, term: &str, list: &[u32]) {
    let newest = list.last().copied().unwrap_or(0);
    if !has_chunks(list) {
        write!(line, "{term}\t{}\t{newest}", list.len()).expect("writing to a String cannot fail");
    }
    if list.len() <= INLINE {
        line.push('\t');
        push_deltas(line, list.iter().copied());
        line.push('\n');
    } else if in_runs(list) {
        line.push_str("\t\t");
        if list.len() > CHUNK {
            push_deltas(line, list.iter().step_by(CHUNK).copied());
        }
        // A day's donations: a few runs, one per statement imported.
        line.push('\t');
        push_runs(line, list);
        line.push('\n');
    } else {
        push_chunked_line(
            line,
            term,
            list.len(),
            newest,
            list.iter().step_by(CHUNK).copied(),
        );
    }
}

/// The dictionary line of a term whose postings are in files: `term \t
/// count \t newest`, and where each chunk starts when there are several,
/// so a browser can fetch just the chunk that would hold a given donation.
fn push_chunked_line(
    line: &mut String,
    term: &str,
    count: usize,
    newest: u32,
    starts: impl Iterator<Item = u32>,
) {
    write!(line, "{term}\t{count}\t{newest}").expect("writing to a String cannot fail");
    if count > CHUNK {
        line.push_str("\t\t");
        push_deltas(line, starts);
    }
    line.push('\n');
}

/// Whether a term's postings are in files `p/<term>/<k>` (not in its
/// dictionary line).
fn has_chunks(list: &[u32]) -> bool {
    list.len() > INLINE && !in_runs(list)
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

/// The first `count` characters of an escaped word (an escape counts as one).
fn escaped_prefix(escaped: &str, count: usize) -> &str {
    let mut end = 0;
    let bytes = escaped.as_bytes();
    for _ in 0..count {
        if end >= bytes.len() {
            break;
        }
        if bytes[end] == b'_' {
            end += 1;
            while end < bytes.len() && bytes[end] != b'_' {
                end += 1;
            }
            end = (end + 1).min(bytes.len());
        } else {
            end += 1;
        }
    }
    &escaped[..end]
}

/// The dictionary shard a term is listed in.
pub fn dictionary_shard(term: &str, code_bits: u32) -> String {
    let (kind, rest) = term.split_at(1);
    match kind {
        "w" => format!("w{}", escaped_prefix(rest, 2)),
        "b" => {
            let (first, second) = rest.split_once('.').unwrap_or((rest, ""));
            format!(
                "b{}.{}",
                escaped_prefix(first, 2),
                escaped_prefix(second, 1)
            )
        }
        "t" => {
            let mut words = rest.splitn(3, '.');
            let mut next = || words.next().unwrap_or("");
            let (first, second, third) = (next(), next(), next());
            format!(
                "t{}.{}.{}",
                escaped_prefix(first, 2),
                escaped_prefix(second, 1),
                escaped_prefix(third, 1)
            )
        }
        "c" => format!("c{}", code_shard(rest, code_bits)),
        "a" => format!("a{}-{}", rest.len(), &rest[..rest.len().min(2)]),
        "x" => {
            let (amount, day) = rest.split_once('-').unwrap_or((rest, ""));
            format!(
                "x{}-{}-{}",
                amount.len(),
                &amount[..amount.len().min(2)],
                &day[..day.len().min(6)]
            )
        }
        _ => format!("d{}", &rest[..rest.len().min(6)]),
    }
}

/// Bank references compare case-insensitively, without spaces.
pub fn fold_reference(reference: &str) -> String {
    vn::fold(reference).replace(' ', "")
}

/// How many leading hash bits name a code shard, so that shards hold at
/// most `CODES_PER_SHARD` codes on average.
fn code_bits(codes: usize) -> u32 {
    let mut bits = 0;
    while bits < 24 && (codes >> bits) > CODES_PER_SHARD {
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

/// The shard of an (escaped) code: the leading bits of its FNV-1a hash.
fn code_shard(escaped: &str, bits: u32) -> u32 {
    if bits == 0 {
        0
    } else {
        fnv1a(escaped.as_bytes()) >> (32 - bits)
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

/// The runs of consecutive numbers of a sorted list: (gap from the end of
/// the previous run, or from 0; length − 1), as a chunk's runs are.
fn runs(list: &[u32]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut end = 0u32; // one past the previous run
    let mut at = 0;
    while at < list.len() {
        let start = list[at];
        let mut length = 1;
        while at + length < list.len() && list[at + length] == start + length as u32 {
            length += 1;
        }
        out.push((start - end, length as u32 - 1));
        end = start + length as u32;
        at += length;
    }
    out
}

/// Whether a term's postings go in its dictionary line as runs (and it has
/// no postings files): longer than `INLINE`, in at most `RUNS_INLINE` runs.
fn in_runs(list: &[u32]) -> bool {
    if list.len() <= INLINE {
        return false;
    }
    let mut count = 1;
    for pair in list.windows(2) {
        if pair[1] != pair[0] + 1 {
            count += 1;
            if count > RUNS_INLINE {
                return false;
            }
        }
    }
    true
}

/// Runs as comma-separated base-36 `gap,length − 1` pairs.
fn push_runs(line: &mut String, list: &[u32]) {
    for (position, (gap, length)) in runs(list).into_iter().enumerate() {
        if position > 0 {
            line.push(',');
        }
        line.push_str(&base36(gap));
        line.push(',');
        line.push_str(&base36(length));
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

/// A chunk of sorted postings, whichever of three forms is smallest:
/// `0` + varint(first) + varint deltas; `1` + varint(first) + a bitmap (bit
/// i, least significant first, is `first + i`); `2` + for each run of
/// consecutive postings varint(gap from the end of the previous run, or from
/// 0) + varint(length − 1).
pub fn encode_chunk(postings: &[u32]) -> Vec<u8> {
    let first = postings[0];
    let last = postings[postings.len() - 1];
    let mut deltas = vec![0u8];
    put_varint(&mut deltas, first);
    for pair in postings.windows(2) {
        put_varint(&mut deltas, pair[1] - pair[0]);
    }
    let mut runs = vec![2u8];
    for (gap, length) in self::runs(postings) {
        put_varint(&mut runs, gap);
        put_varint(&mut runs, length);
    }
    let bitmap_len = (last - first) as usize / 8 + 1;
    let mut bitmap = vec![1u8];
    put_varint(&mut bitmap, first);
    let best = if runs.len() < deltas.len() {
        runs
    } else {
        deltas
    };
    if bitmap.len() + bitmap_len >= best.len() {
        return best;
    }
    let start = bitmap.len();
    bitmap.resize(start + bitmap_len, 0);
    for &index in postings {
        let bit = (index - first) as usize;
        bitmap[start + bit / 8] |= 1 << (bit % 8);
    }
    bitmap
}

/// The postings of a chunk `encode_chunk` wrote; `None` if it is not one.
pub fn decode_chunk(bytes: &[u8]) -> Option<Vec<u32>> {
    let mut position = 1;
    let varint = |position: &mut usize| -> Option<u32> {
        let (mut value, mut shift) = (0u32, 0u32);
        loop {
            let byte = *bytes.get(*position)?;
            *position += 1;
            value |= u32::from(byte & 0x7f).checked_shl(shift)?;
            if byte < 0x80 {
                return Some(value);
            }
            shift += 7;
        }
    };
    let mut out = Vec::new();
    match *bytes.first()? {
        0 => {
            out.push(varint(&mut position)?);
            while position < bytes.len() {
                let next = out[out.len() - 1].checked_add(varint(&mut position)?)?;
                out.push(next);
            }
        }
        1 => {
            let first = varint(&mut position)?;
            for (offset, byte) in bytes[position..].iter().enumerate() {
                for bit in 0..8 {
                    if byte & (1 << bit) != 0 {
                        out.push(first.checked_add(u32::try_from(offset * 8 + bit).ok()?)?);
                    }
                }
            }
        }
        2 => {
            let mut end = 0u32;
            while position < bytes.len() {
                let start = end.checked_add(varint(&mut position)?)?;
                let length = varint(&mut position)?.checked_add(1)?;
                end = start.checked_add(length)?;
                out.extend(start..end);
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Numbers `push_deltas` wrote; `None` if the text is not such a list.
fn parse_deltas(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Some(out);
    }
    let mut value = 0u32;
    for delta in text.split(',') {
        value = value.checked_add(u32::from_str_radix(delta, 36).ok()?)?;
        out.push(value);
    }
    Some(out)
}

/// The postings `push_runs` wrote as runs.
fn parse_runs(text: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    let mut numbers = text.split(',');
    let mut end = 0u32;
    while let Some(gap) = numbers.next() {
        let length = u32::from_str_radix(numbers.next()?, 36)
            .ok()?
            .checked_add(1)?;
        let start = end.checked_add(u32::from_str_radix(gap, 36).ok()?)?;
        end = start.checked_add(length)?;
        out.extend(start..end);
    }
    Some(out)
}

/// Test vectors for the page's own implementation (`lookup/fold.js`,
/// `lookup/index.js`), written by `tests::vectors_for_the_page_are_current`
/// into `tests/data/vectors/lookup.json`, where `node --test tests/js/`
/// reads them: folding, words and codes, term spelling,
/// dictionary shards, hashes and the three chunk encodings.
pub fn vectors() -> serde_json::Value {
    let texts = [
        "Nguyễn Văn An",
        "NGUYEN VAN AN",
        "ĐINH thị-Đào 2024",
        "Lớp 12A1",
        "CT nhanh 247 den: NGUYEN VAN AN chuyen tien ung ho dong bao bi bao lu",
        "TKThe :0491000012345 tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho mien Bac",
        "Ung ho dong bao bi lu lut ; thoi gian GD:15/09/2024 23:08:17 PHAM VAN BINH 103871234***",
        "IBFT TRAN MINH CHAU chuyen khoan ung ho",
        "LE THI MAI UNG HO BA CON LU LUT FT24256123456789 -CTLNHIDI123456",
        "Chuyen tien den tu NAPAS Noi dung: ung ho",
        "  Trương   Thị Bích Ngọc\u{a0}ủng hộ\t",
        "Ê-đê Ông ÖKÖ straße ǅemal İstanbul Σοφία ΟΔΟΣ",
        "Ⓐ Ⅻ ½ ١٢٣٤٥٦ x²",
        "ung ho tu nguyen thi lan MB 0123456789",
        "Café\u{301} na\u{308}ive ﬁ",
        "ngắn ữữữữữữữữữữữ 中华人民共和国 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
        "mbvcb.7012345678.123456.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    let folded: Vec<serde_json::Value> = texts
        .iter()
        .map(|text| {
            serde_json::json!({
                "text": text,
                "fold": vn::fold(text),
                "tokens": tokens(text),
            })
        })
        .collect();
    let terms = [
        "wnguyen",
        "wa",
        "w_f6_k_f6_",
        "bnguyen.van",
        "b_f6_k.an",
        "bng.v",
        "tnguyen.van.an",
        "t_f6_k.an.b",
        "tng.v.a",
        "cft24256123456789",
        "cmbvcb_2e_7012345678",
        "a500000",
        "a50000",
        "d20240915",
        "x500000-20240915",
    ];
    let shards: Vec<serde_json::Value> = [0u32, 5, 13]
        .iter()
        .flat_map(|&bits| {
            terms.iter().map(move |term| {
                serde_json::json!({"term": term, "bits": bits, "shard": dictionary_shard(term, bits)})
            })
        })
        .collect();
    let escaped: Vec<serde_json::Value> = ["nguyen", "ökö", "mbvcb.7012345678", "a_b", "σοφια"]
        .iter()
        .map(|word| {
            let mut out = String::new();
            push_escaped(&mut out, word);
            serde_json::json!({"word": word, "escaped": out})
        })
        .collect();
    let lists: Vec<Vec<u32>> = vec![
        vec![7],
        vec![5, 300, 70_000, 1_000_000],
        (1000..5000).filter(|i| i % 3 != 0).collect(),
        (100..400).chain(9000..9100).chain(70_000..70_050).collect(),
        vec![0, 1, 2, 3, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152],
    ];
    let chunks: Vec<serde_json::Value> = lists
        .iter()
        .map(|list| {
            let bytes = encode_chunk(list);
            serde_json::json!({"postings": list, "bytes": bytes})
        })
        .collect();
    let mut deltas = String::new();
    push_deltas(&mut deltas, [3u32, 40, 41, 1_000_000].into_iter());
    let in_runs: Vec<u32> = (5..30).chain(40..41).chain(5000..5100).collect();
    let mut runs_text = String::new();
    push_runs(&mut runs_text, &in_runs);
    serde_json::json!({
        "format_version": FORMAT_VERSION,
        "code_min": CODE_MIN,
        "term_max": TERM_MAX,
        "folding": folded,
        "escaped": escaped,
        "shards": shards,
        "fnv1a": [["", fnv1a(b"")], ["a", fnv1a(b"a")], ["ft24256123456789", fnv1a(b"ft24256123456789")]],
        "chunks": chunks,
        "deltas": {"values": [3, 40, 41, 1_000_000], "text": deltas},
        "runs": {"values": in_runs, "text": runs_text},
        "runs_inline": RUNS_INLINE,
        "references": [["FT 2525 abc", fold_reference("FT 2525 abc")]],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_round_trip_in_each_encoding() {
        let sparse = vec![5, 300, 70_000, 1_000_000];
        let dense: Vec<u32> = (1000..5000).filter(|i| i % 3 != 0).collect();
        let runs: Vec<u32> = (100..4000).chain(90_000..90_100).collect();
        assert_eq!(encode_chunk(&sparse)[0], 0);
        assert_eq!(encode_chunk(&dense)[0], 1);
        assert_eq!(encode_chunk(&runs)[0], 2);
        assert!(encode_chunk(&runs).len() < 10);
        for list in [sparse, dense, runs, vec![7]] {
            assert_eq!(decode_chunk(&encode_chunk(&list)), Some(list));
        }
    }

    #[test]
    fn descriptions_give_words_pairs_and_codes() {
        let found =
            tokens("TKThe :0491000012345 tai VCB. MBVCB.7012345678.123456.LE THI HOA ung ho");
        assert_eq!(
            found.codes,
            [
                "0491000012345",
                "7012345678",
                "mbvcb.7012345678",
                "123456",
                "mbvcb.7012345678.123456",
                "mbvcb.7012345678.123456.le"
            ]
        );
        assert_eq!(
            found.runs,
            [
                vec!["tkthe"],
                vec!["tai", "vcb", "mbvcb"],
                vec!["le", "thi", "hoa", "ung", "ho"]
            ]
        );
        let found = tokens("LE THI MAI UNG HO FT24256123456789 -CTLNHIDI123456 ; GD:15/09/2024");
        assert_eq!(found.codes, ["ft24256123456789", "ctlnhidi123456"]);
        assert_eq!(found.runs[0], ["le", "thi", "mai", "ung", "ho"]);
        assert_eq!(found.runs[1], ["gd"]);
        assert_eq!(tokens("Nguyễn Văn Ấn").runs, [vec!["nguyen", "van", "an"]]);
        assert_eq!(tokens("Lớp 12A1").runs, [vec!["lop", "12a1"]]);
    }

    #[test]
    fn cached_folding_tokenizes_as_vn_fold() {
        for text in [
            "Nguyễn Văn Ấn",
            "Trương Thị Bích Ngọc\u{a0}ủng hộ",
            "Ê-đê Ông İstanbul ΟΔΟΣ",
            "Cafe\u{301} x\u{2003}y",
        ] {
            let whole = vn::fold(text);
            let cached = fold_cached(text, &mut ahash::AHashMap::new());
            let split = |t: &str| {
                t.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            assert_eq!(split(&whole), split(&cached), "{text}");
        }
    }

    #[test]
    fn a_few_runs_stay_in_the_dictionary() {
        let day: Vec<u32> = (100..5000).chain(9000..9100).collect();
        assert!(in_runs(&day));
        let mut text = String::new();
        push_runs(&mut text, &day);
        assert_eq!(text, format!("2s,{},{},2r", base36(4899), base36(4000)));
        let scattered: Vec<u32> = (0..200).map(|i| i * 3).collect();
        assert!(!in_runs(&scattered));
        assert!(!in_runs(&[1, 2, 3]));
    }

    #[test]
    fn shards_and_escapes() {
        assert_eq!(dictionary_shard("wnguyen", 0), "wng");
        assert_eq!(dictionary_shard("wa", 0), "wa");
        let mut term = String::from("w");
        push_escaped(&mut term, "ökö");
        assert_eq!(term, "w_f6_k_f6_");
        assert_eq!(dictionary_shard(&term, 0), "w_f6_k");
        assert_eq!(dictionary_shard("bnguyen.van", 0), "bng.v");
        assert_eq!(dictionary_shard("b_f6_k.an", 0), "b_f6_k.a");
        assert_eq!(dictionary_shard("tnguyen.van.an", 0), "tng.v.a");
        assert_eq!(dictionary_shard("t_f6_k.an._e1_n", 0), "t_f6_k.a._e1_");
        assert_eq!(dictionary_shard("a500000", 0), "a6-50");
        assert_eq!(dictionary_shard("d20250912", 0), "d202509");
        assert_eq!(dictionary_shard("x500000-20250912", 0), "x6-50-202509");
        assert_eq!(dictionary_shard("cft1234567", 0), "c0");
        assert_eq!(fold_reference("FT 2525 abc"), "ft2525abc");
        assert_eq!(code_bits(0), 0);
        assert_eq!(code_bits(256), 0);
        assert_eq!(code_bits(257), 1);
        // The reference FNV-1a vectors.
        assert_eq!(fnv1a(b""), 0x811c9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c292c);
        assert_eq!(base36(0), "0");
        assert_eq!(base36(71), "1z");
    }

    /// The page's modules are tested by `node --test` against these vectors:
    /// the committed file must be what this module writes (set
    /// `MINHBACH_WRITE_VECTORS=1` to rewrite it).
    #[test]
    fn vectors_for_the_page_are_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors/lookup.json");
        let text = serde_json::to_string_pretty(&vectors()).expect("JSON") + "\n";
        if std::env::var_os("MINHBACH_WRITE_VECTORS").is_some() {
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
            std::fs::write(&path, &text).expect("write");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "`{}` is stale: run `MINHBACH_WRITE_VECTORS=1 cargo test --lib site::lookup`",
            path.display()
        );
    }
}
