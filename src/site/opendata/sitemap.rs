//! The sitemap (sitemaps.org, split past its URL limit) and `robots.txt`.

use super::xml_escape;
use std::fmt::Write as _;

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
