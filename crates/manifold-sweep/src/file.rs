//! The sweep file (TOML) and its points.
//!
//! ```toml
//! # Defaults every group takes unless it says otherwise.
//! seeds = 3                        # seeds 0, 1, 2 (or a list: [0, 4, 7])
//! out = "runs/sweeps/sizes"        # default: runs/sweeps/<file stem>
//!
//! [[group]]
//! name = "dense"                   # the points' folder under the sweep's directory
//! model = "mlp"                    # mlp, dnm, set, dreamcomp or rnn
//! set = { epochs = 15 }            # fixed config fields, as `--set field=value`
//! axes = { hidden = [[8], [16], [32]] }
//!
//! [[group]]
//! name = "dnm"
//! model = "dnm"
//! preset = "best-mnist"            # the model's preset (not for mlp)
//! config = "dnm-base.toml"         # a base config file, relative to this file
//! axes = { lambda_sparse = { from = 0.1, to = 100, count = 4, log = true } }
//!
//! [[plot]]                         # pictures `collect` draws (default: y against each axis)
//! x = "lambda_sparse"              # an axis, or a number of summary.json ("density")
//! y = "test_accuracy"
//! log_x = true
//! log_y = false                    # true: a logarithmic y axis (a loss over decades)
//! seeds = false                    # true: every seed's dot, not the mean ± sd
//! series = { dnm = "DNM" }         # legend names by group (a shared name: one series)
//! lines = ["DNM"]                  # series drawn as lines (the others as dots)
//! groups = ["dnm"]                 # the groups drawn (default: every group)
//! ```
//!
//! Each point of a picture is the mean over a setting's finished seeds, with a bar of
//! ± one standard deviation when it has more than one; with `seeds = true`, one dot per
//! finished seed.
//!
//! A file without `[[group]]` is one group, made of its top-level `model`, `preset`,
//! `config`, `set` and `axes`, whose points sit directly in the sweep's directory.
//! The points of a group are every combination of its axes (in the alphabetical order
//! of the axis names) × its seeds; a point's folder is named by its settings:
//! `hidden=16,seed=2`. Points are numbered in file order: `--index` of `sweep task`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use manifold_train::TrainError;
use serde::Deserialize;

/// The models a sweep can train (the `manifold train` subcommands).
pub const MODELS: [&str; 5] = ["mlp", "dnm", "set", "dreamcomp", "rnn"];

/// The config fields the sweep owns: a point's seed comes from `seeds`.
const OWNED_FIELDS: [&str; 1] = ["seed"];

/// A parsed, checked sweep file.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The file it was read from.
    pub file: PathBuf,
    /// The file's text, kept as `sweep.toml` in the sweep's directory.
    pub text: String,
    /// The sweep's directory: every point's run directory lies under it.
    pub out: PathBuf,
    /// The backend named by the file (`--device` overrides it), if any.
    pub device: Option<String>,
    /// The groups, in file order.
    pub groups: Vec<Group>,
    /// The pictures `collect` draws.
    pub plots: Vec<Plot>,
    /// Every point, numbered in file order.
    pub points: Vec<Point>,
}

/// One model's part of a sweep: a base config, axes and seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The group's name: its points' folder ("" for a file without groups).
    pub name: String,
    /// `mlp`, `dnm`, `set` or `dreamcomp`.
    pub model: String,
    /// The model's preset, if the group names one.
    pub preset: Option<String>,
    /// A base config file (absolute), if the group names one.
    pub config: Option<PathBuf>,
    /// Fixed config fields.
    pub set: BTreeMap<String, toml::Value>,
    /// The varied fields and their values, in alphabetical order of the fields.
    pub axes: Vec<(String, Vec<toml::Value>)>,
    /// Seeds.
    pub seeds: Vec<u64>,
}

/// A picture of `collect`: the mean over seeds of `y` against `x` (or every seed's, with
/// [`Plot::seeds`]), a series per group.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plot {
    /// An axis (a config field) or a number of the runs' `summary.json`.
    pub x: String,
    /// A number of the runs' `summary.json` (default `test_accuracy`).
    #[serde(default = "default_y")]
    pub y: String,
    /// A logarithmic x axis.
    #[serde(default)]
    pub log_x: bool,
    /// A logarithmic y axis (a loss that spans decades); values ≤ 0 are left out.
    #[serde(default)]
    pub log_y: bool,
    /// Every finished seed's `y` as its own dot, in place of the mean ± sd over seeds:
    /// for outcomes that split between seeds (a task solved on some seeds and not on
    /// others), where a mean and its sd describe no run.
    #[serde(default)]
    pub seeds: bool,
    /// The picture's title (default: "y against x").
    #[serde(default)]
    pub title: Option<String>,
    /// Legend names by group: groups given the same name share one series (one colour);
    /// a group not named here is its own series, under its own name.
    #[serde(default)]
    pub series: BTreeMap<String, String>,
    /// Series (legend names) drawn as a line through their points; the others are dots.
    #[serde(default)]
    pub lines: Vec<String>,
    /// The groups drawn (default: every group), e.g. to leave out one far below the
    /// others, which would squeeze them together.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl Plot {
    /// `y` against `x` with every other field at its default: every group's mean over
    /// seeds on linear axes, under the default title.
    pub fn of(x: impl Into<String>, y: impl Into<String>) -> Self {
        Self {
            x: x.into(),
            y: y.into(),
            log_x: false,
            log_y: false,
            seeds: false,
            title: None,
            series: BTreeMap::new(),
            lines: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// Whether the points of group `group` are drawn.
    pub fn draws(&self, group: &str) -> bool {
        self.groups.is_empty() || self.groups.iter().any(|g| g == group)
    }
}

fn default_y() -> String {
    "test_accuracy".into()
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Its number in the sweep (file order).
    pub index: usize,
    /// Its group's name.
    pub group: String,
    /// Its folder's name: the settings and the seed.
    pub name: String,
    /// `mlp`, `dnm`, `set` or `dreamcomp`.
    pub model: String,
    /// The preset, if any.
    pub preset: Option<String>,
    /// The base config file, if any.
    pub config: Option<PathBuf>,
    /// Every `--set field=value` of the run: the group's fixed fields, then its settings.
    pub sets: Vec<(String, toml::Value)>,
    /// The values of the group's axes at this point.
    pub settings: Vec<(String, toml::Value)>,
    /// The seed.
    pub seed: u64,
}

impl Point {
    /// The point's name within the sweep: `group/settings` (or `settings`).
    pub fn id(&self) -> String {
        if self.group.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.group, self.name)
        }
    }

    /// Its run directory under the sweep's directory `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(&self.group).join(&self.name)
    }

    /// Its log (every attempt's output, appended) under `root`.
    pub fn log(&self, root: &Path) -> PathBuf {
        root.join("logs")
            .join(&self.group)
            .join(format!("{}.log", self.name))
    }

    /// The setting without the seed, `group/settings`: the seeds of one setting share it.
    pub fn setting(&self) -> String {
        let s = self
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={}", slug(v)))
            .collect::<Vec<_>>()
            .join(",");
        match (self.group.is_empty(), s.is_empty()) {
            (true, _) => s,
            (false, true) => self.group.clone(),
            (false, false) => format!("{}/{s}", self.group),
        }
    }
}

/// `seeds = 3` (0, 1, 2) or `seeds = [0, 4]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

/// An axis: a list of values, or a range.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Axis {
    Values(Vec<toml::Value>),
    Range(Range),
}

/// `{ from, to, count, log }`: `count` values from `from` to `to`, evenly spaced (or
/// evenly spaced in log). Integers when `from` and `to` are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: toml::Value,
    to: toml::Value,
    count: usize,
    #[serde(default)]
    log: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Option<String>,
    model: Option<String>,
    preset: Option<String>,
    config: Option<PathBuf>,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    axes: BTreeMap<String, Axis>,
    seeds: Option<Seeds>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    out: Option<PathBuf>,
    device: Option<String>,
    model: Option<String>,
    preset: Option<String>,
    config: Option<PathBuf>,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    axes: BTreeMap<String, Axis>,
    seeds: Option<Seeds>,
    #[serde(default)]
    group: Vec<RawGroup>,
    #[serde(default)]
    plot: Vec<Plot>,
}

impl Sweep {
    /// Reads and checks the sweep file `path`; `out` replaces the file's `out`.
    pub fn read(path: &Path, out: Option<&Path>) -> Result<Self, TrainError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
        Self::parse(path, &text, out)
    }

    /// The same sweep with only the points of the groups named (`sweep run --group`);
    /// the points keep their numbers. A name that is not one of the file's groups is an
    /// error naming the file and the groups it has.
    pub fn only_groups(mut self, names: &[String]) -> Result<Self, TrainError> {
        if names.is_empty() {
            return Ok(self);
        }
        if let Some(unknown) = names
            .iter()
            .find(|n| !self.groups.iter().any(|g| &g.name == *n))
        {
            let known: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
            return Err(TrainError::new(
                &self.file,
                format!(
                    "--group {unknown}: no such group (the file's groups: {})",
                    known.join(", ")
                ),
            ));
        }
        self.points.retain(|p| names.contains(&p.group));
        Ok(self)
    }

    /// Checks the sweep file `path` whose text is `text`.
    pub fn parse(path: &Path, text: &str, out: Option<&Path>) -> Result<Self, TrainError> {
        let bad = |problem: String| TrainError::new(path, problem);
        let raw: RawFile =
            toml::from_str(text).map_err(|e| bad(manifold_train::one_line(&e.to_string())))?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let top = RawGroup {
            name: None,
            model: raw.model.clone(),
            preset: raw.preset.clone(),
            config: raw.config.clone(),
            set: raw.set.clone(),
            axes: raw.axes.clone(),
            seeds: raw.seeds.clone(),
        };
        let raw_groups = if raw.group.is_empty() {
            vec![RawGroup {
                name: Some(String::new()),
                ..top.clone()
            }]
        } else {
            if !raw.axes.is_empty() {
                return Err(bad(
                    "`axes` at the top level of a file with [[group]]: give each group its axes"
                        .into(),
                ));
            }
            raw.group.clone()
        };
        let mut groups = Vec::new();
        let mut names = BTreeSet::new();
        for (k, g) in raw_groups.into_iter().enumerate() {
            let group = Group::from_raw(g, &top, base_dir, k).map_err(bad)?;
            if !names.insert(group.name.clone()) {
                return Err(bad(format!("two groups are named `{}`", group.name)));
            }
            groups.push(group);
        }
        if let Some(device) = &raw.device {
            if !["ndarray", "wgpu", "flex"].contains(&device.as_str()) {
                return Err(bad(format!(
                    "device `{device}`: expected ndarray, wgpu or flex"
                )));
            }
        }
        let mut points = Vec::new();
        for g in &groups {
            g.points(&mut points);
        }
        let mut seen = BTreeSet::new();
        for p in &points {
            if !seen.insert(p.id()) {
                return Err(bad(format!("two points are named `{}`", p.id())));
            }
        }
        let out = match (out, &raw.out) {
            (Some(o), _) => o.to_path_buf(),
            (None, Some(o)) => o.clone(),
            (None, None) => {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep");
                Path::new("runs").join("sweeps").join(stem)
            }
        };
        for plot in &raw.plot {
            let names: BTreeSet<&String> = groups
                .iter()
                .filter(|g| plot.draws(&g.name))
                .map(|g| plot.series.get(&g.name).unwrap_or(&g.name))
                .collect();
            let named = plot.series.keys().chain(&plot.groups);
            if let Some(g) = named
                .into_iter()
                .find(|g| !groups.iter().any(|h| &h.name == *g))
            {
                return Err(bad(format!("[[plot]]: no group is named `{g}`")));
            }
            if let Some(l) = plot.lines.iter().find(|l| !names.contains(l)) {
                return Err(bad(format!("[[plot]] lines: no series is named `{l}`")));
            }
        }
        Ok(Self {
            file: path.to_path_buf(),
            text: portable(text, base_dir).map_err(bad)?,
            out,
            device: raw.device,
            groups,
            plots: raw.plot,
            points,
        })
    }

    /// The point numbered `index`, or an error saying how many there are.
    pub fn point(&self, index: usize) -> Result<&Point, TrainError> {
        self.points.get(index).ok_or_else(|| {
            TrainError::new(
                &self.file,
                format!(
                    "--index {index}: the sweep has {} points (0–{})",
                    self.points.len(),
                    self.points.len().saturating_sub(1)
                ),
            )
        })
    }

    /// The names of every axis of every group, in first-seen order.
    pub fn axis_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for g in &self.groups {
            for (a, _) in &g.axes {
                if !names.contains(a) {
                    names.push(a.clone());
                }
            }
        }
        names
    }
}

impl Group {
    fn from_raw(g: RawGroup, top: &RawGroup, base_dir: &Path, k: usize) -> Result<Self, String> {
        // A file without [[group]] is one group named "" (its points need no folder).
        let name = g
            .name
            .clone()
            .ok_or_else(|| format!("group {}: needs a `name` (its points' folder)", k + 1))?;
        let label = if name.is_empty() {
            "the sweep".to_string()
        } else {
            format!("group `{name}`")
        };
        if !name.is_empty() && (slug_str(&name) != name || name.starts_with('.')) {
            return Err(format!(
                "{label}: a group's name is a folder name: letters, digits, `.`, `_`, `-`, `=`, `,`"
            ));
        }
        if name == "logs" || name == "slurm" {
            return Err(format!("{label}: `{name}` is the sweep's own folder"));
        }
        let model = g
            .model
            .or_else(|| top.model.clone())
            .ok_or_else(|| format!("{label}: no `model` ({})", MODELS.join(", ")))?;
        if !MODELS.contains(&model.as_str()) {
            return Err(format!(
                "{label}: model `{model}`: expected {}",
                MODELS.join(", ")
            ));
        }
        let preset = g.preset.or_else(|| top.preset.clone());
        if model == "mlp" && preset.is_some() {
            return Err(format!(
                "{label}: the mlp has no presets (give its fields in `set`)"
            ));
        }
        let config = g
            .config
            .or_else(|| top.config.clone())
            .map(|c| base_dir.join(c));
        if let Some(c) = &config {
            if !c.is_file() {
                return Err(format!("{label}: config `{}`: no such file", c.display()));
            }
        }
        // A group's `set` adds to the top level's.
        let mut set = top.set.clone();
        set.extend(g.set);
        let mut axes = Vec::new();
        for (field, axis) in g.axes {
            let values = axis
                .values()
                .map_err(|e| format!("{label}: axis `{field}`: {e}"))?;
            if values.is_empty() {
                return Err(format!("{label}: axis `{field}` has no value"));
            }
            if set.contains_key(&field) {
                return Err(format!(
                    "{label}: `{field}` is both an axis and a fixed field in `set`"
                ));
            }
            axes.push((field, values));
        }
        for field in set.keys().chain(axes.iter().map(|(f, _)| f)) {
            if OWNED_FIELDS.contains(&field.as_str()) {
                return Err(format!(
                    "{label}: `{field}` is set by the sweep's `seeds`, not by a field"
                ));
            }
        }
        let seeds = match g.seeds.or_else(|| top.seeds.clone()) {
            None => vec![0],
            Some(Seeds::Count(n)) => (0..n).collect(),
            Some(Seeds::List(l)) => l,
        };
        if seeds.is_empty() {
            return Err(format!("{label}: no seed"));
        }
        if seeds.iter().collect::<BTreeSet<_>>().len() != seeds.len() {
            return Err(format!("{label}: a seed is listed twice"));
        }
        if let Some(s) = seeds.iter().find(|&&s| s > i64::MAX as u64) {
            return Err(format!("{label}: seed {s} is above {}", i64::MAX));
        }
        Ok(Self {
            name,
            model,
            preset,
            config,
            set,
            axes,
            seeds,
        })
    }

    /// Appends this group's points (every combination of the axes × the seeds).
    fn points(&self, out: &mut Vec<Point>) {
        let mut combos: Vec<Vec<(String, toml::Value)>> = vec![Vec::new()];
        for (field, values) in &self.axes {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.push((field.clone(), v.clone()));
                        c
                    })
                })
                .collect();
        }
        for settings in combos {
            for &seed in &self.seeds {
                let mut parts: Vec<String> = settings
                    .iter()
                    .map(|(k, v)| format!("{k}={}", slug(v)))
                    .collect();
                parts.push(format!("seed={seed}"));
                let mut sets: Vec<(String, toml::Value)> = self
                    .set
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                sets.extend(settings.iter().cloned());
                out.push(Point {
                    index: out.len(),
                    group: self.name.clone(),
                    name: parts.join(","),
                    model: self.model.clone(),
                    preset: self.preset.clone(),
                    config: self.config.clone(),
                    sets,
                    settings: settings.clone(),
                    seed,
                });
            }
        }
    }
}

impl Axis {
    fn values(&self) -> Result<Vec<toml::Value>, String> {
        match self {
            Axis::Values(v) => Ok(v.clone()),
            Axis::Range(r) => r.values(),
        }
    }
}

impl Range {
    fn values(&self) -> Result<Vec<toml::Value>, String> {
        let num = |v: &toml::Value| match v {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) => Some(*f),
            _ => None,
        };
        let (Some(a), Some(b)) = (num(&self.from), num(&self.to)) else {
            return Err("`from` and `to` must be numbers".into());
        };
        if self.count == 0 {
            return Err("`count` must be at least 1".into());
        }
        if self.log && (a <= 0.0 || b <= 0.0) {
            return Err("a log range needs `from` and `to` above 0".into());
        }
        let integers = matches!(
            (&self.from, &self.to),
            (toml::Value::Integer(_), toml::Value::Integer(_))
        );
        let mut out: Vec<toml::Value> = Vec::new();
        for i in 0..self.count {
            let t = if self.count == 1 {
                0.0
            } else {
                i as f64 / (self.count - 1) as f64
            };
            let x = if self.log {
                (a.ln() + t * (b.ln() - a.ln())).exp()
            } else {
                a + t * (b - a)
            };
            let v = if integers {
                toml::Value::Integer(x.round() as i64)
            } else {
                // Twelve significant digits: 10^(k/3) prints as 2.15443469003, not
                // 2.1544346900318834.
                toml::Value::Float(format!("{x:.11e}").parse().unwrap_or(x))
            };
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }
}

/// `text` with every `config` path made absolute (relative ones are relative to
/// `base_dir`), so that a copy of the file elsewhere (the sweep's `sweep.toml`, a Slurm
/// job's frozen copy) means the same; unchanged when it has none.
fn portable(text: &str, base_dir: &Path) -> Result<String, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut changed = false;
    let mut absolute = |t: &mut toml::Table| -> Result<(), String> {
        if let Some(toml::Value::String(c)) = t.get("config") {
            if Path::new(c).is_relative() {
                let abs = std::path::absolute(base_dir.join(c)).map_err(|e| e.to_string())?;
                t.insert("config".into(), abs.display().to_string().into());
                changed = true;
            }
        }
        Ok(())
    };
    absolute(&mut table)?;
    if let Some(toml::Value::Array(groups)) = table.get_mut("group") {
        for g in groups {
            if let toml::Value::Table(g) = g {
                absolute(g)?;
            }
        }
    }
    if !changed {
        return Ok(text.to_string());
    }
    let body = toml::to_string(&table).map_err(|e| e.to_string())?;
    Ok(format!(
        "# The sweep file with its `config` paths made absolute.\n{body}"
    ))
}

/// A value as it appears in a folder name: numbers and strings as written, arrays joined
/// by `-`; anything but letters, digits, `.`, `_`, `-` and `+` becomes `_`.
pub fn slug(v: &toml::Value) -> String {
    let raw = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(slug).collect::<Vec<_>>().join("-"),
        other => other.to_string(),
    };
    slug_str(&raw)
}

fn slug_str(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '=' | ',') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Sweep, TrainError> {
        Sweep::parse(Path::new("sweeps/t.toml"), text, None)
    }

    /// A plot's legend names and drawn groups must name groups, and its lines must name
    /// series that are drawn.
    #[test]
    fn plot_series_and_lines_must_name_groups_and_series() {
        let file = |plot: &str| {
            format!(
                "[[group]]\nname = \"d1\"\nmodel = \"mlp\"\n[[group]]\nname = \"d2\"\nmodel = \"mlp\"\n[[plot]]\nx = \"connections\"\n{plot}"
            )
        };
        let ok = parse(&file(
            "series = { d1 = \"dense\", d2 = \"dense\" }\nlines = [\"dense\"]\n",
        ))
        .unwrap();
        assert_eq!(ok.plots[0].lines, ["dense"]);
        assert_eq!(ok.plots[0].series["d2"], "dense");
        let err = parse(&file("series = { d3 = \"dense\" }\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sweeps/t.toml") && err.contains("no group is named `d3`"),
            "{err}"
        );
        let err = parse(&file("groups = [\"d1\", \"d4\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[[plot]]: no group is named `d4`"), "{err}");
        // A series whose groups are all left out cannot be a line.
        let err = parse(&file("groups = [\"d1\"]\nlines = [\"d2\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lines: no series is named `d2`"), "{err}");
        let only = parse(&file("groups = [\"d1\"]\n")).unwrap();
        assert!(only.plots[0].draws("d1") && !only.plots[0].draws("d2"));
        assert!(ok.plots[0].draws("d2"), "every group by default");
        let err = parse(&file("series = { d1 = \"dense\" }\nlines = [\"d1\"]\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lines: no series is named `d1`"), "{err}");
        assert!(
            parse(&file("lines = [\"d2\"]\n")).is_ok(),
            "an unnamed group is its own series"
        );
    }

    #[test]
    fn groups_expand_to_axes_times_seeds_in_file_order() {
        let s = parse(
            r#"
            seeds = 2
            [[group]]
            name = "dense"
            model = "mlp"
            set = { epochs = 3 }
            axes = { hidden = [[8], [16, 16]], learning_rate = [0.01] }
            [[group]]
            name = "dnm"
            model = "dnm"
            preset = "seed-toy"
            seeds = [5]
            "#,
        )
        .unwrap();
        let ids: Vec<String> = s.points.iter().map(Point::id).collect();
        assert_eq!(
            ids,
            [
                "dense/hidden=8,learning_rate=0.01,seed=0",
                "dense/hidden=8,learning_rate=0.01,seed=1",
                "dense/hidden=16-16,learning_rate=0.01,seed=0",
                "dense/hidden=16-16,learning_rate=0.01,seed=1",
                "dnm/seed=5",
            ]
        );
        assert_eq!(s.points[2].index, 2);
        assert_eq!(
            s.points[2].sets,
            [
                ("epochs".to_string(), toml::Value::Integer(3)),
                (
                    "hidden".to_string(),
                    toml::Value::Array(vec![16.into(), 16.into()])
                ),
                ("learning_rate".to_string(), toml::Value::Float(0.01)),
            ]
        );
        assert_eq!(
            s.points[2].setting(),
            "dense/hidden=16-16,learning_rate=0.01"
        );
        assert_eq!(s.points[4].setting(), "dnm");
        assert_eq!(s.out, Path::new("runs/sweeps/t"));
        assert_eq!(
            s.point(5).unwrap_err().to_string(),
            "sweeps/t.toml: --index 5: the sweep has 5 points (0–4)"
        );
    }

    #[test]
    fn only_groups_keeps_the_named_groups_points_and_refuses_an_unknown_name() {
        let s = parse(
            r#"
            seeds = 2
            [[group]]
            name = "dense"
            model = "mlp"
            [[group]]
            name = "dnm"
            model = "dnm"
            preset = "seed-toy"
            [[group]]
            name = "set"
            model = "set"
            "#,
        )
        .unwrap();
        let kept = s
            .clone()
            .only_groups(&["set".into(), "dense".into()])
            .unwrap();
        let ids: Vec<(usize, String)> = kept.points.iter().map(|p| (p.index, p.id())).collect();
        assert_eq!(
            ids,
            [
                (0, "dense/seed=0".to_string()),
                (1, "dense/seed=1".to_string()),
                (4, "set/seed=0".to_string()),
                (5, "set/seed=1".to_string()),
            ]
        );
        assert_eq!(s.clone().only_groups(&[]).unwrap().points, s.points);
        assert_eq!(
            s.only_groups(&["dnm".into(), "rigl".into()])
                .unwrap_err()
                .to_string(),
            "sweeps/t.toml: --group rigl: no such group (the file's groups: dense, dnm, set)"
        );
    }

    #[test]
    fn ranges_are_even_in_value_or_in_log() {
        let s = parse(
            r#"
            model = "dnm"
            axes.lambda_sparse = { from = 0.1, to = 100, count = 4, log = true }
            axes.neurons = { from = 100, to = 400, count = 4 }
            "#,
        )
        .unwrap();
        let values: Vec<Vec<String>> = s.groups[0]
            .axes
            .iter()
            .map(|(_, v)| v.iter().map(|v| v.to_string()).collect())
            .collect();
        assert_eq!(values[0], ["0.1", "1.0", "10.0", "100.0"]);
        assert_eq!(values[1], ["100", "200", "300", "400"]);
        assert_eq!(s.points[0].id(), "lambda_sparse=0.1,neurons=100,seed=0");
    }

    #[test]
    fn mistakes_are_refused_naming_the_group_and_field() {
        let cases = [
            ("axes = { hidden = [[8]] }", "no `model`"),
            ("model = \"cnn\"", "model `cnn`: expected mlp, dnm, set, dreamcomp"),
            ("model = \"mlp\"\npreset = \"best\"", "the mlp has no presets"),
            ("model = \"mlp\"\naxes = { hidden = [] }", "axis `hidden` has no value"),
            (
                "model = \"mlp\"\nset = { epochs = 1 }\naxes = { epochs = [1, 2] }",
                "`epochs` is both an axis and a fixed field",
            ),
            ("model = \"mlp\"\nset = { seed = 1 }", "`seed` is set by the sweep's `seeds`"),
            ("model = \"mlp\"\nseeds = []", "no seed"),
            ("model = \"mlp\"\nseeds = [1, 1]", "a seed is listed twice"),
            ("model = \"mlp\"\nepochs = 3", "unknown field `epochs`"),
            (
                "[[group]]\nname = \"a\"\nmodel = \"mlp\"\n[[group]]\nname = \"a\"\nmodel = \"dnm\"",
                "two groups are named `a`",
            ),
            ("[[group]]\nname = \"a/b\"\nmodel = \"mlp\"", "a group's name is a folder name"),
            ("[[group]]\nname = \"logs\"\nmodel = \"mlp\"", "the sweep's own folder"),
            (
                "model = \"dnm\"\naxes.x = { from = 0, to = 1, count = 3, log = true }",
                "a log range needs `from` and `to` above 0",
            ),
            ("model = \"mlp\"\nconfig = \"nowhere.toml\"", "no such file"),
        ];
        for (text, expected) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("sweeps/t.toml: "), "{e}");
            assert!(e.contains(expected), "{text}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn slugs_keep_folder_names_plain() {
        assert_eq!(slug(&toml::Value::String("a b/c".into())), "a_b_c");
        assert_eq!(slug(&toml::Value::Float(1e-3)), "0.001");
        assert_eq!(slug(&toml::Value::Boolean(true)), "true");
    }
}
