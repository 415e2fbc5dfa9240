//! The command-line front end: one module per model, sharing [`common`].

pub mod common;
pub mod dnm;
pub mod dreamcomp;
pub mod mlp;
pub mod set;
