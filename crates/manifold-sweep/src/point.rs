//! Where a point stands, read from its run directory, and the `manifold` command that
//! takes it further.

use std::ffi::OsString;
use std::fs::{OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use manifold_train::TrainError;

use crate::file::Point;

/// A point's state, read from its run directory alone (so that every machine sharing
/// the filesystem agrees on it).
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// No run directory yet (or an empty one).
    New,
    /// A run directory without a checkpoint: the run started and was stopped before its
    /// first checkpoint; it starts again (`--force`, which replaces only run directories).
    Started,
    /// A checkpoint and no final summary: the run continues (`--resume`).
    Resumable,
    /// A process holds the run directory's lock.
    Running,
    /// Finished: `summary.json` of a run that was not interrupted.
    Done,
    /// Finished by diverging: the reason from `summary.json`. Not run again (the same
    /// seed diverges the same way); delete the point's directory to retry it.
    Diverged(String),
    /// Something that is not a run directory is in the point's place: never touched.
    Foreign(String),
}

impl State {
    /// Read from the run directory `dir`.
    pub fn of(dir: &Path) -> State {
        let Ok(mut entries) = std::fs::read_dir(dir) else {
            return if dir.exists() {
                State::Foreign("not a readable directory".into())
            } else {
                State::New
            };
        };
        if entries.next().is_none() {
            return State::New;
        }
        if !dir.join("run.json").is_file() && !dir.join("config.toml").is_file() {
            return State::Foreign("not a run directory (no run.json)".into());
        }
        if is_locked(dir) {
            return State::Running;
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("summary.json")) {
            if let Ok(s) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(reason) = s.get("diverged").and_then(|d| d.as_str()) {
                    return State::Diverged(reason.to_string());
                }
                if s.get("interrupted").and_then(|i| i.as_bool()) == Some(false) {
                    return State::Done;
                }
            }
        }
        if dir.join("checkpoint").is_dir() {
            State::Resumable
        } else {
            State::Started
        }
    }

    /// Finished, one way or the other: nothing more to run.
    pub fn is_final(&self) -> bool {
        matches!(self, State::Done | State::Diverged(_))
    }

    /// To be run (started, restarted or resumed).
    pub fn is_runnable(&self) -> bool {
        matches!(self, State::New | State::Started | State::Resumable)
    }

    /// A word for tables and messages.
    pub fn word(&self) -> &'static str {
        match self {
            State::New => "new",
            State::Started => "started",
            State::Resumable => "resumable",
            State::Running => "running",
            State::Done => "done",
            State::Diverged(_) => "diverged",
            State::Foreign(_) => "foreign",
        }
    }
}

/// How the run directory `dir` contradicts `point`: a field of the point's settings, or
/// its seed, that the run's `config.toml` has with another value; `None` when it agrees
/// (or has no config yet). A sweep file edited after its points ran names the same
/// folders with different settings; reusing them would mix two sweeps.
pub fn contradiction(point: &Point, dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.toml")).ok()?;
    let saved: toml::Table = toml::from_str(&text).ok()?;
    let seed = toml::Value::Integer(point.seed as i64);
    let wanted = point
        .sets
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .chain(std::iter::once(("seed", &seed)));
    for (field, value) in wanted {
        match saved.get(field) {
            Some(have) if same(have, value) => {}
            Some(have) => {
                return Some(format!(
                    "its run has `{field} = {have}`, the sweep file now says `{value}`"
                ))
            }
            None => return Some(format!("its run's config.toml has no field `{field}`")),
        }
    }
    None
}

/// TOML values equal as config values (an integer equals the same float).
fn same(a: &toml::Value, b: &toml::Value) -> bool {
    use toml::Value::{Array, Float, Integer};
    match (a, b) {
        (Integer(x), Float(y)) | (Float(y), Integer(x)) => *x as f64 == *y,
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        _ => a == b,
    }
}

/// True when another process holds `dir/run.lock` (probed without creating it).
fn is_locked(dir: &Path) -> bool {
    let Ok(file) = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(manifold_train::lock::LOCK_FILE))
    else {
        return false;
    };
    // The probe's own lock, if it got one, goes with `file` at the end of this function.
    matches!(file.try_lock(), Err(TryLockError::WouldBlock))
}

/// How points are run: the `manifold` binary and what every point's command shares.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `manifold` executable (the running one, or one on a shared filesystem).
    pub exe: PathBuf,
    /// `--device` for every point.
    pub device: Option<String>,
    /// `--data-dir` for every point.
    pub data_dir: Option<PathBuf>,
}

impl Launcher {
    /// The arguments of `manifold` that take `point` (in `state`) further, with its run
    /// directory under `root`; `None` when there is nothing to run.
    pub fn args(&self, point: &Point, state: &State, root: &Path) -> Option<Vec<OsString>> {
        let dir = point.dir(root);
        let mut args: Vec<OsString> = Vec::new();
        if let Some(d) = &self.device {
            args.extend(["--device".into(), d.into()]);
        }
        args.extend(["train".into(), point.model.clone().into()]);
        match state {
            State::Resumable => {
                args.extend(["--resume".into(), dir.into_os_string()]);
            }
            State::New | State::Started => {
                if let Some(p) = &point.preset {
                    args.extend(["--preset".into(), p.into()]);
                }
                if let Some(c) = &point.config {
                    args.extend(["--config".into(), c.clone().into_os_string()]);
                }
                for (k, v) in &point.sets {
                    args.extend(["--set".into(), format!("{k}={v}").into()]);
                }
                args.extend(["--seed".into(), point.seed.to_string().into()]);
                args.extend(["--out".into(), dir.into_os_string()]);
                if *state == State::Started {
                    args.push("--force".into());
                }
            }
            _ => return None,
        }
        if let Some(d) = &self.data_dir {
            args.extend(["--data-dir".into(), d.clone().into_os_string()]);
        }
        Some(args)
    }

    /// The command for `point`, its output appended to the point's log, with `threads`
    /// compute threads; `None` when there is nothing to run.
    pub fn command(
        &self,
        point: &Point,
        state: &State,
        root: &Path,
        threads: usize,
    ) -> Result<Option<std::process::Command>, TrainError> {
        let Some(args) = self.args(point, state, root) else {
            return Ok(None);
        };
        let log_path = point.log(root);
        if let Some(parent) = log_path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| TrainError::io(parent, "cannot create", e))?;
        }
        if let Some(parent) = point.dir(root).parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| TrainError::io(parent, "cannot create", e))?;
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| TrainError::io(&log_path, "cannot open", e))?;
        {
            use std::io::Write;
            let line: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            writeln!(
                log,
                "== {} ({}): manifold {}",
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
                state.word(),
                line.join(" ")
            )
            .map_err(|e| TrainError::io(&log_path, "cannot write", e))?;
        }
        let err = log
            .try_clone()
            .map_err(|e| TrainError::io(&log_path, "cannot open", e))?;
        let mut cmd = std::process::Command::new(&self.exe);
        cmd.args(args)
            .env("RAYON_NUM_THREADS", threads.to_string())
            .env("MATMUL_NUM_THREADS", threads.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(err);
        Ok(Some(cmd))
    }
}

/// The reason the last attempt of `point` gave up, from the last `error:` line of its
/// log, if any.
pub fn last_error(point: &Point, root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(point.log(root)).ok()?;
    let last_attempt = text.rsplit("\n== ").next().unwrap_or(&text);
    last_attempt
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: ").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::Sweep;

    fn point() -> Point {
        let s = Sweep::parse(
            Path::new("s.toml"),
            "model = \"dnm\"\npreset = \"seed-toy\"\nset = { steps = 10 }\naxes = { lr = [0.5] }\nseeds = [3]",
            None,
        )
        .unwrap();
        s.points[0].clone()
    }

    #[test]
    fn states_come_from_the_run_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("p");
        assert_eq!(State::of(&d), State::New);
        std::fs::create_dir(&d).unwrap();
        assert_eq!(State::of(&d), State::New);
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        assert!(matches!(State::of(&d), State::Foreign(_)));
        std::fs::write(d.join("run.json"), "{}").unwrap();
        assert_eq!(State::of(&d), State::Started);
        std::fs::create_dir(d.join("checkpoint")).unwrap();
        assert_eq!(State::of(&d), State::Resumable);
        std::fs::write(d.join("summary.json"), r#"{"interrupted": true}"#).unwrap();
        assert_eq!(State::of(&d), State::Resumable);
        std::fs::write(d.join("summary.json"), r#"{"interrupted": false}"#).unwrap();
        assert_eq!(State::of(&d), State::Done);
        std::fs::write(
            d.join("summary.json"),
            r#"{"interrupted": false, "diverged": "NaN loss at step 3"}"#,
        )
        .unwrap();
        assert_eq!(State::of(&d), State::Diverged("NaN loss at step 3".into()));
        let lock = manifold_train::RunLock::acquire(&d).unwrap();
        assert_eq!(State::of(&d), State::Running);
        drop(lock);
        assert!(State::of(&d).is_final());
    }

    #[test]
    fn a_run_made_with_other_settings_is_named() {
        let p = point();
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        assert_eq!(contradiction(&p, d), None);
        std::fs::write(d.join("config.toml"), "steps = 10\nlr = 0.5\nseed = 3\n").unwrap();
        assert_eq!(contradiction(&p, d), None);
        std::fs::write(d.join("config.toml"), "steps = 10.0\nlr = 0.5\nseed = 3\n").unwrap();
        assert_eq!(contradiction(&p, d), None);
        std::fs::write(d.join("config.toml"), "steps = 20\nlr = 0.5\nseed = 3\n").unwrap();
        assert_eq!(
            contradiction(&p, d).unwrap(),
            "its run has `steps = 20`, the sweep file now says `10`"
        );
        std::fs::write(d.join("config.toml"), "steps = 10\nlr = 0.5\nseed = 4\n").unwrap();
        assert!(contradiction(&p, d).unwrap().contains("`seed = 4`"));
    }

    #[test]
    fn commands_start_restart_or_resume() {
        let p = point();
        let l = Launcher {
            exe: "manifold".into(),
            device: Some("flex".into()),
            data_dir: None,
        };
        let words = |s: &State| -> Option<String> {
            l.args(&p, s, Path::new("R")).map(|a| {
                a.iter()
                    .map(|w| w.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
        };
        assert_eq!(
            words(&State::New).unwrap(),
            "--device flex train dnm --preset seed-toy --set steps=10 --set lr=0.5 --seed 3 --out R/lr=0.5,seed=3"
        );
        assert!(words(&State::Started)
            .unwrap()
            .ends_with("--out R/lr=0.5,seed=3 --force"));
        assert_eq!(
            words(&State::Resumable).unwrap(),
            "--device flex train dnm --resume R/lr=0.5,seed=3"
        );
        assert_eq!(words(&State::Done), None);
        assert_eq!(words(&State::Running), None);
    }
}
