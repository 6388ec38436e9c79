//! One build at a time for an output, and what a build that never finished
//! left beside it removed.
//!
//! A build writes more than `public/`: a staging directory, the manifest and
//! the states beside it (`.public.staging-<pid>`, `.public.manifest`,
//! `.public.model-chunks/`, …), each under a temporary name until it is put
//! in place. Two builds at once (`serve` rebuilding while an officer runs
//! `build`, or the desk publishing) would sweep each other's chunks and
//! merge over each other's output; a build killed or cut off by a power
//! failure leaves its temporaries behind, and at national scale a staging
//! directory is gigabytes. So a build holds an exclusive lock on
//! `.public.lock` from before it reads the last manifest to after it writes
//! the states, a second build waits for it (and says so), and the build that
//! holds the lock removes the temporary names of the staging directory, the
//! manifest and the states it finds: none of them can be a running build's.
//! Anything else beside the output is left alone.

use super::{MANIFEST, STAGING, sibling, temporary_of};
use anyhow::Result;
use std::path::Path;

/// Held for a whole build (`site::build`); released when dropped, and by
/// the system when the process ends however it ends.
#[derive(Debug)]
pub struct BuildLock {
    _file: std::fs::File,
}

impl BuildLock {
    /// Takes the lock on `output`, waiting for a build that holds it, then
    /// removes what builds that did not finish left beside `output`: the
    /// temporaries of its staging directory, its manifest and the states
    /// named `states` (`reuse::NAMES`).
    pub fn take(output: &Path, states: &[&str]) -> Result<BuildLock> {
        let file = crate::portal::lock_file(&sibling(output, "lock"), || {
            eprintln!(
                "build: một lần dựng khác đang ghi `{0}`; chờ nó xong / \
                 another build is writing `{0}`; waiting for it to finish",
                output.display()
            );
        })?;
        remove_leftovers(output, states);
        Ok(BuildLock { _file: file })
    }
}

/// Removes the temporaries beside `output` (`.public.<name>-<digits>`, where
/// `<name>` is the staging directory's, the manifest's or a state's: one not
/// yet put in place). Called only under the lock. Any other name stays, a
/// file of the user's too; one that cannot be removed stays for the next
/// build to try.
fn remove_leftovers(output: &Path, states: &[&str]) {
    let marker = sibling(output, "");
    let (Some(folder), Some(prefix)) = (marker.parent(), marker.file_name()) else {
        return;
    };
    let prefix = prefix.to_string_lossy();
    let Ok(listing) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in listing.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|name| name.strip_prefix(&*prefix)) else {
            continue;
        };
        if !is_temporary(rest, states) {
            continue;
        }
        // `file_type` does not follow a link: a link is removed, never
        // what it points to.
        let _ = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(entry.path()),
            Ok(_) => std::fs::remove_file(entry.path()),
            Err(_) => continue,
        };
    }
}

/// `staging-123`, `manifest-123`, `model-state-123`: the temporary name
/// (`output::temporary`) of the staging directory, the manifest or one of
/// `states`.
fn is_temporary(rest: &str, states: &[&str]) -> bool {
    temporary_of(rest)
        .is_some_and(|name| [STAGING, MANIFEST].contains(&name) || states.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_temporary_names_are_leftovers() {
        let states = ["model-state", "household-pages-state"];
        for name in [
            "staging-4242",
            "manifest-1",
            "model-state-98765",
            "household-pages-state-7",
        ] {
            assert!(is_temporary(name, &states), "{name}");
        }
        for name in [
            "manifest",
            "model-state",
            "model-chunks",
            "household-pages-state",
            "lock",
            "staging-",
            "-12",
            "manifest-12a",
            "backup-20251130",
            "lookup-state-12",
        ] {
            assert!(!is_temporary(name, &states), "{name}");
        }
    }
}
