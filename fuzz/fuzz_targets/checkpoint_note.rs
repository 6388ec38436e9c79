//! Checkpoints and signed notes as read from `ledger/checkpoint*`, a
//! published site or a receipt: parsing never panics, a parsed checkpoint
//! encodes back to a text that parses to the same checkpoint, and checking a
//! signature on any parsed note never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::ledger::note::{Checkpoint, SignedNote, SigningKey};
use std::sync::LazyLock;

static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::from_seed("fuzz", [7; 32]).expect("valid key name"));

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(checkpoint) = Checkpoint::parse_text(text) {
        let again = Checkpoint::parse_text(&checkpoint.to_text()).expect("own text parses");
        assert_eq!(again, checkpoint);
    }
    if let Ok(note) = SignedNote::parse(text) {
        let _ = note.verify(&KEY.verifier_key());
        let _ = note.checkpoint();
    }
});
