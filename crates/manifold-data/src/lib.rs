//! Datasets of manifold: MNIST-format IDX files (gzipped or not) and the DNM toy task.
//!
//! Every error names the file and the problem on one line ([`DataError`]).

pub mod idx;
pub mod mnist;
pub mod toy;

pub use burn_dataset::Dataset;
pub use idx::DataError;
pub use mnist::{
    resolve_data_dir, shipped_mnist_dir, ImageItem, ImageSet, Mnist, CLASSES, MNIST_DIR_ENV,
};
pub use toy::{toy_batch, toy_targets, TOY_INPUTS, TOY_OUTPUTS};
