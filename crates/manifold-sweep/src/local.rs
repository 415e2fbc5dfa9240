//! `sweep run`: the points on this machine, N processes at a time.

use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use manifold_train::TrainError;

use crate::file::{Point, Sweep};
use crate::point::{contradiction, last_error, Launcher, State};

/// The sweep's copy of its file, in its directory.
pub const SWEEP_FILE: &str = "sweep.toml";

/// Makes the sweep's directory (or checks an existing one is a sweep's) and writes the
/// sweep's file into it as `sweep.toml`. A non-empty directory without `sweep.toml` is
/// refused untouched.
pub fn prepare(sweep: &Sweep) -> Result<(), TrainError> {
    let out = &sweep.out;
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| TrainError::io(out, "cannot read", e))?
            .next()
            .is_none();
        if !empty && !out.join(SWEEP_FILE).is_file() {
            return Err(TrainError::new(
                out,
                format!("not a sweep directory (no {SWEEP_FILE}) and not empty: choose another `out`; nothing was changed"),
            ));
        }
    } else {
        std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, "cannot create", e))?;
    }
    for p in &sweep.points {
        let dir = p.dir(out);
        if let State::Foreign(why) = State::of(&dir) {
            return Err(TrainError::new(
                &dir,
                format!("{why}: the point's place is taken; nothing was changed"),
            ));
        }
        if let Some(why) = contradiction(p, &dir) {
            return Err(TrainError::new(
                &dir,
                format!("{why}: give the sweep another `out` (or delete this point); nothing was changed"),
            ));
        }
    }
    manifold_train::write_atomic(&out.join(SWEEP_FILE), sweep.text.as_bytes())
}

/// What a `sweep run` did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Points that finished during this run.
    pub finished: usize,
    /// Points already finished (done or diverged) before it.
    pub skipped: usize,
    /// Points another process was running.
    pub busy: usize,
    /// Points that diverged (this run or before).
    pub diverged: usize,
    /// Points that failed this time, with the reason: run the same command to retry.
    pub failed: Vec<(String, String)>,
    /// The signal that stopped the sweep, if one did.
    pub signal: Option<i32>,
}

/// Runs every unfinished point of `sweep`, `jobs` at a time, each a `manifold train`
/// process with `threads` compute threads; output goes to the points' logs and one
/// progress bar. SIGINT, SIGTERM and SIGHUP stop the sweep: the running points are
/// asked to checkpoint (SIGTERM) and awaited.
pub fn run(
    sweep: &Sweep,
    launcher: &Launcher,
    jobs: usize,
    threads: usize,
) -> Result<Outcome, TrainError> {
    prepare(sweep)?;
    let root = &sweep.out;
    let mut outcome = Outcome::default();
    let mut todo: Vec<&Point> = Vec::new();
    for p in &sweep.points {
        match State::of(&p.dir(root)) {
            State::Done => outcome.skipped += 1,
            State::Diverged(_) => {
                outcome.skipped += 1;
                outcome.diverged += 1;
            }
            State::Running => outcome.busy += 1,
            _ => todo.push(p),
        }
    }
    let stop = Arc::new(AtomicUsize::new(0));
    let mut handlers = Vec::new();
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let stop = stop.clone();
        // SAFETY: the handler only stores to an atomic.
        let id = unsafe {
            signal_hook::low_level::register(sig, move || {
                let _ = stop.compare_exchange(0, sig as usize, Ordering::SeqCst, Ordering::SeqCst);
            })
        }
        .map_err(|e| TrainError::io(root, "cannot install the signal handler", e))?;
        handlers.push(id);
    }
    let bar = manifold_train::progress_bar(todo.len() as u64, "sweep");
    let mut queue = todo.into_iter();
    let mut running: Vec<(&Point, Child, Instant)> = Vec::new();
    let result = (|| -> Result<(), TrainError> {
        loop {
            let stopping = stop.load(Ordering::SeqCst) != 0;
            while !stopping && running.len() < jobs {
                let Some(p) = queue.next() else {
                    break;
                };
                // Read again now: another `sweep run` of this directory may have started,
                // finished or resumed the point since the list was made (a stale `Started`
                // would launch `--force` over its finished run).
                let state = match State::of(&p.dir(root)) {
                    State::Done => {
                        outcome.skipped += 1;
                        bar.inc(1);
                        continue;
                    }
                    State::Diverged(_) => {
                        outcome.skipped += 1;
                        outcome.diverged += 1;
                        bar.inc(1);
                        continue;
                    }
                    State::Running => {
                        outcome.busy += 1;
                        bar.inc(1);
                        continue;
                    }
                    state => state,
                };
                let Some(mut cmd) = launcher.command(p, &state, root, threads)? else {
                    continue;
                };
                // Its own process group: a Ctrl-C reaches the sweep, which then stops each
                // run exactly once.
                use std::os::unix::process::CommandExt;
                cmd.process_group(0);
                let child = cmd
                    .spawn()
                    .map_err(|e| TrainError::io(&launcher.exe, "cannot start", e))?;
                running.push((p, child, Instant::now()));
            }
            if running.is_empty() {
                return Ok(());
            }
            let names: Vec<String> = running.iter().map(|(p, _, _)| p.id()).collect();
            bar.set_message(names.join("  "));
            std::thread::sleep(Duration::from_millis(50));
            if stopping {
                for (_, child, _) in &running {
                    // SAFETY: kill(2) on a child we started and have not reaped.
                    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                }
            }
            let mut k = 0;
            while k < running.len() {
                let status = running[k]
                    .1
                    .try_wait()
                    .map_err(|e| TrainError::io(&launcher.exe, "cannot wait for a run", e))?;
                let Some(status) = status else {
                    k += 1;
                    continue;
                };
                let (p, _, started) = running.swap_remove(k);
                bar.inc(1);
                match State::of(&p.dir(root)) {
                    State::Done => {
                        outcome.finished += 1;
                        bar.println(format!(
                            "{}: done in {:.0} s",
                            p.id(),
                            started.elapsed().as_secs_f64()
                        ));
                    }
                    State::Diverged(why) => {
                        outcome.finished += 1;
                        outcome.diverged += 1;
                        bar.println(format!("{}: diverged: {why}", p.id()));
                    }
                    _ if stopping => {}
                    // Another process took the point between our look and our run's start
                    // (ours was refused, touching nothing): it is that process's now.
                    State::Running => outcome.busy += 1,
                    _ => {
                        let why = last_error(p, root).unwrap_or_else(|| match status.code() {
                            Some(c) => format!("exit status {c}"),
                            None => "killed by a signal".to_string(),
                        });
                        bar.println(format!("{}: failed: {why}", p.id()));
                        outcome.failed.push((p.id(), why));
                    }
                }
            }
            if stopping {
                // Wait for the stopped runs to write their checkpoints.
                for (_, child, _) in running.iter_mut() {
                    let _ = child.wait();
                }
                return Ok(());
            }
        }
    })();
    bar.finish_and_clear();
    for id in handlers {
        signal_hook::low_level::unregister(id);
    }
    result?;
    outcome.signal = Some(stop.load(Ordering::SeqCst) as i32).filter(|&s| s != 0);
    Ok(outcome)
}

/// The number of compute threads for each of `jobs` runs sharing this machine.
pub fn threads_per_run(jobs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / jobs.max(1)).max(1)
}

/// Each point's state, in order.
pub fn states(sweep: &Sweep) -> Vec<State> {
    sweep
        .points
        .iter()
        .map(|p| State::of(&p.dir(&sweep.out)))
        .collect()
}

/// Counts of each state, `"3 done, 1 new"`.
pub fn describe(states: &[State]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for s in states {
        match counts.iter_mut().find(|(w, _)| *w == s.word()) {
            Some((_, n)) => *n += 1,
            None => counts.push((s.word(), 1)),
        }
    }
    counts
        .iter()
        .map(|(w, n)| format!("{n} {w}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when `dir` is a sweep's directory.
pub fn is_sweep_dir(dir: &Path) -> bool {
    dir.join(SWEEP_FILE).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for the `manifold` binary: logs its arguments, leaves a finished run in
    /// its `--out` directory and, as another `sweep run` of the same directory would,
    /// finishes `other` too.
    fn fake_manifold(dir: &Path, other: &Path) -> std::path::PathBuf {
        let exe = dir.join("fake-manifold");
        let finish = |d: &str| {
            format!(
                "mkdir -p \"{d}\"; echo '{{}}' > \"{d}/run.json\"; echo '{{\"interrupted\": false}}' > \"{d}/summary.json\"\n"
            )
        };
        let script = format!(
            "#!/bin/sh\necho \"$@\" >> \"{log}\"\nout=; prev=\nfor a in \"$@\"; do [ \"$prev\" = --out ] && out=$a; prev=$a; done\n{mine}{theirs}",
            log = dir.join("calls.log").display(),
            mine = finish("$out"),
            theirs = finish(&other.display().to_string()),
        );
        std::fs::write(&exe, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        exe
    }

    /// A point another process finishes while this sweep runs an earlier one is skipped,
    /// not launched on its stale state (for a point once `Started`, that launch would be
    /// `--force` over the other process's finished run).
    #[test]
    fn a_point_finished_by_another_sweep_meanwhile_is_skipped_not_launched() {
        let tmp = tempfile::tempdir().unwrap();
        let text = "seeds = 2\n[[group]]\nname = \"g\"\nmodel = \"mlp\"\n";
        let out = tmp.path().join("sweep");
        let sweep = Sweep::parse(&tmp.path().join("s.toml"), text, Some(&out)).unwrap();
        prepare(&sweep).unwrap();
        let second = sweep.points[1].dir(&out);
        // The second point as a run stopped before its first checkpoint: `Started`.
        std::fs::create_dir_all(&second).unwrap();
        std::fs::write(second.join("run.json"), "{}").unwrap();
        assert_eq!(State::of(&second), State::Started);
        let launcher = Launcher {
            exe: fake_manifold(tmp.path(), &second),
            device: None,
            data_dir: None,
        };
        let outcome = run(&sweep, &launcher, 1, 1).unwrap();
        let calls = std::fs::read_to_string(tmp.path().join("calls.log")).unwrap();
        assert_eq!(calls.lines().count(), 1, "{calls}");
        assert!(calls.contains("seed=0"), "{calls}");
        assert!(!calls.contains("--force"), "{calls}");
        assert_eq!((outcome.finished, outcome.skipped), (1, 1));
        assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    }
}
