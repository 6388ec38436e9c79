//! A stored ledger line: `Entry::from_line` must never panic, and a line it
//! accepts must be canonical (encoding the entry again gives the same bytes)
//! and survive the field checks `verify` runs next without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::ledger::check_entry_fields;
use minhbach::ledger::entry::Entry;

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = Entry::from_line(data) {
        assert_eq!(
            entry.to_line().as_bytes(),
            data,
            "an accepted line must be its own canonical form"
        );
        let _ = check_entry_fields(&entry);
    }
});
