//! The command line: one module per command. Each parses its flags, builds a config,
//! picks the backend ([`crate::backend`]) and calls the library.

pub mod args;
pub mod bench;
pub mod interactive;
pub mod report;
pub mod sweep;
pub mod topology;
pub mod train;
