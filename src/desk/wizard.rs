//! The import wizard: a statement or roster read by `crate::import` (its
//! top-level entry points only: `Mapping`, `read_donations`,
//! `read_households`, `Batch`), judged like the CLI's import against the
//! ledger *and the draft* in an append session that is never committed, and
//! shown before anything is kept; accepted rows join the draft.

use super::draft::DraftItem;
use super::state::Desk;
use super::work;
use crate::import::{
    AccountError, Batch, DonationImport, HouseholdImport, ImportError, Mapping, RowFixes, Tally,
    read_donations, read_households, row_cells, statement_account,
};
use crate::ledger::entry::Body;
use crate::ledger::{InputContext, Pending};
use anyhow::{Result, anyhow};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The bank layouts that ship with minhbach (`docs/import/`), compiled in.
pub const LAYOUTS: [(&str, &str, &str); 3] = [
    (
        "vietcombank",
        "Vietcombank",
        include_str!("../../docs/import/vietcombank.toml"),
    ),
    (
        "vietinbank",
        "VietinBank",
        include_str!("../../docs/import/vietinbank.toml"),
    ),
    (
        "bidv",
        "BIDV / Agribank",
        include_str!("../../docs/import/bidv.toml"),
    ),
];

/// What is imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    Donations,
    Households,
}

/// The wizard's choices.
pub struct Choice<'a> {
    pub what: What,
    /// A shipped layout's name, `headers` (columns found by their header
    /// names), or `auto` (the desk suggests one).
    pub layout: &'a str,
    pub fund: &'a str,
    /// The fund's account the statement is of, or empty: the rule of
    /// `import --account` (`crate::import::statement_account`) decides.
    pub account: &'a str,
    /// The staged file's name under the statements folder.
    pub file: &'a str,
    /// Cells the officer corrected in rejected rows, laid over the file as
    /// it is read (the staged file itself never changes).
    pub fixes: &'a RowFixes,
}

/// A refused row, with its cells (corrections shown in place) so the
/// officer can fix it.
#[derive(Debug, Serialize)]
pub struct RejectedRow {
    pub row: usize,
    pub column: String,
    pub reason: String,
    pub cells: Vec<RowCell>,
    /// Whether the officer has already corrected this row.
    pub fixed: bool,
}

/// One cell of a rejected row, under its header.
#[derive(Debug, Serialize)]
pub struct RowCell {
    pub position: usize,
    pub header: String,
    pub value: String,
    /// The column the reason names.
    pub at_fault: bool,
}

/// One line of the reconciliation: a kind of row, how many, how many đồng.
#[derive(Debug, Serialize)]
pub struct Line {
    pub key: &'static str,
    pub vi: &'static str,
    pub en: &'static str,
    pub rows: u64,
    /// The sum in đồng, formatted, or empty where a row has no amount.
    pub dong: String,
}

/// The import as it would be recorded: the reconciliation of the whole file.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub layout: String,
    /// The account recorded with each donation, or empty.
    pub account: String,
    /// Every row read, accounted for: read = added + the rest.
    pub lines: Vec<Line>,
    /// Whether the parts add up to the rows read, in rows and đồng.
    pub reconciles: bool,
    pub added: u64,
    pub rejected: Vec<RejectedRow>,
    pub header: Vec<String>,
    pub header_row: usize,
    /// The first rows as they will be recorded.
    pub sample: Vec<String>,
    #[serde(skip)]
    pub accepted: Vec<Body>,
}

/// Where uploaded statements are kept until the import is accepted.
pub fn statements_dir(root: &Path) -> PathBuf {
    root.join(".minhbach/desk/statements")
}

/// Stages an uploaded file under its content address (never its own name):
/// `<sha256>.xlsx` for a workbook (a zip), `.csv` otherwise.
pub fn stage_statement(root: &Path, bytes: &[u8]) -> Result<String> {
    let dir = statements_dir(root);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow!("failed to create `{}`: {e}", dir.display()))?;
    let hash: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let extension = if bytes.starts_with(b"PK\x03\x04") {
        "xlsx"
    } else {
        "csv"
    };
    let name = format!("{hash}.{extension}");
    let path = dir.join(&name);
    if !path.is_file() {
        let mut file = tempfile::NamedTempFile::new_in(&dir)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.persist(&path)?;
    }
    Ok(name)
}

/// A staged statement's path, if `name` is one of ours.
fn statement_path(root: &Path, name: &str) -> Result<PathBuf> {
    let ok = name.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == 64
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
            && matches!(ext, "csv" | "xlsx")
    });
    let path = statements_dir(root).join(name);
    if !ok || !path.is_file() {
        return Err(anyhow!(
            "no staged statement `{name}`; upload the file again"
        ));
    }
    Ok(path)
}

fn mapping_of(layout: &str) -> Result<Mapping> {
    if layout == "headers" {
        return Ok(Mapping::default());
    }
    let (_, _, text) = LAYOUTS
        .iter()
        .find(|(name, _, _)| *name == layout)
        .ok_or_else(|| anyhow!("unknown layout `{layout}`"))?;
    Mapping::parse(text).map_err(|e| anyhow!("layout `{layout}`: {e}"))
}

/// The statement's account by the rule of `import --account`, told in
/// Vietnamese and English.
fn account_of(fund: &str, accounts: &[String], given: &str) -> Result<Option<String>> {
    let given = (!given.is_empty()).then_some(given);
    statement_account(fund, accounts, given).map_err(|error| {
        let vi = match &error {
            AccountError::Several { fund, listed } => format!(
                "quỹ `{fund}` nhận qua nhiều tài khoản ({listed}): hãy chọn tài khoản của sao kê này"
            ),
            AccountError::NotTheFunds {
                fund,
                number,
                listed,
            } => format!("`{number}` không phải tài khoản của quỹ `{fund}` (các tài khoản: {listed})"),
            AccountError::NoAccounts { fund, number } => format!(
                "quỹ `{fund}` không có tài khoản ngân hàng nên không ghi được tài khoản `{number}`"
            ),
        };
        let en = match &error {
            AccountError::Several { fund, listed } => format!(
                "fund `{fund}` receives through several accounts ({listed}): choose the account this statement is of"
            ),
            other => other.to_string(),
        };
        anyhow!("{vi} / {en}")
    })
}

/// Reads the file with one layout and judges every row against the ledger
/// and the draft, as `minhbach import --skip-invalid` would: the reading is
/// `crate::import`'s, a refusal by the ledger is set aside by
/// `Batch::set_aside`, as the CLI does.
fn preview_with(desk: &Desk, choice: &Choice, layout: &str, path: &Path) -> Result<Preview> {
    let mapping = mapping_of(layout)?;
    let items = desk.draft.load()?;
    let mut session = desk
        .ledger
        .begin_append(&desk.key, &crate::cli::now())
        .map_err(|e| anyhow!("{e}"))?;
    for item in work::pending_of(desk, &items)? {
        // A refused draft entry is left out here as it is from a signature.
        let _ = session.push(item);
    }
    let context = InputContext {
        secret: desk.secret.as_ref(),
        base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        media_dir: desk.ledger.media_dir(),
        check_media: crate::media::check_photo,
    };
    let mut account = None;
    let read = match choice.what {
        What::Donations => {
            if !session.state().has_fund(choice.fund) {
                return Err(anyhow!(
                    "không có quỹ `{}` / no fund `{}`",
                    choice.fund,
                    choice.fund
                ));
            }
            account = account_of(
                choice.fund,
                session.state().fund_accounts(choice.fund),
                choice.account,
            )?;
            let import = DonationImport {
                path,
                fund: choice.fund,
                account: account.as_deref(),
                mapping: &mapping,
                skip_invalid: true,
                fixes: Some(choice.fixes),
                keep_skipped_lines: false,
            };
            read_donations(&import, session.state(), &mut |_| {})
        }
        What::Households => {
            if desk.secret.is_none() {
                return Err(anyhow!(
                    "thiếu khóa bí mật của cổng, cần cho danh sách hộ / households need the portal secret, which was not found"
                ));
            }
            let import = HouseholdImport {
                path,
                mapping: &mapping,
                skip_invalid: true,
                fixes: Some(choice.fixes),
                context: &context,
            };
            read_households(&import, session.state(), &mut |_| {})
        }
    };
    let mut batch: Batch = read.map_err(|error| match error {
        ImportError::Read(e) => anyhow!("{e:#}"),
        other => anyhow!("{other}"),
    })?;
    let rows = std::mem::take(&mut batch.rows);
    let pending: Vec<Pending> = std::mem::take(&mut batch.pending);
    let mut bodies: Vec<Option<Body>> =
        pending.iter().map(|item| Some(item.body.clone())).collect();
    let mut accepted = Vec::new();
    session.push_all(pending, &mut |index, pushed| {
        match pushed {
            Ok(()) => accepted.extend(bodies[index].take()),
            Err(refused) => {
                let error = &refused.error;
                let rejection = batch.set_aside(
                    rows[index],
                    &refused.body,
                    error.field.as_deref(),
                    &error.message,
                );
                batch.rejected.push(rejection);
            }
        }
        true
    });
    batch.rejected.sort_by_key(|r| r.row);
    let added = accepted.len() as u64;
    let (lines, reconciles) = reconciliation(choice.what, &batch, added);
    Ok(Preview {
        layout: layout.to_string(),
        account: account.unwrap_or_default(),
        lines,
        reconciles,
        added,
        rejected: rejected_rows(path, &mapping, &batch, choice.fixes)?,
        header: batch.header.clone(),
        header_row: batch.header_row,
        sample: accepted
            .iter()
            .take(10)
            .map(super::forms::summary)
            .collect(),
        accepted,
    })
}

/// Where every row went, in rows and đồng: for a statement the import's
/// own `Statement` tallies (read = added + already recorded + debits +
/// zero + rejected); for a roster, households added (their planned sum),
/// already registered and rejected.
fn reconciliation(what: What, batch: &Batch, added: u64) -> (Vec<Line>, bool) {
    let vnd = |tally: Tally| crate::vn::format_vnd(tally.dong.get());
    let line = |key, vi, en, rows, dong| Line {
        key,
        vi,
        en,
        rows,
        dong,
    };
    match what {
        What::Donations => {
            let s = &batch.statement;
            let lines = vec![
                line("read", "Đã đọc", "Read", s.read.rows, vnd(s.read)),
                line("added", "Sẽ thêm", "To add", s.added.rows, vnd(s.added)),
                line(
                    "recorded",
                    "Đã ghi trước đó",
                    "Already recorded",
                    s.recorded.rows,
                    vnd(s.recorded),
                ),
                line("debits", "Ghi nợ", "Debits", s.debits.rows, vnd(s.debits)),
                line("zero", "Số tiền 0", "Zero", s.zero.rows, vnd(s.zero)),
                line(
                    "rejected",
                    "Bị từ chối",
                    "Rejected",
                    s.rejected.rows,
                    vnd(s.rejected),
                ),
            ];
            let reconciles = s.accounted() == s.read && s.added.rows == added;
            (lines, reconciles)
        }
        What::Households => {
            let rejected = batch.rejected.len() as u64;
            let lines = vec![
                line(
                    "read",
                    "Đã đọc",
                    "Read",
                    added + batch.duplicates + rejected,
                    String::new(),
                ),
                line(
                    "added",
                    "Sẽ thêm",
                    "To add",
                    added,
                    crate::vn::format_vnd(batch.total.get()),
                ),
                line(
                    "duplicates",
                    "Hộ đã có",
                    "Already registered",
                    batch.duplicates,
                    String::new(),
                ),
                line(
                    "rejected",
                    "Bị từ chối",
                    "Rejected",
                    rejected,
                    String::new(),
                ),
            ];
            (lines, true)
        }
    }
}

/// The rejected rows with their cells as the file holds them, the
/// officer's corrections laid over.
fn rejected_rows(
    path: &Path,
    mapping: &Mapping,
    batch: &Batch,
    fixes: &RowFixes,
) -> Result<Vec<RejectedRow>> {
    let numbers: std::collections::BTreeSet<usize> = batch.rejected.iter().map(|r| r.row).collect();
    let cells = row_cells(path, mapping, &numbers)?;
    Ok(batch
        .rejected
        .iter()
        .map(|rejection| {
            let raw = cells.get(&rejection.row).cloned().unwrap_or_default();
            let fixed = fixes.get(&rejection.row);
            let width = raw.len().max(batch.header.len());
            let cells = (0..width)
                .map(|position| {
                    let header = batch.header.get(position).cloned().unwrap_or_default();
                    RowCell {
                        position,
                        at_fault: !rejection.column.is_empty() && header == rejection.column,
                        header,
                        value: fixed
                            .and_then(|f| f.get(&position))
                            .or(raw.get(position))
                            .cloned()
                            .unwrap_or_default(),
                    }
                })
                .collect();
            RejectedRow {
                row: rejection.row,
                column: rejection.column.clone(),
                reason: rejection.reason.clone(),
                cells,
                fixed: fixed.is_some(),
            }
        })
        .collect())
}

/// The preview of `choice`; with layout `auto`, of the layout that reads
/// the most rows with the fewest refusals (each shipped one, and headers).
pub fn preview(desk: &Desk, choice: &Choice) -> Result<Preview> {
    let path = statement_path(&desk.portal.root, choice.file)?;
    if choice.layout != "auto" {
        return preview_with(desk, choice, choice.layout, &path);
    }
    let mut best: Option<Preview> = None;
    let mut first_error = None;
    // The shipped layouts first: on a tie, a bank's own layout (which also
    // finds the donor in the description) is a better guess than headers.
    let candidates = LAYOUTS
        .iter()
        .map(|(name, _, _)| *name)
        .chain(std::iter::once("headers"));
    for layout in candidates {
        match preview_with(desk, choice, layout, &path) {
            Ok(preview) => {
                let score = |p: &Preview| {
                    let read = p.lines.first().map_or(0, |line| line.rows);
                    read as i64 - 2 * p.rejected.len() as i64
                };
                if best.as_ref().is_none_or(|b| score(&preview) > score(b)) {
                    best = Some(preview);
                }
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    best.ok_or_else(|| first_error.unwrap_or_else(|| anyhow!("no layout reads this file")))
}

/// Adds the accepted rows of `choice` to the draft (read again: the file
/// and the ledger may have changed since the preview). Rejected rows are
/// left out only when the officer chose to skip them.
pub fn accept(desk: &Desk, choice: &Choice, skip_rejected: bool) -> Result<u64> {
    let preview = preview(desk, choice)?;
    if !preview.rejected.is_empty() && !skip_rejected {
        return Err(anyhow!(
            "còn {} dòng bị từ chối: hãy sửa hoặc chọn bỏ qua chúng / {} rows are rejected: fix them, or choose to skip them",
            preview.rejected.len(),
            preview.rejected.len()
        ));
    }
    let mut items = desk.draft.load()?;
    let recorded = crate::cli::now();
    let added = preview.accepted.len() as u64;
    items.extend(preview.accepted.into_iter().map(|body| DraftItem {
        recorded: recorded.clone(),
        body,
    }));
    desk.draft.save(&items)?;
    Ok(added)
}
