//! Running the `manifold` binary from a test (included with `#[path]`; not a test target
//! of its own).

use std::path::Path;
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
