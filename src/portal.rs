//! A portal is a directory with `config.toml`, `content/`, `themes/`,
//! `static/`, `ledger/` and (after a build) `public/`. This module knows where
//! each of those lives and keeps private material out of the published ones.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use std::path::{Component, Path, PathBuf};

/// Directories whose contents are committed or published: a private key or
/// the portal secret must never be written under one of them.
pub const PUBLISHED_DIRS: [&str; 6] = [
    "ledger",
    "content",
    "public",
    "static",
    "themes",
    "templates",
];

/// An opened portal: its root directory and parsed configuration.
#[derive(Clone, Debug)]
pub struct Portal {
    pub root: PathBuf,
    pub config: Config,
}

impl Portal {
    /// Opens the portal at `root`, reading `root/config.toml`.
    pub fn open(root: &Path) -> Result<Portal> {
        let config_path = root.join("config.toml");
        if !config_path.is_file() {
            bail!(
                "`{}` is not a portal: `config.toml` not found (run `minhbach init DIR` to create one, or pass --root)",
                root.display()
            );
        }
        let config = Config::load(&config_path)?;
        Ok(Portal {
            root: root.to_path_buf(),
            config,
        })
    }

    pub fn ledger_dir(&self) -> PathBuf {
        self.root.join("ledger")
    }

    /// The portal secret's path, as configured (relative to the root unless absolute).
    pub fn secret_path(&self) -> PathBuf {
        self.root.join(&self.config.ledger.secret)
    }
}

/// Refuses `path` if it lies inside a portal's published directories
/// (`ledger/`, `content/`, `public/`, `static/`, `themes/`, `templates/`):
/// private keys and the portal secret must never be committed or published.
/// A portal is recognised by its `config.toml`.
pub fn refuse_published_location(path: &Path, what: &str) -> Result<()> {
    let absolute = absolute_lexical(path)?;
    let mut dir = absolute.parent();
    while let Some(current) = dir {
        let name = current.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if PUBLISHED_DIRS.contains(&name)
            && let Some(portal) = current.parent()
            && portal.join("config.toml").is_file()
        {
            bail!(
                "refusing to write {what} `{}` inside the portal's `{name}/` directory, which is committed or published; keep it outside the portal or in a private folder such as `.minhbach/`",
                path.display()
            );
        }
        dir = current.parent();
    }
    Ok(())
}

/// Makes `path` absolute and removes `.` and `..` without touching the file
/// system (the file may not exist yet).
fn absolute_lexical(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("failed to read the current directory")?
            .join(path)
    };
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Resolve symlinks of the existing part, so a link into `ledger/` is caught.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_refused_inside_published_dirs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        for sub in PUBLISHED_DIRS {
            let err =
                refuse_published_location(&dir.path().join(sub).join("a/k.key"), "private key")
                    .unwrap_err();
            assert!(err.to_string().contains(&format!("`{sub}/`")), "{err}");
        }
        refuse_published_location(&dir.path().join(".minhbach/k.key"), "private key").unwrap();
        refuse_published_location(&dir.path().join("k.key"), "private key").unwrap();
    }

    #[test]
    fn a_folder_named_ledger_outside_a_portal_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        refuse_published_location(&dir.path().join("ledger/k.key"), "private key").unwrap();
    }
}
