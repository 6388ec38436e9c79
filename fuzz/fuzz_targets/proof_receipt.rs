//! A C2SP `tlog-proof` receipt (`verify --proof`), which anyone may be handed:
//! checking it never panics, and a receipt accepted proves an entry whose
//! line decodes and whose number is the proof's index. Seeds are receipts of
//! the demo ledger, checked against its keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::ledger::published::{PublishedKeys, check_proof};
use std::sync::LazyLock;

/// The demo ledger's keys (demo-only, derived from public labels).
static KEYS: LazyLock<PublishedKeys> = LazyLock::new(|| {
    PublishedKeys::parse(
        "mttq-quangtri+4d1e4b1e+AZsOy039jkW0qRdOYfn+Aq22ZrZKdfcnuQbZO85U2cw6\n\
         canbo-donghoi+e1a1cab7+AUKQc9blT0npmHMTbvTZmKSzblFkQdROR8bbBI/C0ftV\n\
         canbo-vinhlinh+1a240de9+AR+N06iFU6GmEmy2nxIm/YkTfoiJ3334vFKJUJHqvQVt\n",
    )
    .expect("demo keys")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(proven) = check_proof(text, &KEYS) {
        assert!(proven.entry.seq < proven.checkpoint.size);
    }
});
