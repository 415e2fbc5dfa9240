//! Several runs on one page: accuracy against kept connections and against wall time,
//! and the fields in which their configs differ.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::page::{page, Script};
use crate::run_files::RunFiles;
use crate::ReportError;

fn int(config: &toml::Table, key: &str, default: u64) -> u64 {
    config
        .get(key)
        .and_then(toml::Value::as_integer)
        .map_or(default, |v| v.max(0) as u64)
}

/// The connections (weights between neurons, biases not counted) a finished run keeps:
/// `connections` from `summary.json` when the model records it (SET); for the MLP the
/// dense layer sizes from the config; for DreamComp `neurons × (784 + 10)` synapses; for
/// the DNM its final density × the allowed cells `(N² − n_in² − n_out² − n_comp)/2`.
/// `None` when the files do not tell.
pub fn connections(files: &RunFiles) -> Option<u64> {
    if let Some(n) = files.summary_number("connections") {
        return Some(n.round() as u64);
    }
    let c = &files.config;
    match files.model.as_str() {
        "mlp" => {
            let hidden: Vec<u64> = c
                .get("hidden")?
                .as_array()?
                .iter()
                .map(|v| v.as_integer().map(|v| v.max(0) as u64))
                .collect::<Option<_>>()?;
            let mut sizes = vec![int(c, "inputs", 784)];
            sizes.extend(hidden);
            sizes.push(int(c, "classes", 10));
            Some(sizes.windows(2).map(|w| w[0] * w[1]).sum())
        }
        "dreamcomp" => Some(int(c, "neurons", 0) * (784 + 10)),
        "dnm" => {
            let density = files.summary_number("density")?;
            let (n, n_in, n_out) = (
                int(c, "neurons", 0),
                int(c, "inputs", 0),
                int(c, "outputs", 0),
            );
            let comps = n.checked_sub(n_in + n_out)?;
            let cells = (n * n - n_in * n_in - n_out * n_out - comps) / 2;
            Some((density * cells as f64).round() as u64)
        }
        _ => None,
    }
}

/// One run's point on the comparison page.
fn point(files: &RunFiles) -> Value {
    let num = |k: &str| files.summary_number(k);
    json!({
        "name": files.name(),
        "dir": files.dir.display().to_string(),
        "model": files.model,
        "finished": files.summary.is_some(),
        "test_accuracy": num("test_accuracy"),
        "test_mse": num("test_mse"),
        "wall_seconds": num("wall_seconds"),
        "density": num("density"),
        "connections": connections(files),
        "command": files.summary.as_ref().and_then(|s| s.get("command")).cloned(),
    })
}

/// A config value as TOML text; a float that is exactly an f32 (an f32 field written
/// out as f64, 0.8999999761581421) is written as that f32 (0.9).
fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(f) if (*f as f32) as f64 == *f => format!("{}", *f as f32),
        other => other.to_string(),
    }
}

/// The config fields that at least two runs have and whose values are not the same in
/// every run (a run without the field counts as different), with each run's value as
/// TOML text (`null` where absent). A field only one run has (another system's own
/// setting) is left out.
fn differences(runs: &[RunFiles]) -> Vec<Value> {
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.config.keys()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let values: Vec<Option<String>> = runs
                .iter()
                .map(|r| r.config.get(key).map(toml_text))
                .collect();
            let shared = values.iter().filter(|v| v.is_some()).count() >= 2;
            let differ = values.iter().any(|v| v != &values[0]);
            (shared && differ).then(|| json!({"field": key, "values": values}))
        })
        .collect()
}

/// The files a comparison written to `out` makes: the page `out`, and beside it the same
/// name with `.csv` (one row per run) and `.png` (test accuracy against kept
/// connections).
pub fn comparison_files(out: &Path) -> [PathBuf; 3] {
    [
        out.to_path_buf(),
        out.with_extension("csv"),
        out.with_extension("png"),
    ]
}

/// Computing neurons of a DNM run (`neurons − inputs − outputs`), else `None`.
fn comps(files: &RunFiles) -> Option<u64> {
    let c = &files.config;
    (files.model == "dnm")
        .then(|| int(c, "neurons", 0).checked_sub(int(c, "inputs", 0) + int(c, "outputs", 0)))
        .flatten()
}

/// One row per run: name, system, DNM comps, kept connections, density, test accuracy,
/// training wall time, directory.
fn table(runs: &[RunFiles], out: &Path) -> Result<Vec<u8>, ReportError> {
    let bad = |e: csv::Error| ReportError::new(out, e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "run",
        "system",
        "comps",
        "connections",
        "density",
        "test_accuracy",
        "wall_seconds",
        "dir",
    ])
    .map_err(bad)?;
    let text = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in runs {
        w.write_record([
            r.name(),
            r.model.clone(),
            comps(r).map_or(String::new(), |c| c.to_string()),
            connections(r).map_or(String::new(), |c| c.to_string()),
            text(r.summary_number("density")),
            text(r.summary_number("test_accuracy")),
            text(r.summary_number("wall_seconds")),
            r.dir.display().to_string(),
        ])
        .map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| ReportError::new(out, e.to_string()))
}

/// A run's series on the chart: its system, and for a DNM whose `placement` is not the
/// original also the placement (`dnm (layered)`), since the placements train different
/// kinds of network.
fn series_name(files: &RunFiles) -> String {
    let placement = files.config.get("placement").and_then(toml::Value::as_str);
    match (files.model.as_str(), placement) {
        ("dnm", Some(p)) if p != "original" => format!("dnm ({p})"),
        (model, _) => model.to_string(),
    }
}

/// Test accuracy (%) against log₁₀ of the kept connections, one series per system (per
/// placement for the DNM, [`series_name`]).
fn accuracy_chart(runs: &[RunFiles], png: &Path) -> Result<(), ReportError> {
    let names: Vec<String> = runs.iter().map(series_name).collect();
    let series: Vec<manifold_viz::Series> = names
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|name| {
            let points = runs
                .iter()
                .zip(&names)
                .filter(|(_, n)| *n == name)
                .filter_map(|(r, _)| {
                    let acc = r.summary_number("test_accuracy")?;
                    let n = connections(r)?;
                    (n > 0).then_some((n as f64, 100.0 * acc))
                })
                .collect();
            manifold_viz::Series::new(name, points)
        })
        .collect();
    let style = manifold_viz::ChartStyle {
        log_x: true,
        ..Default::default()
    };
    manifold_viz::chart(
        png,
        "Test accuracy against kept connections",
        "kept connections",
        "test accuracy (%)",
        &series,
        style,
    )?;
    Ok(())
}

/// Writes one page comparing the runs in `dirs` to `out`, and beside it the table
/// (`.csv`) and the accuracy-against-connections chart (`.png`) of
/// [`comparison_files`]; returns `out`.
pub fn write_comparison(dirs: &[PathBuf], out: &Path) -> Result<PathBuf, ReportError> {
    if dirs.is_empty() {
        return Err(ReportError::new(out, "no run directories to compare"));
    }
    if comparison_files(out)[1..].iter().any(|f| f == out) {
        return Err(ReportError::new(
            out,
            "the page cannot end in .csv or .png: its table and chart take those names",
        ));
    }
    let runs = dirs
        .iter()
        .map(|d| RunFiles::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let data = json!({
        "kind": "compare",
        "runs": runs.iter().map(point).collect::<Vec<_>>(),
        "differences": differences(&runs),
    });
    let title = format!("manifold · {} runs compared", runs.len());
    let html = page(&title, &data, &[Script::Compare]);
    let [_, csv_path, png_path] = comparison_files(out);
    manifold_io::write_atomic(&csv_path, &table(&runs, &csv_path)?)?;
    accuracy_chart(&runs, &png_path)?;
    manifold_io::write_atomic(out, html.as_bytes())?;
    Ok(out.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, model: &str, config: &str, summary: Value) -> RunFiles {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.toml"), config).unwrap();
        let mut s = summary;
        s["model"] = json!(model);
        std::fs::write(dir.join("summary.json"), s.to_string()).unwrap();
        RunFiles::read(dir).unwrap()
    }

    #[test]
    fn chart_series_split_the_dnm_by_placement_only() {
        let t = tempfile::tempdir().unwrap();
        let name = |dir: &str, model: &str, config: &str| {
            series_name(&run(&t.path().join(dir), model, config, json!({})))
        };
        assert_eq!(
            name("a", "dnm", "placement = \"layered\"\n"),
            "dnm (layered)"
        );
        assert_eq!(name("b", "dnm", "placement = \"spread\"\n"), "dnm (spread)");
        assert_eq!(name("c", "dnm", "placement = \"original\"\n"), "dnm");
        assert_eq!(name("d", "dnm", "neurons = 1000\n"), "dnm");
        assert_eq!(name("e", "set", "placement = \"layered\"\n"), "set");
    }

    #[test]
    fn connections_follow_each_models_structure() {
        let t = tempfile::tempdir().unwrap();
        let mlp = run(
            &t.path().join("a"),
            "mlp",
            "inputs = 784\nhidden = [16, 16]\nclasses = 10\n",
            json!({}),
        );
        assert_eq!(connections(&mlp), Some(784 * 16 + 16 * 16 + 16 * 10));
        let set = run(
            &t.path().join("b"),
            "set",
            "",
            json!({"connections": 125680}),
        );
        assert_eq!(connections(&set), Some(125_680));
        let dc = run(
            &t.path().join("c"),
            "dreamcomp",
            "neurons = 100\n",
            json!({}),
        );
        assert_eq!(connections(&dc), Some(100 * 794));
        // N = 25, 5 inputs, 4 outputs, 16 comps: (625 − 25 − 16 − 16)/2 = 284 cells;
        // counted by hand: comps read 5..=20 senders (200), outputs read 21 each (84).
        let dnm = run(
            &t.path().join("d"),
            "dnm",
            "neurons = 25\ninputs = 5\noutputs = 4\n",
            json!({"density": 0.25}),
        );
        assert_eq!(connections(&dnm), Some(71));
        let unknown = run(&t.path().join("e"), "dnm", "neurons = 25\n", json!({}));
        assert_eq!(connections(&unknown), None, "no density recorded");
    }

    #[test]
    fn differences_list_only_shared_fields_that_differ() {
        let t = tempfile::tempdir().unwrap();
        let a = run(
            &t.path().join("a"),
            "mlp",
            "epochs = 2\nseed = 0\n",
            json!({}),
        );
        let b = run(
            &t.path().join("b"),
            "mlp",
            "epochs = 2\nseed = 1\nlr = 0.1\n",
            json!({}),
        );
        let c = run(
            &t.path().join("c"),
            "set",
            "epochs = 3\nlr = 0.2\nzeta = 0.3\n",
            json!({}),
        );
        let d = differences(&[a, b, c]);
        assert_eq!(
            d,
            vec![
                json!({"field": "epochs", "values": ["2", "2", "3"]}),
                json!({"field": "lr", "values": [null, "0.1", "0.2"]}),
                json!({"field": "seed", "values": ["0", "1", null]}),
            ],
            "zeta is only the third run's"
        );
    }

    #[test]
    fn f32_fields_read_as_written() {
        assert_eq!(toml_text(&toml::Value::Float(0.9f32 as f64)), "0.9");
        assert_eq!(toml_text(&toml::Value::Float(0.1)), "0.1");
        assert_eq!(toml_text(&toml::Value::Float(0.123456789)), "0.123456789");
        assert_eq!(toml_text(&toml::Value::Integer(3)), "3");
    }

    #[test]
    fn a_comparison_writes_its_table_and_chart_beside_the_page() {
        let t = tempfile::tempdir().unwrap();
        run(
            &t.path().join("mlp"),
            "mlp",
            "hidden = [16, 16]\n",
            json!({"test_accuracy": 0.95, "wall_seconds": 12.0}),
        );
        run(
            &t.path().join("dnm"),
            "dnm",
            "neurons = 25\ninputs = 5\noutputs = 4\n",
            json!({"test_accuracy": 0.9, "density": 0.25}),
        );
        let out = t.path().join("size.html");
        let dirs = [t.path().join("mlp"), t.path().join("dnm")];
        write_comparison(&dirs, &out).unwrap();
        let [page, table, chart] = comparison_files(&out);
        assert!(page.exists() && chart.exists());
        let text = std::fs::read_to_string(table).unwrap();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert_eq!(
            rows[0][..6],
            [
                "run",
                "system",
                "comps",
                "connections",
                "density",
                "test_accuracy"
            ]
        );
        // MLP: 784·16 + 16·16 + 16·10 = 12 960; the DNM: 16 comps, 71 of 284 cells.
        assert_eq!(rows[1][1..4], ["mlp", "", "12960"]);
        assert_eq!(rows[2][1..6], ["dnm", "16", "71", "0.25", "0.9"]);
    }

    #[test]
    fn a_comparison_refuses_a_non_run_and_writes_nothing() {
        let t = tempfile::tempdir().unwrap();
        run(&t.path().join("a"), "mlp", "hidden = [4]\n", json!({}));
        std::fs::create_dir_all(t.path().join("b")).unwrap();
        let out = t.path().join("compare.html");
        let err = write_comparison(&[t.path().join("a"), t.path().join("b")], &out)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("not a run directory"), "{err}");
        assert!(!out.exists());
        let table = t.path().join("compare.csv");
        let err = write_comparison(&[t.path().join("a")], &table)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("cannot end in .csv"), "{err}");
        assert!(!table.exists());
    }
}
