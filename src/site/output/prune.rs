//! Removing what the new site no longer has, without listing the whole
//! output when the manifest allows.
//!
//! A rebuild must remove the files the last build wrote and this one did not,
//! and any stray file someone put into the output. Listing the whole output
//! finds both, but at W2 that is 110,000 directories and took 1.5–5 s of a
//! rebuild. The manifest also records each directory's modification time
//! when the last build ended. A directory whose time is unchanged has gained
//! and lost no entry since (adding, removing or renaming an entry changes
//! it), so it holds exactly the files the manifest lists and need not be
//! listed: stale files come from the manifest, and only the directories that
//! changed are listed for strays. This is git's index test applied to
//! directories, with git's answer to its race: a directory changed in the
//! last two seconds before the manifest was written may have gained an entry
//! within the same clock tick, and is listed anyway. Without directory
//! records (no manifest, or one from an older version) the whole output is
//! listed, as before.

use super::{Manifest, Staged, mtime_nanos};
use anyhow::{Context, Result};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// How recently before the manifest was written a directory may have changed
/// and still be trusted unlisted (nanoseconds): more than the file system's
/// clock tick plus the time between recording directories and writing the
/// manifest.
const RACY_NANOS: i128 = 2_000_000_000;

/// Every directory holding output, with `""` for the output itself.
pub(super) fn needed_dirs<'a>(paths: impl Iterator<Item = &'a String>) -> HashSet<&'a str> {
    let mut needed = HashSet::from([""]);
    for path in paths {
        let mut rest = path.as_str();
        while let Some((parent, _)) = rest.rsplit_once('/') {
            if !needed.insert(parent) {
                break;
            }
            rest = parent;
        }
    }
    needed
}

/// The directories of the last build whose entries cannot have changed since
/// it: same modification time as recorded, and not changed just before the
/// manifest was written. Read before this build touches anything.
pub(super) fn clean_dirs<'a>(output: &Path, previous: &'a Manifest) -> HashSet<&'a str> {
    let Some(written) = previous.written else {
        return HashSet::new();
    };
    previous
        .dirs
        .par_iter()
        .filter(|(_, recorded)| **recorded + RACY_NANOS < written)
        .filter(|(dir, recorded)| {
            std::fs::symlink_metadata(output.join(dir))
                .is_ok_and(|meta| meta.is_dir() && mtime_nanos(&meta) == Some(**recorded))
        })
        .map(|(dir, _)| dir.as_str())
        .collect()
}

/// What pruning removed.
pub(super) struct Pruned {
    /// Files removed.
    pub removed: usize,
    /// Every path removed, files and directories: their directories changed.
    pub paths: Vec<String>,
}

/// Removes every file under `output` that this build did not produce, and
/// the directories that hold no output. Listing everything when the last
/// build recorded no directories.
pub(super) fn remove_stale(
    output: &Path,
    staged: &BTreeMap<String, Staged>,
    needed: &HashSet<&str>,
    previous: &Manifest,
    clean: &HashSet<&str>,
) -> Result<Pruned> {
    let mut pruned = Pruned {
        removed: 0,
        paths: Vec::new(),
    };
    let mut unneeded_dirs: Vec<String> = Vec::new();
    if previous.dirs.is_empty() {
        list_all(output, staged, needed, &mut pruned, &mut unneeded_dirs)?;
    } else {
        // Files of the last build that this one did not produce.
        for path in previous.files.keys() {
            if !staged.contains_key(path) {
                remove_file_if_any(output, path, &mut pruned)?;
            }
        }
        // Strays, in every directory that changed or is new.
        let unsure = needed
            .iter()
            .copied()
            .chain(previous.dirs.keys().map(String::as_str))
            .filter(|dir| !clean.contains(dir))
            .collect::<HashSet<&str>>();
        for dir in unsure {
            list_one(output, dir, staged, needed, previous, &mut pruned)?;
        }
        unneeded_dirs.extend(
            previous
                .dirs
                .keys()
                .filter(|dir| !needed.contains(dir.as_str()))
                .cloned(),
        );
    }
    // Deepest first, so a directory is empty by the time it comes; one
    // holding something else (a stray file that could not go) stays.
    unneeded_dirs.sort_by_key(|dir| std::cmp::Reverse(dir.matches('/').count()));
    for dir in unneeded_dirs {
        if std::fs::remove_dir(output.join(&dir)).is_ok() {
            pruned.paths.push(dir);
        }
    }
    Ok(pruned)
}

/// Removes `output/path` if it is there and is not a directory.
fn remove_file_if_any(output: &Path, path: &str, pruned: &mut Pruned) -> Result<()> {
    let file = output.join(path);
    match std::fs::symlink_metadata(&file) {
        Ok(meta) if !meta.is_dir() => {
            std::fs::remove_file(&file)
                .with_context(|| format!("failed to remove `{}`", file.display()))?;
            pruned.removed += 1;
            pruned.paths.push(path.to_string());
        }
        _ => {}
    }
    Ok(())
}

/// Lists one directory: removes the files this build did not produce, and
/// whole subdirectories that neither build knew.
fn list_one(
    output: &Path,
    dir: &str,
    staged: &BTreeMap<String, Staged>,
    needed: &HashSet<&str>,
    previous: &Manifest,
    pruned: &mut Pruned,
) -> Result<()> {
    let full = output.join(dir);
    let entries = match std::fs::read_dir(&full) {
        Ok(entries) => entries,
        // Gone or replaced by a file: nothing to list.
        Err(_) => return Ok(()),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list `{}`", full.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if dir.is_empty() {
            name
        } else {
            format!("{dir}/{name}")
        };
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if !is_dir {
            if !staged.contains_key(&relative) {
                remove_file_if_any(output, &relative, pruned)?;
            }
        } else if !needed.contains(relative.as_str()) && !previous.dirs.contains_key(&relative) {
            remove_stray_tree(output, &relative, pruned)?;
        }
    }
    Ok(())
}

/// Removes a directory neither build knew, with everything in it (its files
/// counted as removed).
fn remove_stray_tree(output: &Path, relative: &str, pruned: &mut Pruned) -> Result<()> {
    let root = output.join(relative);
    pruned.removed += walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(|entry| entry.ok())
        .filter(|entry| !entry.file_type().is_dir())
        .count();
    std::fs::remove_dir_all(&root)
        .with_context(|| format!("failed to remove `{}`", root.display()))?;
    pruned.paths.push(relative.to_string());
    Ok(())
}

/// Lists the whole tree under `root`: removes every file not in `staged` and
/// collects (contents first) the directories not in `needed`, relative to
/// `root`. Only directories holding no output are collected: at W2 there are
/// 110,000 directories, and a failing `rmdir` on each cost seconds.
fn list_all(
    root: &Path,
    staged: &BTreeMap<String, Staged>,
    needed: &HashSet<&str>,
    pruned: &mut Pruned,
    unneeded_dirs: &mut Vec<String>,
) -> Result<()> {
    for entry in walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .contents_first(true)
    {
        let entry = entry.with_context(|| format!("failed to list `{}`", root.display()))?;
        let relative = super::relative_slash_path(root, entry.path());
        if entry.file_type().is_dir() {
            if !needed.contains(relative.as_str()) {
                unneeded_dirs.push(relative);
            }
        } else if !staged.contains_key(&relative) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("failed to remove `{}`", entry.path().display()))?;
            pruned.removed += 1;
        }
    }
    Ok(())
}

/// The modification time of every output directory after this build, for
/// the manifest. Directories that were clean and that nothing in this build
/// touched keep the time read before it; the others are read again.
pub(super) fn directory_times(
    output: &Path,
    needed: &HashSet<&str>,
    previous: &Manifest,
    clean: &HashSet<&str>,
    touched_paths: impl Iterator<Item = impl AsRef<str>>,
) -> Vec<(String, i128)> {
    let mut touched: HashSet<String> = HashSet::from([String::new()]);
    for path in touched_paths {
        let mut rest = path.as_ref();
        while let Some((parent, _)) = rest.rsplit_once('/') {
            if !touched.insert(parent.to_string()) {
                break;
            }
            rest = parent;
        }
    }
    let mut times: Vec<(String, i128)> = needed
        .par_iter()
        .filter_map(|dir| {
            let unchanged = clean.contains(dir) && !touched.contains(*dir);
            let time = match previous.dirs.get(*dir) {
                Some(recorded) if unchanged => Some(*recorded),
                _ => std::fs::symlink_metadata(output.join(dir))
                    .ok()
                    .and_then(|meta| mtime_nanos(&meta)),
            };
            time.map(|time| (dir.to_string(), time))
        })
        .collect();
    times.sort_unstable();
    times
}
