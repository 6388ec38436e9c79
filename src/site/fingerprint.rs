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
use tera::value::ValueKind;
use tera::{Context, Value};

/// A SHA-256 digest.
pub type Fingerprint = [u8; 32];

/// A page's template context, kept in key order until rendering so that it
/// can be fingerprinted.
#[derive(Default)]
pub struct PageContext {
    values: BTreeMap<&'static str, Value>,
}

impl PageContext {
    pub fn new() -> PageContext {
        PageContext::default()
    }

    pub fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        self.values.insert(key, Value::from_serializable(value));
    }

    /// The fingerprint of this page: the site-wide inputs, the template, the
    /// output file and every value of the context.
    pub fn fingerprint(&self, site: &Fingerprint, template: &str, file: &str) -> Fingerprint {
        let mut hasher = Sha256::new();
        hasher.update(site);
        hash_str(&mut hasher, template);
        hash_str(&mut hasher, file);
        for (key, value) in &self.values {
            hash_str(&mut hasher, key);
            hash_value(&mut hasher, value);
        }
        hasher.finalize().into()
    }

    pub fn into_context(self) -> Context {
        let mut context = Context::new();
        for (key, value) in self.values {
            context.insert_value(key, value);
        }
        context
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

fn hash_bytes(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn hash_str(hasher: &mut Sha256, text: &str) {
    hash_bytes(hasher, text.as_bytes());
}

/// Hashes a value unambiguously: a tag per kind, lengths before contents,
/// map entries in key order.
fn hash_value(hasher: &mut Sha256, value: &Value) {
    let kind = value.kind();
    hasher.update([kind_tag(kind)]);
    match kind {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Bool => hasher.update([u8::from(value.as_bool() == Some(true))]),
        ValueKind::U64 | ValueKind::U128 => {
            hasher.update(value.as_u128().unwrap_or_default().to_le_bytes())
        }
        ValueKind::I64 | ValueKind::I128 => {
            hasher.update(value.as_i128().unwrap_or_default().to_le_bytes())
        }
        ValueKind::F64 => hasher.update(value.as_f64().unwrap_or_default().to_bits().to_le_bytes()),
        ValueKind::String => {
            hasher.update([u8::from(value.is_safe())]);
            hash_str(hasher, value.as_str().unwrap_or_default());
        }
        ValueKind::Bytes => hash_bytes(hasher, value.as_bytes().unwrap_or_default()),
        ValueKind::Array => {
            let items = value.as_array().unwrap_or_default();
            hasher.update((items.len() as u64).to_le_bytes());
            for item in items {
                hash_value(hasher, item);
            }
        }
        ValueKind::Map => {
            let Some(map) = value.as_map() else { return };
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            hasher.update((entries.len() as u64).to_le_bytes());
            for (key, item) in entries {
                hash_str(hasher, &key.to_string());
                hash_value(hasher, item);
            }
        }
        // A kind added by a later Tera: its debug form, which at worst
        // differs between runs and so only costs a render.
        _ => hash_str(hasher, &format!("{value:?}")),
    }
}

fn kind_tag(kind: ValueKind) -> u8 {
    match kind {
        ValueKind::Undefined => 0,
        ValueKind::None => 1,
        ValueKind::Bool => 2,
        ValueKind::U64 => 3,
        ValueKind::I64 => 4,
        ValueKind::U128 => 5,
        ValueKind::I128 => 6,
        ValueKind::F64 => 7,
        ValueKind::String => 8,
        ValueKind::Array => 9,
        ValueKind::Map => 10,
        ValueKind::Bytes => 11,
        _ => 255,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn fingerprint_of(values: &[(&'static str, Value)]) -> Fingerprint {
        let context = PageContext {
            values: values.iter().cloned().collect(),
        };
        context.fingerprint(&[0; 32], "page.html", "a/index.html")
    }

    #[test]
    fn equal_contexts_agree_whatever_the_map_order() {
        let mut first = HashMap::new();
        let mut second = HashMap::new();
        for n in 0..50 {
            first.insert(format!("k{n}"), n);
        }
        for n in (0..50).rev() {
            second.insert(format!("k{n}"), n);
        }
        assert_eq!(
            fingerprint_of(&[("m", Value::from_serializable(&first))]),
            fingerprint_of(&[("m", Value::from_serializable(&second))])
        );
    }

    #[test]
    fn any_difference_changes_the_fingerprint() {
        let base = fingerprint_of(&[("a", Value::from("x")), ("b", Value::from(1u64))]);
        for other in [
            fingerprint_of(&[("a", Value::from("y")), ("b", Value::from(1u64))]),
            fingerprint_of(&[("a", Value::from("x")), ("b", Value::from(2u64))]),
            fingerprint_of(&[("a", Value::from("x")), ("c", Value::from(1u64))]),
            fingerprint_of(&[("a", Value::from("x1")), ("b", Value::from(1u64))]),
            fingerprint_of(&[("a", Value::from("x")), ("b", Value::from("1"))]),
            fingerprint_of(&[("a", Value::from("x"))]),
            fingerprint_of(&[("a", Value::safe_string("x")), ("b", Value::from(1u64))]),
        ] {
            assert_ne!(base, other);
        }
        let mut context = PageContext::new();
        context.insert("a", "x");
        context.insert("b", &1u64);
        assert_eq!(
            context.fingerprint(&[0; 32], "page.html", "a/index.html"),
            base
        );
        assert_ne!(
            context.fingerprint(&[1; 32], "page.html", "a/index.html"),
            base
        );
        assert_ne!(
            context.fingerprint(&[0; 32], "list.html", "a/index.html"),
            base
        );
        assert_ne!(
            context.fingerprint(&[0; 32], "page.html", "b/index.html"),
            base
        );
    }
}
