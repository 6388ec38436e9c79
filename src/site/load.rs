//! Loading a portal's site sources: content pages with `+++` TOML front
//! matter, templates (the portal's `templates/` over the theme's over the
//! built-in default theme), translations and static files.
//!
//! Nothing is rendered here. Every path read comes from walking a directory
//! of the portal; symbolic links that lead outside the portal are refused, so
//! no content or config value can make the build read (and publish) a file
//! from elsewhere.

use super::builtin;
use crate::portal::Portal;
use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Front matter of a content file, between `+++` lines.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A TOML date (`2025-09-12`) or string.
    #[serde(default)]
    pub date: Option<toml::Value>,
    #[serde(default)]
    pub weight: Option<i64>,
    /// A template name to render with instead of `page.html`/`section.html`.
    #[serde(default)]
    pub template: Option<String>,
    /// Drafts are not published.
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub extra: toml::Table,
}

/// One Markdown file of `content/`.
#[derive(Clone, Debug)]
pub struct ContentFile {
    /// The file, relative to the portal (`content/gioi-thieu.md`), for messages.
    pub file: String,
    /// The name used by `@/` links: relative to `content/` (`gioi-thieu.md`).
    pub link_name: String,
    /// `vi` or `en` (`gioi-thieu.en.md` is the English version).
    pub language: String,
    /// The site path without base or language prefix: `/gioi-thieu/`;
    /// `/` for `content/_index.md`.
    pub path: String,
    /// `_index.md`: a section, listing the pages beside it.
    pub is_section: bool,
    /// The section this page belongs to (its directory's path).
    pub section_path: String,
    pub front: FrontMatter,
    pub markdown: String,
    /// The file line where the Markdown body starts (1-based).
    pub body_line: usize,
}

impl ContentFile {
    pub fn date_string(&self) -> Option<String> {
        self.front.date.as_ref().map(|date| match date {
            toml::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    }
}

/// A template's text and where it came from.
#[derive(Clone, Debug)]
pub struct TemplateSource {
    /// The file, for messages: `templates/page.html`, `themes/default/templates/base.html`
    /// or `(built-in)/base.html`.
    pub file: String,
    pub text: String,
}

/// A file to copy to the output as is.
#[derive(Clone, Debug)]
pub enum StaticSource {
    Builtin(&'static [u8]),
    File(PathBuf),
}

/// Everything the site is made from besides the ledger.
pub struct Sources {
    pub content: Vec<ContentFile>,
    /// Template name (`page.html`, `partials/nav.html`) → source.
    pub templates: BTreeMap<String, TemplateSource>,
    /// Language → key → text.
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
    /// Output path → source; the portal's `static/` wins over the theme's.
    pub static_files: BTreeMap<String, StaticSource>,
}

pub fn load(portal: &Portal) -> Result<Sources> {
    let root = &portal.root;
    let theme = &portal.config.theme;
    if theme.is_empty()
        || !theme
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        bail!("config.toml: theme `{theme}` must be a plain directory name under `themes/`");
    }
    let theme_dir = root.join("themes").join(theme);
    let templates = load_templates(root, &theme_dir, theme)?;
    let translations = load_translations(root, &theme_dir, theme)?;
    let mut static_files = BTreeMap::new();
    for (path, bytes) in builtin::STATIC {
        static_files.insert(path.to_string(), StaticSource::Builtin(bytes));
    }
    let private = PrivateMaterial::of(portal);
    for dir in [theme_dir.join("static"), root.join("static")] {
        for (relative, file) in walk_files(&dir)? {
            if relative.ends_with(".gitkeep") {
                continue;
            }
            private.refuse(&file)?;
            static_files.insert(relative, StaticSource::File(file));
        }
    }
    let content = load_content(root)?;
    Ok(Sources {
        content,
        templates,
        translations,
        static_files,
    })
}

/// What must never be published as a static file: the portal secret (by
/// its path or its digits, so a copy is caught too) and any private key.
struct PrivateMaterial {
    secret_path: Option<PathBuf>,
    /// The secret's 64 hexadecimal digits, lower and upper case.
    secret_digits: Option<[String; 2]>,
}

/// Static files are read whole up to this size, and larger ones only this
/// far: a key or a secret is a few hundred bytes, alone in its file.
const PRIVATE_SCAN_BYTES: u64 = 1 << 20;

/// The text that begins a private key file: ours (Go's note keys), PEM
/// (`-----BEGIN … PRIVATE KEY-----`, OpenSSH's included).
const PRIVATE_KEY_MARKERS: [&str; 2] = ["PRIVATE+KEY+", "PRIVATE KEY-----"];

impl PrivateMaterial {
    fn of(portal: &Portal) -> PrivateMaterial {
        let path = portal.secret_path();
        let digits = std::fs::read_to_string(&path).ok().and_then(|text| {
            let digits = text.trim();
            (digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| [digits.to_ascii_lowercase(), digits.to_ascii_uppercase()])
        });
        PrivateMaterial {
            secret_path: path.canonicalize().ok(),
            secret_digits: digits,
        }
    }

    /// Refuses to publish `file` if it is the portal secret, holds its
    /// digits, or holds a private key.
    fn refuse(&self, file: &Path) -> Result<()> {
        use std::io::Read;
        let refused = |what: &str| {
            anyhow!(
                "không công bố `{}`: tệp chứa {what} / refusing to publish `{}`: it holds {what}; move it out of the portal (and if it was ever published or committed, replace it: revoke the key, or make a new secret)",
                file.display(),
                file.display()
            )
        };
        if self.secret_path.is_some() && file.canonicalize().ok() == self.secret_path {
            return Err(refused("the portal secret"));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(PRIVATE_SCAN_BYTES).read_to_end(&mut bytes))
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        let holds = |needle: &str| {
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        };
        if PRIVATE_KEY_MARKERS.iter().any(|marker| holds(marker)) {
            return Err(refused("a private key"));
        }
        if let Some(digits) = &self.secret_digits
            && digits.iter().any(|digits| holds(digits))
        {
            return Err(refused("the portal secret"));
        }
        Ok(())
    }
}

fn load_templates(
    root: &Path,
    theme_dir: &Path,
    theme: &str,
) -> Result<BTreeMap<String, TemplateSource>> {
    let mut templates = BTreeMap::new();
    for (name, text) in builtin::TEMPLATES {
        templates.insert(
            name.to_string(),
            TemplateSource {
                file: format!("(built-in theme)/templates/{name}"),
                text: text.to_string(),
            },
        );
    }
    let layers = [
        (
            theme_dir.join("templates"),
            format!("themes/{theme}/templates"),
        ),
        (root.join("templates"), "templates".to_string()),
    ];
    for (dir, shown) in layers {
        for (name, file) in walk_files(&dir)? {
            if name.ends_with(".gitkeep") {
                continue;
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read `{}`", file.display()))?;
            templates.insert(
                name.clone(),
                TemplateSource {
                    file: format!("{shown}/{name}"),
                    text,
                },
            );
        }
    }
    Ok(templates)
}

fn load_translations(
    root: &Path,
    theme_dir: &Path,
    theme: &str,
) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut translations: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (language, text) in builtin::TRANSLATIONS {
        let table = parse_translations(text, &format!("(built-in theme)/i18n/{language}.toml"))?;
        translations.insert(language.to_string(), table);
    }
    for (dir, shown) in [
        (theme_dir.join("i18n"), format!("themes/{theme}/i18n")),
        (root.join("i18n"), "i18n".to_string()),
    ] {
        for (name, file) in walk_files(&dir)? {
            let Some(language) = name.strip_suffix(".toml") else {
                continue;
            };
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("failed to read `{}`", file.display()))?;
            let table = parse_translations(&text, &format!("{shown}/{name}"))?;
            translations
                .entry(language.to_string())
                .or_default()
                .extend(table);
        }
    }
    Ok(translations)
}

fn parse_translations(text: &str, file: &str) -> Result<BTreeMap<String, String>> {
    toml::from_str::<BTreeMap<String, String>>(text)
        .map_err(|e| anyhow!("`{file}`: {}", toml_message(&e, text, 0)))
}

/// A toml error as "line N, column M: message", with `line_offset` lines
/// added (front matter starts after the opening `+++`).
fn toml_message(error: &toml::de::Error, text: &str, line_offset: usize) -> String {
    match error.span() {
        Some(span) => {
            let (line, column) = line_column(text, span.start);
            format!(
                "line {}, column {column}: {}",
                line + line_offset,
                error.message()
            )
        }
        None => error.message().to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Lists the regular files under `dir` (sorted, relative `/` paths), refusing
/// links that lead outside `dir`: a link in `static/` to `../.minhbach/secret`
/// stays inside the portal but would publish the secret.
fn walk_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.with_context(|| format!("failed to list `{}`", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        crate::portal::confined(dir, entry.path())?;
        let relative = super::output::relative_slash_path(dir, entry.path());
        files.push((relative, entry.path().to_path_buf()));
    }
    Ok(files)
}

fn load_content(root: &Path) -> Result<Vec<ContentFile>> {
    let content_dir = root.join("content");
    let mut files = Vec::new();
    for (relative, file) in walk_files(&content_dir)? {
        if !relative.ends_with(".md") {
            continue;
        }
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        let shown = format!("content/{relative}");
        let parsed = parse_content(&relative, &shown, &text)?;
        if !parsed.front.draft {
            files.push(parsed);
        }
    }
    Ok(files)
}

/// Parses one content file; `relative` is its path under `content/`.
pub fn parse_content(relative: &str, shown: &str, text: &str) -> Result<ContentFile> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front, markdown, body_line) = split_front_matter(text)
        .ok_or_else(|| anyhow!("`{shown}` line 1: a content file must start with `+++` front matter, closed by another `+++` line"))?;
    let front: FrontMatter = toml::from_str(front)
        .map_err(|e| anyhow!("`{shown}` front matter, {}", toml_message(&e, front, 1)))?;
    let (stem_path, language) = match relative.strip_suffix(".en.md") {
        Some(stem) => (stem.to_string(), "en"),
        None => (
            relative
                .strip_suffix(".vi.md")
                .or_else(|| relative.strip_suffix(".md"))
                .unwrap_or(relative)
                .to_string(),
            "vi",
        ),
    };
    for part in stem_path.split('/') {
        let plain = !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
            && !part.starts_with('.');
        if !plain {
            bail!(
                "`{shown}`: file and folder names in content/ must be plain slugs such as `gioi-thieu.md`"
            );
        }
    }
    let (directory, name) = match stem_path.rsplit_once('/') {
        Some((directory, name)) => (format!("/{directory}/"), name.to_string()),
        None => ("/".to_string(), stem_path.clone()),
    };
    let is_section = name == "_index";
    let path = if is_section {
        directory.clone()
    } else {
        format!("{directory}{name}/")
    };
    let section_path = if is_section {
        parent_path(&directory)
    } else {
        directory
    };
    Ok(ContentFile {
        file: shown.to_string(),
        link_name: relative.to_string(),
        language: language.to_string(),
        path,
        is_section,
        section_path,
        front,
        markdown: markdown.to_string(),
        body_line,
    })
}

/// `/a/b/` → `/a/`; `/` → `/`.
fn parent_path(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(index) => trimmed[..=index].to_string(),
        None => "/".to_string(),
    }
}

/// Splits `+++\nTOML\n+++\nbody`; returns the TOML, the body and the body's
/// first line number.
fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let rest = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = front.matches('\n').count() + 3;
            return Some((front, body, body_line));
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_paths() {
        let page = parse_content(
            "gioi-thieu.md",
            "content/gioi-thieu.md",
            "+++\ntitle = \"A\"\n+++\nbody\n",
        )
        .unwrap();
        assert_eq!(page.path, "/gioi-thieu/");
        assert_eq!(page.language, "vi");
        assert_eq!(page.body_line, 4);
        assert_eq!(page.markdown, "body\n");
        let english = parse_content("tin/a.en.md", "content/tin/a.en.md", "+++\n+++\n").unwrap();
        assert_eq!(
            (english.path.as_str(), english.language.as_str()),
            ("/tin/a/", "en")
        );
        assert_eq!(english.section_path, "/tin/");
        let section =
            parse_content("tin/_index.md", "content/tin/_index.md", "+++\n+++\n").unwrap();
        assert!(section.is_section);
        assert_eq!(
            (section.path.as_str(), section.section_path.as_str()),
            ("/tin/", "/")
        );
        let home = parse_content("_index.md", "content/_index.md", "+++\n+++\n").unwrap();
        assert_eq!(home.path, "/");
    }

    #[test]
    fn front_matter_errors_name_file_and_line() {
        let error = parse_content(
            "a.md",
            "content/a.md",
            "+++\ntitle = \"A\"\nweight = x\n+++\n",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`content/a.md`"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        let error = parse_content("a.md", "content/a.md", "no front matter")
            .unwrap_err()
            .to_string();
        assert!(error.contains("line 1"), "{error}");
    }
}
