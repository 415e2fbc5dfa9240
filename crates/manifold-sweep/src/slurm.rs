//! `sweep submit` and `sweep task`: the points as one Slurm job array.
//!
//! The sweep's directory must lie on a filesystem every node sees (the points' run
//! directories, their logs and the batch scripts are written there), and the `manifold`
//! binary that submits must be runnable at the same path on the nodes.
//!
//! `submit` writes `slurm/job-K.sh` and a frozen copy of the sweep file
//! (`slurm/job-K.toml`), and submits one array task per point still to run
//! (`--array=3,7,9%M`: the array index is the point's number). Each task runs
//! `manifold sweep task job-K.toml --out DIR --index $SLURM_ARRAY_TASK_ID`, which
//! replaces itself with the point's `manifold train` process: the scheduler's signals
//! reach the run directly. Pre-emption (SIGTERM) and the time-limit warning
//! (`--signal=B:USR1@…`) make the run save a checkpoint and stop; a requeued task (the
//! batch script asks for `--requeue`) resumes from it, as does the next `submit`.
//! `slurm/jobs.txt` lists the submitted jobs, so that a second `submit` leaves out the
//! points still queued or running.

use std::path::{Path, PathBuf};
use std::process::Command;

use manifold_train::TrainError;

use crate::file::Sweep;
use crate::local::{prepare, SWEEP_FILE};
use crate::point::{Launcher, State};

/// What `sbatch` is asked for, per task.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (Slurm's formats: `MM`, `HH:MM:SS`, `D-HH`).
    pub time: Option<String>,
    /// `--cpus-per-task` (default 1): also each run's compute threads.
    pub cpus_per_task: Option<usize>,
    /// `--mem` (e.g. `4G`).
    pub mem: Option<String>,
    /// `--gpus` (e.g. `1`).
    pub gpus: Option<String>,
    /// At most this many tasks at once (`%M`).
    pub max_parallel: Option<usize>,
    /// Seconds before the time limit at which the run is told to checkpoint.
    pub warn_seconds: u32,
    /// Further `sbatch` options, written into the script as `#SBATCH` lines.
    pub extra: Vec<String>,
}

/// The sweep's Slurm folder.
pub fn slurm_dir(sweep: &Sweep) -> PathBuf {
    sweep.out.join("slurm")
}

/// A submission: what `submit` wrote and (unless it was a dry run) the job id.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    /// The points submitted (their numbers).
    pub indices: Vec<usize>,
    /// The points left out because a submitted job still has them queued or running.
    pub queued: Vec<usize>,
    /// The batch script.
    pub script: PathBuf,
    /// Slurm's job id (`None` for a dry run or when nothing was to submit).
    pub job: Option<String>,
}

/// The array tasks of this sweep's jobs that Slurm still has, as point numbers.
fn queued(sweep: &Sweep) -> Result<Vec<usize>, TrainError> {
    let jobs_file = slurm_dir(sweep).join("jobs.txt");
    let Ok(text) = std::fs::read_to_string(&jobs_file) else {
        return Ok(Vec::new());
    };
    let ours: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    if ours.is_empty() {
        return Ok(Vec::new());
    }
    let mut indices = Vec::new();
    for line in slurm("squeue", &["-h", "-r", "-o", "%i"])?.lines() {
        if let Some((job, task)) = line.trim().split_once('_') {
            if ours.contains(&job) {
                if let Ok(i) = task.parse::<usize>() {
                    indices.push(i);
                }
            }
        }
    }
    Ok(indices)
}

/// The standard output of the Slurm command `program args`, or its error in one line.
fn slurm(program: &str, args: &[&str]) -> Result<String, TrainError> {
    let o = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| TrainError::io(Path::new(program), "cannot run (is Slurm installed?)", e))?;
    if !o.status.success() {
        return Err(TrainError::new(
            Path::new(program),
            manifold_train::one_line(String::from_utf8_lossy(&o.stderr).trim()),
        ));
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// Submits the points of `sweep` that are neither finished nor queued as one job array;
/// with `dry_run`, writes the script and submits nothing.
pub fn submit(
    sweep: &Sweep,
    launcher: &Launcher,
    resources: &Resources,
    dry_run: bool,
) -> Result<Submission, TrainError> {
    prepare(sweep)?;
    let out = std::path::absolute(&sweep.out)
        .map_err(|e| TrainError::io(&sweep.out, "cannot resolve", e))?;
    let dir = slurm_dir(sweep);
    std::fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, "cannot create", e))?;
    // Slurm does not make the output file's folder: a task without it fails to start.
    let logs = sweep.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| TrainError::io(&logs, "cannot create", e))?;
    let queued = if dry_run { Vec::new() } else { queued(sweep)? };
    let mut indices = Vec::new();
    let mut left_out = Vec::new();
    for p in &sweep.points {
        let state = State::of(&p.dir(&sweep.out));
        if state.is_final() {
            continue;
        }
        if queued.contains(&p.index) || state == State::Running {
            left_out.push(p.index);
            continue;
        }
        if let State::Foreign(why) = state {
            return Err(TrainError::new(&p.dir(&sweep.out), why));
        }
        indices.push(p.index);
    }
    let k = (1..)
        .find(|k| !dir.join(format!("job-{k}.sh")).exists())
        .unwrap_or(1);
    let script_path = dir.join(format!("job-{k}.sh"));
    let mut job = None;
    if !indices.is_empty() {
        let frozen = dir.join(format!("job-{k}.toml"));
        manifold_train::write_atomic(&frozen, sweep.text.as_bytes())?;
        let script = batch_script(sweep, launcher, resources, &out, &frozen, &indices)?;
        manifold_train::write_atomic(&script_path, script.as_bytes())?;
        if !dry_run {
            let script = script_path.to_string_lossy();
            let printed = slurm("sbatch", &["--parsable", &script])?;
            // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
            let id = printed.trim().split(';').next().unwrap_or_default();
            let jobs_file = dir.join("jobs.txt");
            let mut jobs = std::fs::read_to_string(&jobs_file).unwrap_or_default();
            jobs.push_str(&format!("{id} {}\n", list(&indices)));
            manifold_train::write_atomic(&jobs_file, jobs.as_bytes())?;
            job = Some(id.to_string());
        }
    }
    Ok(Submission {
        indices,
        queued: left_out,
        script: script_path,
        job,
    })
}

/// `3,7,9`.
fn list(indices: &[usize]) -> String {
    indices
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Single-quoted for bash.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The batch script of one job array.
fn batch_script(
    sweep: &Sweep,
    launcher: &Launcher,
    r: &Resources,
    out: &Path,
    frozen: &Path,
    indices: &[usize],
) -> Result<String, TrainError> {
    let abs = |p: &Path| {
        std::path::absolute(p)
            .map(|p| p.display().to_string())
            .map_err(|e| TrainError::io(p, "cannot resolve", e))
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!(
        "# A manifold sweep ({}) as a Slurm job array: one task per point, the array index\n# is the point's number (`manifold sweep list` shows them).\n",
        sweep.file.display()
    ));
    let mut array = list(indices);
    if let Some(m) = r.max_parallel {
        array.push_str(&format!("%{m}"));
    }
    let mut lines = vec![
        format!("--job-name=manifold-{name}"),
        format!("--array={array}"),
        format!("--output={}/logs/slurm-%A_%a.out", out.display()),
        "--open-mode=append".to_string(),
        "--requeue".to_string(),
        format!("--signal=B:USR1@{}", r.warn_seconds),
        format!("--cpus-per-task={}", r.cpus_per_task.unwrap_or(1)),
    ];
    if let Some(p) = &r.partition {
        lines.push(format!("--partition={p}"));
    }
    if let Some(t) = &r.time {
        lines.push(format!("--time={t}"));
    }
    if let Some(m) = &r.mem {
        lines.push(format!("--mem={m}"));
    }
    if let Some(g) = &r.gpus {
        lines.push(format!("--gpus={g}"));
    }
    lines.extend(r.extra.iter().cloned());
    for l in lines {
        s.push_str(&format!("#SBATCH {l}\n"));
    }
    let mut cmd = vec![quote(&abs(&launcher.exe)?)];
    if let Some(d) = &launcher.device {
        cmd.push("--device".into());
        cmd.push(quote(d));
    }
    cmd.extend(["sweep".into(), "task".into(), quote(&abs(frozen)?)]);
    cmd.extend(["--out".into(), quote(&out.display().to_string())]);
    if let Some(d) = &launcher.data_dir {
        cmd.extend(["--data-dir".into(), quote(&abs(d)?)]);
    }
    cmd.extend(["--index".into(), "\"$SLURM_ARRAY_TASK_ID\"".into()]);
    s.push_str(&format!("exec {}\n", cmd.join(" ")));
    Ok(s)
}

/// What `sweep task` does with its point.
#[derive(Debug)]
pub enum Task {
    /// Nothing: the point is finished (its state says how).
    Finished(State),
    /// Run this command (replacing the task's process).
    Run(Box<Command>),
}

/// The command of point `index` of `sweep`, with `threads` compute threads
/// (`$SLURM_CPUS_PER_TASK` when Slurm runs it), or why there is nothing to do.
pub fn task(
    sweep: &Sweep,
    launcher: &Launcher,
    index: usize,
    threads: usize,
) -> Result<Task, TrainError> {
    let point = sweep.point(index)?;
    if !sweep.out.join(SWEEP_FILE).is_file() {
        prepare(sweep)?;
    }
    let state = State::of(&point.dir(&sweep.out));
    match state {
        State::Running => Err(TrainError::new(
            &point.dir(&sweep.out),
            "another process runs this point",
        )),
        State::Foreign(why) => Err(TrainError::new(&point.dir(&sweep.out), why)),
        s if s.is_final() => Ok(Task::Finished(s)),
        s => match launcher.command(point, &s, &sweep.out, threads)? {
            Some(c) => Ok(Task::Run(Box::new(c))),
            None => Ok(Task::Finished(s)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_script_runs_one_point_per_array_index() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("s.toml");
        std::fs::write(&file, "model = \"mlp\"\nseeds = 4").unwrap();
        let out = tmp.path().join("out");
        let sweep = Sweep::read(&file, Some(&out)).unwrap();
        let launcher = Launcher {
            exe: "/opt/manifold".into(),
            device: None,
            data_dir: None,
        };
        let r = Resources {
            time: Some("10".into()),
            max_parallel: Some(2),
            warn_seconds: 90,
            ..Resources::default()
        };
        let s = submit(&sweep, &launcher, &r, true).unwrap();
        assert_eq!(s.indices, [0, 1, 2, 3]);
        assert_eq!(s.job, None);
        let text = std::fs::read_to_string(&s.script).unwrap();
        for line in [
            "#SBATCH --array=0,1,2,3%2",
            "#SBATCH --requeue",
            "#SBATCH --signal=B:USR1@90",
            "#SBATCH --cpus-per-task=1",
            "#SBATCH --time=10",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        let exec = text.lines().last().unwrap();
        assert!(
            exec.starts_with("exec '/opt/manifold' sweep task '")
                && exec.ends_with("--index \"$SLURM_ARRAY_TASK_ID\""),
            "{exec}"
        );
        assert!(s.script.ends_with("slurm/job-1.sh"));
        assert!(out.join("slurm/job-1.toml").is_file());
        // A finished point is left out of the next script.
        let done = sweep.points[1].dir(&out);
        std::fs::create_dir_all(&done).unwrap();
        std::fs::write(done.join("run.json"), "{}").unwrap();
        std::fs::write(done.join("summary.json"), r#"{"interrupted": false}"#).unwrap();
        let s = submit(&sweep, &launcher, &r, true).unwrap();
        assert_eq!(s.indices, [0, 2, 3]);
        assert!(s.script.ends_with("slurm/job-2.sh"));
    }
}
