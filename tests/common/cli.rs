//! Running the `manifold` binary from a test (included with `#[path]`; not a test target
//! of its own).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `manifold ARGS` in `cwd`.
pub fn manifold(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("manifold runs")
}

/// Runs `manifold ARGS` in `cwd` and expects it to succeed (its standard error otherwise).
#[allow(dead_code)] // not every test binary that includes this file uses it
pub fn succeeds(args: &[&str], cwd: &Path) -> Output {
    let o = manifold(args, cwd);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    o
}

/// The trimmed standard error of a run.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// Runs `manifold ARGS`, expects it to fail with a one-line error (the last line of
/// standard error; a resume's notes may come before it) that contains `expected`, and
/// returns that line.
#[allow(dead_code)] // not every test binary that includes this file uses it
pub fn fails_with(args: &[&str], cwd: &Path, expected: &str) -> String {
    let o = manifold(args, cwd);
    let all = stderr(&o);
    assert!(!o.status.success(), "{args:?} should fail");
    let e = all.lines().last().unwrap_or_default().to_string();
    assert!(
        e.starts_with("error: ") && e.contains(expected),
        "{args:?}: got `{all}`, expected `{expected}`"
    );
    let errors = all.lines().filter(|l| l.contains("error")).count();
    assert_eq!(errors, 1, "{args:?}: not a one-line error: {all}");
    e
}

/// Every file under `dir` with its bytes.
#[allow(dead_code)] // not every test binary that includes this file uses it
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    files
}

/// `metrics.csv` of the run in `dir` without its timing columns.
#[allow(dead_code)] // not every test binary that includes this file uses it
pub fn metrics_without_timing(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let timing = ["step_ms", "wall_seconds", "epoch_seconds"];
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !timing.contains(&header[i]))
        .collect();
    std::iter::once(header)
        .chain(lines.map(|l| l.split(',').collect()))
        .map(|row: Vec<&str>| keep.iter().map(|&i| row[i]).collect::<Vec<_>>().join(","))
        .collect()
}
