//! Verifier keys (`key add`, `ledger/keys`, `verify --keys`) and private key
//! files: parsing never panics and an accepted key prints as a text that
//! parses back to the same key. (The printed text may differ in case: key ids
//! are read in either case and printed in lowercase, as Go's `sumdb/note`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::ledger::note::{SigningKey, VerifierKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = VerifierKey::parse(text) {
        let again = VerifierKey::parse(&key.to_string()).expect("own text parses");
        assert_eq!(again, key);
        let _ = key.verify_signature(b"message", data);
    }
    if let Ok(key) = SigningKey::parse(text) {
        let again = SigningKey::parse(&key.to_file_text()).expect("own text parses");
        assert_eq!(again.verifier_key(), key.verifier_key());
    }
});
