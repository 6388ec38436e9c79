//! An `.xlsx` statement or roster, read as `minhbach import` reads it
//! (calamine, row by row): never a panic and no unbounded allocation,
//! whatever the bytes. The first byte picks donations or households.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "import_common.rs"]
mod import_common;

fuzz_target!(|data: &[u8]| {
    import_common::import(data, "xlsx");
});
