//! `minhbach log`, `balance` and `show`: reading the ledger in a terminal.

use super::{ledger_of, open_portal};
use crate::ledger::VerifyOptions;
use crate::ledger::entry::{Body, Entry, KINDS, KeyEntry};
use crate::vn::group_digits;
use anyhow::{Result, bail};
use clap::Args;
use std::io::Write;
use std::path::Path;

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only entries of this kind (fund, donation, household, disbursement, progress, correction, key).
    #[arg(long)]
    kind: Option<String>,
    /// Only entries about this fund.
    #[arg(long)]
    fund: Option<String>,
    /// Only entries about this household.
    #[arg(long)]
    household: Option<String>,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The entry's sequence number.
    seq: u64,
}

pub fn log(root: &Path, args: LogArgs) -> Result<()> {
    if let Some(kind) = &args.kind
        && !KINDS.contains(&kind.as_str())
    {
        return Err(super::usage(format!(
            "unknown kind `{kind}` (kinds: {})",
            KINDS.join(", ")
        )));
    }
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let mut out = std::io::stdout().lock();
    ledger.for_each_entry(&mut |entry| {
        if matches(&entry, &args) {
            writeln!(out, "{}", summary(&entry))?;
        }
        Ok(())
    })
}

fn matches(entry: &Entry, args: &LogArgs) -> bool {
    let kind_ok = args
        .kind
        .as_deref()
        .is_none_or(|kind| kind == entry.body.kind());
    let (fund, household) = match &entry.body {
        Body::Fund(f) => (Some(f.id.as_str()), None),
        Body::Donation(d) => (Some(d.fund.as_str()), None),
        Body::Disbursement(d) => (Some(d.fund.as_str()), d.household.as_deref()),
        Body::Household(h) => (None, Some(h.id.as_str())),
        Body::Progress(p) => (None, Some(p.household.as_str())),
        Body::Key(_) | Body::Correction(_) => (None, None),
    };
    let fund_ok = args
        .fund
        .as_deref()
        .is_none_or(|wanted| fund == Some(wanted));
    let household_ok = args
        .household
        .as_deref()
        .is_none_or(|wanted| household == Some(wanted));
    kind_ok && fund_ok && household_ok
}

/// One line per entry: sequence number, kind, and what it says.
fn summary(entry: &Entry) -> String {
    let what = match &entry.body {
        Body::Key(KeyEntry::Admit {
            name, role, unit, ..
        }) => format!("admit {name} ({role:?}, {unit})"),
        Body::Key(KeyEntry::Revoke { name, .. }) => format!("revoke {name}"),
        Body::Fund(f) => format!("{} — {}", f.id, f.name),
        Body::Donation(d) => format!(
            "{} {} {} đ {} {}",
            d.date,
            d.fund,
            group_digits(d.amount.get()),
            if d.donor.is_empty() {
                "(ẩn danh)"
            } else {
                &d.donor
            },
            d.reference.as_deref().unwrap_or("")
        ),
        Body::Household(h) => format!("{} {} — {}, {}", h.id, h.head, h.commune, h.province),
        Body::Disbursement(d) => format!(
            "{} {} {} đ → {}",
            d.date,
            d.fund,
            group_digits(d.amount.get()),
            d.household.as_deref().or(d.payee.as_deref()).unwrap_or("")
        ),
        Body::Progress(p) => format!("{} {} {}", p.date, p.household, p.stage),
        Body::Correction(c) => format!(
            "{} entry {}: {}",
            if c.amend.is_some() { "amend" } else { "void" },
            c.target,
            c.reason
        ),
    };
    format!(
        "{:>7}  {:<12} {}",
        entry.seq,
        entry.body.kind(),
        what.trim_end()
    )
}

pub fn balance(root: &Path) -> Result<()> {
    let portal = open_portal(root)?;
    let verified = ledger_of(&portal).verify(VerifyOptions::default())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<32} {:>22} {:>22} {:>22}",
        "fund", "received (đ)", "disbursed (đ)", "balance (đ)"
    )?;
    let mut received = crate::money::Dong::ZERO;
    let mut disbursed = crate::money::Dong::ZERO;
    for fund in verified.state.funds().filter(|f| !f.voided) {
        received = received.checked_add(fund.received)?;
        disbursed = disbursed.checked_add(fund.disbursed)?;
        let (advance, balance) = fund.balance();
        let sign = if advance { "-" } else { "" };
        writeln!(
            out,
            "{:<32} {:>22} {:>22} {:>22}",
            fund.id,
            group_digits(fund.received.get()),
            group_digits(fund.disbursed.get()),
            format!("{sign}{}", group_digits(balance.get()))
        )?;
    }
    let (advance, balance) = match received.checked_sub(disbursed) {
        Ok(balance) => (false, balance),
        Err(_) => (true, disbursed.checked_sub(received)?),
    };
    writeln!(
        out,
        "{:<32} {:>22} {:>22} {:>22}",
        "total",
        group_digits(received.get()),
        group_digits(disbursed.get()),
        format!(
            "{}{}",
            if advance { "-" } else { "" },
            group_digits(balance.get())
        )
    )?;
    Ok(())
}

pub fn show(root: &Path, args: ShowArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let ledger = ledger_of(&portal);
    let mut found = None;
    let mut corrections = Vec::new();
    ledger.for_each_entry(&mut |entry| {
        if entry.seq == args.seq {
            found = Some(entry);
        } else if let Body::Correction(c) = &entry.body
            && c.target == args.seq
        {
            corrections.push(entry);
        }
        Ok(())
    })?;
    let Some(entry) = found else {
        bail!("there is no entry {} in the ledger", args.seq);
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&entry)?)?;
    for correction in corrections {
        writeln!(out, "corrected by entry {}:", correction.seq)?;
        writeln!(out, "{}", serde_json::to_string_pretty(&correction)?)?;
    }
    Ok(())
}
