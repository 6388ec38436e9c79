//! Internal link checking over rendered HTML, for `minhbach check`: every
//! `href` and `src` that points into the site must name a file the build
//! produced.

use std::collections::BTreeMap;

/// A link to a file the site does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLink {
    /// The page holding the link (output path, `quy/a/index.html`).
    pub page: String,
    pub link: String,
}

/// Checks the links of every `.html` file in `files` (output path → bytes).
pub fn broken_links(files: &BTreeMap<String, Vec<u8>>, base_path: &str) -> Vec<BrokenLink> {
    let mut broken = Vec::new();
    for (page, bytes) in files {
        if !page.ends_with(".html") {
            continue;
        }
        let html = String::from_utf8_lossy(bytes);
        for link in attribute_values(&html) {
            if let Some(target) = target_file(page, &link, base_path)
                && !files.contains_key(&target)
            {
                broken.push(BrokenLink {
                    page: page.clone(),
                    link,
                });
            }
        }
    }
    broken.sort_by(|a, b| (&a.page, &a.link).cmp(&(&b.page, &b.link)));
    broken.dedup();
    broken
}

/// The values of `href="…"` and `src="…"` attributes, entities `&amp;` decoded.
fn attribute_values(html: &str) -> Vec<String> {
    let mut values = Vec::new();
    for attribute in [" href=", " src="] {
        let mut rest = html;
        while let Some(index) = rest.find(attribute) {
            rest = &rest[index + attribute.len()..];
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let inner = &rest[1..];
            if let Some(end) = inner.find(quote) {
                values.push(inner[..end].replace("&amp;", "&").replace("&#39;", "'"));
            }
        }
    }
    values
}

/// The output file a link names, or `None` for external links and anchors.
fn target_file(page: &str, link: &str, base_path: &str) -> Option<String> {
    let lower = link.to_ascii_lowercase();
    if link.is_empty()
        || link.starts_with('#')
        || link.starts_with("//")
        || ["http:", "https:", "mailto:", "tel:", "data:"]
            .iter()
            .any(|scheme| lower.starts_with(scheme))
    {
        return None;
    }
    let path = link.split(['#', '?']).next().unwrap_or("");
    let resolved = if let Some(absolute) = path.strip_prefix('/') {
        match format!("/{absolute}").strip_prefix(base_path) {
            Some(inside) => inside.to_string(),
            // Root-relative but outside the base path: broken on a sub-path site.
            None => return Some(format!("(outside the site) {path}")),
        }
    } else {
        let directory = page.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut parts: Vec<&str> = directory.split('/').filter(|p| !p.is_empty()).collect();
        for part in path.split('/') {
            match part {
                ".." => {
                    parts.pop();
                }
                "." => {}
                other => parts.push(other),
            }
        }
        parts.join("/")
    };
    if resolved.is_empty() || resolved.ends_with('/') {
        Some(format!("{resolved}index.html"))
    } else {
        Some(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_broken_internal_links() {
        let mut files = BTreeMap::new();
        files.insert(
            "index.html".to_string(),
            br##"<a href="/sub/quy/a/">a</a> <a href="/sub/nope/">b</a> <a href="https://x.vn/">c</a> <img src="/sub/style.css"> <a href="/elsewhere/">d</a> <a href="#top">e</a>"##.to_vec(),
        );
        files.insert(
            "quy/a/index.html".to_string(),
            br#"<a href="../../">home</a>"#.to_vec(),
        );
        files.insert("style.css".to_string(), b"".to_vec());
        let broken = broken_links(&files, "/sub/");
        let links: Vec<&str> = broken.iter().map(|b| b.link.as_str()).collect();
        assert_eq!(links, ["/elsewhere/", "/sub/nope/"]);
    }
}
