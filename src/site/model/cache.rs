//! The model cache: the rows a build made (`Rows`, before what is derived
//! from all of them), kept beside the output, so the next build adds only
//! the entries appended since instead of decoding every entry and turning
//! it into rows again.
//!
//! It is reused under the rule of `reuse` (ARCHITECTURE.md, "What a
//! rebuild trusts"): the same executable and config made it, from the
//! checkpoint it names, still kept with the same note, and nothing appended
//! since corrects an earlier entry. Not with citizen-ID digits shown: their
//! side store may change.
//!
//! Two places: `.public.model-state` (what made it, every row but the
//! donations of full chunks, and which chunks) and `.public.model-chunks/`,
//! the donation rows in chunks of 65,536, each a file named by its SHA-256.
//! Donation rows are only ever appended to, so a full chunk never changes:
//! it is written once and read by every later build. Every frame of the
//! state and every chunk is checked against its SHA-256 when read, so a
//! damaged file is not used (the build then makes every row again).

use super::{DisbursementRow, DonationRow, FundRow, HouseholdRow, Rows};
use crate::ledger::entry::{Entry, Stage};
use crate::site::output::Sink;
use crate::site::reuse::Maker;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// The state file's name beside the output (`.public.model-state`).
pub const STATE_FILE: &str = "model-state";

/// The folder of full chunks beside the output (`.public.model-chunks/`).
const CHUNKS: &str = "model-chunks";

/// What the state file starts with; the number changes with its layout.
const MAGIC: &[u8] = b"minhbach model cache 2\n";

/// Donation rows per chunk (a few in unit tests, so they cross several).
#[cfg(not(test))]
const CHUNK: usize = 65_536;
#[cfg(test)]
const CHUNK: usize = 4;

/// The state's first frame: what made it and where its donations are.
#[derive(Serialize, Deserialize)]
struct Index<'a> {
    maker: Cow<'a, Maker>,
    /// The SHA-256 (hex) of each full chunk, in order: its file's name.
    sealed: Cow<'a, [String]>,
    donations: usize,
}

/// The state's second frame: every row but the donations.
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    size: u64,
    funds: Cow<'a, [FundRow]>,
    households: Cow<'a, [HouseholdRow]>,
    household_stages: Cow<'a, [Option<Stage>]>,
    disbursements: Cow<'a, [DisbursementRow]>,
    live_changes: Cow<'a, [(String, u64, usize, Stage)]>,
    /// The newest entries' lines.
    newest: Vec<String>,
    signed_fund_names: Cow<'a, BTreeMap<String, String>>,
    with_citizen_id_digits: usize,
}

/// Keeps `rows` for the next build: writes the full chunks these rows did
/// not come from (unless kept with the same bytes) and returns the state
/// file's bytes. `None` without a place beside the
/// output, or when a chunk cannot be written (the next build then makes
/// every row).
pub fn store(sink: &dyn Sink, rows: &Rows, maker: &Maker) -> Option<Vec<u8>> {
    let folder = sink.state_path(CHUNKS)?;
    std::fs::create_dir_all(&folder).ok()?;
    let full = rows.donations.len() / CHUNK;
    let mut sealed = rows.sealed.clone();
    sealed.truncate(full);
    let added: Vec<String> = rows.donations[sealed.len() * CHUNK..full * CHUNK]
        .par_chunks(CHUNK)
        .map(|chunk| {
            let bytes = postcard::to_stdvec(chunk).ok()?;
            let name = crate::ledger::hex(&Sha256::digest(&bytes));
            let path = folder.join(&name);
            // A chunk of that name is kept if it holds these bytes; one
            // damaged is replaced, else every build after would find it so.
            if !std::fs::read(&path).is_ok_and(|kept| kept == bytes) {
                let temp = folder.join(format!("{name}-{}", std::process::id()));
                std::fs::write(&temp, &bytes).ok()?;
                std::fs::rename(&temp, &path).ok()?;
            }
            Some(name)
        })
        .collect::<Option<_>>()?;
    sealed.extend(added);
    let index = Index {
        maker: Cow::Borrowed(maker),
        sealed: Cow::Borrowed(&sealed),
        donations: rows.donations.len(),
    };
    let head = Head {
        size: rows.size,
        funds: Cow::Borrowed(&rows.funds),
        households: Cow::Borrowed(&rows.households),
        household_stages: Cow::Borrowed(&rows.household_stages),
        disbursements: Cow::Borrowed(&rows.disbursements),
        live_changes: Cow::Borrowed(&rows.live_changes),
        newest: rows.newest.iter().map(Entry::to_line).collect(),
        signed_fund_names: Cow::Borrowed(&rows.signed_fund_names),
        with_citizen_id_digits: rows.with_citizen_id_digits,
    };
    let tail = &rows.donations[full * CHUNK..];
    let frames = [
        postcard::to_stdvec(&index).ok()?,
        postcard::to_stdvec(&head).ok()?,
        postcard::to_stdvec(tail).ok()?,
    ];
    let mut bytes = MAGIC.to_vec();
    for frame in &frames {
        bytes.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(frame));
        bytes.extend_from_slice(frame);
    }
    Some(bytes)
}

/// The next frame of `rest`, checked against its SHA-256.
fn frame<'b>(rest: &mut &'b [u8]) -> Option<&'b [u8]> {
    let length = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
    let frame = rest.get(40..40usize.checked_add(length)?)?;
    (Sha256::digest(frame).as_slice() == &rest[8..40]).then_some(())?;
    *rest = &rest[40 + length..];
    Some(frame)
}

/// What made the cache beside the sink's output, read without its rows.
pub fn maker(sink: &dyn Sink) -> Option<Maker> {
    let mut file = std::fs::File::open(sink.state_path(STATE_FILE)?).ok()?;
    let mut start = vec![0; MAGIC.len() + 40];
    file.read_exact(&mut start).ok()?;
    let length = u64::from_le_bytes(start[MAGIC.len()..][..8].try_into().ok()?);
    let mut bytes = start;
    file.take(length).read_to_end(&mut bytes).ok()?;
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let index: Index = postcard::from_bytes(frame(&mut rest)?).ok()?;
    Some(index.maker.into_owned())
}

/// The rows the cache beside the sink's output holds, or `None` if it is
/// damaged, missing a chunk, or not one.
pub fn load(sink: &dyn Sink) -> Option<Rows> {
    let bytes = sink.previous_state(STATE_FILE)?;
    let folder = sink.state_path(CHUNKS)?;
    let mut rest = bytes.strip_prefix(MAGIC)?;
    let index: Index = postcard::from_bytes(frame(&mut rest)?).ok()?;
    let head = frame(&mut rest)?;
    let tail = frame(&mut rest)?;
    // Every other row (a 170 MB frame at W3) decoded beside the donations.
    let (head, donations) = rayon::join(
        || postcard::from_bytes::<Head>(head).ok(),
        || donation_rows(&folder, &index, tail),
    );
    let (head, donations) = (head?, donations?);
    let newest = head
        .newest
        .iter()
        .map(|line| Entry::from_line(line.as_bytes()).ok())
        .collect::<Option<_>>()?;
    if donations.len() != index.donations || !rest.is_empty() {
        return None;
    }
    let mut rows = Rows {
        size: head.size,
        funds: head.funds.into_owned(),
        households: head.households.into_owned(),
        household_stages: head.household_stages.into_owned(),
        donations,
        disbursements: head.disbursements.into_owned(),
        live_changes: head.live_changes.into_owned(),
        newest,
        signed_fund_names: head.signed_fund_names.into_owned(),
        with_citizen_id_digits: head.with_citizen_id_digits,
        sealed: index.sealed.into_owned(),
        ..Rows::default()
    };
    let spare = rows.households.len() / 16;
    rows.households.reserve(spare);
    rows.household_stages.reserve(spare);
    rows.disbursements.reserve(rows.disbursements.len() / 16);
    rows.index();
    Some(rows)
}

/// The donation rows: the full chunks', then the tail's.
fn donation_rows(folder: &Path, index: &Index, tail: &[u8]) -> Option<Vec<DonationRow>> {
    // Room for the entries a rebuild adds: a full `Vec` grows by doubling,
    // which for a million rows is a copy of them into fresh memory.
    let mut donations = Vec::with_capacity(index.donations + CHUNK);
    // Two chunks at a time, one per core: all decoded at once, they and
    // the rows they are moved into were twice the rows' memory.
    for pair in index.sealed.chunks(2) {
        let chunks: Vec<Vec<DonationRow>> = pair
            .par_iter()
            .map(|name| read_chunk(folder, name))
            .collect::<Option<_>>()?;
        donations.extend(chunks.into_iter().flatten());
    }
    donations.extend(postcard::from_bytes::<Vec<DonationRow>>(tail).ok()?);
    Some(donations)
}

/// A full chunk, checked against its name.
fn read_chunk(folder: &Path, name: &str) -> Option<Vec<DonationRow>> {
    let bytes = std::fs::read(folder.join(name)).ok()?;
    (crate::ledger::hex(&Sha256::digest(&bytes)) == name).then_some(())?;
    postcard::from_bytes(&bytes).ok()
}

/// Removes the chunks beside `output` that its model state does not name
/// (after the state is written): those of rows made again after a
/// correction, and those a build left before it was interrupted.
pub fn sweep(output: &Path) {
    let folder = crate::site::output::state_path(output, CHUNKS);
    let Ok(listing) = std::fs::read_dir(&folder) else {
        return;
    };
    let state = std::fs::read(crate::site::output::state_path(output, STATE_FILE)).ok();
    let named: Vec<String> = state
        .as_deref()
        .and_then(|bytes| {
            let mut rest = bytes.strip_prefix(MAGIC)?;
            let index: Index = postcard::from_bytes(frame(&mut rest)?).ok()?;
            Some(index.sealed.into_owned())
        })
        .unwrap_or_default();
    for file in listing.flatten() {
        if !named.iter().any(|name| file.file_name() == name.as_str()) {
            let _ = std::fs::remove_file(file.path());
        }
    }
}

thread_local! {
    /// The shared strings read on this thread, so a million rows that name
    /// one fund hold one copy of its name.
    static SHARED: RefCell<HashMap<Box<str>, Arc<str>>> = RefCell::new(HashMap::new());
}

/// Reads a row's shared string (a fund's id or name) as one `Arc` per
/// distinct value and thread.
pub fn shared<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Arc<str>, D::Error> {
    let text = <&str>::deserialize(deserializer)?;
    Ok(SHARED.with(|shared| {
        let mut shared = shared.borrow_mut();
        match shared.get(text) {
            Some(value) => value.clone(),
            None => {
                let value: Arc<str> = text.into();
                shared.insert(text.into(), value.clone());
                value
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::entry::Channel;
    use crate::site::model::Anchor;
    use crate::site::output::{StagingSink, write_state};

    fn donation(seq: u64, fund: &Arc<str>) -> DonationRow {
        DonationRow {
            seq,
            index: seq as usize,
            page: seq as usize / 100 + 1,
            fund: fund.clone(),
            fund_name: fund.clone(),
            donor: format!("Người {seq}"),
            amount: 100_000 + seq,
            date: "2025-09-15".into(),
            channel: Channel::Bank,
            booking_time: Some("08:15:00".into()),
            account: None,
            reference: Some(format!("FT{seq}")),
            description: Some("UNG HO BAO LU".into()),
            note: None,
            voided: None,
            amended: Vec::new(),
            anchor: Anchor(seq),
        }
    }

    fn rows(count: u64) -> Rows {
        let fund: Arc<str> = "cuu-tro".into();
        Rows {
            size: count,
            donations: (0..count).map(|seq| donation(seq, &fund)).collect(),
            ..Rows::default()
        }
    }

    fn made_at(size: u64) -> Maker {
        Maker {
            code: "c".into(),
            config: "k".into(),
            size,
            checkpoint: "note".into(),
        }
    }

    /// Stores `rows` as a build does: the chunks at once, the state after
    /// the merge, then the sweep.
    fn keep(output: &Path, rows: &Rows, size: u64) {
        let sink = StagingSink::new(output).unwrap();
        let state = store(&sink, rows, &made_at(size)).unwrap();
        sink.discard();
        write_state(output, STATE_FILE, &state).unwrap();
        sweep(output);
    }

    fn chunk_files(output: &Path) -> Vec<std::path::PathBuf> {
        let folder = crate::site::output::state_path(output, CHUNKS);
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|file| file.unwrap().path())
            .collect();
        files.sort();
        files
    }

    fn read_back(output: &Path) -> Option<Rows> {
        let sink = StagingSink::new(output).unwrap();
        let rows = load(&sink);
        sink.discard();
        rows
    }

    fn bytes_of(rows: &[DonationRow]) -> Vec<u8> {
        postcard::to_stdvec(rows).unwrap()
    }

    /// An output folder beside which ten rows were kept.
    fn ten_rows_kept() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        std::fs::create_dir(&output).unwrap();
        keep(&output, &rows(10), 10);
        (dir, output)
    }

    #[test]
    fn rows_read_back_are_the_rows_kept_and_full_chunks_are_written_once() {
        let (_dir, output) = ten_rows_kept();
        let sink = StagingSink::new(&output).unwrap();
        assert_eq!(maker(&sink), Some(made_at(10)));
        sink.discard();
        let first = chunk_files(&output);
        assert_eq!(first.len(), 2, "10 rows: two full chunks of 4 and a tail");
        let mut back = read_back(&output).unwrap();
        assert_eq!(bytes_of(&back.donations), bytes_of(&rows(10).donations));
        assert_eq!(back.sealed.len(), 2);

        // Extended by seven rows: the two chunks are kept as they are, one
        // more is full, the tail holds the rest.
        let fund = back.fund_names.first().map(|(id, _)| id.clone());
        let fund = fund.unwrap_or_else(|| "cuu-tro".into());
        back.donations
            .extend((10..17).map(|seq| donation(seq, &fund)));
        back.size = 17;
        let written = std::fs::metadata(&first[0]).unwrap().modified().unwrap();
        keep(&output, &back, 17);
        let second = chunk_files(&output);
        assert_eq!(second.len(), 4);
        assert!(first.iter().all(|file| second.contains(file)));
        assert_eq!(
            std::fs::metadata(&first[0]).unwrap().modified().unwrap(),
            written
        );
        let again = read_back(&output).unwrap();
        assert_eq!(bytes_of(&again.donations), bytes_of(&rows(17).donations));

        // Rows made again (after a correction) name other chunks: the old
        // ones are swept once the new state is written.
        let mut other = rows(9);
        other.donations[0].donor = "Người khác".into();
        keep(&output, &other, 9);
        assert_eq!(chunk_files(&output).len(), 2);
        assert!(!chunk_files(&output).contains(&first[0]));
    }

    #[test]
    fn a_damaged_chunk_or_state_is_not_used() {
        let (_dir, output) = ten_rows_kept();
        let chunk = chunk_files(&output)[1].clone();
        let mut bytes = std::fs::read(&chunk).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&chunk, &bytes).unwrap();
        assert!(read_back(&output).is_none(), "a changed chunk");
        bytes[3] ^= 1;
        std::fs::write(&chunk, &bytes).unwrap();
        assert!(read_back(&output).is_some());
        std::fs::remove_file(&chunk).unwrap();
        assert!(read_back(&output).is_none(), "a missing chunk");
        // Rows made again (as a build does when the cache is not used)
        // write the chunk again, and replace one damaged.
        keep(&output, &rows(10), 10);
        assert!(read_back(&output).is_some(), "written again");
        let mut bytes = std::fs::read(&chunk).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&chunk, &bytes).unwrap();
        keep(&output, &rows(10), 10);
        assert!(read_back(&output).is_some(), "a damaged chunk replaced");

        keep(&output, &rows(10), 10);
        let state = crate::site::output::state_path(&output, STATE_FILE);
        let whole = std::fs::read(&state).unwrap();
        for at in [MAGIC.len() + 50, whole.len() - 1] {
            let mut bytes = whole.clone();
            bytes[at] ^= 1;
            std::fs::write(&state, &bytes).unwrap();
            assert!(read_back(&output).is_none(), "state changed at {at}");
        }
        std::fs::write(&state, &whole[..whole.len() - 1]).unwrap();
        assert!(read_back(&output).is_none(), "a state cut short");
    }
}
