//! What every signing command shares: the officer's private key and the
//! portal secret read with the same checks, private files written owner-only,
//! and a batch appended and reported the same way (`append`, `key`,
//! `import`, `init`, the desk).

use super::{now, usage};
use crate::ledger::note::SigningKey;
use crate::ledger::{AppendError, AppendReport, Ledger, Pending, Secret};
use crate::portal::Portal;
use anyhow::{Result, bail};
use std::io::Write as _;
use std::path::Path;

/// Reads a private key file, warning if others can read it and refusing it
/// inside a portal's published folders. A malformed file is reported
/// without its contents.
pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey> {
    crate::portal::refuse_published_private_file(path, "the private key")
        .map_err(|e| usage(format!("{e:#}")))?;
    let text = std::fs::read_to_string(path).map_err(|e| {
        usage(format!(
            "cannot read the private key `{}`: {e}",
            path.display()
        ))
    })?;
    warn_if_readable_by_others(path, "the private key");
    SigningKey::parse(&text).map_err(|e| {
        usage(format!(
            "`{}` is not a minhbach private key: {e}",
            path.display()
        ))
    })
}

/// Reads the portal secret if it exists, warning when others can read it
/// and refusing it inside a published folder (`ledger.secret` could point
/// there). Its contents never appear in a message.
pub(crate) fn load_secret(portal: &Portal) -> Result<Option<Secret>> {
    let path = portal.secret_path();
    if !path.exists() {
        return Ok(None);
    }
    crate::portal::refuse_published_private_file(&path, "the portal secret")
        .map_err(|e| usage(format!("{e:#}")))?;
    warn_if_readable_by_others(&path, "the portal secret");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        anyhow::anyhow!("failed to read the portal secret `{}`: {e}", path.display())
    })?;
    let secret = Secret::parse(&text).map_err(|e| anyhow::anyhow!("`{}`: {e}", path.display()))?;
    Ok(Some(secret))
}

/// Private files should be readable by their owner only: a warning (not a
/// refusal) when the group or others may read `path`, because a key copied
/// from a USB stick or a shared drive often arrives with mode 0644 and the
/// officer's work should not stop for it.
pub(crate) fn warn_if_readable_by_others(path: &Path, what: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {what} `{}` can be read by other users; run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
}

/// Writes a private file that only its owner can read (mode 0600), refusing
/// to overwrite an existing one.
pub(crate) fn write_private_file(path: &Path, contents: &str) -> Result<()> {
    use std::fs::OpenOptions;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("failed to create `{}`: {e}", parent.display()))?;
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            usage(format!(
                "`{}` already exists; refusing to overwrite it",
                path.display()
            ))
        } else {
            anyhow::anyhow!("failed to create `{}`: {e}", path.display())
        }
    })?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("failed to write `{}`: {e}", path.display()))
}

/// Appends and reports, naming the input line of a refused entry.
pub(crate) fn append_inputs(
    ledger: &Ledger,
    pending: Vec<Pending>,
    key: &SigningKey,
    describe: &dyn Fn(usize) -> String,
) -> Result<AppendReport> {
    match ledger.append(pending, key, &now()) {
        Ok(report) => {
            println!(
                "appended entries {}–{} and signed checkpoint {} as `{}`",
                report.first_seq,
                report.first_seq + report.appended - 1,
                report.checkpoint.size,
                key.name()
            );
            Ok(report)
        }
        Err(AppendError::Entry { index, error }) => {
            bail!("{}: {error}\nnothing was appended", describe(index))
        }
        Err(error) => Err(error.into()),
    }
}
