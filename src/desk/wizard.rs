//! The import wizard: a statement or roster read by `crate::import` (its
//! top-level entry points only: `Mapping`, `read_donations`,
//! `read_households`, `Batch`), judged like the CLI's import against the
//! ledger *and the draft* in an append session that is never committed, and
//! shown before anything is kept; accepted rows join the draft.

use super::draft::DraftItem;
use super::server::Desk;
use super::work;
use crate::import::{
    Batch, DonationImport, HouseholdImport, ImportError, Mapping, read_donations, read_households,
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
    /// The staged file's name under the statements folder.
    pub file: &'a str,
}

/// A refused row.
#[derive(Debug, Serialize)]
pub struct RejectedRow {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

/// The import as it would be recorded: the reconciliation of the whole file.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub layout: String,
    pub rows_read: u64,
    pub added: u64,
    pub added_total: String,
    pub duplicates: u64,
    pub debits: u64,
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

/// Reads the file with one layout and judges every row against the ledger
/// and the draft, as `minhbach import --skip-invalid` would.
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
    let read = match choice.what {
        What::Donations => {
            if !session.state().has_fund(choice.fund) {
                return Err(anyhow!(
                    "no fund `{}` / không có quỹ `{}`",
                    choice.fund,
                    choice.fund
                ));
            }
            // The wizard has no account choice yet: a fund's only account is
            // the statement's, and a fund with several is sent to the CLI.
            let accounts = session.state().fund_accounts(choice.fund);
            if accounts.len() > 1 {
                return Err(anyhow!(
                    "quỹ `{}` nhận qua nhiều tài khoản ({}); hãy nhập sao kê bằng `minhbach import donations --account SỐ` / fund `{}` receives through several accounts ({}); import this statement with `minhbach import donations --account NUMBER`",
                    choice.fund,
                    accounts.join(", "),
                    choice.fund,
                    accounts.join(", ")
                ));
            }
            let account = accounts.first().cloned();
            let import = DonationImport {
                path,
                fund: choice.fund,
                account: account.as_deref(),
                mapping: &mapping,
                skip_invalid: true,
            };
            read_donations(&import, session.state(), &mut |_| {})
        }
        What::Households => {
            if desk.secret.is_none() {
                return Err(anyhow!(
                    "households need the portal secret, which was not found"
                ));
            }
            let import = HouseholdImport {
                path,
                mapping: &mapping,
                skip_invalid: true,
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
    let mut accepted = Vec::new();
    for (item, row) in pending.into_iter().zip(rows) {
        let body = item.body.clone();
        match session.push(item) {
            Ok(()) => accepted.push(body),
            Err(error) => {
                batch.rejected.push(crate::import::Rejection {
                    row,
                    column: batch.column_of(error.field.as_deref()),
                    reason: error.message.clone(),
                });
                batch.unaccount(&body);
            }
        }
    }
    let rejected: Vec<RejectedRow> = batch
        .rejected
        .iter()
        .map(|r| RejectedRow {
            row: r.row,
            column: r.column.clone(),
            reason: r.reason.clone(),
        })
        .collect();
    let added = accepted.len() as u64;
    Ok(Preview {
        layout: layout.to_string(),
        rows_read: added + batch.duplicates + batch.debits + rejected.len() as u64,
        added,
        added_total: crate::vn::format_vnd(batch.total.get()),
        duplicates: batch.duplicates,
        debits: batch.debits,
        rejected,
        header: batch.header.clone(),
        header_row: batch.header_row,
        sample: accepted
            .iter()
            .take(10)
            .map(super::pages::summary)
            .collect(),
        accepted,
    })
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
                    (p.added + p.duplicates + p.debits) as i64 - p.rejected.len() as i64
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
/// and the ledger may have changed since the preview).
pub fn accept(desk: &Desk, choice: &Choice) -> Result<u64> {
    let preview = preview(desk, choice)?;
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
