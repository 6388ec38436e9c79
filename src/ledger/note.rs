//! Signed notes and keys (filled in by the note work).
