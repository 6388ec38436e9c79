//! Merkle tree (filled in by the merkle work).
