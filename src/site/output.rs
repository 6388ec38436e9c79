//! Where rendered files go: memory (for `check`, `serve` and tests) or disk.
//!
//! A disk build is staged: every file is written under a staging directory
//! beside the output, and only when the whole site has rendered is it merged
//! into place. Merging compares bytes and replaces only the files that
//! changed, then removes files the new site no longer has. A build that fails
//! while rendering therefore leaves the previous output untouched, and a
//! rebuild after a small append rewrites only the few pages it concerns (so
//! `rsync`, a CDN or `git diff` of the output see only real changes).

use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A destination for rendered files, shared by the rendering threads. Paths
/// are relative to the site root, with `/` separators (`quy/bao-yagi/index.html`).
pub trait Sink: Sync {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<()>;
    /// Copies a file (static files, photos) without reading it into memory
    /// where the sink allows.
    fn copy(&self, path: &str, source: &Path) -> Result<()> {
        let bytes = std::fs::read(source)
            .with_context(|| format!("failed to read `{}`", source.display()))?;
        self.write(path, &bytes)
    }
    /// The file at `path` in the previous build's output, if the sink has
    /// one: lets slow derived files (photo renditions) be reused.
    fn previous(&self, _path: &str) -> Option<PathBuf> {
        None
    }
}

/// Keeps every file in memory, sorted by path.
#[derive(Default)]
pub struct MemorySink {
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemorySink {
    pub fn into_files(self) -> BTreeMap<String, Vec<u8>> {
        self.files.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for MemorySink {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<()> {
        check_relative(path)?;
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if files.insert(path.to_string(), bytes.to_vec()).is_some() {
            bail!("two outputs were rendered to `{path}`");
        }
        Ok(())
    }
}

/// Renders into a staging directory beside the output, then moves what
/// changed into place (`merge_into`). A file whose bytes equal the output's
/// is not staged at all, and staged files are kept flat (`staging/<n>`), so a
/// rebuild creates no directories for unchanged pages: on a site of hundreds
/// of thousands of pages, `mkdir` was the largest cost of a build.
pub struct StagingSink {
    staging: PathBuf,
    output: PathBuf,
    /// Output path → its staged file, or `None` when unchanged.
    staged: Mutex<BTreeMap<String, Option<PathBuf>>>,
    next: AtomicU64,
}

/// What a merge did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

impl StagingSink {
    pub fn new(output: &Path) -> Result<StagingSink> {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "public".into());
        let parent = output
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("failed to remove `{}`", staging.display()))?;
        }
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("failed to create `{}`", staging.display()))?;
        Ok(StagingSink {
            staging,
            output: output.to_path_buf(),
            staged: Mutex::new(BTreeMap::new()),
            next: AtomicU64::new(0),
        })
    }

    /// Records `path`, refusing a second output to the same path.
    fn record(&self, path: &str, staged: Option<PathBuf>) -> Result<()> {
        let mut all = self.staged.lock().unwrap_or_else(|e| e.into_inner());
        if all.insert(path.to_string(), staged).is_some() {
            bail!("two outputs were rendered to `{path}`");
        }
        Ok(())
    }

    /// Drops the staged files (a failed build): the output is untouched.
    pub fn discard(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
    }

    /// Moves changed files into `output` and removes files no longer
    /// produced.
    pub fn merge_into(self, output: &Path) -> Result<MergeReport> {
        let result = self.merge(output);
        let _ = std::fs::remove_dir_all(&self.staging);
        result
    }

    fn merge(&self, output: &Path) -> Result<MergeReport> {
        let staged = self.staged.lock().unwrap_or_else(|e| e.into_inner());
        std::fs::create_dir_all(output)
            .with_context(|| format!("failed to create `{}`", output.display()))?;
        let mut report = MergeReport::default();
        for (path, file) in staged.iter() {
            let Some(file) = file else {
                report.unchanged += 1;
                continue;
            };
            let target = output.join(path);
            if target.is_dir() {
                std::fs::remove_dir_all(&target)
                    .with_context(|| format!("failed to remove `{}`", target.display()))?;
            }
            if let Some(parent) = target.parent() {
                if parent.is_file() {
                    std::fs::remove_file(parent)
                        .with_context(|| format!("failed to remove `{}`", parent.display()))?;
                }
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("failed to create `{}`", parent.display()))?;
            }
            std::fs::rename(file, &target).with_context(|| {
                format!(
                    "failed to move `{}` to `{}`",
                    file.display(),
                    target.display()
                )
            })?;
            report.written += 1;
        }
        let mut stale_dirs = Vec::new();
        for entry in walkdir::WalkDir::new(output)
            .min_depth(1)
            .sort_by_file_name()
            .contents_first(true)
        {
            let entry = entry.with_context(|| format!("failed to list `{}`", output.display()))?;
            let relative = relative_slash_path(output, entry.path());
            if entry.file_type().is_dir() {
                stale_dirs.push(entry.path().to_path_buf());
            } else if !staged.contains_key(&relative) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("failed to remove `{}`", entry.path().display()))?;
                report.removed += 1;
            }
        }
        // Only empty directories go; `remove_dir` refuses the others.
        for dir in stale_dirs {
            let _ = std::fs::remove_dir(&dir);
        }
        Ok(report)
    }
}

impl Sink for StagingSink {
    fn write(&self, path: &str, bytes: &[u8]) -> Result<()> {
        check_relative(path)?;
        let existing = self.output.join(path);
        let same = std::fs::metadata(&existing)
            .is_ok_and(|meta| meta.is_file() && meta.len() == bytes.len() as u64)
            && std::fs::read(&existing).is_ok_and(|old| old == bytes);
        if same {
            return self.record(path, None);
        }
        let file = self
            .staging
            .join(self.next.fetch_add(1, Ordering::Relaxed).to_string());
        std::fs::write(&file, bytes)
            .with_context(|| format!("failed to write `{}`", file.display()))?;
        self.record(path, Some(file))
    }

    fn copy(&self, path: &str, source: &Path) -> Result<()> {
        let bytes = std::fs::read(source)
            .with_context(|| format!("failed to read `{}`", source.display()))?;
        self.write(path, &bytes)
    }

    fn previous(&self, path: &str) -> Option<PathBuf> {
        check_relative(path).ok()?;
        let file = self.output.join(path);
        file.is_file().then_some(file)
    }
}

/// `root/a/b.html` → `a/b.html`.
pub fn relative_slash_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Output paths come from ledger ids and content file names: refuse anything
/// that could leave the output directory.
fn check_relative(path: &str) -> Result<()> {
    let ok = !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        bail!("refusing to write `{path}`: output paths must stay inside the output directory");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        let sink = MemorySink::default();
        assert!(sink.write("../x", b"").is_err());
        assert!(sink.write("/etc/x", b"").is_err());
        assert!(sink.write("a/../../x", b"").is_err());
        sink.write("a/b.html", b"x").unwrap();
        assert!(sink.write("a/b.html", b"y").is_err());
    }

    #[test]
    fn merge_is_incremental() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("public");
        let first = StagingSink::new(&output).unwrap();
        first.write("a.html", b"a").unwrap();
        first.write("old/b.html", b"b").unwrap();
        assert_eq!(
            first.merge_into(&output).unwrap(),
            MergeReport {
                written: 2,
                unchanged: 0,
                removed: 0
            }
        );
        let second = StagingSink::new(&output).unwrap();
        second.write("a.html", b"a").unwrap();
        second.write("c.html", b"c").unwrap();
        assert_eq!(
            second.merge_into(&output).unwrap(),
            MergeReport {
                written: 1,
                unchanged: 1,
                removed: 1
            }
        );
        assert!(!output.join("old").exists());
        assert_eq!(std::fs::read(output.join("c.html")).unwrap(), b"c");
    }
}
