//! Large collections read back from a cache at their full size at once,
//! with room for a sixteenth more (what the next appends add): serde's own
//! `Vec` and map readers reserve at most a megabyte and then grow by
//! doubling, which at a million entries rehashed and copied each several
//! times and held the old buffers beside the new. For `#[serde(deserialize_with)]`
//! on the verified state and the site's model cache. The length is the
//! one the cache wrote (its frame is checked by SHA-256 before it is
//! read); a reservation is still capped, and the collection then grows.

use ahash::AHashMap as HashMap;
use serde::Deserializer;
use serde::de::{Deserialize, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

/// At most this many elements are reserved ahead.
const MOST: usize = 1 << 26;

/// What to reserve for `hint` elements: them and a sixteenth more.
pub(crate) fn room(hint: Option<usize>) -> usize {
    let len = hint.unwrap_or(0).min(MOST);
    len + len / 16
}

struct Sized<C>(PhantomData<C>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Sized<Vec<T>> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(room(seq.size_hint()));
        while let Some(element) = seq.next_element()? {
            out.push(element);
        }
        Ok(out)
    }
}

impl<'de, K, V> Visitor<'de> for Sized<HashMap<K, V>>
where
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    type Value = HashMap<K, V>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HashMap<K, V>, A::Error> {
        let mut out = HashMap::with_capacity(room(map.size_hint()));
        while let Some((key, value)) = map.next_entry()? {
            out.insert(key, value);
        }
        Ok(out)
    }
}

/// A `Vec` (for a `Cow<[T]>` field, `cow`).
pub fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    d.deserialize_seq(Sized::<Vec<T>>(PhantomData))
}

pub fn map<'de, D, K, V>(d: D) -> Result<HashMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Eq + Hash,
    V: Deserialize<'de>,
{
    d.deserialize_map(Sized::<HashMap<K, V>>(PhantomData))
}

/// A `Cow<[T]>` field, read as an owned `Vec` (`vec`).
pub fn cow<'de, 'a, D, T>(d: D) -> Result<std::borrow::Cow<'a, [T]>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Clone,
{
    vec(d).map(std::borrow::Cow::Owned)
}
