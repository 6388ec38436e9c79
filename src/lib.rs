//! minhbach keeps a signed, append-only ledger of relief money and the
//! households it supports, and turns it into a static public website.
//!
//! The application is one library with a thin binary (`src/main.rs`) over
//! the ledger crate (`crates/minhbach-ledger`), which knows nothing of the
//! site, the importer or the desk: the compiler holds that boundary. The
//! ledger is re-exported here as `ledger` (with its `money` and `code`), so
//! the application reads it through one path. See `ARCHITECTURE.md` for the
//! map.

pub mod cli;
pub mod config;
pub mod desk;
pub mod import;
pub mod media;
pub mod portal;
pub mod progress;
pub mod server;
pub mod site;
pub mod spreadsheet;
pub mod vietqr;
pub mod vn;

pub use minhbach_ledger as ledger;
pub use minhbach_ledger::{code, money};
