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

/// Writes through a temporary file in the same directory, flushed to disk, and a rename:
/// an interrupted write never leaves a half-written file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    Ok(manifold_report::write_atomic(path, bytes)?)
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

    /// Continues an existing file after its first `keep` rows (rows written after the
    /// checkpoint being resumed are dropped, so none is duplicated); its header must be
    /// `columns`.
    pub fn resume(path: &Path, columns: &[&str], keep: Option<usize>) -> Result<Self, TrainError> {
        if !path.is_file() {
            return Self::create(path, columns);
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        if header != columns.join(",") {
            return Err(TrainError::new(
                path,
                format!("header `{header}` is not this model's metrics"),
            ));
        }
        let rows: Vec<&str> = lines.collect();
        let keep = keep.unwrap_or(rows.len()).min(rows.len());
        if keep < rows.len() {
            let mut kept = String::from(header);
            kept.push('\n');
            for r in &rows[..keep] {
                kept.push_str(r);
                kept.push('\n');
            }
            write_atomic(path, kept.as_bytes())?;
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

/// Reads a `metrics.csv` back as columns of numbers ([`manifold_report::Metrics::read`]: empty
/// cells become NaN, any other cell that is not a number is an error naming its row).
pub fn read_metrics(path: &Path) -> Result<BTreeMap<String, Vec<f64>>, TrainError> {
    let m = manifold_report::Metrics::read(path)?;
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
    fn resume_drops_rows_after_the_checkpoint_and_checks_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let mut log = MetricsLog::create(&path, &["step", "loss"]).unwrap();
        for s in 1..=4 {
            log.log(&[s as f64, f64::NAN]).unwrap();
        }
        drop(log);
        let mut log = MetricsLog::resume(&path, &["step", "loss"], Some(2)).unwrap();
        log.log(&[3.0, 0.5]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "step,loss\n1,\n2,\n3,0.5\n"
        );
        assert_eq!(log.rows(), 3);
        let err = MetricsLog::resume(&path, &["epoch"], None).err().unwrap();
        assert!(
            err.to_string().contains("is not this model's metrics"),
            "{err}"
        );
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
