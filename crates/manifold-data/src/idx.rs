//! The IDX file format of MNIST (and Fashion-MNIST), gzipped or not.
//!
//! An IDX file is a big-endian header — two zero bytes, a type byte (`0x08` = u8),
//! the number of dimensions `d` — then `d` big-endian u32 sizes, then the data.
//! Images are `idx3` (count × rows × cols), labels `idx1` (count).

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// An error reading a data file: always names the file and the problem, on one line.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct DataError {
    /// The file (or directory) at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl DataError {
    /// An error about the file at `path`, described by `problem`.
    pub fn new(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            problem: problem.into(),
        }
    }
}

/// Magic number of an IDX file of unsigned bytes with `dims` dimensions.
pub const fn idx_magic(dims: u8) -> u32 {
    0x0000_0800 | dims as u32
}

/// Reads a whole file, transparently gunzipping it when it starts with the gzip magic.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::new(path, describe_io(&e)))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::new(path, format!("corrupt gzip data ({e})")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "file not found".to_string(),
        std::io::ErrorKind::IsADirectory => "a directory, not a data file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot read ({e})"),
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Parses an IDX header with `dims` dimensions and checks the payload length.
/// Returns the sizes and the payload.
fn parse_idx<'a>(
    path: &Path,
    bytes: &'a [u8],
    dims: u8,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let header = 4 + 4 * dims as usize;
    if bytes.len() < 4 {
        return Err(DataError::new(
            path,
            "truncated: shorter than an IDX header",
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != idx_magic(dims) {
        return Err(DataError::new(
            path,
            format!(
                "wrong magic number 0x{magic:08x} (expected 0x{:08x}, an idx{dims}-ubyte file)",
                idx_magic(dims)
            ),
        ));
    }
    if bytes.len() < header {
        return Err(DataError::new(path, "truncated: incomplete IDX header"));
    }
    let sizes: Vec<usize> = (0..dims as usize)
        .map(|d| be_u32(bytes, 4 + 4 * d) as usize)
        .collect();
    let expected = sizes
        .iter()
        .try_fold(1usize, |n, &s| n.checked_mul(s))
        .ok_or_else(|| DataError::new(path, format!("header sizes {sizes:?} overflow")))?;
    let payload = &bytes[header..];
    if payload.len() < expected {
        return Err(DataError::new(
            path,
            format!(
                "truncated data: header promises {expected} bytes of data, file holds {}",
                payload.len()
            ),
        ));
    }
    if payload.len() > expected {
        return Err(DataError::new(
            path,
            format!(
                "{} unexpected trailing bytes after the {expected} bytes of data",
                payload.len() - expected
            ),
        ));
    }
    Ok((sizes, payload))
}

/// Raw images of an `idx3-ubyte` file: `(count, rows, cols, pixels)`.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>), DataError> {
    let bytes = read_maybe_gz(path)?;
    let (sizes, payload) = parse_idx(path, &bytes, 3)?;
    Ok((sizes[0], sizes[1], sizes[2], payload.to_vec()))
}

/// Labels of an `idx1-ubyte` file, each checked to lie in `0..classes`.
pub fn read_idx_labels(path: &Path, classes: u8) -> Result<Vec<u8>, DataError> {
    let bytes = read_maybe_gz(path)?;
    let (_, payload) = parse_idx(path, &bytes, 1)?;
    if let Some((i, &l)) = payload.iter().enumerate().find(|(_, &l)| l >= classes) {
        return Err(DataError::new(
            path,
            format!("label {l} at index {i} is outside 0..{}", classes - 1),
        ));
    }
    Ok(payload.to_vec())
}

/// Writes an IDX file (used by tests and tools): magic, sizes, data, gzipped if asked;
/// atomically ([`manifold_io::write_atomic`]), so a failed write leaves no half file.
pub fn write_idx(path: &Path, sizes: &[u32], data: &[u8], gzip: bool) -> Result<(), DataError> {
    let mut bytes = idx_magic(sizes.len() as u8).to_be_bytes().to_vec();
    for s in sizes {
        bytes.extend_from_slice(&s.to_be_bytes());
    }
    bytes.extend_from_slice(data);
    if gzip {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        bytes = enc
            .write_all(&bytes)
            .and_then(|()| enc.finish())
            .map_err(|e| {
                let problem = format!("cannot compress ({})", manifold_io::in_words(&e));
                DataError::new(path, problem)
            })?;
    }
    manifold_io::write_atomic(path, &bytes)?;
    Ok(())
}

impl From<manifold_io::IoError> for DataError {
    fn from(e: manifold_io::IoError) -> Self {
        Self::new(e.path, e.problem)
    }
}
