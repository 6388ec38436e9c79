//! `config.toml`: parsing and checking never panic; errors name the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::config::Config;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = Config::parse(text, Path::new("config.toml")) {
        assert!(error.to_string().contains("`config.toml`"), "{error:#}");
    }
});
