//! One statement cell: amounts in every bank's format (both decimal
//! separators) and dates (the default formats and a fuzzed chrono format
//! from a mapping file). Never a panic; an amount read is never a fraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::import::{DecimalSeparator, parse_amount, parse_date};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A cell, or `format\u{1}cell` to try a mapping's own date format.
    let (format, cell) = text.split_once('\u{1}').unwrap_or(("", text));
    for decimal in [
        DecimalSeparator::Auto,
        DecimalSeparator::Comma,
        DecimalSeparator::Dot,
    ] {
        let _ = parse_amount(cell, decimal);
    }
    let _ = parse_date(cell, &[]);
    if !format.is_empty() {
        let _ = parse_date(cell, &[format.to_string()]);
    }
});
