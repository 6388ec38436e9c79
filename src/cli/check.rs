//! `minhbach check`: verifies the ledger, renders the whole site in memory
//! and checks templates and internal links. Writes nothing.
//!
//! `minhbach check --host NAME [-o DIR]`: compares the built site with a
//! static host's documented limits (`site::hosting::HOSTS`) before it is
//! uploaded.

use super::{open_portal, usage};
use crate::site::hosting;
use anyhow::{Result, bail};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Check the built site against a host's limits: github-pages,
    /// cloudflare-pages, gitlab-pages, netlify, s3 or nginx.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// With --host: the built site (default: `public/` in the portal).
    #[arg(short, long, requires = "host")]
    output: Option<PathBuf>,
}

pub fn run(root: &Path, args: CheckArgs) -> Result<()> {
    if let Some(name) = &args.host {
        return check_host(root, name, args.output.as_deref());
    }
    let portal = open_portal(root)?;
    let problems = crate::site::check(&portal)?;
    if problems.is_empty() {
        println!("ok: the ledger verifies, every page renders and every internal link resolves");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("error: {problem}");
    }
    bail!("{} problem(s) found; nothing was written", problems.len())
}

fn check_host(root: &Path, name: &str, output: Option<&Path>) -> Result<()> {
    let Some(host) = hosting::host(name) else {
        let names: Vec<&str> = hosting::HOSTS.iter().map(|host| host.name).collect();
        return Err(usage(format!(
            "unknown host `{name}`; known hosts: {}",
            names.join(", ")
        )));
    };
    let dir = match output {
        Some(dir) => dir.to_path_buf(),
        None => open_portal(root)?.root.join("public"),
    };
    if !dir.is_dir() {
        return Err(usage(format!(
            "`{}` is not a built site (run `minhbach build` first, or pass -o DIR)",
            dir.display()
        )));
    }
    let report = hosting::check_host(&dir, host)?;
    println!(
        "{}: {} files, {} in `{}`",
        host.name,
        report.files,
        hosting::human_bytes(report.bytes),
        dir.display()
    );
    println!("limits: {}", host.source);
    if report.problems.is_empty() {
        println!("ok: the site fits {}", host.name);
        return Ok(());
    }
    for problem in &report.problems {
        eprintln!("error: {problem}");
    }
    bail!(
        "the site does not fit {} ({} limit(s) exceeded); fix it before uploading",
        host.name,
        report.problems.len()
    )
}
