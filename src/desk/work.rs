//! What the desk does with the ledger, always through its public API: a dry
//! run of the draft (an `AppendSession` that is never committed), signing the
//! draft (the same session, committed: the append lock holds against another
//! desk or an `append`), and the funds, households and donations the forms
//! and the look-up show, with corrections applied.

use super::draft::DraftItem;
use super::state::Desk;
use crate::ledger::entry::{BankAccount, Body, Fund};
use crate::ledger::{FundTotals, Pending, VerifyOptions};
use crate::site::{self, RenderOptions};
use anyhow::{Result, anyhow};
use serde::Serialize;

/// The draft judged against the ledger as it stands.
pub struct Judged {
    /// One result per draft entry, in order: `Err` holds the ledger's reason.
    pub results: Vec<Result<(), String>>,
    /// Every fund's totals with the accepted draft entries applied.
    pub funds: Vec<FundTotals>,
    /// The number of entries in the ledger (the first draft entry's seq).
    pub ledger_size: u64,
}

/// Judges `items` in order as `append` would, and writes nothing: the
/// session is dropped, never committed.
pub fn judge(desk: &Desk, items: Vec<Pending>) -> Result<Judged> {
    let session_key = &desk.key;
    let mut session = desk
        .ledger
        .begin_append(session_key, &crate::cli::now())
        .map_err(|e| anyhow!("{e}"))?;
    let ledger_size = session.state().size();
    let mut results = Vec::with_capacity(items.len());
    session.push_all(items, &mut |_, pushed| {
        results.push(pushed.map_err(|refused| refused.error.to_string()));
        true
    });
    let funds = session.state().funds().cloned().collect();
    Ok(Judged {
        results,
        funds,
        ledger_size,
    })
}

/// What signing did.
#[derive(Debug, Serialize)]
pub struct Signed {
    pub first_seq: u64,
    pub last_seq: u64,
    pub checkpoint: u64,
    /// The site build's summary, or why it failed (the entries are signed
    /// either way).
    pub build: std::result::Result<BuildSummary, String>,
}

#[derive(Debug, Serialize)]
pub struct BuildSummary {
    pub pages: usize,
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub output: String,
}

/// Signs `items` (the draft) as one checkpoint, or nothing if any is
/// refused (then the refusals, by draft index), and clears the draft; a
/// marker written before the signature lets `recover_signing` finish the
/// clearing if the desk stops in between. The site is rebuilt afterwards.
pub fn sign(
    desk: &Desk,
    items: Vec<Pending>,
) -> Result<std::result::Result<Signed, Vec<(usize, String)>>> {
    let mut session = desk
        .ledger
        .begin_append(&desk.key, &crate::cli::now())
        .map_err(|e| anyhow!("{e}"))?;
    let mut refused = Vec::new();
    session.push_all(items, &mut |index, pushed| {
        if let Err(refusal) = pushed {
            refused.push((index, refusal.error.to_string()));
        }
        true
    });
    if !refused.is_empty() {
        return Ok(Err(refused));
    }
    let first_seq = session.state().size() - session.len() as u64;
    desk.draft.mark_signing(first_seq, session.len() as u64)?;
    let report = session.commit().map_err(|e| anyhow!("{e}"))?;
    desk.draft.signed()?;
    let output = desk.portal.root.join("public");
    let options = RenderOptions::default();
    let build = site::build(&desk.portal, &output, &options)
        .map(|report| BuildSummary {
            pages: report.render.pages,
            written: report.merge.written,
            unchanged: report.merge.unchanged,
            removed: report.merge.removed,
            output: report.output.display().to_string(),
        })
        .map_err(|e| format!("{e:#}"));
    Ok(Ok(Signed {
        first_seq: report.first_seq,
        last_seq: report.first_seq + report.appended - 1,
        checkpoint: report.checkpoint.size,
        build,
    }))
}

/// A fund as the forms show it.
#[derive(Clone, Debug, Serialize)]
pub struct FundRow {
    pub id: String,
    pub name: String,
    /// Its bank accounts, whichever form its entry uses.
    pub accounts: Vec<BankAccount>,
}

impl FundRow {
    pub fn of(fund: Fund) -> FundRow {
        FundRow {
            accounts: fund.bank_accounts().cloned().collect(),
            id: fund.id,
            name: fund.name,
        }
    }
}

/// A household as the forms and the look-up show it (public fields only).
#[derive(Clone, Debug, Serialize)]
pub struct HouseholdRow {
    pub seq: u64,
    pub id: String,
    pub head: String,
    pub commune: String,
    pub province: String,
    pub village: String,
}

/// A donation as the look-up shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DonationRow {
    pub seq: u64,
    pub fund: String,
    pub donor: String,
    pub amount: String,
    pub date: String,
    pub reference: String,
    pub channel: String,
}

/// The live funds, households and (if asked) donations of the ledger,
/// corrections applied, voided entries left out.
#[derive(Default)]
pub struct Snapshot {
    pub funds: Vec<FundRow>,
    pub households: Vec<HouseholdRow>,
    pub donations: Vec<DonationRow>,
}

pub fn snapshot(desk: &Desk, with_donations: bool) -> Result<Snapshot> {
    let mut bodies = Vec::new();
    let verified = desk
        .ledger
        .verify_cached(VerifyOptions::default(), &mut |entry, _| match entry.body {
            Body::Fund(_) | Body::Household(_) => bodies.push((entry.seq, entry.body)),
            Body::Donation(_) if with_donations => bodies.push((entry.seq, entry.body)),
            _ => {}
        })
        .map_err(|e| anyhow!("{e}"))?;
    let mut snapshot = Snapshot::default();
    for (seq, body) in bodies {
        if verified.state.is_voided(seq) {
            continue;
        }
        let body = verified.state.amended_body(seq).cloned().unwrap_or(body);
        match body {
            Body::Fund(fund) => snapshot.funds.push(FundRow::of(*fund)),
            Body::Household(household) => snapshot.households.push(HouseholdRow {
                seq,
                id: household.id,
                head: household.head,
                commune: household.commune,
                province: household.province,
                village: household.village.unwrap_or_default(),
            }),
            Body::Donation(donation) => snapshot.donations.push(DonationRow {
                seq,
                fund: donation.fund,
                donor: donation.donor,
                amount: crate::vn::format_vnd(donation.amount.get()),
                date: crate::vn::date_vi(&donation.date),
                reference: donation.reference.unwrap_or_default(),
                channel: serde_json::to_value(donation.channel)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            }),
            _ => {}
        }
    }
    Ok(snapshot)
}

/// Entry `seq` as it stands (its latest amendment), and whether it is void.
pub fn entry_as_it_stands(desk: &Desk, seq: u64) -> Result<Option<(Body, bool)>> {
    let verified = desk
        .ledger
        .verify_cached(VerifyOptions::default(), &mut |_, _| {})
        .map_err(|e| anyhow!("{e}"))?;
    if seq >= verified.state.size() {
        return Ok(None);
    }
    let body = match verified.state.amended_body(seq) {
        Some(body) => body.clone(),
        None => desk.ledger.read_entry(seq).map_err(|e| anyhow!(e))?.body,
    };
    Ok(Some((body, verified.state.is_voided(seq))))
}

/// Does `text` match `query`, word by word, without case or diacritics?
pub fn matches(query_words: &[String], fields: &[&str]) -> bool {
    let haystack = crate::vn::fold(&fields.join(" "));
    query_words
        .iter()
        .all(|word| haystack.contains(word.as_str()))
}

pub fn query_words(query: &str) -> Vec<String> {
    crate::vn::fold(query)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Loads the draft as pending entries.
pub fn pending_of(desk: &Desk, items: &[DraftItem]) -> Result<Vec<Pending>> {
    let media_dir = desk.ledger.media_dir();
    items
        .iter()
        .map(|item| desk.draft.pending(item, &media_dir))
        .collect()
}

/// At start: a draft the desk signed just before it stopped is cleared.
pub fn recover_signing(desk: &Desk) -> Result<bool> {
    if !desk.draft.signing_marker().exists() {
        return Ok(false);
    }
    let verified = desk
        .ledger
        .verify_cached(VerifyOptions::default(), &mut |_, _| {})
        .map_err(|e| anyhow!("{e}"))?;
    let _draft = desk.draft.lock()?;
    desk.draft.recover_signing(verified.state.size())
}
