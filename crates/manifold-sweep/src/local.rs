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
    let mut todo: Vec<(&Point, State)> = Vec::new();
    for p in &sweep.points {
        match State::of(&p.dir(root)) {
            State::Done => outcome.skipped += 1,
            State::Diverged(_) => {
                outcome.skipped += 1;
                outcome.diverged += 1;
            }
            State::Running => outcome.busy += 1,
            s => todo.push((p, s)),
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
                let Some((p, state)) = queue.next() else {
                    break;
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
