//! `minhbach import donations|households FILE --key K [--fund ID] [--account NUMBER] [--map MAP.toml] [--skip-invalid REJECTS.csv] [--report REPORT.csv]`.
//!
//! Reads a bank statement or a household roster (CSV or spreadsheet) through
//! `crate::import`, appends what is new as one batch under one signed
//! checkpoint, and prints a summary that accounts for every row. One invalid
//! row refuses the whole file unless `--skip-invalid` names a file to set
//! such rows aside in; `--report` lists every statement row not added.
//! Both files are written only outside the portal's committed and published
//! folders, and never over an existing file (`check_output_file`).

use super::signing::{load_secret, load_signing_key};
use super::{ledger_of, now, open_portal, usage};
use crate::import::{
    Batch, DonationImport, HouseholdImport, ImportError, Mapping, Position, SkipReason, Tally,
    bank_text_hash, read_donations, read_households, statement_account, write_rejects,
    write_report,
};
use crate::ledger::note::SigningKey;
use crate::ledger::{AppendReport, AppendSession, InputContext, Ledger};
use crate::progress;
use crate::vn::format_vnd;
use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import a bank statement (CSV or .xlsx) as donations to one fund; transfers already recorded are counted, not added.
    Donations(DonationArgs),
    /// Import a household roster (CSV or .xlsx); ids already registered are skipped.
    Households(HouseholdArgs),
}

#[derive(Args, Debug)]
pub struct DonationArgs {
    /// The statement: .csv (comma or semicolon, UTF-8) or .xlsx.
    file: PathBuf,
    /// The fund the donations go to.
    #[arg(long)]
    fund: String,
    /// The number of the fund's account the statement is of (required when the fund has several).
    #[arg(long, value_name = "NUMBER")]
    account: Option<String>,
    /// Write every row not added (already recorded, debit, zero, rejected), with its reason, to this CSV file.
    #[arg(long, value_name = "REPORT.csv")]
    report: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct HouseholdArgs {
    /// The roster: .csv (comma or semicolon, UTF-8) or .xlsx.
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// The appending officer's private key file.
    #[arg(long)]
    key: PathBuf,
    /// The file's layout (columns, header row, date and amount formats); see docs/import/.
    #[arg(long, value_name = "MAP.toml")]
    map: Option<PathBuf>,
    /// Import the valid rows and write the invalid ones, with reasons, to this CSV file.
    #[arg(long, value_name = "REJECTS.csv")]
    skip_invalid: Option<PathBuf>,
}

pub fn run(root: &Path, command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Donations(args) => donations(root, args),
        ImportCommand::Households(args) => households(root, args),
    }
}

/// What both imports open before reading the file.
struct Session {
    portal: crate::portal::Portal,
    ledger: Ledger,
    key: SigningKey,
    mapping: Mapping,
    map: Option<PathBuf>,
    file: PathBuf,
    skip_invalid: Option<PathBuf>,
    report: Option<PathBuf>,
}

fn open_session(
    root: &Path,
    file: &Path,
    common: &CommonArgs,
    report: Option<&Path>,
) -> Result<Session> {
    let portal = open_portal(root)?;
    let key = load_signing_key(&common.key)?;
    if !file.is_file() {
        return Err(usage(format!(
            "cannot read `{}`: no such file",
            file.display()
        )));
    }
    let mapping = match &common.map {
        Some(path) => Mapping::load(path).map_err(usage)?,
        None => Mapping::default(),
    };
    if let Some(rejects) = &common.skip_invalid {
        check_output_file(rejects, "--skip-invalid")?;
    }
    if let Some(report) = report {
        check_output_file(report, "--report")?;
        if common.skip_invalid.as_deref() == Some(report) {
            return Err(usage("--report and --skip-invalid must name two files"));
        }
    }
    Ok(Session {
        ledger: ledger_of(&portal),
        portal,
        key,
        mapping,
        map: common.map.clone(),
        file: file.to_path_buf(),
        skip_invalid: common.skip_invalid.clone(),
        report: report.map(Path::to_path_buf),
    })
}

/// The one rule for the files an import writes (`--skip-invalid`,
/// `--report`): never inside a portal's `ledger/`, `public/` or source
/// folders (`--skip-invalid ledger/entries/000000.jsonl` once destroyed
/// every entry), and never over an existing file, which also keeps the
/// imported file safe. Their cells are guarded against formulas when
/// written (`spreadsheet::guard_cell`).
fn check_output_file(path: &Path, option: &str) -> Result<()> {
    crate::portal::refuse_published_location(path, &format!("the {option} file"))
        .map_err(|e| usage(e.to_string()))?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|dir| !dir.is_dir()) {
        return Err(usage(format!(
            "{option} `{}`: its folder does not exist",
            path.display()
        )));
    }
    if path.symlink_metadata().is_ok() {
        return Err(usage(format!(
            "{option} `{}` already exists; name a new file (nothing is overwritten)",
            path.display()
        )));
    }
    Ok(())
}

fn donations(root: &Path, args: DonationArgs) -> Result<()> {
    let session = open_session(root, &args.file, &args.common, args.report.as_deref())?;
    let time = now();
    let working = progress::spinner("đang kiểm tra sổ cái / verifying the ledger".into());
    let append = session.ledger.begin_append(&session.key, &time);
    working.finish_and_clear();
    let append = append?;
    let state = append.state();
    if !state.has_fund(&args.fund) {
        let funds: Vec<&str> = state.funds().map(|f| f.id.as_str()).collect();
        return Err(usage(format!(
            "no fund `{}` in the ledger (funds: {})",
            args.fund,
            if funds.is_empty() {
                "none yet".to_string()
            } else {
                funds.join(", ")
            }
        )));
    }
    let account = statement_account(
        &args.fund,
        state.fund_accounts(&args.fund),
        args.account.as_deref(),
    )
    .map_err(|error| usage(error.to_string()))?;
    let received = state
        .funds()
        .find(|fund| fund.id == args.fund)
        .map_or(0, |fund| fund.received.get());
    let import = DonationImport {
        path: &session.file,
        fund: &args.fund,
        account: account.as_deref(),
        mapping: &session.mapping,
        skip_invalid: session.skip_invalid.is_some(),
        fixes: None,
        keep_skipped_lines: session.report.is_some(),
    };
    let batch = with_progress(&session.file, |progress| {
        read_donations(&import, state, progress)
    });
    let batch = batch.map(|mut batch| {
        compare_descriptions(&session.ledger, &mut batch);
        batch
    });
    let (batch, report) = import_batch(&session, append, batch)?;
    print_statement(&session, &batch);
    let all = received.saturating_add(batch.total.get());
    println!(
        "fund `{}`: +{} (received {} in all)",
        args.fund,
        format_vnd(batch.total.get()),
        format_vnd(all)
    );
    print_appended(report.as_ref(), &session.key);
    Ok(())
}

/// Marks the rows already recorded whose bank text differs from their
/// entry's (a re-issued statement masks and extends descriptions): they are
/// reported, not added and not dropped. One pass over the ledger, only when
/// some row was already recorded.
fn compare_descriptions(ledger: &Ledger, batch: &mut Batch) {
    let mut wanted: std::collections::HashMap<u64, Vec<usize>> = Default::default();
    for (index, skipped) in batch.skipped.iter().enumerate() {
        if let SkipReason::Recorded { seq, .. } = skipped.reason {
            wanted.entry(seq).or_default().push(index);
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut differing = 0;
    let mut seqs: Vec<u64> = wanted.keys().copied().collect();
    seqs.sort_unstable();
    let _ = ledger.for_each_entry_of(&seqs, &mut |entry| {
        if let (Some(indices), crate::ledger::entry::Body::Donation(donation)) =
            (wanted.get(&entry.seq), &entry.body)
        {
            let hash = bank_text_hash(donation);
            for &index in indices {
                if let SkipReason::Recorded {
                    description,
                    differs,
                    ..
                } = &mut batch.skipped[index].reason
                    && *description != hash
                {
                    *differs = true;
                    differing += 1;
                }
            }
        }
        Ok(())
    });
    batch.statement.recorded_differing = differing;
}

fn households(root: &Path, args: HouseholdArgs) -> Result<()> {
    let session = open_session(root, &args.file, &args.common, None)?;
    let Some(secret) = load_secret(&session.portal)? else {
        anyhow::bail!(
            "households need the portal secret `{}` (it commits citizen IDs and phone numbers), which was not found\nnothing was appended",
            session.portal.secret_path().display()
        );
    };
    let time = now();
    let working = progress::spinner("đang kiểm tra sổ cái / verifying the ledger".into());
    let append = session.ledger.begin_append(&session.key, &time);
    working.finish_and_clear();
    let append = append?;
    let context = InputContext {
        secret: Some(&secret),
        base_dir: session
            .file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        media_dir: session.ledger.media_dir(),
        check_media: crate::media::check_photo,
    };
    let import = HouseholdImport {
        path: &session.file,
        mapping: &session.mapping,
        skip_invalid: session.skip_invalid.is_some(),
        fixes: None,
        context: &context,
    };
    let batch = with_progress(&session.file, |progress| {
        read_households(&import, append.state(), progress)
    });
    let (batch, report) = import_batch(&session, append, batch)?;
    print_counts(&session, &batch, report.as_ref(), "");
    println!(
        "households: {}, {}, {} planned",
        plural(batch.new_houses, "new house"),
        plural(batch.repairs, "repair"),
        format_vnd(batch.total.get())
    );
    print_appended(report.as_ref(), &session.key);
    Ok(())
}

/// Pushes the batch read from the file into the append begun before reading
/// (one verify, one lock for the whole import) and signs it. A row the
/// ledger itself refuses (an invariant the reader does not check ahead)
/// fails the import, or with `--skip-invalid` is set aside.
fn import_batch(
    session: &Session,
    mut append: AppendSession,
    read: Result<Batch, ImportError>,
) -> Result<(Batch, Option<AppendReport>)> {
    let nothing = "\nnothing was appended";
    let mut batch = read.map_err(|error| match error {
        // A workbook past the import's bounds is invalid input (exit 1).
        ImportError::Read(error) if error.is::<crate::import::SpreadsheetTooLarge>() => error,
        ImportError::Read(error) => usage(format!("{error:#}")),
        ImportError::Mapping(message) => match &session.map {
            Some(map) => usage(format!("mapping `{}`: {message}", map.display())),
            None => usage(message),
        },
        ImportError::Row { .. } => anyhow!(
            "{error}{nothing} (fix the row, or pass --skip-invalid REJECTS.csv to import the other rows)"
        ),
        ImportError::Layout { .. } => anyhow!("{error}{nothing}"),
    })?;
    let rows = std::mem::take(&mut batch.rows);
    let pending = std::mem::take(&mut batch.pending);
    // The citizen-ID digits of the rows the ledger takes, kept out of it.
    let mut item_digits: Vec<_> = pending
        .iter()
        .map(super::append::citizen_id_digits)
        .collect();
    let mut digits = Vec::new();
    let mut failed = None;
    append.push_all(pending, &mut |index, pushed| {
        let refused = match pushed {
            Ok(()) => {
                digits.push(item_digits[index].take());
                return true;
            }
            Err(refused) => refused,
        };
        let (error, body) = (&refused.error, &refused.body);
        let rejection = batch.set_aside(rows[index], body, error.field.as_deref(), &error.message);
        if session.skip_invalid.is_none() {
            failed = Some(anyhow!("`{}` {rejection}{nothing}", session.file.display()));
            return false;
        }
        batch.rejected.push(rejection);
        true
    });
    if let Some(error) = failed {
        return Err(error);
    }
    if append.is_empty() {
        write_rejects_file(session, &batch)?;
        return Ok((batch, None));
    }
    let working = progress::spinner(format!(
        "đang ghi và ký {} mục / appending and signing {} entries",
        append.len(),
        append.len()
    ));
    let report = append.commit();
    working.finish_and_clear();
    let report = report?;
    session
        .portal
        .keep_citizen_id_digits(&super::append::placed_digits(digits, report.first_seq))?;
    write_rejects_file(session, &batch)?;
    Ok((batch, Some(report)))
}

fn write_rejects_file(session: &Session, batch: &Batch) -> Result<()> {
    if let Some(out) = &session.skip_invalid {
        write_rejects(out, &session.file, &session.mapping, batch)?;
    }
    if let Some(out) = &session.report {
        write_report(out, &session.file, &session.mapping, batch)?;
    }
    Ok(())
}

/// Runs `work` with a progress callback that draws a bar on a terminal.
fn with_progress<T>(file: &Path, work: impl FnOnce(&mut dyn FnMut(Position)) -> T) -> T {
    if !progress::shown() {
        return work(&mut |_| {});
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(size, "đang đọc / reading");
    let result = work(&mut |position: Position| {
        bar.set_message(format!("{} dòng / rows", position.rows));
        match position.bytes {
            Some((done, _)) => bar.set_position(done),
            None => bar.tick(),
        }
    });
    bar.finish_and_clear();
    result
}

fn plural(count: u64, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        format!("{count} {word}s")
    }
}

fn print_counts(session: &Session, batch: &Batch, report: Option<&AppendReport>, debit_word: &str) {
    let added = report.map_or(0, |r| r.appended);
    let mut parts = vec![
        format!("{} added", plural(added, "row")),
        format!("{} skipped", plural(batch.duplicates, "duplicate")),
    ];
    if !debit_word.is_empty() {
        parts.push(format!("{} skipped", plural(batch.debits, debit_word)));
    }
    parts.push(format!("{} rejected", batch.rejected.len()));
    println!("`{}`: {}", session.file.display(), parts.join(", "));
    if let Some(out) = &session.skip_invalid
        && !batch.rejected.is_empty()
    {
        println!(
            "rejected rows, with reasons, written to `{}`",
            out.display()
        );
    }
}

/// The statement's reconciliation: every row read is added, already
/// recorded, a debit line, a zero amount or rejected, in rows and in đồng.
fn print_statement(session: &Session, batch: &Batch) {
    let statement = &batch.statement;
    let part = |tally: Tally, word: &str| {
        format!(
            "{} ({})",
            plural(tally.rows, word),
            format_vnd(tally.dong.get())
        )
    };
    let recorded = format!(
        "{} already recorded ({})",
        statement.recorded.rows,
        format_vnd(statement.recorded.dong.get())
    );
    let added = format!(
        "{} added ({})",
        plural(statement.added.rows, "row"),
        format_vnd(statement.added.dong.get())
    );
    let zero = format!("{} zero-amount", statement.zero.rows);
    let rejected = format!(
        "{} rejected ({})",
        statement.rejected.rows,
        format_vnd(statement.rejected.dong.get())
    );
    println!(
        "`{}`: {} read = {added} + {recorded} + {} + {zero} + {rejected}",
        session.file.display(),
        part(statement.read, "row"),
        part(statement.debits, "debit line"),
    );
    if statement.accounted() != statement.read {
        // Not reachable: every row read lands in one tally. Said loudly if
        // it ever happens, rather than published.
        eprintln!("warning: the rows do not reconcile; please report this as a bug");
    }
    if statement.recorded_differing > 0 {
        println!(
            "{} of the rows already recorded have a different bank text than their entry (masked or extended by a re-issued statement){}",
            statement.recorded_differing,
            if session.report.is_some() {
                "; see the report"
            } else {
                "; --report FILE lists them"
            }
        );
    }
    if let Some(column) = &statement.row_numbers {
        println!(
            "column `{column}` counts 1, 2, 3 …: taken as row numbers, not bank references (set ref_kind in the mapping to say otherwise)"
        );
    }
    if let Some(out) = &session.skip_invalid
        && !batch.rejected.is_empty()
    {
        println!(
            "rejected rows, with reasons, written to `{}`",
            out.display()
        );
    }
    if let Some(out) = &session.report {
        println!(
            "{} not added, with reasons, written to `{}`",
            plural(
                batch.skipped.len() as u64 + batch.rejected.len() as u64,
                "row"
            ),
            out.display()
        );
    }
}

fn print_appended(report: Option<&AppendReport>, key: &SigningKey) {
    match report {
        Some(report) => println!(
            "appended entries {}–{} and signed checkpoint {} as `{}`",
            report.first_seq,
            report.first_seq + report.appended - 1,
            report.checkpoint.size,
            key.name()
        ),
        None => println!("nothing new to append; the ledger is unchanged"),
    }
}
