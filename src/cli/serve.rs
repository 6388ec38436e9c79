//! `minhbach serve [--port N]`: local preview with live reload.

use super::open_portal;
use crate::site::serve::{ServeOptions, serve};
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 1111)]
    port: u16,
    /// Where the preview is built (default: a folder under the system's temporary directory).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(root: &Path, args: ServeArgs) -> Result<()> {
    let portal = open_portal(root)?;
    let output = args.output.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("minhbach-serve-{}", std::process::id()))
    });
    serve(
        &portal,
        &ServeOptions {
            port: args.port,
            output,
        },
    )
}
