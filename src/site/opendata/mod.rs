//! Open data (*dữ liệu mở*): the whole public ledger as JSON Lines, one CSV per
//! entry kind, an Atom feed of the newest entries, a sitemap and `robots.txt`.
//!
//! Every function here is pure and deterministic: no clock, no file I/O, and
//! output in a fixed order (entries by `seq`, URLs sorted), so building the
//! site twice from the same ledger gives the same bytes. The caller decides
//! where the bytes go and which URLs pages have.
//!
//! By what each writes: `tables` (the CSV of each entry kind), `feed` (the
//! Atom feed) and `sitemap` (the sitemap and `robots.txt`). The ledger's JSON
//! Lines download is `ledger_files`.

mod feed;
mod sitemap;
mod tables;

pub use feed::{FeedInfo, Words, atom_feed, newest_time};
pub use sitemap::{SITEMAP_MAX_URLS, robots_txt, sitemap, sitemap_chunks, sitemap_index};
pub use tables::{CSV_KINDS, write_csv_for_segments, write_csv_rows};

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

#[cfg(test)]
mod tests;
