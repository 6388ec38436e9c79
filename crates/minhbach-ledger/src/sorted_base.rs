//! A set and a map of the verified state that are large (one element per
//! bank donation) and only grow: kept in the verified-state cache as one
//! sorted array, read back as that array (no hashing of millions of keys,
//! half the memory of a hash table), searched by bisection, with what was
//! added since in a small hash table beside it. A state built from nothing
//! has only the hash table, as before. Written back sorted and merged, so
//! the cache's bytes do not depend on hash order. The array is written at
//! a fixed width per element ([`Fixed`]), in blocks of bytes, and read
//! back a block at a time: element by element, the varints of millions of
//! keys were a large part of the time the state took to read.

use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::Hash;
use std::marker::PhantomData;

/// An element of a sorted array, as the cache writes it: `WIDTH` bytes,
/// little-endian.
pub trait Fixed: Copy {
    const WIDTH: usize;
    fn put(&self, out: &mut Vec<u8>);
    /// From exactly `WIDTH` bytes.
    fn take(bytes: &[u8]) -> Self;
}

impl Fixed for u64 {
    const WIDTH: usize = 8;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(bytes: &[u8]) -> u64 {
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
}

impl Fixed for u128 {
    const WIDTH: usize = 16;
    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn take(bytes: &[u8]) -> u128 {
        u128::from_le_bytes(bytes.try_into().expect("16 bytes"))
    }
}

impl<A: Fixed, B: Fixed> Fixed for (A, B) {
    const WIDTH: usize = A::WIDTH + B::WIDTH;
    fn put(&self, out: &mut Vec<u8>) {
        self.0.put(out);
        self.1.put(out);
    }
    fn take(bytes: &[u8]) -> (A, B) {
        let (a, b) = bytes.split_at(A::WIDTH);
        (A::take(a), B::take(b))
    }
}

/// Elements per block of bytes.
const BLOCK: usize = 8192;

/// `items` as (their count, blocks of their bytes).
fn serialize_fixed<T: Fixed, S: Serializer>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    struct Block<'a, T>(&'a [T]);
    impl<T: Fixed> Serialize for Block<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut bytes = Vec::with_capacity(self.0.len() * T::WIDTH);
            for item in self.0 {
                item.put(&mut bytes);
            }
            serializer.serialize_bytes(&bytes)
        }
    }
    struct Blocks<'a, T>(&'a [T]);
    impl<T: Fixed> Serialize for Blocks<'_, T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(self.0.chunks(BLOCK).map(Block))
        }
    }
    let mut tuple = serializer.serialize_tuple(2)?;
    tuple.serialize_element(&(items.len() as u64))?;
    tuple.serialize_element(&Blocks(items))?;
    tuple.end()
}

/// What `serialize_fixed` wrote, read a block at a time into a `Vec` of
/// its full size.
fn deserialize_fixed<'de, T: Fixed, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    use serde::de::Error;
    struct Whole<T>(PhantomData<T>);
    impl<'de, T: Fixed> Visitor<'de> for Whole<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a count and blocks of fixed-width elements")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let count: u64 = seq
                .next_element()?
                .ok_or_else(|| A::Error::invalid_length(0, &self))?;
            let count = usize::try_from(count).map_err(A::Error::custom)?;
            let mut out = Vec::with_capacity(crate::sized::room(Some(count)));
            seq.next_element_seed(Blocks(&mut out))?
                .ok_or_else(|| A::Error::invalid_length(1, &self))?;
            if out.len() != count {
                return Err(A::Error::invalid_length(out.len(), &self));
            }
            Ok(out)
        }
    }
    struct Blocks<'v, T>(&'v mut Vec<T>);
    impl<'de, T: Fixed> DeserializeSeed<'de> for Blocks<'_, T> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_seq(self)
        }
    }
    impl<'de, T: Fixed> Visitor<'de> for Blocks<'_, T> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("blocks of fixed-width elements")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Block(&mut *self.0))?.is_some() {}
            Ok(())
        }
    }
    struct Block<'v, T>(&'v mut Vec<T>);
    impl<'de, T: Fixed> DeserializeSeed<'de> for Block<'_, T> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_byte_buf(self)
        }
    }
    impl<'de, T: Fixed> Visitor<'de> for Block<'_, T> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "bytes, {} per element", T::WIDTH)
        }
        fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<(), E> {
            if !bytes.len().is_multiple_of(T::WIDTH) {
                return Err(E::invalid_length(bytes.len(), &self));
            }
            self.0.extend(bytes.chunks_exact(T::WIDTH).map(T::take));
            Ok(())
        }
    }
    deserializer.deserialize_tuple(2, Whole(PhantomData))
}

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

impl<T: Ord + Hash + Fixed> Serialize for SortedBaseSet<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&self.sorted(), serializer)
    }
}

impl<'de, T: Ord + Hash + Fixed> Deserialize<'de> for SortedBaseSet<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut base: Vec<T> = deserialize_fixed(deserializer)?;
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

impl<K: Ord + Hash + Fixed, V: Fixed> Serialize for SortedBaseMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_fixed(&self.sorted(), serializer)
    }
}

impl<'de, K: Ord + Hash + Fixed, V: Fixed> Deserialize<'de> for SortedBaseMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut base: Vec<(K, V)> = deserialize_fixed(deserializer)?;
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
        let unsorted = SortedBaseSet {
            base: vec![5u64, 1, 5, 3],
            added: HashSet::new(),
        };
        let set: SortedBaseSet<u64> = round_trip(&unsorted);
        assert_eq!(set.base, [1, 3, 5]);
        let unsorted = SortedBaseMap {
            base: vec![(5u64, 1u64), (1, 2), (5, 3)],
            added: HashMap::new(),
        };
        let map: SortedBaseMap<u64, u64> = round_trip(&unsorted);
        assert_eq!(map.base, [(1, 2), (5, 3)], "the last written of a key");
    }

    /// More elements than a block, read back whole; bytes that are not a
    /// whole number of elements, or fewer elements than counted, are no
    /// array.
    #[test]
    fn a_long_array_is_read_back_across_blocks_and_a_short_one_refused() {
        let mut set = SortedBaseSet::default();
        for value in 0..(2 * BLOCK as u128 + 5) {
            set.insert(value * 3);
        }
        let bytes = postcard::to_stdvec(&set).unwrap();
        let back: SortedBaseSet<u128> = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.base, set.sorted());
        // The count says one more than the blocks hold.
        let mut counted = postcard::to_stdvec(&(set.sorted().len() as u64 + 1)).unwrap();
        let blocks_at = postcard::to_stdvec(&(set.sorted().len() as u64))
            .unwrap()
            .len();
        counted.extend_from_slice(&bytes[blocks_at..]);
        assert!(postcard::from_bytes::<SortedBaseSet<u128>>(&counted).is_err());
        // A block cut by one byte (its length and the count say so).
        let one = SortedBaseSet {
            base: vec![7u128],
            added: HashSet::new(),
        };
        let mut cut = postcard::to_stdvec(&one).unwrap();
        assert_eq!(
            cut,
            [1, 1, 16, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        cut[2] = 15;
        cut.pop();
        assert!(postcard::from_bytes::<SortedBaseSet<u128>>(&cut).is_err());
    }
}
