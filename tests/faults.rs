//! Fault injection: every way a user (or a crash) can hurt a run, each checked for its
//! message and for leaving every earlier file as it was; and randomized corruption of
//! the IDX and checkpoint readers (no panic, no allocation far beyond the file's size).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};

/// The largest single allocation asked for while [`LARGEST`] is being watched.
struct Watched;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Watched {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watched = Watched;

#[path = "common/cli.rs"]
mod cli;
use cli::{fails_with, manifold, metrics_without_timing, snapshot, stderr};

/// Runs `args`, expects failure with one line starting `error: ` and containing
/// `expected`, and every file of `dir` unchanged.
fn refused_untouched(args: &[&str], cwd: &Path, dir: &Path, expected: &str) {
    let before = snapshot(dir);
    fails_with(args, cwd, expected);
    assert!(
        snapshot(dir) == before,
        "{args:?} changed a file in {}",
        dir.display()
    );
}

/// A short MLP run in `cwd/name` (two epochs on 3 000 images).
fn short_mlp(cwd: &Path, name: &str) -> PathBuf {
    let o = manifold(
        &[
            "train",
            "mlp",
            "--epochs",
            "2",
            "--train-limit",
            "3000",
            "--out",
            name,
        ],
        cwd,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    cwd.join(name)
}

#[test]
fn resume_refuses_every_change_that_contradicts_the_checkpoint_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run = short_mlp(tmp.path(), "run");
    let r = run.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--set", "hidden=[32]"],
            "config field `hidden`: cannot change on --resume",
        ),
        (&["--set", "hidden=[16,32]"], "config field `hidden`"),
        (&["--batch", "2000"], "config field `batch_size`"),
        (&["--seed", "5"], "config field `seed`"),
        (&["--train-limit", "100"], "config field `train_limit`"),
        (&["--set", "inputs=100"], "config field `inputs`"),
        (&["--set", "beta1=0.5"], "config field `beta1`"),
    ];
    for (extra, expected) in cases {
        let mut args = vec!["train", "mlp", "--resume", r];
        args.extend_from_slice(extra);
        refused_untouched(&args, tmp.path(), &run, expected);
    }
    // Another model's command on this directory, and a directory that is no run.
    refused_untouched(
        &["train", "set", "--resume", r],
        tmp.path(),
        &run,
        "a mlp run, not a set run",
    );
    refused_untouched(
        &["train", "dnm", "--resume", r],
        tmp.path(),
        &run,
        "a mlp run, not a dnm run",
    );
    // --out on an existing run.
    refused_untouched(
        &["train", "mlp", "--out", r, "--epochs", "1"],
        tmp.path(),
        &run,
        "holds a run: continue it with --resume, or replace it with --force",
    );

    // Allowed changes are applied and recorded.
    let o = manifold(
        &[
            "train", "mlp", "--resume", r, "--epochs", "3", "--lr", "5e-4",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("resume: learning_rate 0.001 → 0.0005"),
        "{}",
        stderr(&o)
    );
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    let changes = &info["resumes"][0]["changes"];
    assert_eq!(changes[0]["field"], "epochs");
    assert_eq!(changes[1]["field"], "learning_rate");
    assert_eq!(info["resumes"][0]["epoch"], 2);
}

#[test]
fn a_damaged_checkpoint_is_refused_by_name_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = short_mlp(tmp.path(), "good");
    for (file, expected) in [
        (
            "checkpoint/model.mpk",
            "checkpoint/model.mpk: truncated or damaged",
        ),
        (
            "checkpoint/optim.mpk",
            "checkpoint/optim.mpk: truncated or damaged",
        ),
        ("checkpoint/progress.json", "checkpoint/progress.json"),
        ("checkpoint/config.toml", "checkpoint/config.toml"),
        ("config.toml", "config.toml"),
        ("run.json", "run.json"),
    ] {
        let case = tmp.path().join(file.replace('/', "-"));
        let copy = Command::new("cp")
            .args(["-r", good.to_str().unwrap(), case.to_str().unwrap()])
            .status();
        assert!(copy.unwrap().success());
        let damaged = case.join(file);
        let bytes = std::fs::read(&damaged).unwrap();
        std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
        let args = [
            "train",
            "mlp",
            "--resume",
            case.to_str().unwrap(),
            "--epochs",
            "3",
        ];
        if file == "config.toml" {
            // The checkpoint's own config is read first: damage only the run's copy and
            // the resume still works from the checkpoint's.
            let o = manifold(&args, tmp.path());
            assert!(o.status.success(), "{}", stderr(&o));
            continue;
        }
        refused_untouched(&args, tmp.path(), &case, expected);
    }
}

#[test]
fn divergence_stops_the_run_and_keeps_the_last_healthy_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let diverging = |lr: &str, out: &str| {
        let args = ["train", "mlp", "--epochs", "2", "--train-limit", "3000"];
        let args = [&args[..], &["--lr", lr, "--out", out]].concat();
        fails_with(&args, tmp.path(), "diverged")
    };
    // NaN from the first epoch: no checkpoint at all, summary.json says why.
    let e = diverging("1e20", "nan");
    assert!(
        e.contains("diverged at epoch 1") && e.contains("no healthy checkpoint"),
        "{e}"
    );
    assert!(!tmp.path().join("nan/checkpoint").exists());
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("nan/summary.json")).unwrap(),
    )
    .unwrap();
    assert!(s["diverged"].as_str().unwrap().contains("NaN"), "{s}");
    assert!(s["healthy_checkpoint"].is_null());
    // The report is written for a diverged run too, and carries the reason.
    let html = std::fs::read_to_string(tmp.path().join("nan/report.html")).unwrap();
    let data = manifold::report::embedded_data(&html).unwrap();
    assert_eq!(data["summary"]["diverged"], s["diverged"]);

    // Finite but exploding (lr 1e6): caught by the growth test.
    let e = diverging("1e6", "big");
    assert!(e.contains("more than 100× its best"), "{}", e);

    // A good run resumed with a diverging rate: its checkpoint and config stay healthy,
    // and a plain resume then finishes.
    let good = short_mlp(tmp.path(), "good");
    let g = good.to_str().unwrap();
    let checkpoint = snapshot(&good.join("checkpoint"));
    let config = std::fs::read(good.join("config.toml")).unwrap();
    let e = fails_with(
        &[
            "train", "mlp", "--resume", g, "--epochs", "4", "--lr", "1e20",
        ],
        tmp.path(),
        "diverged",
    );
    assert!(
        e.contains("the last healthy checkpoint (epoch 2, step 188) is kept"),
        "{}",
        e
    );
    assert!(
        snapshot(&good.join("checkpoint")) == checkpoint,
        "the checkpoint changed"
    );
    assert_eq!(std::fs::read(good.join("config.toml")).unwrap(), config);
    let o = manifold(
        &["train", "mlp", "--resume", g, "--epochs", "3"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // The DNM: NaN at step 1 never reaches a checkpoint.
    let e = fails_with(
        &[
            "train",
            "dnm",
            "--preset",
            "seed-toy",
            "--lr",
            "1e6",
            "--eval-every",
            "1",
            "--out",
            "dnm",
        ],
        tmp.path(),
        "diverged",
    );
    assert!(e.contains("diverged at step 1"), "{}", e);
    assert!(!tmp.path().join("dnm/checkpoint").exists());
}

#[test]
fn bad_inputs_are_one_line_errors_naming_the_culprit_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["train", "mlp", "--set", "epochs=0"],
            "error: config field `epochs`: must be at least 1",
        ),
        (
            &["train", "mlp", "--set", "bogus=1"],
            "error: --set bogus=1: unknown config field `bogus`",
        ),
        (
            &["train", "mlp", "--set", "epochs=many"],
            "error: config: invalid type: string \"many\", expected usize",
        ),
        (
            &["train", "mlp", "--data-dir", "/nonexistent/mnist"],
            "error: /nonexistent/mnist: data directory not found",
        ),
        (
            &["train", "mlp", "--config", "missing.toml"],
            "error: missing.toml: cannot read",
        ),
        (
            &["train", "mlp", "--resume", "nowhere"],
            "error: nowhere: no such directory",
        ),
        (
            &["interactive", "--load", "nothing.mpk"],
            "error: nothing.mpk: model file not found",
        ),
        (
            &["train", "mlp", "--set", "hidden=[100000,100000]"],
            "config field `hidden`: needs about",
        ),
        (
            &["train", "dnm", "--set", "neurons=300000"],
            "config field `neurons`: needs about",
        ),
        (
            &[
                "train",
                "dnm",
                "--preset",
                "seed-toy",
                "--batch",
                "1000000000",
            ],
            "config field `batch_size`: needs about",
        ),
        (
            &["train", "mlp", "--set", "inputs=100"],
            "config field `inputs`: is 100, but the images have 784",
        ),
        (
            &["train", "set", "--set", "classes=3"],
            "config field `classes`: is 3, but the data has label 9",
        ),
        (
            &["train", "mlp", "--seed", "18446744073709551615"],
            "--seed: at most",
        ),
        (&["train", "mlp", "--data-dir", "."], "train-images"),
    ];
    for (args, expected) in cases {
        fails_with(args, tmp.path(), expected);
    }
    assert!(
        !tmp.path().join("runs").exists(),
        "a refused run left a directory"
    );
}

#[test]
fn killed_at_a_random_moment_a_run_resumes_with_every_metric_row_once() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let r = run.to_str().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args([
            "train",
            "mlp",
            "--epochs",
            "6",
            "--train-limit",
            "6000",
            "--out",
            r,
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !run.join("checkpoint/progress.json").exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(rng.random_range(0..300)));
    child.kill().unwrap();
    child.wait().unwrap();
    let o = manifold(&["train", "mlp", "--resume", r], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let epochs: Vec<&str> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(epochs, ["1", "2", "3", "4", "5", "6"], "{metrics}");
}

/// Mutations of `bytes`: truncations, bit flips, overwritten header words.
fn mutate(bytes: &[u8], rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    let mut m = bytes.to_vec();
    match rng.random_range(0..4) {
        0 => m.truncate(rng.random_range(0..m.len())),
        1 => {
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..m.len());
                m[i] ^= 1 << rng.random_range(0..8);
            }
        }
        2 => {
            let at = rng.random_range(0..m.len().clamp(1, 24));
            let word: u32 = rng.random();
            for (k, b) in word.to_be_bytes().iter().enumerate() {
                if let Some(slot) = m.get_mut(at + k) {
                    *slot = *b;
                }
            }
        }
        _ => {
            let i = rng.random_range(0..m.len());
            m[i] = rng.random();
            m.truncate(rng.random_range(i..m.len().max(i + 1)));
        }
    }
    m
}

#[test]
fn the_idx_and_checkpoint_readers_survive_thousands_of_mutated_files() {
    use burn_ndarray::NdArray;
    use manifold::data::idx::{read_idx_images, read_idx_labels, write_idx};
    use manifold::mlp::{Mlp, MlpConfig};
    use manifold::train::{load_module, save_module};

    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let images = tmp.path().join("images.idx");
    let pixels: Vec<u8> = (0..5 * 4 * 4).map(|i| i as u8).collect();
    write_idx(&images, &[5, 4, 4], &pixels, false).unwrap();
    let labels = tmp.path().join("labels.idx");
    write_idx(&labels, &[5], &[0, 1, 2, 3, 4], false).unwrap();
    let config = MlpConfig::new()
        .with_inputs(16)
        .with_hidden(vec![4])
        .with_classes(3);
    let device = Default::default();
    let model = Mlp::<NdArray<f32>>::new(&config, &device);
    let saved = tmp.path().join("model");
    save_module(&model, &saved).unwrap();

    let mut rejected = 0;
    let mut mutated = 0;
    for (file, rounds) in [
        (&images, 2000),
        (&labels, 1000),
        (&saved.with_extension("mpk"), 2000),
    ] {
        let original = std::fs::read(file).unwrap();
        let case = tmp
            .path()
            .join("case")
            .with_extension(file.extension().unwrap());
        for _ in 0..rounds {
            let bytes = mutate(&original, &mut rng);
            std::fs::write(&case, &bytes).unwrap();
            LARGEST.store(0, Ordering::Relaxed);
            let ok = if file == &images {
                read_idx_images(&case).is_ok()
            } else if file == &labels {
                read_idx_labels(&case, 10).is_ok()
            } else {
                let probe = Mlp::<NdArray<f32>>::new(&config, &device);
                load_module(probe, &case.with_extension(""), &device).is_ok()
            };
            // Buffers of the file's size and the model's tensors; never what a header claims.
            let largest = LARGEST.load(Ordering::Relaxed);
            assert!(
                largest < 64 * original.len() + (1 << 20),
                "{largest} bytes for a {}-byte file",
                bytes.len()
            );
            mutated += 1;
            rejected += usize::from(!ok);
        }
    }
    assert_eq!(mutated, 5000);
    assert!(
        rejected > 2500,
        "only {rejected} of {mutated} mutations were refused"
    );
}

#[test]
fn the_same_seed_gives_the_same_bits_on_ndarray() {
    let tmp = tempfile::tempdir().unwrap();
    let patch = [
        "train",
        "dnm",
        "--preset",
        "patch-mnist",
        "--steps",
        "100",
        "--eval-every",
        "100",
        "--record-every",
        "25",
    ];
    let patches = [&patch[..3], &["patches-mnist"], &patch[4..]].concat();
    let fast = [
        "train",
        "dnm",
        "--preset",
        "fast-mnist",
        "--steps",
        "40",
        "--eval-every",
        "40",
        "--record-every",
        "10",
    ];
    let fast_patches = [&fast[..3], &["fast-patches-mnist"], &fast[4..]].concat();
    let commands: [&[&str]; 7] = [
        &[
            "train",
            "mlp",
            "--epochs",
            "2",
            "--train-limit",
            "5000",
            "--seed",
            "3",
        ],
        &["train", "dnm", "--preset", "seed-toy", "--seed", "1"],
        &[
            "train",
            "dnm",
            "--preset",
            "seed-mnist",
            "--steps",
            "1000",
            "--eval-every",
            "500",
            "--record-every",
            "50",
        ],
        &patch,
        &patches,
        // f32 passes, batch sums of more than 256 samples added part by part.
        &fast,
        &fast_patches,
    ];
    for (k, args) in commands.iter().enumerate() {
        let runs: Vec<Vec<String>> = (0..2)
            .map(|r| {
                let out = format!("run-{k}-{r}");
                let o = manifold(&[args, &["--out", out.as_str()][..]].concat(), tmp.path());
                assert!(o.status.success(), "{args:?}: {}", stderr(&o));
                metrics_without_timing(&tmp.path().join(out))
            })
            .collect();
        assert!(runs[0].len() > 2, "{args:?}: too few rows");
        assert!(runs[0] == runs[1], "{args:?}: the two runs differ");
    }
}

/// Starts `manifold ARGS` in `cwd` without waiting (standard error captured).
fn spawn(args: &[&str], cwd: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends `signal` (`TERM`, `HUP`, …) to a process.
fn signal(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal}");
}

/// Waits (at most two minutes) until `path` exists.
fn wait_for(path: &Path) {
    let t0 = std::time::Instant::now();
    while !path.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(path.exists(), "{} never appeared", path.display());
}

/// Waits until `child` holds the lock of `dir` (its PID in `run.lock`).
fn wait_until_holding(child: &std::process::Child, dir: &Path) {
    let t0 = std::time::Instant::now();
    let pid = child.id().to_string();
    while t0.elapsed().as_secs() < 120 {
        let text = std::fs::read_to_string(dir.join("run.lock")).unwrap_or_default();
        if text.trim() == pid {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    panic!("{} never took {}", pid, dir.display());
}

/// The first column of `metrics.csv` (epoch or step), one entry per row.
fn first_column(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect()
}

/// The number in `checkpoint/progress.json` under `key` (`epoch`, `step`).
fn checkpoint_at(dir: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(dir.join("checkpoint/progress.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&text).unwrap()[key]
        .as_u64()
        .unwrap()
}

/// Stops `child` with SIGTERM and expects the clean stop's exit code, 143.
fn terminate(mut child: std::process::Child, what: &str) {
    signal(&child, "TERM");
    assert_eq!(
        child.wait().unwrap().code(),
        Some(143),
        "{what}: SIGTERM exits 143"
    );
}

/// A resume started while the run's first process still trains, then two or three
/// resumes of one run started with random gaps: each time exactly one process runs, and
/// every other (resume, `--out --force`, `report`) is refused naming the holder and
/// changes nothing; a last resume ends with every metric row once and in order. For the
/// MLP and the DNM.
#[test]
fn concurrent_processes_on_one_run_directory_exactly_one_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let models: [(&str, &[&str], &str); 2] = [
        (
            "mlp",
            &["--epochs", "1000", "--train-limit", "2000"],
            "epoch",
        ),
        (
            "dnm",
            &[
                "--preset",
                "seed-toy",
                "--steps",
                "100000",
                "--eval-every",
                "100",
            ],
            "step",
        ),
    ];
    for (model, long, unit) in models {
        let dir = tmp.path().join(model);
        let d = dir.to_str().unwrap();
        let first = spawn(
            &[&["train", model], long, &["--out", d]].concat(),
            tmp.path(),
        );
        wait_until_holding(&first, &dir);
        wait_for(&dir.join("checkpoint/progress.json"));
        refused_untouched_while_held(&dir, tmp.path(), model);
        terminate(first, model);
        let resume = [&["train", model, "--resume", d], long].concat();
        for processes in [2, 3] {
            let mut children = Vec::new();
            for _ in 0..processes {
                children.push(spawn(&resume, tmp.path()));
                std::thread::sleep(std::time::Duration::from_millis(rng.random_range(0..150)));
            }
            let (mut refused, mut running) = (0, Vec::new());
            for mut child in children {
                let t0 = std::time::Instant::now();
                let status = loop {
                    if let Some(s) = child.try_wait().unwrap() {
                        break Some(s);
                    }
                    if t0.elapsed().as_millis() > 3000 {
                        break None;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                };
                let Some(status) = status else {
                    running.push(child);
                    continue;
                };
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                assert!(!status.success(), "{model}: a second process ran: {err}");
                assert!(err.contains("in use by process"), "{model}: {err}");
                assert_eq!(err.trim().lines().count(), 1, "{err}");
                refused += 1;
            }
            assert_eq!(running.len(), 1, "{model}: exactly one process runs");
            assert_eq!(refused, processes - 1, "{model}: the others are refused");
            let winner = running.pop().unwrap();
            wait_until_holding(&winner, &dir);
            refused_untouched_while_held(&dir, tmp.path(), model);
            terminate(winner, model);
        }
        let end = (checkpoint_at(&dir, unit) + 2).to_string();
        let flag = format!("--{unit}s");
        let o = manifold(&["train", model, "--resume", d, &flag, &end], tmp.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let numbers: Vec<f64> = first_column(&dir)
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "{model}: every row once and in order: {numbers:?}"
        );
        assert_eq!(*numbers.last().unwrap(), end.parse::<f64>().unwrap());
    }
}

/// While a process holds `dir`: `--out dir --force`, a resume and a report are refused
/// and change nothing the holder did not write itself (only the model's files move).
fn refused_untouched_while_held(dir: &Path, cwd: &Path, model: &str) {
    let d = dir.to_str().unwrap();
    for args in [
        vec!["train", model, "--out", d, "--force"],
        vec!["train", model, "--resume", d],
        vec!["report", d],
    ] {
        let config = std::fs::read(dir.join("config.toml")).unwrap();
        let run_json = std::fs::read(dir.join("run.json")).unwrap();
        fails_with(&args, cwd, "in use by process");
        assert_eq!(std::fs::read(dir.join("config.toml")).unwrap(), config);
        assert_eq!(std::fs::read(dir.join("run.json")).unwrap(), run_json);
    }
}

/// `--force` empties only a run directory or an empty one: never the working directory,
/// a directory above it, or a directory that is not a run; each refusal leaves every
/// file as it was. A run directory is replaced whole.
#[test]
fn force_replaces_only_runs_never_the_working_directory_or_its_parents() {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    let below = work.join("below");
    std::fs::create_dir_all(&below).unwrap();
    std::fs::write(work.join("keep"), b"mine").unwrap();
    std::fs::write(below.join("keep"), b"mine too").unwrap();
    fn train(out: &str) -> Vec<&str> {
        vec!["train", "mlp", "--epochs", "1", "--out", out, "--force"]
    }
    refused_untouched(
        &train("."),
        &work,
        &work,
        "is the working directory or a directory above it",
    );
    refused_untouched(
        &train(".."),
        &below,
        &work,
        "is the working directory or a directory above it",
    );
    let work_str = work.to_str().unwrap().to_string();
    refused_untouched(
        &train(&work_str),
        &below,
        &work,
        "is the working directory or a directory above it",
    );
    refused_untouched(
        &train("below"),
        &work,
        &work,
        "is not a manifold run (no run.json)",
    );
    // An empty directory, and a run, are taken.
    std::fs::create_dir(work.join("empty")).unwrap();
    let args = [&train("empty")[..], &["--train-limit", "1000"]].concat();
    let o = manifold(&args, &work);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(work.join("empty/stale.png"), b"old picture").unwrap();
    let o = manifold(&args, &work);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !work.join("empty/stale.png").exists(),
        "a replaced run keeps nothing"
    );
    assert_eq!(first_column(&work.join("empty")), ["1"]);
    assert_eq!(std::fs::read(work.join("keep")).unwrap(), b"mine");
}

/// SIGTERM (and SIGHUP) at a random moment, then `--resume`: the run saves a checkpoint,
/// its summary and report, exits 128 + the signal, and the resumed run ends with the
/// metrics of an uninterrupted run, bit for bit on ndarray (timing aside), every row once.
#[test]
fn a_signal_at_a_random_moment_then_resume_gives_the_uninterrupted_run_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let cases: [(&str, &[&str]); 2] = [
        (
            "mlp",
            &["--epochs", "30", "--train-limit", "3000", "--seed", "3"],
        ),
        (
            "dnm",
            &[
                "--preset",
                "seed-toy",
                "--steps",
                "12000",
                "--eval-every",
                "1000",
                "--seed",
                "2",
            ],
        ),
    ];
    for (model, args) in cases {
        let mut interrupted = 0;
        let whole = tmp.path().join(format!("{model}-whole"));
        let o = manifold(
            &[&["train", model], args, &["--out", whole.to_str().unwrap()]].concat(),
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        for (k, sig, code) in [(0, "TERM", 143), (1, "HUP", 129), (2, "USR1", 138)] {
            let dir = tmp.path().join(format!("{model}-{k}"));
            let d = dir.to_str().unwrap();
            let child = spawn(
                &[&["train", model], args, &["--out", d]].concat(),
                tmp.path(),
            );
            wait_for(&dir.join("metrics.csv"));
            std::thread::sleep(std::time::Duration::from_millis(rng.random_range(0..2000)));
            signal(&child, sig);
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            if out.status.success() {
                continue; // it finished before the signal came: nothing to resume
            }
            interrupted += 1;
            assert_eq!(out.status.code(), Some(code), "{model} {sig}: {err}");
            assert!(err.contains("continue with --resume"), "{err}");
            let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
            assert!(summary.contains("\"interrupted\": true"), "{summary}");
            assert!(dir.join("report.html").is_file());
            let o = manifold(&["train", model, "--resume", d], tmp.path());
            assert!(o.status.success(), "{}", stderr(&o));
            assert!(
                metrics_without_timing(&dir) == metrics_without_timing(&whole),
                "{model} {sig}: the resumed run differs from the uninterrupted one"
            );
        }
        assert!(
            interrupted > 0,
            "{model}: no signal came before the run ended"
        );
    }
}

/// A `metrics.csv` that ends in a partial row (a crash or a full disk mid-append) is cut
/// back on resume; an empty one is refused and nothing changes (`run.json` and
/// `config.toml` included).
#[test]
fn a_torn_metrics_row_is_cut_and_an_empty_metrics_file_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let run = short_mlp(tmp.path(), "run");
    let r = run.to_str().unwrap();
    let mut text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    text.push_str("3,5625,0.19");
    std::fs::write(run.join("metrics.csv"), &text).unwrap();
    let o = manifold(
        &["train", "mlp", "--resume", r, "--epochs", "3"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(first_column(&run), ["1", "2", "3"]);
    assert!(std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .ends_with('\n'));

    std::fs::write(run.join("metrics.csv"), b"").unwrap();
    for _ in 0..2 {
        refused_untouched(
            &["train", "mlp", "--resume", r, "--epochs", "4"],
            tmp.path(),
            &run,
            "metrics.csv: is empty",
        );
    }
}

/// A DNM run whose `snapshots.bin` ends in a torn record, or holds records past its
/// checkpoint, resumes with the records up to the checkpoint and ends with one record
/// per recorded step; the report reads what resume wrote.
#[test]
fn a_torn_snapshot_file_is_cut_back_to_the_checkpoint_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dnm");
    let d = dir.to_str().unwrap();
    let args = ["train", "dnm", "--preset", "seed-toy", "--steps", "300"];
    let more = ["--eval-every", "100", "--record-every", "50"];
    let o = manifold(&[&args[..], &more, &["--out", d]].concat(), tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = std::fs::read(dir.join("snapshots.bin")).unwrap();
    // A record cut in half at the end: resume cuts it, and every step is recorded once.
    std::fs::write(dir.join("snapshots.bin"), &whole[..whole.len() - 7]).unwrap();
    let o = manifold(
        &["train", "dnm", "--resume", d, "--steps", "400"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = manifold(&["report", d], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = first_column(&dir);
    assert_eq!(rows.last().unwrap(), "400");
    assert!(rows
        .windows(2)
        .all(|w| w[0].parse::<u32>().unwrap() < w[1].parse().unwrap()));
}

/// On a full disk (a small tmpfs, when this test may mount one) the run stops with a
/// one-line error that says so in words and names the file; every file it leaves is
/// whole (no truncated picture, JSON or TOML), and once there is room again, `--resume`
/// finishes the run with every metric row once.
#[test]
fn a_full_disk_stops_the_run_in_words_and_leaves_only_whole_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=300k",
            "tmpfs",
            mnt.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mnt);
    let args = [
        "train",
        "mlp",
        "--epochs",
        "3",
        "--train-limit",
        "3000",
        "--out",
        "run",
    ];
    let line = fails_with(&args, &mnt, "no space left on the device");
    assert!(line.contains("run/"), "names the file: {line}");
    let run = mnt.join("run");
    for (path, bytes) in snapshot(&run) {
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
        } else if name.ends_with(".toml") {
            toml_whole(&name, &bytes);
        } else if name.ends_with(".png") {
            assert!(
                bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]),
                "{name} is cut short"
            );
        }
    }
    let grown = Command::new("mount")
        .args(["-o", "remount,size=20m", mnt.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(grown.success());
    let o = manifold(&["train", "mlp", "--resume", "run"], &mnt);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(first_column(&run), ["1", "2", "3"]);
}

/// A TOML file that parses.
fn toml_whole(name: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    toml::from_str::<toml::Table>(text).unwrap_or_else(|e| panic!("{name} is not whole: {e}"));
}
