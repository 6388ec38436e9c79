//! Every change the ledger makes to the file system goes through here, so a
//! test can fail or crash each one in turn.
//!
//! **A test hook, inert in normal runs.** `MINHBACH_FAULT` is read once, on
//! the first operation; when it is unset each function below is the plain
//! `std::fs` call after one atomic load. The crash-injection tests
//! (`tests/crash.rs`) set it to prove that an interrupted or failing append
//! never costs a signed entry. Its value is a comma-separated list:
//!
//! - `log=PATH`: append one line per operation to PATH (`3 write
//!   ledger/entries/000000.jsonl`), so a test learns how many operations an
//!   append does and what each one is;
//! - `fail=N`: the N-th operation (1-based) fails, later ones succeed (a
//!   transient error: the append's rollback runs);
//! - `fail-from=N`: the N-th and every later operation fail (a disk that
//!   went away: the rollback fails too and leaves what a crash would);
//! - `crash=N`: the process aborts at the N-th operation, as `kill -9`
//!   would (no rollback, no destructors);
//! - `error=NAME`: the error a failure reports: `eio` (default), `enospc`,
//!   `erofs`, `eacces` or `eperm`, as the kernel would give it.
//!
//! A failed or crashed write first writes half of its bytes, as a full disk
//! or a power cut would, so the torn line is real. A value that does not
//! parse fails every operation with a message saying so, rather than
//! letting a test pass without the faults it asked for.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kinds of operation counted, named in the log.
#[derive(Clone, Copy, Debug)]
enum Op {
    CreateDir,
    Create,
    Open,
    Write,
    Sync,
    SyncDir,
    Rename,
    Remove,
    Truncate,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::CreateDir => "create-dir",
            Op::Create => "create",
            Op::Open => "open",
            Op::Write => "write",
            Op::Sync => "fsync",
            Op::SyncDir => "fsync-dir",
            Op::Rename => "rename",
            Op::Remove => "remove",
            Op::Truncate => "truncate",
        }
    }
}

/// When the injected fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strike {
    Never,
    Once(u64),
    From(u64),
    Crash(u64),
}

/// What `MINHBACH_FAULT` asked for.
#[derive(Debug)]
struct Plan {
    strike: Strike,
    errno: i32,
    log: Option<std::path::PathBuf>,
    /// Set when the variable did not parse: every operation fails with it.
    invalid: Option<String>,
}

/// What to do with the operation about to run.
enum Action {
    Proceed,
    Fail(io::Error),
    Crash,
}

static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
static COUNT: AtomicU64 = AtomicU64::new(0);

fn plan() -> Option<&'static Plan> {
    PLAN.get_or_init(|| std::env::var("MINHBACH_FAULT").ok().map(|v| parse(&v)))
        .as_ref()
}

fn parse(value: &str) -> Plan {
    let mut plan = Plan {
        strike: Strike::Never,
        errno: 5,
        log: None,
        invalid: None,
    };
    for part in value.split(',').filter(|p| !p.is_empty()) {
        if let Err(message) = apply(&mut plan, part) {
            plan.invalid = Some(format!("MINHBACH_FAULT `{value}`: {message}"));
        }
    }
    plan
}

fn apply(plan: &mut Plan, part: &str) -> Result<(), String> {
    let (key, value) = part
        .split_once('=')
        .ok_or_else(|| format!("`{part}` is not KEY=VALUE"))?;
    let index = || match value.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "`{key}` wants an operation number from 1, not `{value}`"
        )),
    };
    match key {
        "log" => plan.log = Some(value.into()),
        "fail" => plan.strike = Strike::Once(index()?),
        "fail-from" => plan.strike = Strike::From(index()?),
        "crash" => plan.strike = Strike::Crash(index()?),
        // The classic Unix numbers, the same on Linux, the BSDs and macOS.
        "error" => {
            plan.errno = match value {
                "eio" => 5,
                "enospc" => 28,
                "erofs" => 30,
                "eacces" => 13,
                "eperm" => 1,
                _ => return Err(format!("unknown error `{value}`")),
            }
        }
        _ => return Err(format!("unknown key `{key}`")),
    }
    Ok(())
}

/// Counts the operation and decides its fate; inert without a plan.
fn next(op: Op, path: &Path) -> Action {
    let Some(plan) = plan() else {
        return Action::Proceed;
    };
    if let Some(message) = &plan.invalid {
        return Action::Fail(io::Error::other(message.clone()));
    }
    let index = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(log) = &plan.log {
        let line = format!("{index} {} {}\n", op.name(), path.display());
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            return Action::Fail(io::Error::other(format!(
                "MINHBACH_FAULT log `{}`: {error}",
                log.display()
            )));
        }
    }
    let error = || Action::Fail(io::Error::from_raw_os_error(plan.errno));
    match plan.strike {
        Strike::Once(n) if n == index => error(),
        Strike::From(n) if n <= index => error(),
        Strike::Crash(n) if n == index => Action::Crash,
        _ => Action::Proceed,
    }
}

/// Runs `operation` unless the plan says to fail or crash first.
fn guarded<T>(op: Op, path: &Path, operation: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    match next(op, path) {
        Action::Proceed => operation(),
        Action::Fail(error) => Err(error),
        Action::Crash => std::process::abort(),
    }
}

pub fn create_dir_all(path: &Path) -> io::Result<()> {
    guarded(Op::CreateDir, path, || fs::create_dir_all(path))
}

/// Creates (or truncates) a file for writing.
pub fn create(path: &Path) -> io::Result<File> {
    guarded(Op::Create, path, || File::create(path))
}

/// Opens a file to append to, creating it if missing.
pub fn open_append(path: &Path) -> io::Result<File> {
    guarded(Op::Open, path, || {
        OpenOptions::new().create(true).append(true).open(path)
    })
}

/// Opens an existing file for writing (to truncate it).
pub fn open_write(path: &Path) -> io::Result<File> {
    guarded(Op::Open, path, || OpenOptions::new().write(true).open(path))
}

/// Writes all of `bytes`; a fault writes the first half and then fails (or
/// aborts), as a full disk or a power cut would.
pub fn write_all(file: &mut File, path: &Path, bytes: &[u8]) -> io::Result<()> {
    match next(Op::Write, path) {
        Action::Proceed => file.write_all(bytes),
        Action::Fail(error) => {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(error)
        }
        Action::Crash => {
            let _ = file.write_all(&bytes[..bytes.len() / 2]);
            std::process::abort()
        }
    }
}

pub fn sync(file: &File, path: &Path) -> io::Result<()> {
    guarded(Op::Sync, path, || file.sync_all())
}

/// Fsyncs a directory so a created or renamed file inside it survives a
/// crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    guarded(Op::SyncDir, dir, || File::open(dir)?.sync_all())
}

pub fn rename(from: &Path, to: &Path) -> io::Result<()> {
    guarded(Op::Rename, to, || fs::rename(from, to))
}

pub fn remove_file(path: &Path) -> io::Result<()> {
    guarded(Op::Remove, path, || fs::remove_file(path))
}

pub fn set_len(file: &File, path: &Path, length: u64) -> io::Result<()> {
    guarded(Op::Truncate, path, || file.set_len(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_parses_into_a_plan() {
        let plan = parse("fail-from=3,error=enospc,log=/tmp/ops");
        assert_eq!(plan.strike, Strike::From(3));
        assert_eq!(plan.errno, 28);
        assert_eq!(plan.log.as_deref(), Some(Path::new("/tmp/ops")));
        assert!(plan.invalid.is_none());
        assert_eq!(parse("crash=1").strike, Strike::Crash(1));
    }

    #[test]
    fn a_value_that_does_not_parse_is_reported_not_ignored() {
        for value in ["fail=0", "fail=x", "error=enoent", "often=3", "fail"] {
            let plan = parse(value);
            assert!(plan.invalid.is_some(), "{value} was accepted");
        }
    }
}
