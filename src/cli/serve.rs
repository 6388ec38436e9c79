//! `minhbach serve [--port N]`: local preview with live reload.

use super::open_portal;
use crate::site::serve::{ServeOptions, serve};
use anyhow::{Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 1111)]
    port: u16,
    /// Where the preview is built (default: a new private folder, mode 0700
    /// with a random name, under the system's temporary directory).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Build into a non-empty folder that no earlier build made (nothing in
    /// it is deleted).
    #[arg(long)]
    force: bool,
}

pub fn run(root: &Path, args: ServeArgs) -> Result<()> {
    let portal = open_portal(root)?;
    // A predictable name in a shared temporary directory would let another
    // user of the machine put a folder, a link or a manifest there first:
    // the preview lives in a folder only this user can enter, named at
    // random, and its staging files and manifest beside the output are
    // inside it too.
    let private;
    let output = match args.output {
        Some(output) => output,
        None => {
            let mut builder = tempfile::Builder::new();
            builder.prefix("minhbach-serve-");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o700));
            }
            private = builder
                .tempdir()
                .context("failed to create a private folder for the preview")?;
            private.path().join("public")
        }
    };
    serve(
        &portal,
        &ServeOptions {
            port: args.port,
            output,
            force: args.force,
        },
    )
}
