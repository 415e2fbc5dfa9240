//! `manifold sweep` end to end: points run here N at a time, a killed point resumed, a
//! diverging point reported, bad files refused untouched, and the same sweep through a
//! real Slurm job array (submit, pre-empt one task, cancel another, resubmit, collect)
//! equal to a local run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cli::{fails_with, metrics_without_timing, snapshot, stderr, succeeds};

/// `sweep.csv` as maps from column to value, without its timing columns.
fn sweep_rows(dir: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join("sweep.csv")).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .zip(rec.unwrap().iter())
                .filter(|(h, _)| !h.contains("seconds") && !h.starts_with("ms"))
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect()
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const SMALL: &str = r#"
seeds = 2
[[group]]
name = "dense"
model = "mlp"
set = { epochs = 2, train_limit = 2000 }
axes = { hidden = [[8], [16]] }

[[group]]
name = "wild"
model = "mlp"
set = { epochs = 2, train_limit = 2000, learning_rate = 1e20 }
seeds = [0]
"#;

#[test]
fn a_sweep_runs_here_skips_what_finished_and_collects_mean_sd_and_best_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::write(t.join("small.toml"), SMALL).unwrap();
    let o = succeeds(&["sweep", "list", "small.toml"], t);
    let listed = out(&o);
    assert!(
        listed.contains("   0  new        dense/hidden=8,seed=0"),
        "{listed}"
    );
    assert!(listed.contains("   4  new        wild/seed=0"), "{listed}");

    let o = succeeds(&["sweep", "run", "small.toml", "--jobs", "2"], t);
    assert!(
        out(&o).contains("5 finished now, 0 before, 1 diverged"),
        "{}",
        out(&o)
    );
    let root = t.join("runs/sweeps/small");
    for p in ["dense/hidden=8,seed=0", "dense/hidden=16,seed=1"] {
        let s = summary(&root.join(p));
        assert_eq!(s["interrupted"], false);
        assert!(s["test_accuracy"].as_f64().unwrap() > 0.3, "{p}: {s}");
        assert_eq!(metrics_without_timing(&root.join(p)).len(), 3);
    }
    // The same seed is the same run, whichever process ran it.
    let direct = t.join("direct");
    succeeds(
        &[
            "train",
            "mlp",
            "--set",
            "hidden=[16]",
            "--set",
            "epochs=2",
            "--set",
            "train_limit=2000",
            "--seed",
            "1",
            "--out",
            direct.to_str().unwrap(),
        ],
        t,
    );
    assert_eq!(
        metrics_without_timing(&direct),
        metrics_without_timing(&root.join("dense/hidden=16,seed=1"))
    );

    // Again: nothing runs, nothing changes.
    let before = snapshot(&root);
    let o = succeeds(&["sweep", "run", "small.toml", "--jobs", "2"], t);
    assert!(out(&o).contains("0 finished now, 5 before"), "{}", out(&o));
    assert!(snapshot(&root) == before, "a finished sweep was changed");
    // The file edited: its points' folders now hold runs of other settings.
    std::fs::write(
        t.join("small.toml"),
        SMALL.replace("epochs = 2", "epochs = 3"),
    )
    .unwrap();
    let e = fails_with(&["sweep", "run", "small.toml"], t, "`epochs = 2`");
    assert!(
        e.contains("the sweep file now says `3`: give the sweep another `out`"),
        "{e}"
    );
    assert!(snapshot(&root) == before, "a refused sweep changed files");
    std::fs::write(t.join("small.toml"), SMALL).unwrap();

    let o = succeeds(
        &[
            "sweep",
            "collect",
            "runs/sweeps/small",
            "--best-of",
            "test_loss",
        ],
        t,
    );
    assert!(
        out(&o).contains("collected 5 of 5 points") && out(&o).contains("wild/seed=0: diverged: "),
        "{}",
        out(&o)
    );
    let rows = sweep_rows(&root);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4]["state"], "diverged");
    assert!(rows[4]["reason"].contains("NaN"), "{:?}", rows[4]);
    // summary.csv: mean and sample sd over the two seeds, by hand.
    let acc = |p: &str| summary(&root.join(p))["test_accuracy"].as_f64().unwrap();
    let (a, b) = (acc("dense/hidden=8,seed=0"), acc("dense/hidden=8,seed=1"));
    let mut r = csv::Reader::from_path(root.join("summary.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let first = r.records().next().unwrap().unwrap();
    let col = |name: &str| first[h.iter().position(|c| c == name).unwrap()].to_string();
    assert_eq!(col("setting"), "dense/hidden=8");
    assert_eq!(col("finished"), "2");
    let mean: f64 = col("test_accuracy").parse().unwrap();
    let sd: f64 = col("test_accuracy_sd").parse().unwrap();
    assert!((mean - (a + b) / 2.0).abs() < 1e-12);
    assert!((sd - (a - b).abs() / 2f64.sqrt()).abs() < 1e-12);
    // best.csv: the seed with the lower test loss.
    let loss = |p: &str| summary(&root.join(p))["test_loss"].as_f64().unwrap();
    let best = if loss("dense/hidden=16,seed=0") <= loss("dense/hidden=16,seed=1") {
        "0"
    } else {
        "1"
    };
    let text = std::fs::read_to_string(root.join("best.csv")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("dense/hidden=16,"))
        .unwrap();
    assert_eq!(line.split(',').nth(3), Some(best), "{text}");
    for f in [
        "compare.html",
        "compare.png",
        "plot-test_accuracy-vs-hidden.png",
    ] {
        assert!(root.join(f).is_file(), "{f} missing");
    }

    // A run deleted after it was collected: its row comes back from the earlier table.
    let summary_before = std::fs::read(root.join("summary.csv")).unwrap();
    std::fs::copy(root.join("sweep.csv"), t.join("earlier.csv")).unwrap();
    std::fs::remove_dir_all(root.join("dense/hidden=8,seed=1")).unwrap();
    let o = succeeds(
        &[
            "sweep",
            "collect",
            "runs/sweeps/small",
            "--rows-from",
            "earlier.csv",
        ],
        t,
    );
    assert!(
        out(&o).contains("collected 5 of 5 points of runs/sweeps/small (1 from earlier.csv)"),
        "{}",
        out(&o)
    );
    assert!(std::fs::read(root.join("summary.csv")).unwrap() == summary_before);
}

/// `manifold sweep list FILE | head -1`: the reader goes away after a line, and the
/// listing (more than a pipe holds) ends as other Unix tools end, killed by SIGPIPE,
/// without a panic on standard error.
#[test]
fn a_listing_whose_reader_goes_away_ends_quietly() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::write(t.join("many.toml"), "seeds = 5000\nmodel = \"mlp\"\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["sweep", "list", "many.toml"])
        .current_dir(t)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("seed=0"), "{first}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.signal(), Some(libc::SIGPIPE), "{:?}", o.status);
    assert_eq!(stderr(&o), "");
}

#[test]
fn bad_sweeps_are_refused_in_one_line_and_touch_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let write = |name: &str, text: &str| std::fs::write(t.join(name), text).unwrap();
    write("typo.toml", "model = \"mlp\"\nset = { epohcs = 2 }\n");
    let e = fails_with(&["sweep", "run", "typo.toml"], t, "epohcs");
    assert!(e.contains("typo.toml: point seed=0"), "{e}");
    write("bad.toml", "model = \"mlp\"\naxes = { hidden = [] }\n");
    fails_with(
        &["sweep", "run", "bad.toml"],
        t,
        "bad.toml: the sweep: axis `hidden` has no value",
    );
    write("dnm.toml", "model = \"dnm\"\npreset = \"nope\"\n");
    fails_with(&["sweep", "list", "dnm.toml"], t, "unknown preset `nope`");
    fails_with(
        &["sweep", "run", "missing.toml"],
        t,
        "missing.toml: cannot read",
    );
    assert!(!t.join("runs").exists(), "a refused sweep made a directory");
    // Someone's folder in the sweep's place, or in a point's place.
    std::fs::create_dir_all(t.join("mine")).unwrap();
    std::fs::write(t.join("mine/notes.txt"), "keep").unwrap();
    write(
        "ok.toml",
        "model = \"mlp\"\nset = { epochs = 1, train_limit = 500 }\n",
    );
    fails_with(
        &["sweep", "run", "ok.toml", "--out", "mine"],
        t,
        "mine: not a sweep directory (no sweep.toml) and not empty",
    );
    fails_with(
        &["sweep", "collect", "mine"],
        t,
        "mine: not a sweep directory",
    );
    std::fs::create_dir_all(t.join("s/seed=0")).unwrap();
    std::fs::write(t.join("s/sweep.toml"), "model = \"mlp\"\n").unwrap();
    std::fs::write(t.join("s/seed=0/notes.txt"), "keep").unwrap();
    fails_with(
        &["sweep", "run", "ok.toml", "--out", "s"],
        t,
        "not a run directory (no run.json): the point's place is taken",
    );
    assert_eq!(std::fs::read(t.join("mine/notes.txt")).unwrap(), b"keep");
    assert_eq!(
        std::fs::read(t.join("s/seed=0/notes.txt")).unwrap(),
        b"keep"
    );
    assert_eq!(
        std::fs::read(t.join("s/sweep.toml")).unwrap(),
        b"model = \"mlp\"\n"
    );
}

/// A point long enough to be stopped in the middle: 40 epochs of 3 000 images.
const LONG: &str = r#"
seeds = [0, 1]
model = "mlp"
set = { epochs = 40, train_limit = 3000, hidden = [8] }
"#;

/// Waits (at most two minutes) until `dir` has a checkpoint and a process holds it;
/// returns that process's PID.
fn holder_with_checkpoint(dir: &Path) -> u32 {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(120) {
        let pid = std::fs::read_to_string(dir.join("run.lock")).unwrap_or_default();
        if let (Ok(pid), true) = (pid.trim().parse(), dir.join("checkpoint").is_dir()) {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{}: no checkpoint held by a process", dir.display());
}

#[test]
fn a_killed_point_resumes_to_the_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::write(t.join("long.toml"), LONG).unwrap();
    let run = |out: &str| -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_manifold"))
            .args(["sweep", "run", "long.toml", "--threads", "1", "--out", out])
            .current_dir(t)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let killed = run("killed");
    let point = t.join("killed/seed=0");
    let pid = holder_with_checkpoint(&point);
    let sent = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = killed.wait_with_output().unwrap();
    assert!(!o.status.success(), "a sweep with a killed point must fail");
    assert!(
        stderr(&o).contains("1 of 2 points failed (seed=0: killed by a signal)")
            && stderr(&o).contains("run the same command again to retry"),
        "{}",
        stderr(&o)
    );
    assert!(!point.join("summary.json").exists());
    assert_eq!(summary(&t.join("killed/seed=1"))["interrupted"], false);
    // Again: the killed point resumes from its checkpoint; the finished one is skipped.
    let o = run("killed").wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out(&o).contains("1 finished now, 1 before"), "{}", out(&o));
    let log = std::fs::read_to_string(t.join("killed/logs/seed=0.log")).unwrap();
    assert!(
        log.contains("(resumable): manifold train mlp --resume"),
        "{log}"
    );
    // SIGTERM to the sweep itself: each running point saves a checkpoint and stops.
    let stopped = run("stopped");
    holder_with_checkpoint(&t.join("stopped/seed=0"));
    let sent = Command::new("kill")
        .args(["-TERM", &stopped.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = stopped.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert!(
        stderr(&o).ends_with("saved their checkpoints; continue with the same command"),
        "{}",
        stderr(&o)
    );
    assert_eq!(summary(&t.join("stopped/seed=0"))["interrupted"], true);
    let o = run("stopped").wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // Every row once, and the same numbers as a sweep nobody stopped.
    let o = run("whole").wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for p in ["seed=0", "seed=1"] {
        for sweep in ["killed", "stopped"] {
            let m = metrics_without_timing(&t.join(sweep).join(p));
            assert_eq!(m.len(), 41, "{sweep}/{p}: every epoch once");
            assert_eq!(
                m,
                metrics_without_timing(&t.join("whole").join(p)),
                "{sweep}/{p}"
            );
        }
    }
}

/// Waits (at most `secs`) until Slurm has no task of job `job`.
fn wait_for_job(job: &str, secs: u64) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        let o = Command::new("squeue")
            .args(["-h", "-r", "-j", job, "-o", "%i %T"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&o.stdout).trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("Slurm job {job} did not end within {secs} s");
}

/// The job id in `submit`'s line.
fn job_id(line: &str) -> String {
    let rest = line
        .split("Slurm job ")
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"));
    rest.split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_slurm_job_array_pre_empted_cancelled_and_resubmitted_equals_a_local_run() {
    if Command::new("sbatch").arg("--version").output().is_err() {
        panic!(
            "this test needs a Slurm cluster: bring up a one-node one with \
             `scripts/slurm-one-node.sh up` (Debian's slurm-wlm and munge; .ci/run does)"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let text = r#"
seeds = 2
model = "mlp"
set = { epochs = 40, train_limit = 3000 }
axes = { hidden = [[8], [12]] }
"#;
    std::fs::write(t.join("four.toml"), text).unwrap();
    let o = succeeds(
        &[
            "sweep",
            "submit",
            "four.toml",
            "--out",
            "slurm",
            "--time",
            "10",
        ],
        t,
    );
    let job = job_id(&out(&o));
    assert!(
        out(&o).starts_with("submitted 4 points as Slurm job"),
        "{}",
        out(&o)
    );
    // Pre-empt the task of point 0 once it has a checkpoint (SIGTERM, then Slurm
    // requeues it: it resumes by itself), and cancel the task of point 1 (it waits
    // for the next submit).
    let requeued = t.join("slurm/hidden=8,seed=0");
    holder_with_checkpoint(&requeued);
    let sent = Command::new("scontrol")
        .args(["requeue", &format!("{job}_0")])
        .status()
        .unwrap();
    assert!(sent.success());
    let point = t.join("slurm/hidden=8,seed=1");
    holder_with_checkpoint(&point);
    let cancelled = Command::new("scancel")
        .arg(format!("{job}_1"))
        .status()
        .unwrap();
    assert!(cancelled.success());
    wait_for_job(&job, 300);
    assert_eq!(
        summary(&requeued)["interrupted"],
        false,
        "the requeued task did not finish"
    );
    assert!(
        !point.join("summary.json").exists()
            || summary(&point)["interrupted"] == serde_json::Value::Bool(true),
        "the cancelled point finished anyway: make its run longer"
    );
    let o = succeeds(&["sweep", "collect", "slurm"], t);
    assert!(
        out(&o).contains("collected 3 of 4 points") && out(&o).contains("hidden=8,seed=1: "),
        "{}",
        out(&o)
    );
    // Resubmitted: only the cancelled point goes, and resumes.
    let o = succeeds(&["sweep", "submit", "four.toml", "--out", "slurm"], t);
    assert!(
        out(&o).starts_with("submitted 1 points as Slurm job"),
        "{}",
        out(&o)
    );
    wait_for_job(&job_id(&out(&o)), 300);
    let o = succeeds(&["sweep", "submit", "four.toml", "--out", "slurm"], t);
    assert!(
        out(&o).contains("nothing to submit (4 done)"),
        "{}",
        out(&o)
    );
    succeeds(&["sweep", "collect", "slurm"], t);

    // The same file run here, one thread per run as each Slurm task had.
    succeeds(
        &[
            "sweep",
            "run",
            "four.toml",
            "--out",
            "local",
            "--jobs",
            "2",
            "--threads",
            "1",
        ],
        t,
    );
    succeeds(&["sweep", "collect", "local"], t);
    assert_eq!(sweep_rows(&t.join("slurm")), sweep_rows(&t.join("local")));
    for p in [
        "hidden=8,seed=0",
        "hidden=8,seed=1",
        "hidden=12,seed=0",
        "hidden=12,seed=1",
    ] {
        let m = metrics_without_timing(&t.join("slurm").join(p));
        assert_eq!(m.len(), 41, "{p}: every epoch once");
        assert_eq!(m, metrics_without_timing(&t.join("local").join(p)), "{p}");
    }
    for p in ["hidden=8,seed=0", "hidden=8,seed=1"] {
        let log = std::fs::read_to_string(t.join("slurm/logs").join(format!("{p}.log"))).unwrap();
        assert!(
            log.contains("(resumable): manifold train mlp --resume"),
            "{p}: {log}"
        );
    }
}

#[test]
fn every_shipped_sweep_file_builds_a_valid_config_for_each_point() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps");
    let mut files = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            let o = succeeds(&["sweep", "list", path.to_str().unwrap()], tmp.path());
            assert!(
                stderr(&o).contains(" points in runs/sweeps/"),
                "{}",
                stderr(&o)
            );
            assert!(
                out(&o).lines().all(|l| l.contains("  new  ")),
                "{}",
                out(&o)
            );
            files += 1;
        }
    }
    assert!(files >= 6, "{files} sweep files in {}", dir.display());
    assert!(!tmp.path().join("runs").exists(), "`list` made a directory");
}
