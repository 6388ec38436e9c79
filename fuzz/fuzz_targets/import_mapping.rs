//! A bank's mapping file (`--map MAP.toml`): parsing never panics, and the
//! regular expressions it holds (end marker, donor pattern) compile within
//! the regex crate's size limits rather than taking unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::import::Mapping;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Mapping::parse(text);
});
