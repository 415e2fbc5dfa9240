//! Self-contained HTML reports of manifold runs.
//!
//! [`write_run_report`] turns a run directory (`run.json`, `config.toml`, `metrics.csv`,
//! `summary.json`, its pictures and, for DNM runs, `snapshots.bin`) into
//! `report.html`: the summary, the command and config, interactive metric curves
//! (hover for values, click a legend entry to hide a series, drag to zoom, double-click
//! to reset), the run's pictures, and for DNM runs the manifold explorer — a time slider
//! over the recorded snapshots of `D` with the adjacency heatmap, the network as a
//! layered DAG, and the closeness function of the neuron under the pointer.
//! [`write_comparison`] puts several runs on one page: test accuracy against kept
//! connections and against wall time, and the differences between their configs.
//!
//! Everything the page needs is inside it (the chart library, uPlot, is compiled into
//! the binary), so a report opens from disk, offline, in any current browser.
//!
//! ```
//! # fn main() -> Result<(), manifold_report::ReportError> {
//! # let tmp = tempfile::tempdir().unwrap();
//! # let run = tmp.path();
//! # std::fs::write(run.join("config.toml"), "epochs = 2\n").unwrap();
//! # std::fs::write(run.join("metrics.csv"), "epoch,test_accuracy\n1,0.9\n2,0.93\n").unwrap();
//! // `run` is a run directory: config.toml, metrics.csv, pictures, summary.json, …
//! let page = manifold_report::write_run_report(run)?;
//! let html = std::fs::read_to_string(&page).unwrap();
//! let data = manifold_report::embedded_data(&html).unwrap();
//! assert_eq!(data["metrics"]["columns"][1], "test_accuracy");
//! # Ok(())
//! # }
//! ```

mod compare;
mod page;
pub use page::embedded_data;
mod run_files;

pub use compare::{comparison_files, connections, write_comparison};
pub use manifold_train::files::Metrics;
pub use run_files::{write_run_report, RunFiles, REPORT_FILE};

use std::path::{Path, PathBuf};

/// An error reading a run or writing a report; names the file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ReportError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What went wrong.
    pub problem: String,
}

impl ReportError {
    pub(crate) fn new(path: &Path, problem: impl ToString) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        }
    }
}

impl From<manifold_io::IoError> for ReportError {
    fn from(e: manifold_io::IoError) -> Self {
        Self {
            path: e.path,
            problem: e.problem,
        }
    }
}

/// The errors of `metrics.csv` ([`Metrics::read`]) and `snapshots.bin`
/// ([`manifold_dnm::Snapshots`]): the same path and problem.
impl From<manifold_train::TrainError> for ReportError {
    fn from(e: manifold_train::TrainError) -> Self {
        Self {
            path: e.path(),
            problem: e.problem,
        }
    }
}

impl From<manifold_viz::VizError> for ReportError {
    fn from(e: manifold_viz::VizError) -> Self {
        Self {
            path: e.path,
            problem: e.problem,
        }
    }
}
