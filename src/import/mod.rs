//! Bank statements and household rosters into ledger entries.
//!
//! A statement (sao kê) or roster is read row by row (`reader`), its columns
//! found by header name or by a mapping file (`mapping`), its amounts and
//! dates read as each bank prints them (`amount`, `date`), and every row
//! turned into a pending `donation` or `household` entry, or skipped: a
//! transfer already recorded (`ledger::identity`), a debit or zero-amount
//! line, a household id already registered. The result is a `Batch` for one
//! `Ledger::append`, so an import is one signed checkpoint or nothing.
//!
//! This module does not append or print: `cli::import` does, with the
//! summary and progress bar. It reads the ledger only through `State` (and
//! the household ids the caller collects while verifying).

mod amount;
mod batch;
mod date;
mod donations;
mod donor;
mod households;
mod mapping;
mod reader;

pub use amount::{AmountError, DecimalSeparator, SignedAmount, parse_amount};
pub use batch::{
    Batch, ImportError, Rejection, RowFixes, SkipReason, Skipped, Statement, Tally, row_cells,
    write_rejects, write_report,
};
pub use date::parse_date;
pub use donations::{
    AccountError, DonationImport, bank_text_hash, read_donations, statement_account,
};
pub use households::{HouseholdImport, read_households};
pub use mapping::{ColumnSpec, DonorFallback, Mapping, RefKind};
pub use reader::{Position, SpreadsheetTooLarge};
