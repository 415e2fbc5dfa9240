//! The run directory every training run writes:
//! `config.toml`, `metrics.csv`, `checkpoint/`, pictures and `summary.json`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::TrainError;

/// A run directory on disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `out`, or `runs/<model>-<timestamp>` when `out` is `None`.
    pub fn create(out: Option<&Path>, model: &str) -> Result<Self, TrainError> {
        let path = match out {
            Some(p) => p.to_path_buf(),
            None => PathBuf::from("runs").join(format!(
                "{model}-{}",
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            )),
        };
        std::fs::create_dir_all(path.join("checkpoint"))
            .map_err(|e| TrainError::io(&path, "cannot create run directory", e))?;
        Ok(Self { path })
    }

    /// Opens an existing run directory (for `--resume`); it must hold `config.toml`.
    pub fn open(path: &Path) -> Result<Self, TrainError> {
        if !path.join("config.toml").is_file() {
            return Err(TrainError::new(
                path,
                "not a run directory (no config.toml)",
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file inside the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// The checkpoint directory (`checkpoint/`).
    pub fn checkpoint_dir(&self) -> PathBuf {
        self.path.join("checkpoint")
    }

    /// Writes the run's config as `config.toml`.
    pub fn write_config<C: Serialize>(&self, config: &C) -> Result<(), TrainError> {
        let path = self.file("config.toml");
        let text = toml::to_string_pretty(config).map_err(|e| TrainError::new(&path, e))?;
        write_atomic(&path, text.as_bytes())
    }

    /// Reads the run's `config.toml`.
    pub fn read_config<C: DeserializeOwned>(&self) -> Result<C, TrainError> {
        read_toml(&self.file("config.toml"))
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &Summary) -> Result<(), TrainError> {
        let path = self.file("summary.json");
        let text = serde_json::to_string_pretty(summary).map_err(|e| TrainError::new(&path, e))?;
        write_atomic(&path, text.as_bytes())
    }

    /// Writes a JSON value to a file of the run directory.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), TrainError> {
        let path = self.file(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::new(&path, e))?;
        write_atomic(&path, text.as_bytes())
    }

    /// Reads a JSON file of the run directory.
    pub fn read_json<T: DeserializeOwned>(&self, name: &str) -> Result<T, TrainError> {
        let path = self.file(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, "cannot read", e))?;
        serde_json::from_str(&text).map_err(|e| TrainError::new(&path, e))
    }

    /// Opens `metrics.csv` with these columns; appends when `resume` and it exists.
    pub fn metrics(&self, columns: &[&str], resume: bool) -> Result<MetricsLog, TrainError> {
        MetricsLog::open(&self.file("metrics.csv"), columns, resume)
    }
}

/// Reads and parses a TOML file, naming the file in any error.
pub fn read_toml<C: DeserializeOwned>(path: &Path) -> Result<C, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
    toml::from_str(&text).map_err(|e| TrainError::new(path, one_line(&e.to_string())))
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

/// Writes through a temporary file and a rename, so an interrupted write never
/// leaves a half-written file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| TrainError::io(&tmp, "cannot write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| TrainError::io(path, "cannot write", e))
}

/// `metrics.csv`: a fixed header, one row per logged step or epoch, flushed per row.
pub struct MetricsLog {
    file: File,
    path: PathBuf,
    columns: Vec<String>,
}

impl MetricsLog {
    fn open(path: &Path, columns: &[&str], resume: bool) -> Result<Self, TrainError> {
        let append = resume && path.is_file();
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| TrainError::io(path, "cannot open", e))?;
        if !append {
            writeln!(file, "{}", columns.join(","))
                .map_err(|e| TrainError::io(path, "cannot write", e))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        })
    }

    /// Appends one row; `values` must follow the header's order. Missing values
    /// (NaN) are written as empty cells.
    pub fn log(&mut self, values: &[f64]) -> Result<(), TrainError> {
        assert_eq!(
            values.len(),
            self.columns.len(),
            "metrics row does not match the header"
        );
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
            .map_err(|e| TrainError::io(&self.path, "cannot write", e))
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// Reads a `metrics.csv` back as columns of numbers (empty cells become NaN).
pub fn read_metrics(path: &Path) -> Result<BTreeMap<String, Vec<f64>>, TrainError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| TrainError::new(path, e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| TrainError::new(path, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut cols: BTreeMap<String, Vec<f64>> =
        headers.iter().map(|h| (h.clone(), Vec::new())).collect();
    for rec in reader.records() {
        let rec = rec.map_err(|e| TrainError::new(path, e))?;
        for (h, v) in headers.iter().zip(rec.iter()) {
            cols.get_mut(h)
                .expect("header present")
                .push(v.parse().unwrap_or(f64::NAN));
        }
    }
    Ok(cols)
}

/// `summary.json`: what a run did and reached. Model-specific numbers go in `extra`
/// (flattened into the same JSON object).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Summary {
    pub model: String,
    pub device: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    pub wall_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mse: Option<f64>,
    pub test_loss: f64,
    pub command: String,
    /// True when the run stopped early (Ctrl-C); the checkpoint is the last good one.
    pub interrupted: bool,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The command line of this process, as one string.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}
