//! [`RunLock`]: a run directory belongs to one process at a time.
//!
//! The lock is an advisory `flock` on `DIR/run.lock`, taken before anything in the
//! directory is read or written and held until the process ends. The OS releases it
//! when its holder dies, however it dies, so a stale lock (a killed run) never blocks:
//! the file stays, its lock does not. The holder writes its PID into the file (and
//! clears it when it lets go), so a refused process can say who holds the directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::TrainError;

/// The lock file inside a run directory.
pub const LOCK_FILE: &str = "run.lock";

/// The held lock of a run directory; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunLock {
    dir: PathBuf,
    file: File,
}

impl RunLock {
    /// Locks the existing directory `dir`, or refuses with an error naming it and the
    /// holder's PID when another process holds it. Never waits.
    pub fn acquire(dir: &Path) -> Result<Self, TrainError> {
        if !dir.is_dir() {
            let what = if dir.exists() {
                "not a directory"
            } else {
                "no such directory"
            };
            return Err(TrainError::new(dir, what));
        }
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| TrainError::io(&path, "cannot open the lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("process {pid}"),
                    Err(_) => "another process".to_string(),
                };
                return Err(TrainError::new(
                    dir,
                    format!(
                        "in use by {holder} (a manifold run or report holds {LOCK_FILE}); wait for it to end, or stop it: nothing was changed"
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(TrainError::io(&path, "cannot lock", e));
            }
        }
        // The holder's PID, for the message of a refused process (best effort: the lock,
        // not this text, is what excludes).
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(Self {
            dir: dir.to_path_buf(),
            file,
        })
    }

    /// Locks the existing run directory `dir` (one with `config.toml`); anything else is
    /// refused before a lock file is made in it.
    pub fn acquire_run(dir: &Path) -> Result<Self, TrainError> {
        if !dir.exists() {
            return Err(TrainError::new(dir, "no such directory"));
        }
        if !dir.join("config.toml").is_file() {
            return Err(TrainError::new(dir, "not a run directory (no config.toml)"));
        }
        Self::acquire(dir)
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for RunLock {
    /// Clears the PID before the lock goes, so that a directory nobody holds carries an
    /// empty lock file (a killed holder's PID stays, and means nothing once unlocked).
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_pid_until_the_first_lets_go() {
        let tmp = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(tmp.path()).unwrap();
        let err = RunLock::acquire(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("in use by process {}", std::process::id())),
            "{err}"
        );
        assert_eq!(first.dir(), tmp.path());
        drop(first);
        RunLock::acquire(tmp.path()).unwrap();
        let missing = RunLock::acquire(&tmp.path().join("missing")).unwrap_err();
        assert!(
            missing.to_string().ends_with("no such directory"),
            "{missing}"
        );
    }
}
