//! The peer of `bench/run.sh`: the same pages as a Hugo site, from the same data.
//!
//! ```text
//! cargo run --release --example bench_peer -- PORTAL_PUBLIC OUT_DIR [--en]
//! ```
//!
//! reads the open data a minhbach build wrote (`PORTAL_PUBLIC/du-lieu/*.csv`:
//! the same households, donations, disbursements and stage changes the
//! portal's pages show) and writes a Hugo project to `OUT_DIR` that renders
//! the same pages at the same paths with the same rows: the home page, the
//! donation and disbursement listings (the newest 100 on the section page,
//! then fixed pages of 100 in ledger order, plus the open page after the
//! last full one), a page per household, per province and per commune, a
//! page per day of stage changes, the fund page, four text pages and the 404
//! page. Every row is a value in a page's JSON front matter and the templates
//! format the amounts and dates, as minhbach's templates do. With `--en` each
//! page is written in English too (Hugo's multilingual mode, `/en/…`).
//! Prints the number of HTML pages Hugo should write: with `--en`, one more
//! than minhbach, as Hugo writes a 404 page per language.

use minhbach::site::model::slugify;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

/// Rows per listing page, as the portal's listings.
const PER_PAGE: usize = 100;

type Rows = Vec<BTreeMap<String, String>>;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [public, out, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_peer PORTAL_PUBLIC OUT_DIR [--en]".into());
    };
    let english = rest.iter().any(|arg| arg == "--en");
    let data = Path::new(public).join("du-lieu");
    let households = read_table(&data, "household")?;
    let donations = read_table(&data, "donation")?;
    let disbursements = read_table(&data, "disbursement")?;
    let progress = read_table(&data, "progress")?;
    let funds = read_table(&data, "fund")?;

    let out = PathBuf::from(out);
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    let site = Site {
        out: out.join("content"),
        english,
    };
    write_project(&out, english)?;

    let fund_name = funds
        .first()
        .map(|fund| fund["name"].clone())
        .unwrap_or_default();
    let head_of: BTreeMap<&str, &str> = households
        .iter()
        .map(|h| (h["id"].as_str(), h["head"].as_str()))
        .collect();
    let donation_rows: Vec<Value> = donations.iter().map(donation_row).collect();
    let disbursement_rows: Vec<Value> = disbursements
        .iter()
        .map(|d| disbursement_row(d, head_of.get(d["household"].as_str()).copied()))
        .collect();
    let mut pages = 0;

    // Home: the totals and the newest donations.
    let total: u64 = donations
        .iter()
        .map(|d| d["amount"].parse::<u64>().unwrap_or(0))
        .sum();
    let spent: u64 = disbursements
        .iter()
        .map(|d| d["amount"].parse::<u64>().unwrap_or(0))
        .sum();
    let newest: Vec<&Value> = donation_rows.iter().rev().take(PER_PAGE).collect();
    pages += site.page(
        "_index",
        json!({"title": "home", "label": "home", "fund": fund_name, "total": total, "spent": spent,
            "donations": donations.len(), "households": households.len(), "rows": newest}),
    )?;

    pages += listing(&site, "ung-ho", "donations", &donation_rows, &fund_name)?;
    pages += listing(
        &site,
        "chi",
        "disbursements",
        &disbursement_rows,
        &fund_name,
    )?;

    // The fund: donations by day, money spent by commune, the newest of each.
    let mut by_day: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &donations {
        *by_day.entry(d["date"].as_str()).or_default() += d["amount"].parse::<u64>().unwrap_or(0);
    }
    let household_of: BTreeMap<&str, &BTreeMap<String, String>> =
        households.iter().map(|h| (h["id"].as_str(), h)).collect();
    let mut by_commune: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for d in &disbursements {
        let Some(h) = household_of.get(d["household"].as_str()) else {
            continue;
        };
        *by_commune
            .entry((h["province"].as_str(), h["commune"].as_str()))
            .or_default() += d["amount"].parse::<u64>().unwrap_or(0);
    }
    let days: Vec<Value> = by_day
        .iter()
        .map(|(day, sum)| json!({"date": day, "amount": sum}))
        .collect();
    let communes: Vec<Value> = by_commune
        .iter()
        .map(|((province, commune), sum)| json!({"name": commune, "province": province, "amount": sum}))
        .collect();
    pages += site.page(
        "quy-cuu-tro",
        json!({"title": fund_name, "url": "/quy/cuu-tro/", "layout": "fund", "fund": fund_name,
            "total": total, "spent": spent, "days": days, "communes": communes, "donations": newest,
            "rows": disbursement_rows.iter().rev().take(PER_PAGE).collect::<Vec<_>>()}),
    )?;

    pages += places(&site, &households, &progress)?;
    pages += households_pages(
        &site,
        &households,
        &progress,
        &disbursement_rows,
        &fund_name,
    )?;
    pages += reports(&site, &households, &progress)?;

    for (name, title) in [
        ("xac-minh", "verify"),
        ("tra-cuu", "lookup"),
        ("du-lieu", "open_data"),
        ("gioi-thieu", "about"),
    ] {
        pages += site.page(
            name,
            json!({"title": title, "label": title, "layout": "text"}),
        )?;
    }
    // 404.html, from layouts/404.html: Hugo writes one per language, where
    // minhbach writes one for the site (its server answers every path with it).
    pages += if english {
        eprintln!("bench_peer: Hugo writes /en/404.html too; minhbach has one 404 page");
        2
    } else {
        1
    };
    println!("{pages}");
    Ok(())
}

/// Where the content files go, and in which languages.
struct Site {
    out: PathBuf,
    english: bool,
}

impl Site {
    /// Writes `content/<path>.md` (and `<path>.en.md`) with `front` as its
    /// front matter; returns the number of HTML pages it makes.
    fn page(&self, path: &str, front: Value) -> Result<usize, Box<dyn Error>> {
        let file = self.out.join(format!("{path}.md"));
        fs::create_dir_all(file.parent().ok_or("no parent")?)?;
        let text = serde_json::to_string(&front)?;
        fs::write(&file, format!("{text}\n"))?;
        if !self.english {
            return Ok(1);
        }
        fs::write(self.out.join(format!("{path}.en.md")), format!("{text}\n"))?;
        Ok(2)
    }
}

/// A section page with the newest rows, then fixed pages in ledger order.
fn listing(
    site: &Site,
    section: &str,
    layout: &str,
    rows: &[Value],
    fund_name: &str,
) -> Result<usize, Box<dyn Error>> {
    let newest: Vec<&Value> = rows.iter().rev().take(PER_PAGE).collect();
    let mut pages = site.page(
        &format!("{section}/_index"),
        json!({"title": layout, "label": layout, "layout": layout, "fund": fund_name, "rows": newest}),
    )?;
    // The page after the last full one is always there: new entries land on it.
    let count = rows.len() / PER_PAGE + 1;
    for number in 1..=count {
        let start = (number - 1) * PER_PAGE;
        let page_rows: Vec<&Value> = rows[start..rows.len().min(start + PER_PAGE)]
            .iter()
            .rev()
            .collect();
        pages += site.page(
            &format!("{section}/trang/{number}"),
            json!({"title": layout, "label": layout, "layout": layout, "fund": fund_name, "page": number,
                "last": count, "section": section, "rows": page_rows}),
        )?;
    }
    Ok(pages)
}

/// A page per province (its communes) and per commune (its households).
fn places(site: &Site, households: &Rows, progress: &Rows) -> Result<usize, Box<dyn Error>> {
    let stage = current_stages(progress);
    let mut provinces: BTreeMap<String, BTreeMap<String, Vec<Value>>> = BTreeMap::new();
    for h in households {
        let row = json!({"id": h["id"], "head": h["head"], "village": h["village"],
            "support": h["support"], "stage": stage.get(h["id"].as_str()).copied().unwrap_or("")});
        provinces
            .entry(h["province"].clone())
            .or_default()
            .entry(h["commune"].clone())
            .or_default()
            .push(row);
    }
    let mut pages = 0;
    for (province, communes) in &provinces {
        let province_slug = slugify(province);
        let rows: Vec<Value> = communes
            .iter()
            .map(|(name, list)| json!({"name": name, "slug": slugify(name), "count": list.len()}))
            .collect();
        pages += site.page(
            &format!("ho/dia-ban/{province_slug}"),
            json!({"title": province, "layout": "province", "slug": province_slug, "rows": rows}),
        )?;
        for (commune, list) in communes {
            pages += site.page(
                &format!("ho/dia-ban/{province_slug}/{}", slugify(commune)),
                json!({"title": commune, "layout": "commune", "province": province,
                    "province_slug": province_slug, "rows": list}),
            )?;
        }
    }
    let rows: Vec<Value> = provinces
        .iter()
        .map(|(name, communes)| {
            json!({"name": name, "slug": slugify(name),
                "count": communes.values().map(Vec::len).sum::<usize>()})
        })
        .collect();
    pages += site.page(
        "ho/_index",
        json!({"title": "households", "label": "households", "layout": "households", "rows": rows}),
    )?;
    Ok(pages)
}

/// A page per household: its facts, its stages and what it received.
fn households_pages(
    site: &Site,
    households: &Rows,
    progress: &Rows,
    disbursements: &[Value],
    fund_name: &str,
) -> Result<usize, Box<dyn Error>> {
    let mut steps: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for p in progress {
        steps
            .entry(p["household"].as_str())
            .or_default()
            .push(json!({"seq": p["seq"], "date": p["date"], "stage": p["stage"]}));
    }
    let mut received: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for d in disbursements {
        if let Some(id) = d["household"].as_str() {
            received.entry(id).or_default().push(d);
        }
    }
    let mut pages = 0;
    for h in households {
        let id = h["id"].as_str();
        let rows = received.remove(id).unwrap_or_default();
        let got: u64 = rows.iter().filter_map(|d| d["amount"].as_u64()).sum();
        pages += site.page(
            &format!("ho/{id}"),
            json!({"title": h["head"], "layout": "household", "id": id, "province": h["province"],
                "province_slug": slugify(&h["province"]), "commune": h["commune"],
                "commune_slug": slugify(&h["commune"]), "village": h["village"],
                "circumstances": h["circumstances"], "support": h["support"],
                "planned": h["planned"].parse::<u64>().unwrap_or(0), "received": got,
                "fund": fund_name, "steps": steps.remove(id).unwrap_or_default(), "rows": rows}),
        )?;
    }
    Ok(pages)
}

/// A page per day with stage changes, and the list of those days.
fn reports(site: &Site, households: &Rows, progress: &Rows) -> Result<usize, Box<dyn Error>> {
    let by_id: BTreeMap<&str, &BTreeMap<String, String>> =
        households.iter().map(|h| (h["id"].as_str(), h)).collect();
    let mut days: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for p in progress {
        let Some(h) = by_id.get(p["household"].as_str()) else {
            continue;
        };
        days.entry(p["date"].as_str())
            .or_default()
            .push(json!({"id": h["id"], "head": h["head"],
            "village": h["village"], "commune": h["commune"], "support": h["support"],
            "stage": p["stage"]}));
    }
    let mut pages = 0;
    // The running count of stage changes by commune, up to each day.
    let mut running: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (day, rows) in &days {
        for p in progress.iter().filter(|p| p["date"] == *day) {
            if let Some(h) = by_id.get(p["household"].as_str()) {
                *running
                    .entry((h["province"].clone(), h["commune"].clone()))
                    .or_default() += 1;
            }
        }
        let totals: Vec<Value> = running
            .iter()
            .map(|((province, commune), count)| json!({"province": province, "name": commune, "count": count}))
            .collect();
        pages += site.page(
            &format!("bao-cao/{day}"),
            json!({"title": day, "layout": "report", "date": day, "rows": rows, "running": totals}),
        )?;
    }
    let list: Vec<&str> = days.keys().copied().collect();
    pages += site.page(
        "bao-cao/_index",
        json!({"title": "reports", "label": "reports", "layout": "reports", "rows": list}),
    )?;
    Ok(pages)
}

fn current_stages(progress: &Rows) -> BTreeMap<&str, &str> {
    progress
        .iter()
        .map(|p| (p["household"].as_str(), p["stage"].as_str()))
        .collect()
}

fn donation_row(d: &BTreeMap<String, String>) -> Value {
    json!({"seq": d["seq"], "date": d["date"], "donor": d["donor"], "note": d["note"],
        "amount": d["amount"].parse::<u64>().unwrap_or(0), "channel": d["channel"], "ref": d["ref"]})
}

fn disbursement_row(d: &BTreeMap<String, String>, head: Option<&str>) -> Value {
    json!({"seq": d["seq"], "date": d["date"], "household": d["household"], "head": head,
        "payee": d["payee"], "purpose": d["purpose"],
        "amount": d["amount"].parse::<u64>().unwrap_or(0)})
}

/// Reads an open-data table: `<name>.csv`, or its parts (`<name>.part-001.csv`,
/// …, one file cut at row boundaries, the header in the first) when the
/// portal split it. Rows by column name; the byte-order mark dropped.
fn read_table(dir: &Path, name: &str) -> Result<Rows, Box<dyn Error>> {
    let whole = dir.join(format!("{name}.csv"));
    let mut bytes = Vec::new();
    if whole.exists() {
        bytes = fs::read(&whole)?;
    } else {
        for part in 1.. {
            let path = dir.join(format!("{name}.part-{part:03}.csv"));
            if !path.exists() {
                break;
            }
            bytes.extend(fs::read(&path)?);
        }
    }
    if bytes.is_empty() {
        return Err(format!("no `{name}.csv` nor its parts in `{}`", dir.display()).into());
    }
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers: Vec<String> = reader
        .headers()?
        .iter()
        .map(|name| name.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(
            headers
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_string))
                .collect(),
        );
    }
    Ok(rows)
}

/// The configuration, templates and translations: plain HTML, no theme.
fn write_project(out: &Path, english: bool) -> Result<(), Box<dyn Error>> {
    let mut config = String::from(
        "baseURL = \"https://bench.minhbach.example/\"\ntitle = \"Cổng thông tin cứu trợ – thiện nguyện\"\n\
         defaultContentLanguage = \"vi\"\ndisableKinds = [\"taxonomy\", \"term\", \"RSS\"]\n\
         enableRobotsTXT = false\n[languages.vi]\nweight = 1\nlanguageName = \"Tiếng Việt\"\n",
    );
    if english {
        config.push_str("[languages.en]\nweight = 2\nlanguageName = \"English\"\n");
    }
    fs::create_dir_all(out.join("layouts/_default"))?;
    fs::create_dir_all(out.join("layouts/partials"))?;
    fs::create_dir_all(out.join("i18n"))?;
    fs::write(out.join("config.toml"), config)?;
    for (path, text) in TEMPLATES {
        fs::write(out.join("layouts").join(path), text)?;
    }
    fs::write(out.join("i18n/vi.toml"), I18N_VI)?;
    fs::write(out.join("i18n/en.toml"), I18N_EN)?;
    Ok(())
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "_default/baseof.html",
        r##"<!doctype html>
<html lang="{{ .Site.Language.Lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ with .Params.label }}{{ i18n . }}{{ else }}{{ .Title }}{{ end }} · {{ .Site.Title }}</title>
<meta name="description" content="{{ i18n "site_description" }}">
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><a href="{{ "/" | relLangURL }}">{{ .Site.Title }}</a>
<nav><ul>
<li><a href="{{ "/ung-ho/" | relLangURL }}">{{ i18n "donations" }}</a></li>
<li><a href="{{ "/chi/" | relLangURL }}">{{ i18n "disbursements" }}</a></li>
<li><a href="{{ "/ho/" | relLangURL }}">{{ i18n "households" }}</a></li>
<li><a href="{{ "/bao-cao/" | relLangURL }}">{{ i18n "reports" }}</a></li>
<li><a href="{{ "/tra-cuu/" | relLangURL }}">{{ i18n "lookup" }}</a></li>
</ul></nav></header>
<main id="main">
{{ block "main" . }}{{ end }}
</main>
<footer><p>{{ i18n "footer" }}</p></footer>
</body>
</html>
"##,
    ),
    (
        "_default/single.html",
        r##"{{ define "main" }}<h1>{{ .Title }}</h1>{{ end }}
"##,
    ),
    (
        "_default/list.html",
        r##"{{ define "main" }}<h1>{{ .Title }}</h1>{{ end }}
"##,
    ),
    (
        "index.html",
        r##"{{ define "main" }}
<h1>{{ i18n "home" }}</h1>
<dl class="facts">
<dt>{{ i18n "raised" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.total "- , ." }} ₫</dd>
<dt>{{ i18n "spent" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.spent "- , ." }} ₫</dd>
<dt>{{ i18n "donations" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.donations "- , ." }}</dd>
<dt>{{ i18n "households" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.households "- , ." }}</dd>
</dl>
<h2>{{ i18n "newest" }}</h2>
{{ partial "donations" (dict "rows" .Params.rows "fund" .Params.fund "section" "ung-ho" "page" 0) }}
{{ end }}
"##,
    ),
    (
        "404.html",
        r##"{{ define "main" }}<h1>{{ i18n "not_found" }}</h1><p><a href="{{ "/" | relLangURL }}">{{ i18n "home" }}</a></p>{{ end }}
"##,
    ),
    (
        "_default/donations.html",
        r##"{{ define "main" }}
<h1>{{ i18n "donations" }}{{ with .Params.page }} <small>{{ i18n "page" }} {{ . }}</small>{{ end }}</h1>
{{ partial "pager" . }}
{{ partial "donations" (dict "rows" .Params.rows "fund" .Params.fund "section" "ung-ho" "page" .Params.page) }}
{{ partial "pager" . }}
{{ end }}
"##,
    ),
    (
        "_default/disbursements.html",
        r##"{{ define "main" }}
<h1>{{ i18n "disbursements" }}{{ with .Params.page }} <small>{{ i18n "page" }} {{ . }}</small>{{ end }}</h1>
{{ partial "pager" . }}
{{ partial "disbursements" (dict "rows" .Params.rows "fund" .Params.fund) }}
{{ partial "pager" . }}
{{ end }}
"##,
    ),
    (
        "_default/fund.html",
        r##"{{ define "main" }}
<h1>{{ .Params.fund }}</h1>
<dl class="facts"><dt>{{ i18n "raised" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.total "- , ." }} ₫</dd>
<dt>{{ i18n "spent" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.spent "- , ." }} ₫</dd></dl>
<h2>{{ i18n "by_day" }}</h2>
<table class="chart"><tbody>
{{ range .Params.days }}<tr><th scope="row">{{ time.Format "02/01/2006" .date }}</th><td class="num">{{ lang.FormatNumberCustom 0 .amount "- , ." }} ₫</td></tr>
{{ end }}</tbody></table>
<h2>{{ i18n "by_commune" }}</h2>
<table class="chart"><tbody>
{{ range .Params.communes }}<tr><th scope="row">{{ .name }}, {{ .province }}</th><td class="num">{{ lang.FormatNumberCustom 0 .amount "- , ." }} ₫</td></tr>
{{ end }}</tbody></table>
<h2>{{ i18n "newest" }}</h2>
{{ partial "donations" (dict "rows" .Params.donations "fund" .Params.fund) }}
<h2>{{ i18n "disbursements" }}</h2>
{{ partial "disbursements" (dict "rows" .Params.rows "fund" .Params.fund) }}
{{ end }}
"##,
    ),
    (
        "_default/household.html",
        r##"{{ define "main" }}
<p class="crumbs"><a href="{{ "/ho/" | relLangURL }}">{{ i18n "households" }}</a> › <a href="{{ printf "/ho/dia-ban/%s/%s/" .Params.province_slug .Params.commune_slug | relLangURL }}">{{ .Params.commune }}</a></p>
<h1>{{ .Title }}</h1>
<dl class="facts">
<dt>{{ i18n "household_id" }}</dt><dd><code>{{ .Params.id }}</code></dd>
<dt>{{ i18n "address" }}</dt><dd>{{ .Params.village }}, {{ .Params.commune }}, {{ .Params.province }}</dd>
<dt>{{ i18n "support" }}</dt><dd>{{ i18n .Params.support }}</dd>
<dt>{{ i18n "planned" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.planned "- , ." }} ₫</dd>
<dt>{{ i18n "received" }}</dt><dd>{{ lang.FormatNumberCustom 0 .Params.received "- , ." }} ₫</dd>
</dl>
<h2>{{ i18n "circumstances" }}</h2>
<p>{{ .Params.circumstances }}</p>
<h2>{{ i18n "steps" }}</h2>
<ol class="timeline">
{{ range .Params.steps }}<li><strong>{{ time.Format "02/01/2006" .date }}</strong> · {{ i18n .stage }} <small>(#{{ .seq }})</small></li>
{{ end }}</ol>
<h2>{{ i18n "received" }}</h2>
{{ partial "disbursements" (dict "rows" .Params.rows "fund" .Params.fund) }}
{{ end }}
"##,
    ),
    (
        "_default/province.html",
        r##"{{ define "main" }}
<p class="crumbs"><a href="{{ "/ho/" | relLangURL }}">{{ i18n "households" }}</a></p>
<h1>{{ .Title }}</h1>
<table class="entries"><thead><tr><th scope="col">{{ i18n "commune" }}</th><th scope="col" class="num">{{ i18n "households" }}</th></tr></thead>
<tbody>
{{ $province := .Params.slug }}{{ range .Params.rows }}<tr><td><a href="{{ printf "/ho/dia-ban/%s/%s/" $province .slug | relLangURL }}">{{ .name }}</a></td><td class="num">{{ .count }}</td></tr>
{{ end }}</tbody></table>
{{ end }}
"##,
    ),
    (
        "_default/commune.html",
        r##"{{ define "main" }}
<p class="crumbs"><a href="{{ "/ho/" | relLangURL }}">{{ i18n "households" }}</a> › <a href="{{ printf "/ho/dia-ban/%s/" .Params.province_slug | relLangURL }}">{{ .Params.province }}</a></p>
<h1>{{ .Title }}</h1>
<table class="entries"><thead><tr><th scope="col">{{ i18n "head" }}</th><th scope="col">{{ i18n "village" }}</th><th scope="col">{{ i18n "support" }}</th><th scope="col">{{ i18n "stage" }}</th></tr></thead>
<tbody>
{{ range .Params.rows }}<tr><th scope="row"><a href="{{ printf "/ho/%s/" .id | relLangURL }}">{{ .head }}</a></th><td>{{ .village }}</td><td>{{ i18n .support }}</td><td>{{ with .stage }}<span class="badge s-{{ . }}">{{ i18n . }}</span>{{ end }}</td></tr>
{{ end }}</tbody></table>
{{ end }}
"##,
    ),
    (
        "_default/households.html",
        r##"{{ define "main" }}
<h1>{{ i18n "households" }}</h1>
<table class="entries"><thead><tr><th scope="col">{{ i18n "province" }}</th><th scope="col" class="num">{{ i18n "households" }}</th></tr></thead>
<tbody>
{{ range .Params.rows }}<tr><td><a href="{{ printf "/ho/dia-ban/%s/" .slug | relLangURL }}">{{ .name }}</a></td><td class="num">{{ .count }}</td></tr>
{{ end }}</tbody></table>
{{ end }}
"##,
    ),
    (
        "_default/report.html",
        r##"{{ define "main" }}
<p class="crumbs"><a href="{{ "/bao-cao/" | relLangURL }}">{{ i18n "reports" }}</a></p>
<h1>{{ i18n "report" }} {{ time.Format "02/01/2006" .Params.date }}</h1>
<p><strong>{{ len .Params.rows }}</strong> {{ i18n "changed" }}</p>
<table class="print-list"><thead><tr><th scope="col">#</th><th scope="col">{{ i18n "head" }}</th><th scope="col">{{ i18n "village" }}</th><th scope="col">{{ i18n "commune" }}</th><th scope="col">{{ i18n "support" }}</th><th scope="col">{{ i18n "stage" }}</th></tr></thead>
<tbody>
{{ range $i, $r := .Params.rows }}<tr><td>{{ add $i 1 }}</td><th scope="row"><a href="{{ printf "/ho/%s/" $r.id | relLangURL }}">{{ $r.head }}</a></th><td>{{ $r.village }}</td><td>{{ $r.commune }}</td><td>{{ i18n $r.support }}</td><td><span class="badge s-{{ $r.stage }}">{{ i18n $r.stage }}</span></td></tr>
{{ end }}</tbody></table>
<h2>{{ i18n "running" }}</h2>
<table class="print-list"><tbody>
{{ range .Params.running }}<tr><th scope="row">{{ .name }}, {{ .province }}</th><td class="num">{{ .count }}</td></tr>
{{ end }}</tbody></table>
{{ end }}
"##,
    ),
    (
        "_default/reports.html",
        r##"{{ define "main" }}
<h1>{{ i18n "reports" }}</h1>
<ul>{{ range .Params.rows }}<li><a href="{{ printf "/bao-cao/%s/" . | relLangURL }}">{{ time.Format "02/01/2006" . }}</a></li>{{ end }}</ul>
{{ end }}
"##,
    ),
    (
        "_default/text.html",
        r##"{{ define "main" }}<h1>{{ i18n .Params.label }}</h1><p>{{ i18n "site_description" }}</p>{{ end }}
"##,
    ),
    (
        "partials/pager.html",
        r##"{{ with .Params.page }}{{ $last := $.Params.last }}{{ $s := $.Params.section }}<nav class="pagination" aria-label="{{ i18n "page" }}"><ul>
{{ if gt . 1 }}<li><a rel="prev" href="{{ printf "/%s/trang/%v/" $s (int (sub . 1)) | relLangURL }}">← {{ i18n "older" }}</a></li>{{ end }}
{{ if lt . $last }}<li><a rel="next" href="{{ printf "/%s/trang/%v/" $s (int (add . 1)) | relLangURL }}">{{ i18n "newer" }} →</a></li>{{ end }}
<li><a href="{{ printf "/%s/trang/1/" $s | relLangURL }}">{{ i18n "first" }}</a></li>
<li><a href="{{ printf "/%s/" $s | relLangURL }}">{{ i18n "latest" }}</a></li>
</ul></nav>{{ end }}"##,
    ),
    (
        "partials/donations.html",
        r##"<div class="table-wrap" role="region" tabindex="0" aria-label="{{ i18n "donations" }}">
<table class="entries">
<caption class="visually-hidden">{{ i18n "donations" }}</caption>
<thead><tr><th scope="col">#</th><th scope="col">{{ i18n "date" }}</th><th scope="col">{{ i18n "donor" }}</th><th scope="col">{{ i18n "fund" }}</th><th scope="col" class="num">{{ i18n "amount" }}</th><th scope="col">{{ i18n "channel" }}</th><th scope="col">{{ i18n "ref" }}</th></tr></thead>
<tbody>
{{ $fund := .fund }}{{ range .rows }}<tr id="e{{ .seq }}"><td><a href="#e{{ .seq }}">{{ .seq }}</a></td><td>{{ time.Format "02/01/2006" .date }}</td><td>{{ with .donor }}{{ . }}{{ else }}<em>{{ i18n "anonymous" }}</em>{{ end }}{{ with .note }}<br><small>{{ . }}</small>{{ end }}
</td><td><a href="{{ "/quy/cuu-tro/" | relLangURL }}">{{ $fund }}</a></td><td class="num">{{ lang.FormatNumberCustom 0 .amount "- , ." }} ₫</td><td>{{ i18n .channel }}</td><td><code>{{ .ref }}</code></td></tr>
{{ else }}<tr><td colspan="7">{{ i18n "none" }}</td></tr>
{{ end }}</tbody>
</table>
</div>
"##,
    ),
    (
        "partials/disbursements.html",
        r##"<div class="table-wrap" role="region" tabindex="0" aria-label="{{ i18n "disbursements" }}">
<table class="entries">
<caption class="visually-hidden">{{ i18n "disbursements" }}</caption>
<thead><tr><th scope="col">#</th><th scope="col">{{ i18n "date" }}</th><th scope="col">{{ i18n "payee" }}</th><th scope="col">{{ i18n "purpose" }}</th><th scope="col">{{ i18n "fund" }}</th><th scope="col" class="num">{{ i18n "amount" }}</th></tr></thead>
<tbody>
{{ $fund := .fund }}{{ range .rows }}{{ $r := . }}<tr id="e{{ .seq }}"><td><a href="#e{{ .seq }}">{{ .seq }}</a></td><td>{{ time.Format "02/01/2006" .date }}</td><td>{{ with .household }}<a href="{{ printf "/ho/%s/" . | relLangURL }}">{{ $r.head }}</a>{{ else }}{{ $r.payee }}{{ end }}</td><td>{{ .purpose }}
</td><td><a href="{{ "/quy/cuu-tro/" | relLangURL }}">{{ $fund }}</a></td><td class="num">{{ lang.FormatNumberCustom 0 .amount "- , ." }} ₫</td></tr>
{{ else }}<tr><td colspan="6">{{ i18n "none" }}</td></tr>
{{ end }}</tbody>
</table>
</div>
"##,
    ),
];

/// The labels, as minhbach's translations: the templates look every one up to keep each array short enough to read.
const I18N_VI: &str = r##"home = "Trang chủ"
site_description = "Công khai minh bạch các khoản ủng hộ, chi hỗ trợ và danh sách hộ được hỗ trợ."
footer = "Số liệu được ký và công khai."
donations = "Khoản ủng hộ"
disbursements = "Khoản chi"
households = "Hộ được hỗ trợ"
reports = "Báo cáo tiến độ"
report = "Báo cáo tiến độ ngày"
changed = "hộ thay đổi tiến độ trong ngày."
lookup = "Tra cứu"
verify = "Xác minh"
open_data = "Dữ liệu mở"
about = "Giới thiệu"
not_found = "Không tìm thấy trang"
raised = "Đã nhận"
spent = "Đã chi"
newest = "Khoản ủng hộ mới nhất"
by_day = "Tiền ủng hộ theo ngày"
by_commune = "Tiền đã chi theo xã, phường"
running = "Lũy kế theo xã, phường"
page = "trang"
older = "Cũ hơn"
newer = "Mới hơn"
first = "Trang đầu"
latest = "Mới nhất"
date = "Ngày"
donor = "Người ủng hộ"
fund = "Quỹ"
amount = "Số tiền"
channel = "Hình thức"
ref = "Mã giao dịch"
anonymous = "Nhà hảo tâm ẩn danh"
none = "Chưa có mục nào."
bank = "Chuyển khoản"
cash = "Tiền mặt"
payee = "Người nhận"
purpose = "Nội dung"
household_id = "Mã hộ"
address = "Địa chỉ"
support = "Hỗ trợ"
planned = "Mức hỗ trợ"
received = "Các khoản đã nhận"
circumstances = "Hoàn cảnh"
steps = "Các bước xây dựng"
province = "Tỉnh, thành phố"
commune = "Xã, phường"
village = "Thôn, bản"
head = "Chủ hộ"
stage = "Bước mới"
new = "Xây mới"
repair = "Sửa chữa"
approved = "Đã duyệt"
started = "Đã khởi công"
completed = "Đã hoàn thành"
handed_over = "Đã bàn giao"
"##;

const I18N_EN: &str = r##"home = "Home"
site_description = "Donations, disbursements and the households supported, in public."
footer = "Signed and published figures."
donations = "Donations"
disbursements = "Disbursements"
households = "Households supported"
reports = "Progress reports"
report = "Progress report for"
changed = "households changed stage that day."
lookup = "Lookup"
verify = "Verify"
open_data = "Open data"
about = "About"
not_found = "Page not found"
raised = "Received"
spent = "Spent"
newest = "Newest donations"
by_day = "Donations by day"
by_commune = "Spent by commune"
running = "Running totals by commune"
page = "page"
older = "Older"
newer = "Newer"
first = "First page"
latest = "Latest"
date = "Date"
donor = "Donor"
fund = "Fund"
amount = "Amount"
channel = "Channel"
ref = "Reference"
anonymous = "Anonymous donor"
none = "Nothing yet."
bank = "Bank transfer"
cash = "Cash"
payee = "Payee"
purpose = "Purpose"
household_id = "Household id"
address = "Address"
support = "Support"
planned = "Planned support"
received = "Received"
circumstances = "Circumstances"
steps = "Building steps"
province = "Province"
commune = "Commune"
village = "Village"
head = "Head of household"
stage = "New stage"
new = "New house"
repair = "Repair"
approved = "Approved"
started = "Started"
completed = "Completed"
handed_over = "Handed over"
"##;
