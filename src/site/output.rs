//! Where rendered files go: memory (for `check`, `serve` and tests) or disk.
//!
//! A disk build is staged: every file is written under a staging directory
//! beside the output, and only when the whole site has rendered is it merged
//! into place. Merging compares bytes and replaces only the files that
//! changed, then removes files the new site no longer has. A build that fails
//! while rendering therefore leaves the previous output untouched, and a
//! rebuild after a small append rewrites only the few pages it concerns (so
//! `rsync`, a CDN or `git diff` of the output see only real changes).
//!
//! Comparing bytes means reading every file of the previous output. A
//! manifest beside the output (`.public.manifest`: path, length, modification
//! time and SHA-256 of every file the last build wrote; binary, as a national
//! site's has a million files, and the text of earlier versions still read)
//! lets an unchanged
//! file be recognised from its hash and a `stat` instead. It is only a cache:
//! a file whose length or time differs from the manifest's (edited by hand,
//! restored from a backup), or a missing or unreadable manifest, falls back to
//! comparing bytes, so the manifest can change the time a build takes, never
//! its output. It also records each directory's time, so a rebuild lists
//! only the directories that changed to find stray files (`prune`).

mod destination;
mod files;
mod lock;
mod prune;

pub use destination::check_destination;
pub use lock::BuildLock;

use crate::ledger::hashing::HashingWriter;
use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// A destination for rendered files, shared by the rendering threads. Paths
/// are relative to the site root, with `/` separators (`quy/bao-yagi/index.html`).
pub trait Sink: Sync {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<()>;
    /// Copies a file (static files, photos) without reading it into memory
    /// where the sink allows.
    fn copy(&self, path: &str, source: &Path) -> Result<()> {
        let bytes = std::fs::read(source)
            .with_context(|| format!("failed to read `{}`", source.display()))?;
        self.write(path, &bytes)
    }
    /// The file at `path` in the previous build's output, if the sink has
    /// one: lets slow derived files (photo renditions) be reused.
    fn previous(&self, _path: &str) -> Option<PathBuf> {
        None
    }
    /// Keeps the previous build's file at `path` if it was rendered from
    /// inputs with this fingerprint and is still as written; `false` means
    /// the caller must render it (see `fingerprint.rs`).
    fn keep(&self, _path: &str, _inputs: &FileHash) -> Result<bool> {
        Ok(false)
    }
    /// Whether `keep` could say yes for `path`: the previous build recorded
    /// its inputs. Lets a caller skip work that only a kept file avoids.
    fn may_keep(&self, _path: &str) -> bool {
        false
    }
    /// Whether `keep(path, inputs)` would keep the file, without keeping
    /// it: a file in parts is kept only if every part can be.
    fn would_keep(&self, _path: &str, _inputs: &FileHash) -> bool {
        false
    }
    /// Whether the previous build wrote `path` and it is still as written
    /// (the length and time its manifest recorded).
    fn still_written(&self, _path: &str) -> bool {
        false
    }
    /// Keeps the previous build's `path` as it was written, whatever it
    /// was made from: for a caller that knows its content is still right
    /// (an append-only file's earlier parts). `false` if it is not still as
    /// written.
    fn keep_written(&self, _path: &str) -> Result<bool> {
        Ok(false)
    }
    /// A state file the previous build left beside its output
    /// ([`write_state`]), if the sink has an output.
    fn previous_state(&self, _name: &str) -> Option<Vec<u8>> {
        None
    }
    /// Where state `name` lives beside the output, if the sink has one (a
    /// state kept in more than one file: the model cache's chunks).
    fn state_path(&self, _name: &str) -> Option<PathBuf> {
        None
    }
    /// Whether the previous build wrote files under `dir` and every one of
    /// them is still as it was written (the length and time its manifest
    /// recorded), so this build may read them as that build's.
    fn previous_intact(&self, _dir: &str) -> bool {
        false
    }
    /// Keeps every file the previous build wrote under `dir` that this
    /// build has not written, as `previous_intact` found them; returns how
    /// many.
    fn keep_unwritten(&self, _dir: &str) -> Result<usize> {
        Ok(0)
    }
    /// Writes a file that `produce` streams into the writer it is given
    /// (the ledger download and the CSVs, hundreds of megabytes at national
    /// scale), with the fingerprint of its inputs if it has one. Returns the
    /// bytes written.
    fn write_with(
        &self,
        path: &str,
        inputs: Option<&FileHash>,
        produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<u64> {
        let mut bytes = Vec::new();
        produce(&mut bytes).with_context(|| format!("failed to write `{path}`"))?;
        match inputs {
            Some(inputs) => self.write_rendered(path, &bytes, inputs)?,
            None => self.write(path, &bytes)?,
        }
        Ok(bytes.len() as u64)
    }
    /// Writes a rendered file with the fingerprint of what it was rendered
    /// from, so the next build can `keep` it.
    fn write_rendered(&self, path: &str, bytes: &[u8], _inputs: &FileHash) -> Result<()> {
        self.write(path, bytes)
    }
    /// `write` or `write_rendered` of bytes whose SHA-256 the caller has
    /// just computed (a download's part, which lists it), so a sink that
    /// records it need not hash them again.
    fn write_hashed(
        &self,
        path: &str,
        bytes: &[u8],
        _sha256: &FileHash,
        inputs: Option<&FileHash>,
    ) -> Result<()> {
        match inputs {
            Some(inputs) => self.write_rendered(path, bytes, inputs),
            None => self.write(path, bytes),
        }
    }
}

/// Keeps every file in memory, sorted by path.
#[derive(Default)]
pub struct MemorySink {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemorySink {
    pub fn into_files(self) -> BTreeMap<String, Vec<u8>> {
        self.files.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for MemorySink {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<()> {
        check_relative(path)?;
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if files.insert(path.to_string(), bytes.to_vec()).is_some() {
            bail!("two outputs were rendered to `{path}`");
        }
        Ok(())
    }
}

/// Renders into a staging directory beside the output, then moves what
/// changed into place (`merge_into`). A file whose bytes equal the output's
/// is not staged at all, and staged files are kept flat (`staging/<n>`), so a
/// rebuild creates no directories for unchanged pages: on a site of hundreds
/// of thousands of pages, `mkdir` was the largest cost of a build.
///
/// A file kept as the previous build recorded it (nearly every file of a
/// rebuild) is only a mark on the previous manifest's entry: no path is
/// copied, no lock taken; only files written or recorded anew have an entry
/// of their own.
pub struct StagingSink {
    staging: PathBuf,
    output: PathBuf,
    /// The previous build's manifest, read on a thread of its own from the
    /// moment the sink is made (a million files at national scale) while
    /// the ledger is verified, and waited for when first needed.
    last: std::sync::LazyLock<Last, Box<dyn FnOnce() -> Last + Send>>,
    /// Files written or recorded anew: output path → what this build does
    /// with it.
    changed: Mutex<files::Files<Staged>>,
    next: AtomicU64,
    /// No output yet: files are staged in the output's own layout and the
    /// staging directory becomes the output in one `rename` (moving each file
    /// was most of a large first build: BENCHMARKS.md).
    fresh: bool,
}

/// The previous build's manifest and what this build does with its files.
struct Last {
    /// The manifest (empty when there is none).
    manifest: Manifest,
    /// What this build does with each file of the manifest, by its entry
    /// number: [`Claim`] as a byte.
    claims: Box<[AtomicU8]>,
}

impl Last {
    fn read(output: &Path) -> Last {
        let manifest = Manifest::read(output);
        let claims = (0..manifest.files.len())
            .map(|_| AtomicU8::new(Claim::Unclaimed as u8))
            .collect();
        Last { manifest, claims }
    }
}

/// What a build does with a file of the previous build's manifest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Claim {
    /// Not (yet) produced by this build: stale unless it is.
    Unclaimed = 0,
    /// Kept as the manifest records it.
    Kept = 1,
    /// Produced anew: `changed` says how.
    Changed = 2,
}

/// A SHA-256 digest: of a file's bytes, or of what a page was rendered from.
pub type FileHash = [u8; 32];

/// One output file of this build that is not kept as the previous
/// manifest records it.
enum Staged {
    /// The output already holds these bytes: what the manifest will record
    /// (`None` if the file could not be `stat`ed, so it is not recorded).
    Unchanged(Option<Recorded>),
    /// Staged (`StagingSink::staged_file`, by its number), to be moved into
    /// place; the bytes' hash and the fingerprint of the page's inputs.
    Written(u64, FileHash, Option<FileHash>),
}

/// What a build wrote: output path → what the file was when written.
#[derive(Default)]
struct Manifest {
    files: files::Files,
    /// Every output directory the build made (`""` for the output itself):
    /// those no longer needed are removed once empty.
    dirs: files::Files<()>,
}

/// One file of the manifest.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Recorded {
    len: u64,
    /// Modification time, nanoseconds since the epoch (the manifest
    /// stores 128 bits; 64 reach the year 2262).
    modified: i64,
    hash: FileHash,
    /// The fingerprint of a rendered page's inputs.
    inputs: Option<FileHash>,
}

impl Recorded {
    fn of(meta: &std::fs::Metadata, hash: FileHash, inputs: Option<FileHash>) -> Option<Recorded> {
        Some(Recorded {
            len: meta.len(),
            modified: mtime_nanos(meta)?,
            hash,
            inputs,
        })
    }

    /// Whether the file on disk is still the one recorded (the test git and
    /// rsync use: length and modification time).
    fn still(&self, output: &Path, path: &str) -> bool {
        std::fs::metadata(output.join(path)).is_ok_and(|meta| {
            meta.is_file() && Recorded::of(&meta, self.hash, self.inputs).as_ref() == Some(self)
        })
    }
}

/// A modification time in nanoseconds since the epoch.
fn mtime_nanos(meta: &std::fs::Metadata) -> Option<i64> {
    let modified = meta.modified().ok()?;
    match modified.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).ok(),
        Err(before) => i64::try_from(before.duration().as_nanos()).ok().map(|n| -n),
    }
}

/// The manifest's first bytes; its number changes with its layout. A
/// manifest without them is the text one of earlier versions.
const MANIFEST_MAGIC: &[u8] = b"minhbach manifest 2\n";

impl Manifest {
    /// `.public.manifest` beside `public/`.
    fn path(output: &Path) -> PathBuf {
        sibling(output, MANIFEST)
    }

    /// Reads the manifest; anything unreadable or malformed is no manifest
    /// (the build then compares bytes).
    fn read(output: &Path) -> Manifest {
        let Ok(bytes) = std::fs::read(Manifest::path(output)) else {
            return Manifest::default();
        };
        let manifest = match bytes.strip_prefix(MANIFEST_MAGIC) {
            Some(body) => Manifest::from_binary(body),
            // Written by an earlier version.
            None => String::from_utf8(bytes)
                .ok()
                .and_then(|text| Manifest::from_text(&text)),
        };
        manifest.unwrap_or_default()
    }

    /// The binary manifest (`write`): its directories, then its files, each
    /// path checked as a text manifest's are.
    fn from_binary(mut body: &[u8]) -> Option<Manifest> {
        fn take<'b>(body: &mut &'b [u8], count: usize) -> Option<&'b [u8]> {
            let (taken, rest) = body.split_at_checked(count)?;
            *body = rest;
            Some(taken)
        }
        fn number<const N: usize>(body: &mut &[u8]) -> Option<[u8; N]> {
            take(body, N)?.try_into().ok()
        }
        fn path<'b>(body: &mut &'b [u8]) -> Option<&'b str> {
            let length = u32::from_le_bytes(number(body)?) as usize;
            let path = std::str::from_utf8(take(body, length)?).ok()?;
            // The manifest says what a build may delete: a path that could
            // leave the output makes it no manifest at all.
            check_relative(path).is_ok().then_some(path)
        }
        let mut manifest = Manifest::default();
        let dirs = u32::from_le_bytes(number(&mut body)?);
        // A directory a household page at national scale: the table made
        // at its size, not grown by doubling (a directory takes 4 bytes
        // at least, which bounds a count the file could overstate).
        manifest
            .dirs
            .reserve((dirs as usize).min(body.len() / 4), 0);
        for _ in 0..dirs {
            let length = u32::from_le_bytes(number(&mut body)?) as usize;
            let dir = std::str::from_utf8(take(&mut body, length)?).ok()?;
            if !dir.is_empty() && check_relative(dir).is_err() {
                return None;
            }
            manifest.dirs.insert(dir, ())?;
        }
        let files = u32::from_le_bytes(number(&mut body)?);
        // Paths take most of the rest: each file's record is 73 or 41 bytes.
        manifest.files.reserve(
            files as usize,
            body.len().saturating_sub(41 * files as usize),
        );
        for _ in 0..files {
            let path = path(&mut body)?;
            let hash = number(&mut body)?;
            let inputs = match number::<1>(&mut body)? {
                [0] => None,
                [1] => Some(number(&mut body)?),
                _ => return None,
            };
            let recorded = Recorded {
                len: u64::from_le_bytes(number(&mut body)?),
                modified: i64::try_from(i128::from_le_bytes(number(&mut body)?)).ok()?,
                hash,
                inputs,
            };
            manifest.files.insert(path, recorded)?;
        }
        body.is_empty().then_some(manifest)
    }

    /// A text manifest, as versions before the binary one wrote it (lines
    /// parsed in parallel: a national site's has 200,000 to a million).
    fn from_text(text: &str) -> Option<Manifest> {
        use rayon::prelude::*;
        enum Line<'t> {
            Dir(&'t str),
            File(&'t str, Recorded),
        }
        let lines: Vec<&str> = text.lines().collect();
        let parsed: Option<Vec<Line>> = lines
            .par_iter()
            .map(|line| match line.strip_prefix("d ") {
                // `d - <path>`; older versions wrote the directory's time
                // in place of `-`.
                Some(dir) => {
                    let (_, dir) = dir.split_once(' ')?;
                    (dir.is_empty() || check_relative(dir).is_ok()).then_some(Line::Dir(dir))
                }
                // The manifest says what a build may delete: a path that
                // could leave the output makes it no manifest at all.
                None => Manifest::parse_line(line)
                    .filter(|(path, _)| check_relative(path).is_ok())
                    .map(|(path, recorded)| Line::File(path, recorded)),
            })
            .collect();
        let mut manifest = Manifest::default();
        let parsed = parsed?;
        manifest.files.reserve(parsed.len(), text.len());
        for line in parsed {
            match line {
                Line::Dir(dir) => manifest.dirs.insert(dir, ())?,
                Line::File(path, recorded) => manifest.files.insert(path, recorded)?,
            }
        }
        Some(manifest)
    }

    /// `<sha256 hex> <inputs hex or -> <length> <mtime ns> <path>` for a
    /// file, `d - <path>` for a directory.
    fn parse_line(line: &str) -> Option<(&str, Recorded)> {
        let mut fields = line.splitn(5, ' ');
        let hash = parse_hex(fields.next()?)?;
        let inputs = match fields.next()? {
            "-" => None,
            hex => Some(parse_hex(hex)?),
        };
        let len = fields.next()?.parse().ok()?;
        let modified = fields.next()?.parse().ok()?;
        let path = fields.next()?;
        Some((
            path,
            Recorded {
                len,
                modified,
                hash,
                inputs,
            },
        ))
    }

    /// The record of the output file at `path` if the manifest and one
    /// `stat` show it holds bytes hashing to `hash`.
    fn vouches_for(&self, output: &Path, path: &str, hash: &FileHash) -> Option<Recorded> {
        let recorded = self.files.get(path).filter(|r| r.hash == *hash)?;
        recorded.still(output, path).then_some(*recorded)
    }

    /// Writes the manifest of `output` for the files of this build
    /// (atomically: a torn manifest would only cost time, but costs nothing
    /// to avoid).
    fn write<'a>(
        output: &Path,
        files: impl Iterator<Item = (&'a str, Recorded)>,
        dirs: &[&str],
    ) -> Result<()> {
        let path = Manifest::path(output);
        let temp = sibling(output, &temporary(MANIFEST));
        let written = std::fs::File::create(&temp).and_then(|file| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            Manifest::write_to(&mut out, files, dirs)?;
            out.into_inner().map_err(|e| e.into_error()).map(drop)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            bail!("failed to write `{}`: {e}", temp.display());
        }
        std::fs::rename(&temp, &path)
            .with_context(|| format!("failed to write `{}`", path.display()))
    }

    /// The binary manifest (`from_binary`), streamed: the file count is
    /// filled in once the files are written.
    fn write_to<'a>(
        out: &mut (impl Write + std::io::Seek),
        files: impl Iterator<Item = (&'a str, Recorded)>,
        dirs: &[&str],
    ) -> std::io::Result<()> {
        fn too_many(what: &str) -> std::io::Error {
            std::io::Error::other(format!("too many {what} for the manifest"))
        }
        fn push_path(out: &mut impl Write, path: &str) -> std::io::Result<()> {
            let length = u32::try_from(path.len()).map_err(|_| too_many("bytes in a path"))?;
            out.write_all(&length.to_le_bytes())?;
            out.write_all(path.as_bytes())
        }
        out.write_all(MANIFEST_MAGIC)?;
        let dir_count = u32::try_from(dirs.len()).map_err(|_| too_many("directories"))?;
        out.write_all(&dir_count.to_le_bytes())?;
        for dir in dirs {
            push_path(out, dir)?;
        }
        let count_at = out.stream_position()?;
        out.write_all(&[0; 4])?;
        let mut count: u32 = 0;
        for (name, recorded) in files {
            push_path(out, name)?;
            out.write_all(&recorded.hash)?;
            match &recorded.inputs {
                Some(inputs) => {
                    out.write_all(&[1])?;
                    out.write_all(inputs)?;
                }
                None => out.write_all(&[0])?,
            }
            out.write_all(&recorded.len.to_le_bytes())?;
            out.write_all(&i128::from(recorded.modified).to_le_bytes())?;
            count = count.checked_add(1).ok_or_else(|| too_many("files"))?;
        }
        let end = out.stream_position()?;
        out.seek(std::io::SeekFrom::Start(count_at))?;
        out.write_all(&count.to_le_bytes())?;
        out.seek(std::io::SeekFrom::Start(end))?;
        Ok(())
    }
}

fn parse_hex(hex: &str) -> Option<FileHash> {
    fn nibble(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            b'A'..=b'F' => Some(digit - b'A' + 10),
            _ => None,
        }
    }
    if hex.len() != 64 {
        return None;
    }
    let mut hash = [0; 32];
    for (byte, pair) in hash.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(hash)
}

/// The staging directory's and the manifest's names beside the output
/// (`.public.staging-<pid>`, `.public.manifest`).
const STAGING: &str = "staging";
const MANIFEST: &str = "manifest";

/// The temporary name of a file or folder `name` written by this process
/// before it is put in place (`name-<pid>`); `lock` removes those a build
/// that never finished left, by `temporary_of`.
pub(crate) fn temporary(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

/// The `name` whose temporary `temporary_name` is, if it is one.
fn temporary_of(temporary_name: &str) -> Option<&str> {
    let (name, pid) = temporary_name.rsplit_once('-')?;
    (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// `./.public.<suffix>` for the output `./public`.
fn sibling(output: &Path, suffix: &str) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "public".into());
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    parent.join(format!(".{name}.{suffix}"))
}

/// Where state `name` lives beside `output` (`.public.<name>`).
pub fn state_path(output: &Path, name: &str) -> PathBuf {
    sibling(output, name)
}

/// Writes a state file beside `output` (`.public.<name>`), for the next
/// build's `Sink::previous_state`; atomically.
pub fn write_state(output: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    WrittenState::create(sibling(output, name), |out| out.write_all(bytes))?.commit()
}

/// A state file written as soon as it is made, under a temporary name
/// beside its place, and put there (`commit`) only once the output is
/// merged; removed if the build ends without. A large state (the model
/// cache's) is then not held in memory while the build goes on.
#[derive(Debug)]
pub struct WrittenState {
    temp: PathBuf,
    path: PathBuf,
}

impl WrittenState {
    /// Writes the state that will replace the file at `path`.
    pub fn create(
        path: PathBuf,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<WrittenState> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let state = WrittenState {
            temp: path.with_file_name(temporary(&name.unwrap_or_default())),
            path,
        };
        let file = std::fs::File::create(&state.temp)
            .with_context(|| format!("failed to create `{}`", state.temp.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)
            .and_then(|()| out.into_inner().map_err(|e| e.into_error()))
            .with_context(|| format!("failed to write `{}`", state.temp.display()))?;
        Ok(state)
    }

    /// Puts the state in its place.
    pub fn commit(self) -> Result<()> {
        std::fs::rename(&self.temp, &self.path)
            .with_context(|| format!("failed to replace `{}`", self.path.display()))
    }
}

impl Drop for WrittenState {
    /// Removes the temporary file of a state not committed (committed, it
    /// is no longer there).
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.temp);
    }
}

/// Removes the state file `name` beside `output`: done before the output
/// changes, so a build interrupted while merging leaves no state that
/// describes an output it no longer is.
pub fn forget_state(output: &Path, name: &str) -> Result<()> {
    let path = sibling(output, name);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(anyhow::anyhow!(
            "failed to remove `{}`: {e}",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// What a merge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

impl StagingSink {
    pub fn new(output: &Path) -> Result<StagingSink> {
        let staging = sibling(output, &temporary(STAGING));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("failed to remove `{}`", staging.display()))?;
        }
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("failed to create `{}`", staging.display()))?;
        let reading = {
            let output = output.to_path_buf();
            std::thread::spawn(move || Last::read(&output))
        };
        let last = move || {
            reading
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        Ok(StagingSink {
            staging,
            output: output.to_path_buf(),
            last: std::sync::LazyLock::new(Box::new(last)),
            changed: Mutex::new(files::Files::default()),
            next: AtomicU64::new(0),
            fresh: !output.exists(),
        })
    }

    /// The previous build's manifest.
    fn manifest(&self) -> &Manifest {
        &self.last.manifest
    }

    /// Claims entry `at` of the previous manifest for this build, refusing
    /// a second output to the same path.
    /// Keeps the previous build's `path` if the manifest records it, its
    /// record passes `matches`, and the file is still as recorded: one
    /// look-up of the path (`keep`, `keep_written`).
    fn keep_if(&self, path: &str, matches: impl FnOnce(&Recorded) -> bool) -> Result<bool> {
        check_relative(path)?;
        let Some((at, recorded)) = self.manifest().files.find(path) else {
            return Ok(false);
        };
        if !matches(recorded) || !recorded.still(&self.output, path) {
            return Ok(false);
        }
        self.claim(path, at, Claim::Kept)?;
        Ok(true)
    }

    fn claim(&self, path: &str, at: usize, claim: Claim) -> Result<()> {
        let unclaimed = Claim::Unclaimed as u8;
        if self.last.claims[at]
            .compare_exchange(unclaimed, claim as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            bail!("two outputs were rendered to `{path}`");
        }
        Ok(())
    }

    fn claimed(&self, at: usize) -> Claim {
        match self.last.claims[at].load(Ordering::Acquire) {
            1 => Claim::Kept,
            2 => Claim::Changed,
            _ => Claim::Unclaimed,
        }
    }

    /// Records what this build does with `path`, refusing a second output
    /// to the same path. A file the output holds as the previous manifest
    /// records it is only marked kept.
    fn record(&self, path: &str, staged: Staged) -> Result<()> {
        if let Some((at, recorded)) = self.manifest().files.find(path) {
            if matches!(staged, Staged::Unchanged(Some(now)) if now == *recorded) {
                return self.claim(path, at, Claim::Kept);
            }
            self.claim(path, at, Claim::Changed)?;
        }
        let mut changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        match changed.insert_new(path, staged) {
            Some(Ok(())) => Ok(()),
            Some(Err(_)) => bail!("two outputs were rendered to `{path}`"),
            None => bail!("too many output files (their paths pass 4 GiB)"),
        }
    }

    /// Where the file staged as number `at` for `path` is: in the output's
    /// layout for a first build, else flat.
    fn staged_file(&self, path: &str, at: u64) -> PathBuf {
        match self.fresh {
            true => self.staging.join(path),
            false => self.staging.join(at.to_string()),
        }
    }

    /// Drops the staged files (a failed build): the output is untouched.
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }

    /// Moves changed files into `output` and removes files no longer
    /// produced.
    pub fn merge_into(self, output: &Path) -> Result<MergeReport> {
        let result = self.merge(output);
        let _ = std::fs::remove_dir_all(&self.staging);
        result
    }

    fn merge(&self, output: &Path) -> Result<MergeReport> {
        let changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
        if self.fresh && std::fs::rename(&self.staging, output).is_ok() {
            return fresh_output(output, &changed);
        }
        std::fs::create_dir_all(output)
            .with_context(|| format!("failed to create `{}`", output.display()))?;
        let kept = || {
            (self.manifest().files.iter().enumerate())
                .filter(|(at, _)| self.claimed(*at) == Claim::Kept)
                .map(|(_, (path, recorded))| (path, *recorded))
        };
        let mut report = MergeReport {
            unchanged: kept().count(),
            ..MergeReport::default()
        };
        let mut manifest = Vec::new();
        // In the order of their paths, as a first build's output is laid out.
        let mut in_order: Vec<(&str, &Staged)> = changed.iter().collect();
        in_order.sort_unstable_by_key(|(path, _)| *path);
        let mut real = prune::RealDirs::default();
        for (path, staged) in in_order {
            let (at, hash) = match staged {
                Staged::Unchanged(recorded) => {
                    manifest.extend(recorded.map(|recorded| (path, recorded)));
                    report.unchanged += 1;
                    continue;
                }
                Staged::Written(at, hash, inputs) => (*at, (*hash, *inputs)),
            };
            let file = self.staged_file(path, at);
            prune::clear_way(output, path, self.manifest())?;
            let target = output.join(path);
            let parent = prune::parent_of(path);
            let parent_dir = output.join(parent);
            std::fs::create_dir_all(&parent_dir)
                .with_context(|| format!("failed to create `{}`", parent_dir.display()))?;
            if !real.all_real(output, parent) {
                bail!(
                    "refusing to write `{path}` through a symbolic link inside `{}`",
                    output.display()
                );
            }
            std::fs::rename(&file, &target).with_context(|| {
                format!(
                    "failed to move `{}` to `{}`",
                    file.display(),
                    target.display()
                )
            })?;
            report.written += 1;
            let meta = std::fs::metadata(&target)
                .with_context(|| format!("failed to read `{}`", target.display()))?;
            let (hash, inputs) = hash;
            manifest.extend(Recorded::of(&meta, hash, inputs).map(|recorded| (path, recorded)));
        }
        let stale = || {
            (self.manifest().files.keys().enumerate())
                .filter(|(at, _)| self.claimed(*at) == Claim::Unclaimed)
                .map(|(_, path)| path)
        };
        let kept_paths = kept().map(|(path, _)| path);
        let any_stale = stale().next().is_some();
        let dirs = prune::dirs(self.manifest(), kept_paths, changed.keys(), any_stale);
        let pruned = prune::remove_stale(output, stale(), dirs.unneeded)?;
        report.removed = pruned.removed;
        Manifest::write(output, kept().chain(manifest), &dirs.needed)?;
        Ok(report)
    }
}

impl StagingSink {
    /// Stages `bytes` for `path` unless the output already holds them.
    fn stage(&self, path: &str, bytes: &[u8], inputs: Option<FileHash>) -> Result<()> {
        self.stage_hashed(path, bytes, Sha256::digest(bytes).into(), inputs)
    }

    /// `stage`, given the bytes' SHA-256 (`hash`).
    fn stage_hashed(
        &self,
        path: &str,
        bytes: &[u8],
        hash: FileHash,
        inputs: Option<FileHash>,
    ) -> Result<()> {
        check_relative(path)?;
        let same = |old: &Path| std::fs::read(old).is_ok_and(|old| old == bytes);
        if let Some(recorded) = self.unchanged(path, &hash, bytes.len() as u64, inputs, same) {
            return self.record(path, Staged::Unchanged(recorded));
        }
        let (at, file) = self.staging_file(path)?;
        std::fs::write(&file, bytes)
            .with_context(|| format!("failed to write `{}`", file.display()))?;
        self.record(path, Staged::Written(at, hash, inputs))
    }

    /// Whether the output already holds the file `path` with these bytes
    /// (`hash`, `len`): vouched for by the manifest, or else `same` on the
    /// output's file of that length. `Some` carries what the manifest will
    /// record. A first build has no output to compare with.
    fn unchanged(
        &self,
        path: &str,
        hash: &FileHash,
        len: u64,
        inputs: Option<FileHash>,
        same: impl FnOnce(&Path) -> bool,
    ) -> Option<Option<Recorded>> {
        if self.fresh {
            return None;
        }
        if let Some(recorded) = self.manifest().vouches_for(&self.output, path, hash) {
            return Some(Some(Recorded { inputs, ..recorded }));
        }
        let existing = self.output.join(path);
        let meta = std::fs::metadata(&existing).ok()?;
        (meta.is_file() && meta.len() == len && same(&existing))
            .then(|| Recorded::of(&meta, *hash, inputs))
    }

    /// A new staging file for `path` (`staged_file`), its directory made:
    /// its number and where it is.
    fn staging_file(&self, path: &str) -> Result<(u64, PathBuf)> {
        let at = self.next.fetch_add(1, Ordering::Relaxed);
        let file = self.staged_file(path, at);
        if self.fresh
            && let Some(parent) = file.parent()
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create `{}`", parent.display()))?;
        }
        Ok((at, file))
    }

    /// Stages a file that `produce` streams, hashing it on the way. The
    /// output's copy is compared by hash rather than by bytes.
    fn stage_with(
        &self,
        path: &str,
        produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
        inputs: Option<FileHash>,
    ) -> Result<u64> {
        check_relative(path)?;
        let (at, file) = self.staging_file(path)?;
        let (length, hash) = std::fs::File::create(&file)
            .and_then(|out| write_hashing(out, produce))
            .with_context(|| format!("failed to write `{}`", file.display()))?;
        let same = |old: &Path| {
            let mut hasher = Sha256::new();
            std::fs::File::open(old)
                .and_then(|mut old| std::io::copy(&mut old, &mut hasher))
                .is_ok_and(|_| <[u8; 32]>::from(hasher.finalize()) == hash)
        };
        match self.unchanged(path, &hash, length, inputs, same) {
            Some(recorded) => {
                std::fs::remove_file(&file)
                    .with_context(|| format!("failed to remove `{}`", file.display()))?;
                self.record(path, Staged::Unchanged(recorded))?;
            }
            None => self.record(path, Staged::Written(at, hash, inputs))?,
        }
        Ok(length)
    }
}

/// Runs `produce` on a buffered `out`; returns the length and SHA-256 of
/// what it wrote.
fn write_hashing(
    out: impl Write,
    produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<(u64, FileHash)> {
    let mut hashing = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, out));
    produce(&mut hashing)?;
    let (mut out, length, hash) = hashing.finish();
    out.flush()?;
    Ok((length, hash))
}

impl Sink for StagingSink {
    fn write_with(
        &self,
        path: &str,
        inputs: Option<&FileHash>,
        produce: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<u64> {
        self.stage_with(path, produce, inputs.copied())
    }

    fn write(&self, path: &str, bytes: &[u8]) -> Result<()> {
        self.stage(path, bytes, None)
    }

    fn write_rendered(&self, path: &str, bytes: &[u8], inputs: &FileHash) -> Result<()> {
        self.stage(path, bytes, Some(*inputs))
    }

    fn write_hashed(
        &self,
        path: &str,
        bytes: &[u8],
        sha256: &FileHash,
        inputs: Option<&FileHash>,
    ) -> Result<()> {
        debug_assert_eq!(<FileHash>::from(Sha256::digest(bytes)), *sha256);
        self.stage_hashed(path, bytes, *sha256, inputs.copied())
    }

    fn may_keep(&self, path: &str) -> bool {
        self.manifest()
            .files
            .get(path)
            .is_some_and(|recorded| recorded.inputs.is_some())
    }

    fn would_keep(&self, path: &str, inputs: &FileHash) -> bool {
        check_relative(path).is_ok()
            && self.manifest().files.get(path).is_some_and(|recorded| {
                recorded.inputs == Some(*inputs) && recorded.still(&self.output, path)
            })
    }

    fn keep(&self, path: &str, inputs: &FileHash) -> Result<bool> {
        self.keep_if(path, |recorded| recorded.inputs == Some(*inputs))
    }

    fn copy(&self, path: &str, source: &Path) -> Result<()> {
        let bytes = std::fs::read(source)
            .with_context(|| format!("failed to read `{}`", source.display()))?;
        self.write(path, &bytes)
    }

    fn previous(&self, path: &str) -> Option<PathBuf> {
        check_relative(path).ok()?;
        let file = self.output.join(path);
        file.is_file().then_some(file)
    }

    fn still_written(&self, path: &str) -> bool {
        check_relative(path).is_ok()
            && self
                .manifest()
                .files
                .get(path)
                .is_some_and(|recorded| recorded.still(&self.output, path))
    }

    fn keep_written(&self, path: &str) -> Result<bool> {
        self.keep_if(path, |_| true)
    }

    fn previous_state(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(sibling(&self.output, name)).ok()
    }

    fn state_path(&self, name: &str) -> Option<PathBuf> {
        Some(state_path(&self.output, name))
    }

    fn previous_intact(&self, dir: &str) -> bool {
        use rayon::prelude::*;
        let prefix = format!("{dir}/");
        let under: Vec<(&str, &Recorded)> = self
            .manifest()
            .files
            .iter()
            .filter(|(path, _)| path.starts_with(&prefix))
            .collect();
        !under.is_empty()
            && under
                .par_iter()
                .all(|(path, recorded)| recorded.still(&self.output, path))
    }

    fn keep_unwritten(&self, dir: &str) -> Result<usize> {
        let prefix = format!("{dir}/");
        let mut kept = 0;
        // Not `stat`ed again: `previous_intact` did, earlier in this build
        // (a file changed since is found by the next build's check, as a
        // kept page is).
        for (at, path) in self.manifest().files.keys().enumerate() {
            if path.starts_with(&prefix) && self.claimed(at) == Claim::Unclaimed {
                self.claim(path, at, Claim::Kept)?;
                kept += 1;
            }
        }
        Ok(kept)
    }
}

/// The manifest of a first build, whose staging directory has just become
/// the output: every file was written by this build.
fn fresh_output(output: &Path, staged: &files::Files<Staged>) -> Result<MergeReport> {
    use rayon::prelude::*;
    let files: Vec<(&str, Recorded)> = staged
        .par_iter()
        .filter_map(|(path, staged)| match staged {
            Staged::Written(_, hash, inputs) => {
                let meta = std::fs::metadata(output.join(path)).ok()?;
                Recorded::of(&meta, *hash, *inputs).map(|recorded| (path, recorded))
            }
            Staged::Unchanged(_) => None,
        })
        .collect();
    let dirs = prune::first_dirs(staged.keys());
    Manifest::write(output, files.into_iter(), &dirs)?;
    Ok(MergeReport {
        written: staged.len(),
        ..MergeReport::default()
    })
}

/// `root/a/b.html` → `a/b.html`.
pub fn relative_slash_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Output paths come from ledger ids and content file names: refuse anything
/// that could leave the output directory.
fn check_relative(path: &str) -> Result<()> {
    if !stays_inside(path) {
        bail!("refusing to write `{path}`: output paths must stay inside the output directory");
    }
    Ok(())
}

/// Whether `path` names something inside the directory it is relative to:
/// not empty, no `\\`, no root, no `..`, no `.` first; what `Path`'s
/// components say (every one `Normal`: `Path` skips empty parts and an
/// interior `.`), read a byte at a time, as it is asked of every path of a
/// million-file manifest.
fn stays_inside(path: &str) -> bool {
    let bytes = path.as_bytes();
    // Bytes, not `str::split('/')`: that compares each `/` it finds with
    // `memcmp`, which was most of reading a manifest's paths.
    !bytes.is_empty()
        && bytes[0] != b'/'
        && !bytes.contains(&b'\\')
        && (bytes.split(|&b| b == b'/').enumerate())
            .all(|(at, part)| !matches!(part, [b'.', b'.']) && (at > 0 || !matches!(part, [b'.'])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `stays_inside` is the rule `Path`'s components give.
    #[test]
    fn stays_inside_is_what_path_components_say() {
        use std::path::Component;
        let by_components = |path: &str| {
            !path.is_empty()
                && !path.contains('\\')
                && Path::new(path)
                    .components()
                    .all(|c| matches!(c, Component::Normal(_)))
        };
        let cases = [
            "", ".", "..", "/", "a", "a/b.html", "./a", "a/./b", "a/.", "a/..", "a/../b", "../a",
            "a//b", "a/", "//a", ".a", "a/..b", "..a/b", "a\\b", "a/.../b", "./", ".//a",
        ];
        for case in cases {
            assert_eq!(stays_inside(case), by_components(case), "{case:?}");
        }
        proptest::proptest!(|(path in "[a./\\\\]{0,8}")| {
            proptest::prop_assert_eq!(stays_inside(&path), by_components(&path), "{:?}", path);
        });
    }

    #[test]
    fn paths_cannot_escape() {
        let sink = MemorySink::default();
        assert!(sink.write("../x", b"").is_err());
        assert!(sink.write("/etc/x", b"").is_err());
        assert!(sink.write("a/../../x", b"").is_err());
        sink.write("a/b.html", b"x").unwrap();
        assert!(sink.write("a/b.html", b"y").is_err());
    }

    #[test]
    fn merge_is_incremental() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let first = StagingSink::new(&output).unwrap();
        first.write("a.html", b"a").unwrap();
        first.write("old/b.html", b"b").unwrap();
        assert_eq!(
            first.merge_into(&output).unwrap(),
            MergeReport {
                written: 2,
                unchanged: 0,
                removed: 0
            }
        );
        let second = StagingSink::new(&output).unwrap();
        second.write("a.html", b"a").unwrap();
        second.write("c.html", b"c").unwrap();
        assert_eq!(
            second.merge_into(&output).unwrap(),
            MergeReport {
                written: 1,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!output.join("old").exists());
        assert_eq!(std::fs::read(output.join("c.html")).unwrap(), b"c");
    }

    #[test]
    fn a_first_build_becomes_the_output_in_one_rename() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let files: &[(&str, &[u8])] = &[("a.html", b"a"), ("d/e/b.html", b"b")];
        let report = build(&output, files);
        assert_eq!((report.written, report.unchanged), (2, 0));
        assert_eq!(std::fs::read(output.join("d/e/b.html")).unwrap(), b"b");
        // Its manifest vouches for every file, as a merge's would.
        assert_eq!(build(&output, files).unchanged, 2);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");

        // The output appeared while the first build rendered: merged as
        // usual, and what was in it (no build made it) stays.
        let output = dir.path().join("other");
        let sink = StagingSink::new(&output).unwrap();
        for (path, bytes) in files {
            sink.write(path, bytes).unwrap();
        }
        std::fs::create_dir_all(output.join("d")).unwrap();
        std::fs::write(output.join("d/stray.txt"), b"x").unwrap();
        let report = sink.merge_into(&output).unwrap();
        assert_eq!((report.written, report.removed), (2, 0));
        assert_eq!(std::fs::read(output.join("d/e/b.html")).unwrap(), b"b");
        assert!(output.join("d/stray.txt").exists());
    }

    #[test]
    fn only_files_of_the_last_build_and_its_emptied_directories_go() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        build(
            &output,
            &[
                ("a/b/c.html", b"c"),
                ("a/d.html", b"d"),
                ("x/y/z.html", b"z"),
            ],
        );
        std::fs::create_dir_all(output.join("a/b/e/f")).unwrap();
        std::fs::write(output.join("a/b/stray.txt"), b"x").unwrap();
        std::fs::write(output.join("a/b/e/f/stray.txt"), b"x").unwrap();
        let report = build(&output, &[("a/d.html", b"d")]);
        assert_eq!(report.removed, 2);
        assert!(!output.join("a/b/c.html").exists());
        assert!(!output.join("x").exists(), "emptied directories go");
        assert!(output.join("a/b/stray.txt").is_file(), "a stray file stays");
        assert!(output.join("a/b/e/f/stray.txt").is_file());
        assert!(output.join("a/d.html").is_file());
    }

    #[test]
    fn a_forged_manifest_cannot_delete_outside_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        build(&output, &[("a.html", b"a")]);
        std::fs::write(dir.path().join("precious.txt"), b"p").unwrap();
        // This version's binary manifest, and an earlier version's text one.
        let recorded = Recorded {
            len: 1,
            modified: 1,
            hash: [0; 32],
            inputs: None,
        };
        let outside = "../precious.txt".to_string();
        Manifest::write(&output, [(outside.as_str(), recorded)].into_iter(), &[]).unwrap();
        assert!(
            Manifest::read(&output).files.is_empty(),
            "no manifest at all"
        );
        build(&output, &[("b.html", b"b")]);
        assert!(dir.path().join("precious.txt").is_file());
        let zeros = "0".repeat(64);
        let text = format!("{zeros} - 1 1 b.html\n{zeros} - 1 1 ../precious.txt\n");
        std::fs::write(Manifest::path(&output), text).unwrap();
        assert!(
            Manifest::read(&output).files.is_empty(),
            "no manifest at all"
        );
        build(&output, &[("c.html", b"c")]);
        assert!(dir.path().join("precious.txt").is_file());
    }

    /// The binary manifest reads back as written; a text one, as earlier
    /// versions wrote it, is still read.
    #[test]
    fn the_manifest_reads_back_and_an_earlier_text_one_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        build(&output, &[("a.html", b"aaaa"), ("d/b.html", b"bbbb")]);
        let manifest = Manifest::read(&output);
        assert_eq!(manifest.files.len(), 2);
        assert!(manifest.dirs.contains_key("d"));
        let mut text = String::new();
        for dir in manifest.dirs.keys() {
            text.push_str(&format!("d - {dir}\n"));
        }
        for (path, recorded) in manifest.files.iter() {
            let inputs = recorded
                .inputs
                .map_or("-".to_string(), |i| crate::ledger::hex(&i));
            text.push_str(&format!(
                "{} {inputs} {} {} {path}\n",
                crate::ledger::hex(&recorded.hash),
                recorded.len,
                recorded.modified
            ));
        }
        std::fs::write(Manifest::path(&output), text).unwrap();
        let from_text = Manifest::read(&output);
        assert_eq!(from_text.files, manifest.files);
        assert_eq!(from_text.dirs, manifest.dirs);
        // Cut short, the binary one is no manifest.
        let files: Vec<(&str, Recorded)> = manifest.files.iter().map(|(p, r)| (p, *r)).collect();
        let dirs: Vec<&str> = manifest.dirs.keys().collect();
        Manifest::write(&output, files.into_iter(), &dirs).unwrap();
        assert_eq!(Manifest::read(&output).files, manifest.files);
        let bytes = std::fs::read(Manifest::path(&output)).unwrap();
        std::fs::write(Manifest::path(&output), &bytes[..bytes.len() - 1]).unwrap();
        assert!(Manifest::read(&output).files.is_empty());
    }

    #[test]
    fn a_folder_in_the_way_is_removed_only_if_the_last_build_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        build(&output, &[("a/b.html", b"b")]);
        // `a` was the last build's folder: a file may now take its place.
        assert_eq!(build(&output, &[("a", b"a")]).written, 1);
        assert_eq!(std::fs::read(output.join("a")).unwrap(), b"a");
        // A folder of someone else's in the way stops the merge.
        std::fs::create_dir_all(output.join("c")).unwrap();
        std::fs::write(output.join("c/mine.txt"), b"m").unwrap();
        let sink = StagingSink::new(&output).unwrap();
        sink.write("c", b"c").unwrap();
        let error = sink.merge_into(&output).unwrap_err().to_string();
        assert!(error.contains("no earlier build made"), "{error}");
        assert_eq!(std::fs::read(output.join("c/mine.txt")).unwrap(), b"m");
    }

    /// A file kept from the previous build is marked on its manifest entry;
    /// a second output to any path is refused however each was recorded.
    #[test]
    fn kept_and_written_files_are_each_recorded_once() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let first = StagingSink::new(&output).unwrap();
        for (path, inputs) in [
            ("a.html", [1; 32]),
            ("b.html", [2; 32]),
            ("d/c.html", [3; 32]),
        ] {
            first
                .write_rendered(path, path.as_bytes(), &inputs)
                .unwrap();
        }
        first.merge_into(&output).unwrap();

        let second = StagingSink::new(&output).unwrap();
        assert!(second.keep("a.html", &[1; 32]).unwrap());
        assert!(!second.keep("b.html", &[9; 32]).unwrap(), "other inputs");
        let twice = second.keep("a.html", &[1; 32]).unwrap_err().to_string();
        assert!(
            twice.contains("two outputs were rendered to `a.html`"),
            "{twice}"
        );
        let error = second.write("a.html", b"x").unwrap_err().to_string();
        assert!(error.contains("two outputs"), "{error}");
        second.write_rendered("b.html", b"B", &[9; 32]).unwrap();
        assert!(second.write("b.html", b"B").is_err());
        second.write("new/e.html", b"e").unwrap();
        assert!(second.write("new/e.html", b"e").is_err());
        let report = second.merge_into(&output).unwrap();
        assert_eq!(
            report,
            MergeReport {
                written: 2,
                unchanged: 1,
                removed: 1
            }
        );
        assert_eq!(std::fs::read(output.join("b.html")).unwrap(), b"B");
        assert!(!output.join("d").exists(), "its only file went");
        // The manifest records every file of the second build.
        let manifest = Manifest::read(&output);
        let mut paths: Vec<&str> = manifest.files.keys().collect();
        paths.sort_unstable();
        assert_eq!(paths, ["a.html", "b.html", "new/e.html"]);
        assert_eq!(manifest.files.get("a.html").unwrap().inputs, Some([1; 32]));
        assert_eq!(manifest.files.get("b.html").unwrap().inputs, Some([9; 32]));
        // Kept again by a third build, a file written by the second.
        let third = StagingSink::new(&output).unwrap();
        assert!(third.keep("b.html", &[9; 32]).unwrap());
        assert!(third.keep_written("new/e.html").unwrap());
        assert_eq!(third.keep_unwritten("new").unwrap(), 0, "already kept");
        let report = third.merge_into(&output).unwrap();
        assert_eq!(
            (report.written, report.unchanged, report.removed),
            (0, 2, 1)
        );
        assert!(!output.join("a.html").exists());
    }

    /// A rebuild that leaves no file stale takes the last build's
    /// directories and adds those of its new files; they go when emptied.
    #[test]
    fn a_rebuild_without_stale_files_adds_only_its_new_directories() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let dirs = || {
            let mut dirs: Vec<String> = (Manifest::read(&output).dirs.keys())
                .map(str::to_string)
                .collect();
            dirs.sort();
            dirs
        };
        build(&output, &[("a.html", b"a"), ("x/y.html", b"y")]);
        assert_eq!(dirs(), ["", "x"]);
        let report = build(
            &output,
            &[("a.html", b"a"), ("x/y.html", b"y"), ("n/m/z.html", b"z")],
        );
        assert_eq!((report.written, report.removed), (1, 0));
        assert_eq!(dirs(), ["", "n", "n/m", "x"]);
        build(&output, &[("a.html", b"a")]);
        assert_eq!(dirs(), [""]);
        assert!(!output.join("n").exists() && !output.join("x").exists());
        assert!(output.join("a.html").is_file());
    }

    fn build(output: &Path, files: &[(&str, &[u8])]) -> MergeReport {
        let sink = StagingSink::new(output).unwrap();
        for (path, bytes) in files {
            sink.write(path, bytes).unwrap();
        }
        sink.merge_into(output).unwrap()
    }

    #[test]
    fn the_manifest_changes_time_never_output() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let files: &[(&str, &[u8])] = &[("a.html", b"aaaa"), ("d/b.html", b"bbbb")];
        assert_eq!(build(&output, files).written, 2);
        let manifest = dir.path().join(".public.manifest");
        assert!(manifest.is_file(), "the manifest is beside the output");
        assert_eq!(build(&output, files).unchanged, 2);

        // A file edited by hand (same length, new time) is put back.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(output.join("a.html"), b"AAAA").unwrap();
        let report = build(&output, files);
        assert_eq!((report.written, report.unchanged), (1, 1));
        assert_eq!(std::fs::read(output.join("a.html")).unwrap(), b"aaaa");

        // A malformed or missing manifest: bytes are compared instead.
        for broken in ["garbage\n", ""] {
            std::fs::write(&manifest, broken).unwrap();
            std::fs::write(output.join("d/b.html"), b"BBBB").unwrap();
            let report = build(&output, files);
            assert_eq!((report.written, report.unchanged), (1, 1), "{broken:?}");
            assert_eq!(std::fs::read(output.join("d/b.html")).unwrap(), b"bbbb");
        }
        std::fs::remove_file(&manifest).unwrap();
        assert_eq!(build(&output, files).unchanged, 2);
        assert!(manifest.is_file());
    }
}
