//! Files every run and benchmark writes: atomic writes, TOML and JSON, `metrics.csv`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Serialize};

use crate::TrainError;

/// Reads and parses a TOML file, naming the file in any error.
pub fn read_toml<C: DeserializeOwned>(path: &Path) -> Result<C, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
    toml::from_str(&text).map_err(|e| TrainError::new(path, one_line(&e.to_string())))
}

/// Reads a TOML config over `defaults`: a field the file lacks takes its value from
/// `defaults`, so that a run directory made before a config field existed still reads
/// (and resumes as it ran). Errors name the file.
pub fn read_toml_over<C: Serialize + DeserializeOwned>(
    path: &Path,
    defaults: &C,
) -> Result<C, TrainError> {
    let bad = |e: &dyn std::fmt::Display| TrainError::new(path, one_line(&e.to_string()));
    let file: toml::Table = read_toml(path)?;
    let mut table = toml::Table::try_from(defaults).map_err(|e| bad(&e))?;
    table.extend(file);
    table.try_into().map_err(|e| bad(&e))
}

/// Reads and parses a JSON file, naming the file in any error.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
    serde_json::from_str(&text).map_err(|e| TrainError::new(path, e))
}

/// Writes `value` as pretty JSON (atomically), creating the parent directory.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), TrainError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, "cannot create", e))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::new(path, e))?;
    write_atomic(path, (text + "\n").as_bytes())
}

/// Collapses a multi-line message (TOML errors draw the offending line) to one line.
pub fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^' || c == ' ')
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`manifold_io::write_atomic`] with the error as a [`TrainError`]: a temporary file in
/// the same directory, flushed to disk, and a rename, so an interrupted write (a signal,
/// a full disk) never leaves a half-written file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    Ok(manifold_io::write_atomic(path, bytes)?)
}

/// The median of a list (NaN when it is empty).
pub fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

/// What [`MetricsLog::check`] found a resumed run may keep of its `metrics.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kept {
    /// The whole rows kept (`None`: there is no file; a new one is made).
    rows: Option<usize>,
}

/// `metrics.csv`: a fixed header, one row per logged step or epoch, flushed per row.
pub struct MetricsLog {
    file: File,
    path: PathBuf,
    columns: usize,
    rows: usize,
}

impl MetricsLog {
    /// A new file with this header (an existing one is replaced).
    pub fn create(path: &Path, columns: &[&str]) -> Result<Self, TrainError> {
        write_atomic(path, format!("{}\n", columns.join(",")).as_bytes())?;
        Self::append(path, columns.len(), 0)
    }

    /// Checks, reading only, the file a resumed run appends to: its header must be
    /// `columns`, and it must hold at least the `keep` rows its checkpoint covers (all
    /// its rows when `keep` is `None`), each with one cell per column. Returns what
    /// [`MetricsLog::resume`] keeps: the first `keep` whole rows. A partial last row (a
    /// crash or a full disk mid-append) and rows written after the checkpoint are dropped
    /// by `resume`; a missing file is created there.
    pub fn check(path: &Path, columns: &[&str], keep: Option<usize>) -> Result<Kept, TrainError> {
        if !path.is_file() {
            return Ok(Kept { rows: None });
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
        // Only newline-terminated lines are whole: what follows the last newline is torn.
        let whole = &text[..text.rfind('\n').map_or(0, |n| n + 1)];
        let mut lines = whole.lines();
        let Some(header) = lines.next() else {
            return Err(TrainError::new(path, "is empty: it has no header line"));
        };
        if header != columns.join(",") {
            return Err(TrainError::new(
                path,
                format!("header `{header}` is not this model's metrics"),
            ));
        }
        let rows: Vec<&str> = lines.collect();
        let keep = keep.unwrap_or(rows.len());
        if keep > rows.len() {
            return Err(TrainError::new(
                path,
                format!(
                    "holds {} whole rows, fewer than the {keep} its checkpoint covers: the file was cut or replaced",
                    rows.len()
                ),
            ));
        }
        if let Some((k, row)) = rows[..keep]
            .iter()
            .enumerate()
            .find(|(_, r)| r.split(',').count() != columns.len())
        {
            return Err(TrainError::new(
                path,
                format!(
                    "row {} has {} cells, not one per column ({})",
                    k + 1,
                    row.split(',').count(),
                    columns.len()
                ),
            ));
        }
        Ok(Kept { rows: Some(keep) })
    }

    /// Continues a file [`MetricsLog::check`] accepted after the rows it keeps (rows
    /// written after the checkpoint being resumed, and a torn last row, are dropped, so
    /// none is duplicated).
    pub fn resume(path: &Path, columns: &[&str], kept: Kept) -> Result<Self, TrainError> {
        let Some(keep) = kept.rows else {
            return Self::create(path, columns);
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let kept_len: usize = lines.iter().take(1 + keep).map(|l| l.len()).sum();
        if kept_len < text.len() {
            write_atomic(path, &text.as_bytes()[..kept_len])?;
        }
        Self::append(path, columns.len(), keep)
    }

    fn append(path: &Path, columns: usize, rows: usize) -> Result<Self, TrainError> {
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, "cannot open", e))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            columns,
            rows,
        })
    }

    /// Appends one row; `values` follow the header's order. NaN is written as an empty cell.
    pub fn log(&mut self, values: &[f64]) -> Result<(), TrainError> {
        if values.len() != self.columns {
            return Err(TrainError::new(
                &self.path,
                format!(
                    "a row of {} values for {} columns",
                    values.len(),
                    self.columns
                ),
            ));
        }
        let row: Vec<String> = values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v}")
                }
            })
            .collect();
        writeln!(self.file, "{}", row.join(","))
            .and_then(|_| self.file.flush())
            .map_err(|e| TrainError::io(&self.path, "cannot write", e))?;
        self.rows += 1;
        Ok(())
    }

    /// Rows in the file.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// `metrics.csv` read back: its column names and rows (an empty cell is NaN).
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The header.
    pub columns: Vec<String>,
    /// One row per logged step or epoch.
    pub rows: Vec<Vec<f64>>,
}

impl Metrics {
    /// Reads a `metrics.csv`; an empty cell is NaN, any other cell that is not a number
    /// is an error naming its row.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        let err = |e: &dyn std::fmt::Display| TrainError::new(path, e);
        let mut reader = csv::Reader::from_path(path).map_err(|e| err(&e))?;
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| err(&e))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (n, record) in reader.records().enumerate() {
            let record = record.map_err(|e| err(&e))?;
            let row = record
                .iter()
                .map(|cell| match cell.trim() {
                    "" => Ok(f64::NAN),
                    text => text.parse::<f64>().map_err(|_| {
                        TrainError::new(path, format!("row {}: `{text}` is not a number", n + 2))
                    }),
                })
                .collect::<Result<Vec<f64>, _>>()?;
            rows.push(row);
        }
        Ok(Self { columns, rows })
    }
}

/// Reads a `metrics.csv` back as columns of numbers ([`Metrics::read`]: empty cells
/// become NaN, any other cell that is not a number is an error naming its row).
pub fn read_metrics(path: &Path) -> Result<BTreeMap<String, Vec<f64>>, TrainError> {
    let m = Metrics::read(path)?;
    Ok(m.columns
        .iter()
        .enumerate()
        .map(|(k, c)| (c.clone(), m.rows.iter().map(|r| r[k]).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_read_empty_cells_as_nan_and_name_a_bad_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        std::fs::write(&path, "epoch,loss\n1,0.5\n2,\n").unwrap();
        let m = Metrics::read(&path).unwrap();
        assert_eq!(m.columns, ["epoch", "loss"]);
        assert_eq!(m.rows[0], [1.0, 0.5]);
        assert!(m.rows[1][1].is_nan());
        assert_eq!(read_metrics(&path).unwrap()["epoch"], [1.0, 2.0]);
        std::fs::write(&path, "epoch,loss\n1,0.5\n2,abc\n").unwrap();
        let err = Metrics::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("metrics.csv") && err.contains("row 3: `abc` is not a number"),
            "{err}"
        );
    }

    #[test]
    fn resume_drops_rows_after_the_checkpoint_and_checks_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let mut log = MetricsLog::create(&path, &["step", "loss"]).unwrap();
        for s in 1..=4 {
            log.log(&[s as f64, f64::NAN]).unwrap();
        }
        drop(log);
        let kept = MetricsLog::check(&path, &["step", "loss"], Some(2)).unwrap();
        let mut log = MetricsLog::resume(&path, &["step", "loss"], kept).unwrap();
        log.log(&[3.0, 0.5]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,loss\n1,\n2,\n3,0.5\n"
        );
        assert_eq!(log.rows(), 3);
        let err = MetricsLog::check(&path, &["epoch"], None).err().unwrap();
        assert!(
            err.to_string().contains("is not this model's metrics"),
            "{err}"
        );
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    /// A torn last row is cut; a file shorter than its checkpoint, an empty one or a
    /// row with the wrong cell count is refused, and `check` never writes.
    #[test]
    fn check_reads_only_and_resume_cuts_a_torn_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let cols = ["step", "loss"];
        std::fs::write(&path, "step,loss\n1,0.5\n2,0.4\n3,0.").unwrap();
        let kept = MetricsLog::check(&path, &cols, Some(2)).unwrap();
        let refused = |text: &str, keep: Option<usize>, says: &str| {
            std::fs::write(&path, text).unwrap();
            let err = MetricsLog::check(&path, &cols, keep)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        };
        refused(
            "step,loss\n1,0.5\n2,0.",
            Some(2),
            "holds 1 whole rows, fewer than the 2",
        );
        refused("", Some(0), "is empty");
        refused("step,loss\n1\n", None, "row 1 has 1 cells");
        std::fs::write(&path, "step,loss\n1,0.5\n2,0.4\n3,0.").unwrap();
        let mut log = MetricsLog::resume(&path, &cols, kept).unwrap();
        log.log(&[3.0, 0.3]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,loss\n1,0.5\n2,0.4\n3,0.3\n"
        );
        let torn_only = MetricsLog::check(&path, &cols, None).unwrap();
        assert_eq!(torn_only, Kept { rows: Some(3) });
    }
}
