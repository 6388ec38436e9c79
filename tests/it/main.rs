//! Every integration test in one crate, one module per area of behaviour:
//! each runs the built `minhbach` binary (or a browser, a server) as a user
//! would. One crate links the application once instead of once per file.
//!
//! One test stays outside, `tests/oversized.rs`: it measures the peak memory
//! of the `minhbach` it runs, and Linux counts in a child's peak the memory
//! of the process that spawned it (the `vfork` it was exec'd from), so the
//! spawning test process must stay small — not this crate, with a browser's
//! and a generator's tests beside it.

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
mod public_log;
mod rebuild;
mod secrets;
mod site_build;
mod site_serve;
mod site_theme;
mod tamper;
