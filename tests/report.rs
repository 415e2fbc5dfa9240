//! Reports in a real browser: short real runs write `report.html`, headless Chromium
//! opens it from disk, and a probe injected into a copy of the page reads back what
//! was drawn. Chromium is required (`apt-get install chromium`; `.ci/run` installs it);
//! `MANIFOLD_CHROMIUM` names another binary.

#[path = "common/cli.rs"]
mod cli;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli::{fails_with, succeeds};
use manifold::train::median;
use serde_json::Value;

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("MANIFOLD_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the report tests need headless Chromium: install it (Debian: apt-get install chromium) \
         or name it with MANIFOLD_CHROMIUM"
    );
}

/// Collects errors from the first line of the page on: console.error, uncaught
/// exceptions and failed resource loads.
const PROBE_HEAD: &str = r#"<script>
window.__probeErrors = [];
const __err = console.error.bind(console);
console.error = (...a) => { window.__probeErrors.push("console.error: " + a.join(" ")); __err(...a); };
window.addEventListener("error", e => window.__probeErrors.push("error: " + (e.message || (e.target && e.target.src) || e.type)), true);
window.addEventListener("unhandledrejection", e => window.__probeErrors.push("rejection: " + e.reason));
</script>"#;

/// Runs after the page's own scripts: what was drawn, and the explorer's slider moved
/// to its first snapshot.
const PROBE_TAIL: &str = r#"<script>
(() => {
  const out = { errors: window.__probeErrors, drawn: !!(window.manifoldReport && window.manifoldReport.drawn),
                firstDrawMs: window.manifoldReport && window.manifoldReport.firstDrawMs, canvases: [] };
  for (const c of document.querySelectorAll("canvas")) {
    if (!c.width || !c.height) continue;
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0 && !(px[i - 3] === 255 && px[i - 2] === 255 && px[i - 1] === 255)) inked++;
    out.canvases.push({ cls: c.className, width: c.width, height: c.height, inked });
  }
  out.charts = document.querySelectorAll(".uplot").length;
  out.images = Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length;
  out.tableRows = document.querySelectorAll("table.runs tr").length;
  const slider = document.getElementById("explorer-step");
  const shown = document.getElementById("explorer-shown-step");
  if (slider && shown) {
    out.stepBefore = Number(shown.getAttribute("data-step"));
    out.textBefore = shown.textContent;
    slider.value = "0";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    out.stepAfter = Number(shown.getAttribute("data-step"));
    out.textAfter = shown.textContent;
    out.snapshots = Number(slider.max) + 1;
  }
  out.errors = window.__probeErrors;
  const pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
</script>"#;

/// Times the explorer: every snapshot shown once through the slider, in order.
const BENCH_TAIL: &str = r#"<script>
(() => {
  const slider = document.getElementById("explorer-step");
  const times = [];
  for (let k = 0; k <= Number(slider.max); k++) {
    const t0 = performance.now();
    slider.value = String(k);
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    times.push(performance.now() - t0);
  }
  const pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify({ errors: window.__probeErrors, drawn: !!(window.manifoldReport && window.manifoldReport.drawn),
                                     firstDrawMs: window.manifoldReport.firstDrawMs, stepMs: times });
  document.body.append(pre);
})();
</script>"#;

/// Opens a copy of `page` with the probe in headless Chromium and returns what the
/// probe read, after checking that Chromium logged no uncaught exception.
fn probe(page: &Path, work: &Path) -> Value {
    probe_with(page, work, PROBE_TAIL, &["--virtual-time-budget=5000"])
}

fn probe_with(page: &Path, work: &Path, tail: &str, flags: &[&str]) -> Value {
    let html = std::fs::read_to_string(page).unwrap();
    let probed = html
        .replacen("<head>", &format!("<head>\n{PROBE_HEAD}"), 1)
        .replacen("</body>", &format!("{tail}\n</body>"), 1);
    let copy = work.join("probed.html");
    std::fs::write(&copy, probed).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2000",
            "--dump-dom",
        ])
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", copy.canonicalize().unwrap().display()))
        .output()
        .expect("chromium starts");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    let uncaught: Vec<&str> = log.lines().filter(|l| l.contains("Uncaught")).collect();
    assert!(uncaught.is_empty(), "{}: {uncaught:?}", page.display());
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"probe-result\">").unwrap_or_else(|| {
        panic!(
            "{}: the probe did not run; DOM: {dom:.2000}",
            page.display()
        )
    });
    let body = &dom[start + "<pre id=\"probe-result\">".len()..];
    let json = body[..body.find("</pre>").unwrap()]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let result: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        result["errors"],
        serde_json::json!([]),
        "{}",
        page.display()
    );
    assert_eq!(result["drawn"], true, "{}", page.display());
    result
}

/// The canvas of class `cls`: its size, and at least `min_inked` pixels drawn.
fn assert_canvas(result: &Value, cls: &str, size: (u64, u64), min_inked: u64) {
    let c = result["canvases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cls"] == cls)
        .unwrap_or_else(|| panic!("no canvas `{cls}`: {result}"));
    assert_eq!(
        (c["width"].as_u64().unwrap(), c["height"].as_u64().unwrap()),
        size,
        "{cls}"
    );
    assert!(
        c["inked"].as_u64().unwrap() >= min_inked,
        "{cls} is (almost) blank: {c}"
    );
}

#[test]
fn reports_draw_in_chromium_and_the_explorer_slider_moves() {
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    // A short DNM run on 2 000 images: 13 snapshots (steps 1, 20, 40, …, 220, and the
    // evaluation at 110).
    succeeds(
        &[
            "train",
            "dnm",
            "--preset",
            "seed-mnist",
            "--steps",
            "220",
            "--eval-every",
            "110",
            "--set",
            "train_limit=2000",
            "--set",
            "record_every=20",
            "--out",
            "dnm",
        ],
        w,
    );
    succeeds(
        &[
            "train",
            "mlp",
            "--epochs",
            "2",
            "--train-limit",
            "2000",
            "--out",
            "mlp",
        ],
        w,
    );

    let dnm = probe(&w.join("dnm/report.html"), w);
    assert_eq!(dnm["snapshots"], 13, "{dnm}");
    assert_eq!(
        dnm["stepBefore"], 220,
        "the last snapshot is shown first: {dnm}"
    );
    assert_eq!(
        dnm["stepAfter"], 1,
        "the slider moved to the first snapshot: {dnm}"
    );
    assert!(
        dnm["textAfter"].as_str().unwrap().starts_with("step 1 "),
        "{dnm}"
    );
    // The explorer's canvases (sizes from explorer.js), each with ink on it: the
    // heatmap has its allowed region and colour bar, the DAG 1 000 neurons, the neuron
    // panel its curve.
    assert_canvas(&dnm, "heatmap", (880, 300), 10_000);
    assert_canvas(&dnm, "dag", (880, 460), 5_000);
    assert_canvas(&dnm, "neuron-plot", (560, 220), 500);
    // Curves: loss, accuracy, flow, density, depth, step ms, lr, and the explorer's 4
    // (objective, flow, density, test accuracy).
    assert!(dnm["charts"].as_u64().unwrap() >= 10, "{dnm}");
    assert!(
        dnm["images"].as_u64().unwrap() >= 5,
        "the run's PNGs load: {dnm}"
    );

    // A sequence task with 2 carry neurons and LSTM comps: the explorer draws them and
    // their recurrent edges without an error, and the report shows the state over time.
    succeeds(
        &[
            "train",
            "dnm",
            "--preset",
            "adding-t100",
            "--steps",
            "20",
            "--eval-every",
            "20",
            "--record-every",
            "5",
            "--set",
            "adding_length=6",
            "--set",
            "carry=2",
            "--set",
            "inputs=4",
            "--set",
            "outputs=3",
            "--set",
            "neurons=17",
            "--out",
            "adding",
        ],
        w,
    );
    let adding = probe(&w.join("adding/report.html"), w);
    assert_eq!(adding["snapshots"], 5, "{adding}");
    assert_canvas(&adding, "dag", (880, 460), 500);
    let html = std::fs::read_to_string(w.join("adding/report.html")).unwrap();
    let data = manifold::report::embedded_data(&html).unwrap();
    assert_eq!(data["explorer"]["carry"], 2);
    let pictures: Vec<&str> = data["pictures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(pictures.contains(&"state-over-time.png"), "{pictures:?}");
    // Redrawn for another test sequence on demand; a sequence that does not exist is
    // named, and the picture stays as it was.
    let before = std::fs::read(w.join("adding/state-over-time.png")).unwrap();
    fails_with(
        &["report", "adding", "--sequence", "10000"],
        w,
        "test sequence 10000 does not exist: the test set has 10000 (0 … 9999)",
    );
    assert_eq!(
        std::fs::read(w.join("adding/state-over-time.png")).unwrap(),
        before
    );
    succeeds(&["report", "adding", "--sequence", "7"], w);
    assert_ne!(
        std::fs::read(w.join("adding/state-over-time.png")).unwrap(),
        before
    );

    let mlp = probe(&w.join("mlp/report.html"), w);
    assert!(mlp.get("snapshots").is_none(), "no explorer for the MLP");
    assert_eq!(mlp["charts"], 2, "loss and accuracy: {mlp}");
    assert!(
        mlp["images"].as_u64().unwrap() >= 3,
        "curves and first-layer weights: {mlp}"
    );

    succeeds(
        &["report", "--compare", "dnm", "mlp", "--out", "both.html"],
        w,
    );
    let both = probe(&w.join("both.html"), w);
    assert_eq!(
        both["charts"], 2,
        "accuracy against connections and against time"
    );
    assert_eq!(both["tableRows"], 3, "a header and one row per run: {both}");
    let plotted = both["canvases"].as_array().unwrap();
    assert!(
        plotted.iter().all(|c| c["inked"].as_u64().unwrap() > 100),
        "{both}"
    );
}

#[test]
fn report_commands_refuse_bad_input_and_touch_nothing() {
    let t = tempfile::tempdir().unwrap();
    let w = t.path();
    std::fs::create_dir(w.join("empty")).unwrap();
    fails_with(
        &["report", "empty"],
        w,
        "not a run directory (no config.toml)",
    );
    assert!(!w.join("empty/report.html").exists());
    fails_with(&["report", "missing"], w, "missing: no such directory");
    std::fs::write(w.join("taken.html"), "mine").unwrap();
    succeeds(
        &[
            "train",
            "mlp",
            "--epochs",
            "1",
            "--train-limit",
            "500",
            "--out",
            "run",
        ],
        w,
    );
    fails_with(
        &["report", "--compare", "run", "--out", "taken.html"],
        w,
        "taken.html: exists; choose another --out, or replace it with --force",
    );
    assert_eq!(
        std::fs::read_to_string(w.join("taken.html")).unwrap(),
        "mine"
    );
    // The state over time needs a DNM run on a sequence task.
    let report = std::fs::read(w.join("run/report.html")).unwrap();
    fails_with(
        &["report", "run", "--sequence", "0"],
        w,
        "--sequence needs a DNM run (this is a mlp run)",
    );
    assert_eq!(std::fs::read(w.join("run/report.html")).unwrap(), report);
    // A run from before reports: the report is made on demand from its files.
    std::fs::remove_file(w.join("run/report.html")).unwrap();
    succeeds(&["report", "run"], w);
    let html = std::fs::read_to_string(w.join("run/report.html")).unwrap();
    let data = manifold::report::embedded_data(&html).unwrap();
    assert_eq!(data["model"], "mlp");
    assert_eq!(data["metrics"]["rows"].as_array().unwrap().len(), 1);
    // A damaged metrics file is named, and the old report stays.
    std::fs::write(w.join("run/metrics.csv"), "epoch,test_accuracy\n1,x\n").unwrap();
    fails_with(
        &["report", "run"],
        w,
        "metrics.csv: row 2: `x` is not a number",
    );
    assert_eq!(
        std::fs::read_to_string(w.join("run/report.html")).unwrap(),
        html
    );
}

/// The numbers of a JSON array.
fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A benchmark, not a check: the size of a DNM run's report, its time to first draw in
/// headless Chromium (median of 5 loads) and the explorer's time per slider step
/// (median and largest over every snapshot of the median load), as JSON in
/// `bench/report.json`. `MANIFOLD_REPORT_RUN` names the run directory.
#[test]
#[ignore = "a benchmark: needs MANIFOLD_REPORT_RUN=<a DNM run directory>"]
fn report_timings() {
    let run = PathBuf::from(std::env::var("MANIFOLD_REPORT_RUN").expect("MANIFOLD_REPORT_RUN"));
    let page = run.join("report.html");
    let t = tempfile::tempdir().unwrap();
    let loads: Vec<Value> = (0..5)
        .map(|_| probe_with(&page, t.path(), BENCH_TAIL, &[]))
        .collect();
    let first: Vec<f64> = loads
        .iter()
        .map(|l| l["firstDrawMs"].as_f64().unwrap())
        .collect();
    // The load whose median slider step is the median of the five.
    let mut by_step: Vec<(f64, Vec<f64>)> = loads
        .iter()
        .map(|l| numbers(&l["stepMs"]))
        .map(|steps| (median(&steps), steps))
        .collect();
    by_step.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mid_median, mid_steps) = by_step.swap_remove(by_step.len() / 2);
    let json = serde_json::json!({
        "run": run.display().to_string(),
        "report_bytes": std::fs::metadata(&page).unwrap().len(),
        "snapshots": mid_steps.len(),
        "first_draw_ms_median": median(&first),
        "first_draw_ms": first,
        "slider_step_ms_median": mid_median,
        "slider_step_ms_max": mid_steps.iter().copied().fold(0.0, f64::max),
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/report.json");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    println!("{json}");
}
