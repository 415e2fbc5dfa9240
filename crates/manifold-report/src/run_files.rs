//! Reading a run directory and writing its `report.html`.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Value};

use crate::page::{page, Script};
use crate::ReportError;
use manifold_dnm::{Geometry, Snapshots, Window};
use manifold_train::files::Metrics;

/// The report's file name inside a run directory.
pub const REPORT_FILE: &str = "report.html";

/// The most bytes of per-epoch pictures a report embeds; beyond it, evenly spaced
/// epochs (the first and the last always) are shown, and the page says how many.
const GALLERY_BUDGET: usize = 4 << 20;

/// The most bytes of snapshots a report embeds (the 101 snapshots of a `seed-mnist` run
/// are 2.6 MB); beyond it, evenly spaced snapshots (the
/// first and the last always) are shown, and the page says how many of how many.
const SNAPSHOT_BUDGET: usize = 4 << 20;

/// A single picture larger than this is linked (it lies beside the report) rather than
/// embedded: the closeness heatmap of a DNM with thousands of comps is megabytes.
const PICTURE_LIMIT: usize = 1 << 20;

/// The files of one run directory that a report shows.
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// The run directory.
    pub dir: PathBuf,
    /// The model that made it (`mlp`, `set`, `dreamcomp`, `dnm`), from `run.json` or
    /// `summary.json`.
    pub model: String,
    /// `run.json` (backend, resumes), when present.
    pub run_info: Option<Value>,
    /// `summary.json`, when the run has ended.
    pub summary: Option<Value>,
    /// `config.toml`'s text.
    pub config_text: String,
    /// `config.toml` parsed.
    pub config: toml::Table,
    /// `metrics.csv`, when present.
    pub metrics: Option<Metrics>,
    /// The PNG pictures at the top of the directory, by name.
    pub pictures: Vec<PathBuf>,
    /// Other pictures beside them (GIFs), by name.
    pub animations: Vec<PathBuf>,
}

fn read_text(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|e| ReportError::new(path, format!("cannot read: {e}")))
}

fn read_json(path: &Path) -> Result<Option<Value>, ReportError> {
    if !path.is_file() {
        return Ok(None);
    }
    serde_json::from_str(&read_text(path)?)
        .map(Some)
        .map_err(|e| ReportError::new(path, format!("not valid JSON: {e}")))
}

fn listed(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, ReportError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| ReportError::new(dir, format!("cannot read: {e}")))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

impl RunFiles {
    /// Reads the run directory `dir` (one with a `config.toml`).
    pub fn read(dir: &Path) -> Result<Self, ReportError> {
        if !dir.is_dir() {
            return Err(ReportError::new(dir, "not a directory"));
        }
        let config_path = dir.join("config.toml");
        if !config_path.is_file() {
            return Err(ReportError::new(
                dir,
                "not a run directory (no config.toml)",
            ));
        }
        let config_text = read_text(&config_path)?;
        let config: toml::Table = config_text
            .parse()
            .map_err(|e| ReportError::new(&config_path, format!("not valid TOML: {e}")))?;
        let run_info = read_json(&dir.join("run.json"))?;
        let summary = read_json(&dir.join("summary.json"))?;
        let model = [&run_info, &summary]
            .into_iter()
            .flatten()
            .find_map(|v| v.get("model").and_then(Value::as_str))
            .unwrap_or("unknown")
            .to_string();
        Ok(Self {
            dir: dir.to_path_buf(),
            model,
            run_info,
            summary,
            config_text,
            config,
            metrics: Some(dir.join("metrics.csv"))
                .filter(|p| p.is_file())
                .map(|p| Metrics::read(&p))
                .transpose()?,
            pictures: listed(dir, "png")?,
            animations: listed(dir, "gif")?,
        })
    }

    /// The directory's name, the run's title.
    pub fn name(&self) -> String {
        self.dir
            .canonicalize()
            .unwrap_or_else(|_| self.dir.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.dir.display().to_string())
    }

    /// A number from `summary.json`.
    pub fn summary_number(&self, key: &str) -> Option<f64> {
        self.summary.as_ref()?.get(key)?.as_f64()
    }

    /// `metrics.csv` as JSON: `{columns, rows}` with NaN as `null`.
    fn metrics_json(&self) -> Value {
        match &self.metrics {
            None => Value::Null,
            Some(Metrics { columns, rows }) => json!({
                "columns": columns,
                "rows": rows.iter().map(|r| r.iter().map(|v| v.is_finite().then_some(*v)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            }),
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn data_uri(path: &Path, mime: &str) -> Result<String, ReportError> {
    let bytes =
        std::fs::read(path).map_err(|e| ReportError::new(path, format!("cannot read: {e}")))?;
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Splits `tapestry-epoch003.png` into (`tapestry`, 3): pictures drawn once per epoch
/// become one picture with an epoch slider.
fn per_epoch(name: &str) -> Option<(&str, usize)> {
    let stem = name.strip_suffix(".png")?;
    let (base, epoch) = stem.rsplit_once("-epoch")?;
    Some((base, epoch.parse().ok()?))
}

/// Evenly spaced picks of `n` items, `keep` of them, the first and the last always.
fn evenly(n: usize, keep: usize) -> Vec<usize> {
    if keep >= n || n <= 2 {
        return (0..n).collect();
    }
    let keep = keep.max(2);
    let mut picks: Vec<usize> = (0..keep)
        .map(|t| (t as f64 * (n - 1) as f64 / (keep - 1) as f64).round() as usize)
        .collect();
    picks.dedup();
    picks
}

fn file_len(path: &Path) -> usize {
    std::fs::metadata(path).map_or(0, |m| m.len() as usize)
}

/// The page's data: everything the scripts draw.
fn run_data(files: &RunFiles) -> Result<Value, ReportError> {
    let mut pictures = Vec::new();
    let mut series: Vec<(String, Vec<(usize, PathBuf)>)> = Vec::new();
    for path in &files.pictures {
        let name = file_name(path);
        match per_epoch(&name) {
            Some((base, epoch)) => match series.iter_mut().find(|(b, _)| b == base) {
                Some((_, frames)) => frames.push((epoch, path.clone())),
                None => series.push((base.to_string(), vec![(epoch, path.clone())])),
            },
            None if file_len(path) > PICTURE_LIMIT => {
                pictures.push(json!({"name": name, "linked": true, "bytes": file_len(path)}))
            }
            None => pictures.push(json!({"name": name, "uri": data_uri(path, "image/png")?})),
        }
    }
    // Per-epoch pictures share a budget: beyond it, evenly spaced epochs are shown.
    let gallery_bytes: usize = series
        .iter()
        .flat_map(|(_, f)| f.iter().map(|(_, p)| file_len(p)))
        .sum();
    let share = (GALLERY_BUDGET as f64 / gallery_bytes.max(1) as f64).min(1.0);
    let mut galleries = Vec::new();
    for (name, mut frames) in series {
        frames.sort();
        let keep = (frames.len() as f64 * share).floor() as usize;
        let picked = evenly(frames.len(), keep);
        let shown = picked
            .iter()
            .map(|&k| {
                let (epoch, path) = &frames[k];
                Ok(json!({"epoch": epoch, "uri": data_uri(path, "image/png")?}))
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        galleries.push(json!({"name": name, "frames": shown, "epochs": frames.len()}));
    }
    // The snapshots, checked against the run's grid where config.toml gives it (the check
    // a resume makes). A file that fails it costs the explorer, not the report: the page
    // is written without it and the reason is printed (and kept as `explorer_note`).
    let snapshots_path = files.dir.join("snapshots.bin");
    let mut explorer_note = Value::Null;
    let explorer = if snapshots_path.is_file() {
        let read = match snapshot_geometry(&files.config) {
            Some(geometry) => Snapshots::read_expecting(&snapshots_path, geometry),
            None => Snapshots::read(&snapshots_path),
        };
        match read {
            Ok(snapshots) => {
                let (bytes, shown) = snapshots.compact(SNAPSHOT_BUDGET);
                json!({
                    "bytes": base64::engine::general_purpose::STANDARD.encode(bytes),
                    "shown": shown,
                    "recorded": snapshots.len(),
                    // The last `carry` inputs and outputs are the carry neurons.
                    "carry": files.config.get("carry").and_then(toml::Value::as_integer).unwrap_or(0),
                })
            }
            Err(e) => {
                let note = format!("no manifold explorer: {e}");
                eprintln!("{}: {note}", files.dir.display());
                explorer_note = Value::String(note);
                Value::Null
            }
        }
    } else {
        Value::Null
    };
    Ok(json!({
        "kind": "run",
        "name": files.name(),
        "model": files.model,
        "run": files.run_info,
        "summary": files.summary,
        "config": files.config_text,
        "metrics": files.metrics_json(),
        "pictures": pictures,
        "galleries": galleries,
        "animations": files.animations.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
        "explorer": explorer,
        "explorer_note": explorer_note,
        "connections": crate::compare::connections(files),
    }))
}

/// The DNM grid of a run's config (`inputs`, `comps = neurons − inputs − outputs`,
/// `outputs`, `period`, as `DnmConfig` derives them), when it has every one of them.
fn snapshot_geometry(config: &toml::Table) -> Option<Geometry> {
    let size = |key: &str| usize::try_from(config.get(key)?.as_integer()?).ok();
    let (neurons, inputs, outputs) = (size("neurons")?, size("inputs")?, size("outputs")?);
    let period = match config.get("period")? {
        toml::Value::Float(p) => *p,
        toml::Value::Integer(p) => *p as f64,
        _ => return None,
    };
    let window = match config.get("window").map(toml::Value::as_str) {
        None | Some(Some("line")) => Window::Line,
        Some(Some("patch")) => Window::Patch,
        Some(Some("patches")) => Window::Patches,
        Some(_) => return None,
    };
    Some(Geometry {
        inputs,
        comps: neurons.checked_sub(inputs)?.checked_sub(outputs)?,
        outputs,
        period,
        window,
    })
}

/// Writes `report.html` into the run directory `dir` (replacing an older report) and
/// returns its path. Works on any run directory, finished, interrupted or still
/// running, including runs made before reports existed.
pub fn write_run_report(dir: &Path) -> Result<PathBuf, ReportError> {
    let files = RunFiles::read(dir)?;
    let data = run_data(&files)?;
    let title = format!("manifold · {} · {}", files.model, files.name());
    let mut scripts = vec![Script::Report];
    if !data["explorer"].is_null() {
        scripts.push(Script::Explorer);
    }
    let html = page(&title, &data, &scripts);
    let out = dir.join(REPORT_FILE);
    manifold_io::write_atomic(&out, html.as_bytes())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_epoch_pictures_are_recognised() {
        assert_eq!(per_epoch("tapestry-epoch003.png"), Some(("tapestry", 3)));
        assert_eq!(per_epoch("labels-epoch010.png"), Some(("labels", 10)));
        assert_eq!(per_epoch("accuracy.png"), None);
        assert_eq!(per_epoch("x-epochs.png"), None);
    }

    #[test]
    fn evenly_spaced_picks_keep_both_ends() {
        assert_eq!(evenly(10, 4), vec![0, 3, 6, 9]);
        assert_eq!(evenly(10, 20), (0..10).collect::<Vec<_>>());
        assert_eq!(evenly(10, 0), vec![0, 9], "never fewer than the two ends");
        assert_eq!(evenly(1, 0), vec![0]);
    }

    #[test]
    fn a_directory_without_a_config_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_run_report(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("not a run directory (no config.toml)"),
            "{err}"
        );
        assert!(!dir.path().join(REPORT_FILE).exists());
    }

    #[test]
    fn a_bad_metrics_cell_names_the_row() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "epochs = 1\n").unwrap();
        std::fs::write(dir.path().join("metrics.csv"), "epoch,loss\n1,0.5\n2,abc\n").unwrap();
        let err = write_run_report(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("metrics.csv") && err.contains("row 3: `abc`"),
            "{err}"
        );
    }

    /// A snapshot file that does not fit the run's config costs the explorer (with a
    /// note naming the file and the field), not the report; one that fits is shown.
    #[test]
    fn a_snapshot_file_of_another_grid_leaves_the_report_without_the_explorer() {
        use manifold_dnm::{NeuronShapes, SnapshotLog};
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let config = "neurons = 7\ninputs = 3\noutputs = 2\nperiod = 5.0\n";
        std::fs::write(d.join("config.toml"), config).unwrap();
        std::fs::write(d.join("run.json"), r#"{"model":"dnm"}"#).unwrap();
        std::fs::write(d.join("metrics.csv"), "step,objective\n1,0.5\n").unwrap();
        let write = |period: f64| {
            let path = d.join("snapshots.bin");
            let _ = std::fs::remove_file(&path);
            let geometry = Geometry {
                inputs: 3,
                comps: 2,
                outputs: 2,
                period,
                window: Window::Line,
            };
            let shapes = NeuronShapes {
                alpha: vec![0.5; 4],
                beta: vec![1.0; 4],
                gamma: vec![0.5; 4],
                theta: vec![1.0; 4],
                phi: vec![0.0; 4],
                sigma: vec![1.0; 4],
                mu: vec![0.0; 4],
            };
            let mut log = SnapshotLog::open(&path, geometry).unwrap();
            log.append_cells(1, 0.2, &shapes, &[(0, 0.5)]).unwrap();
        };
        let data = || {
            let html = std::fs::read_to_string(write_run_report(d).unwrap()).unwrap();
            crate::page::embedded_data(&html).unwrap()
        };
        write(6.0);
        let shown = data();
        assert!(shown["explorer"].is_null());
        let note = shown["explorer_note"].as_str().unwrap();
        assert!(
            note.contains("snapshots.bin")
                && note.contains("period = 6 in the file, 5 in this run"),
            "{note}"
        );
        assert_eq!(
            shown["metrics"]["rows"],
            json!([[1.0, 0.5]]),
            "the metrics stay"
        );
        write(5.0);
        let shown = data();
        assert_eq!(shown["explorer"]["recorded"], 1);
        assert!(shown["explorer_note"].is_null());
        assert_eq!(shown["explorer"]["carry"], 0, "no carry neurons");
        // The explorer marks the last `carry` inputs and outputs as carry neurons.
        std::fs::write(d.join("config.toml"), format!("{config}carry = 1\n")).unwrap();
        assert_eq!(data()["explorer"]["carry"], 1);
    }

    #[test]
    fn a_report_embeds_the_runs_data() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("config.toml"), "epochs = 2\nhidden = [16, 16]\n").unwrap();
        std::fs::write(
            d.join("run.json"),
            r#"{"model":"mlp","device":"ndarray","resumes":[]}"#,
        )
        .unwrap();
        std::fs::write(d.join("metrics.csv"), "epoch,test_accuracy\n1,0.9\n2,\n").unwrap();
        std::fs::write(d.join("accuracy.png"), b"\x89PNG fake").unwrap();
        let out = write_run_report(d).unwrap();
        let html = std::fs::read_to_string(out).unwrap();
        let data = crate::page::embedded_data(&html).unwrap();
        assert_eq!(data["model"], "mlp");
        assert_eq!(data["metrics"]["rows"], json!([[1.0, 0.9], [2.0, null]]));
        assert_eq!(data["pictures"][0]["name"], "accuracy.png");
        assert!(data["pictures"][0]["uri"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"));
        assert_eq!(data["connections"], 784 * 16 + 16 * 16 + 16 * 10);
        assert!(html.contains("uPlot"), "the chart library is inline");
        assert!(!html.contains("src=\"http"), "nothing is fetched");
    }
}
