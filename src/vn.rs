//! Vietnamese text and formats.
