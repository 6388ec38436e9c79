//! One line of `append` input: `parse_input` never panics, whatever the
//! JSON, and a line it accepts gives a body that encodes to a line
//! `Entry::from_line` reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minhbach::ledger::entry::{Entry, MAX_LINE_BYTES};
use minhbach::ledger::{InputContext, Secret, check_entry_fields, parse_input};
use std::sync::LazyLock;

static SECRET: LazyLock<Secret> = LazyLock::new(|| Secret::from_bytes([3; 32]));
/// An empty directory: photo `file` paths resolve against it.
static DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("temporary directory"));

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let context = InputContext {
        secret: Some(&SECRET),
        base_dir: DIR.path().to_path_buf(),
        media_dir: DIR.path().to_path_buf(),
        check_media: minhbach::media::check_photo,
    };
    let Ok(pending) = parse_input(line, &context) else {
        return;
    };
    let entry = Entry {
        seq: 1,
        time: "2025-09-12T08:00:00Z".into(),
        signer: "fuzz".into(),
        body: pending.body,
    };
    let line = entry.to_line();
    // `append` refuses longer lines itself (see `AppendSession::push`).
    if check_entry_fields(&entry).is_ok() && line.len() <= MAX_LINE_BYTES {
        let again = Entry::from_line(line.as_bytes()).expect("a checked entry decodes");
        assert_eq!(again, entry);
    }
});
