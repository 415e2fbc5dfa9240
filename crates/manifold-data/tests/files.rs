//! Reading MNIST-format files: the shipped data, and every kind of bad input, each
//! rejected with a one-line message naming the file and the problem.

use std::path::Path;

use manifold_data::idx::write_idx;
use manifold_data::{Dataset, Mnist};

/// Writes a complete, valid 3-image MNIST-format directory (gzipped or not).
fn write_valid(dir: &Path, gzip: bool) {
    let ext = if gzip { ".gz" } else { "" };
    let images: Vec<u8> = (0..3 * 784).map(|i| (i % 256) as u8).collect();
    for prefix in ["train", "t10k"] {
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
            &[3, 28, 28],
            &images,
            gzip,
        )
        .unwrap();
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")),
            &[3],
            &[0, 9, 4],
            gzip,
        )
        .unwrap();
    }
}

fn error_of(dir: &Path) -> String {
    let e = Mnist::load(dir).expect_err("load should fail").to_string();
    assert!(!e.contains('\n'), "error must be one line: {e}");
    e
}

#[test]
fn small_valid_files_load_gzipped_or_not() {
    for gzip in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        write_valid(dir.path(), gzip);
        let m = Mnist::load(dir.path()).unwrap();
        assert_eq!(m.train.len(), 3);
        assert_eq!(m.test.labels(), &[0, 9, 4]);
        // Pixel k of the data is (k mod 256) / 255.
        assert_eq!(m.train.image(1)[0], (784 % 256) as f32 / 255.0);
        let item = m.train.get(2).unwrap();
        assert_eq!((item.pixels.len(), item.label), (784, 4));
        assert!(m.train.get(3).is_none());
    }
}

#[test]
fn shipped_mnist_has_the_published_shape() {
    let m = Mnist::load(&manifold_data::shipped_mnist_dir()).unwrap();
    assert_eq!(
        (m.train.len(), m.test.len(), m.train.dim()),
        (60_000, 10_000, 784)
    );
    // The first training label of MNIST is 5, the first test label 7.
    assert_eq!((m.train.labels()[0], m.test.labels()[0]), (5, 7));
    let max = m.train.pixels().iter().cloned().fold(0f32, f32::max);
    let min = m.train.pixels().iter().cloned().fold(1f32, f32::min);
    assert_eq!((min, max), (0.0, 1.0));
    let mut counts = [0usize; 10];
    m.test
        .labels()
        .iter()
        .for_each(|&l| counts[l as usize] += 1);
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
}

#[test]
fn missing_directory_and_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = error_of(&dir.path().join("nowhere"));
    assert!(e.ends_with("nowhere: data directory not found"), "{e}");
    write_valid(dir.path(), true);
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("t10k-labels-idx1-ubyte.gz: file not found"),
        "{e}"
    );
}

#[test]
fn wrong_magic_number_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    // A labels file where an images file belongs.
    write_idx(
        &dir.path().join("train-images-idx3-ubyte"),
        &[3],
        &[1, 2, 3],
        false,
    )
    .unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("train-images-idx3-ubyte: wrong magic number 0x00000801"),
        "{e}"
    );
}

#[test]
fn truncated_data_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    let path = dir.path().join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("train-images-idx3-ubyte: truncated data: header promises 2352 bytes"),
        "{e}"
    );
    std::fs::write(&path, &bytes[..10]).unwrap();
    assert!(error_of(dir.path()).contains("truncated: incomplete IDX header"));
}

#[test]
fn corrupt_gzip_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), true);
    let path = dir.path().join("t10k-images-idx3-ubyte.gz");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&path, bytes).unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte.gz: corrupt gzip data"),
        "{e}"
    );
}

#[test]
fn count_mismatch_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    write_idx(
        &dir.path().join("train-labels-idx1-ubyte"),
        &[2],
        &[1, 2],
        false,
    )
    .unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("train-labels-idx1-ubyte: holds 2 labels but"),
        "{e}"
    );
    assert!(e.contains("holds 3 images"), "{e}");
}

#[test]
fn wrong_image_size_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    write_idx(
        &dir.path().join("t10k-images-idx3-ubyte"),
        &[3, 20, 20],
        &[0; 1200],
        false,
    )
    .unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("t10k-images-idx3-ubyte: wrong image size 20×20 (expected 28×28)"),
        "{e}"
    );
}

#[test]
fn label_out_of_range_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    write_idx(
        &dir.path().join("t10k-labels-idx1-ubyte"),
        &[3],
        &[1, 10, 2],
        false,
    )
    .unwrap();
    let e = error_of(dir.path());
    assert!(
        e.contains("t10k-labels-idx1-ubyte: label 10 at index 1 is outside 0..9"),
        "{e}"
    );
}

#[test]
fn trailing_bytes_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    write_idx(
        &dir.path().join("train-labels-idx1-ubyte"),
        &[3],
        &[1, 2, 3, 4],
        false,
    )
    .unwrap();
    let e = error_of(dir.path());
    assert!(e.contains("1 unexpected trailing bytes"), "{e}");
}

#[test]
fn write_idx_names_the_file_it_cannot_write_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    write_valid(dir.path(), false);
    let path = dir.path().join("train-labels-idx1-ubyte");
    let old = std::fs::read(&path).unwrap();
    let missing = dir.path().join("missing/train-labels-idx1-ubyte");
    let e = write_idx(&missing, &[3], &[1, 2, 3], true).unwrap_err();
    assert_eq!(e.path, missing);
    assert!(
        e.to_string()
            .ends_with("missing/train-labels-idx1-ubyte: cannot write (no such file or directory)"),
        "{e}"
    );
    // Over a directory: the rename fails; the old file beside it is untouched.
    std::fs::create_dir(dir.path().join("d")).unwrap();
    assert!(write_idx(&dir.path().join("d"), &[1], &[7], false).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), old);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        5,
        "the four data files and d, no temporary file"
    );
}
