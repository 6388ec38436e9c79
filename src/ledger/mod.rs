//! The signed append-only ledger: entries in canonical JSON Lines, an RFC 6962
//! Merkle tree over them, checkpoints signed as C2SP signed notes, the key
//! history, and the invariants checked on append and on verify.
//!
//! This module never imports anything of the site (templates, Markdown).

pub mod merkle;
pub mod note;
