//! Portal configuration.
