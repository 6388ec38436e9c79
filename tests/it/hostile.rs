//! Hostile content: a corpus of injection vectors pushed through
//! every text field of every entry kind, the site's title, the front matter
//! and Markdown of content pages, file names and import cells, then the site
//! is built and every published file is read back as a browser, a feed
//! reader, a spreadsheet and a JSON client would read it. Nothing from the
//! corpus may become markup, a script, an event handler, a `javascript:` or
//! `data:` link, a formula, or a bidi override that reorders its neighbours.
//!
//! The corpus is generated here, not committed; the one portal is built once
//! and shared by the assertions (a build of ~400 entries takes seconds).

use crate::common;

use common::{TestPortal, log_file, page_file};
use minhbach::site::routes;
use predicates::prelude::*;
use predicates::str::contains;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// Injection vectors that fit a short single-line ledger field (at most 200
/// characters, no control characters, no leading or trailing spaces).
const VECTORS: &[&str] = &[
    "<script>alert(1)</script>",
    "<ScRiPt SRC=//evil.example/x.js></sCrIpT>",
    "</script><script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "'><svg onload=alert(1)>",
    "\" onmouseover=\"alert(1)\" x=\"",
    "' onfocus='alert(1)' autofocus x='",
    "<svg><script>alert(1)</script></svg>",
    "<svg xmlns=\"http://www.w3.org/2000/svg\"><a xlink:href=\"javascript:alert(1)\"><rect width=\"9\" height=\"9\"/></a></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<a href=\"javascript:alert(1)\">bấm vào đây</a>",
    "JaVaScRiPt:alert(1)",
    "javascript&#58;alert(1)",
    "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "<iframe src=\"data:text/html,<script>alert(1)</script>\"></iframe>",
    "<object data=\"data:image/svg+xml,<svg onload=alert(1)>\"></object>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "x\" style=\"background:url(//evil.example/a.png);width:expression(alert(1))",
    "<div style=\"width:expression(alert(1))\">x</div>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<base href=\"https://evil.example/\">",
    "<form action=\"https://evil.example/\"><input name=\"q\"></form>",
    "<!-- x --><!--",
    "]]><x>&amp;<![CDATA[<script>alert(1)</script>]]>",
    "{{ 7*7 }} {% raw %} ${7*7} #{7*7}",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "=HYPERLINK(\"https://evil.example/\",\"Bấm\")",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",
    "\u{202e}gnp.exe Nguyễn Văn An",
    "Trần \u{2067}Thị\u{2069} \u{202a}Bích\u{202c} \u{202b}\u{202d}x",
    "\u{2066}\u{2068}Lê Hoa",
    "Nguyễn Văn Аn (Cyrillic А), раураl.com",
    "\u{200b}\u{feff}zero\u{200d}width",
];

/// Bidi embedding, override and isolate controls ("Trojan Source"): none may
/// reach a page, a feed or a spreadsheet.
const BIDI_CONTROLS: [char; 9] = [
    '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}',
];

/// Raw HTML and links in Markdown: the content of `content/`.
const MARKDOWN_VECTORS: &[&str] = &[
    "[a](javascript:alert(1))",
    "[b](JaVaScRiPt:alert(1))",
    "[c](jav&#x61;script:alert(1))",
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[e](vbscript:msgbox(1))",
    "![f](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![g](javascript:alert(1))",
    "<a href=\"jav&#x61;script:alert(1)\">h</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">i</a>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle r=\"9\"/></svg>",
    "<style>*{background:url(javascript:alert(1))}</style>",
    "<p style=\"background:url(javascript:alert(1))\">j</p>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<details open ontoggle=alert(1)>k</details>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form><button formaction=\"javascript:alert(1)\">l</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<a href=\"https://example.vn/\" onclick=\"alert(1)\" style=\"color:red\">m</a>",
    "<div id=\"x\" class=\"y\" onmouseover=\"alert(1)\">n</div>",
    "\u{202e}gnp.exe",
];

/// Every corpus string, plus the generated ones: a long run of markup at the
/// longest a long field allows (5,000 characters).
fn corpus() -> Vec<String> {
    VECTORS.iter().map(|v| v.to_string()).collect()
}

/// The long-field payload: markup repeated to 5,000 characters.
fn long_payload() -> String {
    let unit = "<script>alert(1)</script><img src=x onerror=alert(1)>";
    let mut text = unit.repeat(5_000 / unit.len() + 1);
    text.truncate(5_000);
    text
}

/// A JSON string literal.
fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A TOML basic string, with every character TOML refuses raw escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// At most `max` characters, without trailing spaces.
fn cut(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A small PNG, for progress photos.
fn png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(16, 12, image::Rgb([200, 40, 40]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    bytes.into_inner()
}

/// The file name of the progress photo: markup in a file name.
const PHOTO_NAME: &str = "\"><img src=x onerror=alert(7)>.png";

/// The officer's batch: for each vector, one entry of every kind with the
/// vector in every text field. Seq 0 is the genesis and 1 the officer's
/// admission, so vector `i`'s donation is entry `2 + 7 * i + 1`.
fn officer_batch(corpus: &[String]) -> String {
    let long = long_payload();
    let mut lines = Vec::new();
    for (i, p) in corpus.iter().enumerate() {
        let text = json(p);
        let donation_seq = 2 + 7 * i + 1;
        let long_or_text = if i == 0 { json(&long) } else { text.clone() };
        lines.push(format!(
            r#"{{"kind":"fund","id":"f{i}","name":{text},"description":{long_or_text},"account":{{"bank_bin":"970415","number":"11300000{i:04}","holder":{text}}}}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"donation","fund":"f{i}","donor":{text},"amount":500000,"date":"2025-09-12","channel":"bank","ref":{},"note":{long_or_text}}}"#,
            json(&cut(p, 64))
        ));
        lines.push(format!(
            r#"{{"kind":"household","id":"h{i}","head":{text},"province":{text},"district":{text},"commune":{text},"village":{text},"circumstances":{long_or_text},"support":"new","planned":60000000,"photo_consent":true,"citizen_id":"0451900{i:05}","phone":"09123{i:05}"}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"disbursement","fund":"f{i}","amount":100000,"date":"2025-09-13","household":"h{i}","purpose":{long_or_text}}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"disbursement","fund":"f{i}","amount":100000,"date":"2025-09-13","payee":{text},"purpose":{text}}}"#
        ));
        lines.push(format!(
            r#"{{"kind":"progress","household":"h{i}","date":"2025-09-14","stage":"approved","photos":[{{"file":{},"caption":{text}}}],"note":{long_or_text}}}"#,
            json(PHOTO_NAME)
        ));
        lines.push(format!(
            r#"{{"kind":"correction","target":{donation_seq},"reason":{long_or_text},"amend":{{"note":{text}}}}}"#
        ));
    }
    lines.join("\n") + "\n"
}

/// The administrator's batch: a key admitted with the vector as its unit,
/// then revoked with it as the reason.
fn key_batch(corpus: &[String]) -> String {
    let mut lines = Vec::new();
    for (i, p) in corpus.iter().enumerate() {
        let name = format!("k{i}");
        let key = minhbach::ledger::note::SigningKey::from_seed(&name, [i as u8 + 1; 32]).unwrap();
        lines.push(format!(
            r#"{{"kind":"key","action":"admit","name":"{name}","unit":{},"role":"officer","vkey":"{}"}}"#,
            json(p),
            key.verifier_key()
        ));
        lines.push(format!(
            r#"{{"kind":"key","action":"revoke","name":"{name}","reason":{}}}"#,
            json(p)
        ));
    }
    lines.join("\n") + "\n"
}

/// A content page per vector (title, description, `extra` and body), and
/// one page of Markdown vectors, with a NUL in its title.
fn write_content(root: &Path, corpus: &[String]) {
    for (i, p) in corpus.iter().enumerate() {
        let text = format!(
            "+++\ntitle = {t}\ndescription = {t}\ndate = {t}\n[extra]\nx = {t}\n+++\n\n{p}\n\n*{p}*\n\n[{p}](/ung-ho/)\n",
            t = toml_string(p)
        );
        std::fs::write(root.join(format!("content/h{i}.md")), text).unwrap();
    }
    let mut body = String::new();
    for vector in MARKDOWN_VECTORS {
        body.push_str(vector);
        body.push_str("\n\n");
    }
    body.push_str(&long_payload().repeat(20));
    body.push('\n');
    std::fs::write(
        root.join("content/markdown.md"),
        format!(
            "+++\ntitle = {}\n+++\n\n{body}",
            toml_string("NUL\u{0}<script>alert(1)</script>")
        ),
    )
    .unwrap();
}

/// The vector as the site's title, in `config.toml`.
fn set_site_title(root: &Path, title: &str) {
    let path = root.join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let replaced: Vec<String> = config
        .lines()
        .map(|line| {
            if line.starts_with("title = ") {
                format!("title = {}", toml_string(title))
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&path, replaced.join("\n") + "\n").unwrap();
}

/// A bank statement and a household roster whose cells are the vectors.
fn import_files(portal: &TestPortal, corpus: &[String]) {
    let dir = portal.dir.path();
    let statement = dir.join("<script>alert(1)<\u{202e}sao-ke.csv");
    let mut writer = csv::Writer::from_path(&statement).unwrap();
    writer
        .write_record(["date", "ref", "amount", "donor", "note"])
        .unwrap();
    for (i, p) in corpus.iter().enumerate() {
        writer
            .write_record([
                "12/09/2025",
                &format!("IMP{i:04}"),
                "100.000",
                p.as_str(),
                p.as_str(),
            ])
            .unwrap();
    }
    writer.flush().unwrap();
    portal
        .run(&[
            "import",
            "donations",
            statement.to_str().unwrap(),
            "--fund",
            "f0",
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .success();
    let roster = dir.join("danh-sach.csv");
    let mut writer = csv::Writer::from_path(&roster).unwrap();
    writer
        .write_record([
            "id",
            "head",
            "province",
            "district",
            "commune",
            "village",
            "circumstances",
            "support",
            "planned",
            "citizen_id",
            "phone",
            "photo_consent",
        ])
        .unwrap();
    for (i, p) in corpus.iter().enumerate() {
        writer
            .write_record([
                format!("imp-{i}").as_str(),
                p,
                p,
                p,
                p,
                p,
                p,
                "repair",
                "30.000.000",
                &format!("0451901{i:05}"),
                "",
                "true",
            ])
            .unwrap();
    }
    writer.flush().unwrap();
    portal
        .run(&[
            "import",
            "households",
            roster.to_str().unwrap(),
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .success();
}

/// The hostile portal, built once: every published file by its path.
struct Built {
    _portal: TestPortal,
    files: BTreeMap<String, Vec<u8>>,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let corpus = corpus();
        let portal = TestPortal::new();
        let input_dir = portal.dir.path().join("input");
        std::fs::create_dir_all(&input_dir).unwrap();
        std::fs::write(input_dir.join(PHOTO_NAME), png()).unwrap();
        let input = input_dir.join("entries.jsonl");
        std::fs::write(&input, officer_batch(&corpus)).unwrap();
        portal
            .run(&[
                "append",
                "--key",
                portal.officer_key.to_str().unwrap(),
                input.to_str().unwrap(),
            ])
            .assert()
            .success();
        portal
            .run(&["append", "--key", portal.admin_key.to_str().unwrap(), "-"])
            .write_stdin(key_batch(&corpus))
            .assert()
            .success();
        import_files(&portal, &corpus);
        write_content(&portal.root(), &corpus);
        set_site_title(&portal.root(), VECTORS[3]);
        // A static file whose name is markup: copied, never linked or shown.
        std::fs::write(portal.root().join("static").join(PHOTO_NAME), b"not linked").unwrap();
        let public = portal.dir.path().join("public");
        portal
            .run(&["build", "-o", public.to_str().unwrap()])
            .assert()
            .success();
        Built {
            files: common::snapshot(&public)
                .into_iter()
                .map(|(path, bytes)| (path.to_string_lossy().replace('\\', "/"), bytes))
                .collect(),
            _portal: portal,
        }
    })
}

fn text_files<'a>(
    files: &'a BTreeMap<String, Vec<u8>>,
    extension: &str,
) -> Vec<(&'a str, &'a str)> {
    files
        .iter()
        .filter(|(path, _)| path.ends_with(extension))
        .map(|(path, bytes)| {
            (
                path.as_str(),
                std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{path}: {e}")),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// A small HTML tokenizer: start tags with their attributes, as a browser's
// tokenizer sees them in well-formed and malformed markup alike (quoted,
// single-quoted and unquoted values; comments; raw-text elements).
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        at += offset;
        let rest = &html[at..];
        if rest.starts_with("<!--") {
            at += rest.find("-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("</") || rest.starts_with("<?") {
            at += rest.find('>').map_or(rest.len(), |end| end + 1);
            continue;
        }
        if !bytes.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
            at += 1;
            continue;
        }
        let (tag, length) = start_tag(rest);
        at += length;
        if [
            "script", "style", "textarea", "title", "xmp", "iframe", "noembed",
        ]
        .contains(&tag.name.as_str())
        {
            let close = format!("</{}", tag.name);
            at += html[at..]
                .to_ascii_lowercase()
                .find(&close)
                .unwrap_or(html.len() - at);
        }
        found.push(tag);
    }
    found
}

/// Parses `<name attr=value ...>` at the start of `text`; returns the tag and
/// its length in bytes.
fn start_tag(text: &str) -> (Tag, usize) {
    let bytes = text.as_bytes();
    let mut at = 1;
    let end_of = |at: usize, stop: &dyn Fn(u8) -> bool| {
        let mut end = at;
        while end < bytes.len() && !stop(bytes[end]) {
            end += 1;
        }
        end
    };
    let name_end = end_of(at, &|b| b.is_ascii_whitespace() || b == b'/' || b == b'>');
    let name = text[at..name_end].to_ascii_lowercase();
    at = name_end;
    let mut attributes = Vec::new();
    loop {
        at = end_of(at, &|b| !(b.is_ascii_whitespace() || b == b'/'));
        if at >= bytes.len() || bytes[at] == b'>' {
            break;
        }
        let attr_end = end_of(at + 1, &|b| {
            b.is_ascii_whitespace() || b == b'/' || b == b'>' || b == b'='
        });
        let attr = text[at..attr_end].to_ascii_lowercase();
        at = end_of(attr_end, &|b| !b.is_ascii_whitespace());
        let mut value = String::new();
        if bytes.get(at) == Some(&b'=') {
            at = end_of(at + 1, &|b| !b.is_ascii_whitespace());
            match bytes.get(at) {
                Some(&quote) if quote == b'"' || quote == b'\'' => {
                    let end = end_of(at + 1, &|b| b == quote);
                    value = decode_entities(&text[at + 1..end]);
                    at = (end + 1).min(bytes.len());
                }
                _ => {
                    let end = end_of(at, &|b| b.is_ascii_whitespace() || b == b'>');
                    value = decode_entities(&text[at..end]);
                    at = end;
                }
            }
        }
        attributes.push((attr, value));
    }
    (Tag { name, attributes }, (at + 1).min(bytes.len()))
}

/// Decodes the character references a browser decodes in attribute values.
fn decode_entities(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(index) = rest.find('&') {
        out.push_str(&rest[..index]);
        rest = &rest[index..];
        let end = rest.find(';').filter(|&end| end < 12);
        let decoded = end.and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "colon" => Some(':'),
                "Tab" => Some('\t'),
                "NewLine" => Some('\n'),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')
                        .and_then(|dec| dec.parse().ok())
                        .and_then(char::from_u32),
                },
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, length)) => {
                out.push(c);
                rest = &rest[length..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The theme's own elements and attributes, and those ammonia keeps in
/// sanitised Markdown. Anything else in a page came from the data.
const ELEMENTS: &[&str] = &[
    "html",
    "head",
    "meta",
    "title",
    "link",
    "body",
    "header",
    "nav",
    "main",
    "footer",
    "a",
    "p",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "div",
    "span",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
    "dl",
    "dt",
    "dd",
    "code",
    "pre",
    "small",
    "strong",
    "em",
    "s",
    "br",
    "figure",
    "figcaption",
    "picture",
    "source",
    "img",
    "time",
    "details",
    "summary",
    "svg",
    "rect",
    "path",
    "noscript",
    "form",
    "label",
    "input",
    "button",
    "script",
    "blockquote",
    "hr",
    "del",
    "sup",
    "sub",
    "input",
    "b",
    "i",
];
const ATTRIBUTES: &[&str] = &[
    "action",
    "alt",
    "aria-current",
    "aria-hidden",
    "aria-label",
    "aria-labelledby",
    "aria-live",
    "autocomplete",
    "charset",
    "class",
    "colspan",
    "content",
    "d",
    "datetime",
    "decoding",
    "defer",
    "focusable",
    "for",
    "height",
    "hidden",
    "href",
    "hreflang",
    "id",
    "lang",
    "loading",
    "method",
    "name",
    "preserveaspectratio",
    "rel",
    "required",
    "role",
    "scope",
    "spellcheck",
    "src",
    "srcset",
    "style",
    "tabindex",
    "title",
    "type",
    "vector-effect",
    "viewbox",
    "width",
    "x",
    "y",
    "open",
    "start",
    "checked",
    "disabled",
];
/// Elements that must never come from data, whatever the page.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "iframe",
    "frame",
    "object",
    "embed",
    "applet",
    "base",
    "style",
    "math",
    "template",
    "textarea",
    "select",
    "marquee",
    "xmp",
    "image",
    "foreignobject",
    "use",
    "animate",
    "set",
];
/// Attributes whose value is a URL.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "xlink:href",
    "poster",
    "data",
    "background",
];

/// A URL value as a browser resolves its scheme: entities decoded (done by
/// the tokenizer), ASCII whitespace and control characters removed, lower case.
fn scheme_view(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Every problem in one HTML file.
fn html_problems(path: &str, html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let tags = tags(html);
    let scripts = tags.iter().filter(|t| t.name == "script").count();
    let raw_scripts = html.to_ascii_lowercase().matches("<script").count();
    if raw_scripts != scripts {
        problems.push(format!(
            "{path}: {raw_scripts} `<script` in the text but {scripts} script elements"
        ));
    }
    for tag in &tags {
        let name = tag.name.as_str();
        if !ELEMENTS.contains(&name) || FORBIDDEN_ELEMENTS.contains(&name) {
            problems.push(format!("{path}: element <{name}> {:?}", tag.attributes));
        }
        if name == "script" {
            let own = tag.attributes.len() == 2
                && tag
                    .attributes
                    .iter()
                    .any(|(a, v)| a == "src" && v == "/lookup/page.js")
                && tag
                    .attributes
                    .iter()
                    .any(|(a, v)| a == "type" && v == "module");
            if !own {
                problems.push(format!("{path}: a script not the theme's: {tag:?}"));
            }
        }
        for (attribute, value) in &tag.attributes {
            let lookup_data = name == "form" && attribute.starts_with("data-");
            if attribute.starts_with("on")
                || !(ATTRIBUTES.contains(&attribute.as_str()) || lookup_data)
            {
                problems.push(format!(
                    "{path}: attribute {attribute}={value:?} on <{name}>"
                ));
            }
            if attribute == "style" && !is_theme_style(value) {
                problems.push(format!("{path}: style {value:?} on <{name}>"));
            }
            if URL_ATTRIBUTES.contains(&attribute.as_str()) {
                let url = scheme_view(value);
                let theme_icon = name == "link" && url == "data:,";
                let bad = ["javascript:", "vbscript:", "data:", "livescript:"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme) || url.contains(&format!(" {scheme}")));
                if bad && !theme_icon {
                    problems.push(format!("{path}: {attribute}={value:?} on <{name}>"));
                }
                if url.contains("evil.example") && !path.starts_with("markdown") {
                    problems.push(format!("{path}: link to {value:?} on <{name}>"));
                }
            }
            if name == "meta" && attribute == "http-equiv" {
                problems.push(format!("{path}: <meta http-equiv>"));
            }
        }
    }
    for c in BIDI_CONTROLS {
        if html.contains(c) {
            problems.push(format!("{path}: bidi control U+{:04X}", c as u32));
        }
    }
    if html.contains('\0') {
        problems.push(format!("{path}: a NUL byte"));
    }
    problems
}

/// The theme's only inline style: a bar's width in percent.
fn is_theme_style(value: &str) -> bool {
    value
        .strip_prefix("width:")
        .and_then(|rest| rest.strip_suffix('%'))
        .is_some_and(|number| {
            !number.is_empty() && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        })
}

#[test]
fn the_tokenizer_sees_what_a_browser_would() {
    let found = tags(
        "<p class=x>a<!-- <script> --><img src=\"&#x6A;avascript:1\" onerror=alert(1)><script>if(a<b)x()</script><a href='y' title=\"q>\">",
    );
    let names: Vec<&str> = found.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["p", "img", "script", "a"]);
    assert_eq!(
        found[1].attributes[0],
        ("src".into(), "javascript:1".into())
    );
    assert_eq!(found[1].attributes[1].0, "onerror");
    assert_eq!(found[3].attributes[1], ("title".into(), "q>".into()));
    let problems = html_problems(
        "t.html",
        "<a href=\" JaVa&#x09;script:alert(1)\">x</a><div onclick=\"x\" style=\"color:red\"></div><iframe></iframe>\u{202e}",
    );
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

#[test]
fn no_page_carries_markup_from_the_corpus() {
    let built = built();
    let pages = text_files(&built.files, ".html");
    assert!(pages.len() > 100, "{} pages", pages.len());
    let problems: Vec<String> = pages
        .iter()
        .flat_map(|(path, html)| html_problems(path, html))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_vector_is_shown_as_text() {
    let built = built();
    let page = |path: &str| -> String {
        String::from_utf8(built.files[path].clone()).unwrap_or_else(|_| panic!("{path}"))
    };
    let escape = |text: &str| -> String {
        text.chars()
            .filter(|c| !BIDI_CONTROLS.contains(c))
            .collect::<String>()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#39;")
    };
    for (i, vector) in corpus().iter().enumerate() {
        let shown = escape(vector);
        let fund = page(&page_file(&routes::fund(&format!("f{i}"))));
        assert!(
            fund.contains(&shown),
            "fund page f{i} does not show {shown:?}"
        );
        let household = page(&page_file(&routes::household(&format!("h{i}"))));
        assert!(
            household.contains(&shown),
            "household h{i} does not show {shown:?}"
        );
        let content = page(&format!("h{i}/index.html"));
        assert!(
            content.contains(&format!("<h1>{shown}</h1>")),
            "content page h{i} does not show its title {shown:?}"
        );
    }
    let verify = page(&page_file(routes::VERIFY));
    assert!(verify.contains(&escape(VECTORS[0])), "key units are shown");
    let home = page(&page_file(routes::HOME));
    assert!(
        home.contains(&escape(VECTORS[3])),
        "the site title is shown"
    );
    // The NUL of a front-matter title is removed, the rest kept as text.
    let markdown = page("markdown/index.html");
    assert!(
        markdown.contains("<h1>NUL&lt;script&gt;alert(1)&lt;/script&gt;</h1>"),
        "{}",
        &markdown[..markdown.len().min(2_000)]
    );
    // A file name that is markup is never shown.
    for (path, bytes) in &built.files {
        if path.ends_with(".html") {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.contains("alert(7)"),
                "{path} shows the photo's file name"
            );
        }
    }
}

/// Reads an XML file as a feed reader would: it must be well-formed, use
/// only `allowed` elements, no event-handler attribute and no link but a
/// site or http(s) one. Returns the element names seen and the text content.
fn read_xml(path: &str, xml: &str, allowed: &[&str]) -> (Vec<String>, String) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut elements, mut text) = (Vec::new(), String::new());
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(element)) | Ok(Event::Empty(element)) => {
                let name = String::from_utf8_lossy(element.name().as_ref()).to_string();
                assert!(allowed.contains(&name.as_str()), "{path}: element <{name}>");
                for attribute in element.attributes() {
                    let attribute = attribute.unwrap();
                    let key = String::from_utf8_lossy(attribute.key.as_ref()).to_string();
                    let value = attribute.unescape_value().unwrap();
                    assert!(!key.starts_with("on"), "{path}: attribute {key}");
                    if key == "href" {
                        let url = scheme_view(&value);
                        assert!(
                            url.starts_with('/') || url.starts_with("http"),
                            "{path}: href {value:?}"
                        );
                    }
                }
                elements.push(name);
            }
            Ok(Event::Text(content)) => text.push_str(&content.decode().unwrap()),
            Ok(Event::GeneralRef(reference)) => {
                let name = reference.decode().unwrap();
                text.push_str(match name.as_ref() {
                    "lt" => "<",
                    "gt" => ">",
                    "amp" => "&",
                    "quot" => "\"",
                    "apos" => "'",
                    _ => "?",
                });
            }
            Ok(_) => {}
            Err(error) => panic!("{path} is not well-formed XML: {error}"),
        }
    }
    for c in BIDI_CONTROLS {
        assert!(!xml.contains(c), "{path}: bidi control U+{:04X}", c as u32);
    }
    (elements, text)
}

#[test]
fn feeds_and_sitemaps_are_well_formed_and_carry_no_markup() {
    const FEED: &[&str] = &[
        "feed",
        "id",
        "title",
        "updated",
        "link",
        "author",
        "name",
        "entry",
        "summary",
        "category",
        "content",
        "published",
        "subtitle",
        "urlset",
        "url",
        "loc",
        "lastmod",
        "sitemapindex",
        "sitemap",
        "generator",
    ];
    let built = built();
    let (mut entries, mut shown) = (0, 0);
    for (path, xml) in text_files(&built.files, ".xml") {
        let (elements, text) = read_xml(path, xml, FEED);
        entries += elements.iter().filter(|name| *name == "entry").count();
        shown += text.matches("<script>alert(1)</script>").count();
    }
    assert!(entries >= 50, "{entries} feed entries");
    assert!(shown > 0, "the feed shows the vectors as text");
}

#[test]
fn svg_images_carry_no_script() {
    const SVG: &[&str] = &["svg", "title", "desc", "rect", "path", "g"];
    let built = built();
    let svgs = text_files(&built.files, ".svg");
    assert!(svgs.len() >= corpus().len(), "a VietQR code per fund");
    for (path, svg) in svgs {
        read_xml(path, svg, SVG);
    }
}

#[test]
fn csv_cells_cannot_be_formulas() {
    let built = built();
    let csvs: Vec<_> = built
        .files
        .iter()
        .filter(|(path, _)| path.ends_with(".csv"))
        .collect();
    assert!(csvs.len() >= 6, "{} CSV files", csvs.len());
    let mut neutralised = 0;
    for (path, bytes) in csvs {
        let text = std::str::from_utf8(bytes).unwrap();
        let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{path}: {e}"));
            for cell in record.iter() {
                let first = cell.chars().next();
                assert!(
                    !matches!(
                        first,
                        Some(
                            '=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠'
                        )
                    ),
                    "{path}: a cell that a spreadsheet would run: {cell:?}"
                );
                neutralised += usize::from(cell.starts_with("'=HYPERLINK"));
                for c in BIDI_CONTROLS {
                    assert!(!cell.contains(c), "{path}: bidi control in {cell:?}");
                }
            }
        }
    }
    assert!(
        neutralised > 3,
        "the formula vector was published {neutralised} times"
    );
}

#[test]
fn json_files_and_the_lookup_index_parse_and_keep_their_shape() {
    let built = built();
    let mut json_files = 0;
    for (path, text) in text_files(&built.files, ".json") {
        serde_json::from_str::<serde_json::Value>(text)
            .unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
        json_files += 1;
    }
    assert!(json_files > 0);
    // Record shards: one donation a line, twelve tab-separated fields, so a
    // tab or newline in a donor name or a description cannot forge a record.
    let mut records = 0;
    for (path, bytes) in &built.files {
        if !path.starts_with(&format!("{}/r/", routes::LOOKUP_INDEX_DIR)) {
            continue;
        }
        for line in std::str::from_utf8(bytes).unwrap().lines() {
            assert_eq!(line.split('\t').count(), 12, "{path}: {line:?}");
            records += 1;
        }
    }
    assert_eq!(records, corpus().len() * 2, "every donation has one record");
    // The exact ledger copy keeps every byte, bidi controls included: the
    // download re-hashes to the signed root.
    let ledger = String::from_utf8(built.files[routes::DOWNLOAD_FILE].clone()).unwrap();
    assert!(ledger.contains('\u{202e}'));
    assert!(ledger.contains("</script>"));
}

#[test]
fn a_nul_or_control_character_is_refused_naming_the_field() {
    let portal = TestPortal::new();
    portal
        .append(r#"{"kind":"fund","id":"f","name":"Quỹ","description":""}"#)
        .assert()
        .success();
    let before = portal.snapshot();
    for (character, code) in [
        ("\\u0000", "U+0000"),
        ("\\u001b", "U+001B"),
        ("\\u0085", "U+0085"),
    ] {
        portal
            .append(&format!(
                r#"{{"kind":"donation","fund":"f","donor":"An{character}x","amount":1,"date":"2025-09-12","channel":"cash"}}"#
            ))
            .assert()
            .code(1)
            .stderr(contains("line 1"))
            .stderr(contains("`donor`"))
            .stderr(contains(format!("contains the control character {code}")));
    }
    // A raw NUL byte is not JSON: refused with its line and column.
    portal
        .append("{\"kind\":\"fund\",\"id\":\"g\",\"name\":\"A\0\",\"description\":\"\"}\n")
        .assert()
        .code(1)
        .stderr(contains("line 1"));
    assert_eq!(portal.snapshot(), before, "nothing was appended");
}

#[test]
fn a_100_kb_string_is_refused_and_a_long_field_names_itself() {
    let portal = TestPortal::new();
    let before = portal.snapshot();
    let huge = "<script>alert(1)</script>".repeat(4_100);
    assert!(huge.len() > 100_000);
    portal
        .append(&format!(
            r#"{{"kind":"fund","id":"f","name":"Quỹ","description":{}}}"#,
            json(&huge)
        ))
        .assert()
        .code(1)
        .stderr(contains("standard input line 1"))
        .stderr(contains("over the 65535-byte limit"));
    // Under the line limit, the field's own limit names the field.
    portal
        .append(&format!(
            r#"{{"kind":"fund","id":"f","name":"Quỹ","description":{}}}"#,
            json(&"<b>x</b>".repeat(800))
        ))
        .assert()
        .code(1)
        .stderr(contains("`description`"))
        .stderr(contains("longer than 5000 characters"));
    assert_eq!(portal.snapshot(), before, "nothing was appended");
}

/// Bank statements are exports where stray control bytes are common: the
/// donation importer makes every control character a space (and trims), so a
/// NUL never reaches the ledger and the row is not lost. A household roster
/// is typed by officers: a NUL there is refused with its row and column.
#[test]
fn an_import_cell_with_a_nul_is_removed_or_refused() {
    let portal = TestPortal::new();
    portal
        .append(r#"{"kind":"fund","id":"f","name":"Quỹ","description":""}"#)
        .assert()
        .success();
    let statement = portal.dir.path().join("sao-ke.csv");
    std::fs::write(
        &statement,
        "date,ref,amount,donor\n12/09/2025,FT1,100000,An\0<script>\u{1b}\n",
    )
    .unwrap();
    portal
        .run(&[
            "import",
            "donations",
            statement.to_str().unwrap(),
            "--fund",
            "f",
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(contains("1 row added"));
    let ledger = std::fs::read_to_string(portal.segment()).unwrap();
    assert!(
        ledger.contains(r#""donor":"An <script>""#),
        "{}",
        ledger.lines().last().unwrap()
    );
    assert!(!ledger.contains("\\u0000") && !ledger.contains('\0'));
    // A roster cell with a NUL is refused with its row and column instead.
    let before = portal.snapshot();
    let roster = portal.dir.path().join("danh-sach.csv");
    std::fs::write(
        &roster,
        "id,head,province,commune,circumstances,support,planned,citizen_id\nqt-9,L\0ê,Quảng Trị,xã A,x,repair,30000000,045190008888\n",
    )
    .unwrap();
    portal
        .run(&[
            "import",
            "households",
            roster.to_str().unwrap(),
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(contains(
            "row 2, column `head`: contains the control character U+0000",
        ));
    assert_eq!(portal.snapshot(), before);
}

#[test]
fn a_content_file_name_that_is_markup_is_refused() {
    let portal = TestPortal::new();
    let root = portal.root();
    std::fs::write(
        root.join("content/a\"><script>alert(1)<.md"),
        "+++\ntitle = \"x\"\n+++\n",
    )
    .unwrap();
    portal
        .run(&[
            "build",
            "-o",
            portal.dir.path().join("out").to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(contains("must be plain slugs"));
}

// ---------------------------------------------------------------------------
// Paths and symbolic links: nothing outside the folder a file was found in is
// read or published; names cannot climb out of the theme or `ledger/media/`.
// ---------------------------------------------------------------------------

/// `minhbach build -o <dir>/out` in the portal; the output must not exist
/// after a refused build.
fn build_refused(portal: &TestPortal, messages: &[&str]) {
    let out = portal.dir.path().join("out");
    let mut assert = portal
        .run(&["build", "-o", out.to_str().unwrap()])
        .assert()
        .code(1);
    for message in messages {
        assert = assert.stderr(contains(*message));
    }
    assert!(!out.exists(), "a refused build wrote `{}`", out.display());
}

#[cfg(unix)]
#[test]
fn links_out_of_the_portal_are_refused() {
    let portal = TestPortal::new();
    let root = portal.root();
    let outside = portal.dir.path().join("outside.txt");
    std::fs::write(&outside, "+++\ntitle = \"x\"\n+++\nprivate\n").unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::create_dir_all(root.join("i18n")).unwrap();
    for link in [
        "content/x.md",
        "static/x.txt",
        "templates/page.html",
        "i18n/vi.toml",
    ] {
        std::os::unix::fs::symlink(&outside, root.join(link)).unwrap();
        build_refused(&portal, &[link, "outside", "outside.txt"]);
        std::fs::remove_file(root.join(link)).unwrap();
    }
    // A linked folder is followed, and refused the same way.
    std::os::unix::fs::symlink(portal.dir.path().join("keys"), root.join("static/keys")).unwrap();
    build_refused(&portal, &["static/keys", "outside"]);
}

/// Regression (issue 7): a link inside the portal but outside `static/`
/// published the portal secret (and could publish `config.toml` or a key
/// kept in `.minhbach/`), because only links leaving the portal were refused.
#[cfg(unix)]
#[test]
fn a_static_link_to_the_portal_secret_is_refused() {
    let portal = TestPortal::new();
    let root = portal.root();
    let secret = std::fs::read_to_string(root.join(".minhbach/secret")).unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    for (link, target) in [
        ("static/secret.txt", "../.minhbach/secret"),
        ("static/config.txt", "../config.toml"),
        ("templates/404.html", "../.minhbach/secret"),
    ] {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
        build_refused(&portal, &[link, "outside"]);
        std::fs::remove_file(root.join(link)).unwrap();
    }
    // Without the links the site builds, and holds no copy of the secret.
    let out = portal.dir.path().join("out");
    portal
        .run(&["build", "-o", out.to_str().unwrap()])
        .assert()
        .success();
    for (path, bytes) in common::snapshot(&out) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret.trim()),
            "`{}` holds the portal secret",
            path.display()
        );
    }
}

/// A private key or a copy of the portal secret dropped into `static/` (or
/// a theme's), or a secret configured there, is never published: the build
/// stops naming the file and writes nothing.
#[test]
fn a_private_key_or_the_secret_in_static_is_not_published() {
    let portal = TestPortal::new();
    let root = portal.root();
    let secret = std::fs::read_to_string(root.join(".minhbach/secret")).unwrap();
    let key = std::fs::read_to_string(&portal.officer_key).unwrap();
    let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
    for (file, bytes, what) in [
        ("static/canbo.key", key.clone(), "a private key"),
        (
            "static/tai-lieu/id_ed25519",
            pem.to_string(),
            "a private key",
        ),
        (
            "themes/default/static/backup.txt",
            format!("backup\n{key}"),
            "a private key",
        ),
        ("static/secret.txt", secret.clone(), "the portal secret"),
        (
            "static/SECRET.TXT",
            secret.trim().to_uppercase(),
            "the portal secret",
        ),
    ] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        build_refused(&portal, &[file, what, "refusing to publish"]);
        std::fs::remove_file(&path).unwrap();
    }
    // The secret configured inside `static/` is refused by its path.
    std::fs::write(root.join("static/portal.secret"), &secret).unwrap();
    let config = std::fs::read_to_string(root.join("config.toml")).unwrap();
    std::fs::write(
        root.join("config.toml"),
        config.replace(
            "secret = \".minhbach/secret\"",
            "secret = \"static/portal.secret\"",
        ),
    )
    .unwrap();
    build_refused(&portal, &["static/portal.secret", "the portal secret"]);
}

#[test]
fn template_names_cannot_leave_the_theme() {
    let portal = TestPortal::new();
    let root = portal.root();
    for name in [
        "../../config.toml",
        "../.minhbach/secret",
        "/etc/passwd",
        "..%2fconfig.toml",
        "partials/../../../config.toml",
        "..\\\\config.toml",
    ] {
        std::fs::write(
            root.join("content/t.md"),
            format!("+++\ntitle = \"t\"\ntemplate = \"{name}\"\n+++\n"),
        )
        .unwrap();
        build_refused(&portal, &["/t/", "not found"]);
    }
    std::fs::remove_file(root.join("content/t.md")).unwrap();
    std::fs::create_dir_all(root.join("templates")).unwrap();
    std::fs::write(
        root.join("templates/page.html"),
        "{% include \"../../config.toml\" %}",
    )
    .unwrap();
    build_refused(&portal, &["../../config.toml"]);
}

#[test]
fn media_references_cannot_climb_out_of_ledger_media() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let before = portal.snapshot();
    let hash = "a".repeat(64);
    for media in [
        "../../config.toml".to_string(),
        "/etc/passwd".to_string(),
        format!("{hash}.jpg/../../../config.toml"),
        format!("../{hash}.jpg"),
        format!("{hash}%2e%2e%2fx.jpg"),
        format!("{hash}.svg"),
        format!("{hash}.html"),
    ] {
        portal
            .append(&format!(
                r#"{{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"started","photos":[{{"media":{}}}]}}"#,
                json(&media)
            ))
            .assert()
            .code(1)
            .stderr(contains("photos[0].media"))
            .stderr(contains("is not a media name"));
    }
    // A local file is sniffed: a text file, an SVG or HTML never becomes a
    // photo; and it must be inside the input's folder (here the working
    // folder: the input comes on standard input), reached through no link.
    std::fs::write(
        portal.root().join("anh.jpg"),
        "<svg onload=\"alert(1)\"></svg>",
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc", portal.root().join("etc")).unwrap();
    for (file, why) in [
        ("anh.jpg", "is not a JPEG, PNG, WebP, GIF or PDF file"),
        (
            "/etc/passwd",
            "must be a path relative to the input file's folder",
        ),
        ("../../../../../../etc/passwd", "without `..`"),
        ("etc/passwd", "is a symbolic link"),
    ] {
        portal
            .append(&format!(
                r#"{{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"started","photos":[{{"file":{}}}]}}"#,
                json(file)
            ))
            .assert()
            .code(1)
            .stderr(contains("photos[0].file"))
            .stderr(contains(why));
    }
    assert_eq!(portal.snapshot(), before, "nothing was appended");
}

#[cfg(unix)]
#[test]
fn a_media_file_replaced_by_a_link_is_refused() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let photo = portal.root().join("anh.png");
    std::fs::write(&photo, png()).unwrap();
    portal
        .append(
            r#"{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"started","photos":[{"file":"anh.png"}]}"#,
        )
        .assert()
        .success();
    let media = std::fs::read_dir(portal.ledger().join("media"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "png"))
        .unwrap();
    // Same bytes, so the hash still matches: only the link gives it away.
    std::fs::remove_file(&media).unwrap();
    std::os::unix::fs::symlink(&photo, &media).unwrap();
    build_refused(&portal, &["is a symbolic link", "ledger/media"]);
}

// ---- Security review (issue 15) ------------------------------------------

/// Copies a directory tree (a portal copied before a revocation).
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A forged 999.999.999 ₫ donation appended to `fork` with `key`, and its
/// receipt.
fn forged_receipt(fork: &Path, key: &Path, out: &Path) -> std::path::PathBuf {
    let forged = r#"{"kind":"donation","fund":"bao-so-5","donor":"Kẻ Giả Mạo","amount":999999999,"date":"2025-09-13","channel":"bank","ref":"FORGED1"}"#;
    common::minhbach()
        .current_dir(fork)
        .args(["append", "--key", key.to_str().unwrap(), "-"])
        .write_stdin(format!("{forged}\n"))
        .assert()
        .success();
    let output = common::minhbach()
        .current_dir(fork)
        .args(["prove", "8"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let receipt = out.join("forged.tlog-proof");
    std::fs::write(&receipt, output.stdout).unwrap();
    receipt
}

/// A receipt from a fork made with a copy taken before the officer's key
/// was revoked is refused, inside the portal and against the published
/// keys; a fork signed by a key still active is refused inside the portal,
/// because its checkpoint is not one of the ledger's trees.
#[test]
fn a_receipt_from_a_fork_signed_by_a_revoked_key_is_refused() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let fork = portal.dir.path().join("fork");
    copy_tree(&portal.root(), &fork);
    let fork2 = portal.dir.path().join("fork2");
    copy_tree(&portal.root(), &fork2);
    let admin = portal.admin_key.to_str().unwrap();
    portal
        .run(&["key", "revoke", "--key", admin, "canbo"])
        .assert()
        .success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let keys = site.join(log_file("keys"));
    let published = std::fs::read_to_string(&keys).unwrap();
    assert!(
        published.starts_with("origin test.minhbach.example/ledger\n"),
        "{published}"
    );
    assert!(published.contains(" revoked-from 9\n"), "{published}");
    // A site whose keys file hides the revocation does not verify.
    std::fs::write(&keys, published.replace(" revoked-from 9", "")).unwrap();
    common::minhbach()
        .current_dir(portal.dir.path())
        .args(["verify", "--site", site.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("does not match the ledger's key history"));
    std::fs::write(&keys, &published).unwrap();

    let receipt = forged_receipt(&fork, &portal.officer_key, portal.dir.path());
    let receipt = receipt.to_str().unwrap();
    portal
        .run(&["verify", "--proof", receipt])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("signed by `canbo`, revoked from tree size 9"));
    common::minhbach()
        .current_dir(portal.dir.path())
        .args([
            "verify",
            "--proof",
            receipt,
            "--keys",
            keys.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("revoked from tree size 9"));

    // The same forgery signed by the administrator, whose key the fork
    // also holds: the keys cannot tell, the portal's own ledger can.
    let receipt = forged_receipt(&fork2, &portal.admin_key, portal.dir.path());
    portal
        .run(&["verify", "--proof", receipt.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("its checkpoint is not this ledger's"));
    // With the published keys: inside the portal the ledger still decides;
    // outside it, nothing but the log can tell (RELIABILITY.md says so).
    portal
        .run(&[
            "verify",
            "--proof",
            receipt.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stderr(contains("its checkpoint is not this ledger's"));
    common::minhbach()
        .current_dir(portal.dir.path())
        .args([
            "verify",
            "--proof",
            receipt.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ])
        .assert()
        .success();

    // A receipt of another log under the same keys: the origin is checked.
    let other = published.replace(
        "origin test.minhbach.example/ledger",
        "origin other.example/ledger",
    );
    let other_keys = portal.dir.path().join("other-keys");
    std::fs::write(&other_keys, other).unwrap();
    let honest = portal.run(&["prove", "3"]).output().unwrap();
    let honest_receipt = portal.dir.path().join("honest.tlog-proof");
    std::fs::write(&honest_receipt, honest.stdout).unwrap();
    for (keys, ok) in [(&keys, true), (&other_keys, false)] {
        let mut run = common::minhbach();
        run.current_dir(portal.dir.path()).args([
            "verify",
            "--proof",
            honest_receipt.to_str().unwrap(),
            "--keys",
            keys.to_str().unwrap(),
        ]);
        if ok {
            run.assert().success();
        } else {
            run.assert().code(1).stderr(contains(
                "is of the log `test.minhbach.example/ledger`, not `other.example/ledger`",
            ));
        }
    }
}

/// A donation of 1.001 ₫ whose note a correction amended (so the index
/// marks it amended), in a built site; returns the site.
fn site_with_an_amended_donation(portal: &TestPortal) -> std::path::PathBuf {
    portal.append(common::SAMPLE).assert().success();
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Trần Thị Bé","amount":1001,"date":"2025-09-13","channel":"bank","ref":"FT25256001"}"#)
        .assert()
        .success();
    portal
        .append(r#"{"kind":"correction","target":8,"reason":"ghi chú sai","amend":{"note":"chuyển khoản lần 2"}}"#)
        .assert()
        .success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    site
}

/// `verify --site` rebuilds the lookup index from the proven entries: an
/// edited record (another donor and 50.000.000 ₫ for an entry of 1.001 ₫,
/// marked amended) fails, and prints no "ok" line.
#[test]
fn verify_site_refuses_a_lookup_record_the_log_does_not_give() {
    let portal = TestPortal::new();
    let site = site_with_an_amended_donation(&portal);
    let verify = || {
        let mut command = common::minhbach();
        command
            .current_dir(portal.dir.path())
            .args(["verify", "--site", site.to_str().unwrap()]);
        command
    };
    verify()
        .assert()
        .success()
        .stdout(contains("ok: the lookup index"));
    let shard_of = |n: usize| format!("{}/r/{n}", routes::LOOKUP_INDEX_DIR);
    let shard = site.join(shard_of(0));
    let records = std::fs::read_to_string(&shard).unwrap();
    let line = records
        .lines()
        .find(|line| line.starts_with("8\t"))
        .unwrap()
        .to_string();
    assert!(
        line.contains("\t1001\t") && line.contains("\ta\t"),
        "{line}"
    );
    let forged = line
        .replace("Trần Thị Bé", "Người Khác")
        .replace("\t1001\t", "\t50000000\t");
    std::fs::write(&shard, records.replace(&line, &forged)).unwrap();
    verify()
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(format!(
            "the lookup index's `{}` is not what the ledger's entries give",
            shard_of(0)
        )));
    // A record shard the log does not give, or one left out, fails too.
    std::fs::write(&shard, &records).unwrap();
    let extra = site.join(shard_of(7));
    std::fs::write(&extra, &forged).unwrap();
    verify()
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(format!(
            "holds `{}`, which the ledger's entries do not give",
            shard_of(7)
        )));
    std::fs::remove_file(&extra).unwrap();
    std::fs::remove_file(&shard).unwrap();
    verify()
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains(format!("lacks `{}`", shard_of(0))));
}

/// Every file under `dir` as text (lossy), with its path.
fn files_as_text(dir: &Path) -> Vec<(String, String)> {
    common::snapshot(dir)
        .into_iter()
        .map(|(path, bytes)| {
            (
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

/// Sets `[privacy] show_citizen_id_last4` in a portal's config.
fn show_citizen_id_last4(root: &Path, show: bool) {
    let path = root.join("config.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let (from, to) = if show {
        (
            "show_citizen_id_last4 = false",
            "show_citizen_id_last4 = true",
        )
    } else {
        (
            "show_citizen_id_last4 = true",
            "show_citizen_id_last4 = false",
        )
    };
    assert!(config.contains(from) || config.contains(to), "{config}");
    std::fs::write(&path, config.replace(from, to)).unwrap();
}

/// With `show_citizen_id_last4 = false`, no digit of a citizen ID is
/// published anywhere: not in the ledger (so not in the download nor the
/// public log's entry bundles), not on a page. With it on, the last four
/// are shown masked from the private side store beside the portal secret,
/// and still never enter the ledger; a correction giving a new ID updates
/// them, and digits written into a correction by hand are refused.
#[test]
fn citizen_id_digits_are_never_in_the_ledger_or_the_public_log() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let published = files_as_text(&site);
    assert!(
        published
            .iter()
            .any(|(path, _)| path == routes::DOWNLOAD_FILE)
    );
    for (path, text) in published.iter().chain(&files_as_text(&portal.ledger())) {
        assert!(
            !text.contains("citizen_id_last4")
                && !text.contains("\"1234\"")
                && !text.contains("*1234"),
            "`{path}` carries citizen-ID digits"
        );
    }
    assert!(
        !portal
            .root()
            .join(".minhbach/citizen-id-last4.tsv")
            .exists()
    );

    // A portal that shows the last four keeps them beside its secret.
    show_citizen_id_last4(&portal.root(), true);
    portal
        .append(r#"{"kind":"household","id":"qt-0002","head":"Võ Văn Bình","province":"Quảng Trị","commune":"xã Vĩnh Linh","circumstances":"Nhà dột","support":"repair","planned":30000000,"citizen_id":"045190005678"}"#)
        .assert()
        .success();
    let store = portal.root().join(".minhbach/citizen-id-last4.tsv");
    assert_eq!(std::fs::read_to_string(&store).unwrap(), "8\t5678\n");
    portal
        .append(r#"{"kind":"correction","target":8,"reason":"nhập sai số CCCD","amend":{"citizen_id":"045190009012"}}"#)
        .assert()
        .success();
    portal
        .append(
            r#"{"kind":"correction","target":8,"reason":"x","amend":{"citizen_id_last4":"4321"}}"#,
        )
        .assert()
        .code(1)
        .stderr(contains("amend.citizen_id_last4"));
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let page =
        std::fs::read_to_string(site.join(page_file(&routes::household("qt-0002")))).unwrap();
    assert!(
        page.contains("********9012") && !page.contains("5678"),
        "{page}"
    );
    for (path, text) in files_as_text(&portal.ledger()) {
        assert!(
            !text.contains("\"9012\"") && !text.contains("\"5678\""),
            "`{path}` carries citizen-ID digits"
        );
    }
    // The site with the digits shown still verifies as published.
    common::minhbach()
        .current_dir(portal.dir.path())
        .args(["verify", "--site", site.to_str().unwrap()])
        .assert()
        .success();
}

/// `verify` prints its "ok" lines only once every check has passed: a
/// ledger or a site that does not extend the given older checkpoint (a
/// re-created or forked log) prints none. Without --since, `verify --site`
/// says that it cannot tell a re-created log from the one seen before.
#[test]
fn a_failing_verification_prints_no_ok_line() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let fork = portal.dir.path().join("fork");
    copy_tree(&portal.root(), &fork);
    let donation = r#"{"kind":"donation","fund":"bao-so-5","donor":"A","amount":1000,"date":"2025-09-13","channel":"cash"}"#;
    portal.append(donation).assert().success();
    common::minhbach()
        .current_dir(&fork)
        .args(["append", "--key", portal.officer_key.to_str().unwrap(), "-"])
        .write_stdin(donation.replace("\"A\"", "\"B\""))
        .assert()
        .success();
    let forked = fork.join("ledger/checkpoint");
    let forked = forked.to_str().unwrap();
    portal
        .run(&["verify", "--since", forked])
        .assert()
        .code(1)
        .stdout("");
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success();
    let site = site.to_str().unwrap();
    portal
        .run(&["verify", "--site", site, "--since", forked])
        .assert()
        .code(1)
        .stdout("");
    portal
        .run(&["verify", "--site", site])
        .assert()
        .success()
        .stdout(contains("ok: the site's log holds 9 entries").and(contains(
            "note: this does not show that the site serves the log you saw before",
        )));
}

/// A ledger written before the digits left the ledger line stays valid: its
/// household entry with `citizen_id_last4` verifies, locally and as
/// published, and `build` warns that the published ledger keeps those
/// digits whatever `show_citizen_id_last4` says.
#[test]
fn an_old_entry_with_citizen_id_digits_verifies_and_the_build_warns() {
    use minhbach::ledger::Pending;
    use minhbach::ledger::entry::Body;
    use minhbach::ledger::note::SigningKey;
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    // The entry as an earlier minhbach wrote it, through the library.
    let old = format!(
        r#"{{"kind":"household","id":"qt-0003","head":"Hồ Văn Cũ","province":"Quảng Trị","commune":"xã Vĩnh Linh","circumstances":"","support":"new","planned":60000000,"photo_consent":false,"citizen_id_hmac":"{}","citizen_id_last4":"4321"}}"#,
        "ab".repeat(32)
    );
    let body: Body = serde_json::from_str(&old).unwrap();
    let key = SigningKey::parse(&std::fs::read_to_string(&portal.officer_key).unwrap()).unwrap();
    let opened = minhbach::portal::Portal::open(&portal.root()).unwrap();
    opened
        .ledger()
        .append(
            vec![Pending {
                body,
                media: Vec::new(),
                citizen_id_last4: None,
            }],
            &key,
            common::TIME,
        )
        .unwrap();
    assert!(
        std::fs::read_to_string(portal.segment())
            .unwrap()
            .contains(r#""citizen_id_last4":"4321""#)
    );
    portal.run(&["verify"]).assert().success();
    let site = portal.dir.path().join("site");
    portal
        .run(&["build", "-o", site.to_str().unwrap()])
        .assert()
        .success()
        .stderr(contains(
            "warning: 1 entry line(s) written by an earlier minhbach carry the last four digits",
        ));
    let page =
        std::fs::read_to_string(site.join(page_file(&routes::household("qt-0003")))).unwrap();
    assert!(
        !page.contains("4321"),
        "the page shows digits the config hides"
    );
    common::minhbach()
        .current_dir(portal.dir.path())
        .args(["verify", "--site", site.to_str().unwrap()])
        .assert()
        .success();
}

/// A file that only starts like a photo, or a photo too large to decode in
/// bounded memory, used to be stored by `append` and then stop every build
/// until a correction voided it. `append` now decodes it as the build does.
#[test]
fn a_photo_the_build_cannot_decode_is_refused_at_append() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let before = portal.snapshot();
    let mut fake = b"\xFF\xD8\xFF\xE0\x00\x10JFIF".to_vec();
    fake.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    std::fs::write(portal.root().join("gia.jpg"), fake).unwrap();
    // 7,200 × 7,000 black pixels: 50.4 megapixels in a PNG of a few dozen KB.
    let mut huge = std::io::Cursor::new(Vec::new());
    image::GrayImage::new(7_200, 7_000)
        .write_to(&mut huge, image::ImageFormat::Png)
        .unwrap();
    std::fs::write(portal.root().join("lon.png"), huge.into_inner()).unwrap();
    let progress = |file: &str| {
        format!(
            r#"{{"kind":"progress","household":"qt-0001","date":"2025-09-15","stage":"started","photos":[{{"file":{}}}]}}"#,
            json(file)
        )
    };
    for (file, why) in [
        ("gia.jpg", "cannot decode the image"),
        (
            "lon.png",
            "7200 × 7000 pixels, over the limit of 50000000 pixels",
        ),
    ] {
        portal
            .append(&progress(file))
            .assert()
            .code(1)
            .stderr(contains("photos[0].file"))
            .stderr(contains(format!("{file}` cannot be published")))
            .stderr(contains(why));
    }
    assert_eq!(portal.snapshot(), before, "nothing was appended");
    // A real photo and a PDF (published as it is, never decoded) still are.
    std::fs::write(portal.root().join("anh.png"), png()).unwrap();
    std::fs::write(
        portal.root().join("quyet-dinh.pdf"),
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    )
    .unwrap();
    portal
        .append(&format!(
            "{}\n{}",
            progress("anh.png"),
            progress("quyet-dinh.pdf").replace("started", "completed")
        ))
        .assert()
        .success();
    portal.run(&["build"]).assert().success();
}

/// One amount past 10^15 đồng is refused in every field that holds one,
/// amendments included; 10^15 itself is taken.
#[test]
fn an_amount_past_the_bound_is_refused_in_every_amount_field() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let before = portal.snapshot();
    let over = "1000000000000001";
    for (line, field) in [
        (
            format!(
                r#"{{"kind":"donation","fund":"bao-so-5","donor":"A","amount":{over},"date":"2025-09-12","channel":"cash"}}"#
            ),
            "amount",
        ),
        (
            format!(
                r#"{{"kind":"disbursement","fund":"bao-so-5","amount":{over},"date":"2025-09-13","payee":"UBND xã","purpose":"x"}}"#
            ),
            "amount",
        ),
        (
            format!(
                r#"{{"kind":"fund","id":"quy-2","name":"Quỹ 2","description":"","target":{over}}}"#
            ),
            "target",
        ),
        (
            format!(
                r#"{{"kind":"household","id":"qt-0002","head":"B","province":"Quảng Trị","commune":"xã Cồn Tiên","circumstances":"","support":"new","planned":{over},"citizen_id":"045190009999"}}"#
            ),
            "planned",
        ),
        (
            format!(
                r#"{{"kind":"correction","target":3,"reason":"x","amend":{{"amount":{over}}}}}"#
            ),
            "amend.amount",
        ),
    ] {
        portal
            .append(&line)
            .assert()
            .code(1)
            .stderr(contains(format!(
                "field `{field}`: is {over} đồng, over the limit of 1000000000000000 đồng"
            )));
    }
    assert_eq!(portal.snapshot(), before, "nothing was appended");
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"A","amount":1000000000000000,"date":"2025-09-12","channel":"cash"}"#)
        .assert()
        .success();
}

/// Each fund's total fitting in `u64` was not enough: totals over all funds
/// that overflow broke every build and `minhbach balance`. The entry that
/// would make a ledger-wide total overflow is now refused at append.
#[test]
fn totals_that_would_overflow_across_funds_are_refused_at_append() {
    let portal = TestPortal::new();
    let max = 1_000_000_000_000_000u64;
    // 18,446 donations of 10^15 in two funds: 1.8446 × 10^19 đồng in all,
    // just under u64::MAX (1.8446744 × 10^19); each fund holds half.
    let mut batch = String::from(
        "{\"kind\":\"fund\",\"id\":\"quy-a\",\"name\":\"Quỹ A\",\"description\":\"\"}\n\
         {\"kind\":\"fund\",\"id\":\"quy-b\",\"name\":\"Quỹ B\",\"description\":\"\"}\n",
    );
    for i in 0..18_446 {
        let fund = if i % 2 == 0 { "quy-a" } else { "quy-b" };
        batch.push_str(&format!(
            r#"{{"kind":"donation","fund":"{fund}","donor":"","amount":{max},"date":"2025-09-12","channel":"cash"}}"#
        ));
        batch.push('\n');
    }
    portal.append(&batch).assert().success();
    let before = portal.snapshot();
    portal
        .append(&format!(
            r#"{{"kind":"donation","fund":"quy-b","donor":"","amount":{max},"date":"2025-09-13","channel":"cash"}}"#
        ))
        .assert()
        .code(1)
        .stderr(contains(
            "field `amount`: the ledger would have received 18446000000000000000 + 1000000000000000 đồng over all funds, more than the 18446744073709551615 đồng its totals can hold",
        ));
    assert_eq!(portal.snapshot(), before, "nothing was appended");
    portal
        .run(&["balance"])
        .assert()
        .success()
        .stdout(contains("18.446.000.000.000.000.000"));
}
