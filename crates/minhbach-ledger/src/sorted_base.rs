//! A set and a map of the verified state that are large (one element per
//! bank donation) and only grow: kept in the verified-state cache as one
//! sorted array, read back as that array (no hashing of millions of keys,
//! half the memory of a hash table), searched by bisection, with what was
//! added since in a small hash table beside it. A state built from nothing
//! has only the hash table, as before. Written back sorted and merged, so
//! the cache's bytes do not depend on hash order.

use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::Hash;

/// A set: `base` sorted and without repeats, `added` disjoint from it.
#[derive(Clone, Debug, Default)]
pub struct SortedBaseSet<T: Eq + Hash> {
    base: Vec<T>,
    added: HashSet<T>,
}

impl<T: Ord + Hash + Copy> SortedBaseSet<T> {
    pub fn contains(&self, value: &T) -> bool {
        self.added.contains(value) || self.base.binary_search(value).is_ok()
    }

    /// Room for `additional` more elements without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.added.reserve(additional);
    }

    pub fn insert(&mut self, value: T) {
        if self.base.binary_search(&value).is_err() {
            self.added.insert(value);
        }
    }

    /// Every element, ascending.
    fn sorted(&self) -> Vec<T> {
        let mut added: Vec<T> = self.added.iter().copied().collect();
        added.sort_unstable();
        merge(&self.base, &added, |a, b| a.cmp(b))
    }
}

impl<T: Ord + Hash + Copy + Serialize> Serialize for SortedBaseSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.sorted().serialize(serializer)
    }
}

impl<'de, T: Ord + Hash + Copy + Deserialize<'de>> Deserialize<'de> for SortedBaseSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut base: Vec<T> = crate::sized::vec(deserializer)?;
        // Written sorted; a cache that is not is sorted again rather than
        // searched wrongly.
        if !base.windows(2).all(|pair| pair[0] < pair[1]) {
            base.sort_unstable();
            base.dedup();
        }
        Ok(SortedBaseSet {
            base,
            added: HashSet::new(),
        })
    }
}

/// A map: `base` sorted by key without repeated keys; `added` holds keys
/// inserted since, and its value wins over `base`'s.
#[derive(Clone, Debug, Default)]
pub struct SortedBaseMap<K: Eq + Hash, V> {
    base: Vec<(K, V)>,
    added: HashMap<K, V>,
}

impl<K: Ord + Hash + Copy, V: Copy> SortedBaseMap<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        match self.added.get(key) {
            Some(value) => Some(*value),
            None => {
                (self.base.binary_search_by(|(k, _)| k.cmp(key)).ok()).map(|at| self.base[at].1)
            }
        }
    }

    /// Room for `additional` more keys without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.added.reserve(additional);
    }

    /// Sets `key` to `value`; returns the value it had.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.added.insert(key, value).or_else(|| {
            (self.base.binary_search_by(|(k, _)| k.cmp(&key)).ok()).map(|at| self.base[at].1)
        })
    }

    /// Every key with its value, ascending by key.
    fn sorted(&self) -> Vec<(K, V)> {
        let mut added: Vec<(K, V)> = self.added.iter().map(|(k, v)| (*k, *v)).collect();
        added.sort_unstable_by_key(|pair| pair.0);
        let base: Vec<(K, V)> = (self.base.iter())
            .filter(|(k, _)| !self.added.contains_key(k))
            .copied()
            .collect();
        merge(&base, &added, |a, b| a.0.cmp(&b.0))
    }
}

impl<K, V> Serialize for SortedBaseMap<K, V>
where
    K: Ord + Hash + Copy + Serialize,
    V: Copy + Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.sorted().serialize(serializer)
    }
}

impl<'de, K, V> Deserialize<'de> for SortedBaseMap<K, V>
where
    K: Ord + Hash + Copy + Deserialize<'de>,
    V: Copy + Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut base: Vec<(K, V)> = crate::sized::vec(deserializer)?;
        if !base.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            // Stable, so of a repeated key the last written stays.
            base.sort_by_key(|pair| pair.0);
            base.reverse();
            base.dedup_by(|a, b| a.0 == b.0);
            base.reverse();
        }
        Ok(SortedBaseMap {
            base,
            added: HashMap::new(),
        })
    }
}

/// Two ascending runs with no element in both, merged.
fn merge<T: Copy>(a: &[T], b: &[T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if cmp(&a[i], &b[j]).is_le() {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Serialize, U: for<'de> Deserialize<'de>>(value: &T) -> U {
        postcard::from_bytes(&postcard::to_stdvec(value).unwrap()).unwrap()
    }

    #[test]
    fn a_set_read_back_holds_the_same_elements_and_grows() {
        let mut set = SortedBaseSet::default();
        for value in [9u128, 3, 7, 3, 1] {
            set.insert(value);
        }
        let mut back: SortedBaseSet<u128> = round_trip(&set);
        assert_eq!(back.base, [1, 3, 7, 9], "written sorted, once each");
        assert!(back.added.is_empty());
        for value in [1, 3, 7, 9] {
            assert!(back.contains(&value));
        }
        assert!(!back.contains(&4));
        back.insert(4);
        back.insert(7);
        assert!(back.contains(&4));
        assert_eq!(back.added.len(), 1, "7 was there already");
        let again: SortedBaseSet<u128> = round_trip(&back);
        assert_eq!(again.base, [1, 3, 4, 7, 9]);
    }

    #[test]
    fn a_map_read_back_gives_the_newest_value_of_each_key() {
        let mut map = SortedBaseMap::default();
        assert_eq!(map.insert(5u64, 50u64), None);
        assert_eq!(map.insert(2, 20), None);
        assert_eq!(map.insert(5, 51), Some(50));
        let mut back: SortedBaseMap<u64, u64> = round_trip(&map);
        assert_eq!(back.base, [(2, 20), (5, 51)]);
        assert_eq!(back.get(&5), Some(51));
        assert_eq!(back.get(&3), None);
        assert_eq!(back.insert(5, 52), Some(51), "the base's value, replaced");
        assert_eq!(back.insert(9, 90), None);
        assert_eq!(back.get(&5), Some(52));
        let again: SortedBaseMap<u64, u64> = round_trip(&back);
        assert_eq!(again.base, [(2, 20), (5, 52), (9, 90)]);
    }

    #[test]
    fn an_unsorted_cache_is_sorted_again_not_searched_wrongly() {
        let set: SortedBaseSet<u64> = round_trip(&vec![5u64, 1, 5, 3]);
        assert_eq!(set.base, [1, 3, 5]);
        let map: SortedBaseMap<u64, u64> = round_trip(&vec![(5u64, 1u64), (1, 2), (5, 3)]);
        assert_eq!(map.base, [(1, 2), (5, 3)], "the last written of a key");
    }
}
