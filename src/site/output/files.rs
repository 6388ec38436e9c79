//! The files of a manifest, held compactly: a national site's output has
//! a million files, and a map with a `String` key each took a quarter of a
//! gigabyte (its table grows by doubling) on top of the paths' own
//! allocations. Here the paths are one string, one after another; each
//! file is a fixed-size entry pointing into it; a hash table of entry
//! numbers finds a path. The same structure holds what a build does with
//! the files it writes anew ([`super::Staged`]).

use super::Recorded;
use hashbrown::HashTable;

/// Output path → what the file was when written (the manifest's), or
/// what this build does with it.
pub(super) struct Files<V = Recorded> {
    /// Every path, one after another.
    paths: String,
    entries: Vec<Entry<V>>,
    /// Entry numbers, by the hash of their path.
    index: HashTable<u32>,
    hasher: ahash::RandomState,
}

struct Entry<V> {
    start: u32,
    len: u32,
    value: V,
}

impl<V> Default for Files<V> {
    fn default() -> Files<V> {
        Files {
            paths: String::new(),
            entries: Vec::new(),
            index: HashTable::new(),
            hasher: ahash::RandomState::default(),
        }
    }
}

impl<V> Files<V> {
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
    pub fn insert(&mut self, path: &str, value: V) -> Option<()> {
        match self.insert_new(path, value)? {
            Ok(()) => Some(()),
            Err((at, value)) => {
                self.entries[at].value = value;
                Some(())
            }
        }
    }

    /// Records `path` unless it is there already: then `Err` gives back its
    /// entry number and `value`. `None` as for `insert`.
    pub fn insert_new(&mut self, path: &str, value: V) -> Option<Result<(), (usize, V)>> {
        let hash = self.hasher.hash_one(path);
        let (paths, entries) = (&self.paths, &self.entries);
        let found = self
            .index
            .find(hash, |&at| path_of(paths, &entries[at as usize]) == path);
        if let Some(&at) = found {
            return Some(Err((at as usize, value)));
        }
        let entry = Entry {
            start: u32::try_from(self.paths.len()).ok()?,
            len: u32::try_from(path.len()).ok()?,
            value,
        };
        u32::try_from(self.paths.len() + path.len()).ok()?;
        let at = u32::try_from(self.entries.len()).ok()?;
        self.paths.push_str(path);
        self.entries.push(entry);
        let (paths, entries, hasher) = (&self.paths, &self.entries, &self.hasher);
        self.index.insert_unique(hash, at, |&at| {
            hasher.hash_one(path_of(paths, &entries[at as usize]))
        });
        Some(Ok(()))
    }

    pub fn get(&self, path: &str) -> Option<&V> {
        self.find(path).map(|(_, value)| value)
    }

    /// The entry number of `path` (its place in `iter`) and its value.
    pub fn find(&self, path: &str) -> Option<(usize, &V)> {
        let hash = self.hasher.hash_one(path);
        let at = *self.index.find(hash, |&at| {
            path_of(&self.paths, &self.entries[at as usize]) == path
        })? as usize;
        Some((at, &self.entries[at].value))
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

    /// Every file, in the order first recorded (entry numbers counting
    /// from 0).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &V)> {
        (self.entries.iter()).map(|entry| (path_of(&self.paths, entry), &entry.value))
    }

    /// `iter` on every core.
    pub fn par_iter(&self) -> impl rayon::iter::IndexedParallelIterator<Item = (&str, &V)>
    where
        V: Sync,
    {
        use rayon::prelude::*;
        (self.entries.par_iter()).map(|entry| (path_of(&self.paths, entry), &entry.value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(path, _)| path)
    }
}

fn path_of<'p, V>(paths: &'p str, entry: &Entry<V>) -> &'p str {
    &paths[entry.start as usize..(entry.start + entry.len) as usize]
}

/// The same files with the same records, in whatever order.
impl<V: PartialEq> PartialEq for Files<V> {
    fn eq(&self, other: &Files<V>) -> bool {
        self.len() == other.len()
            && (self.iter()).all(|(path, recorded)| other.get(path) == Some(recorded))
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for Files<V> {
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
        assert!(Files::<Recorded>::default().is_empty());
        // `insert_new` leaves what is there and says where it is.
        match files.insert_new("ho/hh-7/index.html", recorded(0)) {
            Some(Err((at, value))) => assert_eq!((at, value), (7, recorded(0))),
            _ => panic!("ho/hh-7/index.html is there"),
        }
        assert_eq!(files.find("ho/hh-7/index.html"), Some((7, &recorded(7))));
        assert_eq!(files.insert_new("new", recorded(0)), Some(Ok(())));
        assert_eq!(files.find("new").map(|(at, _)| at), Some(1000));
    }
}
