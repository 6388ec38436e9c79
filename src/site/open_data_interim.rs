//! INTERIM open-data writers, to be replaced by `opendata.rs` (written
//! separately): the public ledger as JSON Lines, a CSV per entry kind, an
//! Atom feed and the sitemap. Minimal but deterministic and private-field
//! free, so the build works meanwhile. Called only from
//! `site::open_data_files`, the one place to swap.

use crate::ledger::entry::Entry;
use std::fmt::Write;

/// Fields never published: the keyed commitments of private data.
const NEVER_PUBLISHED: [&str; 2] = ["citizen_id_hmac", "phone_hmac"];

fn public_object(entry: &Entry, show_last4: bool) -> serde_json::Map<String, serde_json::Value> {
    let mut value = serde_json::to_value(entry).expect("entries serialise");
    let object = value.as_object_mut().expect("entries are objects");
    for field in NEVER_PUBLISHED {
        object.remove(field);
    }
    if !show_last4 {
        object.remove("citizen_id_last4");
    }
    object.clone()
}

/// INTERIM: one public entry per line, in `seq` order.
pub fn interim_public_ledger_jsonl(entries: &[Entry], show_last4: bool) -> String {
    let mut out = String::new();
    for entry in entries {
        let object = public_object(entry, show_last4);
        out.push_str(&serde_json::to_string(&object).expect("json"));
        out.push('\n');
    }
    out
}

fn csv_field(value: &serde_json::Value) -> String {
    let text = match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// INTERIM: a CSV of one kind; the columns are the union of the fields
/// present, in first-seen order.
pub fn interim_csv_for_kind(kind: &str, entries: &[Entry], show_last4: bool) -> String {
    let rows: Vec<_> = entries
        .iter()
        .filter(|e| e.body.kind() == kind)
        .map(|e| public_object(e, show_last4))
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for key in row.keys() {
            if key != "kind" && !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for row in &rows {
        let line: Vec<String> = columns
            .iter()
            .map(|c| row.get(c).map(csv_field).unwrap_or_default())
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One feed item: (seq, time, title, absolute link).
pub type FeedItem = (u64, String, String, String);

/// INTERIM: an Atom feed of the given items (newest first); `updated` is the
/// newest entry's time, never the build's.
pub fn interim_atom_feed(
    title: &str,
    feed_url: &str,
    site_url: &str,
    items: &[FeedItem],
) -> String {
    let updated = items
        .first()
        .map_or("1970-01-01T00:00:00Z", |i| i.1.as_str());
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{}</title>\n<id>{}</id>\n<link rel=\"self\" href=\"{}\"/>\n<link href=\"{}\"/>\n<updated>{}</updated>\n",
        xml(title),
        xml(feed_url),
        xml(feed_url),
        xml(site_url),
        updated
    );
    for (seq, time, entry_title, link) in items {
        let _ = writeln!(
            out,
            "<entry><title>{}</title><id>{}#e{seq}</id><link href=\"{}\"/><updated>{}</updated></entry>",
            xml(entry_title),
            xml(feed_url),
            xml(link),
            time
        );
    }
    out.push_str("</feed>\n");
    out
}

/// INTERIM: a sitemap of the given URLs, sorted.
pub fn interim_sitemap(urls: &[String]) -> String {
    let mut sorted = urls.to_vec();
    sorted.sort();
    sorted.dedup();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for url in sorted {
        let _ = writeln!(out, "<url><loc>{}</loc></url>", xml(&url));
    }
    out.push_str("</urlset>\n");
    out
}
