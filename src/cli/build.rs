//! `minhbach build [-o DIR] [--base-url URL]`: the static site.

use super::open_portal;
use crate::site::{self, RenderOptions};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The output directory (default: `public/` in the portal).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Overrides `base_url` of config.toml, e.g. `https://example.github.io/minhbach/`.
    #[arg(long)]
    base_url: Option<String>,
    /// Build into a non-empty folder that no earlier build made (nothing in
    /// it is deleted; a build only ever deletes files an earlier build of
    /// the same folder wrote).
    #[arg(long)]
    force: bool,
    /// Print the time of each step.
    #[arg(short, long)]
    verbose: bool,
}

pub fn run(root: &Path, args: BuildArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let output = args.output.unwrap_or_else(|| portal.root.join("public"));
    let options = RenderOptions {
        base_url: args.base_url,
        progress: true,
        verbose: args.verbose,
        force: args.force,
        ..RenderOptions::default()
    };
    let report = site::build(&portal, &output, &options)?;
    println!(
        "built {} pages ({} files) into `{}` in {:.2}s: {} written, {} unchanged, {} removed",
        report.render.pages,
        report.render.files,
        report.output.display(),
        report.elapsed.as_secs_f64(),
        report.merge.written,
        report.merge.unchanged,
        report.merge.removed
    );
    let legacy = report.render.entries_with_citizen_id_digits;
    if legacy > 0 && !portal.config.privacy.show_citizen_id_last4 {
        eprintln!(
            "warning: {legacy} entry line(s) written by an earlier minhbach carry the last four digits of a citizen ID \
             (`citizen_id_last4`); the published ledger and log keep them, whatever `show_citizen_id_last4` says, \
             because the signed tree commits to their exact bytes (see README, \"Citizen IDs\")"
        );
    }
    Ok(())
}
