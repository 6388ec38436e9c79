//! Rendering: the Tera environment (filters, functions, escaping) and one
//! template context per page.
//!
//! Template engine: Tera 2 (2.4, feature `fast`), chosen over Tera 1 after a
//! measurement on a data-heavy page (BENCHMARKS.md, "Template engine"). Tera
//! 2 also reports template errors, at parse and at render
//! time, as `file:line:column` with the offending source line, which
//! `minhbach check` needs; its API (typed filter arguments, functions that
//! read the page context through `State`) is as workable as Tera 1's.
//!
//! Escaping: autoescape is on for `.html`, with an escaper that also escapes
//! `'` (so a theme's single-quoted attribute is as safe as a double-quoted
//! one) and drops control characters and bidi overrides (see `escape`).
//! Ledger data reaches templates as plain strings and is never marked
//! safe; only Markdown already sanitised by `markdown.rs` is passed through.

use super::load::{Sources, TemplateSource};
use anyhow::{Result, anyhow};
use minhbach_ledger::entry::{Channel, Stage, Support};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tera::{Context, Kwargs, State, Tera, TeraResult, Value};

/// URLs of the site: everything is root-relative and carries the base path,
/// so the site works from a sub-path (`https://example.github.io/minhbach/`).
#[derive(Clone, Debug)]
pub struct Urls {
    /// `/` or `/minhbach/`.
    pub base_path: String,
    /// The configured base URL when it is absolute (`https://…/`), for the
    /// sitemap, robots.txt and the feed.
    pub absolute_base: Option<String>,
    pub default_language: String,
}

impl Urls {
    pub fn new(base_url: &str, default_language: &str) -> Urls {
        let (absolute_base, path) = match base_url.split_once("://") {
            Some((scheme, rest)) if scheme == "http" || scheme == "https" => {
                let path = rest.find('/').map_or("/", |index| &rest[index..]);
                let mut absolute = base_url.to_string();
                if !absolute.ends_with('/') {
                    absolute.push('/');
                }
                (Some(absolute), path.to_string())
            }
            _ => (None, base_url.to_string()),
        };
        let mut base_path = format!("/{}", path.trim_matches('/'));
        if !base_path.ends_with('/') {
            base_path.push('/');
        }
        Urls {
            base_path,
            absolute_base,
            default_language: default_language.to_string(),
        }
    }

    fn language_prefix(&self, language: &str) -> String {
        if language == self.default_language {
            String::new()
        } else {
            format!("/{language}")
        }
    }

    /// The URL of a page path (`/quy/x/`) in a language.
    pub fn page(&self, language: &str, path: &str) -> String {
        format!(
            "{}{}{}",
            self.base_path.trim_end_matches('/'),
            self.language_prefix(language),
            path
        )
    }

    /// The URL of a language-neutral file (`/style.css`, `/media/…`).
    pub fn asset(&self, path: &str) -> String {
        format!("{}{}", self.base_path.trim_end_matches('/'), path)
    }

    /// The output file of a page path: `/quy/x/` → `quy/x/index.html`,
    /// `/404.html` → `404.html`, prefixed by the language directory.
    pub fn output_file(&self, language: &str, path: &str) -> String {
        let prefix = self.language_prefix(language);
        let full = format!("{prefix}{path}");
        let trimmed = full.trim_start_matches('/');
        if trimmed.is_empty() {
            "index.html".to_string()
        } else if trimmed.ends_with('/') {
            format!("{trimmed}index.html")
        } else {
            trimmed.to_string()
        }
    }

    /// The absolute URL of a page, if the base URL is absolute.
    pub fn absolute(&self, language: &str, path: &str) -> String {
        let page = self.page(language, path);
        match &self.absolute_base {
            Some(base) => {
                let origin = base
                    .strip_suffix(self.base_path.as_str())
                    .unwrap_or(base.trim_end_matches('/'));
                format!("{origin}{page}")
            }
            None => page,
        }
    }
}

/// Escapes text for HTML, including both quote characters, and drops what
/// must never reach a page from data: control characters other than tab, LF
/// and CR (a front-matter `"\u0000"`, C1 controls) and the bidi embedding,
/// override and isolate controls of `vn::is_bidi_control`, which would let a
/// donor name reorder the entry number or amount shown beside it. The ledger
/// refuses control characters at input; this is the last line for every
/// other source (content front matter, config, translations).
///
/// Works on bytes, so the common case (nothing to escape) is one pass: in
/// UTF-8, C1 controls are `C2 80`–`C2 9F` and the bidi controls are
/// `E2 80 AA`–`E2 80 AE` and `E2 81 A6`–`E2 81 A9`.
fn escape(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut last = 0;
    let mut index = 0;
    while index < bytes.len() {
        let (replacement, length): (&[u8], usize) = match bytes[index] {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'>' => (b"&gt;", 1),
            b'"' => (b"&quot;", 1),
            b'\'' => (b"&#39;", 1),
            b'\t' | b'\n' | b'\r' => {
                index += 1;
                continue;
            }
            0x00..=0x1F | 0x7F => (b"", 1),
            0xC2 if matches!(bytes.get(index + 1), Some(0x80..=0x9F)) => (b"", 2),
            0xE2 if is_bidi_control_utf8(&bytes[index..]) => (b"", 3),
            _ => {
                index += 1;
                continue;
            }
        };
        out.write_all(&bytes[last..index])?;
        out.write_all(replacement)?;
        index += length;
        last = index;
    }
    out.write_all(&bytes[last..])
}

/// Whether `bytes` starts with the UTF-8 form of a bidi embedding, override
/// or isolate control (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control_utf8(bytes: &[u8]) -> bool {
    matches!(
        bytes,
        [0xE2, 0x80, 0xAA..=0xAE, ..] | [0xE2, 0x81, 0xA6..=0xA9, ..]
    )
}

/// The Tera environment with the theme's templates and minhbach's filters
/// and functions, plus the template files for error messages.
pub struct Renderer {
    tera: Tera,
    files: BTreeMap<String, String>,
}

impl Renderer {
    pub fn new(sources: &Sources, urls: &Urls) -> Result<Renderer> {
        let mut tera = Tera::default();
        tera.set_escape_fn(escape);
        tera.autoescape_on(vec![".html"]);
        register(&mut tera, sources, urls);
        let files: BTreeMap<String, String> = sources
            .templates
            .iter()
            .map(|(name, source)| (name.clone(), source.file.clone()))
            .collect();
        let templates: Vec<(&str, &str)> = sources
            .templates
            .iter()
            .map(|(name, TemplateSource { text, .. })| (name.as_str(), text.as_str()))
            .collect();
        if let Err(error) = tera.add_raw_templates(templates) {
            return Err(anyhow!("{}", describe(&error, &files)));
        }
        Ok(Renderer { tera, files })
    }

    pub fn has_template(&self, name: &str) -> bool {
        self.tera.contains_template(name)
    }

    /// Renders `template`; an error names the template file, line and column.
    pub fn render(&self, template: &str, context: &Context) -> Result<String> {
        self.tera
            .render(template, context)
            .map_err(|error| anyhow!("{}", describe(&error, &self.files)))
    }

    /// Renders `template` at the end of `out`, as `render` does, without
    /// checking the page's bytes again as UTF-8 (every piece of it is text)
    /// or allocating it afresh: the rendering threads reuse one buffer each.
    pub fn render_into(&self, template: &str, context: &Context, out: &mut Vec<u8>) -> Result<()> {
        self.tera
            .render_to(template, context, out)
            .map_err(|error| anyhow!("{}", describe(&error, &self.files)))
    }
}

/// Tera's message with template names replaced by their files:
/// `--> page.html:4:10` becomes `--> templates/page.html:4:10`.
fn describe(error: &tera::Error, files: &BTreeMap<String, String>) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!("\n{cause}"));
        source = cause.source();
    }
    for (name, file) in files {
        message = message.replace(&format!("--> {name}:"), &format!("--> {file}:"));
    }
    message
        .strip_prefix("error: ")
        .map(str::to_string)
        .unwrap_or(message)
}

/// `part` as a percentage of `whole` with at most one decimal and a `.`
/// point, for CSS widths (`width:62.5%`): `0` when `whole` is 0, at most 100.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0".to_string();
    }
    let tenths = (u128::from(part.min(whole)) * 1000 + u128::from(whole) / 2) / u128::from(whole);
    match tenths % 10 {
        0 => format!("{}", tenths / 10),
        decimal => format!("{}.{decimal}", tenths / 10),
    }
}

/// A template asked for a translation its language's file lacks.
fn missing_translation(key: &str, language: &str) -> tera::Error {
    tera::Error::message(format!(
        "no translation for `{key}` in language `{language}` (add it to the theme's i18n/{language}.toml)"
    ))
}

/// The ledger fields whose values the site names, and their values, from
/// the ledger's own lists: a template's `names(of='channel')` maps each
/// value to the translation of `channel_<value>`.
fn value_lists() -> [(&'static str, Vec<&'static str>); 3] {
    [
        ("channel", Channel::ALL.map(Channel::as_str).to_vec()),
        ("support", Support::ALL.map(Support::as_str).to_vec()),
        ("stage", Stage::ALL.map(Stage::as_str).to_vec()),
    ]
}

/// For each language and field of `value_lists`, the map from value to name
/// as a template value, made once; or the first translation key the
/// language lacks, reported when a template asks for that field.
type ValueNames = HashMap<String, HashMap<&'static str, Result<Value, String>>>;

fn value_names(translations: &BTreeMap<String, BTreeMap<String, String>>) -> ValueNames {
    (translations.iter())
        .map(|(language, table)| {
            let kinds = value_lists()
                .into_iter()
                .map(|(kind, values)| {
                    let map: Result<BTreeMap<&str, &str>, String> = values
                        .into_iter()
                        .map(|value| {
                            let key = format!("{kind}_{value}");
                            match table.get(&key) {
                                Some(text) => Ok((value, text.as_str())),
                                None => Err(key),
                            }
                        })
                        .collect();
                    (kind, map.map(|map| Value::from_serializable(&map)))
                })
                .collect();
            (language.clone(), kinds)
        })
        .collect()
}

/// The language a function or filter is called for: its `lang` argument,
/// else the page's. Borrowed where the argument is given; the page's is a
/// clone of its value (inline, no allocation).
fn with_language<R>(
    kwargs: &Kwargs,
    state: &State,
    then: impl FnOnce(&str) -> TeraResult<R>,
) -> TeraResult<R> {
    if let Some(language) = kwargs.get::<&str>("lang")? {
        return then(language);
    }
    let page = state.get::<Value>("lang")?;
    then(page.as_ref().and_then(Value::as_str).unwrap_or("vi"))
}

/// Templates call `t`, `url` and `asset` about sixty times a page: each
/// takes its arguments borrowed and returns a value made once (a
/// translation, as a template value whose clone shares its text) or one
/// string, so a page costs no allocation per call beyond its result.
fn register(tera: &mut Tera, sources: &Sources, urls: &Urls) {
    tera.register_filter("vnd", |value: u64, _: Kwargs, _: &State| {
        crate::vn::format_vnd(value)
    });
    tera.register_filter("date", |value: &str, kwargs: Kwargs, state: &State| {
        with_language(&kwargs, state, |language| {
            Ok(crate::vn::format_date(value, language))
        })
    });
    tera.register_filter("mask", |value: &str, _: Kwargs, _: &State| {
        crate::vn::mask_last4(value)
    });
    tera.register_filter("fold", |value: &str, _: Kwargs, _: &State| {
        crate::vn::fold(value)
    });
    tera.register_filter("digits", |value: u64, _: Kwargs, _: &State| {
        crate::vn::group_digits(value)
    });
    tera.register_filter("percent", |value: u64, kwargs: Kwargs, _: &State| {
        let whole: u64 = kwargs.must_get("of")?;
        Ok::<_, tera::Error>(percent(value, whole))
    });
    let translations: Arc<HashMap<String, HashMap<String, Value>>> = Arc::new(
        sources
            .translations
            .iter()
            .map(|(language, table)| {
                let values = table
                    .iter()
                    .map(|(key, text)| (key.clone(), Value::from(text.as_str())))
                    .collect();
                (language.clone(), values)
            })
            .collect(),
    );
    tera.register_function("t", move |kwargs: Kwargs, state: &State| {
        let key: &str = kwargs.must_get("key")?;
        with_language(&kwargs, state, |language| {
            translations
                .get(language)
                .and_then(|table| table.get(key))
                .cloned()
                .ok_or_else(|| missing_translation(key, language))
        })
    });
    let names = value_names(&sources.translations);
    tera.register_function("names", move |kwargs: Kwargs, state: &State| {
        let of: &str = kwargs.must_get("of")?;
        with_language(&kwargs, state, |language| {
            let Some(kinds) = names.get(language) else {
                return Err(tera::Error::message(format!(
                    "no translations for language `{language}` (add the theme's i18n/{language}.toml)"
                )));
            };
            match kinds.get(of) {
                Some(Ok(map)) => Ok(map.clone()),
                Some(Err(key)) => Err(missing_translation(key, language)),
                None => Err(tera::Error::message(format!(
                    "names(of=\"{of}\"): `of` is one of {}",
                    value_lists().map(|(kind, _)| kind).join(", ")
                ))),
            }
        })
    });
    let page_urls = urls.clone();
    tera.register_function("url", move |kwargs: Kwargs, state: &State| {
        let path: &str = kwargs.must_get("path")?;
        if !path.starts_with('/') {
            return Err(tera::Error::message(format!(
                "url(path=\"{path}\"): the path must start with `/`"
            )));
        }
        with_language(
            &kwargs,
            state,
            |language| Ok(page_urls.page(language, path)),
        )
    });
    let asset_urls = urls.clone();
    tera.register_function("asset", move |kwargs: Kwargs, _: &State| {
        let path: &str = kwargs.must_get("path")?;
        if !path.starts_with('/') {
            return Err(tera::Error::message(format!(
                "asset(path=\"{path}\"): the path must start with `/`"
            )));
        }
        Ok(asset_urls.asset(path))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_a_sub_path() {
        let urls = Urls::new("https://example.github.io/minhbach", "vi");
        assert_eq!(urls.base_path, "/minhbach/");
        assert_eq!(urls.page("vi", "/quy/a/"), "/minhbach/quy/a/");
        assert_eq!(urls.page("en", "/"), "/minhbach/en/");
        assert_eq!(urls.asset("/style.css"), "/minhbach/style.css");
        assert_eq!(urls.output_file("en", "/"), "en/index.html");
        assert_eq!(urls.output_file("vi", "/404.html"), "404.html");
        assert_eq!(
            urls.absolute("vi", "/quy/a/"),
            "https://example.github.io/minhbach/quy/a/"
        );
        let root = Urls::new("/", "vi");
        assert_eq!(root.page("vi", "/"), "/");
        assert_eq!(root.absolute_base, None);
    }

    /// `t`, `url`, `asset` and `date` as templates call them: in the page's
    /// language unless given one, translations escaped like any text, and
    /// a missing translation or a relative path refused by name.
    #[test]
    fn the_template_functions_take_the_page_s_language_or_their_own() {
        let table = |pairs: &[(&str, &str)]| {
            (pairs.iter())
                .map(|(key, text)| (key.to_string(), text.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let sources = Sources {
            content: Vec::new(),
            templates: BTreeMap::new(),
            translations: BTreeMap::from([
                ("vi".to_string(), table(&[("fund", "Quỹ <cứu trợ>")])),
                ("en".to_string(), table(&[("fund", "Fund")])),
            ]),
            static_files: BTreeMap::new(),
        };
        let mut tera = Tera::default();
        tera.set_escape_fn(escape);
        tera.autoescape_on(vec![".html"]);
        register(&mut tera, &sources, &Urls::new("/sub", "vi"));
        let page = "{{ t(key='fund') }}|{{ t(key='fund', lang='en') }}|{{ url(path='/quy/') }}|\
            {{ url(path='/quy/', lang='en') }}|{{ asset(path='/a.css') }}|{{ '2025-09-13' | date }}";
        tera.add_raw_templates([
            ("page.html", page),
            ("missing.html", "{{ t(key='nope') }}"),
            ("relative.html", "{{ url(path='quy/') }}"),
        ])
        .unwrap();
        let render = |template: &str, language: Option<&str>| {
            let mut context = Context::new();
            if let Some(language) = language {
                context.insert("lang", language);
            }
            tera.render(template, &context)
        };
        let vi = "Quỹ &lt;cứu trợ&gt;|Fund|/sub/quy/|/sub/en/quy/|/sub/a.css|";
        assert_eq!(
            render("page.html", Some("vi")).unwrap(),
            format!("{vi}{}", crate::vn::format_date("2025-09-13", "vi"))
        );
        assert_eq!(
            render("page.html", None).unwrap(),
            render("page.html", Some("vi")).unwrap()
        );
        assert_eq!(
            render("page.html", Some("en")).unwrap(),
            format!(
                "Fund|Fund|/sub/en/quy/|/sub/en/quy/|/sub/a.css|{}",
                crate::vn::format_date("2025-09-13", "en")
            )
        );
        let error = |template: &str, language: &str| {
            describe(
                &render(template, Some(language)).unwrap_err(),
                &BTreeMap::new(),
            )
        };
        let missing = error("missing.html", "en");
        assert!(
            missing.contains("no translation for `nope` in language `en`"),
            "{missing}"
        );
        let relative = error("relative.html", "vi");
        assert!(
            relative.contains("url(path=\"quy/\"): the path must start with `/`"),
            "{relative}"
        );
    }

    /// `names(of=…)` names every value of a ledger field from the ledger's
    /// own list, in the page's language or its own; a language without one
    /// of the names, or an unknown field, is refused by name.
    #[test]
    fn names_come_from_the_ledger_s_lists() {
        let mut vi = BTreeMap::new();
        let mut en = BTreeMap::new();
        for (kind, values) in value_lists() {
            for value in values {
                vi.insert(format!("{kind}_{value}"), format!("vi {value}"));
                en.insert(format!("{kind}_{value}"), format!("en {value}"));
            }
        }
        en.remove("stage_handed_over");
        let sources = Sources {
            content: Vec::new(),
            templates: BTreeMap::new(),
            translations: BTreeMap::from([("vi".to_string(), vi), ("en".to_string(), en)]),
            static_files: BTreeMap::new(),
        };
        let mut tera = Tera::default();
        register(&mut tera, &sources, &Urls::new("/", "vi"));
        tera.add_raw_templates([
            (
                "channels",
                "{% set c = names(of='channel') %}{% set e = names(of='channel', lang='en') %}{% set s = names(of='support') %}{{ c.bank }}|{{ c['in_kind'] }}|{{ e.other }}|{{ s.repair }}",
            ),
            (
                "stages",
                "{% set s = names(of='stage') %}{{ s.handed_over }}",
            ),
            ("unknown", "{{ names(of='colour') }}"),
        ])
        .unwrap();
        let render = |template: &str, language: &str| {
            let mut context = Context::new();
            context.insert("lang", language);
            (tera.render(template, &context)).map_err(|error| describe(&error, &BTreeMap::new()))
        };
        assert_eq!(
            render("channels", "vi").unwrap(),
            "vi bank|vi in_kind|en other|vi repair"
        );
        assert_eq!(render("stages", "vi").unwrap(), "vi handed_over");
        let missing = render("stages", "en").unwrap_err();
        assert!(
            missing.contains("no translation for `stage_handed_over` in language `en`"),
            "{missing}"
        );
        let unknown = render("unknown", "vi").unwrap_err();
        assert!(
            unknown.contains("names(of=\"colour\"): `of` is one of channel, support, stage"),
            "{unknown}"
        );
    }

    #[test]
    fn escaping_covers_quotes() {
        let mut out = Vec::new();
        escape("<a href='x'>\"&", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
    }

    #[test]
    fn escaping_drops_controls_and_bidi_overrides() {
        let mut out = Vec::new();
        let input = "a\u{0}b\u{1b}c\u{85}d\u{202e}e\u{2066}f\u{2069}g\u{202c}\th\ni đ \u{200f}₫";
        escape(input, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "abcdefg\th\ni đ \u{200f}₫");
        // Every bidi control the byte test drops is one `vn` names, and no other.
        for c in '\u{2000}'..='\u{20ff}' {
            let mut utf8 = [0; 4];
            let bytes = c.encode_utf8(&mut utf8).as_bytes();
            assert_eq!(
                is_bidi_control_utf8(bytes),
                crate::vn::is_bidi_control(c),
                "U+{:04X}",
                c as u32
            );
        }
    }
}
