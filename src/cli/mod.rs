//! The command line: one file per subcommand, each a thin layer that opens
//! the portal, calls the library and reports. Errors carry their exit status.

mod append;
mod build;
mod check;
mod desk;
mod import;
mod init;
mod key;
mod log;
mod monitor;
mod serve;
mod signing;
mod verify;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::ledger::Ledger;
use crate::portal::Portal;

#[derive(Parser, Debug)]
#[command(
    name = "minhbach",
    version,
    about = "A signed, append-only ledger of relief money and its public website"
)]
struct Cli {
    /// The portal directory (the one holding config.toml).
    #[arg(long, global = true, default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new portal: config, sample content, theme, and a ledger whose genesis admits KEY as administrator.
    Init(init::InitArgs),
    /// Make, admit, revoke or list signing keys.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Append entries (JSON Lines from FILE or standard input), then sign one checkpoint.
    Append(append::AppendArgs),
    /// Import a bank statement (donations) or a household roster from CSV or .xlsx, as one signed batch.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Verify every entry, checkpoint and signature; optionally that the ledger extends an older checkpoint.
    Verify(verify::VerifyArgs),
    /// Remove an interrupted append's unsigned entries and restore the latest checkpoint (signed entries are kept).
    Recover,
    /// List entries, newest last.
    Log(log::LogArgs),
    /// Received, disbursed and balance per fund.
    Balance,
    /// Show one entry and the corrections made to it.
    Show(log::ShowArgs),
    /// Print a receipt for one entry: a C2SP tlog-proof that `verify --proof` checks offline.
    Prove(verify::ProveArgs),
    /// Build the static site into public/ (or -o DIR).
    Build(build::BuildArgs),
    /// Build, serve on 127.0.0.1 and rebuild when sources change (live reload).
    Serve(serve::ServeArgs),
    /// Verify the ledger, render every page in memory and check internal links; writes nothing. With --host: check the built site against a static host's limits.
    Check(check::CheckArgs),
    /// The officers' local web desk: record, review and sign from a browser.
    Desk(desk::DeskArgs),
}

/// An error that is the user's way of calling us, not a failure of the data:
/// exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(&error),
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::run(args),
        Command::Key(command) => key::run(&cli.root, command),
        Command::Append(args) => append::run(&cli.root, args),
        Command::Import(command) => import::run(&cli.root, command),
        Command::Verify(args) => verify::run(&cli.root, args),
        Command::Recover => verify::recover(&cli.root),
        Command::Log(args) => log::log(&cli.root, args),
        Command::Balance => log::balance(&cli.root),
        Command::Show(args) => log::show(&cli.root, args),
        Command::Prove(args) => verify::prove(&cli.root, args),
        Command::Build(args) => build::run(&cli.root, args),
        Command::Serve(args) => serve::run(&cli.root, args),
        Command::Check(args) => check::run(&cli.root, args),
        Command::Desk(args) => desk::run(&cli.root, args),
    }
}

/// Prints the error and its causes, and picks the exit status. A closed
/// pipe (`minhbach log | head`) is not an error.
fn report(error: &anyhow::Error) -> ExitCode {
    let broken_pipe = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::SUCCESS;
    }
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
    if error.chain().any(|cause| cause.is::<UsageError>()) {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}

/// Opens the portal at `root`, or explains that it is not one (usage error).
pub(crate) fn open_portal(root: &Path) -> Result<Portal> {
    if !root.join("config.toml").is_file() {
        return Err(usage(format!(
            "`{}` is not a portal: `config.toml` not found (run `minhbach init DIR`, or pass --root DIR)",
            root.display()
        )));
    }
    Portal::open(root)
}

pub(crate) fn ledger_of(portal: &Portal) -> Ledger {
    portal.ledger()
}

/// The time recorded in appended entries: now, in UTC, to the second.
/// `MINHBACH_TIME` overrides it so tests and the demo generator are
/// reproducible; the entry time is informative, never trusted.
pub(crate) fn now() -> String {
    match std::env::var("MINHBACH_TIME") {
        Ok(fixed) if !fixed.is_empty() => fixed,
        _ => chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    }
}
