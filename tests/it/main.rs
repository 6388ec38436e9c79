//! Every integration test in one crate, one module per area of behaviour:
//! each runs the built `minhbach` binary (or a browser, a server) as a user
//! would. One crate links the application once instead of once per file.

mod common;
/// The realistic bank-statement generator, shared with `bench/statements.sh`.
#[path = "../../examples/statements/gen.rs"]
#[allow(dead_code)]
mod generator;

mod browser_a11y;
mod browser_lookup;
mod concurrency;
mod crash;
mod deploy;
mod desk;
mod hostile;
mod import_cli;
mod import_statements;
mod ledger_cli;
mod oversized;
mod public_log;
mod secrets;
mod site_build;
mod site_serve;
mod site_theme;
mod tamper;
