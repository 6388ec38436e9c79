//! The Atom feed of the newest entries (RFC 4287).

use super::xml_escape;
use crate::ledger::entry::{Body, Channel, Entry, Household, KeyEntry, Role, Stage, Support};
use crate::money::Dong;
use crate::vn::group_digits;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
    /// The feed's language (`xml:lang`) and its words.
    pub language: String,
    pub words: Words,
}

/// The feed's words: the theme's `feed_*` translations (and `anonymous`) in
/// the feed's language, over the built-in Vietnamese ones for a language
/// whose files leave some out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Words(BTreeMap<String, String>);

/// The built-in Vietnamese words.
impl Default for Words {
    fn default() -> Words {
        Words::new(None)
    }
}

impl Words {
    pub fn new(table: Option<&BTreeMap<String, String>>) -> Words {
        let mut words: BTreeMap<String, String> = crate::site::builtin::TRANSLATIONS
            .iter()
            .filter(|(language, _)| *language == "vi")
            .filter_map(|(_, text)| toml::from_str::<BTreeMap<String, String>>(text).ok())
            .flatten()
            .filter(|(key, _)| key.starts_with("feed_") || key == "anonymous")
            .collect();
        if let Some(table) = table {
            words.extend(
                table
                    .iter()
                    .filter(|(key, _)| key.starts_with("feed_") || *key == "anonymous")
                    .map(|(key, value)| (key.clone(), value.clone())),
            );
        }
        Words(words)
    }

    fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.0.get(key).map_or(key, String::as_str)
    }

    /// The words of `key` with each `{name}` replaced by its value, in one
    /// pass: a value that itself holds `{…}` (an entry's text) is not read
    /// again.
    fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let template = self.get(key);
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').and_then(|close| {
                let name = &after[..close];
                values
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, value)| (close, *value))
            }) {
                Some((close, value)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// The newest `time` among `entries` (by `seq`), for `FeedInfo::updated`.
pub fn newest_time<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Option<&'a str> {
    entries
        .into_iter()
        .max_by_key(|entry| entry.seq)
        .map(|entry| entry.time.as_str())
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
    let _ = writeln!(
        out,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        xml_escape(&feed.language)
    );
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
        let (title, summary) = describe(entry, &feed.fund_names, &feed.words);
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
pub(super) fn vnd(value: Dong) -> String {
    format!("{} ₫", group_digits(value.get()))
}

/// `2025-09-12` → `12/09/2025`; anything else unchanged.
pub(super) fn vn_date(date: &str) -> String {
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

/// `Quỹ cứu trợ bão Yagi` for a fund id: its name, prefixed as the words say
/// (`feed_fund_name`) unless it already starts so; the id itself when the
/// name is unknown.
pub(super) fn fund_label(id: &str, names: &BTreeMap<String, String>, words: &Words) -> String {
    let name = names.get(id).map(String::as_str).unwrap_or(id);
    let template = words.get("feed_fund_name");
    let prefix = template.split("{name}").next().unwrap_or_default().trim();
    if !prefix.is_empty() && name.to_lowercase().starts_with(&prefix.to_lowercase()) {
        name.to_string()
    } else {
        words.fill("feed_fund_name", &[("name", name)])
    }
}

fn donor_label<'a>(donor: &'a str, words: &'a Words) -> &'a str {
    if donor.trim().is_empty() {
        words.get("anonymous")
    } else {
        donor
    }
}

fn channel_key(channel: Channel) -> &'static str {
    match channel {
        Channel::Bank => "feed_channel_bank",
        Channel::Cash => "feed_channel_cash",
        Channel::InKind => "feed_channel_in_kind",
        Channel::Other => "feed_channel_other",
    }
}

fn stage_key(stage: Stage) -> &'static str {
    match stage {
        Stage::Approved => "feed_stage_approved",
        Stage::Started => "feed_stage_started",
        Stage::Completed => "feed_stage_completed",
        Stage::HandedOver => "feed_stage_handed_over",
    }
}

fn support_key(support: Support) -> &'static str {
    match support {
        Support::New => "feed_support_new",
        Support::Repair => "feed_support_repair",
    }
}

/// An entry's title and one-line summary, in the feed's words.
fn describe(entry: &Entry, funds: &BTreeMap<String, String>, words: &Words) -> (String, String) {
    let dated = |date: &str| words.fill("feed_date", &[("date", &vn_date(date))]);
    let reason = |reason: &str| words.fill("feed_reason", &[("reason", reason)]);
    match &entry.body {
        Body::Key(KeyEntry::Admit {
            name, unit, role, ..
        }) => {
            let role = words.get(match role {
                Role::Admin => "feed_role_admin",
                Role::Officer => "feed_role_officer",
            });
            (
                words.fill("feed_key_admit", &[("name", name), ("role", role)]),
                words.fill("feed_unit", &[("unit", unit)]),
            )
        }
        Body::Key(KeyEntry::Revoke { name, reason: why }) => (
            words.fill("feed_key_revoke", &[("name", name)]),
            why.as_deref().map(reason).unwrap_or_default(),
        ),
        Body::Fund(fund) => {
            let mut summary = fund.description.clone();
            if let Some(target) = fund.target {
                if !summary.is_empty() {
                    summary.push_str(" · ");
                }
                summary.push_str(&words.fill("feed_target", &[("amount", &vnd(target))]));
            }
            (words.fill("feed_fund", &[("name", &fund.name)]), summary)
        }
        Body::Donation(donation) => {
            let mut summary = format!(
                "{} · {}",
                dated(&donation.date),
                words.get(channel_key(donation.channel))
            );
            if let Some(reference) = &donation.reference {
                let _ = write!(
                    summary,
                    " · {}",
                    words.fill("feed_reference", &[("reference", reference)])
                );
            }
            if let Some(note) = &donation.note {
                let _ = write!(summary, " · {note}");
            }
            let title = words.fill(
                "feed_donation",
                &[
                    ("amount", &vnd(donation.amount)),
                    ("donor", donor_label(&donation.donor, words)),
                    ("fund", &fund_label(&donation.fund, funds, words)),
                ],
            );
            (title, summary)
        }
        Body::Household(household) => (
            words.fill(
                "feed_household",
                &[
                    ("id", &household.id),
                    ("place", &household_place(household)),
                    ("support", words.get(support_key(household.support))),
                    ("amount", &vnd(household.planned)),
                ],
            ),
            household.circumstances.clone(),
        ),
        Body::Disbursement(disbursement) => {
            let to = match (&disbursement.household, &disbursement.payee) {
                (Some(household), _) => {
                    words.fill("feed_to_household", &[("household", household)])
                }
                (None, Some(payee)) => payee.clone(),
                (None, None) => String::new(),
            };
            let amount = vnd(disbursement.amount);
            let fund = fund_label(&disbursement.fund, funds, words);
            let title = if to.is_empty() {
                words.fill("feed_disbursement", &[("amount", &amount), ("fund", &fund)])
            } else {
                words.fill(
                    "feed_disbursement_to",
                    &[("amount", &amount), ("to", &to), ("fund", &fund)],
                )
            };
            (
                title,
                format!("{} · {}", dated(&disbursement.date), disbursement.purpose),
            )
        }
        Body::Progress(progress) => {
            let mut summary = dated(&progress.date);
            if !progress.photos.is_empty() {
                let count = progress.photos.len().to_string();
                let _ = write!(
                    summary,
                    " · {}",
                    words.fill("feed_photos", &[("count", &count)])
                );
            }
            if let Some(note) = &progress.note {
                let _ = write!(summary, " · {note}");
            }
            (
                words.fill(
                    "feed_progress",
                    &[
                        ("household", &progress.household),
                        ("stage", words.get(stage_key(progress.stage))),
                    ],
                ),
                summary,
            )
        }
        Body::Correction(correction) => {
            let target = correction.target.to_string();
            let key = if correction.amend.is_some() {
                "feed_amend"
            } else {
                "feed_void"
            };
            (
                words.fill(key, &[("target", &target)]),
                reason(&correction.reason),
            )
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
