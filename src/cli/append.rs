//! `minhbach append --key FILE [INPUT | -]`.

use super::{key::load_signing_key, ledger_of, load_secret, now, open_portal, usage};
use crate::ledger::note::SigningKey;
use crate::ledger::{AppendError, InputContext, Ledger, Pending, parse_input};
use anyhow::{Result, bail};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AppendArgs {
    /// The appending officer's private key file.
    #[arg(long)]
    key: PathBuf,
    /// Entries as JSON Lines (one object with "kind" per line); `-` or nothing reads standard input.
    input: Option<PathBuf>,
}

pub fn run(root: &Path, args: AppendArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let key = load_signing_key(&args.key)?;
    let (name, text, base_dir) = read_input(args.input.as_deref())?;
    let secret = load_secret(&portal)?;
    let ledger = ledger_of(&portal);
    let context = InputContext {
        secret: secret.as_ref(),
        base_dir,
        media_dir: ledger.media_dir(),
    };
    let mut pending = Vec::new();
    let mut line_numbers = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = parse_input(line, &context).map_err(|error| {
            anyhow::anyhow!("{name} line {}: {error}\nnothing was appended", index + 1)
        })?;
        pending.push(item);
        line_numbers.push(index + 1);
    }
    if pending.is_empty() {
        return Err(usage(format!("{name} holds no entries")));
    }
    let describe = |index: usize| format!("{name} line {}", line_numbers[index]);
    append_inputs(&ledger, pending, &key, &describe)
}

/// Appends and reports, naming the input line of a refused entry.
pub(crate) fn append_inputs(
    ledger: &Ledger,
    pending: Vec<Pending>,
    key: &SigningKey,
    describe: &dyn Fn(usize) -> String,
) -> Result<()> {
    match ledger.append(pending, key, &now()) {
        Ok(report) => {
            println!(
                "appended entries {}–{} and signed checkpoint {} as `{}`",
                report.first_seq,
                report.first_seq + report.appended - 1,
                report.checkpoint.size,
                key.name()
            );
            Ok(())
        }
        Err(AppendError::Entry { index, error }) => {
            bail!("{}: {error}\nnothing was appended", describe(index))
        }
        Err(error) => Err(error.into()),
    }
}

/// Reads the input file (or standard input); returns a name for messages,
/// the text, and the directory relative photo paths are resolved against.
fn read_input(input: Option<&Path>) -> Result<(String, String, PathBuf)> {
    match input {
        None => read_stdin(),
        Some(path) if path == Path::new("-") => read_stdin(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read `{}`: {e}", path.display())))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            Ok((format!("`{}`", path.display()), text, base))
        }
    }
}

fn read_stdin() -> Result<(String, String, PathBuf)> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| usage(format!("cannot read standard input: {e}")))?;
    Ok(("standard input".to_string(), text, PathBuf::from(".")))
}
