//! Markdown of a content page through pulldown-cmark, the `@/` link resolver,
//! heading ids and ammonia: never a panic, and a broken link is reported at a
//! line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::site::markdown::{Links, render};
use std::collections::BTreeMap;
use std::sync::LazyLock;

static TARGETS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| {
    [
        ("gioi-thieu.md", "/gioi-thieu/"),
        ("_index.md", "/"),
        ("tin/a.en.md", "/en/tin/a/"),
    ]
    .into_iter()
    .map(|(name, path)| (name.to_string(), path.to_string()))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let links = Links {
        targets: &TARGETS,
        base_path: "/minhbach/",
    };
    if let Err(broken) = render(text, &links) {
        let lines = text.split('\n').count();
        for link in broken {
            assert!(link.line >= 1 && link.line <= lines, "{link:?}");
        }
    }
});
