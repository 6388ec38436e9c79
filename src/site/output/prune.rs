//! Removing what the new site no longer has, and nothing else.
//!
//! A build deletes only what an earlier build of the same output wrote: the
//! files its manifest lists that this build did not produce, and then the
//! directories it recorded that hold nothing any more. A file someone put
//! into the output by hand is never deleted (it stays, and is published with
//! the site), so pointing `-o` at the wrong folder cannot destroy anything
//! the build did not make. Removal never goes through a symbolic link inside
//! the output: a recorded path whose directory has been replaced by a link
//! to somewhere else is left alone.

use super::Manifest;
use ahash::AHashSet;
use anyhow::{Context, Result, bail};
use std::collections::HashSet;
use std::path::Path;

/// Every directory holding output, with `""` for the output itself.
fn needed_dirs<'a>(paths: impl Iterator<Item = &'a str>) -> AHashSet<&'a str> {
    let mut needed = AHashSet::from_iter([""]);
    for path in paths {
        for parent in ancestors(path) {
            if !needed.insert(parent) {
                break;
            }
        }
    }
    needed
}

/// `a/b` then `a` for `a/b/c.html`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(path.rsplit_once('/').map(|(parent, _)| parent), |dir| {
        dir.rsplit_once('/').map(|(parent, _)| parent)
    })
}

/// The directories of a build's output.
pub(super) struct Dirs<'a> {
    /// Every one, sorted, with `""` for the output itself: for the manifest.
    pub needed: Vec<&'a str>,
    /// Those the previous build recorded that this one does not need.
    pub unneeded: Vec<&'a str>,
}

/// The directories of this build's output, made of the previous build's
/// files it `kept` and the files it wrote or recorded anew (`changed`).
/// With no `stale` file, every directory the previous build recorded still
/// holds one of its files, so only the changed files can add one: the
/// kept files (nearly all of a rebuild's) are not walked.
pub(super) fn dirs<'a>(
    previous: &'a Manifest,
    kept: impl Iterator<Item = &'a str>,
    changed: impl Iterator<Item = &'a str>,
    stale: bool,
) -> Dirs<'a> {
    let mut needed: Vec<&str>;
    let mut unneeded = Vec::new();
    if stale {
        let set = needed_dirs(kept.chain(changed));
        unneeded = (previous.dirs.keys())
            .filter(|dir| !set.contains(dir))
            .collect();
        needed = set.into_iter().collect();
    } else {
        let mut added = AHashSet::new();
        if !previous.dirs.contains_key("") {
            added.insert("");
        }
        for path in changed {
            for parent in ancestors(path) {
                if previous.dirs.contains_key(parent) || !added.insert(parent) {
                    break;
                }
            }
        }
        needed = previous.dirs.keys().chain(added).collect();
    }
    needed.sort_unstable();
    Dirs { needed, unneeded }
}

/// The directories of a first build's output (every file `changed`).
pub(super) fn first_dirs<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut needed: Vec<&str> = needed_dirs(paths).into_iter().collect();
    needed.sort_unstable();
    needed
}

/// What pruning removed.
pub(super) struct Pruned {
    /// Files removed.
    pub removed: usize,
}

/// Removes the files of the last build that this one did not produce
/// (`stale`, from its manifest), then the directories the last build
/// recorded that no output needs (`unneeded`), if empty.
pub(super) fn remove_stale<'a>(
    output: &Path,
    stale: impl Iterator<Item = &'a str>,
    mut unneeded: Vec<&str>,
) -> Result<Pruned> {
    let mut pruned = Pruned { removed: 0 };
    let mut real = RealDirs::default();
    for path in stale {
        if !real.all_real(output, parent_of(path)) {
            continue;
        }
        let file = output.join(path);
        match std::fs::symlink_metadata(&file) {
            Ok(meta) if !meta.is_dir() => {
                std::fs::remove_file(&file)
                    .with_context(|| format!("failed to remove `{}`", file.display()))?;
                pruned.removed += 1;
            }
            _ => {}
        }
    }
    // Deepest first, so a directory is empty by the time it comes; one
    // holding something else (a file put there by hand) stays.
    unneeded.sort_by_key(|dir| std::cmp::Reverse(dir.matches('/').count()));
    for dir in unneeded {
        if real.all_real(output, dir) {
            let _ = std::fs::remove_dir(output.join(dir));
        }
    }
    Ok(pruned)
}

/// Makes room for the file `path` of this build: a directory in its place,
/// or a file in place of one of its directories, is removed only if the last
/// build made it (an empty directory, or one holding only files the manifest
/// lists); anything else stops the merge with an error naming it.
pub(super) fn clear_way(output: &Path, path: &str, previous: &Manifest) -> Result<()> {
    let target = output.join(path);
    if std::fs::symlink_metadata(&target).is_ok_and(|meta| meta.is_dir()) {
        let foreign = walkdir::WalkDir::new(&target)
            .into_iter()
            .filter_map(|entry| entry.ok())
            .filter(|entry| !entry.file_type().is_dir())
            .find(|entry| {
                let relative = super::relative_slash_path(output, entry.path());
                !previous.files.contains_key(&relative)
            });
        if let Some(entry) = foreign {
            bail!(
                "cannot write `{path}`: the folder `{}` is in its place and holds `{}`, which no earlier build made; move it away",
                target.display(),
                entry.path().display()
            );
        }
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("failed to remove `{}`", target.display()))?;
    }
    let mut dir = parent_of(path);
    while !dir.is_empty() {
        let full = output.join(dir);
        if std::fs::symlink_metadata(&full).is_ok_and(|meta| !meta.is_dir()) {
            if !previous.files.contains_key(dir) {
                bail!(
                    "cannot write `{path}`: `{}` is a file or link that no earlier build made; move it away",
                    full.display()
                );
            }
            std::fs::remove_file(&full)
                .with_context(|| format!("failed to remove `{}`", full.display()))?;
        }
        dir = parent_of(dir);
    }
    Ok(())
}

/// `a/b` for `a/b/c.html`, `""` for `c.html`.
pub(super) fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Directories of the output already seen to be real directories (not
/// symbolic links), so each is checked once.
#[derive(Default)]
pub(super) struct RealDirs {
    seen: HashSet<String>,
}

impl RealDirs {
    /// Whether `dir` and each directory above it inside the output is a real
    /// directory (`false` for a link, or if missing).
    pub(super) fn all_real(&mut self, output: &Path, dir: &str) -> bool {
        let mut checked = Vec::new();
        let mut current = dir;
        while !current.is_empty() && !self.seen.contains(current) {
            let real = std::fs::symlink_metadata(output.join(current))
                .is_ok_and(|meta| meta.file_type().is_dir());
            if !real {
                return false;
            }
            checked.push(current);
            current = parent_of(current);
        }
        self.seen.extend(checked.into_iter().map(str::to_string));
        true
    }
}
