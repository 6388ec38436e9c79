//! The files of a manifest, held compactly: a national site's output has
//! a million files, and a map with a `String` key each took a quarter of a
//! gigabyte (its table grows by doubling) on top of the paths' own
//! allocations. Here the paths are one string, one after another; each
//! file is a fixed-size entry pointing into it; a hash table of entry
//! numbers finds a path.

use super::Recorded;
use hashbrown::HashTable;

/// Output path → what the file was when written.
#[derive(Default)]
pub(super) struct Files {
    /// Every path, one after another.
    paths: String,
    entries: Vec<Entry>,
    /// Entry numbers, by the hash of their path.
    index: HashTable<u32>,
    hasher: ahash::RandomState,
}

struct Entry {
    start: u32,
    len: u32,
    recorded: Recorded,
}

impl Files {
    /// Room for `files` more files whose paths take `bytes` in all.
    pub fn reserve(&mut self, files: usize, bytes: usize) {
        self.paths.reserve(bytes);
        self.entries.reserve(files);
        let hasher = &self.hasher;
        let (paths, entries) = (&self.paths, &self.entries);
        self.index.reserve(files, |&at| {
            hasher.hash_one(path_of(paths, &entries[at as usize]))
        });
    }

    /// Records `path` (replacing what was recorded for it); `None` if the
    /// files outgrow what an entry can point to (4 GiB of paths).
    pub fn insert(&mut self, path: &str, recorded: Recorded) -> Option<()> {
        let hash = self.hasher.hash_one(path);
        let (paths, entries) = (&self.paths, &mut self.entries);
        let found = self
            .index
            .find(hash, |&at| path_of(paths, &entries[at as usize]) == path);
        if let Some(at) = found.copied() {
            entries[at as usize].recorded = recorded;
            return Some(());
        }
        let entry = Entry {
            start: u32::try_from(self.paths.len()).ok()?,
            len: u32::try_from(path.len()).ok()?,
            recorded,
        };
        u32::try_from(self.paths.len() + path.len()).ok()?;
        let at = u32::try_from(self.entries.len()).ok()?;
        self.paths.push_str(path);
        self.entries.push(entry);
        let (paths, entries, hasher) = (&self.paths, &self.entries, &self.hasher);
        self.index.insert_unique(hash, at, |&at| {
            hasher.hash_one(path_of(paths, &entries[at as usize]))
        });
        Some(())
    }

    pub fn get(&self, path: &str) -> Option<&Recorded> {
        let hash = self.hasher.hash_one(path);
        let at = self.index.find(hash, |&at| {
            path_of(&self.paths, &self.entries[at as usize]) == path
        })?;
        Some(&self.entries[*at as usize].recorded)
    }

    pub fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every file, in the order first recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Recorded)> {
        (self.entries.iter()).map(|entry| (path_of(&self.paths, entry), &entry.recorded))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(path, _)| path)
    }
}

fn path_of<'p>(paths: &'p str, entry: &Entry) -> &'p str {
    &paths[entry.start as usize..(entry.start + entry.len) as usize]
}

/// The same files with the same records, in whatever order.
impl PartialEq for Files {
    fn eq(&self, other: &Files) -> bool {
        self.len() == other.len()
            && (self.iter()).all(|(path, recorded)| other.get(path) == Some(recorded))
    }
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(len: u64) -> Recorded {
        Recorded {
            len,
            modified: 7,
            hash: [1; 32],
            inputs: None,
        }
    }

    #[test]
    fn paths_are_found_replaced_and_listed_in_order() {
        let mut files = Files::default();
        files.reserve(2, 10);
        let paths: Vec<String> = (0..1000).map(|n| format!("ho/hh-{n}/index.html")).collect();
        for (n, path) in paths.iter().enumerate() {
            files.insert(path, recorded(n as u64)).unwrap();
        }
        assert_eq!(files.len(), 1000);
        assert_eq!(files.get("ho/hh-999/index.html"), Some(&recorded(999)));
        assert_eq!(files.get("ho/hh-1000/index.html"), None);
        assert!(!files.contains_key("ho/hh-1/index.htm"));
        files.insert("ho/hh-5/index.html", recorded(1)).unwrap();
        assert_eq!(files.len(), 1000, "replaced, not added");
        assert_eq!(files.get("ho/hh-5/index.html"), Some(&recorded(1)));
        let listed: Vec<&str> = files.keys().collect();
        assert_eq!(listed, paths.iter().map(String::as_str).collect::<Vec<_>>());
        let mut reversed = Files::default();
        for (path, recorded) in files.iter().collect::<Vec<_>>().into_iter().rev() {
            reversed.insert(path, *recorded).unwrap();
        }
        assert_eq!(reversed, files);
        reversed.insert("another", recorded(0)).unwrap();
        assert_ne!(reversed, files);
        assert!(Files::default().is_empty());
    }
}
