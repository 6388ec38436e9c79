//! Every page of the site, as a list of jobs, and the template context of
//! each.
//!
//! A job is small (an index into the model), so the list of a 500,000-household
//! site is cheap, and rendering takes jobs in parallel. A context carries only
//! what its page shows: one page of donations, one household, one day's
//! report; never the whole ledger.
//!
//! Stable pagination: donation (and disbursement) `n` is always on page
//! `n / page_size + 1`, oldest first, so page N holds the same entries
//! forever and an append changes only the newest page. A full page always
//! links to the next one, which is why there are `count / page_size + 1`
//! pages (the last may be empty for a moment); nothing on a numbered page
//! depends on how many pages there are. `/ung-ho/` shows the newest page
//! that has entries.

use super::fingerprint::{Fingerprint, PageContext};
use super::load::ContentFile;
use super::model::{DisbursementRow, DonationRow, Model};
use super::render::Urls;
use super::routes;
use crate::config::Config;
use anyhow::Result;
use serde::Serialize;

/// A page to render, in every language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Home,
    Fund(usize),
    /// A numbered donations page; `newest` renders it at `/ung-ho/`.
    Donations {
        page: usize,
        newest: bool,
    },
    Disbursements {
        page: usize,
        newest: bool,
    },
    Households,
    Province(usize),
    Commune(usize),
    Household(usize),
    Reports,
    Report(usize),
    Verify,
    OpenData,
    /// The lookup page in one language (index into `config.languages`): its
    /// path differs by language (`/tra-cuu/`, `/en/lookup/`).
    Lookup(usize),
    /// A content page or section (index into the content list); rendered in
    /// its own language only.
    Content(usize),
    NotFound,
}

/// A file of the open-data page: a download, or a part of one (with its
/// SHA-256, also in `du-lieu/parts.json`).
#[derive(Clone, Debug)]
pub struct OpenFile {
    /// From the site root, starting with `/` once handed to `Pages`.
    pub path: String,
    pub bytes: u64,
    pub sha256: Option<String>,
}

pub struct Pages<'a> {
    pub model: &'a Model,
    pub config: &'a Config,
    pub urls: &'a Urls,
    pub content: &'a [ContentFile],
    /// Sanitised HTML of each content file.
    pub content_html: &'a [String],
    pub page_size: usize,
    /// Per fund: indices of its disbursements (its donations are in
    /// `model.fund_activity`).
    pub fund_disbursements: Vec<Vec<usize>>,
    /// The open data files, for `/du-lieu/`: (path, bytes).
    pub open_data: Vec<OpenFile>,
    /// Each household row's digest (`fingerprint::digest`), made once
    /// for its page and its commune's, in every language, when a page
    /// first needs it (a rebuild that keeps the household pages whole
    /// needs none); empty if a row could not be digested (then the rows
    /// are fingerprinted whole).
    household_digests: std::sync::OnceLock<Vec<Fingerprint>>,
    /// Values every page shows, made for Tera once.
    shared: Shared,
}

/// The values every page of a language shows, made for Tera once: `site`,
/// and `routes` in each of the config's languages.
struct Shared {
    site: tera::Value,
    routes: Vec<(String, tera::Value)>,
}

impl Shared {
    fn new(config: &Config, urls: &Urls) -> Shared {
        Shared {
            site: tera::Value::from_serializable(&SiteInfo {
                title: &config.title,
                description: &config.description,
                base_url: &config.base_url,
                base_path: &urls.base_path,
                default_language: &config.default_language,
                languages: &config.languages,
                extra: &config.extra,
            }),
            routes: (config.languages.iter())
                .map(|lang| {
                    let routes = routes::TemplateRoutes::new(lang);
                    (lang.clone(), tera::Value::from_serializable(&routes))
                })
                .collect(),
        }
    }
}

/// The home page lists every commune's progress up to this many communes,
/// and every province's beyond (keeping the page within its size budget).
const HOME_MAX_COMMUNES: usize = 80;

/// A place's progress bar on the home page.
#[derive(Serialize)]
struct PlaceProgress<'a> {
    name: &'a str,
    province: Option<&'a str>,
    path: &'a str,
    counts: &'a super::model::StageCounts,
}

#[derive(Serialize)]
struct Pagination {
    number: usize,
    size: usize,
    /// Site paths (no base, no language); `None` where there is none.
    previous: Option<String>,
    next: Option<String>,
    first: String,
    newest: String,
    /// Only on the newest page (which changes on every append anyway): every
    /// page number, for jumping.
    all: Vec<usize>,
    is_newest: bool,
}

#[derive(Serialize)]
struct ContentLink {
    title: String,
    description: String,
    path: String,
    date: Option<String>,
    weight: Option<i64>,
}

#[derive(Serialize)]
struct ContentPage<'a> {
    title: &'a str,
    description: &'a str,
    date: Option<String>,
    weight: Option<i64>,
    extra: &'a toml::Table,
    path: &'a str,
    file: &'a str,
    is_section: bool,
    html: &'a str,
    pages: Vec<ContentLink>,
}

#[derive(Serialize)]
struct Alternate {
    lang: String,
    url: String,
}

#[derive(Serialize)]
struct SiteInfo<'a> {
    title: &'a str,
    description: &'a str,
    base_url: &'a str,
    base_path: &'a str,
    default_language: &'a str,
    languages: &'a [String],
    extra: &'a toml::Table,
}

fn page_count(items: usize, size: usize) -> usize {
    items / size + 1
}

/// The page shown at the entry point (`/ung-ho/`): the last page, or the one
/// before it while the last is still empty.
fn newest_page(items: usize, size: usize) -> usize {
    if items > 0 && items.is_multiple_of(size) {
        items / size
    } else {
        page_count(items, size)
    }
}

impl<'a> Pages<'a> {
    pub fn new(
        model: &'a Model,
        config: &'a Config,
        urls: &'a Urls,
        content: &'a [ContentFile],
        content_html: &'a [String],
        page_size: usize,
        open_data: Vec<OpenFile>,
    ) -> Pages<'a> {
        let mut fund_disbursements = vec![Vec::new(); model.funds.len()];
        let fund_of = |id: &str| model.funds.iter().position(|f| f.id == id);
        let mut cache: std::collections::HashMap<&str, Option<usize>> = Default::default();
        for disbursement in &model.disbursements {
            if let Some(f) = *cache
                .entry(&disbursement.fund)
                .or_insert_with(|| fund_of(&disbursement.fund))
            {
                fund_disbursements[f].push(disbursement.index);
            }
        }
        Pages {
            model,
            config,
            urls,
            content,
            content_html,
            page_size: page_size.max(1),
            fund_disbursements,
            open_data,
            household_digests: std::sync::OnceLock::new(),
            shared: Shared::new(config, urls),
        }
    }

    /// Every household row's digest, made the first time it is asked for.
    fn household_digests(&self) -> &[Fingerprint] {
        self.household_digests.get_or_init(|| {
            use rayon::prelude::*;
            (self.model.households.par_iter())
                .map(super::fingerprint::digest)
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default()
        })
    }

    /// The digests of these households, if every row has one.
    fn digests_of(&self, households: &[usize]) -> Option<Vec<&Fingerprint>> {
        let digests = self.household_digests();
        (households.iter()).map(|&h| digests.get(h)).collect()
    }

    /// What the household pages, the places' pages and the households
    /// page show besides the site-wide inputs and their language, for all
    /// of them at once: the household rows and stages (by the checksum of
    /// the model cache this build wrote, `Model::households_stored`, else
    /// by each row's digest), each household's photos as published and its
    /// disbursements, in order (`context`, `Job::Household`: keep the two
    /// together). Equal digests in two builds with the same site-wide
    /// inputs mean each of these pages has the same context (`of_households`). `None` if a
    /// row has no digest.
    pub fn households_digest(&self) -> Option<Fingerprint> {
        use rayon::prelude::*;
        use sha2::{Digest as _, Sha256};
        const CHUNK: usize = 4096;
        let model = self.model;
        // The rows by the model cache's checksum of them, else by their
        // digests, hashed with the rest chunk by chunk.
        let mut hasher = Sha256::new();
        let digests = match model.households_stored {
            Some(stored) => {
                hasher.update(b"minhbach household pages 2, households stored\n");
                hasher.update(stored);
                None
            }
            None => {
                hasher.update(b"minhbach household pages 2, rows\n");
                let digests = self.household_digests();
                if digests.len() != model.households.len() {
                    return None;
                }
                Some(digests)
            }
        };
        hasher.update((model.households.len() as u64).to_le_bytes());
        let chunks: Vec<Fingerprint> = (model.households.par_chunks(CHUNK))
            .enumerate()
            .map(|(chunk, households)| {
                let mut hasher = Sha256::new();
                let first = chunk * CHUNK;
                if let Some(digests) = digests {
                    for digest in &digests[first..first + households.len()] {
                        hasher.update(digest);
                    }
                }
                for (index, household) in (first..).zip(households) {
                    if household.photos.is_empty() && household.disbursements.is_empty() {
                        continue;
                    }
                    hasher.update((index as u64).to_le_bytes());
                    hasher.update(super::fingerprint::digest(&household.photos)?);
                    hasher.update((household.disbursements.len() as u64).to_le_bytes());
                    for &at in &household.disbursements {
                        hasher.update(super::fingerprint::digest(&model.disbursements[at])?);
                    }
                }
                Some(hasher.finalize().into())
            })
            .collect::<Option<_>>()?;
        for chunk in &chunks {
            hasher.update(chunk);
        }
        Some(hasher.finalize().into())
    }

    /// Whether `job` is a page `households_digest` covers: a household's,
    /// a province's or a commune's, or the households page.
    pub fn of_households(job: Job) -> bool {
        matches!(
            job,
            Job::Household(_) | Job::Province(_) | Job::Commune(_) | Job::Households
        )
    }

    /// Every job, in a fixed order.
    pub fn jobs(&self) -> Vec<Job> {
        let model = self.model;
        let mut jobs = vec![Job::Home];
        jobs.extend((0..model.funds.len()).map(Job::Fund));
        let donation_pages = page_count(model.donations.len(), self.page_size);
        jobs.extend((1..=donation_pages).map(|page| Job::Donations {
            page,
            newest: false,
        }));
        jobs.push(Job::Donations {
            page: newest_page(model.donations.len(), self.page_size),
            newest: true,
        });
        let disbursement_pages = page_count(model.disbursements.len(), self.page_size);
        jobs.extend((1..=disbursement_pages).map(|page| Job::Disbursements {
            page,
            newest: false,
        }));
        jobs.push(Job::Disbursements {
            page: newest_page(model.disbursements.len(), self.page_size),
            newest: true,
        });
        jobs.push(Job::Households);
        jobs.extend((0..model.provinces.len()).map(Job::Province));
        jobs.extend((0..model.communes.len()).map(Job::Commune));
        jobs.extend((0..model.households.len()).map(Job::Household));
        jobs.push(Job::Reports);
        jobs.extend((0..model.reports.len()).map(Job::Report));
        jobs.push(Job::Verify);
        jobs.push(Job::OpenData);
        jobs.extend((0..self.config.languages.len()).map(Job::Lookup));
        for (index, file) in self.content.iter().enumerate() {
            if !(file.is_section && file.path == "/") {
                jobs.push(Job::Content(index));
            }
        }
        jobs.push(Job::NotFound);
        jobs
    }

    /// The languages a job is rendered in.
    pub fn languages(&self, job: Job) -> Vec<String> {
        match job {
            Job::Content(index) => vec![self.content[index].language.clone()],
            Job::Lookup(index) => vec![self.config.languages[index].clone()],
            _ => self.config.languages.clone(),
        }
    }

    /// The page's site path (no base path, no language prefix).
    pub fn path(&self, job: Job) -> String {
        let model = self.model;
        match job {
            Job::Home => routes::HOME.into(),
            Job::Fund(index) => model.funds[index].path.clone(),
            Job::Donations { newest: true, .. } => routes::DONATIONS.into(),
            Job::Donations { page, .. } => routes::numbered(routes::DONATIONS, page),
            Job::Disbursements { newest: true, .. } => routes::DISBURSEMENTS.into(),
            Job::Disbursements { page, .. } => routes::numbered(routes::DISBURSEMENTS, page),
            Job::Households => routes::HOUSEHOLDS.into(),
            Job::Province(index) => model.provinces[index].path.clone(),
            Job::Commune(index) => model.communes[index].path.clone(),
            Job::Household(index) => model.households[index].path.clone(),
            Job::Reports => routes::REPORTS.into(),
            Job::Report(index) => model.reports[index].path.clone(),
            Job::Verify => routes::VERIFY.into(),
            Job::OpenData => routes::OPEN_DATA.into(),
            Job::Lookup(index) => routes::lookup(&self.config.languages[index]).into(),
            Job::Content(index) => self.content[index].path.clone(),
            Job::NotFound => routes::NOT_FOUND.into(),
        }
    }

    pub fn template(&self, job: Job) -> String {
        match job {
            Job::Home => "index.html".into(),
            Job::Fund(_) => "fund.html".into(),
            Job::Donations { .. } => "donations.html".into(),
            Job::Disbursements { .. } => "disbursements.html".into(),
            Job::Households => "households.html".into(),
            Job::Province(_) => "province.html".into(),
            Job::Commune(_) => "commune.html".into(),
            Job::Household(_) => "household.html".into(),
            Job::Reports => "reports.html".into(),
            Job::Report(_) => "report.html".into(),
            Job::Verify => "verify.html".into(),
            Job::OpenData => "open_data.html".into(),
            Job::Lookup(_) => "lookup.html".into(),
            Job::Content(index) => {
                let file = &self.content[index];
                file.front.template.clone().unwrap_or_else(|| {
                    if file.is_section {
                        "section.html"
                    } else {
                        "page.html"
                    }
                    .to_string()
                })
            }
            Job::NotFound => "404.html".into(),
        }
    }

    /// Fills the template context of a job in a language. Fails only if
    /// donation rows it needs cannot be read (`Donations`).
    pub fn context(&self, job: Job, language: &str, context: &mut PageContext) -> Result<()> {
        let model = self.model;
        let path = self.path(job);
        context.insert("lang", language);
        context.insert("path", &path);
        context.insert("page_kind", kind_name(job));
        // The same for every page in a language: fingerprinted by the
        // language alone (the site-wide inputs hold the config and URLs),
        // made only when rendering.
        let routes = (self.shared.routes.iter()).find(|(lang, _)| lang == language);
        match routes {
            Some((_, routes)) => context.insert_shared("routes", language, routes)?,
            None => context.insert_identified("routes", language, || {
                Ok(routes::TemplateRoutes::new(language))
            })?,
        }
        context.insert_shared("site", language, &self.shared.site)?;
        let alternates: Vec<Alternate> = self
            .languages(job)
            .iter()
            .chain(self.alternate_content(job).iter())
            .map(|lang| Alternate {
                lang: lang.clone(),
                url: match job {
                    Job::Lookup(_) => self.urls.page(lang, routes::lookup(lang)),
                    _ => self.urls.page(lang, &path),
                },
            })
            .collect();
        context.insert("alternates", &alternates);
        match job {
            Job::Home => self.home_context(language, context),
            Job::Fund(index) => self.fund_context(index, context)?,
            Job::Donations { page, newest } => {
                let range = page_range(model.donations.len(), page, self.page_size);
                let on_page = range.len();
                let rows = || -> Result<Vec<&DonationRow>> {
                    let mut rows = model.donations.range(range.clone())?;
                    rows.reverse();
                    Ok(rows)
                };
                // Rows in chunks of the model cache are fingerprinted by
                // the chunks' names: a kept page's rows are not read.
                match model.donations.identity(range.clone()) {
                    Some(identity) => {
                        context.insert_identified("donations", &(&range, identity), rows)?
                    }
                    None => context.insert("donations", &rows()?),
                }
                context.insert(
                    "pagination",
                    &self.pagination(
                        routes::DONATIONS,
                        page,
                        newest,
                        model.donations.len(),
                        on_page,
                    ),
                );
            }
            Job::Disbursements { page, newest } => {
                let rows = page_slice(&model.disbursements, page, self.page_size);
                let rows: Vec<&DisbursementRow> = rows.iter().rev().collect();
                context.insert("disbursements", &rows);
                context.insert(
                    "pagination",
                    &self.pagination(
                        routes::DISBURSEMENTS,
                        page,
                        newest,
                        model.disbursements.len(),
                        rows.len(),
                    ),
                );
            }
            Job::Households => self.households_context(context),
            Job::Province(index) => {
                let province = &model.provinces[index];
                context.insert("province", province);
                let communes: Vec<_> = province
                    .communes
                    .iter()
                    .map(|&c| &model.communes[c])
                    .collect();
                context.insert("communes", &communes);
            }
            Job::Commune(index) => {
                let commune = &model.communes[index];
                context.insert("commune", commune);
                let households = || -> Result<Vec<_>> {
                    Ok((commune.households.iter())
                        .map(|&h| &model.households[h])
                        .collect())
                };
                match self.digests_of(&commune.households) {
                    Some(digests) => {
                        context.insert_identified("households", &digests, households)?
                    }
                    None => context.insert("households", &households()?),
                }
                let province = model.provinces.iter().find(|p| p.name == commune.province);
                context.insert("province_path", &province.map(|p| p.path.as_str()));
            }
            // What this inserts besides `household` and `disbursements`
            // (and the province, commune and households pages show) must
            // go into `households_digest` too.
            Job::Household(index) => {
                let household = &model.households[index];
                match self.household_digests().get(index) {
                    Some(digest) => {
                        context.insert_identified("household", digest, || Ok(household))?
                    }
                    None => context.insert("household", household),
                }
                let disbursements: Vec<&DisbursementRow> = household
                    .disbursements
                    .iter()
                    .map(|&i| &model.disbursements[i])
                    .collect();
                context.insert("disbursements", &disbursements);
            }
            Job::Reports => self.reports_context(context),
            Job::Report(index) => {
                context.insert("report", &model.report(index));
                context.insert(
                    "previous",
                    &index.checked_sub(1).map(|i| model.reports[i].path.as_str()),
                );
                context.insert(
                    "next",
                    &model.reports.get(index + 1).map(|r| r.path.as_str()),
                );
            }
            Job::Verify => {
                context.insert("checkpoint", &model.checkpoint);
                context.insert("keys", &model.keys);
            }
            Job::OpenData => self.open_data_context(context),
            Job::Content(index) => {
                let page = self.content_page(index);
                context.insert(
                    if self.content[index].is_section {
                        "section"
                    } else {
                        "page"
                    },
                    &page,
                );
            }
            Job::Lookup(_) | Job::NotFound => {}
        }
        Ok(())
    }

    /// The home page: funds, totals, the newest entries and progress by place.
    fn home_context(&self, language: &str, context: &mut PageContext) {
        let model = self.model;
        context.insert("funds", &model.funds);
        context.insert("totals", &model.totals);
        let latest = &model.latest[..model.latest.len().min(10)];
        context.insert("latest", latest);
        let home = self
            .content
            .iter()
            .position(|f| f.is_section && f.path == "/" && f.language == language);
        context.insert("section", &home.map(|index| self.content_page(index)));
        let by_commune = model.communes.len() <= HOME_MAX_COMMUNES;
        let places: Vec<PlaceProgress> = if by_commune {
            model
                .communes
                .iter()
                .map(|c| PlaceProgress {
                    name: &c.commune,
                    province: Some(&c.province),
                    path: &c.path,
                    counts: &c.counts,
                })
                .collect()
        } else {
            model
                .provinces
                .iter()
                .map(|p| PlaceProgress {
                    name: &p.name,
                    province: None,
                    path: &p.path,
                    counts: &p.counts,
                })
                .collect()
        };
        context.insert("places", &places);
        context.insert(
            "places_kind",
            if by_commune { "commune" } else { "province" },
        );
    }

    /// A fund page: its newest donations and disbursements and its charts.
    fn fund_context(&self, index: usize, context: &mut PageContext) -> Result<()> {
        let model = self.model;
        let fund = &model.funds[index];
        let activity = &model.fund_activity[index];
        context.insert("fund", fund);
        let donations: Vec<&DonationRow> = (activity.recent.iter().rev())
            .filter_map(|&i| model.donations.get(i).transpose())
            .collect::<Result<_>>()?;
        let disbursements: Vec<&DisbursementRow> = self.fund_disbursements[index]
            .iter()
            .rev()
            .take(self.page_size)
            .map(|&i| &model.disbursements[i])
            .collect();
        context.insert("donations", &donations);
        context.insert("disbursements", &disbursements);
        context.insert("more_donations", &(activity.donations > self.page_size));
        context.insert(
            "more_disbursements",
            &(self.fund_disbursements[index].len() > self.page_size),
        );
        let all_disbursements: Vec<&DisbursementRow> = self.fund_disbursements[index]
            .iter()
            .map(|&i| &model.disbursements[i])
            .collect();
        context.insert(
            "charts",
            &super::charts::fund_charts(
                &activity.days,
                &all_disbursements,
                &super::charts::Households {
                    rows: &model.households,
                    index: &model.household_index,
                },
            ),
        );
        Ok(())
    }

    /// The households page: every province with its communes.
    fn households_context(&self, context: &mut PageContext) {
        let model = self.model;
        #[derive(Serialize)]
        struct ProvinceView<'a> {
            name: &'a str,
            path: &'a str,
            counts: &'a super::model::StageCounts,
            communes: Vec<&'a super::model::Commune>,
        }
        let provinces: Vec<ProvinceView> = model
            .provinces
            .iter()
            .map(|p| ProvinceView {
                name: &p.name,
                path: &p.path,
                counts: &p.counts,
                communes: p.communes.iter().map(|&c| &model.communes[c]).collect(),
            })
            .collect();
        context.insert("provinces", &provinces);
        context.insert("totals", &model.totals.households);
    }

    /// The reports page: every day with stage changes, newest first.
    fn reports_context(&self, context: &mut PageContext) {
        let model = self.model;
        #[derive(Serialize)]
        struct Day<'a> {
            date: &'a str,
            path: &'a str,
            changes: usize,
        }
        let days: Vec<Day> = model
            .reports
            .iter()
            .rev()
            .map(|r| Day {
                date: &r.date,
                path: &r.path,
                changes: r.changes.len(),
            })
            .collect();
        context.insert("days", &days);
        context.insert("totals", &model.totals.households);
    }

    /// The open-data page: every file with its size (and parts' SHA-256).
    fn open_data_context(&self, context: &mut PageContext) {
        let model = self.model;
        #[derive(Serialize)]
        struct File<'a> {
            path: &'a str,
            name: &'a str,
            bytes: u64,
            sha256: Option<&'a str>,
        }
        let files: Vec<File> = self
            .open_data
            .iter()
            .map(|file| File {
                path: &file.path,
                name: file.path.rsplit('/').next().unwrap_or(&file.path),
                bytes: file.bytes,
                sha256: file.sha256.as_deref(),
            })
            .collect();
        context.insert("files", &files);
        context.insert("checkpoint", &model.checkpoint);
    }

    /// Other languages a content page exists in (`a.md` and `a.en.md`).
    fn alternate_content(&self, job: Job) -> Vec<String> {
        if let Job::Lookup(index) = job {
            let mut others = self.config.languages.clone();
            others.remove(index);
            return others;
        }
        let Job::Content(index) = job else {
            return Vec::new();
        };
        let me = &self.content[index];
        self.content
            .iter()
            .filter(|other| other.path == me.path && other.language != me.language)
            .map(|other| other.language.clone())
            .collect()
    }

    fn content_page(&self, index: usize) -> ContentPage<'_> {
        let file = &self.content[index];
        let mut pages: Vec<ContentLink> = if file.is_section {
            self.content
                .iter()
                .filter(|other| {
                    !other.is_section
                        && other.section_path == file.path
                        && other.language == file.language
                })
                .map(|other| ContentLink {
                    title: other.front.title.clone(),
                    description: other.front.description.clone(),
                    path: other.path.clone(),
                    date: other.date_string(),
                    weight: other.front.weight,
                })
                .collect()
        } else {
            Vec::new()
        };
        pages.sort_by(|a, b| {
            (a.weight.unwrap_or(i64::MAX), &a.title, &a.path).cmp(&(
                b.weight.unwrap_or(i64::MAX),
                &b.title,
                &b.path,
            ))
        });
        ContentPage {
            title: &file.front.title,
            description: &file.front.description,
            date: file.date_string(),
            weight: file.front.weight,
            extra: &file.front.extra,
            path: &file.path,
            file: &file.file,
            is_section: file.is_section,
            html: &self.content_html[index],
            pages,
        }
    }

    fn pagination(
        &self,
        base: &str,
        page: usize,
        newest: bool,
        total: usize,
        on_page: usize,
    ) -> Pagination {
        let pages = page_count(total, self.page_size);
        let numbered = |n: usize| routes::numbered(base, n);
        Pagination {
            number: page,
            size: self.page_size,
            previous: (page > 1).then(|| numbered(page - 1)),
            // A full page always has a successor (see the module comment).
            next: (on_page == self.page_size).then(|| numbered(page + 1)),
            first: numbered(1),
            newest: base.to_string(),
            all: if newest {
                (1..=pages).collect()
            } else {
                Vec::new()
            },
            is_newest: newest,
        }
    }
}

fn page_slice<T>(rows: &[T], page: usize, size: usize) -> &[T] {
    &rows[page_range(rows.len(), page, size)]
}

/// The numbers of the rows on page `page` (from 1) of `items` rows.
fn page_range(items: usize, page: usize, size: usize) -> std::ops::Range<usize> {
    let start = ((page - 1) * size).min(items);
    start..(start + size).min(items)
}

fn kind_name(job: Job) -> &'static str {
    match job {
        Job::Home => "home",
        Job::Fund(_) => "fund",
        Job::Donations { .. } => "donations",
        Job::Disbursements { .. } => "disbursements",
        Job::Households => "households",
        Job::Province(_) => "province",
        Job::Commune(_) => "commune",
        Job::Household(_) => "household",
        Job::Reports => "reports",
        Job::Report(_) => "report",
        Job::Verify => "verify",
        Job::OpenData => "open_data",
        Job::Lookup(_) => "lookup",
        Job::Content(_) => "content",
        Job::NotFound => "not_found",
    }
}
