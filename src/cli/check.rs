//! `minhbach check`: verifies the ledger, renders the whole site in memory
//! and checks templates and internal links. Writes nothing.

use super::open_portal;
use anyhow::{Result, bail};
use std::path::Path;

pub fn run(root: &Path) -> Result<()> {
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
