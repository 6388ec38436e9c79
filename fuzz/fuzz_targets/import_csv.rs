//! A CSV statement or roster, read as `minhbach import` reads it (delimiter
//! guessed, header found by name, amounts and dates in every bank's format,
//! rows turned into entries): never a panic, whatever the bytes. The first
//! byte picks donations or households; the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "import_common.rs"]
mod import_common;

fuzz_target!(|data: &[u8]| {
    import_common::import(data, "csv");
});
