//! Markdown of content pages to safe HTML.
//!
//! pulldown-cmark renders tables, footnotes, strikethrough and heading
//! attributes; headings without an `{#id}` get one from their folded text.
//! Zola-style internal links `@/path.md` are resolved to the page's URL and a
//! link to a missing file is an error naming the file and line. The HTML is
//! then sanitised with ammonia: raw HTML in Markdown passes through
//! pulldown-cmark verbatim, so scripts, event handlers, `style` and any URL
//! scheme but http(s) and mailto are removed here.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeMap, HashMap, HashSet};

/// How links are resolved: `@/` links by content link name (`gioi-thieu.md`,
/// as under `content/`) → full URL path (base path and language prefix
/// included); root-relative links (`/ung-ho/`) get the base path, so content
/// written for `/` works on a sub-path site.
pub struct Links<'a> {
    pub targets: &'a BTreeMap<String, String>,
    /// `/` or `/minhbach/`.
    pub base_path: &'a str,
}

/// An `@/` link that names no content file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenLink {
    /// Line in the Markdown text, 1-based.
    pub line: usize,
    pub link: String,
}

/// Renders `markdown` to sanitised HTML, or lists its broken `@/` links.
pub fn render(markdown: &str, links: &Links) -> Result<String, Vec<BrokenLink>> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut broken = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        let line = || super::load::line_column(markdown, range.start).0;
        let event = match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = checked(dest_url, line(), links, &mut broken);
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = checked(dest_url, line(), links, &mut broken);
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                })
            }
            other => other,
        };
        events.push(event);
    }
    if !broken.is_empty() {
        return Err(broken);
    }
    add_heading_ids(&mut events);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    Ok(sanitize(&html))
}

/// `@/a.md#x` → `/base/a/#x`; other URLs unchanged. `None` if the target is
/// missing.
/// A link or image target, resolved, or recorded as broken and kept as is.
fn checked<'a>(
    dest_url: CowStr<'a>,
    line: usize,
    links: &Links,
    broken: &mut Vec<BrokenLink>,
) -> CowStr<'a> {
    resolve(&dest_url, links).unwrap_or_else(|| {
        broken.push(BrokenLink {
            line,
            link: dest_url.to_string(),
        });
        dest_url
    })
}

fn resolve<'a>(url: &CowStr<'a>, links: &Links) -> Option<CowStr<'a>> {
    let Some(rest) = url.strip_prefix("@/") else {
        if url.starts_with('/') && !url.starts_with("//") {
            let base = links.base_path.trim_end_matches('/');
            return Some(CowStr::from(format!("{base}{url}")));
        }
        return Some(url.clone());
    };
    let (name, fragment) = match rest.split_once('#') {
        Some((name, fragment)) => (name, Some(fragment)),
        None => (rest, None),
    };
    let target = links.targets.get(name)?;
    Some(CowStr::from(match fragment {
        Some(fragment) => format!("{target}#{fragment}"),
        None => target.clone(),
    }))
}

/// Gives every heading without an explicit id one made from its text:
/// "Cách xác minh" → `cach-xac-minh`, numbered when repeated.
fn add_heading_ids(events: &mut [Event]) {
    let mut used: HashMap<String, usize> = HashMap::new();
    let mut index = 0;
    while index < events.len() {
        let needs_id = matches!(&events[index], Event::Start(Tag::Heading { id: None, .. }));
        if needs_id {
            let mut text = String::new();
            for event in &events[index + 1..] {
                match event {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            let mut slug: String = crate::vn::fold(&text)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            slug = slug
                .split('-')
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join("-");
            if slug.is_empty() {
                slug = "muc".to_string();
            }
            let count = used.entry(slug.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                slug = format!("{slug}-{}", *count - 1);
            }
            if let Event::Start(Tag::Heading {
                level,
                classes,
                attrs,
                ..
            }) = &events[index]
            {
                let (level, classes, attrs): (HeadingLevel, _, _) =
                    (*level, classes.clone(), attrs.clone());
                events[index] = Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(slug)),
                    classes,
                    attrs,
                });
            }
        }
        index += 1;
    }
}

/// Keeps safe HTML only: ammonia's default tags and attributes plus `id`
/// (heading anchors, footnotes); URLs must be http(s), mailto or relative
/// to the site. Bidi embedding, override and isolate controls are removed
/// as they are from every other text on a page (`vn::is_bidi_control`).
pub fn sanitize(html: &str) -> String {
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    let clean = ammonia::Builder::default()
        .url_schemes(schemes)
        .add_generic_attributes(["id"])
        .link_rel(None)
        .clean(html)
        .to_string();
    crate::vn::strip_bidi_controls(&clean).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> BTreeMap<String, String> {
        [("gioi-thieu.md".to_string(), "/sub/gioi-thieu/".to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn internal_links_resolve() {
        let targets = targets();
        let html = render(
            "[a](@/gioi-thieu.md#x) [b](https://example.vn/)",
            &Links {
                targets: &targets,
                base_path: "/sub/",
            },
        )
        .unwrap();
        assert!(html.contains("href=\"/sub/gioi-thieu/#x\""), "{html}");
        assert!(html.contains("href=\"https://example.vn/\""), "{html}");
        let html = render(
            "[c](/ung-ho/)",
            &Links {
                targets: &targets,
                base_path: "/sub/",
            },
        )
        .unwrap();
        assert!(html.contains("href=\"/sub/ung-ho/\""), "{html}");
    }

    #[test]
    fn broken_links_name_the_line() {
        let targets = targets();
        let broken = render(
            "# T\n\nsee [x](@/nope.md)\n",
            &Links {
                targets: &targets,
                base_path: "/sub/",
            },
        )
        .unwrap_err();
        assert_eq!(
            broken,
            [BrokenLink {
                line: 3,
                link: "@/nope.md".into()
            }]
        );
    }

    #[test]
    fn raw_html_is_sanitised() {
        let targets = targets();
        let html = render(
            "<script>alert(1)</script>\n\n<a href=\"javascript:alert(1)\" onclick=\"x()\">a</a> [b](javascript:alert(2)) <img src=x onerror=alert(3)>",
            &Links { targets: &targets, base_path: "/sub/" },
        )
        .unwrap();
        assert!(!html.contains("script"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
        assert!(
            !html.contains("onclick") && !html.contains("onerror"),
            "{html}"
        );
    }

    #[test]
    fn headings_get_ids() {
        let targets = targets();
        let html = render(
            "## Cách xác minh\n\n## Cách xác minh\n",
            &Links {
                targets: &targets,
                base_path: "/sub/",
            },
        )
        .unwrap();
        assert!(html.contains("<h2 id=\"cach-xac-minh\">"), "{html}");
        assert!(html.contains("<h2 id=\"cach-xac-minh-1\">"), "{html}");
    }
}
