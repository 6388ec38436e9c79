//! Fingerprints of what a page is rendered from, so a rebuild can keep a page
//! whose inputs did not change instead of rendering it again.
//!
//! A page is a pure function of its template context and of the site-wide
//! inputs: the minhbach executable (filters, functions, the built-in theme),
//! the templates, the translations, the static files, the URLs and the
//! configuration. `site_inputs` hashes the site-wide part once per build;
//! `PageContext::fingerprint` adds the page's own context. The output
//! manifest (`output.rs`) records each page's fingerprint beside its bytes;
//! a page whose fingerprint is recorded, and whose file is still as written,
//! is not rendered again. Anything unrecorded or different renders, so a
//! missing or stale manifest costs time, never correctness.
//!
//! The context is hashed from its values with map keys sorted: Tera keeps maps
//! in hash maps whose order changes from one process to the next.

use super::load::{Sources, StaticSource};
use super::render::Urls;
use anyhow::{Context as _, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tera::{Context, Value};

/// A SHA-256 digest.
pub type Fingerprint = [u8; 32];

/// A page's template context and its fingerprint, built together.
///
/// The fingerprint hashes each value's serde serialisation (postcard: compact,
/// and unambiguous for a given type, which the executable's identity fixes) in
/// the order the values are inserted. It does not go through Tera's `Value`,
/// so a rebuild can fingerprint a page without building its context at all
/// (`PageContext::fingerprint_only`): most of a rebuild's pages are kept,
/// and building their `Value` trees was most of the time spent on them.
pub struct PageContext {
    hasher: Sha256,
    /// `None` when only the fingerprint is wanted.
    values: Option<BTreeMap<&'static str, Value>>,
    /// Reused between values, so that inserting allocates nothing new.
    scratch: Vec<u8>,
}

impl PageContext {
    /// A context for rendering: values kept, fingerprint computed alongside.
    pub fn for_render(site: &Fingerprint, template: &str, file: &str) -> PageContext {
        PageContext::start(site, template, file, Some(BTreeMap::new()))
    }

    /// Only the fingerprint: inserting hashes the value and keeps nothing.
    pub fn fingerprint_only(site: &Fingerprint, template: &str, file: &str) -> PageContext {
        PageContext::start(site, template, file, None)
    }

    fn start(
        site: &Fingerprint,
        template: &str,
        file: &str,
        values: Option<BTreeMap<&'static str, Value>>,
    ) -> PageContext {
        let mut hasher = Sha256::new();
        hasher.update(site);
        hash_str(&mut hasher, template);
        hash_str(&mut hasher, file);
        PageContext {
            hasher,
            values,
            scratch: Vec::new(),
        }
    }

    pub fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        hash_str(&mut self.hasher, key);
        self.scratch.clear();
        match postcard::to_io(value, &mut self.scratch) {
            Ok(_) => hash_bytes(&mut self.hasher, &self.scratch),
            // postcard refuses only what it cannot size up front (a sequence
            // or map of unknown length). Such a value has no stable bytes
            // here, so the page gets a fingerprint no build will match: it
            // is always rendered, never wrongly kept.
            Err(_) => {
                use std::hash::BuildHasher;
                let nonce = std::collections::hash_map::RandomState::new().hash_one(key);
                self.hasher.update([0xff]);
                self.hasher.update(nonce.to_le_bytes());
            }
        }
        if let Some(values) = &mut self.values {
            values.insert(key, Value::from_serializable(value));
        }
    }

    /// Inserts a value that `identity` determines, made by `value` only
    /// when rendering: the fingerprint hashes the identity instead of the
    /// value (a page of donations kept from the last build is then
    /// fingerprinted without reading its rows). It never equals the
    /// fingerprint of an `insert` of the same key.
    pub fn insert_identified<I: Serialize + ?Sized, T: Serialize>(
        &mut self,
        key: &'static str,
        identity: &I,
        value: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<()> {
        self.hash_identity(key, identity)?;
        if let Some(values) = &mut self.values {
            values.insert(key, Value::from_serializable(&value()?));
        }
        Ok(())
    }

    /// `insert_identified` of a value already made for Tera and shared by
    /// many pages (a language's routes): each page takes a clone, which
    /// counts a reference to its maps instead of making them again.
    pub fn insert_shared<I: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        identity: &I,
        value: &Value,
    ) -> anyhow::Result<()> {
        self.hash_identity(key, identity)?;
        if let Some(values) = &mut self.values {
            values.insert(key, value.clone());
        }
        Ok(())
    }

    fn hash_identity<I: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        identity: &I,
    ) -> anyhow::Result<()> {
        hash_str(&mut self.hasher, key);
        // No value's length: `insert` hashes one here.
        self.hasher.update(u64::MAX.to_le_bytes());
        self.scratch.clear();
        postcard::to_io(identity, &mut self.scratch)?;
        hash_bytes(&mut self.hasher, &self.scratch);
        Ok(())
    }

    /// The fingerprint of this page: the site-wide inputs, the template, the
    /// output file and every value inserted.
    pub fn fingerprint(&self) -> Fingerprint {
        self.hasher.clone().finalize().into()
    }

    /// The Tera context; `None` for a fingerprint-only context.
    pub fn into_context(self) -> Option<Context> {
        let mut context = Context::new();
        for (key, value) in self.values? {
            context.insert_value(key, value);
        }
        Some(context)
    }
}

/// The fingerprint of everything every page depends on besides its context.
pub fn site_inputs(
    sources: &Sources,
    urls: &Urls,
    config: &crate::config::Config,
    live_reload: bool,
) -> Result<Fingerprint> {
    let mut hasher = Sha256::new();
    // The executable stands for the code: filters, functions, escaping and
    // the built-in theme all change with it.
    hasher.update(crate::code::executable_hash()?);
    for (name, template) in &sources.templates {
        hash_str(&mut hasher, name);
        hash_str(&mut hasher, &template.text);
    }
    hash_str(&mut hasher, &format!("{:?}", sources.translations));
    for (path, source) in &sources.static_files {
        hash_str(&mut hasher, path);
        match source {
            StaticSource::Builtin(bytes) => hash_bytes(&mut hasher, bytes),
            StaticSource::File(file) => {
                let bytes = std::fs::read(file)
                    .with_context(|| format!("failed to read `{}`", file.display()))?;
                hash_bytes(&mut hasher, &bytes);
            }
        }
    }
    hash_str(&mut hasher, &format!("{urls:?}"));
    hash_str(&mut hasher, &format!("{config:?}"));
    hasher.update([u8::from(live_reload)]);
    Ok(hasher.finalize().into())
}

/// The digest of a value's serialisation, for a value several pages show
/// (a household: on its page and its commune's, in every language): made
/// once, it stands for the value in each page's fingerprint
/// (`PageContext::insert_identified`). `None` for a value postcard cannot
/// serialise (see `insert`): such a value must be inserted whole.
pub fn digest<T: Serialize + ?Sized>(value: &T) -> Option<Fingerprint> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    // Serialised whole, then hashed once: postcard writes a field at a
    // time, and each small write into the hasher cost more than its bytes.
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        scratch.clear();
        postcard::to_io(value, &mut *scratch).ok()?;
        Some(Sha256::digest(&*scratch).into())
    })
}

fn hash_bytes(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn hash_str(hasher: &mut Sha256, text: &str) {
    hash_bytes(hasher, text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn fingerprint_of(values: &[(&'static str, &dyn erased::Insert)]) -> Fingerprint {
        let mut context = PageContext::fingerprint_only(&[0; 32], "page.html", "a/index.html");
        for (key, value) in values {
            value.insert_into(&mut context, key);
        }
        context.fingerprint()
    }

    /// Lets the tests list values of different types.
    mod erased {
        use super::PageContext;
        use serde::Serialize;
        pub trait Insert {
            fn insert_into(&self, context: &mut PageContext, key: &'static str);
        }
        impl<T: Serialize> Insert for T {
            fn insert_into(&self, context: &mut PageContext, key: &'static str) {
                context.insert(key, self);
            }
        }
    }

    /// A value's digest stands for it: the same for equal values, another
    /// for any change, and a page fingerprinted by it changes with it.
    #[test]
    fn a_digest_stands_for_its_value() {
        let row = ("HH-1", "Xã A", 3u64);
        assert_eq!(digest(&row), digest(&("HH-1", "Xã A", 3u64)));
        assert_ne!(digest(&row), digest(&("HH-1", "Xã A", 4u64)));
        assert_ne!(digest(&row), digest(&("HH-1", "Xã B", 3u64)));
        let page = |row: &(&str, &str, u64)| {
            let mut context = PageContext::for_render(&[0; 32], "page.html", "a/index.html");
            let digest = digest(row).unwrap();
            context
                .insert_identified("household", &digest, || Ok(*row))
                .unwrap();
            let fingerprint = context.fingerprint();
            let value = context.into_context().unwrap().get("household").cloned();
            (fingerprint, value)
        };
        let (before, value) = page(&row);
        assert_eq!(
            value,
            Some(tera::Value::from_serializable(&row)),
            "rendered whole"
        );
        assert_eq!(page(&row).0, before);
        assert_ne!(page(&("HH-1", "Xã A", 4)).0, before);
    }

    #[test]
    fn rendering_and_fingerprint_only_contexts_agree() {
        let mut map = BTreeMap::new();
        map.insert("b", vec![1u64, 2]);
        map.insert("a", vec![]);
        let site = [7; 32];
        let mut render = PageContext::for_render(&site, "page.html", "a/index.html");
        let mut only = PageContext::fingerprint_only(&site, "page.html", "a/index.html");
        for context in [&mut render, &mut only] {
            context.insert("title", "Quỹ");
            context.insert("map", &map);
            context.insert("none", &None::<u64>);
        }
        assert_eq!(render.fingerprint(), only.fingerprint());
        assert!(only.into_context().is_none());
        let context = render.into_context().unwrap();
        assert_eq!(context.get("title"), Some(&Value::from("Quỹ")));
    }

    #[test]
    fn an_identified_value_is_fingerprinted_by_its_identity() {
        let site = [7; 32];
        let made = std::cell::Cell::new(0);
        let with = |identity: &str, value: &str, render: bool| {
            let mut context = if render {
                PageContext::for_render(&site, "page.html", "a/index.html")
            } else {
                PageContext::fingerprint_only(&site, "page.html", "a/index.html")
            };
            context
                .insert_identified("rows", identity, || {
                    made.set(made.get() + 1);
                    Ok(value.to_string())
                })
                .unwrap();
            let fingerprint = context.fingerprint();
            (fingerprint, context.into_context())
        };
        let (only, none) = with("chunk-a", "x", false);
        assert!(none.is_none());
        assert_eq!(made.get(), 0, "a fingerprint alone makes no value");
        let (rendered, context) = with("chunk-a", "x", true);
        assert_eq!(made.get(), 1);
        assert_eq!(only, rendered);
        assert_eq!(context.unwrap().get("rows"), Some(&Value::from("x")));
        assert_ne!(with("chunk-b", "x", false).0, only);
        // Not the fingerprint of the identity inserted as a value.
        let mut plain = PageContext::fingerprint_only(&site, "page.html", "a/index.html");
        plain.insert("rows", "chunk-a");
        assert_ne!(plain.fingerprint(), only);
    }

    /// A value postcard cannot encode is never taken as unchanged.
    #[test]
    fn a_value_without_stable_bytes_never_matches() {
        struct LengthUnknown;
        impl Serialize for LengthUnknown {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeSeq;
                serializer.serialize_seq(None)?.end()
            }
        }
        let once = || {
            let mut context = PageContext::for_render(&[0; 32], "page.html", "a/index.html");
            context.insert("a", &LengthUnknown);
            context.fingerprint()
        };
        assert_ne!(once(), once());
    }

    #[test]
    fn any_difference_changes_the_fingerprint() {
        let base = fingerprint_of(&[("a", &"x"), ("b", &1u64)]);
        let others = [
            fingerprint_of(&[("a", &"y"), ("b", &1u64)]),
            fingerprint_of(&[("a", &"x"), ("b", &2u64)]),
            fingerprint_of(&[("a", &"x"), ("c", &1u64)]),
            fingerprint_of(&[("a", &"x1"), ("b", &1u64)]),
            fingerprint_of(&[("a", &"x"), ("b", &"1")]),
            fingerprint_of(&[("a", &"x")]),
            fingerprint_of(&[("a", &"x"), ("b", &1u64), ("c", &None::<u64>)]),
            // The boundary between a key and its value moves.
            fingerprint_of(&[("ab", &""), ("b", &1u64)]),
        ];
        for other in others {
            assert_ne!(base, other);
        }
        let at = |site: [u8; 32], template: &str, file: &str| {
            let mut context = PageContext::fingerprint_only(&site, template, file);
            context.insert("a", "x");
            context.insert("b", &1u64);
            context.fingerprint()
        };
        assert_eq!(at([0; 32], "page.html", "a/index.html"), base);
        assert_ne!(at([1; 32], "page.html", "a/index.html"), base);
        assert_ne!(at([0; 32], "list.html", "a/index.html"), base);
        assert_ne!(at([0; 32], "page.html", "b/index.html"), base);
    }
}
