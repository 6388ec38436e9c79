//! minhbach keeps a signed, append-only ledger of relief money and the
//! households it supports, and turns it into a static public website.
//!
//! The crate is one library with a thin binary (`src/main.rs`). The `ledger`
//! module knows nothing of the site; `site` reads the ledger only through its
//! public API. See `ARCHITECTURE.md` for the map.

pub mod cli;
pub mod code;
pub mod config;
pub mod desk;
pub mod import;
pub mod ledger;
pub mod media;
pub mod money;
pub mod portal;
pub mod server;
pub mod site;
pub mod spreadsheet;
pub mod vietqr;
pub mod vn;
