//! The `manifold` binary end to end on the MLP: run directories, resume, Ctrl-C,
//! interactive play through a pipe, the benchmark and the examples; sweeps run here and
//! on a real Slurm (`sweep` module).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[path = "common/cli.rs"]
mod cli;
#[path = "cli/sweep.rs"]
mod sweep;
use cli::{manifold, stderr};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn metric_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .unwrap()
        .lines()
        .count()
        - 1
}

#[test]
fn train_writes_a_complete_run_directory_and_resume_continues_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let r = run.to_str().unwrap();
    let o = manifold(
        &[
            "train",
            "mlp",
            "--epochs",
            "1",
            "--train-limit",
            "3000",
            "--out",
            r,
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "config.toml",
        "metrics.csv",
        "model.mpk",
        "loss.png",
        "accuracy.png",
        "summary.json",
        "checkpoint/model.mpk",
        "checkpoint/optim.mpk",
    ] {
        assert!(run.join(f).is_file(), "missing {f}");
    }
    let s = json(&run.join("summary.json"));
    assert_eq!(s["model"], "mlp");
    assert_eq!(s["device"], "ndarray");
    assert_eq!(s["epochs"], 1);
    assert!(s["test_accuracy"].as_f64().unwrap() > 0.5);
    assert!(s["test_loss"].as_f64().unwrap() > 0.0 && s["wall_seconds"].as_f64().unwrap() > 0.0);
    assert!(s["command"].as_str().unwrap().contains("train mlp"));
    assert_eq!(metric_rows(&run), 1);

    let o = manifold(
        &["train", "mlp", "--resume", r, "--epochs", "2"],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(metric_rows(&run), 2);
    assert_eq!(json(&run.join("summary.json"))["epochs"], 2);
    assert!(std::fs::read_to_string(run.join("config.toml"))
        .unwrap()
        .contains("epochs = 2"));
}

#[test]
fn ctrl_c_leaves_a_consistent_run_that_resumes_to_the_end() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let r = run.to_str().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["train", "mlp", "--epochs", "3", "--out", r])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training has started (metrics.csv is created just before), then interrupt.
    let t0 = std::time::Instant::now();
    while !run.join("metrics.csv").exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(400));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));
    let s = json(&run.join("summary.json"));
    assert_eq!(s["interrupted"], true);
    let p = json(&run.join("checkpoint/progress.json"));
    assert!(p["step"].as_u64().unwrap() > 0);

    let o = manifold(&["train", "mlp", "--resume", r], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let s = json(&run.join("summary.json"));
    assert_eq!(
        (
            s["interrupted"].clone(),
            s["epochs"].clone(),
            s["steps"].clone()
        ),
        (false.into(), 3.into(), (3 * 1875).into())
    );
    assert_eq!(metric_rows(&run), 3);
}

#[test]
fn interactive_plays_through_a_pipe_and_keeps_score() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m");
    let o = manifold(
        &[
            "train",
            "mlp",
            "--epochs",
            "1",
            "--train-limit",
            "2000",
            "--out",
            tmp.path().join("run").to_str().unwrap(),
            "--save",
            model.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut child = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args([
            "interactive",
            "--load",
            model.with_extension("mpk").to_str().unwrap(),
            "--seed",
            "7",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"3\nseven\n5\nq\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.matches("Your guess:").count(), 3, "{out}");
    assert!(out.contains("Type a digit 0-9, or q"), "{out}");
    assert!(out.contains("You: 3") && out.contains("You: 5"), "{out}");
    assert!(out.contains("Final score after 2 digits"), "{out}");
    assert!(
        out.contains('█'),
        "the digit is drawn with block characters: {out}"
    );
}

#[test]
fn interactive_without_a_saved_model_says_how_to_make_one() {
    let tmp = tempfile::tempdir().unwrap();
    let o = manifold(&["interactive"], tmp.path());
    assert!(!o.status.success());
    assert_eq!(stderr(&o), "error: no saved MLP found under runs/: make one with `manifold train mlp` (or pass --load FILE)");
}

#[test]
fn bench_writes_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b.json");
    let o = manifold(
        &[
            "bench",
            "mlp",
            "--repeats",
            "1",
            "--json",
            out.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let b = json(&out);
    assert_eq!(b["batch"], 32);
    assert!(b["median_epoch_seconds"].as_f64().unwrap() > 0.0);
}

/// `bench dnm --set` overrides a field of its preset (recorded in the JSON, and applied:
/// a lower initial cutoff keeps more cells), and a value the field cannot take is
/// refused with the field's name, before any file is written.
#[test]
fn bench_dnm_overrides_its_preset_and_refuses_a_bad_value() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b.json");
    let run = |value: &str| {
        manifold(
            &[
                "bench",
                "dnm",
                "--only-device",
                "--comps",
                "20",
                "--preset",
                "patch-mnist",
                "--set",
                value,
                "--steps",
                "1",
                "--json",
                out.to_str().unwrap(),
            ],
            tmp.path(),
        )
    };
    let bad = run("precision=\"f16\"");
    assert!(!bad.status.success());
    let message = stderr(&bad);
    assert!(message.contains("precision"), "{message}");
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(!out.exists(), "a refused bench wrote its JSON");
    let good = run("precision=\"f32\"");
    assert!(good.status.success(), "{}", stderr(&good));
    let b = json(&out);
    assert_eq!(b["set"][0], "precision=\"f32\"");
    assert!(b["cases"][0]["median_step_ms"].as_f64().unwrap() > 0.0);
    let kept = |b: &serde_json::Value| b["cases"][0]["kept"].as_u64().unwrap();
    let preset_kept = kept(&b);
    let lower = run("kappa_init=-8.0");
    assert!(lower.status.success(), "{}", stderr(&lower));
    let lowered_kept = kept(&json(&out));
    assert!(
        lowered_kept > preset_kept,
        "{lowered_kept} cells kept under kappa_init = -8, {preset_kept} under the preset's"
    );
}

#[test]
fn a_backend_not_compiled_in_names_its_feature() {
    use manifold::backend::{not_compiled_message, DeviceKind};
    assert_eq!(
        not_compiled_message(DeviceKind::Wgpu, &[DeviceKind::Ndarray]),
        "device `wgpu` is not compiled into this binary: rebuild with `--features wgpu` (compiled in: ndarray)"
    );
    assert_eq!(DeviceKind::default_compiled(), DeviceKind::Ndarray);
    assert!(DeviceKind::all_compiled().contains(&DeviceKind::Ndarray));
}

/// The examples the test command builds, run from their binaries (the quick ones: the
/// toy DNM through `Run`, the hand-written DNM loop, and predicting with a saved MLP).
#[test]
fn the_quick_examples_run() {
    let deps = std::env::current_exe().unwrap();
    let examples = deps.parent().unwrap().parent().unwrap().join("examples");
    let tmp = tempfile::tempdir().unwrap();
    for (name, says) in [
        ("train_dnm", "test MSE"),
        ("dnm_custom_loop", "final: test MSE"),
        ("predict", "correct"),
    ] {
        let o = Command::new(examples.join(name))
            .current_dir(tmp.path())
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(says), "{name}: {out}");
    }
    let run = tmp.path().join("runs/example-dnm");
    for f in [
        "config.toml",
        "metrics.csv",
        "summary.json",
        "closeness.gif",
    ] {
        assert!(run.join(f).is_file(), "train_dnm: missing {f}");
    }
}
