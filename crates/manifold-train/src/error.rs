//! The one error type of the training tools: a path (or config field) and a problem.

use std::path::{Path, PathBuf};

/// An error a user can cause: names the file or field, on one line.
#[derive(Debug, thiserror::Error)]
#[error("{where_}: {problem}")]
pub struct TrainError {
    /// The file, directory or config field at fault.
    pub where_: String,
    /// What is wrong with it.
    pub problem: String,
}

impl TrainError {
    /// A problem with the file or directory `path`.
    pub fn new(path: &Path, problem: impl ToString) -> Self {
        Self {
            where_: path.display().to_string(),
            problem: problem.to_string(),
        }
    }

    /// An I/O failure doing `what` to `path`, said in words ([`manifold_io::in_words`]).
    pub fn io(path: &Path, what: &str, e: std::io::Error) -> Self {
        manifold_io::IoError::new(path, what, &e).into()
    }

    /// An impossible configuration value: names the field.
    pub fn config(field: &str, problem: impl ToString) -> Self {
        Self {
            where_: format!("config field `{field}`"),
            problem: problem.to_string(),
        }
    }

    /// Where the error is, as a path.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(&self.where_)
    }
}

impl From<manifold_io::IoError> for TrainError {
    fn from(e: manifold_io::IoError) -> Self {
        Self::new(&e.path, e.problem)
    }
}

impl From<manifold_viz::VizError> for TrainError {
    fn from(e: manifold_viz::VizError) -> Self {
        Self::new(&e.path, e.problem)
    }
}
