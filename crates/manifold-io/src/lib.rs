//! Files as manifold writes them: [`write_atomic`], the one way every crate of the
//! workspace writes a file (pictures, reports, configs, summaries, checkpoints), and
//! [`IoError`], an I/O failure said in words and naming its file.
//!
//! A write goes to a temporary file in the target's directory, is flushed to the disk
//! (`fsync`) and renamed over the target, so a reader (or a run killed at any instant,
//! or a full disk) never leaves half a file under the target's name: the target holds
//! either its old bytes or all of the new ones.
//!
//! ```
//! # fn main() -> Result<(), manifold_io::IoError> {
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("summary.json");
//! manifold_io::write_atomic(&path, b"{}\n")?;
//! assert_eq!(std::fs::read(&path).unwrap(), b"{}\n");
//! # Ok(())
//! # }
//! ```

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// An I/O failure on one file, said in words: `PATH: cannot write (no space left on the
/// device)`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct IoError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What failed, in words.
    pub problem: String,
}

impl IoError {
    /// `what` (for example "cannot write") failed on `path` with `e`.
    pub fn new(path: &Path, what: &str, e: &std::io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: format!("{what} ({})", in_words(e)),
        }
    }
}

/// An I/O error as a person reads it: the common causes in plain words (`no space left
/// on the device`, `permission denied`, `no such file or directory`, …), anything else
/// as the OS says it.
pub fn in_words(e: &std::io::Error) -> String {
    let words = match e.kind() {
        ErrorKind::StorageFull => "no space left on the device",
        ErrorKind::QuotaExceeded => "the disk quota is exceeded",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::NotFound => "no such file or directory",
        ErrorKind::ReadOnlyFilesystem => "the file system is read-only",
        ErrorKind::AlreadyExists => "it already exists",
        ErrorKind::NotADirectory => "a part of the path is not a directory",
        ErrorKind::IsADirectory => "it is a directory",
        ErrorKind::DirectoryNotEmpty => "the directory is not empty",
        ErrorKind::FileTooLarge => "the file is too large",
        ErrorKind::UnexpectedEof => "the file ends early",
        _ => return e.to_string(),
    };
    words.to_string()
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, written,
/// flushed to the disk and made readable by all (0644, like any file the run makes),
/// then renamed over `path`. On any failure the temporary file is removed and `path`
/// keeps its old bytes (or stays absent).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| IoError::new(path, "cannot write", &e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .and_then(|()| readable_by_all(tmp.as_file()))
        .map_err(|e| IoError::new(path, "cannot write", &e))?;
    tmp.persist(path)
        .map_err(|e| IoError::new(path, "cannot write", &e.error))?;
    Ok(())
}

/// A temporary file is private (0600); a run's files are readable by all.
#[cfg(unix)]
fn readable_by_all(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn readable_by_all(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_keeps_the_old_bytes_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic(&dir.path().join("missing/a.txt"), b"new").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("cannot write (no such file or directory)"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only a.txt is left");
    }

    #[test]
    fn storage_full_is_said_in_words() {
        let e = std::io::Error::from_raw_os_error(28); // ENOSPC on Linux
        if cfg!(target_os = "linux") {
            assert_eq!(in_words(&e), "no space left on the device");
        }
        let e = std::io::Error::other("odd");
        assert_eq!(in_words(&e), "odd");
    }
}
