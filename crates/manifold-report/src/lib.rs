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
//! ```no_run
//! # fn main() -> Result<(), manifold_report::ReportError> {
//! let page = manifold_report::write_run_report(std::path::Path::new("runs/mlp-20261201-120000"))?;
//! println!("{}", page.display());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod compare;
mod page;
pub use page::embedded_data;
mod run_files;
pub mod snapshots;

pub use compare::{comparison_files, connections, write_comparison};
pub use run_files::{write_run_report, Metrics, RunFiles, REPORT_FILE};
pub use snapshots::{NeuronShapes, Snapshot, SnapshotGeometry, SnapshotLog, Snapshots};

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

/// Writes `bytes` to `path` through a temporary file in the same directory (flushed to
/// disk) and a rename, so a reader never sees half a file. The workspace's one atomic
/// write: `manifold_train::write_atomic` calls it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| ReportError::new(path, format!("cannot write: {e}")))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .and_then(|()| readable_by_all(tmp.as_file()))
        .map_err(|e| ReportError::new(path, format!("cannot write: {e}")))?;
    tmp.persist(path)
        .map_err(|e| ReportError::new(path, format!("cannot write: {}", e.error)))?;
    Ok(())
}

/// A temporary file is private (0600); a report is as readable as the run's other files.
#[cfg(unix)]
fn readable_by_all(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable_by_all(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}
