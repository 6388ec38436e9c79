//! The officers' desk: a local web application to record entries, review a
//! draft and sign it, served by `minhbach desk` on the machine that holds the
//! officer's key (the key never leaves it).
//!
//! It is not a second ledger: every entry goes through the ledger's own
//! `parse_input` (as `append` reads a JSON line) and is judged by an
//! `AppendSession`, the same transaction `append` and `import` use, so a
//! draft can never sign what `append` would refuse.
//!
//! - `server` — the axum router and how it is started;
//! - `state` — `Desk`, the state every handler shares;
//! - `security` — the tower layers: allowed `Host`, session token and cookie,
//!   `Origin` and CSRF token on every POST, body limit, response headers;
//! - `error` — `DeskError`, the one `IntoResponse` every failure becomes;
//! - `draft` — the draft kept outside `ledger/` (`.minhbach/desk/`);
//! - `work` — dry runs and signing over the ledger, households and look-ups;
//! - `forms` — the entry forms: their fields and how a submitted form becomes
//!   an input line of the data contract;
//! - `wizard` — the import wizard over `crate::import`'s entry points;
//! - `pages` — the handlers, thin, rendering Tera templates with autoescape.

mod draft;
mod error;
mod forms;
mod pages;
mod security;
mod server;
mod state;
mod wizard;
mod work;

pub use server::{DeskOptions, Started, start};
