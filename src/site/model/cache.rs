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
//! households and the donations of full chunks, and which files hold
//! those) and `.public.model-chunks/`: the donation rows in chunks of
//! 65,536, each a file named by its SHA-256, and the households in one
//! file of frames of `households_per_frame()` rows (decoded on every core),
//! named by the SHA-256 of the frames' SHA-256s. Donation rows are only
//! ever appended to, so a full chunk never changes: it is written once, and
//! a later build reads it only if a step needs its rows (`Donations`). The
//! households' file is written again only by a build whose entries changed
//! a household (an appended donation does not). Every frame and every
//! chunk is checked against its SHA-256 when read, so a damaged file is not
//! used (the build then makes every row again).

use super::{
    Chunk, DisbursementRow, DonationRow, Donations, FundActivity, FundRow, HouseholdRow, Rows,
};
use crate::ledger::entry::{Entry, Stage};
use crate::ledger::hashing::{
    FRAME_HEAD, open_framed, read_frame, read_frame_head, write_frame, write_hashed_frame,
};
use crate::ledger::sized;
use crate::site::output::{Sink, WrittenState};
use crate::site::reuse::Maker;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// The state file's name beside the output (`.public.model-state`).
pub const STATE_FILE: &str = "model-state";

/// The folder of full chunks beside the output (`.public.model-chunks/`).
const CHUNKS: &str = "model-chunks";

/// What the state file starts with; the number changes with its layout.
const MAGIC: &[u8] = b"minhbach model cache 6\n";

/// The state's first frame: what made it and where its donations are.
#[derive(Serialize, Deserialize)]
struct Index<'a> {
    maker: Cow<'a, Maker>,
    /// The SHA-256 (hex) of each full chunk, in order (its file's name),
    /// and the `seq` of its first row.
    sealed: Vec<(Cow<'a, str>, u64)>,
    /// Rows per chunk (`chunk_rows`).
    chunk_rows: usize,
    donations: usize,
    households: usize,
    /// The households' file in the chunks' folder ...
    households_file: Cow<'a, str>,
    /// ... and how many frames it holds (`households_per_frame()` rows
    /// each, the last fewer).
    household_frames: usize,
}

/// Households a frame of the state holds: the frames are decoded side by
/// side, as one they took a rebuild's verify step most of its serial time.
fn households_per_frame() -> usize {
    if cfg!(test) { 3 } else { 16_384 }
}

/// The state's second frame: every row but the households and the
/// donations.
#[derive(Serialize, Deserialize)]
struct Head<'a> {
    size: u64,
    funds: Cow<'a, [FundRow]>,
    fund_activity: Cow<'a, [FundActivity]>,
    #[serde(deserialize_with = "sized::cow")]
    disbursements: Cow<'a, [DisbursementRow]>,
    live_changes: Cow<'a, [(String, u64, usize, Stage)]>,
    /// The newest entries' lines.
    newest: Vec<String>,
    signed_fund_names: Cow<'a, BTreeMap<String, String>>,
    with_citizen_id_digits: usize,
}

/// A frame of the households' file, of `households_per_frame()` rows (the
/// largest part of the rows, and unchanged by an appended donation).
#[derive(Serialize, Deserialize)]
struct Households<'a> {
    #[serde(deserialize_with = "sized::cow")]
    households: Cow<'a, [HouseholdRow]>,
    #[serde(deserialize_with = "sized::cow")]
    household_stages: Cow<'a, [Option<Stage>]>,
}

/// The households' file the rows were read from: named by the next state
/// too (not written again) while no entry added since changed a household.
#[derive(Clone, Copy, Debug)]
pub struct KeptFrames {
    frames: usize,
    checksum: [u8; 32],
}

/// The households' file of frames whose SHA-256s hash to `checksum`.
fn households_file(checksum: &[u8; 32]) -> String {
    format!("households-{}", crate::ledger::hex(checksum))
}

/// The model cache a build wrote.
pub struct Stored {
    /// The state file, put in place when the build ends.
    pub state: WrittenState,
    /// The SHA-256 of the households' frames' SHA-256s, in order: the same
    /// in two builds only if their household rows (and stages) are.
    pub households: [u8; 32],
}

/// Keeps `rows` for the next build: writes the full chunks these rows did
/// not come from (unless kept with the same bytes), naming them, and
/// writes the state file (put in place when the build ends). `None`
/// without a place beside the output, or when a chunk or the state cannot
/// be written (the next build then makes every row).
pub fn store(sink: &dyn Sink, rows: &Rows, maker: &Maker) -> Option<Stored> {
    let folder = sink.state_path(CHUNKS)?;
    std::fs::create_dir_all(&folder).ok()?;
    rows.donations
        .chunks()
        .par_iter()
        .filter(|chunk| chunk.name().is_none())
        .map(|chunk| {
            let bytes = postcard::to_stdvec(chunk.rows().ok()?).ok()?;
            let name = crate::ledger::hex(&Sha256::digest(&bytes));
            let path = folder.join(&name);
            // A chunk of that name is kept if it holds these bytes; one
            // damaged is replaced, else every build after would find it so.
            if !std::fs::read(&path).is_ok_and(|kept| kept == bytes) {
                put(&folder, &name, |out| out.write_all(&bytes))?;
            }
            chunk.set_name(name);
            Some(())
        })
        .collect::<Option<()>>()?;
    let sealed = (rows.donations.chunks().iter())
        .map(|chunk| Some((Cow::Borrowed(chunk.name()?), chunk.first_seq())))
        .collect::<Option<_>>()?;
    // The households' file read, when no appended entry changed a
    // household; else their frames encoded and written to a new one.
    let (households_checksum, household_frames) = match &rows.kept_households {
        Some(kept) => (kept.checksum, kept.frames),
        None => {
            let frames: Vec<(Vec<u8>, [u8; 32])> = (rows.households)
                .par_chunks(households_per_frame())
                .zip(rows.household_stages.par_chunks(households_per_frame()))
                .map(|(households, household_stages)| {
                    let bytes = postcard::to_stdvec(&Households {
                        households: Cow::Borrowed(households),
                        household_stages: Cow::Borrowed(household_stages),
                    })
                    .ok()?;
                    let checksum = Sha256::digest(&bytes).into();
                    Some((bytes, checksum))
                })
                .collect::<Option<_>>()?;
            let mut run = Sha256::new();
            for (_, checksum) in &frames {
                run.update(checksum);
            }
            let checksum = run.finalize().into();
            put(&folder, &households_file(&checksum), |out| {
                for (frame, checksum) in &frames {
                    write_hashed_frame(out, frame, checksum)?;
                }
                Ok(())
            })?;
            (checksum, frames.len())
        }
    };
    let index = Index {
        maker: Cow::Borrowed(maker),
        sealed,
        chunk_rows: super::chunk_rows(),
        donations: rows.donations.len(),
        households: rows.households.len(),
        households_file: households_file(&households_checksum).into(),
        household_frames,
    };
    let head = Head {
        size: rows.size,
        funds: Cow::Borrowed(&rows.funds),
        fund_activity: Cow::Borrowed(&rows.fund_activity),
        disbursements: Cow::Borrowed(&rows.disbursements),
        live_changes: Cow::Borrowed(&rows.live_changes),
        newest: rows.newest.iter().map(Entry::to_line).collect(),
        signed_fund_names: Cow::Borrowed(&rows.signed_fund_names),
        with_citizen_id_digits: rows.with_citizen_id_digits,
    };
    let index = postcard::to_stdvec(&index).ok()?;
    let head = postcard::to_stdvec(&head).ok()?;
    let tail = postcard::to_stdvec(rows.donations.tail()).ok()?;
    WrittenState::create(sink.state_path(STATE_FILE)?, |out| {
        out.write_all(MAGIC)?;
        write_frame(out, &index)?;
        write_frame(out, &head)?;
        write_frame(out, &tail)
    })
    .ok()
    .map(|state| Stored {
        state,
        households: households_checksum,
    })
}

/// Writes the file `name` of the chunks' folder under a temporary name,
/// then renames it into place (a reader never sees half a file; the sweep
/// removes one left by a build killed meanwhile). `None` if it could not be
/// written.
fn put(
    folder: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Option<()> {
    let temp = folder.join(crate::site::output::temporary(name));
    let written = (|| {
        let file = std::fs::File::create(&temp)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&temp, folder.join(name))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.ok()
}

/// A frame of the households' file, its body not read.
#[derive(Clone, Copy)]
struct FrameAt {
    /// Where its body starts.
    body: u64,
    length: u64,
    checksum: [u8; 32],
}

/// A run of frames, their bodies not read: each frame, and the run's
/// length and the SHA-256 of the checksums in order (the households'
/// file's name).
struct FrameRun {
    frames: Vec<FrameAt>,
    length: u64,
    checksum: [u8; 32],
}

/// The run of `count` frames from the start of `file`, which is left at
/// the run's end.
fn frame_run(file: &mut std::fs::File, count: usize) -> Option<FrameRun> {
    use std::io::{Seek, SeekFrom};
    let mut frames = Vec::with_capacity(count.min(1 << 16));
    let mut digest = Sha256::new();
    let mut at = 0;
    for _ in 0..count {
        file.seek(SeekFrom::Start(at)).ok()?;
        let (length, checksum) = read_frame_head(file)?;
        digest.update(checksum);
        let body = at.checked_add(FRAME_HEAD as u64)?;
        frames.push(FrameAt {
            body,
            length,
            checksum,
        });
        at = body.checked_add(length)?;
    }
    file.seek(SeekFrom::Start(at)).ok()?;
    Some(FrameRun {
        frames,
        length: at,
        checksum: digest.finalize().into(),
    })
}

/// The households of the households' file at `path` (and their stages), from
/// their frames: as many decoded at once as there are
/// cores, each from a file of its own as it is read, and moved into rows
/// made for all `count` (untouched memory until filled), so no more than a
/// frame a core is held twice.
fn decode_households(
    path: &Path,
    frames: &[FrameAt],
    count: usize,
) -> Option<(Vec<HouseholdRow>, Vec<Option<Stage>>)> {
    use std::io::{Seek, SeekFrom};
    let mut households = Vec::with_capacity(count);
    let mut stages = Vec::with_capacity(count);
    for wave in frames.chunks(rayon::current_num_threads().max(1)) {
        let decoded: Vec<Households> = (wave.par_iter())
            .map(|frame| {
                let mut file = std::fs::File::open(path).ok()?;
                file.seek(SeekFrom::Start(frame.body)).ok()?;
                crate::ledger::decode_frame(file, frame.length, &frame.checksum)
            })
            .collect::<Option<_>>()?;
        for frame in decoded {
            households.extend(frame.households.into_owned());
            stages.extend(frame.household_stages.into_owned());
        }
    }
    (households.len() == count && stages.len() == count).then_some((households, stages))
}

/// The state file, read past its magic, at its first frame (`Index`).
fn open_state(path: &Path) -> Option<std::fs::File> {
    open_framed(path, MAGIC)
}

/// What made the cache beside the sink's output, read without its rows.
pub fn maker(sink: &dyn Sink) -> Option<Maker> {
    // Only the first frame: the rows are most of the file.
    let bytes = read_frame(&mut open_state(&sink.state_path(STATE_FILE)?)?)?;
    let index: Index = postcard::from_bytes(&bytes).ok()?;
    Some(index.maker.into_owned())
}

/// The rows the cache beside the sink's output holds (the full chunks'
/// donation rows read when first needed), or `None` if it is damaged or
/// not one.
pub fn load(sink: &dyn Sink) -> Option<Rows> {
    use std::io::Seek;
    let path = sink.state_path(STATE_FILE)?;
    let folder = sink.state_path(CHUNKS)?;
    let mut file = open_state(&path)?;
    let file_length = file.metadata().ok()?.len();
    let index: Index = postcard::from_bytes(&read_frame(&mut file)?).ok()?;
    if index.chunk_rows != super::chunk_rows() {
        return None;
    }
    let head = read_frame(&mut file)?;
    let tail = read_frame(&mut file)?;
    if file.stream_position().ok()? != file_length {
        return None;
    }
    drop(file);
    // The households (most of the rows) decoded as they are read, each
    // frame on a core from a file of its own, not from the whole file held
    // in memory, beside the other rows; their file's name is its frames'
    // checksum.
    let households_path = folder.join(&*index.households_file);
    let mut frames = std::fs::File::open(&households_path).ok()?;
    let run = frame_run(&mut frames, index.household_frames)?;
    let whole = frames.metadata().ok()?.len() == run.length
        && households_file(&run.checksum) == index.households_file;
    if !whole {
        return None;
    }
    drop(frames);
    let (households, (head, tail)) = rayon::join(
        // A row takes a byte at least: a count beyond that is not one.
        || {
            decode_households(
                &households_path,
                &run.frames,
                index.households.min(run.length as usize),
            )
        },
        || {
            (
                postcard::from_bytes::<Head>(&head).ok(),
                sized::vec::<_, DonationRow>(&mut postcard::Deserializer::from_bytes(&tail)).ok(),
            )
        },
    );
    let ((households, household_stages), head, tail) = (households?, head?, tail?);
    let newest = head
        .newest
        .iter()
        .map(|line| Entry::from_line(line.as_bytes()).ok())
        .collect::<Option<_>>()?;
    let chunks: Vec<Chunk> = (index.sealed.into_iter())
        .map(|(name, first_seq)| {
            let file = folder.join(&*name);
            Chunk::cached(name.into_owned(), first_seq, file)
        })
        .collect();
    let donations = Donations::from_parts(chunks, tail);
    let counted = donations.tail().len() < super::chunk_rows()
        && head.fund_activity.len() == head.funds.len();
    if donations.len() != index.donations || !counted {
        return None;
    }
    let mut rows = Rows {
        size: head.size,
        funds: head.funds.into_owned(),
        households,
        household_stages,
        fund_activity: head.fund_activity.into_owned(),
        donations,
        disbursements: head.disbursements.into_owned(),
        live_changes: head.live_changes.into_owned(),
        newest,
        signed_fund_names: head.signed_fund_names.into_owned(),
        with_citizen_id_digits: head.with_citizen_id_digits,
        kept_households: Some(KeptFrames {
            frames: index.household_frames,
            checksum: run.checksum,
        }),
        ..Rows::default()
    };
    rows.index();
    Some(rows)
}

/// Removes the chunks beside `output` that its model state does not name
/// (after the state is written): those of rows made again after a
/// correction, and those a build left before it was interrupted.
pub fn sweep(output: &Path) {
    let folder = crate::site::output::state_path(output, CHUNKS);
    let Ok(listing) = std::fs::read_dir(&folder) else {
        return;
    };
    let state = open_state(&crate::site::output::state_path(output, STATE_FILE))
        .and_then(|mut file| read_frame(&mut file));
    let named: Vec<String> = state
        .as_deref()
        .and_then(|bytes| {
            let index: Index = postcard::from_bytes(bytes).ok()?;
            Some(
                (index.sealed.into_iter())
                    .map(|(name, _)| name.into_owned())
                    .chain([index.households_file.into_owned()])
                    .collect(),
            )
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

/// Reads a row's text field checking its UTF-8 with `simdutf8`: the
/// households' names, places and circumstances are Vietnamese, where the
/// standard check goes a character at a time, and it was a third of
/// reading the households back (BENCHMARKS.md). Postcard stores text and
/// bytes alike, so the cache's format is the one `String` writes.
pub fn text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct Text;
    impl serde::de::Visitor<'_> for Text {
        type Value = String;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text")
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<String, E> {
            match simdutf8::basic::from_utf8(bytes) {
                Ok(text) => Ok(text.to_owned()),
                Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(bytes), &self)),
            }
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
            Ok(text.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<String, E> {
            Ok(text)
        }
    }
    deserializer.deserialize_byte_buf(Text)
}

/// `text` for an optional field.
pub fn optional_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    struct Optional;
    impl<'de> serde::de::Visitor<'de> for Optional {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("text or nothing")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            text(d).map(Some)
        }
    }
    deserializer.deserialize_option(Optional)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::entry::Channel;
    use crate::site::model::Anchor;
    use crate::site::output::StagingSink;

    /// `text` reads what `String` writes, Vietnamese included, and refuses
    /// bytes that are not UTF-8, read whole or as a stream.
    #[test]
    fn text_reads_what_a_string_writes_and_refuses_other_bytes() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(deserialize_with = "text")]
            name: String,
            #[serde(deserialize_with = "optional_text")]
            village: Option<String>,
        }
        let written = postcard::to_stdvec(&("Nguyễn Thị Hoà", Some("Thôn Đông"))).unwrap();
        let row: Row = postcard::from_bytes(&written).unwrap();
        assert_eq!(
            (row.name.as_str(), row.village.as_deref()),
            ("Nguyễn Thị Hoà", Some("Thôn Đông"))
        );
        let streamed: Row = postcard::from_io((&written[..], &mut [0u8; 64])).unwrap().0;
        assert_eq!(streamed.name, "Nguyễn Thị Hoà");
        let none: Row =
            postcard::from_bytes(&postcard::to_stdvec(&("A", None::<&str>)).unwrap()).unwrap();
        assert_eq!(none.village, None);
        let bad = postcard::to_stdvec(&(byte_string(&[0xc3, 0x28]), None::<&str>)).unwrap();
        assert!(postcard::from_bytes::<Row>(&bad).is_err());
    }

    /// Bytes as postcard writes a byte string: its length, then them.
    fn byte_string(bytes: &[u8]) -> impl Serialize + '_ {
        struct Bytes<'a>(&'a [u8]);
        impl Serialize for Bytes<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        Bytes(bytes)
    }

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

    /// `count` donations and, from the eleventh entry on, half as many
    /// households (three frames' worth for ten donations).
    fn rows(count: u64) -> Rows {
        let fund: Arc<str> = "cuu-tro".into();
        let mut donations = Donations::default();
        for seq in 0..count {
            donations.push(donation(seq, &fund));
        }
        let households: Vec<_> = (0..count / 2 + 2)
            .map(|n| super::super::household_row(count + n))
            .collect();
        Rows {
            size: count + households.len() as u64,
            donations,
            household_stages: households.iter().map(|h| h.stage).collect(),
            households,
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
        let state = store(&sink, rows, &made_at(size)).unwrap().state;
        sink.discard();
        state.commit().unwrap();
        sweep(output);
    }

    /// The files in the chunks' folder: the households' (`true`) or the
    /// donations' chunks.
    fn files_of(output: &Path, households: bool) -> Vec<std::path::PathBuf> {
        let folder = crate::site::output::state_path(output, CHUNKS);
        let mut files: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|file| file.unwrap().path())
            .filter(|file| {
                let name = file.file_name().unwrap().to_str().unwrap();
                name.starts_with("households-") == households
            })
            .collect();
        files.sort();
        files
    }

    fn chunk_files(output: &Path) -> Vec<std::path::PathBuf> {
        files_of(output, false)
    }

    fn read_back(output: &Path) -> Option<Rows> {
        let sink = StagingSink::new(output).unwrap();
        let rows = load(&sink);
        sink.discard();
        rows
    }

    fn bytes_of(rows: &Donations) -> Vec<u8> {
        postcard::to_stdvec(&rows.all().unwrap()).unwrap()
    }

    /// Whether the rows kept beside `output` read back, chunks included.
    fn readable(output: &Path) -> bool {
        read_back(output).is_some_and(|rows| rows.donations.all().is_ok())
    }

    /// The households' file in the chunks' folder beside `output`.
    fn households_path(output: &Path) -> std::path::PathBuf {
        let named = files_of(output, true);
        assert_eq!(named.len(), 1, "{named:?}");
        named[0].clone()
    }

    /// A rebuild that changed no household names the households' file it
    /// read instead of writing it again; one that did writes another,
    /// named by its frames, and the old one is swept.
    #[test]
    fn the_households_file_is_written_only_when_a_household_changed() {
        let (_dir, output) = ten_rows_kept();
        let path = crate::site::output::state_path(&output, STATE_FILE);
        let first = std::fs::read(&path).unwrap();
        let households = households_path(&output);
        let written = std::fs::read(&households).unwrap();
        let mut rows = read_back(&output).unwrap();
        let checksums = std::cell::RefCell::new(Vec::new());
        let store_again = |rows: &Rows| {
            let sink = StagingSink::new(&output).unwrap();
            let stored = store(&sink, rows, &made_at(10)).unwrap();
            sink.discard();
            stored.state.commit().unwrap();
            sweep(&output);
            checksums.borrow_mut().push(stored.households);
            std::fs::read(&path).unwrap()
        };
        // Not committed, a state written leaves nothing behind.
        let sink = StagingSink::new(&output).unwrap();
        drop(store(&sink, &rows, &made_at(11)).unwrap());
        sink.discard();
        assert_eq!(std::fs::read(&path).unwrap(), first);
        let beside: Vec<_> = std::fs::read_dir(output.parent().unwrap())
            .unwrap()
            .map(|file| file.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with(".public.model-state"))
            .collect();
        assert_eq!(beside, [".public.model-state"]);

        assert_eq!(store_again(&rows), first, "the same state");

        // Named, not written again: a byte changed on disk inside a frame
        // stays, and the next build's read, which checks every frame,
        // refuses the rows.
        let mut damaged = written.clone();
        damaged[FRAME_HEAD + 1] ^= 1;
        std::fs::write(&households, &damaged).unwrap();
        assert_eq!(store_again(&rows), first);
        assert_eq!(std::fs::read(&households).unwrap(), damaged);
        assert!(read_back(&output).is_none(), "a damaged frame is not used");

        // Written from the rows: a household changed, or rows not read from
        // a cache.
        rows.kept_households = None;
        assert_eq!(store_again(&rows), first);
        assert_eq!(std::fs::read(&households).unwrap(), written);
        assert!(read_back(&output).is_some());
        // Named or written, the households' checksum is the same; another
        // with a household changed, in a file of its own.
        let same = checksums.borrow().clone();
        assert_eq!(same.len(), 3);
        assert!(same.iter().all(|checksum| *checksum == same[0]));
        rows.households[0].head.push('!');
        store_again(&rows);
        assert_ne!(checksums.borrow()[3], same[0], "a household changed");
        assert_ne!(households_path(&output), households, "the old one swept");
        let back = read_back(&output).unwrap();
        assert_eq!(back.households[0].head, rows.households[0].head);
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
        let chunks = back.donations.chunks();
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks.iter().all(|chunk| !chunk.is_read()),
            "a chunk is read only when its rows are needed"
        );
        assert_eq!(back.donations.get(9).unwrap().unwrap().seq, 9);
        assert!(
            chunks.iter().all(|chunk| !chunk.is_read()),
            "9 is in the tail"
        );
        assert_eq!(back.donations.find_seq(5).unwrap().unwrap().seq, 5);
        assert!(chunks[1].is_read() && !chunks[0].is_read());
        let page: Vec<u64> = (back.donations.range(3..9).unwrap().iter())
            .map(|row| row.seq)
            .collect();
        assert_eq!(page, [3, 4, 5, 6, 7, 8]);
        let names = vec![chunks[0].name().unwrap(), chunks[1].name().unwrap()];
        let identity = back.donations.identity(3..8).unwrap();
        assert_eq!((&identity.0, identity.1.len()), (&names, 0));
        // Row 8 is in the tail: a page spanning both is identified by the
        // chunks' names and its rows in the tail, no chunk read.
        let fresh = read_back(&output).unwrap();
        let identity = fresh.donations.identity(3..10).unwrap();
        let tail: Vec<u64> = identity.1.iter().map(|row| row.seq).collect();
        assert_eq!((&identity.0, tail), (&names, vec![8, 9]));
        assert!(
            fresh
                .donations
                .chunks()
                .iter()
                .all(|chunk| !chunk.is_read())
        );
        let identity = fresh.donations.identity(8..12).unwrap();
        assert_eq!(identity.0.len() + identity.1.len(), 2, "rows 8 and 9");
        assert!(fresh.donations.identity(10..12).is_none(), "no rows");
        assert_eq!(bytes_of(&back.donations), bytes_of(&rows(10).donations));
        let households =
            |rows: &Rows| postcard::to_stdvec(&(&rows.households, &rows.household_stages)).unwrap();
        assert_eq!(households(&back), households(&rows(10)), "7 rows, 3 frames");
        assert_eq!(back.kept_households.map(|kept| kept.frames), Some(3));

        // Extended by seven rows: the two chunks are kept as they are, one
        // more is full, the tail holds the rest.
        let fund = back.fund_names.first().map(|(id, _)| id.clone());
        let fund = fund.unwrap_or_else(|| "cuu-tro".into());
        for seq in 10..17 {
            back.donations.push(donation(seq, &fund));
        }
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
        let fund: Arc<str> = "cuu-tro".into();
        let mut other = Rows {
            size: 9,
            ..Rows::default()
        };
        other.donations.push(DonationRow {
            donor: "Người khác".into(),
            ..donation(0, &fund)
        });
        for seq in 1..9 {
            other.donations.push(donation(seq, &fund));
        }
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
        // The state reads back; the chunk's rows do not, and the step that
        // needs them is told to build from every entry.
        let back = read_back(&output).unwrap();
        assert!(back.donations.get(1).is_ok(), "another chunk");
        let error = back.donations.get(5).unwrap_err();
        assert!(
            error.is::<crate::site::NeedsEveryEntry>(),
            "a changed chunk"
        );
        assert!(back.donations.get(6).is_err(), "and stays unread");
        bytes[3] ^= 1;
        std::fs::write(&chunk, &bytes).unwrap();
        assert!(readable(&output));
        std::fs::remove_file(&chunk).unwrap();
        assert!(!readable(&output), "a missing chunk");
        // Rows made again (as a build does when the cache is not used)
        // write the chunk again, and replace one damaged.
        keep(&output, &rows(10), 10);
        assert!(readable(&output), "written again");
        let mut bytes = std::fs::read(&chunk).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&chunk, &bytes).unwrap();
        keep(&output, &rows(10), 10);
        assert!(readable(&output), "a damaged chunk replaced");

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
        std::fs::write(&state, &whole).unwrap();
        // A byte changed in any of the households' three frames (each read
        // as it streams, on a core of its own), or one more byte after the
        // last frame.
        let households = households_path(&output);
        let frames = std::fs::read(&households).unwrap();
        let mut at = 0;
        for frame in 0..3 {
            let length = u64::from_le_bytes(frames[at..at + 8].try_into().unwrap()) as usize;
            let mut bytes = frames.clone();
            bytes[at + FRAME_HEAD + length / 2] ^= 1;
            std::fs::write(&households, &bytes).unwrap();
            assert!(read_back(&output).is_none(), "households frame {frame}");
            at += FRAME_HEAD + length;
        }
        assert_eq!(at, frames.len());
        // A file with one byte more is refused; put back, it reads.
        let refused_longer = |file: &Path, bytes: &[u8], what: &str| {
            let mut longer = bytes.to_vec();
            longer.push(0);
            std::fs::write(file, &longer).unwrap();
            assert!(read_back(&output).is_none(), "{what}");
            std::fs::write(file, bytes).unwrap();
            assert!(read_back(&output).is_some());
        };
        refused_longer(&households, &frames, "a byte after the households");
        std::fs::remove_file(&households).unwrap();
        assert!(read_back(&output).is_none(), "no households' file");
        std::fs::write(&households, &frames).unwrap();
        refused_longer(&state, &whole, "a byte after the last frame");
    }
}
