//! MNIST-format image sets (MNIST, Fashion-MNIST): the four IDX files of a directory.

use std::path::{Path, PathBuf};

use burn_dataset::Dataset;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::idx::{read_idx_images, read_idx_labels, DataError};

/// Number of classes of MNIST and Fashion-MNIST.
pub const CLASSES: usize = 10;

/// One image with its label, as a [`Dataset`] item. Pixels in `[0, 1]`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageItem {
    /// The `rows × cols` pixels, row-major, each in `[0, 1]`.
    pub pixels: Vec<f32>,
    /// The class, `0..CLASSES`.
    pub label: u8,
}

/// A labelled image set held in memory: `len × rows × cols` pixels scaled to `[0, 1]`.
#[derive(Debug, Clone)]
pub struct ImageSet {
    pixels: Vec<f32>,
    labels: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl ImageSet {
    /// Builds a set from scaled pixels and labels; panics on inconsistent sizes
    /// (a programming error: files are validated in [`ImageSet::from_idx_files`]).
    pub fn new(pixels: Vec<f32>, labels: Vec<u8>, rows: usize, cols: usize) -> Self {
        assert_eq!(
            pixels.len(),
            labels.len() * rows * cols,
            "pixels and labels disagree"
        );
        Self {
            pixels,
            labels,
            rows,
            cols,
        }
    }

    /// Reads an images file and a labels file and checks that they agree.
    pub fn from_idx_files(images: &Path, labels: &Path) -> Result<Self, DataError> {
        let (count, rows, cols, raw) = read_idx_images(images)?;
        if (rows, cols) != (28, 28) {
            return Err(DataError::new(
                images,
                format!("wrong image size {rows}×{cols} (expected 28×28)"),
            ));
        }
        let labels_v = read_idx_labels(labels, CLASSES as u8)?;
        if labels_v.len() != count {
            return Err(DataError::new(
                labels,
                format!(
                    "holds {} labels but {} holds {count} images",
                    labels_v.len(),
                    images.display()
                ),
            ));
        }
        let pixels = raw.iter().map(|&p| p as f32 / 255.0).collect();
        Ok(Self::new(pixels, labels_v, rows, cols))
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Pixels per image (`rows × cols`).
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }
    /// Rows (height) of every image, in pixels.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns (width) of every image, in pixels.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// All pixels, image after image.
    pub fn pixels(&self) -> &[f32] {
        &self.pixels
    }
    /// All labels, one per image, in image order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }
    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.pixels[i * self.dim()..(i + 1) * self.dim()]
    }

    /// The first `n` images (all of them when `n >= len`).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Self::new(
            self.pixels[..n * self.dim()].to_vec(),
            self.labels[..n].to_vec(),
            self.rows,
            self.cols,
        )
    }

    /// The first `n` images, or all of them when `n` is 0 (the configs' `train_limit`).
    pub fn limited(&self, n: usize) -> Self {
        match n {
            0 => self.clone(),
            n => self.take(n),
        }
    }

    /// Gathers the images at `indices` into one row-major buffer, with their labels.
    pub fn gather(&self, indices: &[usize]) -> (Vec<f32>, Vec<u8>) {
        let d = self.dim();
        let mut x = Vec::with_capacity(indices.len() * d);
        let mut y = Vec::with_capacity(indices.len());
        for &i in indices {
            x.extend_from_slice(self.image(i));
            y.push(self.labels[i]);
        }
        (x, y)
    }

    /// A fresh random permutation of `0..len` (one epoch's order).
    pub fn shuffled_indices<R: Rng>(&self, rng: &mut R) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(rng);
        idx
    }
}

impl Dataset<ImageItem> for ImageSet {
    fn get(&self, index: usize) -> Option<ImageItem> {
        (index < self.len()).then(|| ImageItem {
            pixels: self.image(index).to_vec(),
            label: self.labels[index],
        })
    }
    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// The train and test sets of one MNIST-format directory.
#[derive(Debug, Clone)]
pub struct Mnist {
    /// The training set (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`).
    pub train: ImageSet,
    /// The test set (`t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`).
    pub test: ImageSet,
}

/// Environment variable naming the MNIST directory when `--data-dir` is not given.
pub const MNIST_DIR_ENV: &str = "MNIST_DIR";

/// The MNIST files shipped with the repository: `assets/mnist` of the checkout this crate
/// was built from, or, when that path is gone (a checkout moved after its build, or a
/// build shared between checkouts), of the checkout around the working directory.
pub fn shipped_mnist_dir() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/mnist");
    match std::env::current_dir() {
        Ok(cwd) => shipped_in(&built, &cwd),
        Err(_) => built,
    }
}

/// `built` when it is a directory, else the first `assets/mnist` directory in `cwd` or
/// one of its ancestors, else `built` (whose absence the loader then reports).
fn shipped_in(built: &Path, cwd: &Path) -> PathBuf {
    if built.is_dir() {
        return built.to_path_buf();
    }
    cwd.ancestors()
        .map(|dir| dir.join("assets/mnist"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| built.to_path_buf())
}

/// Picks the data directory: the explicit one, else `$MNIST_DIR`, else the shipped copy.
pub fn resolve_data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    match std::env::var_os(MNIST_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => shipped_mnist_dir(),
    }
}

/// Finds `stem` in `dir` under its usual spellings (`.gz` or not, `-idx` or `.idx`).
fn find_file(dir: &Path, stem: &str) -> Result<PathBuf, DataError> {
    if !dir.is_dir() {
        return Err(DataError::new(dir, "data directory not found"));
    }
    let dotted = stem.replacen("-idx", ".idx", 1);
    for name in [stem.to_string(), dotted] {
        for candidate in [dir.join(format!("{name}.gz")), dir.join(&name)] {
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(DataError::new(
        dir.join(format!("{stem}.gz")),
        format!("file not found (nor {stem} uncompressed)"),
    ))
}

impl Mnist {
    /// Loads the four IDX files of `dir` (MNIST or Fashion-MNIST).
    pub fn load(dir: &Path) -> Result<Self, DataError> {
        let f = |stem: &str| find_file(dir, stem);
        let train = ImageSet::from_idx_files(
            &f("train-images-idx3-ubyte")?,
            &f("train-labels-idx1-ubyte")?,
        )?;
        let test =
            ImageSet::from_idx_files(&f("t10k-images-idx3-ubyte")?, &f("t10k-labels-idx1-ubyte")?)?;
        Ok(Self { train, test })
    }

    /// Loads from `--data-dir`, `$MNIST_DIR` or the shipped copy, in that order.
    pub fn load_default(explicit: Option<&Path>) -> Result<Self, DataError> {
        Self::load(&resolve_data_dir(explicit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_checkout_finds_its_shipped_mnist_from_the_working_directory() {
        let t = tempfile::tempdir().unwrap();
        let checkout = t.path().join("checkout");
        std::fs::create_dir_all(checkout.join("assets/mnist")).unwrap();
        std::fs::create_dir_all(checkout.join("crates/deep")).unwrap();
        let gone = t.path().join("old-place/assets/mnist");
        // The built path is used while it exists.
        assert_eq!(
            shipped_in(&checkout.join("assets/mnist"), t.path()),
            checkout.join("assets/mnist")
        );
        // Gone: found from a working directory inside the checkout.
        assert_eq!(
            shipped_in(&gone, &checkout.join("crates/deep")),
            checkout.join("assets/mnist")
        );
        // Gone and not found: the built path, for the loader's error to name.
        assert_eq!(shipped_in(&gone, t.path()), gone);
    }
}
