//! `minhbach append --key FILE [INPUT | -]`.

use super::signing::{append_inputs, load_secret, load_signing_key};
use super::{ledger_of, open_portal, usage};
use crate::ledger::MAX_INPUT_LINE_BYTES;
use crate::ledger::entry::Body;
use crate::ledger::entry::MAX_LINE_BYTES;
use crate::ledger::{InputContext, Pending, parse_input};
use anyhow::{Result, bail};
use clap::Args;
use std::io::{BufRead, Read};
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
    let (name, input, base_dir) = open_input(args.input.as_deref())?;
    let secret = load_secret(&portal)?;
    let ledger = ledger_of(&portal);
    let context = InputContext {
        secret: secret.as_ref(),
        base_dir,
        media_dir: ledger.media_dir(),
        check_media: crate::media::check_photo,
    };
    let mut pending = Vec::new();
    let mut line_numbers = Vec::new();
    for_each_line(input, &name, &mut |number, line| {
        if line.trim().is_empty() {
            return Ok(());
        }
        let item = parse_input(line, &context).map_err(|error| {
            anyhow::anyhow!("{name} line {number}: {error}\nnothing was appended")
        })?;
        pending.push(item);
        line_numbers.push(number);
        Ok(())
    })?;
    if pending.is_empty() {
        return Err(usage(format!("{name} holds no entries")));
    }
    let describe = |index: usize| format!("{name} line {}", line_numbers[index]);
    let digits: Vec<_> = pending.iter().map(citizen_id_digits).collect();
    let report = append_inputs(&ledger, pending, &key, &describe)?;
    portal.keep_citizen_id_digits(&placed_digits(digits, report.first_seq))
}

/// The citizen-ID digits an input carries, kept out of the ledger line:
/// `(the household entry's seq if the entry is a correction, digits)`.
pub(crate) fn citizen_id_digits(pending: &Pending) -> Option<(Option<u64>, String)> {
    let last4 = pending.citizen_id_last4.clone()?;
    match &pending.body {
        Body::Correction(correction) => Some((Some(correction.target), last4)),
        _ => Some((None, last4)),
    }
}

/// Each appended entry's digits under its household entry's seq: the
/// entry's own (`first_seq` + its position), or a correction's target.
pub(crate) fn placed_digits(
    digits: Vec<Option<(Option<u64>, String)>>,
    first_seq: u64,
) -> Vec<(u64, String)> {
    digits
        .into_iter()
        .enumerate()
        .filter_map(|(index, digits)| {
            let (target, last4) = digits?;
            Some((target.unwrap_or(first_seq + index as u64), last4))
        })
        .collect()
}

/// Hands each line (numbered from 1, without its line ending) to `visit`,
/// reading at most [`MAX_INPUT_LINE_BYTES`] of a line: memory is bounded by
/// the longest line allowed, not the input (a 10 GB file, or a 100 MB line,
/// is refused at the line that is too long).
fn for_each_line(
    mut input: impl BufRead,
    name: &str,
    visit: &mut dyn FnMut(usize, &str) -> Result<()>,
) -> Result<()> {
    let mut buffer = Vec::new();
    for number in 1.. {
        buffer.clear();
        let limit = MAX_INPUT_LINE_BYTES as u64 + 2;
        (&mut input)
            .take(limit)
            .read_until(b'\n', &mut buffer)
            .map_err(|e| usage(format!("cannot read {name}: {e}")))?;
        if buffer.is_empty() {
            break;
        }
        let mut line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_INPUT_LINE_BYTES {
            bail!(
                "{name} line {number}: the line is over the {MAX_INPUT_LINE_BYTES}-byte limit of an input line (a stored entry is at most {MAX_LINE_BYTES} bytes)\nnothing was appended"
            );
        }
        let line = std::str::from_utf8(line).map_err(|e| {
            anyhow::anyhow!("{name} line {number}: not UTF-8 text ({e})\nnothing was appended")
        })?;
        visit(number, line)?;
    }
    Ok(())
}

/// Opens the input file (or standard input); returns a name for messages,
/// a reader, and the directory relative photo paths are resolved against.
fn open_input(input: Option<&Path>) -> Result<(String, Box<dyn BufRead>, PathBuf)> {
    match input {
        None => Ok(stdin_input()),
        Some(path) if path == Path::new("-") => Ok(stdin_input()),
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| usage(format!("cannot read `{}`: {e}", path.display())))?;
            let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
            Ok((
                format!("`{}`", path.display()),
                Box::new(std::io::BufReader::new(file)),
                base,
            ))
        }
    }
}

fn stdin_input() -> (String, Box<dyn BufRead>, PathBuf) {
    (
        "standard input".to_string(),
        Box::new(std::io::stdin().lock()),
        PathBuf::from("."),
    )
}
