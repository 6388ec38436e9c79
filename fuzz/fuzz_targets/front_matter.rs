//! A content file: `+++` TOML front matter and the Markdown after it, and
//! its path under `content/` (before the first NUL byte, if any). Parsing
//! never panics; errors name the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::site::load::parse_content;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (relative, text) = text.split_once('\0').unwrap_or(("trang.md", text));
    let shown = format!("content/{relative}");
    if let Err(error) = parse_content(relative, &shown, text) {
        assert!(error.to_string().contains(&shown), "{error}");
    }
});
