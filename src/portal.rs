//! A portal is a directory with `config.toml`, `content/`, `themes/`,
//! `static/`, `ledger/` and (after a build) `public/`. This module knows where
//! each of those lives and keeps private material out of the published ones.

use crate::config::Config;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
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

/// Directories the site is built from, or that hold the ledger and private
/// material: a build's output may not lie inside one (`-o ledger/x` would
/// mix the site into the ledger, `-o .minhbach` into the private folder).
pub const SOURCE_DIRS: [&str; 7] = [
    "ledger",
    "content",
    "static",
    "themes",
    "templates",
    "i18n",
    ".minhbach",
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

    /// The verified-state cache (`ledger::cache`), in the private folder
    /// (`.minhbach/` is git-ignored and never published).
    pub fn verified_state_cache(&self) -> PathBuf {
        self.root.join(".minhbach/cache/verified-state")
    }

    /// The ledger of this portal, judged by its settings and keeping the
    /// verified-state cache.
    pub fn ledger(&self) -> crate::ledger::Ledger {
        crate::ledger::Ledger::new(&self.ledger_dir(), self.config.ledger_settings())
            .with_cache(self.verified_state_cache())
    }

    /// The portal secret's path, as configured (relative to the root unless absolute).
    pub fn secret_path(&self) -> PathBuf {
        self.root.join(&self.config.ledger.secret)
    }

    /// The private side store of citizen IDs' last four digits, beside the
    /// portal secret (`.minhbach/citizen-id-last4.tsv` by default): the
    /// ledger holds no digit of an ID, and a portal that shows the last four
    /// keeps them here, in the same private place as the secret.
    pub fn citizen_id_last4_path(&self) -> PathBuf {
        let secret = self.secret_path();
        secret
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
            .join("citizen-id-last4.tsv")
    }

    /// Reads the side store (empty when the portal does not show the digits
    /// or has none yet).
    pub fn citizen_id_digits(&self) -> Result<CitizenIdDigits> {
        if !self.config.privacy.show_citizen_id_last4 {
            return Ok(CitizenIdDigits::default());
        }
        CitizenIdDigits::read(&self.citizen_id_last4_path())
    }

    /// Keeps the last four digits of the citizen IDs an append committed,
    /// `(household entry seq, digits)`, if the portal shows them; a portal
    /// that does not keeps no digit anywhere.
    pub fn keep_citizen_id_digits(&self, digits: &[(u64, String)]) -> Result<()> {
        if !self.config.privacy.show_citizen_id_last4 || digits.is_empty() {
            return Ok(());
        }
        let path = self.citizen_id_last4_path();
        refuse_published_location(&path, "the citizen-ID digits")?;
        let mut text = String::new();
        for (seq, last4) in digits {
            text.push_str(&format!("{seq}\t{last4}\n"));
        }
        use std::io::Write as _;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(text.as_bytes()).map(|()| file))
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        file.flush()
            .and_then(|()| file.sync_all())
            .with_context(|| format!("failed to write `{}`", path.display()))
    }
}

/// The last four digits of household heads' citizen IDs, by the household
/// entry's sequence number, from the private side store (one `seq \t digits`
/// line per household committed or given a new ID; a later line wins).
#[derive(Clone, Debug, Default)]
pub struct CitizenIdDigits(BTreeMap<u64, String>);

impl CitizenIdDigits {
    /// Reads the store; a missing file is an empty store.
    pub fn read(path: &Path) -> Result<CitizenIdDigits> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("failed to read `{}`", path.display()));
            }
        };
        let mut digits = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let parsed = line.split_once('\t').and_then(|(seq, last4)| {
                let valid = last4.len() == 4 && last4.bytes().all(|b| b.is_ascii_digit());
                Some((seq.parse::<u64>().ok()?, last4)).filter(|_| valid)
            });
            let Some((seq, last4)) = parsed else {
                bail!(
                    "`{}` line {}: not `<entry number> <tab> <four digits>`",
                    path.display(),
                    number + 1
                );
            };
            digits.insert(seq, last4.to_string());
        }
        Ok(CitizenIdDigits(digits))
    }

    /// The digits of household entry `seq`, if the store has them.
    pub fn get(&self, seq: u64) -> Option<&str> {
        self.0.get(&seq).map(String::as_str)
    }
}

/// Refuses `path` if it lies inside a portal's published directories
/// (`ledger/`, `content/`, `public/`, `static/`, `themes/`, `templates/`):
/// private keys and the portal secret must never be committed or published.
/// A portal is recognised by its `config.toml`.
pub fn refuse_published_location(path: &Path, what: &str) -> Result<()> {
    match published_dir_of(path)? {
        Some(name) => bail!(
            "refusing to write {what} `{}` inside the portal's `{name}/` directory, which is committed or published; keep it outside the portal or in a private folder such as `.minhbach/`",
            path.display()
        ),
        None => Ok(()),
    }
}

/// Refuses to use an existing private file (a key, the portal secret) that
/// lies inside a portal's published directories: the next build or commit
/// would publish it, and it may have been published already.
pub fn refuse_published_private_file(path: &Path, what: &str) -> Result<()> {
    match published_dir_of(path)? {
        Some(name) => bail!(
            "refusing to use {what} `{}`: it is inside the portal's `{name}/` directory, which is committed or published; move it to a private folder such as `.minhbach/` (if it was ever committed or published, replace it: revoke a key, or make a new secret)",
            path.display()
        ),
        None => Ok(()),
    }
}

/// The published directory (`ledger`, `static`, …) of a portal that `path`
/// lies in, if any, after resolving `.`, `..` and symbolic links.
fn published_dir_of(path: &Path) -> Result<Option<&'static str>> {
    let absolute = absolute_lexical(path)?;
    let mut dir = absolute.parent();
    while let Some(current) = dir {
        let name = current.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(published) = PUBLISHED_DIRS.iter().copied().find(|&p| p == name)
            && let Some(portal) = current.parent()
            && portal.join("config.toml").is_file()
        {
            return Ok(Some(published));
        }
        dir = current.parent();
    }
    Ok(None)
}

/// The real location of `path`, a file found by walking `dir`, if it lies
/// inside `dir`; an error naming both otherwise.
///
/// Files published as they are (`static/`), rendered as templates
/// (`templates/`, `themes/<name>/`) or read as content (`content/`) must come
/// from the folder they were found in. Being inside the portal is not
/// enough: a link `static/x.txt → ../.minhbach/secret` points inside the
/// portal and would publish the portal secret, `static/c.txt →
/// ../config.toml` the configuration, and a template linked to a key file
/// would print the key into a page. So a symbolic link may only lead to
/// another file of the same folder.
pub fn confined(dir: &Path, path: &Path) -> Result<PathBuf> {
    let real_dir = dir
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", dir.display()))?;
    let real = path
        .canonicalize()
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if !real.starts_with(&real_dir) {
        bail!(
            "`{}` is a link leading outside `{}` (to `{}`); refusing to read or publish it: copy the file into `{}` instead of linking it",
            path.display(),
            dir.display(),
            real.display(),
            dir.display()
        );
    }
    Ok(real)
}

/// Opens (making it and its folder if need be) the lock file at `path` and
/// takes an exclusive `flock` on it, held until the file is dropped or the
/// process ends. If another process holds it, `waiting` is called first
/// (to say so), then this waits for it.
pub fn lock_file(path: &Path, waiting: impl FnOnce()) -> Result<std::fs::File> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("failed to create `{}`", folder.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("failed to open `{}`", path.display()))?;
    let locked = match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting();
            file.lock()
        }
        Err(std::fs::TryLockError::Error(error)) => Err(error),
    };
    locked.with_context(|| format!("failed to lock `{}`", path.display()))?;
    Ok(file)
}

/// Makes `path` absolute and removes `.` and `..` without touching the file
/// system (the file may not exist yet).
pub(crate) fn absolute_lexical(path: &Path) -> Result<PathBuf> {
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

    #[cfg(unix)]
    #[test]
    fn links_may_not_leave_the_folder_they_are_found_in() {
        let dir = tempfile::tempdir().unwrap();
        let static_dir = dir.path().join("static");
        std::fs::create_dir_all(static_dir.join("css")).unwrap();
        std::fs::create_dir_all(dir.path().join(".minhbach")).unwrap();
        std::fs::write(dir.path().join(".minhbach/secret"), "s").unwrap();
        std::fs::write(static_dir.join("css/a.css"), "a").unwrap();
        let link = |name: &str, target: &str| {
            std::os::unix::fs::symlink(target, static_dir.join(name)).unwrap();
            static_dir.join(name)
        };
        let inside = link("b.css", "css/a.css");
        assert!(confined(&static_dir, &inside).is_ok());
        let secret = link("secret.txt", "../.minhbach/secret");
        let error = confined(&static_dir, &secret).unwrap_err().to_string();
        assert!(
            error.contains("secret.txt") && error.contains("leading outside"),
            "{error}"
        );
        let dangling = link("gone.txt", "../nothing");
        assert!(confined(&static_dir, &dangling).is_err());
    }

    #[test]
    fn a_folder_named_ledger_outside_a_portal_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        refuse_published_location(&dir.path().join("ledger/k.key"), "private key").unwrap();
    }
}
