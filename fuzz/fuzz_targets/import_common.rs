//! Shared by the import targets: write the input to a file (the importers
//! read paths) and import it into an empty ledger state.

use minhbach::import::{DonationImport, HouseholdImport, Mapping, read_donations, read_households};
use minhbach::ledger::{InputContext, Secret, State};
use std::sync::LazyLock;

static SECRET: LazyLock<Secret> = LazyLock::new(|| Secret::from_bytes([5; 32]));
static DIR: LazyLock<tempfile::TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("temporary directory"));
static STATE: LazyLock<State> = LazyLock::new(|| State::new(false));

pub fn import(data: &[u8], extension: &str) {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let path = DIR.path().join(format!("input.{extension}"));
    std::fs::write(&path, file).expect("write the input file");
    let mapping = Mapping::default();
    if selector & 1 == 0 {
        let import = DonationImport {
            path: &path,
            fund: "quy-fuzz",
            account: None,
            mapping: &mapping,
            skip_invalid: selector & 2 == 0,
            fixes: None,
            keep_skipped_lines: selector & 4 == 0,
        };
        let _ = read_donations(&import, &STATE, &mut |_| {});
    } else {
        let context = InputContext {
            secret: Some(&SECRET),
            base_dir: DIR.path().to_path_buf(),
            media_dir: DIR.path().to_path_buf(),
            check_media: minhbach::media::check_photo,
        };
        let import = HouseholdImport {
            path: &path,
            mapping: &mapping,
            skip_invalid: selector & 2 == 0,
            fixes: None,
            context: &context,
        };
        let _ = read_households(&import, &STATE, &mut |_| {});
    }
}
