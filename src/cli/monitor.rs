//! `minhbach verify --site URL`: watching a published log over HTTP, as a
//! Certificate Transparency monitor does.
//!
//! The live site's checkpoint, keys, hash tiles and entry bundles are
//! fetched into a private temporary folder laid out as the site is, and
//! verified there by `published::verify_published`, exactly as for a
//! downloaded site. Every checkpoint that verifies is remembered per log
//! origin in a state folder (`--state DIR`, else `$XDG_STATE_HOME/minhbach`
//! or `~/.local/state/minhbach`); a later run proves the new checkpoint
//! consistent with the newest one remembered (RFC 9162). A site that went
//! back to a smaller tree (a rollback) or shows a different history for the
//! same entries (a fork, even one signed with the same key) fails, naming
//! both checkpoints, and the bad checkpoint is not remembered, so every later
//! run fails too until someone looks. A URL that starts serving a log of
//! another origin fails as well.
//!
//! HTTP: one blocking `ureq` agent, a connect timeout of 10 s and 60 s per
//! request, up to 4 tries with a doubling pause (0.5, 1, 2 s) for network
//! errors, 429 and 5xx; a 404 is final. Nothing here is in `ledger`, which
//! knows no HTTP.

use super::usage;
use crate::ledger::merkle;
use crate::ledger::note::{Checkpoint, SignedNote};
use crate::ledger::published::{self, PublishedLog};
use crate::ledger::tiles;
use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Whether `--site` names a URL rather than a folder.
pub fn is_url(site: &Path) -> bool {
    site.to_str()
        .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"))
}

/// `verify --site URL [--state DIR] [--since CHECKPOINT]`: prints what was
/// checked; fails (exit 1) on anything wrong, a rollback or a fork.
pub fn run(root: &Path, url: &str, state: Option<&Path>, since: Option<&str>) -> Result<()> {
    // A site of a portal that allows advances is judged by that setting.
    let allow_advances = super::open_portal(root)
        .map(|p| p.config.ledger.allow_advances)
        .unwrap_or(false);
    let (log, consistent) = verify_url(url, state, allow_advances)?;
    if let Some(note) = since {
        check_since(&log, note)?;
    }
    println!(
        "ok: the site's log holds {} entries; every tile, entry, invariant and the checkpoint signature checked",
        log.checkpoint.size
    );
    let root_hash = base64::engine::general_purpose::STANDARD.encode(log.checkpoint.root);
    println!("root {root_hash} (origin {})", log.checkpoint.origin);
    if consistent.is_empty() {
        println!("ok: first time this log is seen here; its checkpoint is remembered");
    } else {
        println!("{consistent}");
    }
    if since.is_some() {
        println!("ok: extends the older checkpoint");
    }
    Ok(())
}

/// `--since` with a URL: the older checkpoint is signed by a key of the
/// log and its tree is a prefix of the site's.
fn check_since(log: &PublishedLog, note_text: &str) -> Result<()> {
    let note = SignedNote::parse(note_text).map_err(|e| anyhow!("the older checkpoint: {e}"))?;
    let old = note
        .checkpoint()
        .map_err(|e| anyhow!("the older checkpoint: {e}"))?;
    if old.origin != log.checkpoint.origin {
        bail!(
            "the older checkpoint names the log `{}`, not `{}`",
            old.origin,
            log.checkpoint.origin
        );
    }
    if !log.state.keys().any(|key| note.verify(&key.vkey).is_ok()) {
        bail!("the older checkpoint is not signed by any key in the log's key history");
    }
    let proof = merkle::consistency_proof(&log.leaves, old.size).map_err(|e| anyhow!("{e}"))?;
    merkle::verify_consistency(
        old.size,
        log.checkpoint.size,
        &old.root,
        &log.checkpoint.root,
        &proof,
    )
    .map_err(|_| anyhow!("the site's log does not extend {}", describe(&old)))
}

/// The largest file fetched: an entry bundle is at most 256 lines of
/// 64 KiB, 16 MiB.
const MAX_BODY: u64 = 17 << 20;
const TRIES: u32 = 4;
/// 2^30 entries: two hundred times the national-scale target (W3 is 5.5
/// million), and a tile list that still fits in memory.
const MAX_TREE_SIZE: u64 = 1 << 30;

/// Verifies the log published at `url` and checks it against the
/// checkpoints remembered in `state` (or the default state folder).
pub fn verify_url(
    url: &str,
    state: Option<&Path>,
    allow_advances: bool,
) -> Result<(PublishedLog, String)> {
    let base = if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    };
    let client = Client::new();
    let checkpoint_url = format!("{base}ledger/checkpoint");
    let note_text = client.text(&checkpoint_url, &base)?;
    let note = SignedNote::parse(&note_text).map_err(|e| not_a_log(&base, &checkpoint_url, e))?;
    let checkpoint = note
        .checkpoint()
        .map_err(|e| not_a_log(&base, &checkpoint_url, e))?;
    let keys_url = format!("{base}ledger/keys");
    let keys_text = client.text(&keys_url, &base)?;
    let keys = published::PublishedKeys::parse(&keys_text)
        .map_err(|(line, e)| anyhow!("`{keys_url}` line {line}: not a log's keys file: {e}"))?;
    // Signed by a key of the log not revoked at or before this tree's size
    // (the whole keys file is checked against the log below).
    let signed = keys.keys.iter().any(|key| {
        key.revoked_from.is_none_or(|from| from > checkpoint.size) && note.verify(&key.vkey).is_ok()
    });
    if !signed {
        bail!(
            "`{checkpoint_url}` is not signed by any key in `{keys_url}` that was not revoked by its tree size"
        );
    }

    // The site signs its own checkpoint with keys it also serves: a hostile
    // one could claim any size, and listing its tiles would exhaust memory.
    if checkpoint.size > MAX_TREE_SIZE {
        bail!(
            "{base} claims {} entries, more than any relief ledger ({MAX_TREE_SIZE}); not checked",
            checkpoint.size
        );
    }
    let memory = Memory::open(state, &checkpoint.origin)?;
    // A site that starts a new log under another origin has dropped its
    // history as surely as one that rolls back.
    if let Some(before) = memory.origin_of(&base)?
        && before != checkpoint.origin
    {
        bail!(
            "{base} now serves the log `{}`, not the log `{before}` it served before; \
             its history is gone",
            checkpoint.origin
        );
    }
    let newest = memory.newest()?;
    // A smaller tree is a rollback whatever the tiles say: judged before
    // anything else is fetched.
    if let Some(seen) = &newest
        && checkpoint.size < seen.checkpoint.size
    {
        bail!(
            "rollback: {base} now shows {}, older than {} it showed before ({}); \
             the log must only grow",
            describe(&checkpoint),
            describe(&seen.checkpoint),
            seen.describe_file()
        );
    }

    let mirror = tempfile::Builder::new()
        .prefix("minhbach-site-")
        .tempdir()
        .context("failed to make a temporary folder")?;
    let ledger_dir = mirror.path().join("ledger");
    let mut paths: Vec<String> = Vec::new();
    for tile in tiles::tiles_for_size(checkpoint.size) {
        paths.push(tile.path());
        if tile.level == 0 {
            paths.push(tile.entries_path());
        }
    }
    let progress = crate::progress::bar(paths.len() as u64, "đang tải / fetching", "ô / tiles");
    write_file(&ledger_dir.join("checkpoint"), note_text.as_bytes())?;
    write_file(&ledger_dir.join("keys"), keys_text.as_bytes())?;
    for path in &paths {
        let bytes = client.bytes(&format!("{base}ledger/{path}"), &base)?;
        write_file(&ledger_dir.join(path), &bytes)?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    let log = published::verify_published(&ledger_dir, allow_advances).map_err(|e| {
        let message = e
            .to_string()
            .replace(&format!("{}/", mirror.path().display()), base.as_str());
        anyhow!("{message}")
    })?;

    let mut report = String::new();
    if let Some(seen) = &newest {
        let proof = merkle::consistency_proof(&log.leaves, seen.checkpoint.size)
            .map_err(|e| anyhow!("{e}"))?;
        let consistent = merkle::verify_consistency(
            seen.checkpoint.size,
            checkpoint.size,
            &seen.checkpoint.root,
            &checkpoint.root,
            &proof,
        );
        if consistent.is_err() {
            bail!(
                "fork: {base} now shows {}, which does not extend {} it showed before ({}): \
                 the site shows a different history",
                describe(&checkpoint),
                describe(&seen.checkpoint),
                seen.describe_file()
            );
        }
        report = format!(
            "ok: consistent with {} seen before (consistency proof of {} hashes)",
            describe(&seen.checkpoint),
            proof.len()
        );
    }
    memory.remember(&checkpoint, &note_text, &base)?;
    Ok((log, report))
}

fn not_a_log(base: &str, url: &str, error: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{base} is not a minhbach log: `{url}` is not a signed checkpoint ({error})")
}

/// `checkpoint 1234 (root abc…=) of log X`.
fn describe(checkpoint: &Checkpoint) -> String {
    let root = base64::engine::general_purpose::STANDARD.encode(checkpoint.root);
    format!(
        "checkpoint {} (root {root}) of `{}`",
        checkpoint.size, checkpoint.origin
    )
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create `{}`", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("failed to write `{}`", path.display()))
}

/// The HTTP side: timeouts, retries with backoff, a size limit.
struct Client {
    agent: ureq::Agent,
}

impl Client {
    fn new() -> Client {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!(
                "minhbach/",
                env!("CARGO_PKG_VERSION"),
                " (verify --site)"
            ))
            .build();
        Client { agent }
    }

    fn text(&self, url: &str, base: &str) -> Result<String> {
        let bytes = self.bytes(url, base)?;
        String::from_utf8(bytes)
            .map_err(|_| anyhow!("{base} is not a minhbach log: `{url}` is not text"))
    }

    fn bytes(&self, url: &str, base: &str) -> Result<Vec<u8>> {
        let mut pause = Duration::from_millis(500);
        let mut tries = 0;
        loop {
            tries += 1;
            let last = tries >= TRIES;
            match self.agent.get(url).call() {
                Ok(response) => {
                    let mut body = Vec::new();
                    response
                        .into_reader()
                        .take(MAX_BODY + 1)
                        .read_to_end(&mut body)
                        .with_context(|| format!("failed to read `{url}`"))?;
                    if body.len() as u64 > MAX_BODY {
                        bail!("`{url}` is larger than any file of a minhbach log");
                    }
                    return Ok(body);
                }
                Err(ureq::Error::Status(404, _)) => {
                    bail!(
                        "{base} is not a minhbach log (or not all of it is published): `{url}` was not found (HTTP 404)"
                    )
                }
                Err(ureq::Error::Status(code, _)) if !last && (code == 429 || code >= 500) => {}
                Err(ureq::Error::Status(code, response)) => {
                    bail!("`{url}`: HTTP {code} {}", response.status_text())
                }
                Err(ureq::Error::Transport(_)) if !last => {}
                Err(ureq::Error::Transport(error)) => {
                    bail!("cannot reach {base}: `{url}` failed after {tries} tries: {error}")
                }
            }
            std::thread::sleep(pause);
            pause *= 2;
        }
    }
}

/// The checkpoints seen of one log: `STATE/<origin>/<12-digit size>`, each a
/// signed note as served, and `seen.log`, one line per run that accepted a
/// checkpoint (time, size, URL).
struct Memory {
    /// The state folder: one folder per origin, and `sites/`, the origin
    /// each URL served.
    root: PathBuf,
    dir: PathBuf,
}

struct Seen {
    checkpoint: Checkpoint,
    file: PathBuf,
}

impl Seen {
    fn describe_file(&self) -> String {
        format!("remembered in `{}`", self.file.display())
    }
}

impl Memory {
    fn open(state: Option<&Path>, origin: &str) -> Result<Memory> {
        let root = match state {
            Some(dir) => dir.to_path_buf(),
            None => default_state_dir()?,
        };
        Ok(Memory {
            dir: root.join(origin_folder(origin)),
            root,
        })
    }

    fn site_file(&self, url: &str) -> PathBuf {
        use sha2::{Digest, Sha256};
        let hash = Sha256::digest(url.as_bytes());
        let name: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
        self.root.join("sites").join(name)
    }

    /// The origin `url` served when last checked, if it was.
    fn origin_of(&self, url: &str) -> Result<Option<String>> {
        let file = self.site_file(url);
        match std::fs::read_to_string(&file) {
            Ok(text) => Ok(text.lines().nth(1).map(str::to_string)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => bail!("failed to read `{}`: {e}", file.display()),
        }
    }

    /// The newest checkpoint remembered, if any.
    fn newest(&self) -> Result<Option<Seen>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => bail!("failed to read `{}`: {e}", self.dir.display()),
        };
        let mut newest: Option<(u64, PathBuf)> = None;
        for entry in entries {
            let entry =
                entry.with_context(|| format!("failed to read `{}`", self.dir.display()))?;
            let name = entry.file_name();
            let Some(size) = name.to_str().and_then(|n| n.parse::<u64>().ok()) else {
                continue;
            };
            if newest.as_ref().is_none_or(|(best, _)| size > *best) {
                newest = Some((size, entry.path()));
            }
        }
        let Some((_, file)) = newest else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        let checkpoint = SignedNote::parse(&text)
            .and_then(|note| note.checkpoint())
            .map_err(|e| anyhow!("`{}`: not a checkpoint: {e}", file.display()))?;
        Ok(Some(Seen { checkpoint, file }))
    }

    fn remember(&self, checkpoint: &Checkpoint, note: &str, url: &str) -> Result<()> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("failed to create `{}`", self.dir.display()))?;
        let file = self.dir.join(format!("{:012}", checkpoint.size));
        if !file.exists() {
            write_file(&file, note.as_bytes())?;
        }
        write_file(
            &self.site_file(url),
            format!("{url}\n{}\n", checkpoint.origin).as_bytes(),
        )?;
        let line = format!(
            "{} {} {url}\n",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            checkpoint.size
        );
        use std::io::Write;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("seen.log"))
            .and_then(|mut log| log.write_all(line.as_bytes()))
            .with_context(|| format!("failed to write `{}`", self.dir.display()))
    }
}

/// A folder name for an origin: its safe characters and a hash, so two
/// origins never share one (`example.org/relief` → `example.org_relief-1a2b3c4d`).
fn origin_folder(origin: &str) -> String {
    use sha2::{Digest, Sha256};
    let safe: String = origin
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let hash = Sha256::digest(origin.as_bytes());
    format!(
        "{safe}-{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    )
}

/// `$XDG_STATE_HOME/minhbach`, else `~/.local/state/minhbach`.
fn default_state_dir() -> Result<PathBuf> {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Ok(PathBuf::from(state).join("minhbach"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/minhbach")),
        None => Err(usage(
            "no state folder to remember checkpoints in: set HOME or XDG_STATE_HOME, or pass --state DIR",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_get_distinct_safe_folders() {
        let a = origin_folder("example.org/relief");
        assert!(a.starts_with("example.org_relief-"), "{a}");
        assert_ne!(a, origin_folder("example.org_relief"));
        assert!(!origin_folder("../../etc").contains('/'));
    }

    #[test]
    fn urls_are_told_from_folders() {
        assert!(is_url(Path::new("https://example.org/")));
        assert!(is_url(Path::new("http://127.0.0.1:8080/sub/")));
        assert!(!is_url(Path::new("public")));
    }
}
