//! The site generator: a portal (config, content, theme, ledger) in, a static
//! website out, the way Zola does it for blogs.
//!
//! The pipeline, one function per step (`render_site`):
//! 1. **load** the site sources (`load`): content, templates, translations,
//!    static files. First, so a typo in a template fails before the ledger is read.
//! 2. **verify** the ledger and read its entries: nothing unverified is published.
//! 3. **model** (`model`): typed rows with corrections applied and personal
//!    data reduced as the privacy settings say.
//! 4. **render** (`markdown`, `render`, `pages`): Markdown to sanitised HTML,
//!    then every page in parallel, each from a small context.
//! 5. **write** (`output`): to memory, or staged on disk and merged into the
//!    output so a failed build changes nothing and unchanged files are not
//!    rewritten.
//!
//! Output is deterministic: no build time, sorted iteration everywhere, so
//! anyone can rebuild the published site and compare the bytes.
//!
//! The site reads the ledger only through its public API; the ledger knows
//! nothing of the site.

mod builtin;
mod charts;
pub mod fingerprint;
pub mod hosting;
mod ledger_files;
pub mod links;
pub mod load;
pub mod lookup;
pub mod markdown;
pub mod model;
mod opendata;
pub mod output;
pub mod pages;
pub mod parts;
mod photos;
pub mod render;
pub mod reuse;
pub mod routes;
pub mod serve;

use crate::ledger::entry::{Body, Entry};
use crate::portal::{CitizenIdDigits, Portal};
use anyhow::{Context as _, Result, anyhow, bail};
use fingerprint::PageContext;
use output::{MemorySink, MergeReport, Sink, StagingSink};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The donations (and disbursements) on one numbered page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// How to render.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Overrides `base_url` of config.toml.
    pub base_url: Option<String>,
    /// Injects the live-reload script (`serve` only).
    pub live_reload: bool,
    /// Shows a progress bar when standard error is a terminal.
    pub progress: bool,
    /// Prints the time of each step.
    pub verbose: bool,
    /// Collects every page's error instead of stopping at the first (`check`).
    pub keep_going: bool,
    /// Builds into a non-empty folder that no earlier build made (`--force`);
    /// nothing in it is deleted.
    pub force: bool,
}

/// What rendering produced.
#[derive(Debug, Default)]
pub struct RenderReport {
    pub pages: usize,
    pub files: usize,
    /// Errors collected with `keep_going`, each naming its file and line.
    pub errors: Vec<String>,
    pub base_path: String,
    /// Entries written before citizen-ID digits left the ledger line, which
    /// still carry `citizen_id_last4`: the published ledger and log show
    /// them whatever `show_citizen_id_last4` says, as the Merkle tree
    /// commits to their exact bytes.
    pub entries_with_citizen_id_digits: usize,
    /// The state files for the next build to extend what this one wrote
    /// (`reuse`): written beside the output once it is merged.
    pub states: reuse::States,
}

/// What `build` did.
#[derive(Debug)]
pub struct BuildReport {
    pub render: RenderReport,
    pub merge: MergeReport,
    pub output: PathBuf,
    pub elapsed: Duration,
}

/// Builds the site into `output` (atomically, incrementally).
pub fn build(portal: &Portal, output: &Path, options: &RenderOptions) -> Result<BuildReport> {
    let start = Instant::now();
    output::check_destination(&portal.root, output, options.force)?;
    // One build at a time writes `output`; what a killed one left goes.
    let _lock = output::BuildLock::take(output, &reuse::NAMES)?;
    // Reads the last build's manifest.
    let mut staging = timed(options.verbose, "manifest", || StagingSink::new(output))?;
    let mut rendered = render_site(portal, &staging, options, Decode::AsReused);
    if rendered
        .as_ref()
        .is_err_and(|error| error.is::<NeedsEveryEntry>())
    {
        // Rare (a correction appended, an open-data file changed by hand):
        // the same build again, every entry decoded.
        if options.verbose {
            eprintln!("build: every entry is needed; building again from all of them");
        }
        staging.discard();
        staging = StagingSink::new(output)?;
        rendered = render_site(portal, &staging, options, Decode::Every);
    }
    let mut render = match rendered {
        Ok(report) => report,
        Err(error) => {
            staging.discard();
            return Err(error.context(format!(
                "the site was not built; `{}` is unchanged",
                output.display()
            )));
        }
    };
    // The state files describe the output: gone while it changes, written
    // once it is merged, so an interrupted merge leaves none.
    reuse::forget(output)?;
    let merge = timed(options.verbose, "merge", || staging.merge_into(output))?;
    timed(options.verbose, "states", || {
        reuse::store(output, std::mem::take(&mut render.states));
        model::cache::sweep(output);
        Ok(())
    })?;
    Ok(BuildReport {
        render,
        merge,
        output: output.to_path_buf(),
        elapsed: start.elapsed(),
    })
}

/// Renders the whole site in memory: for `check` and tests.
pub fn render_in_memory(
    portal: &Portal,
    options: &RenderOptions,
) -> Result<(RenderReport, BTreeMap<String, Vec<u8>>)> {
    let sink = MemorySink::default();
    let report = render_site(portal, &sink, options, Decode::Every)?;
    Ok((report, sink.into_files()))
}

/// `minhbach check`: verifies the ledger, renders everything in memory and
/// checks internal links. Returns the problems found (empty if none).
pub fn check(portal: &Portal) -> Result<Vec<String>> {
    let options = RenderOptions {
        keep_going: true,
        ..RenderOptions::default()
    };
    let (report, files) = render_in_memory(portal, &options)?;
    let mut problems = report.errors;
    for broken in links::broken_links(&files, &report.base_path) {
        problems.push(format!(
            "`{}`: broken internal link `{}`",
            broken.page, broken.link
        ));
    }
    Ok(problems)
}

fn timed<T>(verbose: bool, step: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = Instant::now();
    let result = run();
    if verbose {
        let seconds = start.elapsed().as_secs_f64();
        match resident_mib() {
            Some(mib) => eprintln!("{step}: {seconds:.3}s (resident {mib} MiB)"),
            None => eprintln!("{step}: {seconds:.3}s"),
        }
    }
    result
}

/// The memory the process holds now (Linux only), for `build -v`: where the
/// peak comes from is what the benchmarks need to know.
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// Records an error, or fails at once unless `keep_going`.
struct Errors {
    keep_going: bool,
    collected: Mutex<Vec<String>>,
}

impl Errors {
    fn push(&self, error: anyhow::Error) -> Result<()> {
        if !self.keep_going {
            return Err(error);
        }
        let message = format!("{error:#}");
        let mut collected = self.collected.lock().unwrap_or_else(|e| e.into_inner());
        if !collected.contains(&message) {
            collected.push(message);
        }
        Ok(())
    }
}

/// Which entries a build decodes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// Only those the previous build's model and open data do not cover,
    /// when they may be extended (`reuse`).
    AsReused,
    Every,
}

/// A build that decoded only the entries appended since the last one found
/// after verifying that it needs the others (a correction among the new
/// entries, an open-data file no longer as written, a chunk of the model
/// cache that cannot be read when its rows are needed): `build` starts it
/// again with every entry.
#[derive(Debug, thiserror::Error)]
#[error("internal error: the build needs every entry, and decoded only the new ones")]
struct NeedsEveryEntry;

/// The pipeline: load, verify, open data, model, render, write (see the
/// module doc). Each step is a method of [`Build`] below, in this order.
fn render_site(
    portal: &Portal,
    sink: &dyn Sink,
    options: &RenderOptions,
    decode: Decode,
) -> Result<RenderReport> {
    let build = Build::new(portal, sink, options);
    let verbose = options.verbose;

    let sources = timed(verbose, "load", || load::load(portal))?;
    let renderer = match render::Renderer::new(&sources, &build.urls) {
        Ok(renderer) => renderer,
        // Nothing can render without templates: report and stop.
        Err(error) => {
            build.errors.push(error)?;
            return Ok(build.report(0, 0, 0));
        }
    };
    let citizen_id_digits = portal.citizen_id_digits()?;
    let mut reused = build.reusable(decode);
    let (mut data, rows) = timed(verbose, "verify", || {
        build.verify(reused.first, reused.model.is_some())
    })?;
    let maker = reuse::Maker::of(portal, &data);
    reused.confirm(maker.as_ref(), portal);
    let rows = rows.filter(|_| reused.model.is_some());
    let mut states = reuse::States::new();
    // Whether the lookup index may be extended: its files are `stat`ed.
    let index_base = |data: &ledger_files::LedgerData| {
        timed(verbose, "lookup base", || {
            Ok(build.index_base(data, maker.as_ref()))
        })
    };
    let open_data = |states: &mut reuse::States| {
        timed(verbose, "open data", || {
            build.write_open_data(
                &data,
                &citizen_id_digits,
                reused.open_data.as_ref(),
                maker.as_ref(),
                states,
            )
        })
    };
    let model = |entries, states: &mut reuse::States| {
        timed(verbose, "model", || {
            build.model(
                entries,
                &data.state,
                &data.verified,
                data.first,
                &citizen_id_digits,
                rows,
                maker.as_ref(),
                states,
            )
        })
    };
    let public_log = |data: &ledger_files::LedgerData| {
        timed(verbose, "public log", || data.write_public_log(sink))
    };
    // A rebuild decodes only the entries appended since: the model takes a
    // copy of them and is made beside the lookup base and the open data
    // (mostly files `stat`ed and written). A cold build's are every entry,
    // which the model takes over once the CSVs are written rather than
    // copy; the public log (which reads the segments, not the entries) is
    // written beside it.
    let (index_base, (mut open_data, mut files), mut model) = if data.first > 0 {
        let entries = data.entries.clone();
        let mut model_states = reuse::States::new();
        let (open, made) = rayon::join(
            || {
                let base = index_base(&data)?;
                let (open, files) = open_data(&mut states)?;
                Ok::<_, anyhow::Error>((base, open, files + public_log(&data)?))
            },
            || model(entries, &mut model_states),
        );
        states.append(&mut model_states);
        let (base, open, files) = open?;
        (base, (open, files), made?)
    } else {
        let base = index_base(&data)?;
        let (open, files) = open_data(&mut states)?;
        let entries = std::mem::take(&mut data.entries);
        let (log, made) = rayon::join(|| public_log(&data), || model(entries, &mut states));
        (base, (open, files + log?), made?)
    };
    // Photos before pages: a page shows each photo's published sizes.
    files += timed(verbose, "photos", || {
        photos::publish(portal, &mut model, sink)
    })?;
    let model = model;
    let content_html = build.markdown(&sources)?;
    // Pages render from the model alone: free the verified state and the
    // leaf hashes first.
    files += timed(verbose, "feeds", || {
        drop(data);
        build.write_feeds(&model, &sources, &mut open_data)
    })?;
    let (pages, jobs) = timed(verbose, "pages", || {
        let pages = build.pages(&model, &sources, &content_html, open_data);
        let jobs = page_jobs(&pages);
        check_paths_unique(&pages, &jobs)?;
        Ok((pages, jobs))
    })?;
    states.extend(timed(verbose, "render", || {
        build.render_pages(&pages, &jobs, &renderer, &sources)
    })?);
    files += jobs.len();
    files += timed(verbose, "write", || {
        build.write_site_files(&pages, &jobs, &sources, &model)
    })?;
    let index = timed(verbose, "lookup index", || {
        build.lookup_index(&model, index_base.as_ref())
    })?;
    files += index.files;
    if verbose {
        let (read, cached) = model.donations.cached_read();
        eprintln!("model: {read} of {cached} chunks of donation rows read (model cache)");
    }
    if let Some(maker) = &maker {
        states.push(reuse::state(
            lookup::extend::STATE_FILE,
            &lookup::extend::State {
                format: lookup::FORMAT_VERSION,
                maker: maker.clone(),
                donations: model.donations.len(),
                codes: index.codes,
                code_bits: index.code_bits,
            },
        ));
    }
    let (pages_made, with_digits) = (jobs.len(), model.entries_with_citizen_id_digits);
    // The model (every row, freed one allocation at a time) is freed on a
    // thread of its own while the caller merges the output.
    drop(pages);
    std::thread::spawn(move || drop(model));
    Ok(RenderReport {
        states,
        ..build.report(pages_made, files, with_digits)
    })
}

/// What this build may extend of the previous build's model and open data,
/// and so the first entry it decodes.
struct Reused {
    /// What made the model cache.
    model: Option<reuse::Maker>,
    open_data: Option<OpenDataState>,
    first: u64,
}

impl Reused {
    /// Drops what the verified ledger's maker may not extend (`first`
    /// stays: a step that then needs an entry below it says so).
    fn confirm(&mut self, maker: Option<&reuse::Maker>, portal: &Portal) {
        let may = |previous: &reuse::Maker| maker.is_some_and(|m| m.may_extend(previous, portal));
        if self.model.as_ref().is_some_and(|m| !may(m)) {
            self.model = None;
        }
        if self.open_data.as_ref().is_some_and(|o| !may(&o.maker)) {
            self.open_data = None;
        }
    }
}

/// What every step of one build shares.
struct Build<'a> {
    portal: &'a Portal,
    config: &'a crate::config::Config,
    urls: render::Urls,
    sink: &'a dyn Sink,
    options: &'a RenderOptions,
    errors: Errors,
    page_size: usize,
}

impl<'a> Build<'a> {
    fn new(portal: &'a Portal, sink: &'a dyn Sink, options: &'a RenderOptions) -> Build<'a> {
        let config = &portal.config;
        let base_url = options.base_url.as_deref().unwrap_or(&config.base_url);
        Build {
            portal,
            config,
            urls: render::Urls::new(base_url, &config.default_language),
            sink,
            options,
            errors: Errors {
                keep_going: options.keep_going,
                collected: Mutex::new(Vec::new()),
            },
            page_size: config.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
        }
    }

    fn report(self, pages: usize, files: usize, with_digits: usize) -> RenderReport {
        RenderReport {
            pages,
            files,
            errors: self.errors.collected.into_inner().unwrap_or_default(),
            base_path: self.urls.base_path,
            entries_with_citizen_id_digits: with_digits,
            states: Vec::new(),
        }
    }

    /// Verifies the ledger (through the verified-state cache) and reads its
    /// entries: nothing unverified is published.
    /// With `model`, the rows of the model cache are read meanwhile (not
    /// used before verification has confirmed what made them).
    fn verify(
        &self,
        first: u64,
        model: bool,
    ) -> Result<(ledger_files::LedgerData, Option<model::Rows>)> {
        // The rows read after verifying, not beside it: the verified state
        // is settled by then, and the two at once were the rebuild's peak
        // of memory.
        let data = ledger_files::LedgerData::read(self.portal, first)?;
        let rows = model.then(|| model::cache::load(self.sink)).flatten();
        if self.options.verbose {
            eprintln!(
                "verify: {} of {} entries re-hashed only (verified-state cache), the first {} as whole segments by their digest; decoded from entry {}",
                data.verified.cached_entries,
                data.verified.checkpoint.size,
                data.verified.leaves_from,
                data.first
            );
        }
        Ok((data, rows))
    }

    /// What the previous build left that this one may extend, as far as
    /// can be told before verifying: the model cache and the open-data
    /// state of the same executable and config, from a checkpoint still
    /// kept, and not with citizen-ID digits shown (their side store may
    /// change). Entries below both are then not decoded.
    fn reusable(&self, decode: Decode) -> Reused {
        let none = Reused {
            model: None,
            open_data: None,
            first: 0,
        };
        if self.config.privacy.show_citizen_id_last4 {
            return none;
        }
        let current = |previous: &reuse::Maker| reuse::Maker::still_current(previous, self.portal);
        // Building again with every entry makes every row: the model cache
        // may be what failed (a chunk read when first needed, `Donations`).
        let model =
            model::cache::maker(self.sink).filter(|m| decode == Decode::AsReused && current(m));
        let open_data: Option<OpenDataState> = reuse::previous(self.sink, reuse::OPEN_DATA_STATE)
            .filter(|previous: &OpenDataState| {
                previous.part_bytes == parts::part_bytes() && current(&previous.maker)
            });
        let first = match (&model, &open_data) {
            (Some(model), Some(open_data)) if decode == Decode::AsReused => {
                model.size.min(open_data.maker.size)
            }
            _ => 0,
        };
        Reused {
            model,
            open_data,
            first,
        }
    }

    /// The previous build's lookup index state, if this build may extend
    /// that index (`lookup::extend`). Needs the entries: before the model
    /// takes them over.
    fn index_base(
        &self,
        data: &ledger_files::LedgerData,
        maker: Option<&reuse::Maker>,
    ) -> Option<lookup::extend::State> {
        let previous: lookup::extend::State =
            reuse::previous(self.sink, lookup::extend::STATE_FILE)?;
        // Its corrections since are looked for among the entries held.
        if previous.maker.size < data.first {
            return None;
        }
        let corrected_since = data
            .entries
            .iter()
            .rev()
            .flat_map(|segment| segment.iter().rev())
            .take_while(|entry| entry.seq >= previous.maker.size)
            .any(|entry| matches!(entry.body, Body::Correction(_)));
        (previous.format == lookup::FORMAT_VERSION
            && maker?.may_extend(&previous.maker, self.portal)
            && !corrected_since
            && self.sink.previous_intact(routes::LOOKUP_INDEX_DIR))
        .then_some(previous)
    }

    /// The lookup index: the previous build's extended when `base` allows
    /// it, else written whole.
    fn lookup_index(
        &self,
        model: &model::Model,
        base: Option<&lookup::extend::State>,
    ) -> Result<lookup::IndexReport> {
        if let Some(base) = base {
            let read = |path: &str| -> Result<Option<Vec<u8>>> {
                let path = format!("{}/{path}", routes::LOOKUP_INDEX_DIR);
                match self.sink.previous(&path) {
                    Some(file) => {
                        Ok(Some(std::fs::read(&file).with_context(|| {
                            format!("failed to read `{}`", file.display())
                        })?))
                    }
                    None => Ok(None),
                }
            };
            if let Some(mut report) =
                lookup::extend::extend(model, self.page_size, self.sink, base, &read)?
            {
                let written = report.files;
                report.files += self.sink.keep_unwritten(routes::LOOKUP_INDEX_DIR)?;
                if self.options.verbose {
                    eprintln!(
                        "lookup index: extended from {} to {} donations ({written} files written, {} kept)",
                        base.donations,
                        model.donations.len(),
                        report.files - written
                    );
                }
                return Ok(report);
            }
        }
        lookup::write_index(model, self.page_size, self.sink)
    }

    /// The open data and the public log first, written at once rather than
    /// held: at national scale they are hundreds of megabytes, and the model then takes
    /// the entries over instead of copying them. Returns the open-data
    /// page's list and the number of files written.
    fn write_open_data(
        &self,
        data: &ledger_files::LedgerData,
        citizen_id_digits: &CitizenIdDigits,
        previous: Option<&OpenDataState>,
        maker: Option<&reuse::Maker>,
        states: &mut reuse::States,
    ) -> Result<(Vec<pages::OpenFile>, usize)> {
        let sink = self.sink;
        // The download is the exact entry lines, so it re-hashes to the
        // signed root (households carry only non-reversible commitments).
        // Hashing and staging the download beside building the CSVs: the
        // two halves take about the same time one after the other.
        let show_last4 = self
            .config
            .privacy
            .show_citizen_id_last4
            .then_some(citizen_id_digits);
        // Both are append-only (a line or row per entry, in ledger order):
        // appended to when the ledger extends what the last build's were
        // made from (`previous`, see `reusable`).
        let appendable = |path: &str| {
            previous.and_then(|state| state.files.iter().find(|file| file.download.path == path))
        };
        let since = previous.map_or(0, |state| state.maker.size);
        let (written, csvs) = rayon::join(
            || data.write_download(sink, appendable(routes::DOWNLOAD_FILE)),
            || write_csv_files(sink, data, show_last4, &appendable, since),
        );
        let written: Vec<Written> = std::iter::once(written?).chain(csvs?).collect();
        if self.options.verbose {
            let appended = written.iter().filter(|file| file.appended).count();
            if appended > 0 {
                eprintln!("open data: {appended} downloads extended from entry {since}");
            }
        }
        let (downloads, appendables): (Vec<parts::Download>, Vec<_>) = written
            .into_iter()
            .map(|file| (file.download, file.appendable))
            .unzip();
        if let Some(maker) = maker {
            states.push(reuse::state(
                reuse::OPEN_DATA_STATE,
                &OpenDataState {
                    maker: maker.clone(),
                    part_bytes: parts::part_bytes(),
                    files: appendables.into_iter().flatten().collect(),
                },
            ));
        }
        let mut listed = open_data_files(&downloads);
        let index = parts::index(&downloads, parts::part_bytes());
        sink.write(routes::PARTS_FILE, index.as_bytes())?;
        listed.push(pages::OpenFile {
            path: routes::PARTS_FILE.to_string(),
            bytes: index.len() as u64,
            sha256: None,
        });
        let mut files = listed.len();
        files += write_host_files(sink, &self.urls.base_path, data.verified.checkpoint.size)?;
        Ok((listed, files))
    }

    /// Typed rows with corrections applied and personal data reduced as the
    /// privacy settings say; takes the entries over from `data`. The rows
    /// of the previous build (`cached`, the model cache) are extended by the
    /// entries appended since, unless one of them corrects an earlier entry;
    /// the rows are then kept for the next build.
    #[allow(clippy::too_many_arguments)]
    fn model(
        &self,
        mut entries: Vec<Vec<Entry>>,
        state: &crate::ledger::Settled,
        verified: &crate::ledger::Verified,
        first: u64,
        citizen_id_digits: &CitizenIdDigits,
        cached: Option<model::Rows>,
        maker: Option<&reuse::Maker>,
        states: &mut reuse::States,
    ) -> Result<model::Model> {
        let cached = cached.filter(|rows| {
            rows.size >= first && !model::corrects_earlier(entries.iter().flatten(), rows.size)
        });
        let mut rows = match cached {
            Some(rows) => {
                for segment in &mut entries {
                    segment.retain(|entry| entry.seq >= rows.size);
                }
                if self.options.verbose {
                    eprintln!("model: rows of {} entries from the model cache", rows.size);
                }
                rows
            }
            None if first > 0 => return Err(NeedsEveryEntry.into()),
            None => model::Rows::default(),
        };
        let options = model::ModelOptions {
            privacy: &self.config.privacy,
            page_size: self.page_size,
            citizen_id_digits,
        };
        rows.add(entries, state, &options)?;
        let mut households_stored = None;
        if let Some(maker) = maker.filter(|_| !self.config.privacy.show_citizen_id_last4)
            && let Some(stored) = model::cache::store(self.sink, &rows, maker)
        {
            let written = reuse::StateFile::Written(stored.state);
            states.push((model::cache::STATE_FILE, written));
            households_stored = Some(stored.households);
        }
        let mut model = rows.finish(state, &verified.checkpoint, &verified.checkpoint_note)?;
        model.households_stored = households_stored;
        Ok(model)
    }

    /// Each content file's Markdown as sanitised HTML; `@/` links resolve
    /// to the target's URL in its own language.
    fn markdown(&self, sources: &load::Sources) -> Result<Vec<String>> {
        let urls = &self.urls;
        let link_targets: BTreeMap<String, String> = sources
            .content
            .iter()
            .map(|file| {
                (
                    file.link_name.clone(),
                    urls.page(&file.language, &file.path),
                )
            })
            .collect();
        let mut content_html = Vec::with_capacity(sources.content.len());
        for file in &sources.content {
            match markdown::render(
                &file.markdown,
                &markdown::Links {
                    targets: &link_targets,
                    base_path: &urls.base_path,
                },
            ) {
                Ok(html) => content_html.push(html),
                Err(broken) => {
                    for link in broken {
                        self.errors.push(anyhow!(
                            "`{}` line {}: broken internal link `{}` (no such file under content/)",
                            file.file,
                            file.body_line + link.line - 1,
                            link.link
                        ))?;
                    }
                    content_html.push(String::new());
                }
            }
        }
        Ok(content_html)
    }

    /// The Atom feed and the checkpoint, listed on the open-data page;
    /// returns the number of files written.
    fn write_feeds(
        &self,
        model: &model::Model,
        sources: &load::Sources,
        open_data: &mut Vec<pages::OpenFile>,
    ) -> Result<usize> {
        let language = &self.config.default_language;
        let words = opendata::Words::new(sources.translations.get(language));
        let feed = feed_files(model, words, self.config, &self.urls);
        open_data.extend(feed.iter().map(|(path, bytes)| pages::OpenFile {
            path: path.clone(),
            bytes: bytes.len() as u64,
            sha256: None,
        }));
        write_all(self.sink, feed)
    }

    fn pages<'m>(
        &'m self,
        model: &'m model::Model,
        sources: &'m load::Sources,
        content_html: &'m [String],
        open_data: Vec<pages::OpenFile>,
    ) -> pages::Pages<'m> {
        let open_data = open_data
            .into_iter()
            .map(|file| pages::OpenFile {
                path: format!("/{}", file.path),
                ..file
            })
            .collect();
        pages::Pages::new(
            model,
            self.config,
            &self.urls,
            &sources.content,
            content_html,
            self.page_size,
            open_data,
        )
    }

    /// Every page in parallel, each from a small context; a page whose
    /// inputs are those the last build recorded is kept unread. Returns the
    /// household pages' state for the next build.
    fn render_pages(
        &self,
        pages: &pages::Pages,
        jobs: &[(pages::Job, String)],
        renderer: &render::Renderer,
        sources: &load::Sources,
    ) -> Result<Option<(&'static str, reuse::StateFile)>> {
        let (sink, urls, options) = (self.sink, &self.urls, self.options);
        let site_inputs =
            fingerprint::site_inputs(sources, urls, self.config, options.live_reload)?;
        // The household pages (nearly all of a national site's), the
        // places' and the households page when no household, disbursement
        // or site-wide input changed since the last build: each is kept if
        // still as written, unfingerprinted (their contexts, and the
        // households' digests, not made).
        let household_pages = pages.households_digest().map(|digest| {
            use sha2::Digest as _;
            let both = sha2::Sha256::new_with_prefix(site_inputs).chain_update(digest);
            reuse::HouseholdPages {
                digest: crate::ledger::hex(&both.finalize()),
            }
        });
        let households_unchanged = household_pages.as_ref().is_some_and(|now| {
            reuse::previous::<reuse::HouseholdPages>(sink, reuse::HOUSEHOLD_PAGES_STATE)
                .is_some_and(|previous| previous == *now)
        });
        let progress = if options.progress {
            crate::progress::bar(jobs.len() as u64, "đang dựng / rendering", "trang / pages")
        } else {
            indicatif::ProgressBar::hidden()
        };
        let kept = std::sync::atomic::AtomicUsize::new(0);
        let rendered =
            jobs.par_iter()
                .try_for_each_init(Vec::new, |html, (job, language)| -> Result<()> {
                    let template = pages.template(*job);
                    let path = pages.path(*job);
                    let file = urls.output_file(language, &path);
                    progress.inc(1);
                    if households_unchanged
                        && pages::Pages::of_households(*job)
                        && sink.keep_written(&file)?
                    {
                        debug_assert!(
                            {
                                let mut context =
                                    PageContext::fingerprint_only(&site_inputs, &template, &file);
                                pages.context(*job, language, &mut context)?;
                                sink.would_keep(&file, &context.fingerprint())
                            },
                            "`{file}` kept with the household pages has other inputs"
                        );
                        kept.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return Ok(());
                    }
                    // A page the last build recorded is first only fingerprinted:
                    // on a rebuild nearly all are kept, and building their
                    // contexts was most of the time spent on them.
                    if sink.may_keep(&file) {
                        let mut context =
                            PageContext::fingerprint_only(&site_inputs, &template, &file);
                        pages.context(*job, language, &mut context)?;
                        if sink.keep(&file, &context.fingerprint())? {
                            kept.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            return Ok(());
                        }
                    }
                    let mut context = PageContext::for_render(&site_inputs, &template, &file);
                    pages.context(*job, language, &mut context)?;
                    let inputs = context.fingerprint();
                    let context = context
                        .into_context()
                        .expect("a context for rendering keeps its values");
                    html.clear();
                    let result =
                        (renderer.render_into(&template, &context, html)).with_context(|| {
                            format!(
                                "failed to render {} ({})",
                                urls.page(language, &path),
                                template
                            )
                        });
                    match result {
                        Ok(()) if options.live_reload => {
                            let html = serve::inject_reload_script(html);
                            sink.write_rendered(&file, &html, &inputs)
                        }
                        Ok(()) => sink.write_rendered(&file, html, &inputs),
                        Err(error) => self.errors.push(error),
                    }
                });
        progress.finish_and_clear();
        rendered?;
        if options.verbose {
            eprintln!(
                "render: {} of {} pages kept from the last build (same inputs)",
                kept.into_inner(),
                jobs.len()
            );
        }
        Ok(household_pages.map(|state| reuse::state(reuse::HOUSEHOLD_PAGES_STATE, &state)))
    }

    /// The sitemap, robots.txt, the theme's static files, the photos'
    /// count and the VietQR codes; returns the number of files.
    fn write_site_files(
        &self,
        pages: &pages::Pages,
        jobs: &[(pages::Job, String)],
        sources: &load::Sources,
        model: &model::Model,
    ) -> Result<usize> {
        let (sink, urls) = (self.sink, &self.urls);
        let sitemap_urls: Vec<String> = jobs
            .iter()
            .filter(|(job, _)| *job != pages::Job::NotFound)
            .map(|(job, lang)| urls.absolute(lang, &pages.path(*job)))
            .collect();
        let mut files = write_sitemaps(sink, urls, &sitemap_urls)?;
        sink.write(routes::ROBOTS_FILE, robots(urls).as_bytes())?;
        files += 1;
        for (path, source) in &sources.static_files {
            match source {
                load::StaticSource::Builtin(bytes) => sink.write(path, bytes)?,
                load::StaticSource::File(file) => sink.copy(path, file)?,
            }
            files += 1;
        }
        files += write_vietqr_codes(model, sink)?;
        Ok(files)
    }
}

/// Every (page, language) the site has.
fn page_jobs(pages: &pages::Pages) -> Vec<(pages::Job, String)> {
    pages
        .jobs()
        .into_iter()
        .flat_map(|job| {
            pages
                .languages(job)
                .into_iter()
                .map(move |lang| (job, lang))
        })
        .collect()
}

/// Whether an entry's line holds digits of a citizen ID: a household or an
/// amendment written before the digits left the ledger line.
fn carries_citizen_id_digits(entry: &Entry) -> bool {
    match &entry.body {
        Body::Household(household) => household.citizen_id_last4.is_some(),
        Body::Correction(correction) => correction
            .amend
            .as_ref()
            .and_then(|amend| amend.get("citizen_id_last4"))
            .is_some_and(|value| !value.is_null()),
        _ => false,
    }
}

/// Writes and drops each file; returns how many.
fn write_all(sink: &dyn Sink, files: Vec<(String, Vec<u8>)>) -> Result<usize> {
    let count = files.len();
    for (path, bytes) in files {
        sink.write(&path, &bytes)?;
    }
    Ok(count)
}

/// Refuses a content page whose URL is also a generated page's.
fn check_paths_unique(pages: &pages::Pages, jobs: &[(pages::Job, String)]) -> Result<()> {
    // Every output file with its job's place in `jobs`, sorted (in
    // parallel: a national site has half a million pages); a name twice
    // is then side by side, and the first job to claim it is named first.
    let mut files: Vec<(String, usize)> = (jobs.par_iter().enumerate())
        .map(|(at, (job, language))| (pages.urls.output_file(language, &pages.path(*job)), at))
        .collect();
    files.par_sort_unstable();
    let owner = |at: usize| match jobs[at].0 {
        pages::Job::Content(index) => format!("`{}`", pages.content[index].file),
        other => format!("the generated page {other:?}"),
    };
    match files.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        Some([(file, first), (_, second)]) => bail!(
            "{} and {} would both be written to `{file}`; rename one",
            owner(*second),
            owner(*first)
        ),
        _ => Ok(()),
    }
}

fn robots(urls: &render::Urls) -> String {
    match urls.absolute_base {
        Some(_) => {
            opendata::robots_txt(&urls.absolute("vi", &format!("/{}", routes::SITEMAP_FILE)))
        }
        None => "User-agent: *\nAllow: /\n".to_string(),
    }
}

/// `sitemap.xml`, or past the sitemaps.org limit of 50,000 URLs per file,
/// `sitemap-N.xml` files and `sitemap.xml` as their index. Returns the
/// number of files written.
fn write_sitemaps(sink: &dyn Sink, urls: &render::Urls, page_urls: &[String]) -> Result<usize> {
    if page_urls.len() <= opendata::SITEMAP_MAX_URLS {
        sink.write(
            routes::SITEMAP_FILE,
            opendata::sitemap(page_urls).as_bytes(),
        )?;
        return Ok(1);
    }
    let chunks = opendata::sitemap_chunks(page_urls);
    let mut names = Vec::with_capacity(chunks.len());
    for (index, chunk) in chunks.iter().enumerate() {
        let name = routes::sitemap_part_file(index + 1);
        sink.write(&name, chunk.as_bytes())?;
        names.push(urls.absolute("vi", &format!("/{name}")));
    }
    sink.write(
        routes::SITEMAP_FILE,
        opendata::sitemap_index(&names).as_bytes(),
    )?;
    Ok(chunks.len() + 1)
}

/// Writes a CSV per kind, each streamed into the sink rather than built in
/// memory (the donations CSV is the largest file of a big site); returns each path and size.
fn write_csv_files<'p>(
    sink: &dyn Sink,
    data: &ledger_files::LedgerData,
    show_last4: Option<&CitizenIdDigits>,
    appendable: &(dyn Fn(&str) -> Option<&'p parts::Appendable> + Sync),
    since: u64,
) -> Result<Vec<Written>> {
    let limit = parts::part_bytes();
    let entries = &data.entries;
    opendata::CSV_KINDS
        .par_iter()
        .map(|kind| {
            let path = routes::table_file(kind);
            if let Some(previous) = appendable(&path) {
                let appended = parts::append_split(sink, limit, None, previous, &mut |out| {
                    let new_entries = entries.iter().flatten().skip_while(|e| e.seq < since);
                    opendata::write_csv_rows(kind, new_entries, show_last4, out).map(drop)
                })?;
                if let Some(appended) = appended {
                    return Ok(Written::appended(appended));
                }
            }
            if data.first > 0 {
                return Err(NeedsEveryEntry.into());
            }
            let written = parts::write_appendable(sink, &path, limit, None, &mut |out| {
                opendata::write_csv_for_segments(kind, entries, show_last4, out).map(drop)
            })?;
            Ok(Written::whole(written))
        })
        .collect()
}

/// A download as this build wrote it, what the next build needs to append
/// to it (unknown when kept unread), and whether it was appended to.
pub(crate) struct Written {
    download: parts::Download,
    appendable: Option<parts::Appendable>,
    appended: bool,
}

impl Written {
    fn appended(appendable: parts::Appendable) -> Written {
        Written {
            download: appendable.download.clone(),
            appendable: Some(appendable),
            appended: true,
        }
    }

    fn whole(appendable: parts::Appendable) -> Written {
        Written {
            appended: false,
            ..Written::appended(appendable)
        }
    }

    fn kept(download: parts::Download) -> Written {
        Written {
            download,
            appendable: None,
            appended: false,
        }
    }
}

/// What the last build's open data was made from and how to append to
/// each of its append-only downloads (`reuse`).
#[derive(serde::Serialize, serde::Deserialize)]
struct OpenDataState {
    maker: reuse::Maker,
    /// Where the parts were cut: another size cuts them elsewhere.
    part_bytes: u64,
    files: Vec<parts::Appendable>,
}

/// The open-data page's list: each download whole, or its parts with
/// their SHA-256.
fn open_data_files(downloads: &[parts::Download]) -> Vec<pages::OpenFile> {
    downloads
        .iter()
        .flat_map(|download| {
            if download.parts.is_empty() {
                vec![pages::OpenFile {
                    path: download.path.clone(),
                    bytes: download.bytes,
                    sha256: None,
                }]
            } else {
                download
                    .parts
                    .iter()
                    .map(|part| pages::OpenFile {
                        path: part.path.clone(),
                        bytes: part.bytes,
                        sha256: Some(part.sha256.clone()),
                    })
                    .collect()
            }
        })
        .collect()
}

/// The Atom feed of the newest entries and the checkpoint (output path →
/// bytes).
fn feed_files(
    model: &model::Model,
    words: opendata::Words,
    config: &crate::config::Config,
    urls: &render::Urls,
) -> Vec<(String, Vec<u8>)> {
    let paths: BTreeMap<u64, &str> = model
        .latest
        .iter()
        .map(|summary| (summary.seq, summary.path.as_str()))
        .collect();
    let newest: Vec<&Entry> = model
        .newest
        .iter()
        .rev()
        .filter(|entry| paths.contains_key(&entry.seq))
        .collect();
    let feed = opendata::FeedInfo {
        title: config.title.clone(),
        site_url: urls.absolute(&config.default_language, "/"),
        feed_url: urls.absolute(&config.default_language, &format!("/{}", routes::FEED_FILE)),
        updated: opendata::newest_time(&model.newest)
            .unwrap_or_default()
            .to_string(),
        fund_names: model.signed_fund_names.clone(),
        language: config.default_language.clone(),
        words,
    };
    let link = |entry: &Entry| {
        let path = paths.get(&entry.seq).copied().unwrap_or("/");
        urls.absolute(&config.default_language, path)
    };
    vec![
        (
            routes::FEED_FILE.to_string(),
            opendata::atom_feed(&newest, &feed, &link).into_bytes(),
        ),
        (
            routes::CHECKPOINT_FILE.to_string(),
            model.checkpoint.note.clone().into_bytes(),
        ),
    ]
}

/// The VietQR code of every fund with an account, as an SVG file beside its
/// page (`quy/<id>/vietqr.svg`), so pages link it instead of repeating it.
fn write_vietqr_codes(model: &model::Model, sink: &dyn Sink) -> Result<usize> {
    let mut files = 0;
    for fund in &model.funds {
        let (Some(code), Some(account)) = (&fund.vietqr, &fund.account) else {
            continue;
        };
        let qr = crate::vietqr::VietQr::from_payload(&code.payload)
            .with_context(|| format!("VietQR code of fund `{}`", fund.id))?;
        let title = format!(
            "VietQR: {} {}, {}",
            code.bank_name.as_deref().unwrap_or(&account.bank_bin),
            account.number,
            code.note
        );
        let svg = qr
            .svg_titled(&title)
            .with_context(|| format!("VietQR code of fund `{}`", fund.id))?;
        sink.write(code.svg_path.trim_start_matches('/'), svg.as_bytes())?;
        files += 1;
    }
    Ok(files)
}

/// The static hosts' own files, from the one table of cache rules
/// (`hosting::RULES`): `_headers` (Netlify, Cloudflare Pages) and an empty
/// `.nojekyll` (GitHub Pages). Returns how many files.
fn write_host_files(sink: &dyn Sink, base_path: &str, tree_size: u64) -> Result<usize> {
    sink.write(
        hosting::HEADERS,
        hosting::headers_file(base_path, tree_size).as_bytes(),
    )?;
    sink.write(hosting::NOJEKYLL, b"")?;
    Ok(2)
}
