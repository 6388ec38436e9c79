//! Open data (*dữ liệu mở*): the whole public ledger as JSON Lines, one CSV per
//! entry kind, an Atom feed of the newest entries, a sitemap and `robots.txt`.
//!
//! Every function here is pure and deterministic: no clock, no file I/O, and
//! output in a fixed order (entries by `seq`, URLs sorted), so building the
//! site twice from the same ledger gives the same bytes. The caller decides
//! where the bytes go and which URLs pages have.

use crate::ledger::entry::{
    BankAccount, Body, Channel, Correction, Disbursement, Donation, Entry, Fund, Household,
    KeyEntry, Progress, Role, Stage, Support,
};
use crate::money::Dong;
use crate::portal::CitizenIdDigits;
use crate::vn::group_digits;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

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
/// The site writes them with the streaming `write_csv_for_kind`; this form,
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
    write_csv_for_kind(kind, sorted, citizen_id_last4, &mut bytes)
        .expect("writing to a Vec cannot fail")?;
    Some(String::from_utf8(bytes).expect("the CSV is built from strings"))
}

/// The streaming form of `csv_for_kind`, for ledgers too large to hold one
/// CSV in memory: writes the same bytes to `out`, in the order the entries
/// come (give them in `seq` order, as the ledger stores them). Returns
/// `Ok(None)` without writing anything for a kind not in `CSV_KINDS`.
pub fn write_csv_for_kind<'a, W: io::Write>(
    kind: &str,
    entries: impl IntoIterator<Item = &'a Entry>,
    citizen_id_last4: Option<&CitizenIdDigits>,
    mut out: W,
) -> io::Result<Option<()>> {
    let Some(header) = csv_header(kind, citizen_id_last4.is_some()) else {
        return Ok(None);
    };
    out.write_all("\u{feff}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out);
    writer.write_record(&header)?;
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
fn text(value: &str) -> String {
    crate::spreadsheet::guard_cell(value)
}

fn opt_text(value: Option<&str>) -> String {
    value.map(text).unwrap_or_default()
}

/// An integer cell: plain digits, no neutralising needed.
fn int(value: u64) -> String {
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
            text(role_str(*role)),
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
            text(channel_str(*channel)),
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
                text(support_str(*support)),
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

fn role_str(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Officer => "officer",
    }
}

fn channel_str(channel: Channel) -> &'static str {
    match channel {
        Channel::Bank => "bank",
        Channel::Cash => "cash",
        Channel::InKind => "in_kind",
        Channel::Other => "other",
    }
}

fn support_str(support: Support) -> &'static str {
    match support {
        Support::New => "new",
        Support::Repair => "repair",
    }
}

// ---------------------------------------------------------------------------
// Atom
// ---------------------------------------------------------------------------

/// What an Atom feed says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedInfo {
    /// The feed's title, e.g. `Minh bạch — Quỹ cứu trợ bão Yagi`.
    pub title: String,
    /// The site's absolute base URL, ending in `/`.
    pub site_url: String,
    /// The feed's own absolute URL; also the feed's Atom id, and the base of
    /// every entry's id (`{feed_url}#entry-{seq}`).
    pub feed_url: String,
    /// RFC 3339: the newest entry's `time` (see `newest_time`), never the
    /// clock, so an unchanged ledger gives an unchanged feed.
    pub updated: String,
    /// Fund id → display name, for titles (`Quỹ cứu trợ bão Yagi`). A fund
    /// not in the map is shown by its id.
    pub fund_names: BTreeMap<String, String>,
}

/// The newest `time` among `entries` (by `seq`), for `FeedInfo::updated`.
pub fn newest_time<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Option<&'a str> {
    entries
        .into_iter()
        .max_by_key(|entry| entry.seq)
        .map(|entry| entry.time.as_str())
}

/// Fund id → name from the `fund` entries among `entries`, for
/// `FeedInfo::fund_names` (the last entry for an id wins).
pub fn fund_names<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> BTreeMap<String, String> {
    let mut funds: Vec<(u64, &Fund)> = entries
        .into_iter()
        .filter_map(|entry| match &entry.body {
            Body::Fund(fund) => Some((entry.seq, &**fund)),
            _ => None,
        })
        .collect();
    funds.sort_by_key(|(seq, _)| *seq);
    funds
        .into_iter()
        .map(|(_, fund)| (fund.id.clone(), fund.name.clone()))
        .collect()
}

/// An Atom 1.0 feed (RFC 4287) of `entries` — the caller picks which, usually
/// the newest few dozen — newest (highest `seq`) first.
///
/// Each entry has a stable id `{feed_url}#entry-{seq}` (a sequence number
/// never changes meaning in an append-only ledger), a Vietnamese title such as
/// `Ủng hộ 500.000 ₫ — Nguyễn Văn An — Quỹ cứu trợ bão Yagi` (an anonymous
/// donor is *Nhà hảo tâm ẩn danh*), `updated` and `published` = the entry's
/// `time`, the signer as author, the kind as category, and a link to
/// `link(entry)`, an absolute page URL the site chooses. Household titles name
/// the household by id and place, never by the head's name: how names are
/// shown is the portal's config, which the site applies on its own pages.
///
/// All text is XML-escaped, and characters XML 1.0 forbids (control
/// characters other than tab, LF and CR; U+FFFE, U+FFFF) are removed.
pub fn atom_feed(entries: &[&Entry], feed: &FeedInfo, link: &dyn Fn(&Entry) -> String) -> String {
    let mut sorted: Vec<&Entry> = entries.to_vec();
    sorted.sort_by_key(|entry| std::cmp::Reverse(entry.seq));
    sorted.dedup_by_key(|entry| entry.seq);

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"vi\">\n");
    let _ = writeln!(out, "  <id>{}</id>", xml_escape(&feed.feed_url));
    let _ = writeln!(out, "  <title>{}</title>", xml_escape(&feed.title));
    let _ = writeln!(out, "  <updated>{}</updated>", xml_escape(&feed.updated));
    let _ = writeln!(
        out,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml_escape(&feed.feed_url)
    );
    let _ = writeln!(
        out,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        xml_escape(&feed.site_url)
    );
    let _ = writeln!(
        out,
        "  <author><name>{}</name></author>",
        xml_escape(&feed.title)
    );
    out.push_str("  <generator>minhbach</generator>\n");
    for entry in sorted {
        let (title, summary) = describe(entry, &feed.fund_names);
        out.push_str("  <entry>\n");
        let _ = writeln!(
            out,
            "    <id>{}</id>",
            xml_escape(&format!("{}#entry-{}", feed.feed_url, entry.seq))
        );
        let _ = writeln!(out, "    <title>{}</title>", xml_escape(&title));
        let _ = writeln!(out, "    <updated>{}</updated>", xml_escape(&entry.time));
        let _ = writeln!(
            out,
            "    <published>{}</published>",
            xml_escape(&entry.time)
        );
        let _ = writeln!(
            out,
            "    <author><name>{}</name></author>",
            xml_escape(&entry.signer)
        );
        let _ = writeln!(
            out,
            "    <category term=\"{}\"/>",
            xml_escape(entry.body.kind())
        );
        let _ = writeln!(
            out,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            xml_escape(&link(entry))
        );
        let _ = writeln!(
            out,
            "    <summary type=\"text\">{}</summary>",
            xml_escape(&summary)
        );
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    out
}

/// `1.250.000 ₫`.
fn vnd(value: Dong) -> String {
    format!("{} ₫", group_digits(value.get()))
}

/// `2025-09-12` → `12/09/2025`; anything else unchanged.
fn vn_date(date: &str) -> String {
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
    {
        format!("{}/{}/{}", &date[8..10], &date[5..7], &date[0..4])
    } else {
        date.to_string()
    }
}

/// `Quỹ cứu trợ bão Yagi` for a fund id: its name, prefixed with "Quỹ" unless
/// it already starts so; the id itself when the name is unknown.
fn fund_label(id: &str, names: &BTreeMap<String, String>) -> String {
    let name = names.get(id).map(String::as_str).unwrap_or(id);
    if name.to_lowercase().starts_with("quỹ") {
        name.to_string()
    } else {
        format!("Quỹ {name}")
    }
}

fn donor_label(donor: &str) -> &str {
    if donor.trim().is_empty() {
        "Nhà hảo tâm ẩn danh"
    } else {
        donor
    }
}

fn channel_vi(channel: Channel) -> &'static str {
    match channel {
        Channel::Bank => "chuyển khoản",
        Channel::Cash => "tiền mặt",
        Channel::InKind => "hiện vật",
        Channel::Other => "hình thức khác",
    }
}

fn stage_vi(stage: Stage) -> &'static str {
    match stage {
        Stage::Approved => "Được duyệt",
        Stage::Started => "Khởi công",
        Stage::Completed => "Hoàn thành",
        Stage::HandedOver => "Bàn giao",
    }
}

fn support_vi(support: Support) -> &'static str {
    match support {
        Support::New => "xây mới",
        Support::Repair => "sửa chữa",
    }
}

/// An entry's Vietnamese title and one-line summary.
fn describe(entry: &Entry, funds: &BTreeMap<String, String>) -> (String, String) {
    match &entry.body {
        Body::Key(KeyEntry::Admit {
            name, unit, role, ..
        }) => {
            let role = match role {
                Role::Admin => "quản trị viên",
                Role::Officer => "cán bộ",
            };
            (
                format!("Cấp khóa ký — {name} ({role})"),
                format!("Đơn vị: {unit}"),
            )
        }
        Body::Key(KeyEntry::Revoke { name, reason }) => (
            format!("Thu hồi khóa ký — {name}"),
            reason
                .as_deref()
                .map(|reason| format!("Lý do: {reason}"))
                .unwrap_or_default(),
        ),
        Body::Fund(fund) => {
            let mut summary = fund.description.clone();
            if let Some(target) = fund.target {
                if !summary.is_empty() {
                    summary.push_str(" · ");
                }
                let _ = write!(summary, "Mục tiêu {}", vnd(target));
            }
            (format!("Mở quỹ — {}", fund.name), summary)
        }
        Body::Donation(donation) => {
            let mut summary = format!(
                "Ngày {} · {}",
                vn_date(&donation.date),
                channel_vi(donation.channel)
            );
            if let Some(reference) = &donation.reference {
                let _ = write!(summary, " · mã giao dịch {reference}");
            }
            if let Some(note) = &donation.note {
                let _ = write!(summary, " · {note}");
            }
            (
                format!(
                    "Ủng hộ {} — {} — {}",
                    vnd(donation.amount),
                    donor_label(&donation.donor),
                    fund_label(&donation.fund, funds)
                ),
                summary,
            )
        }
        Body::Household(household) => {
            let place = household_place(household);
            (
                format!(
                    "Hộ gia đình {} — {} — {} {}",
                    household.id,
                    place,
                    support_vi(household.support),
                    vnd(household.planned)
                ),
                household.circumstances.clone(),
            )
        }
        Body::Disbursement(disbursement) => {
            let to = match (&disbursement.household, &disbursement.payee) {
                (Some(household), _) => format!("hộ {household}"),
                (None, Some(payee)) => payee.clone(),
                (None, None) => String::new(),
            };
            let title = if to.is_empty() {
                format!(
                    "Giải ngân {} — {}",
                    vnd(disbursement.amount),
                    fund_label(&disbursement.fund, funds)
                )
            } else {
                format!(
                    "Giải ngân {} — {} — {}",
                    vnd(disbursement.amount),
                    to,
                    fund_label(&disbursement.fund, funds)
                )
            };
            (
                title,
                format!(
                    "Ngày {} · {}",
                    vn_date(&disbursement.date),
                    disbursement.purpose
                ),
            )
        }
        Body::Progress(progress) => {
            let mut summary = format!("Ngày {}", vn_date(&progress.date));
            if !progress.photos.is_empty() {
                let _ = write!(summary, " · {} ảnh", progress.photos.len());
            }
            if let Some(note) = &progress.note {
                let _ = write!(summary, " · {note}");
            }
            (
                format!(
                    "Tiến độ hộ {} — {}",
                    progress.household,
                    stage_vi(progress.stage)
                ),
                summary,
            )
        }
        Body::Correction(correction) => {
            let title = if correction.amend.is_some() {
                format!("Đính chính mục #{}", correction.target)
            } else {
                format!("Hủy bỏ mục #{}", correction.target)
            };
            (title, format!("Lý do: {}", correction.reason))
        }
    }
}

/// `Thôn 3, Xã Tân Lập, Huyện …, Tỉnh …` as far as known, smallest first.
fn household_place(household: &Household) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(village) = &household.village {
        parts.push(village);
    }
    parts.push(&household.commune);
    if let Some(district) = &household.district {
        parts.push(district);
    }
    parts.push(&household.province);
    parts.retain(|part| !part.trim().is_empty());
    parts.join(", ")
}

/// Escapes text for XML content and attribute values (`&`, `<`, `>`, `"`,
/// `'`) and drops the characters XML 1.0 does not allow: control characters
/// other than tab, LF and CR (C0, DEL and C1), U+FFFE and U+FFFF; and the
/// bidi controls pages drop too (`vn::is_bidi_control`), so a feed reader
/// shows an entry's text in the order the site does.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{fffe}' | '\u{ffff}' => {}
            c if c.is_control() || crate::vn::is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Sitemap and robots.txt
// ---------------------------------------------------------------------------

/// The most URLs one sitemap file may list (sitemaps.org).
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// Makes a URL fit for a sitemap: characters outside printable ASCII (e.g.
/// Vietnamese letters) and spaces are percent-encoded as UTF-8 (RFC 3986);
/// existing `%XX` escapes are kept. `None` for a URL that is not absolute
/// `http://` or `https://`.
fn sitemap_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    Some(out)
}

/// The URLs as a sitemap would list them: percent-encoded where needed,
/// relative ones dropped, sorted and deduplicated.
pub fn sitemap_urls(urls: &[String]) -> Vec<String> {
    let mut clean: Vec<String> = urls.iter().filter_map(|url| sitemap_url(url)).collect();
    clean.sort();
    clean.dedup();
    clean
}

/// A sitemaps.org `urlset` of `urls`: absolute `http(s)://` URLs only
/// (relative ones are skipped), percent-encoded where needed, XML-escaped,
/// sorted and deduplicated. No `lastmod`: nothing here reads a clock.
///
/// A sitemap may hold at most `SITEMAP_MAX_URLS` URLs; for more use
/// `sitemap_chunks` and `sitemap_index`.
pub fn sitemap(urls: &[String]) -> String {
    urlset(&sitemap_urls(urls))
}

fn urlset(clean: &[String]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for url in clean {
        let _ = writeln!(out, "  <url><loc>{}</loc></url>", xml_escape(url));
    }
    out.push_str("</urlset>\n");
    out
}

/// The URLs split into sitemaps of at most `SITEMAP_MAX_URLS` each (sorted and
/// deduplicated across all of them), for a site too large for one file; list
/// the files with `sitemap_index`. Always at least one (possibly empty) file.
pub fn sitemap_chunks(urls: &[String]) -> Vec<String> {
    let clean = sitemap_urls(urls);
    if clean.is_empty() {
        return vec![urlset(&[])];
    }
    clean.chunks(SITEMAP_MAX_URLS).map(urlset).collect()
}

/// A sitemaps.org `sitemapindex` listing the sitemap files at `sitemaps`
/// (absolute; sorted, deduplicated and escaped like `sitemap`).
pub fn sitemap_index(sitemaps: &[String]) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for url in sitemap_urls(sitemaps) {
        let _ = writeln!(out, "  <sitemap><loc>{}</loc></sitemap>", xml_escape(&url));
    }
    out.push_str("</sitemapindex>\n");
    out
}

/// `robots.txt` allowing everything and naming the sitemap (an absolute URL;
/// line breaks in it are removed so it cannot add rules).
pub fn robots_txt(sitemap_url: &str) -> String {
    let url: String = sitemap_url
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    format!("User-agent: *\nAllow: /\n\nSitemap: {url}\n")
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::entry::Photo;

    fn entry(seq: u64, body: Body) -> Entry {
        Entry {
            seq,
            time: format!("2025-09-12T08:00:{:02}Z", seq % 60),
            signer: "canbo-xa".into(),
            body,
        }
    }

    fn donation(seq: u64, donor: &str, amount: u64) -> Entry {
        entry(
            seq,
            Body::Donation(Donation {
                fund: "bao-yagi".into(),
                donor: donor.into(),
                amount: Dong::new(amount),
                date: "2025-09-12".into(),
                booking_time: None,
                channel: Channel::Bank,
                account: None,
                reference: Some(format!("FT{seq}")),
                description: None,
                note: None,
            }),
        )
    }

    fn household(seq: u64) -> Entry {
        entry(
            seq,
            Body::Household(Box::new(Household {
                id: "HG-001".into(),
                head: "Lò Thị Mai".into(),
                province: "Lào Cai".into(),
                district: None,
                commune: "Xã Bảo Hà".into(),
                village: Some("Thôn Làng Nủ".into()),
                circumstances: "Nhà bị lũ quét cuốn trôi".into(),
                support: Support::New,
                planned: Dong::new(60_000_000),
                photo_consent: true,
                citizen_id_hmac: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
                    .into(),
                citizen_id_last4: Some("1234".into()),
                phone_hmac: Some(
                    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100".into(),
                ),
            })),
        )
    }

    fn sample() -> Vec<Entry> {
        vec![
            entry(
                0,
                Body::Key(KeyEntry::Admit {
                    name: "quantri".into(),
                    unit: "UBND xã Bảo Hà".into(),
                    role: Role::Admin,
                    vkey: "quantri+12345678+AAAA".into(),
                }),
            ),
            entry(
                1,
                Body::Fund(Box::new(Fund {
                    id: "bao-yagi".into(),
                    name: "Cứu trợ bão Yagi".into(),
                    description: "Hỗ trợ xây lại nhà".into(),
                    target: Some(Dong::new(2_000_000_000)),
                    account: Some(BankAccount {
                        bank_bin: "970415".into(),
                        number: "0123456789".into(),
                        holder: "UBND XA BAO HA".into(),
                    }),
                    accounts: Vec::new(),
                })),
            ),
            donation(2, "Nguyễn Văn An, Hà Nội", 500_000),
            donation(3, "Trần \"Bé\" Ba\nDòng hai", 1_250_000),
            donation(4, "=HYPERLINK(\"http://evil.example\",\"x\")", 1),
            donation(5, "-5", 7),
            donation(6, "", 200_000),
            household(7),
            entry(
                8,
                Body::Disbursement(Disbursement {
                    fund: "bao-yagi".into(),
                    amount: Dong::new(30_000_000),
                    date: "2025-09-20".into(),
                    household: Some("HG-001".into()),
                    payee: None,
                    purpose: "Đợt 1".into(),
                }),
            ),
            entry(
                9,
                Body::Progress(Progress {
                    household: "HG-001".into(),
                    date: "2025-09-21".into(),
                    stage: Stage::Started,
                    photos: vec![
                        Photo {
                            media: "aa.jpg".into(),
                            caption: Some("Trước".into()),
                        },
                        Photo {
                            media: "bb.jpg".into(),
                            caption: None,
                        },
                    ],
                    note: None,
                }),
            ),
            entry(
                10,
                Body::Correction(Correction {
                    target: 2,
                    reason: "Sai số tiền".into(),
                    amend: Some(
                        serde_json::from_str(r#"{"amount":600000,"note":"x, y"}"#).unwrap(),
                    ),
                }),
            ),
            entry(
                11,
                Body::Key(KeyEntry::Revoke {
                    name: "canbo-cu".into(),
                    reason: Some("+nghỉ việc".into()),
                }),
            ),
        ]
    }

    fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let body = text.strip_prefix('\u{feff}').expect("starts with a BOM");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(body.as_bytes());
        let header = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|record| record.unwrap().iter().map(String::from).collect())
            .collect();
        (header, rows)
    }

    #[test]
    fn every_kind_has_a_csv_and_unknown_kinds_none() {
        let entries = sample();
        for kind in CSV_KINDS {
            let csv = csv_for_kind(kind, &entries, None).unwrap();
            assert!(csv.starts_with('\u{feff}'));
            let (header, rows) = read_csv(&csv);
            assert_eq!(header, csv_header(kind, false).unwrap());
            assert_eq!(&header[..3], ["seq", "time", "signer"]);
            let count = entries.iter().filter(|e| e.body.kind() == kind).count();
            assert_eq!(rows.len(), count, "{kind}");
            assert!(rows.iter().all(|row| row.len() == header.len()));
        }
        assert_eq!(csv_for_kind("checkpoint", &entries, None), None);
        assert_eq!(csv_header("nope", true), None);
        let mut sink = Vec::new();
        assert!(
            write_csv_for_kind("nope", &entries, None, &mut sink)
                .unwrap()
                .is_none()
        );
        assert!(sink.is_empty());
    }

    #[test]
    fn donation_csv_round_trips_and_neutralises_formulas() {
        let entries = sample();
        let csv = csv_for_kind("donation", entries.iter().rev(), None).unwrap();
        // CRLF records; the only bare LF is inside the quoted donor name.
        assert!(csv.contains("\r\n"));
        assert_eq!(csv.matches('\n').count(), csv.matches("\r\n").count() + 1);
        let (header, rows) = read_csv(&csv);
        assert_eq!(
            header,
            [
                "seq",
                "time",
                "signer",
                "fund",
                "donor",
                "amount",
                "date",
                "booking_time",
                "channel",
                "account",
                "ref",
                "description",
                "note"
            ]
        );
        assert_eq!(rows.len(), 5);
        // Sorted by seq whatever the input order.
        let seqs: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
        assert_eq!(seqs, ["2", "3", "4", "5", "6"]);
        assert_eq!(rows[0][4], "Nguyễn Văn An, Hà Nội");
        assert_eq!(rows[0][5], "500000");
        assert_eq!(rows[1][4], "Trần \"Bé\" Ba\nDòng hai");
        assert_eq!(rows[1][5], "1250000");
        assert_eq!(rows[2][4], "'=HYPERLINK(\"http://evil.example\",\"x\")");
        assert_eq!(rows[3][4], "'-5");
        assert_eq!(rows[3][5], "7");
        assert_eq!(rows[4][4], "");
        assert_eq!(rows[0][8], "bank");
        assert_eq!(rows[0][10], "FT2");
        // Amount cells are plain integers.
        for row in &rows {
            assert!(row[5].bytes().all(|b| b.is_ascii_digit()), "{row:?}");
        }
    }

    #[test]
    fn text_cells_are_neutralised_integer_cells_not() {
        for bad in [
            "=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "＝1+1", "＋1", "－1", "＠A1",
        ] {
            assert_eq!(text(bad), format!("'{bad}"));
        }
        // A bidi control is dropped first, so it cannot hide a formula.
        assert_eq!(text("\u{202e}=1+1"), "'=1+1");
        assert_eq!(text("An\u{2067}x\u{2069}"), "Anx");
        for fine in ["", "1", "Nguyễn", " =x", "a=b", "'x"] {
            assert_eq!(text(fine), fine);
        }
        assert_eq!(int(5), "5");
    }

    #[test]
    fn household_csv_never_has_commitments() {
        let entries = sample();
        let digits = CitizenIdDigits::default();
        for show in [false, true] {
            let csv = csv_for_kind("household", &entries, show.then_some(&digits)).unwrap();
            assert!(!csv.contains("hmac"));
            assert!(!csv.contains("a1b2c3d4e5f6"));
            assert!(!csv.contains("ffeeddccbbaa"));
            let (header, rows) = read_csv(&csv);
            assert_eq!(rows.len(), 1);
            assert_eq!(header.contains(&"citizen_id_last4".to_string()), show);
            assert_eq!(csv.contains("1234"), show);
            let row = &rows[0];
            let at = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
            assert_eq!(at("head"), "Lò Thị Mai");
            assert_eq!(at("district"), "");
            assert_eq!(at("village"), "Thôn Làng Nủ");
            assert_eq!(at("support"), "new");
            assert_eq!(at("planned"), "60000000");
            assert_eq!(at("photo_consent"), "true");
        }
    }

    #[test]
    fn other_kinds_flatten_as_documented() {
        let entries = sample();
        let (header, rows) = read_csv(&csv_for_kind("fund", &entries, None).unwrap());
        assert_eq!(
            header[3..],
            [
                "id",
                "name",
                "description",
                "target",
                "account_bank_bin",
                "account_number",
                "account_holder"
            ]
        );
        assert_eq!(
            rows[0][3..],
            [
                "bao-yagi",
                "Cứu trợ bão Yagi",
                "Hỗ trợ xây lại nhà",
                "2000000000",
                "970415",
                "0123456789",
                "UBND XA BAO HA"
            ]
        );
        let (_, rows) = read_csv(&csv_for_kind("progress", &entries, None).unwrap());
        assert_eq!(
            rows[0][3..],
            ["HG-001", "2025-09-21", "started", "aa.jpg bb.jpg", ""]
        );
        let (_, rows) = read_csv(&csv_for_kind("correction", &entries, None).unwrap());
        assert_eq!(
            rows[0][3..],
            ["2", "Sai số tiền", r#"{"amount":600000,"note":"x, y"}"#]
        );
        let (_, rows) = read_csv(&csv_for_kind("key", &entries, None).unwrap());
        assert_eq!(
            rows[0][3..7],
            ["admit", "quantri", "UBND xã Bảo Hà", "admin"]
        );
        assert_eq!(
            rows[1][3..],
            ["revoke", "canbo-cu", "", "", "", "'+nghỉ việc"]
        );
        let (_, rows) = read_csv(&csv_for_kind("disbursement", &entries, None).unwrap());
        assert_eq!(
            rows[0][3..],
            ["bao-yagi", "30000000", "2025-09-20", "HG-001", "", "Đợt 1"]
        );
    }

    #[test]
    fn streaming_csv_matches() {
        let entries = sample();
        let mut bytes = Vec::new();
        write_csv_for_kind("donation", &entries, None, &mut bytes)
            .unwrap()
            .unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            csv_for_kind("donation", &entries, None).unwrap()
        );
    }

    /// Parses the whole document, failing on any well-formedness error
    /// (mismatched tags, bad entity references, bad attributes).
    fn assert_well_formed(xml: &str) -> Vec<(String, String)> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut stack: Vec<String> = Vec::new();
        let mut texts = Vec::new();
        let mut roots = 0;
        // Whether the next text continues the last one (split by a reference).
        let mut continuing = false;
        fn push_text(
            texts: &mut Vec<(String, String)>,
            continuing: &mut bool,
            stack: &[String],
            value: &str,
        ) {
            match texts.last_mut() {
                Some((_, text)) if *continuing => text.push_str(value),
                _ => texts.push((stack.last().unwrap().clone(), value.to_string())),
            }
            *continuing = true;
        }
        loop {
            let event = reader.read_event().expect("well-formed XML");
            if !matches!(event, Event::Text(_) | Event::GeneralRef(_)) {
                continuing = false;
            }
            match event {
                Event::Start(start) => {
                    if stack.is_empty() {
                        roots += 1;
                    }
                    for attribute in start.attributes().with_checks(true) {
                        attribute.unwrap().unescape_value().unwrap();
                    }
                    stack.push(String::from_utf8(start.name().as_ref().to_vec()).unwrap());
                }
                Event::Empty(empty) => {
                    assert!(!stack.is_empty(), "element outside the root");
                    for attribute in empty.attributes().with_checks(true) {
                        attribute.unwrap().unescape_value().unwrap();
                    }
                }
                Event::End(_) => {
                    stack.pop().expect("balanced");
                }
                Event::Text(text) => {
                    let value = text.xml_content().expect("valid entities").into_owned();
                    if stack.is_empty() {
                        assert!(value.trim().is_empty(), "text outside the root");
                    } else {
                        push_text(&mut texts, &mut continuing, &stack, &value);
                    }
                }
                Event::GeneralRef(reference) => {
                    let name = String::from_utf8(reference.to_vec()).unwrap();
                    let value = match name.as_str() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("undeclared entity &{other};"),
                    };
                    push_text(&mut texts, &mut continuing, &stack, value);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(stack.is_empty(), "unclosed elements {stack:?}");
        assert_eq!(roots, 1);
        texts
    }

    fn feed_info(entries: &[Entry]) -> FeedInfo {
        FeedInfo {
            title: "Minh bạch — Xã Bảo Hà".into(),
            site_url: "https://minhbach.example/".into(),
            feed_url: "https://minhbach.example/du-lieu/atom.xml".into(),
            updated: newest_time(entries).unwrap().to_string(),
            fund_names: fund_names(entries),
        }
    }

    fn page(entry: &Entry) -> String {
        format!("https://minhbach.example/so-cai/?a=1&b=2#e{}", entry.seq)
    }

    #[test]
    fn atom_is_well_formed_and_escaped() {
        let mut entries = sample();
        entries.push(donation(
            12,
            "<script>alert(1)</script> & 'x'\u{1}\u{7f}\u{fffe}",
            500_000,
        ));
        let refs: Vec<&Entry> = entries.iter().collect();
        let feed = atom_feed(&refs, &feed_info(&entries), &page);
        let texts = assert_well_formed(&feed);
        assert!(!feed.contains("<script>"));
        assert!(feed.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &apos;x&apos;"));
        assert!(!feed.contains('\u{1}') && !feed.contains('\u{7f}') && !feed.contains('\u{fffe}'));
        assert!(feed.contains("href=\"https://minhbach.example/so-cai/?a=1&amp;b=2#e12\""));
        let titles: Vec<&str> = texts
            .iter()
            .filter(|(element, _)| element == "title")
            .map(|(_, text)| text.as_str())
            .collect();
        assert_eq!(titles[0], "Minh bạch — Xã Bảo Hà");
        // Newest first.
        assert_eq!(
            titles[1],
            "Ủng hộ 500.000 ₫ — <script>alert(1)</script> & 'x' — Quỹ Cứu trợ bão Yagi"
        );
        assert!(titles.contains(&"Ủng hộ 200.000 ₫ — Nhà hảo tâm ẩn danh — Quỹ Cứu trợ bão Yagi"));
        assert!(
            titles
                .contains(&"Ủng hộ 1.250.000 ₫ — Trần \"Bé\" Ba\nDòng hai — Quỹ Cứu trợ bão Yagi")
        );
        assert!(titles.contains(
            &"Hộ gia đình HG-001 — Thôn Làng Nủ, Xã Bảo Hà, Lào Cai — xây mới 60.000.000 ₫"
        ));
        assert!(titles.contains(&"Giải ngân 30.000.000 ₫ — hộ HG-001 — Quỹ Cứu trợ bão Yagi"));
        assert!(titles.contains(&"Tiến độ hộ HG-001 — Khởi công"));
        assert!(titles.contains(&"Đính chính mục #2"));
        // The household head's name and commitments stay out of the feed.
        assert!(!feed.contains("Lò Thị Mai"));
        assert!(!feed.contains("a1b2c3d4e5f6"));
        let ids: Vec<&str> = texts
            .iter()
            .filter(|(element, _)| element == "id")
            .map(|(_, text)| text.as_str())
            .collect();
        assert_eq!(ids[0], "https://minhbach.example/du-lieu/atom.xml");
        assert_eq!(ids[1], "https://minhbach.example/du-lieu/atom.xml#entry-12");
        assert_eq!(ids.len(), entries.len() + 1);
        assert!(feed.contains("<updated>2025-09-12T08:00:12Z</updated>"));
        assert!(feed.contains(
            "<summary type=\"text\">Ngày 12/09/2025 · chuyển khoản · mã giao dịch FT12</summary>"
        ));
    }

    #[test]
    fn atom_is_deterministic_and_handles_empty() {
        let entries = sample();
        let refs: Vec<&Entry> = entries.iter().collect();
        let reversed: Vec<&Entry> = entries.iter().rev().collect();
        let info = feed_info(&entries);
        assert_eq!(
            atom_feed(&refs, &info, &page),
            atom_feed(&reversed, &info, &page)
        );
        let empty = atom_feed(&[], &info, &page);
        assert_well_formed(&empty);
        assert!(!empty.contains("<entry>"));
        // Unknown fund ids fall back to the id.
        let lone = donation(1, "A", 1);
        let feed = atom_feed(&[&lone], &FeedInfo::default(), &page);
        assert!(feed.contains("<title>Ủng hộ 1 ₫ — A — Quỹ bao-yagi</title>"));
    }

    #[test]
    fn xml_escape_drops_invalid_characters() {
        assert_eq!(
            xml_escape("a&b<c>d\"e'f\tg\nh\ri\u{0}j\u{1b}k\u{85}l\u{ffff}m"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\nh\rijklm"
        );
        assert_eq!(xml_escape("Nguyễn ₫ 🏠"), "Nguyễn ₫ 🏠");
    }

    #[test]
    fn vietnamese_formats() {
        assert_eq!(vnd(Dong::new(1_250_000)), "1.250.000 ₫");
        assert_eq!(vn_date("2025-09-12"), "12/09/2025");
        assert_eq!(vn_date("12/09/2025"), "12/09/2025");
        assert_eq!(vn_date("2025-9-1x"), "2025-9-1x");
        let names = BTreeMap::from([("a".to_string(), "Quỹ A".to_string())]);
        assert_eq!(fund_label("a", &names), "Quỹ A");
        assert_eq!(fund_label("b", &names), "Quỹ b");
    }

    #[test]
    fn sitemap_is_sorted_deduplicated_and_escaped() {
        let urls: Vec<String> = [
            "https://minhbach.example/ho-gia-dinh/",
            "https://minhbach.example/",
            "https://minhbach.example/tra-cuu/?q=a&p=2",
            "https://minhbach.example/ho-gia-dinh/",
            "/relative/",
            "https://minhbach.example/xã bảo hà/",
        ]
        .map(String::from)
        .to_vec();
        let xml = sitemap(&urls);
        let texts = assert_well_formed(&xml);
        let locs: Vec<&str> = texts
            .iter()
            .filter(|(element, _)| element == "loc")
            .map(|(_, text)| text.as_str())
            .collect();
        assert_eq!(
            locs,
            [
                "https://minhbach.example/",
                "https://minhbach.example/ho-gia-dinh/",
                "https://minhbach.example/tra-cuu/?q=a&p=2",
                "https://minhbach.example/x%C3%A3%20b%E1%BA%A3o%20h%C3%A0/",
            ]
        );
        assert!(xml.contains("?q=a&amp;p=2"));
        assert!(xml.contains("xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\""));
        assert_well_formed(&sitemap(&[]));
    }

    #[test]
    fn large_sitemaps_split_and_index() {
        let urls: Vec<String> = (0..SITEMAP_MAX_URLS + 1)
            .map(|i| format!("https://minhbach.example/p/{i}/"))
            .collect();
        let chunks = sitemap_chunks(&urls);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].matches("<loc>").count(), SITEMAP_MAX_URLS);
        assert_eq!(chunks[1].matches("<loc>").count(), 1);
        assert_eq!(sitemap_chunks(&[]).len(), 1);
        let index = sitemap_index(&[
            "https://minhbach.example/sitemap-2.xml".into(),
            "https://minhbach.example/sitemap-1.xml".into(),
        ]);
        assert_well_formed(&index);
        assert!(index.find("sitemap-1").unwrap() < index.find("sitemap-2").unwrap());
    }

    #[test]
    fn robots_names_the_sitemap() {
        assert_eq!(
            robots_txt("https://minhbach.example/sitemap.xml"),
            "User-agent: *\nAllow: /\n\nSitemap: https://minhbach.example/sitemap.xml\n"
        );
        assert!(!robots_txt("https://x/\nDisallow: /").contains("\nDisallow"));
    }
}
