//! The draft: entries recorded at the desk and not yet signed, kept in the
//! portal's private folder (`.minhbach/desk/draft.jsonl`, never under
//! `ledger/`), so it survives a restart or a closed browser.
//!
//! Each line holds an entry body exactly as `parse_input` prepared it:
//! private fields are already commitments (a household's citizen ID is never
//! written here), and a progress photo is named by the ledger's own
//! content address, its bytes staged in `.minhbach/desk/uploads/<name>`
//! until the draft is signed.

use crate::ledger::entry::Body;
use crate::ledger::hex;
use crate::ledger::{Pending, PendingMedia};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One recorded entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DraftItem {
    /// When it was recorded (UTC), for the review page.
    pub recorded: String,
    pub body: Body,
}

/// The draft's files.
#[derive(Clone, Debug)]
pub struct Draft {
    path: PathBuf,
    uploads: PathBuf,
}

impl Draft {
    pub fn in_portal(root: &Path) -> Draft {
        let dir = root.join(".minhbach/desk");
        Draft {
            path: dir.join("draft.jsonl"),
            uploads: dir.join("uploads"),
        }
    }

    /// The marker written just before a signature and removed once the
    /// draft is cleared: if the desk stops in between, the next start sees
    /// that the draft was signed and does not offer it again.
    pub fn signing_marker(&self) -> PathBuf {
        self.path.with_file_name("signing.json")
    }

    /// Records that the draft (as it is now) is about to be signed as the
    /// entries `first_seq..first_seq + count`.
    pub fn mark_signing(&self, first_seq: u64, count: u64) -> Result<()> {
        let marker = serde_json::json!({
            "first_seq": first_seq,
            "count": count,
            "draft": self.digest()?,
        });
        std::fs::write(self.signing_marker(), marker.to_string())
            .with_context(|| format!("failed to write `{}`", self.signing_marker().display()))
    }

    /// Clears the draft and the signing marker after a signature.
    pub fn signed(&self) -> Result<()> {
        self.save(&[])?;
        self.prune_uploads(&[]);
        let _ = std::fs::remove_file(self.signing_marker());
        Ok(())
    }

    /// After an interruption between a signature and clearing the draft:
    /// clears the draft if the ledger (`ledger_size` entries) holds the
    /// entries the marker names and the draft is the one that was signed.
    /// Returns whether it did.
    pub fn recover_signing(&self, ledger_size: u64) -> Result<bool> {
        let Ok(text) = std::fs::read_to_string(self.signing_marker()) else {
            return Ok(false);
        };
        let marker: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let end = marker["first_seq"]
            .as_u64()
            .zip(marker["count"].as_u64())
            .map(|(a, b)| a + b);
        let signed = end.is_some_and(|end| ledger_size >= end)
            && marker["draft"].as_str() == Some(self.digest()?.as_str());
        if signed {
            self.signed()?;
        } else {
            let _ = std::fs::remove_file(self.signing_marker());
        }
        Ok(signed)
    }

    fn digest(&self) -> Result<String> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).context(format!("failed to read `{}`", self.path.display())),
        };
        Ok(hex(&Sha256::digest(bytes)))
    }

    /// Holds the draft for a change (record, remove, import, sign) until
    /// the returned file is dropped: an exclusive `flock` on
    /// `.minhbach/desk/draft.lock`, so two desks on one portal (or two
    /// requests of one desk) never lose each other's entries.
    pub fn lock(&self) -> Result<std::fs::File> {
        let dir = self.path.parent().expect("draft has a folder");
        crate::portal::lock_file(&dir.join("draft.lock"), || {})
    }

    pub fn uploads_dir(&self) -> &Path {
        &self.uploads
    }

    pub fn load(&self) -> Result<Vec<DraftItem>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).context(format!("failed to read `{}`", self.path.display())),
        };
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                serde_json::from_str(line)
                    .with_context(|| format!("`{}` line {}", self.path.display(), index + 1))
            })
            .collect()
    }

    /// Replaces the draft atomically (a new file renamed over the old one,
    /// mode 0600), so a crash leaves the old draft or the new, never half.
    pub fn save(&self, items: &[DraftItem]) -> Result<()> {
        let dir = self.path.parent().expect("draft has a folder");
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create `{}`", dir.display()))?;
        let mut file = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("failed to write in `{}`", dir.display()))?;
        for item in items {
            let line = serde_json::to_string(item).context("failed to encode a draft entry")?;
            writeln!(file, "{line}")?;
        }
        file.as_file().sync_all()?;
        file.persist(&self.path)
            .with_context(|| format!("failed to write `{}`", self.path.display()))?;
        Ok(())
    }

    /// Stages media bytes under the name the ledger gave them.
    pub fn stage(&self, media: &PendingMedia) -> Result<()> {
        check_media_name(&media.name)?;
        std::fs::create_dir_all(&self.uploads)
            .with_context(|| format!("failed to create `{}`", self.uploads.display()))?;
        let path = self.uploads.join(&media.name);
        if path.is_file() {
            return Ok(());
        }
        let mut file = tempfile::NamedTempFile::new_in(&self.uploads)?;
        file.write_all(&media.bytes)?;
        file.as_file().sync_all()?;
        file.persist(&path)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
        Ok(())
    }

    /// The draft item as the append transaction takes it: its body, and the
    /// staged bytes of each photo not yet in `ledger/media/`, checked
    /// against their content address.
    pub fn pending(&self, item: &DraftItem, media_dir: &Path) -> Result<Pending> {
        let mut media = Vec::new();
        if let Body::Progress(progress) = &item.body {
            for photo in &progress.photos {
                check_media_name(&photo.media)?;
                if media_dir.join(&photo.media).is_file() {
                    continue;
                }
                let path = self.uploads.join(&photo.media);
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                let hash = hex(&Sha256::digest(&bytes));
                if !photo.media.starts_with(&hash) {
                    bail!("`{}` does not match its content address", path.display());
                }
                media.push(PendingMedia {
                    name: photo.media.clone(),
                    bytes,
                });
            }
        }
        // The draft keeps no digit of a citizen ID, so a household
        // registered at the desk shows none even where the config allows.
        Ok(Pending {
            body: item.body.clone(),
            media,
            citizen_id_last4: None,
        })
    }

    /// Removes staged files no draft entry names any more.
    pub fn prune_uploads(&self, items: &[DraftItem]) {
        let named: std::collections::HashSet<&str> = items
            .iter()
            .filter_map(|item| match &item.body {
                Body::Progress(progress) => Some(progress.photos.iter().map(|p| p.media.as_str())),
                _ => None,
            })
            .flatten()
            .collect();
        let Ok(read) = std::fs::read_dir(&self.uploads) else {
            return;
        };
        for entry in read.flatten() {
            let name = entry.file_name();
            if !named.contains(name.to_string_lossy().as_ref()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// A media name is `<64 hex>.<ext>`: never a path.
fn check_media_name(name: &str) -> Result<()> {
    let ok = name.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == 64
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
            && !ext.is_empty()
            && ext.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !ok {
        bail!("`{name}` is not a content-addressed media name");
    }
    Ok(())
}
