//! `sweep collect`: whatever has finished, merged into tables and pictures.
//!
//! - `sweep.csv`: one row per point: its group, seed, state, settings, every number of
//!   its `summary.json`, and the reason of a point that diverged or failed.
//! - `summary.csv`: one row per setting: the seeds finished and the mean and sample
//!   standard deviation over them of every number.
//! - `best.csv` (with [`Options::best_of`]): per setting, the seed with the lowest value
//!   of a number (the tuner's "best of seeds", by test loss by default).
//! - `compare.html` (with `compare.csv` and `compare.png`): the runs on one page, as
//!   `manifold report --compare` draws them.
//! - `plot-Y-vs-X.png`: the mean over seeds of Y against X (or every seed's Y, with
//!   `seeds = true`), a series per group, for each `[[plot]]` of the file (default: test
//!   accuracy, or test MSE, against each axis).
//!
//! With [`Options::rows_from`], a point with no run directory here takes its row from a
//! `sweep.csv` an earlier `collect` wrote (on another machine, or before the runs were
//! deleted), so that a sweep run in parts, in several places, is collected into one table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use manifold_train::TrainError;
use manifold_viz::{chart, ChartStyle, Series};

use crate::file::{Plot, Point, Sweep};
use crate::point::{last_error, State};

/// Options of `collect`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Write `best.csv`: per setting, the seed with the lowest value of this number.
    pub best_of: Option<String>,
    /// A `sweep.csv` of an earlier `collect`: each point with no run directory here takes
    /// its state, numbers and reason from this file's row of the same `point`, if it has
    /// one. A run directory here always wins; rows of points the sweep lacks are ignored.
    pub rows_from: Option<PathBuf>,
}

/// A point's row: its state and the numbers of its `summary.json`.
#[derive(Debug, Clone)]
pub struct Row {
    /// The point.
    pub point: Point,
    /// Its state.
    pub state: State,
    /// The numbers of its `summary.json` (finished points only).
    pub numbers: BTreeMap<String, f64>,
    /// Why it diverged or failed, or what it is waiting for.
    pub reason: String,
    /// Read from [`Options::rows_from`], not from a run directory here.
    pub from_file: bool,
}

/// What `collect` found and wrote.
#[derive(Debug, Clone)]
pub struct Collected {
    /// One row per point.
    pub rows: Vec<Row>,
    /// The files written.
    pub files: Vec<PathBuf>,
}

impl Collected {
    /// The points not finished, with what they are waiting for.
    pub fn unfinished(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .filter(|r| !r.state.is_final())
            .map(|r| (r.point.id(), r.reason.clone()))
            .collect()
    }
}

/// The numbers of a `summary.json` (top-level numbers only).
fn numbers(dir: &Path) -> BTreeMap<String, f64> {
    let Ok(text) = std::fs::read_to_string(dir.join("summary.json")) else {
        return BTreeMap::new();
    };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
    else {
        return BTreeMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| v.as_f64().map(|x| (k, x)))
        .collect()
}

/// The finished points' rows of a `sweep.csv` written by [`collect`], by point:
/// `(state, numbers, reason)`.
type FileRows = BTreeMap<String, (State, BTreeMap<String, f64>, String)>;

/// [`FileRows`] of the `sweep.csv` at `path`. Its numbers are the columns but `point`,
/// `group`, `seed`, `state` and `reason` that hold only numbers (a column with text in
/// any row is a setting). A column of an axis is read as numbers too: where a point lacks
/// the axis it holds the run's number of that name ([`axis_cell`]), and where it has the
/// axis [`collect`] writes the setting there. Unfinished points hold no numbers: left out.
fn read_rows(path: &Path) -> Result<FileRows, TrainError> {
    let bad = |e: &dyn std::fmt::Display| TrainError::new(path, format!("cannot read: {e}"));
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(&e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(&e))?
        .iter()
        .map(String::from)
        .collect();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            TrainError::new(
                path,
                format!("no `{name}` column: not a sweep.csv written by `sweep collect`"),
            )
        })
    };
    let (point, state, reason) = (column("point")?, column("state")?, column("reason")?);
    let records = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&e))?;
    let fixed = ["point", "group", "seed", "state", "reason"];
    let numeric: Vec<usize> = (0..header.len())
        .filter(|&c| !fixed.contains(&header[c].as_str()))
        .filter(|&c| {
            records
                .iter()
                .all(|r| r[c].is_empty() || r[c].parse::<f64>().is_ok())
        })
        .collect();
    let mut rows = FileRows::new();
    for r in &records {
        let why = r[reason].to_string();
        let state = match &r[state] {
            "done" => State::Done,
            "diverged" => State::Diverged(why.clone()),
            _ => continue,
        };
        let numbers = numeric
            .iter()
            .filter_map(|&c| Some((header[c].clone(), r[c].parse::<f64>().ok()?)))
            .collect();
        rows.insert(r[point].to_string(), (state, numbers, why));
    }
    Ok(rows)
}

/// Reads every point of `sweep` and writes the tables and pictures into its directory.
pub fn collect(sweep: &Sweep, options: &Options) -> Result<Collected, TrainError> {
    let (root, axes) = (&sweep.out, sweep.axis_names());
    let mut earlier = match &options.rows_from {
        Some(path) => read_rows(path)?,
        None => FileRows::new(),
    };
    let rows: Vec<Row> = sweep
        .points
        .iter()
        .map(|p| {
            let dir = p.dir(root);
            let state = State::of(&dir);
            if state == State::New {
                if let Some((state, numbers, reason)) = earlier.remove(&p.id()) {
                    return Row {
                        point: p.clone(),
                        state,
                        numbers,
                        reason,
                        from_file: true,
                    };
                }
            }
            let reason = match &state {
                State::Diverged(why) => why.clone(),
                State::Done => String::new(),
                State::Foreign(why) => why.clone(),
                State::Running => "running".into(),
                State::New => match last_error(p, root) {
                    Some(e) => format!("failed: {e}"),
                    None => "not started".into(),
                },
                State::Started | State::Resumable => match last_error(p, root) {
                    Some(e) => format!("failed: {e}"),
                    None => "stopped before the end".into(),
                },
            };
            let numbers = if state.is_final() {
                numbers(&dir)
            } else {
                BTreeMap::new()
            };
            Row {
                point: p.clone(),
                state,
                numbers,
                reason,
                from_file: false,
            }
        })
        .collect();
    // A number named like an axis shares the axis's column (`axis_cell`).
    let metrics: Vec<String> = rows
        .iter()
        .flat_map(|r| r.numbers.keys().cloned())
        .filter(|m| !axes.contains(m))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut files = Vec::new();

    // sweep.csv
    let mut header = vec!["point", "group", "seed", "state"];
    header.extend(axes.iter().map(String::as_str));
    header.extend(metrics.iter().map(String::as_str));
    header.push("reason");
    let mut w = csv::Writer::from_writer(Vec::new());
    let bad = |path: &Path, e: csv::Error| TrainError::new(path, e.to_string());
    let path = root.join("sweep.csv");
    w.write_record(&header).map_err(|e| bad(&path, e))?;
    for r in &rows {
        let mut rec = vec![
            r.point.id(),
            r.point.group.clone(),
            r.point.seed.to_string(),
            r.state.word().to_string(),
        ];
        rec.extend(axes.iter().map(|a| axis_cell(&r.point, &[r], a)));
        rec.extend(
            metrics
                .iter()
                .map(|m| r.numbers.get(m).map(|x| x.to_string()).unwrap_or_default()),
        );
        rec.push(r.reason.clone());
        w.write_record(&rec).map_err(|e| bad(&path, e))?;
    }
    write_csv(&path, w)?;
    files.push(path);

    // summary.csv: settings in file order.
    let settings = settings(&rows);
    let path = root.join("summary.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["setting".into(), "group".into()];
    header.extend(axes.iter().cloned());
    header.extend(["seeds".into(), "finished".into()]);
    for m in &metrics {
        header.push(m.clone());
        header.push(format!("{m}_sd"));
    }
    w.write_record(&header).map_err(|e| bad(&path, e))?;
    for (setting, members) in &settings {
        let first = &members[0].point;
        let finished: Vec<&Row> = members
            .iter()
            .copied()
            .filter(|r| r.state.is_final())
            .collect();
        let mut rec = vec![setting.clone(), first.group.clone()];
        rec.extend(axes.iter().map(|a| axis_cell(first, &finished, a)));
        rec.push(members.len().to_string());
        rec.push(finished.len().to_string());
        for m in &metrics {
            let values: Vec<f64> = finished
                .iter()
                .filter_map(|r| r.numbers.get(m).copied())
                .collect();
            let (mean, sd) = mean_sd(&values);
            rec.push(mean.map(|x| x.to_string()).unwrap_or_default());
            rec.push(sd.map(|x| x.to_string()).unwrap_or_default());
        }
        w.write_record(&rec).map_err(|e| bad(&path, e))?;
    }
    write_csv(&path, w)?;
    files.push(path);

    // best.csv
    if let Some(by) = &options.best_of {
        if !metrics.contains(by) && rows.iter().any(|r| r.state == State::Done) {
            return Err(TrainError::config(
                "--best-of",
                format!(
                    "`{by}` is not a number of the runs' summary.json ({})",
                    metrics.join(", ")
                ),
            ));
        }
        let path = root.join("best.csv");
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["setting".into(), "group".into()];
        header.extend(axes.iter().cloned());
        header.extend(["best_seed".into(), by.clone()]);
        header.extend(metrics.iter().filter(|m| *m != by).cloned());
        w.write_record(&header).map_err(|e| bad(&path, e))?;
        for (setting, members) in &settings {
            let best = members
                .iter()
                .filter(|r| r.state == State::Done)
                .filter_map(|r| r.numbers.get(by).map(|v| (*v, r)))
                .filter(|(v, _)| v.is_finite())
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let Some((value, r)) = best else { continue };
            let mut rec = vec![setting.clone(), r.point.group.clone()];
            rec.extend(axes.iter().map(|a| axis_cell(&r.point, &[r], a)));
            rec.push(r.point.seed.to_string());
            rec.push(value.to_string());
            rec.extend(
                metrics
                    .iter()
                    .filter(|m| *m != by)
                    .map(|m| r.numbers.get(m).map(|x| x.to_string()).unwrap_or_default()),
            );
            w.write_record(&rec).map_err(|e| bad(&path, e))?;
        }
        write_csv(&path, w)?;
        files.push(path);
    }

    // compare.html (of the runs here: rows read from a file have no metrics to draw)
    let done: Vec<PathBuf> = rows
        .iter()
        .filter(|r| r.state == State::Done && !r.from_file)
        .map(|r| r.point.dir(root))
        .collect();
    if !done.is_empty() {
        let page = root.join("compare.html");
        manifold_report::write_comparison(&done, &page)
            .map_err(|e| TrainError::new(&page, e.to_string()))?;
        files.extend(manifold_report::comparison_files(&page));
    }

    // Pictures.
    let plots = if sweep.plots.is_empty() {
        default_plots(sweep, &metrics)
    } else {
        sweep.plots.clone()
    };
    for plot in &plots {
        if let Some(path) = draw(root, plot, &settings, &axes)? {
            files.push(path);
        }
    }
    Ok(Collected { rows, files })
}

fn write_csv(path: &Path, w: csv::Writer<Vec<u8>>) -> Result<(), TrainError> {
    let bytes = w
        .into_inner()
        .map_err(|e| TrainError::new(path, e.to_string()))?;
    manifold_train::write_atomic(path, &bytes)
}

/// The rows grouped by setting, in the order their first point appears.
fn settings(rows: &[Row]) -> Vec<(String, Vec<&Row>)> {
    let mut out: Vec<(String, Vec<&Row>)> = Vec::new();
    for r in rows {
        let s = r.point.setting();
        match out.iter_mut().find(|(k, _)| *k == s) {
            Some((_, v)) => v.push(r),
            None => out.push((s, vec![r])),
        }
    }
    out
}

/// The cell of `point`'s row (or setting) in the column of axis `axis`: the point's
/// setting, or where its group lacks the axis the mean of `rows`' numbers of that name
/// (a run's own number for one row; DreamComp's runs report `neurons`, an axis of other
/// groups), else "".
fn axis_cell(point: &Point, rows: &[&Row], axis: &str) -> String {
    let setting = setting_text(point, axis);
    if !setting.is_empty() {
        return setting;
    }
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.numbers.get(axis).copied())
        .collect();
    mean_sd(&values)
        .0
        .map(|x| x.to_string())
        .unwrap_or_default()
}

/// The value of axis `axis` at `point`, as written in TOML ("" when its group lacks it).
fn setting_text(point: &Point, axis: &str) -> String {
    point
        .settings
        .iter()
        .find(|(k, _)| k == axis)
        .map(|(_, v)| match v {
            toml::Value::String(s) => s.clone(),
            v => v.to_string(),
        })
        .unwrap_or_default()
}

/// The value of axis `axis` at `point` as a number, when it is one.
fn setting_number(point: &Point, axis: &str) -> Option<f64> {
    point
        .settings
        .iter()
        .find(|(k, _)| k == axis)
        .and_then(|(_, v)| match v {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            toml::Value::Array(a) if a.len() == 1 => match &a[0] {
                toml::Value::Integer(i) => Some(*i as f64),
                toml::Value::Float(f) => Some(*f),
                _ => None,
            },
            _ => None,
        })
}

/// Mean and sample standard deviation (`None` without values; the sd needs two).
pub fn mean_sd(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (Some(mean), None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (Some(mean), Some(var.sqrt()))
}

/// Test accuracy (or test MSE) against every numeric axis.
fn default_plots(sweep: &Sweep, metrics: &[String]) -> Vec<Plot> {
    let y = if metrics.iter().any(|m| m == "test_accuracy") {
        "test_accuracy"
    } else {
        "test_mse"
    };
    sweep
        .axis_names()
        .into_iter()
        .filter(|a| sweep.points.iter().any(|p| setting_number(p, a).is_some()))
        .map(|x| Plot::of(x, y))
        .collect()
}

/// The points of `plot` by series (legend name): per setting, `(x, mean y, sd of y)` over
/// its finished seeds, or with [`Plot::seeds`] one `(x, y, 0)` per finished seed; x is
/// the setting's axis value where `plot.x` is an axis (`is_axis`), else the mean of that
/// number over the seeds.
fn plot_points(
    plot: &Plot,
    settings: &[(String, Vec<&Row>)],
    is_axis: bool,
) -> BTreeMap<String, Vec<(f64, f64, f64)>> {
    let mut series: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for (_, members) in settings {
        let done: Vec<&&Row> = members.iter().filter(|r| r.state == State::Done).collect();
        let Some(first) = done.first() else { continue };
        if !plot.draws(&first.point.group) {
            continue;
        }
        let values = |m: &str| -> Vec<f64> {
            done.iter()
                .filter_map(|r| r.numbers.get(m).copied())
                .collect()
        };
        let x = if is_axis {
            setting_number(&first.point, &plot.x)
        } else {
            mean_sd(&values(&plot.x)).0
        };
        let Some(x) = x else { continue };
        let ys: Vec<(f64, f64)> = if plot.seeds {
            values(&plot.y).into_iter().map(|y| (y, 0.0)).collect()
        } else {
            match mean_sd(&values(&plot.y)) {
                (Some(y), sd) => vec![(y, sd.unwrap_or(0.0))],
                (None, _) => Vec::new(),
            }
        };
        if ys.is_empty() {
            continue;
        }
        let group = &first.point.group;
        let name = match plot.series.get(group) {
            Some(name) => name.clone(),
            None if group.is_empty() => first.point.model.clone(),
            None => group.clone(),
        };
        series
            .entry(name)
            .or_default()
            .extend(ys.into_iter().map(|(y, sd)| (x, y, sd)));
    }
    series
}

/// One picture: per group, the mean over finished seeds of `y` against `x` (every
/// seed's `y` with [`Plot::seeds`]).
fn draw(
    root: &Path,
    plot: &Plot,
    settings: &[(String, Vec<&Row>)],
    axes: &[String],
) -> Result<Option<PathBuf>, TrainError> {
    let is_axis = axes.contains(&plot.x);
    let series = plot_points(plot, settings, is_axis);
    if series.is_empty() {
        return Ok(None);
    }
    let series: Vec<Series> = series
        .into_iter()
        .map(|(name, mut pts)| {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let line = plot.lines.contains(&name) && !plot.seeds;
            let sd = pts.iter().map(|p| p.2).collect();
            let s = Series::new(name, pts.into_iter().map(|p| (p.0, p.1)).collect()).with_sd(sd);
            if line {
                s.as_line()
            } else {
                s
            }
        })
        .collect();
    let path = root.join(format!("plot-{}-vs-{}.png", plot.y, plot.x));
    let x_label = plot.x.clone();
    let title = plot.title.clone().unwrap_or_else(|| {
        let over = if plot.seeds {
            "every seed"
        } else {
            "mean over seeds"
        };
        format!("{} against {} ({over})", plot.y, plot.x)
    });
    // A line through every seed's dot would zigzag between seeds: dots only.
    let style = ChartStyle {
        lines: is_axis && !plot.seeds,
        log_x: plot.log_x,
        log_y: plot.log_y,
    };
    chart(&path, &title, &x_label, &plot.y, &series, style)
        .map_err(|e| TrainError::new(&path, e.to_string()))?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd_by_hand() {
        assert_eq!(mean_sd(&[]), (None, None));
        assert_eq!(mean_sd(&[2.0]), (Some(2.0), None));
        // mean 2, squared deviations 1 + 0 + 1 over n − 1 = 2: sd 1.
        assert_eq!(mean_sd(&[1.0, 2.0, 3.0]), (Some(2.0), Some(1.0)));
    }

    fn summary_column(root: &Path, setting: &str, column: &str) -> String {
        let mut r = csv::Reader::from_path(root.join("summary.csv")).unwrap();
        let at = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == column)
            .unwrap();
        let row = r.records().map(Result::unwrap).find(|r| &r[0] == setting);
        row.unwrap()[at].to_string()
    }

    /// A sweep parsed from `text` (its directory `out` made) in a fresh temporary folder,
    /// and `rows` written there as an earlier `sweep.csv`, `earlier.csv`.
    fn with_earlier_rows(text: &str, rows: &str) -> (tempfile::TempDir, Sweep, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let sweep = Sweep::parse(&t.join("s.toml"), text, Some(&t.join("out"))).unwrap();
        std::fs::create_dir_all(&sweep.out).unwrap();
        let earlier = t.join("earlier.csv");
        std::fs::write(&earlier, rows).unwrap();
        (tmp, sweep, earlier)
    }

    /// A plot's points: the mean ± sample sd over a setting's finished seeds, or with
    /// `seeds = true` each finished seed's value at the setting's x; a seed not finished
    /// is in neither.
    #[test]
    fn a_plot_draws_the_mean_over_seeds_or_every_seed() {
        let (_tmp, sweep, earlier) = with_earlier_rows(
            "seeds = 3\nmodel = \"mlp\"\naxes = { epochs = [2, 4] }\n",
            "point,group,seed,state,epochs,test_mse,reason\n\
             \"epochs=2,seed=0\",,0,done,2,0.5,\n\
             \"epochs=2,seed=1\",,1,done,2,0.25,\n\
             \"epochs=2,seed=2\",,2,new,2,,not started\n\
             \"epochs=4,seed=0\",,0,done,4,0.001,\n\
             \"epochs=4,seed=1\",,1,done,4,0.002,\n\
             \"epochs=4,seed=2\",,2,done,4,0.003,\n",
        );
        let options = Options {
            best_of: None,
            rows_from: Some(earlier),
        };
        let c = collect(&sweep, &options).unwrap();
        let settings = settings(&c.rows);
        let mut plot = Plot::of("epochs", "test_mse");
        let means = plot_points(&plot, &settings, true);
        let points = &means["mlp"];
        assert_eq!(points.len(), 2, "{points:?}");
        // 0.5 and 0.25: mean 0.375, sd 0.25 / √2; 1e-3, 2e-3, 3e-3: mean 2e-3, sd 1e-3.
        assert_eq!((points[0].0, points[0].1), (2.0, 0.375));
        assert!(
            (points[0].2 - 0.25 / 2f64.sqrt()).abs() < 1e-15,
            "{points:?}"
        );
        assert_eq!(points[1].0, 4.0);
        assert!((points[1].1 - 0.002).abs() < 1e-15 && (points[1].2 - 0.001).abs() < 1e-15);

        plot.seeds = true;
        let every = plot_points(&plot, &settings, true);
        assert_eq!(
            every["mlp"],
            [
                (2.0, 0.5, 0.0),
                (2.0, 0.25, 0.0),
                (4.0, 0.001, 0.0),
                (4.0, 0.002, 0.0),
                (4.0, 0.003, 0.0)
            ]
        );
    }

    /// A number the runs report under an axis's name (MLP runs report `epochs`) shares
    /// the axis's column: one column, holding the setting where the point has the axis
    /// and the run's number where it does not, in sweep.csv and summary.csv alike.
    #[test]
    fn a_number_named_like_an_axis_fills_its_column_where_the_point_lacks_the_axis() {
        let (_tmp, sweep, earlier) = with_earlier_rows(
            "seeds = 2\n[[group]]\nname = \"a\"\nmodel = \"mlp\"\naxes = { epochs = [2] }\n\
             [[group]]\nname = \"b\"\nmodel = \"mlp\"\n",
            "point,group,seed,state,epochs,test_accuracy,reason\n\
             \"a/epochs=2,seed=0\",a,0,done,2,0.5,\n\
             \"a/epochs=2,seed=1\",a,1,done,2,0.75,\n\
             \"b/seed=0\",b,0,done,30,0.25,\n\
             \"b/seed=1\",b,1,done,40,0.5,\n",
        );
        let options = Options {
            best_of: None,
            rows_from: Some(earlier),
        };
        collect(&sweep, &options).unwrap();
        let text = std::fs::read_to_string(sweep.out.join("sweep.csv")).unwrap();
        let header = text.lines().next().unwrap();
        assert_eq!(header.matches("epochs").count(), 1, "{header}");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let epochs: Vec<String> = reader
            .records()
            .map(|r| r.unwrap()[4].to_string())
            .collect();
        assert_eq!(epochs, ["2", "2", "30", "40"], "{text}");
        assert_eq!(summary_column(&sweep.out, "b", "epochs"), "35");
        assert_eq!(summary_column(&sweep.out, "a/epochs=2", "epochs"), "2");
    }

    /// Points without a run here take their rows from an earlier sweep.csv (its settings
    /// column skipped, its numbers averaged as if read from summary.json); a run here wins
    /// over its row there; a file that is not a sweep.csv is refused naming it.
    #[test]
    fn rows_from_an_earlier_collect_fill_the_points_without_runs() {
        let (_tmp, sweep, earlier) = with_earlier_rows(
            "seeds = 2\nmodel = \"mlp\"\naxes = { hidden = [[8], [16]] }\n",
            "point,group,seed,state,hidden,test_accuracy,epochs,reason\n\
             \"hidden=8,seed=0\",,0,done,[8],0.5,3,\n\
             \"hidden=8,seed=1\",,1,done,[8],0.75,3,\n\
             \"hidden=16,seed=0\",,0,done,[16],0.875,3,\n\
             \"hidden=16,seed=1\",,1,new,[16],,,not started\n\
             \"other=1,seed=0\",,0,done,,0.25,3,\n",
        );
        // A run here that diverged, where the file says the point finished.
        let here = sweep.points[2].dir(&sweep.out);
        std::fs::create_dir_all(&here).unwrap();
        std::fs::write(here.join("run.json"), "{}").unwrap();
        std::fs::write(here.join("summary.json"), r#"{"diverged": "NaN loss"}"#).unwrap();
        let options = Options {
            best_of: None,
            rows_from: Some(earlier.clone()),
        };
        let c = collect(&sweep, &options).unwrap();
        let states: Vec<(&str, bool)> = c
            .rows
            .iter()
            .map(|r| (r.state.word(), r.from_file))
            .collect();
        assert_eq!(
            states,
            [
                ("done", true),
                ("done", true),
                ("diverged", false),
                ("new", false)
            ]
        );
        assert_eq!(c.rows[0].numbers.get("hidden"), None);
        let root = &sweep.out;
        assert_eq!(summary_column(root, "hidden=8", "finished"), "2");
        assert_eq!(summary_column(root, "hidden=8", "test_accuracy"), "0.625");
        // sd of 0.5 and 0.75: 0.25 / √2.
        let sd: f64 = summary_column(root, "hidden=8", "test_accuracy_sd")
            .parse()
            .unwrap();
        assert!((sd - 0.25 / 2f64.sqrt()).abs() < 1e-15, "{sd}");
        assert_eq!(summary_column(root, "hidden=16", "finished"), "1");
        assert_eq!(summary_column(root, "hidden=16", "test_accuracy"), "");

        std::fs::write(&earlier, "a,b\n1,2\n").unwrap();
        let e = collect(&sweep, &options).unwrap_err().to_string();
        assert!(
            e.contains("earlier.csv") && e.contains("no `point` column"),
            "{e}"
        );
    }
}
