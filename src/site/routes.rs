//! Every public path of the site, spelled once. The model, the pages, the
//! sitemap, the feeds, the open-data files, the lookup and the templates
//! (through the `routes` object in every page's context) take their paths
//! from here, so a renamed section is one edit and a typo cannot break one
//! link and not the others.
//!
//! Page paths start and end with `/` and carry neither the base path nor a
//! language prefix (`render::Urls` adds those); file paths are relative to
//! the output folder.

use serde::Serialize;

pub const HOME: &str = "/";
pub const DONATIONS: &str = "/ung-ho/";
pub const DISBURSEMENTS: &str = "/chi/";
pub const HOUSEHOLDS: &str = "/ho/";
pub const REPORTS: &str = "/bao-cao/";
pub const VERIFY: &str = "/xac-minh/";
pub const OPEN_DATA: &str = "/du-lieu/";
pub const NOT_FOUND: &str = "/404.html";
/// The lookup page of the Vietnamese site and of the other languages.
pub const LOOKUP_VI: &str = "/tra-cuu/";
pub const LOOKUP_OTHER: &str = "/lookup/";
/// Where numbered pages of a listing live, below the listing's path.
const NUMBERED: &str = "trang/";
const FUNDS: &str = "/quy/";
const AREAS: &str = "/ho/dia-ban/";
const MEDIA: &str = "/media/";

/// The open-data files (relative to the output folder).
pub const DOWNLOAD_FILE: &str = "du-lieu/so-cai.jsonl";
pub const PARTS_FILE: &str = "du-lieu/parts.json";
pub const FEED_FILE: &str = "du-lieu/atom.xml";
pub const CHECKPOINT_FILE: &str = "du-lieu/checkpoint.txt";
pub const SITEMAP_FILE: &str = "sitemap.xml";
pub const ROBOTS_FILE: &str = "robots.txt";
/// The lookup index folder.
pub const LOOKUP_INDEX_DIR: &str = "tra-cuu/chi-muc";
/// The public log (tiles, checkpoint, keys) below the site root.
pub const LEDGER_DIR: &str = "/ledger/";

pub fn fund(id: &str) -> String {
    format!("{FUNDS}{id}/")
}

pub fn household(id: &str) -> String {
    format!("{HOUSEHOLDS}{id}/")
}

pub fn province(slug: &str) -> String {
    format!("{AREAS}{slug}/")
}

pub fn commune(province_slug: &str, commune_slug: &str) -> String {
    format!("{AREAS}{province_slug}/{commune_slug}/")
}

pub fn report(date: &str) -> String {
    format!("{REPORTS}{date}/")
}

/// Numbered page `n` of a listing (`/ung-ho/`, `/chi/`).
pub fn numbered(listing: &str, n: usize) -> String {
    format!("{listing}{NUMBERED}{n}/")
}

/// A row's stable place: its anchor on the numbered page that holds it.
pub fn anchored(listing: &str, page: usize, anchor: impl std::fmt::Display) -> String {
    format!("{}#{anchor}", numbered(listing, page))
}

/// A stored photo or document as published (`/media/<sha256>.<ext>`).
pub fn media(name: &str) -> String {
    format!("{MEDIA}{name}")
}

/// The folder of a photo's derived sizes (`/media/<sha256>/`).
pub fn media_folder(stem: &str) -> String {
    format!("{MEDIA}{stem}/")
}

/// The lookup page in `language` (Vietnamese has its own path).
pub fn lookup(language: &str) -> &'static str {
    if language == "vi" {
        LOOKUP_VI
    } else {
        LOOKUP_OTHER
    }
}

/// A CSV table of the open data (`du-lieu/<kind>.csv`).
pub fn table_file(kind: &str) -> String {
    format!("{}{kind}.csv", &OPEN_DATA[1..])
}

/// Part `n` (from 1) of a sitemap split past the protocol's limit.
pub fn sitemap_part_file(n: usize) -> String {
    format!("sitemap-{n}.xml")
}

/// The output file of a site path (`/du-lieu/atom.xml` → `du-lieu/atom.xml`).
pub fn file_of(path: &str) -> &str {
    path.trim_start_matches('/')
}

/// What the templates see as `routes`: the fixed paths, and the prefixes
/// they join an id to.
#[derive(Serialize)]
pub struct TemplateRoutes {
    pub home: &'static str,
    pub donations: &'static str,
    pub donation_pages: String,
    pub disbursements: &'static str,
    pub disbursement_pages: String,
    pub households: &'static str,
    pub funds: &'static str,
    pub reports: &'static str,
    pub verify: &'static str,
    pub open_data: &'static str,
    pub lookup: &'static str,
    pub lookup_index: String,
    pub ledger: &'static str,
    pub feed: String,
    pub parts: String,
    pub checkpoint: String,
    pub sitemap: String,
}

impl TemplateRoutes {
    pub fn new(language: &str) -> TemplateRoutes {
        TemplateRoutes {
            home: HOME,
            donations: DONATIONS,
            donation_pages: format!("{DONATIONS}{NUMBERED}"),
            disbursements: DISBURSEMENTS,
            disbursement_pages: format!("{DISBURSEMENTS}{NUMBERED}"),
            households: HOUSEHOLDS,
            funds: FUNDS,
            reports: REPORTS,
            verify: VERIFY,
            open_data: OPEN_DATA,
            lookup: lookup(language),
            lookup_index: format!("/{LOOKUP_INDEX_DIR}/"),
            ledger: LEDGER_DIR,
            feed: format!("/{FEED_FILE}"),
            parts: format!("/{PARTS_FILE}"),
            checkpoint: format!("/{CHECKPOINT_FILE}"),
            sitemap: format!("/{SITEMAP_FILE}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_spelled_as_published() {
        assert_eq!(fund("lu-2025"), "/quy/lu-2025/");
        assert_eq!(household("h-1"), "/ho/h-1/");
        assert_eq!(province("quang-tri"), "/ho/dia-ban/quang-tri/");
        assert_eq!(
            commune("quang-tri", "hai-lang"),
            "/ho/dia-ban/quang-tri/hai-lang/"
        );
        assert_eq!(report("2025-11-30"), "/bao-cao/2025-11-30/");
        assert_eq!(numbered(DONATIONS, 3), "/ung-ho/trang/3/");
        assert_eq!(anchored(DISBURSEMENTS, 2, "e42"), "/chi/trang/2/#e42");
        assert_eq!(media("ab.jpg"), "/media/ab.jpg");
        assert_eq!(media_folder("ab"), "/media/ab/");
        assert_eq!(lookup("vi"), "/tra-cuu/");
        assert_eq!(lookup("en"), "/lookup/");
        assert_eq!(table_file("donations"), "du-lieu/donations.csv");
        assert_eq!(sitemap_part_file(2), "sitemap-2.xml");
        assert_eq!(file_of(&format!("/{FEED_FILE}")), FEED_FILE);
        let routes = TemplateRoutes::new("en");
        assert_eq!(routes.donation_pages, "/ung-ho/trang/");
        assert_eq!(routes.lookup_index, "/tra-cuu/chi-muc/");
        assert_eq!(routes.lookup, "/lookup/");
    }
}
