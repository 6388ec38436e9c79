//! The default theme's quality budgets, checked on the demo portal
//! built through the binary: pages work without JavaScript, the home page
//! stays within 50 KB of HTML and CSS, nothing is requested from another
//! site, pages carry the basics of accessible HTML, photos are published only
//! as stripped copies, and each fund's VietQR code decodes to its account.
//! (The rendered pages in a browser, with axe-core, are `browser_a11y.rs`.)

use crate::common;

use common::{minhbach, page_file, page_in};
use minhbach::site::routes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The demo portal built into a temporary directory: output path → bytes.
struct Built {
    _dir: tempfile::TempDir,
    site: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
}

fn build(base_url: Option<&str>) -> Built {
    let dir = tempfile::tempdir().expect("temp dir");
    let site = dir.path().join("site");
    let mut command = minhbach();
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-o"])
        .arg(&site);
    if let Some(base_url) = base_url {
        command.args(["--base-url", base_url]);
    }
    command.assert().success();
    let files = read_tree(&site);
    Built {
        _dir: dir,
        site,
        files,
    }
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let relative = e
                .path()
                .strip_prefix(root)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read(e.path()).expect("read"))
        })
        .collect()
}

fn html_pages(built: &Built) -> impl Iterator<Item = (&String, String)> {
    built
        .files
        .iter()
        .filter(|(path, _)| path.ends_with(".html"))
        .map(|(path, bytes)| (path, String::from_utf8_lossy(bytes).into_owned()))
}

/// Every value of the attribute `name` (`src`, `href`, `srcset`) in `html`.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let mut values = Vec::new();
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        let mut rest = html;
        while let Some(index) = rest.find(&needle) {
            rest = &rest[index + needle.len()..];
            if let Some(end) = rest.find(quote) {
                values.push(&rest[..end]);
            }
        }
    }
    values
}

fn ledger_entries() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ledger/entries");
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("entries")
        .map(|e| e.expect("entry").path())
        .collect();
    segments.sort();
    segments
        .iter()
        .flat_map(|s| {
            std::fs::read_to_string(s)
                .expect("segment")
                .lines()
                .map(|line| serde_json::from_str::<Value>(line).expect("entry"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn home_page_html_and_css_fit_in_50_kb() {
    let built = build(None);
    let css = built.files["style.css"].len();
    for home in [
        page_file(routes::HOME),
        page_file(&page_in("en", routes::HOME)),
    ] {
        let html = built.files[&home].len();
        assert!(
            html + css <= 50 * 1024,
            "{home}: {html} B of HTML + {css} B of CSS is over 50 KB"
        );
        // Every stylesheet the page links is counted.
        let page = String::from_utf8_lossy(&built.files[&home]).into_owned();
        let stylesheets = page.matches("rel=\"stylesheet\"").count();
        assert_eq!(stylesheets, 1, "{home} links {stylesheets} stylesheets");
    }
}

#[test]
fn no_request_leaves_the_site_and_pages_need_no_javascript() {
    let base = "https://example.github.io/minhbach/";
    let built = build(Some(base));
    let mut problems = Vec::new();
    for (path, html) in html_pages(&built) {
        for name in ["src", "href", "srcset", "action", "poster", "data"] {
            for value in attribute_values(&html, name) {
                let lower = value.to_ascii_lowercase();
                let external = lower.starts_with("http:")
                    || lower.starts_with("https:")
                    || lower.starts_with("//")
                    || lower.contains(" http");
                if external && !value.starts_with(base) {
                    problems.push(format!("{path}: {name}=\"{value}\" leaves the site"));
                }
            }
        }
        if html.contains("@import") || html.contains("url(http") {
            problems.push(format!("{path}: inline styles load something"));
        }
        // Browsing works without JavaScript: only the lookup page has a
        // script, and it has a no-script fallback.
        let lookup = path.contains(routes::file_of(routes::LOOKUP_VI))
            || path.contains(routes::file_of(routes::LOOKUP_OTHER));
        if html.contains("<script") && !(lookup && html.contains("<noscript>")) {
            problems.push(format!("{path}: has a script"));
        }
    }
    let css = String::from_utf8_lossy(&built.files["style.css"]).into_owned();
    assert!(
        !css.contains("url(") && !css.contains("@import") && !css.contains("@font-face"),
        "style.css loads fonts or images"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn pages_have_the_basics_of_accessible_html() {
    let built = build(None);
    let mut problems = Vec::new();
    for (path, html) in html_pages(&built) {
        let lang = if path.starts_with("en/") { "en" } else { "vi" };
        if !html.contains(&format!("<html lang=\"{lang}\">")) {
            problems.push(format!("{path}: no lang=\"{lang}\""));
        }
        for (landmark, count) in [("<main", 1), ("<h1", 1), ("<header", 1), ("<footer", 1)] {
            let found = html.matches(landmark).count();
            if found != count {
                problems.push(format!("{path}: {found} × {landmark}>"));
            }
        }
        if !html.contains("name=\"viewport\"") {
            problems.push(format!("{path}: no viewport"));
        }
        for image in html.split("<img").skip(1) {
            let tag = &image[..image.find('>').unwrap_or(image.len())];
            for attribute in [" alt=\"", " width=\"", " height=\""] {
                if !tag.contains(attribute) {
                    problems.push(format!("{path}: <img{tag}> lacks{attribute}"));
                }
            }
            if tag.contains(" alt=\"\"") {
                problems.push(format!("{path}: <img{tag}> has an empty alt"));
            }
        }
        // Headings do not skip levels (h2 → h4).
        let mut level = 1;
        for part in html.split("<h").skip(1) {
            if let Some(next) = part.chars().next().and_then(|c| c.to_digit(10)) {
                if next > level + 1 {
                    problems.push(format!("{path}: <h{next}> after <h{level}>"));
                }
                level = next;
            }
        }
    }
    problems.truncate(30);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn photos_are_published_only_as_stripped_copies() {
    let built = build(None);
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("ledger/media");
    let originals: Vec<(String, Vec<u8>)> = std::fs::read_dir(&media)
        .expect("the demo has photos")
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("read");
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    assert!(!originals.is_empty(), "the demo ledger has no photos");
    // The demo originals carry GPS, like phone photos.
    let with_gps = originals
        .iter()
        .filter(|(_, bytes)| {
            exif::Reader::new()
                .read_from_container(&mut std::io::Cursor::new(bytes))
                .is_ok_and(|exif| {
                    exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
                        .is_some()
                })
        })
        .count();
    assert!(with_gps > 0, "no demo original has GPS in its EXIF");

    let mut published = 0;
    for (path, bytes) in &built.files {
        // No original is published, under its name or any other.
        assert!(
            !originals.iter().any(|(_, original)| original == bytes),
            "`{path}` is an original from ledger/media/"
        );
        if !path.starts_with(routes::file_of(&routes::media(""))) {
            continue;
        }
        if path.ends_with(".jpg") {
            published += 1;
            assert!(
                exif::Reader::new()
                    .read_from_container(&mut std::io::Cursor::new(bytes))
                    .is_err(),
                "`{path}` has EXIF"
            );
            assert!(
                !bytes.windows(4).any(|w| w == b"Exif"),
                "`{path}` has an EXIF block"
            );
        }
        if path.ends_with(".webp") {
            assert!(
                !bytes.windows(4).any(|w| w == b"EXIF" || w == b"XMP "),
                "`{path}` has metadata"
            );
        }
    }
    assert!(published >= originals.len() * 3, "{published} copies");

    // A household page shows thumbnails as <picture> (WebP, JPEG) linking
    // the stripped full size, lazily, with their sizes.
    let page = built
        .files
        .iter()
        .filter(|(path, _)| path.starts_with(routes::file_of(routes::HOUSEHOLDS)))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .find(|html| html.contains("<picture>"))
        .expect("a household page with photos");
    assert!(page.contains(&format!(
        "<source type=\"image/webp\" srcset=\"{}",
        routes::media("")
    )));
    assert!(page.contains("/full.jpg\"><picture>"));
    assert!(page.contains("loading=\"lazy\""));
    for name in originals.iter().map(|(name, _)| name) {
        assert!(!page.contains(&routes::media(name)));
    }
}

#[test]
fn photo_copies_are_reused_and_rebuilt_identically() {
    let built = build(None);
    let stamp = built
        .files
        .keys()
        .find(|path| {
            path.starts_with(routes::file_of(&routes::media(""))) && path.ends_with("/stamp")
        })
        .expect("a photo folder")
        .clone();
    let folder = stamp.trim_end_matches("stamp").to_string();
    // Without its stamp the folder is derived again, to the same bytes.
    std::fs::remove_file(built.site.join(&stamp)).expect("remove stamp");
    minhbach()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-o"])
        .arg(&built.site)
        .assert()
        .success();
    let rebuilt = read_tree(&built.site);
    for (path, bytes) in built.files.iter().filter(|(p, _)| p.starts_with(&folder)) {
        assert_eq!(rebuilt.get(path), Some(bytes), "`{path}` changed");
    }
}

/// Reads a QR code SVG (`M{x} {y}h{run}v1h-{run}z` rectangles) back the way
/// a scanner sees it.
fn decode_qr_svg(svg: &str) -> String {
    let number = |text: &str, key: &str| -> usize {
        let start = text.find(key).expect(key) + key.len();
        let end = start + text[start..].find(['"', ' ']).expect("end");
        text[start..end].parse().expect("a number")
    };
    let side = number(svg, "viewBox=\"0 0 ");
    let d_start = svg.find(" d=\"").expect("a path") + 4;
    let d = &svg[d_start..d_start + svg[d_start..].find('"').expect("end")];
    let mut dark = vec![false; side * side];
    for rect in d.split('z').filter(|r| !r.is_empty()) {
        let rest = rect.strip_prefix('M').expect("M");
        let (x, rest) = rest.split_once(' ').expect("x");
        let (y, rest) = rest.split_once('h').expect("y");
        let (run, _) = rest.split_once('v').expect("run");
        let (x, y, run): (usize, usize, usize) = (
            x.parse().expect("x"),
            y.parse().expect("y"),
            run.parse().expect("run"),
        );
        for cell in &mut dark[y * side + x..y * side + x + run] {
            *cell = true;
        }
    }
    let scale = 3;
    let pixels = side * scale;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(pixels, pixels, |x, y| {
        if dark[(y / scale) * side + x / scale] {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().expect("decodes").1
}

#[test]
fn each_fund_with_an_account_shows_a_vietqr_code_that_decodes_to_it() {
    let built = build(None);
    let home = String::from_utf8_lossy(&built.files[&page_file(routes::HOME)]).into_owned();
    let mut funds = 0;
    for fund in ledger_entries().iter().filter(|e| e["kind"] == "fund") {
        let id = fund["id"].as_str().expect("id");
        let svg_path = format!("{}vietqr.svg", routes::file_of(&routes::fund(id)));
        let Some(account) = fund.get("account") else {
            assert!(!built.files.contains_key(&svg_path));
            continue;
        };
        funds += 1;
        let svg = String::from_utf8_lossy(&built.files[&svg_path]).into_owned();
        let payload = decode_qr_svg(&svg);
        let qr = minhbach::vietqr::VietQr::from_payload(&payload).expect("a VietQR payload");
        assert_eq!(qr.bank_bin, account["bank_bin"].as_str().unwrap());
        assert_eq!(qr.account, account["number"].as_str().unwrap());
        let note = minhbach::site::model::transfer_note(id);
        assert!(note.len() <= 25 && note.starts_with("UNG HO "), "{note}");
        assert_eq!(qr.note.as_deref(), Some(note.as_str()));
        assert!(payload.contains("0010A000000727"), "{payload}");
        // The page shows the code beside the account number and note in text.
        for page in [
            home.as_str(),
            &String::from_utf8_lossy(&built.files[&page_file(&routes::fund(id))]),
        ] {
            assert!(page.contains(&format!("src=\"/{svg_path}\"")));
            assert!(page.contains(account["number"].as_str().unwrap()));
            assert!(page.contains(&note));
        }
    }
    assert!(funds >= 2, "{funds} funds with an account");
}

#[test]
fn latest_entries_link_donations_to_their_stable_anchor() {
    let built = build(None);
    let home = String::from_utf8_lossy(&built.files[&page_file(routes::HOME)]).into_owned();
    let start = home.find("<ol class=\"latest\">").expect("latest entries");
    let latest = &home[start..start + home[start..].find("</ol>").expect("end")];
    let listings = routes::TemplateRoutes::new("vi");
    let mut checked = 0;
    for href in attribute_values(latest, "href") {
        let Some((page, anchor)) = href.split_once('#') else {
            continue;
        };
        assert!(
            page.starts_with(&listings.donation_pages)
                || page.starts_with(&listings.disbursement_pages)
        );
        let file = page_file(page);
        let target = String::from_utf8_lossy(&built.files[&file]).into_owned();
        assert!(target.contains(&format!("id=\"{anchor}\"")), "{href}");
        checked += 1;
    }
    assert!(checked > 0, "no donation among the latest entries");
    // An anonymous gift is shown as such, never as an empty name.
    assert!(!latest.contains("\"> → "));
    let newest = String::from_utf8_lossy(&built.files[&page_file(routes::DONATIONS)]).into_owned();
    assert!(newest.contains("Nhà hảo tâm ẩn danh"));
}
