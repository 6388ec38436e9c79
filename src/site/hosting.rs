//! How a built site is cached and typed on a static host: one table of rules
//! (`RULES`), from which `build` writes the hosts' own files (`_headers` for
//! Netlify and Cloudflare Pages, `.nojekyll` for GitHub Pages) and from which
//! `docs/deploy/nginx.conf`'s rules are generated (a test keeps the committed
//! file equal to `nginx_rules()`). It also holds the hosts' documented
//! limits (`HOSTS`, each with its source and the date it was read), which
//! `check --host` measures a built site against.
//!
//! The rules follow what a verifiable log needs (C2SP tlog-tiles,
//! <https://c2sp.org/tlog-tiles>, read 2026-12-04): the checkpoint changes on
//! every append, so a cache must ask again within a minute, or visitors are
//! shown a stale tree; a full tile or entry bundle never changes once
//! written, so it is `immutable` and a lookup never fetches it twice. A
//! partial tile's bytes do not change either, but it disappears once its
//! full tile exists, so it is revalidated like the checkpoint.
//!
//! Every page, list and download an append can change (the HTML pages, the
//! lookup index under `tra-cuu/chi-muc/`, the open data under `du-lieu/`,
//! the theme's `style.css` and `lookup/*.js`) is revalidated after at most a
//! minute. The theme's static files keep stable names rather than hashed
//! ones: they are a few kilobytes, a revalidation costs a 304, and stable
//! names keep every link and template that names them working. Media are
//! named by the SHA-256 of their original, so they are immutable.
//!
//! Netlify and Cloudflare Pages both answer with `public, max-age=0,
//! must-revalidate` where `_headers` says nothing (Cloudflare: "Headers",
//! developers.cloudflare.com/pages/configuration/headers/ and
//! /workers/static-assets/headers/, read 2026-12-04; Netlify: "Custom
//! headers", docs.netlify.com/routing/headers/, read 2026-12-04), which is
//! already "revalidate", so `_headers` lists only what differs from it: on
//! Cloudflare every matching rule's headers are combined, so overlapping
//! rules would send two `Cache-Control` values. Its patterns therefore match
//! whole path segments (`:placeholder`), which both hosts document, and
//! never a partial tile.

use crate::ledger::tiles::{self, TILE_WIDTH};
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Cache again after at most a minute: the checkpoint, partial tiles, pages.
pub const REVALIDATE: &str = "public, max-age=60, must-revalidate";
/// Never changes: full tiles, entry bundles, media.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// What a published file is, for caching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Checkpoint,
    Keys,
    PartialTile,
    FullTile,
    Media,
    /// Everything else: pages, lists, the lookup index, open data, theme files.
    Page,
}

/// One rule: which files (a regular expression over the URL path, anchored
/// at the end only, so it holds at the root and under any sub-path), how
/// they are cached and, for files without an extension, their type.
pub struct Rule {
    pub kind: FileKind,
    pub pattern: &'static str,
    pub cache_control: &'static str,
    pub content_type: Option<&'static str>,
}

/// The rules, most specific first; the first that matches decides.
pub const RULES: &[Rule] = &[
    Rule {
        kind: FileKind::Checkpoint,
        pattern: r"/ledger/checkpoint$",
        cache_control: REVALIDATE,
        content_type: Some("text/plain; charset=utf-8"),
    },
    Rule {
        kind: FileKind::Keys,
        pattern: r"/ledger/keys$",
        cache_control: REVALIDATE,
        content_type: Some("text/plain; charset=utf-8"),
    },
    Rule {
        kind: FileKind::PartialTile,
        pattern: r"/ledger/tile/(entries|[0-9]+)/(x[0-9]{3}/)*[0-9]{3}\.p/[0-9]{1,3}$",
        cache_control: REVALIDATE,
        content_type: Some("application/octet-stream"),
    },
    Rule {
        kind: FileKind::FullTile,
        pattern: r"/ledger/tile/(entries|[0-9]+)/(x[0-9]{3}/)*[0-9]{3}$",
        cache_control: IMMUTABLE,
        content_type: Some("application/octet-stream"),
    },
    Rule {
        kind: FileKind::Media,
        pattern: r"/media/[0-9a-f]{64}/[^/]+$",
        cache_control: IMMUTABLE,
        content_type: None,
    },
];

/// The rule for everything `RULES` does not name.
pub const DEFAULT_RULE: Rule = Rule {
    kind: FileKind::Page,
    pattern: "/",
    cache_control: REVALIDATE,
    content_type: None,
};

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| Regex::new(rule.pattern).expect("the rules' patterns are valid"))
        .collect()
});

/// The rule for a URL path (`/ledger/checkpoint`, `/minhbach/media/…`).
pub fn rule_for(url_path: &str) -> &'static Rule {
    RULES
        .iter()
        .zip(COMPILED.iter())
        .find(|(_, regex)| regex.is_match(url_path))
        .map_or(&DEFAULT_RULE, |(rule, _)| rule)
}

/// `.nojekyll`: GitHub Pages would otherwise run Jekyll over the site and
/// drop files and folders whose names start with `_` or `.`.
pub const NOJEKYLL: &str = ".nojekyll";
/// The header rules of Netlify and Cloudflare Pages.
pub const HEADERS: &str = "_headers";

/// The `_headers` file for a site under `base_path` (`/` or `/minhbach/`)
/// whose log holds `tree_size` entries.
pub fn headers_file(base_path: &str, tree_size: u64) -> String {
    let base = format!("/{}", base_path.trim_matches('/'));
    let base = if base == "/" { String::new() } else { base };
    let mut text = String::from(
        "# Written by `minhbach build` from the rules in src/site/hosting.rs.\n\
         # Netlify and Cloudflare Pages revalidate every other file\n\
         # (public, max-age=0, must-revalidate).\n",
    );
    let mut rule = |pattern: &str, kind: FileKind| {
        let found = RULES
            .iter()
            .find(|r| r.kind == kind)
            .expect("every kind used here has a rule");
        text.push_str(&format!("{base}{pattern}\n"));
        text.push_str(&format!("  Cache-Control: {}\n", found.cache_control));
        if let Some(content_type) = found.content_type {
            text.push_str(&format!("  Content-Type: {content_type}\n"));
        }
    };
    rule("/ledger/checkpoint", FileKind::Checkpoint);
    rule("/ledger/keys", FileKind::Keys);
    // A full tile is one segment after its level (`tile/0/123`), or after
    // its index groups (`tile/0/x001/234`); a partial tile has one more
    // (`tile/0/123.p/7`), so no placeholder pattern here matches it.
    rule("/ledger/tile/:level/:index", FileKind::FullTile);
    for groups in full_tile_groups(tree_size) {
        rule(
            &format!("/ledger/tile/:level/{groups}:index"),
            FileKind::FullTile,
        );
    }
    rule("/media/:hash/:file", FileKind::Media);
    text
}

/// The index-group folders (`x001/`, `x001/x234/`) under which a tree of
/// `tree_size` entries has full tiles, at any level.
fn full_tile_groups(tree_size: u64) -> BTreeSet<String> {
    tiles::tiles_for_size(tree_size)
        .into_iter()
        .filter(|tile| tile.width == TILE_WIDTH && tile.index >= 1000)
        .filter_map(|tile| {
            let path = tile.path();
            let inside = path.splitn(3, '/').nth(2)?;
            let (groups, _) = inside.rsplit_once('/')?;
            Some(format!("{groups}/"))
        })
        .collect()
}

/// The `location` blocks of `docs/deploy/nginx.conf`, generated from
/// `RULES`: regular-expression locations are tried in order and the first
/// match wins, as in `rule_for`; `location /` is the default.
pub fn nginx_rules() -> String {
    let mut text = String::from(
        "    # BEGIN rules generated from src/site/hosting.rs (a test keeps them equal)\n",
    );
    for rule in RULES {
        text.push_str(&format!("    location ~ \"{}\" {{\n", rule.pattern));
        if let Some(content_type) = rule.content_type {
            // `types {}` empties the extension map, so every file here gets
            // the default type.
            text.push_str("        types { }\n");
            text.push_str(&format!("        default_type \"{content_type}\";\n"));
        }
        text.push_str(&format!(
            "        add_header Cache-Control \"{}\";\n",
            rule.cache_control
        ));
        text.push_str("    }\n");
    }
    text.push_str(&format!(
        "    location / {{\n        add_header Cache-Control \"{}\";\n    }}\n",
        DEFAULT_RULE.cache_control
    ));
    text.push_str("    # END rules generated from src/site/hosting.rs\n");
    text
}

/// A static host and its documented limits (`None`: none documented).
pub struct Host {
    pub name: &'static str,
    pub max_file_bytes: Option<u64>,
    pub max_files: Option<u64>,
    pub max_total_bytes: Option<u64>,
    /// Where the figures come from, and when they were read.
    pub source: &'static str,
    /// What to do when the site has too many files or bytes.
    pub too_big: &'static str,
}

const MIB: u64 = 1024 * 1024;

/// The hosts `check --host` knows. Figures are the hosts' own documented
/// limits, as cited; where a host documents none, none is applied and the
/// report says so. A limit given as "1 GB" or "100 MB" is taken as the
/// smaller reading (10^9, 10^8 bytes), so a site that passes fits either way.
pub const HOSTS: &[Host] = &[
    Host {
        name: "github-pages",
        // docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits
        // (read 2026-12-04, as quoted in issue #18): published sites at most
        // 1 GB; files over 100 MB are refused (the repository limit).
        max_file_bytes: Some(100_000_000),
        max_files: None,
        max_total_bytes: Some(1_000_000_000),
        source: "GitHub Pages limits, docs.github.com/en/pages/getting-started-with-github-pages/github-pages-limits (2026-12-04)",
        too_big: "publish to an S3-style bucket or nginx (no size limit), or build a portal per fund",
    },
    Host {
        name: "cloudflare-pages",
        // developers.cloudflare.com/pages/platform/limits/ (read 2026-12-04,
        // as quoted in issue #18): 20,000 files per site on the free plan
        // (100,000 on paid plans), 25 MiB per file.
        max_file_bytes: Some(25 * MIB),
        max_files: Some(20_000),
        max_total_bytes: None,
        source: "Cloudflare Pages limits, developers.cloudflare.com/pages/platform/limits/ (2026-12-04; free plan)",
        too_big: "a paid Cloudflare plan allows 100,000 files; beyond that publish to an S3-style bucket or nginx (no file limit)",
    },
    Host {
        name: "gitlab-pages",
        // docs.gitlab.com/user/project/pages/ (read 2026-12-04, as quoted in
        // issue #18): 1 GB and 200,000 files per site on GitLab.com.
        max_file_bytes: None,
        max_files: Some(200_000),
        max_total_bytes: Some(1_000_000_000),
        source: "GitLab Pages on GitLab.com, docs.gitlab.com/user/project/pages/ (2026-12-04)",
        too_big: "publish to an S3-style bucket or nginx (no size or file limit)",
    },
    Host {
        name: "netlify",
        // docs.netlify.com (searched 2026-12-04): no per-file, file-count or
        // site-size limit for static deploys is documented there.
        max_file_bytes: None,
        max_files: None,
        max_total_bytes: None,
        source: "docs.netlify.com (2026-12-04): no file-size, file-count or site-size limit documented for static deploys",
        too_big: "",
    },
    Host {
        name: "s3",
        // Amazon S3 User Guide, "Uploading objects" (read 2026-12-04): one
        // PUT uploads at most 5 GB (larger objects need a multipart upload,
        // which `aws s3 sync` does itself, up to 5 TB); no object-count limit.
        max_file_bytes: Some(5 * 1024 * MIB),
        max_files: None,
        max_total_bytes: None,
        source: "Amazon S3 User Guide, Uploading objects (2026-12-04): 5 GB per single PUT, no object-count limit",
        too_big: "",
    },
    Host {
        name: "nginx",
        max_file_bytes: None,
        max_files: None,
        max_total_bytes: None,
        source: "nginx serves what the disk holds: no limit",
        too_big: "",
    },
];

/// The host called `name`.
pub fn host(name: &str) -> Option<&'static Host> {
    HOSTS.iter().find(|host| host.name == name)
}

/// What `check --host` measured of a built site.
pub struct HostReport {
    pub files: u64,
    pub bytes: u64,
    /// One line per limit exceeded, each naming the largest offenders and
    /// what to do.
    pub problems: Vec<String>,
}

/// Compares the site in `dir` (as `build` wrote it: every file is uploaded,
/// `_headers` and `.nojekyll` included) with `host`'s limits.
pub fn check_host(dir: &std::path::Path, host: &Host) -> anyhow::Result<HostReport> {
    use anyhow::Context as _;
    let mut sizes: Vec<(u64, String)> = Vec::new();
    for item in walkdir::WalkDir::new(dir).min_depth(1) {
        let item = item.with_context(|| format!("failed to read `{}`", dir.display()))?;
        if item.file_type().is_file() {
            let bytes = item
                .metadata()
                .with_context(|| format!("failed to read `{}`", item.path().display()))?
                .len();
            let path = super::output::relative_slash_path(dir, item.path());
            sizes.push((bytes, path));
        }
    }
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let files = sizes.len() as u64;
    let bytes: u64 = sizes.iter().map(|(size, _)| size).sum();
    let mut problems = Vec::new();
    if let Some(limit) = host.max_file_bytes {
        let over: Vec<&(u64, String)> = sizes.iter().filter(|(size, _)| *size > limit).collect();
        if !over.is_empty() {
            let largest: Vec<String> = over
                .iter()
                .take(5)
                .map(|(size, path)| format!("`{path}` ({})", human_bytes(*size)))
                .collect();
            problems.push(format!(
                "{} file(s) over {}'s limit of {} per file, the largest: {}; {}",
                over.len(),
                host.name,
                human_bytes(limit),
                largest.join(", "),
                advice_for_large_file(&over[0].1)
            ));
        }
    }
    if let Some(limit) = host.max_files
        && files > limit
    {
        problems.push(format!(
            "{files} files, over {}'s limit of {limit}; the most in: {}; {}",
            host.name,
            largest_folders(&sizes, |_| 1, |n| format!("{n} files")),
            host.too_big
        ));
    }
    if let Some(limit) = host.max_total_bytes
        && bytes > limit
    {
        problems.push(format!(
            "{} in all, over {}'s limit of {}; the largest folders: {}; {}",
            human_bytes(bytes),
            host.name,
            human_bytes(limit),
            largest_folders(&sizes, |size| size, human_bytes),
            host.too_big
        ));
    }
    Ok(HostReport {
        files,
        bytes,
        problems,
    })
}

fn advice_for_large_file(path: &str) -> &'static str {
    if path.starts_with("du-lieu/") {
        "build again with this version of minhbach, which splits downloads into parts of at most 25 MiB"
    } else if path.starts_with("media/") {
        "photos are published as re-encoded copies; replace the original with a smaller one"
    } else {
        "make it smaller or leave it out of `static/`, or choose a host without this limit (s3, nginx)"
    }
}

/// The five top-level folders with the most of `measure`, largest first.
fn largest_folders(
    sizes: &[(u64, String)],
    measure: impl Fn(u64) -> u64,
    show: impl Fn(u64) -> String,
) -> String {
    let mut folders: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for (size, path) in sizes {
        let folder = path.split_once('/').map_or(".", |(top, _)| top);
        *folders.entry(folder).or_default() += measure(*size);
    }
    let mut folders: Vec<(&str, u64)> = folders.into_iter().collect();
    folders.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    folders
        .iter()
        .take(5)
        .map(|(folder, amount)| format!("`{folder}/` ({})", show(*amount)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `26214400` → `25.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_published_file_gets_its_rule() {
        let cases = [
            ("/ledger/checkpoint", FileKind::Checkpoint),
            ("/minhbach/ledger/checkpoint", FileKind::Checkpoint),
            ("/ledger/keys", FileKind::Keys),
            ("/ledger/tile/0/020.p/5", FileKind::PartialTile),
            ("/ledger/tile/entries/x001/234.p/17", FileKind::PartialTile),
            ("/ledger/tile/0/019", FileKind::FullTile),
            ("/sub/ledger/tile/entries/x001/234", FileKind::FullTile),
            ("/ledger/tile/1/000", FileKind::FullTile),
            (
                "/media/05b967579828af389295aae164094cd13e6667d9d70d09c44e3e3b2974ce5b14/thumb.webp",
                FileKind::Media,
            ),
            ("/du-lieu/so-cai.jsonl", FileKind::Page),
            ("/tra-cuu/chi-muc/manifest.json", FileKind::Page),
            ("/style.css", FileKind::Page),
            ("/", FileKind::Page),
        ];
        for (path, kind) in cases {
            assert_eq!(rule_for(path).kind, kind, "{path}");
        }
    }

    #[test]
    fn headers_file_never_matches_a_partial_tile() {
        // 300,000 entries: level-0 tiles reach index 1171 (group x001).
        let text = headers_file("/minhbach/", 300_000);
        assert!(text.contains("/minhbach/ledger/tile/:level/x001/:index\n"));
        assert!(text.contains("/minhbach/ledger/checkpoint\n  Cache-Control: public, max-age=60"));
        assert!(
            !text.contains('*'),
            "no splat: it would match partial tiles"
        );
        let root = headers_file("/", 10);
        assert!(root.starts_with("#") && root.contains("\n/ledger/checkpoint\n"));
    }

    #[test]
    fn committed_nginx_config_carries_the_rules() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deploy/nginx.conf");
        let committed = std::fs::read_to_string(path).expect("docs/deploy/nginx.conf exists");
        assert!(
            committed.contains(&nginx_rules()),
            "docs/deploy/nginx.conf differs from the rules in src/site/hosting.rs; \
             paste this between its BEGIN and END lines:\n{}",
            nginx_rules()
        );
    }
}
