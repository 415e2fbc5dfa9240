//! Datasets of manifold: MNIST-format IDX files (gzipped or not), the DNM toy task, the
//! sequence tasks (row-sequential MNIST and the adding problem) and the orders in which
//! an image's pixels become inputs.
//!
//! Every error names the file and the problem on one line ([`DataError`]).

pub mod adding;
pub mod idx;
pub mod mnist;
pub mod pixel_order;
pub mod sequence;
pub mod toy;

pub use adding::{
    adding_batch, check_curriculum_start, curriculum_length, ADDING_CONSTANT_MSE, ADDING_FEATURES,
};
pub use burn_dataset::Dataset;
pub use idx::DataError;
pub use mnist::{
    resolve_data_dir, shipped_mnist_dir, ImageItem, ImageSet, Mnist, CLASSES, MNIST_DIR_ENV,
};
pub use pixel_order::PixelOrder;
pub use sequence::{row_sequences, SequenceTask, ADDING_TEST_SEED, ADDING_TEST_SIZE};
pub use toy::{toy_batch, toy_targets, TOY_INPUTS, TOY_OUTPUTS};
