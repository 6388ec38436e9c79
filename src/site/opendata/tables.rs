//! The CSV table of each entry kind: one row per entry, `seq` first.

use crate::ledger::entry::{
    BankAccount, Body, Correction, Disbursement, Donation, Entry, Fund, Household, KeyEntry,
    Progress,
};
use crate::money::Dong;
use crate::portal::CitizenIdDigits;
use std::io;

/// The entry kinds that have a CSV, in the order `Body` declares them. Each is
/// also the value of `Body::kind()` for the entries it holds.
pub const CSV_KINDS: [&str; 7] = [
    "key",
    "fund",
    "donation",
    "household",
    "disbursement",
    "progress",
    "correction",
];

/// The header row of a kind's CSV: `seq`, `time`, `signer`, then the kind's
/// fields in declared order (nested `account` flattened as `account_bank_bin`,
/// `account_number`, `account_holder`). Households never have a commitment
/// column; `citizen_id_last4` is last and only when `show_citizen_id_last4`.
/// `None` for a kind not in `CSV_KINDS`.
pub fn csv_header(kind: &str, show_citizen_id_last4: bool) -> Option<Vec<&'static str>> {
    let fields: &[&'static str] = match kind {
        "key" => &["action", "name", "unit", "role", "vkey", "reason"],
        "fund" => &[
            "id",
            "name",
            "description",
            "target",
            "account_bank_bin",
            "account_number",
            "account_holder",
        ],
        "donation" => &[
            "fund",
            "donor",
            "amount",
            "date",
            "booking_time",
            "channel",
            "account",
            "ref",
            "description",
            "note",
        ],
        "household" => &[
            "id",
            "head",
            "province",
            "district",
            "commune",
            "village",
            "circumstances",
            "support",
            "planned",
            "photo_consent",
        ],
        "disbursement" => &["fund", "amount", "date", "household", "payee", "purpose"],
        "progress" => &["household", "date", "stage", "photos", "note"],
        "correction" => &["target", "reason", "amend"],
        _ => return None,
    };
    let mut header = vec!["seq", "time", "signer"];
    header.extend_from_slice(fields);
    if kind == "household" && show_citizen_id_last4 {
        header.push("citizen_id_last4");
    }
    Some(header)
}

/// One CSV of the entries of `kind` (one of `CSV_KINDS`; `None` otherwise),
/// rows in `seq` order, entries of other kinds skipped.
///
/// The format is chosen for the spreadsheets people actually open it with:
///
/// - UTF-8 **with a byte-order mark**, so Excel in Vietnam (which otherwise
///   guesses the Windows-1258 / ANSI code page) shows Vietnamese diacritics
///   correctly instead of mojibake;
/// - CRLF line endings and `"`-quoting as RFC 4180 says;
/// - amounts (`amount`, `target`, `planned`) and `seq` as plain integers of
///   whole đồng, never formatted;
/// - **formula-injection defence** (OWASP "CSV Injection"): every text cell
///   that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
///   single quote `'` in front, so `=HYPERLINK(…)` in a donor name is shown as
///   text, not run. Integer columns are left alone: they cannot hold text.
///   The quote is visible to programs that read the CSV; the JSON Lines file
///   is the exact data.
///
/// Households never show `citizen_id_hmac` or `phone_hmac` (the site
/// publishes no derivative of a private field), and show `citizen_id_last4`
/// only when given the side store of digits (`show_citizen_id_last4` is on:
/// the portal's config decides).
/// Progress photos are their `media` names joined by spaces; a correction's
/// `amend` is compact JSON.
///
/// The site writes them with the streaming `write_csv_for_segments`; this form,
/// which sorts the entries, is what the tests read.
#[cfg(test)]
pub fn csv_for_kind<'a>(
    kind: &str,
    entries: impl IntoIterator<Item = &'a Entry>,
    citizen_id_last4: Option<&CitizenIdDigits>,
) -> Option<String> {
    csv_header(kind, citizen_id_last4.is_some())?;
    let mut sorted: Vec<&Entry> = entries
        .into_iter()
        .filter(|entry| entry.body.kind() == kind)
        .collect();
    sorted.sort_by_key(|entry| entry.seq);
    let mut bytes = Vec::new();
    write_csv_head(kind, citizen_id_last4, &mut bytes).expect("writing to a Vec cannot fail")?;
    write_csv_rows(kind, sorted, citizen_id_last4, &mut bytes).expect("writing to a Vec")?;
    Some(String::from_utf8(bytes).expect("the CSV is built from strings"))
}

/// The streaming form of `csv_for_kind`, for ledgers too large to hold one
/// CSV in memory: writes the same bytes to `out` for the entries of
/// `segments` (a ledger's, a `Vec` a segment, in `seq` order). The rows of
/// as many segments as there are cores are formatted side by side, into a
/// buffer each, then written in order: the donations' CSV, a row for most
/// entries, took a cold build's open-data step on one core. Returns
/// `Ok(None)` without writing anything for a kind not in `CSV_KINDS`.
pub fn write_csv_for_segments<W: io::Write>(
    kind: &str,
    segments: &[Vec<Entry>],
    citizen_id_last4: Option<&CitizenIdDigits>,
    mut out: W,
) -> io::Result<Option<()>> {
    use rayon::prelude::*;
    if write_csv_head(kind, citizen_id_last4, &mut out)?.is_none() {
        return Ok(None);
    }
    for window in segments.chunks(rayon::current_num_threads().max(1)) {
        let rows = (window.par_iter())
            .map(|segment| {
                let mut rows = Vec::new();
                write_csv_rows(kind, segment, citizen_id_last4, &mut rows)?;
                Ok(rows)
            })
            .collect::<io::Result<Vec<Vec<u8>>>>()?;
        for rows in rows {
            out.write_all(&rows)?;
        }
    }
    Ok(Some(()))
}

/// The byte-order mark and header row of a kind's CSV (`None`, nothing
/// written, for a kind not in `CSV_KINDS`).
fn write_csv_head<W: io::Write>(
    kind: &str,
    citizen_id_last4: Option<&CitizenIdDigits>,
    mut out: W,
) -> io::Result<Option<()>> {
    let Some(header) = csv_header(kind, citizen_id_last4.is_some()) else {
        return Ok(None);
    };
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv_writer(&mut out);
    writer.write_record(&header)?;
    writer.flush()?;
    Ok(Some(()))
}

fn csv_writer<W: io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out)
}

/// The rows `write_csv_for_segments` writes after its header, alone: what a
/// rebuild appends for the entries appended since the last build (a row
/// depends on its entry alone, so the earlier rows are unchanged).
pub fn write_csv_rows<'a, W: io::Write>(
    kind: &str,
    entries: impl IntoIterator<Item = &'a Entry>,
    citizen_id_last4: Option<&CitizenIdDigits>,
    out: W,
) -> io::Result<Option<()>> {
    let Some(header) = csv_header(kind, citizen_id_last4.is_some()) else {
        return Ok(None);
    };
    let mut writer = csv_writer(out);
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for entry in entries {
        if entry.body.kind() != kind {
            continue;
        }
        row.clear();
        csv_row(entry, citizen_id_last4, &mut row);
        debug_assert_eq!(row.len(), header.len());
        writer.write_record(&row)?;
    }
    writer.flush()?;
    Ok(Some(()))
}

/// A text cell, neutralised against formula injection
/// (`spreadsheet::guard_cell`).
pub(super) fn text(value: &str) -> String {
    crate::spreadsheet::guard_cell(value)
}

fn opt_text(value: Option<&str>) -> String {
    value.map(text).unwrap_or_default()
}

/// An integer cell: plain digits, no neutralising needed.
pub(super) fn int(value: u64) -> String {
    value.to_string()
}

fn amount(value: Dong) -> String {
    int(value.get())
}

fn csv_row(entry: &Entry, citizen_id_last4: Option<&CitizenIdDigits>, row: &mut Vec<String>) {
    row.push(int(entry.seq));
    row.push(text(&entry.time));
    row.push(text(&entry.signer));
    match &entry.body {
        Body::Key(KeyEntry::Admit {
            name,
            unit,
            role,
            vkey,
        }) => row.extend([
            text("admit"),
            text(name),
            text(unit),
            text(role.as_str()),
            text(vkey),
            String::new(),
        ]),
        Body::Key(KeyEntry::Revoke { name, reason }) => row.extend([
            text("revoke"),
            text(name),
            String::new(),
            String::new(),
            String::new(),
            opt_text(reason.as_deref()),
        ]),
        Body::Fund(fund) => {
            let Fund {
                id,
                name,
                description,
                target,
                account: _,
                accounts: _,
            } = &**fund;
            // Several accounts share the three columns, `; `-separated.
            let joined = |part: fn(&BankAccount) -> &str| {
                let parts: Vec<&str> = fund.bank_accounts().map(part).collect();
                text(&parts.join("; "))
            };
            row.extend([
                text(id),
                text(name),
                text(description),
                target.map(amount).unwrap_or_default(),
                joined(|a| &a.bank_bin),
                joined(|a| &a.number),
                joined(|a| &a.holder),
            ])
        }
        Body::Donation(Donation {
            fund,
            donor,
            amount: value,
            date,
            booking_time,
            channel,
            account,
            reference,
            description,
            note,
        }) => row.extend([
            text(fund),
            text(donor),
            amount(*value),
            text(date),
            opt_text(booking_time.as_deref()),
            text(channel.as_str()),
            opt_text(account.as_deref()),
            opt_text(reference.as_deref()),
            opt_text(description.as_deref()),
            opt_text(note.as_deref()),
        ]),
        Body::Household(household) => {
            let Household {
                id,
                head,
                province,
                district,
                commune,
                village,
                circumstances,
                support,
                planned,
                photo_consent,
                // Commitments of private fields: never in a CSV.
                citizen_id_hmac: _,
                phone_hmac: _,
                citizen_id_last4: old_last4,
            } = &**household;
            row.extend([
                text(id),
                text(head),
                text(province),
                opt_text(district.as_deref()),
                text(commune),
                opt_text(village.as_deref()),
                text(circumstances),
                text(support.as_str()),
                amount(*planned),
                text(if *photo_consent { "true" } else { "false" }),
            ]);
            // Only when the portal shows them: from its private side store,
            // else the digits an entry written before they left the ledger
            // line carries.
            if let Some(digits) = citizen_id_last4 {
                let last4 = digits.get(entry.seq).or(old_last4.as_deref());
                row.push(text(last4.unwrap_or("")));
            }
        }
        Body::Disbursement(Disbursement {
            fund,
            amount: value,
            date,
            household,
            payee,
            purpose,
        }) => row.extend([
            text(fund),
            amount(*value),
            text(date),
            opt_text(household.as_deref()),
            opt_text(payee.as_deref()),
            text(purpose),
        ]),
        Body::Progress(Progress {
            household,
            date,
            stage,
            photos,
            note,
        }) => {
            let media: Vec<&str> = photos.iter().map(|photo| photo.media.as_str()).collect();
            row.extend([
                text(household),
                text(date),
                text(stage.as_str()),
                text(&media.join(" ")),
                opt_text(note.as_deref()),
            ]);
        }
        Body::Correction(Correction {
            target,
            reason,
            amend,
        }) => row.extend([
            int(*target),
            text(reason),
            amend
                .as_ref()
                .map(|fields| text(&serde_json::to_string(fields).expect("a JSON map serialises")))
                .unwrap_or_default(),
        ]),
    }
}
