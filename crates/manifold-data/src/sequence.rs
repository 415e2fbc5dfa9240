//! Sequence tasks: inputs of `steps` time steps of `features` numbers each, one target
//! per sequence, read after the last step ([`SequenceTask`]).
//!
//! - **Row-sequential MNIST** ([`SequenceTask::RowMnist`]): an image read as its 28 rows,
//!   one 28-pixel row per time step, its class the target. The pixels stay row-major,
//!   so a minibatch is [`ImageSet::gather`]'s buffer read as `[n, rows, cols]`.
//! - **The adding problem** ([`SequenceTask::Adding`], [`crate::adding`]): fresh
//!   sequences every training step, drawn from the run's seed and the step (a resumed
//!   run sees what an uninterrupted one would), and a fixed test set of
//!   [`ADDING_TEST_SIZE`] sequences of the same length.
//!
//! ```
//! use manifold_data::SequenceTask;
//!
//! assert_eq!(SequenceTask::RowMnist.shape(), (28, 28, 10));
//! let adding = SequenceTask::Adding { length: 100 };
//! assert_eq!(adding.shape(), (100, 2, 1));
//! let (x, y) = adding.adding_train_batch(7, 0, 32);
//! assert_eq!((x.len(), y.len()), (32 * 100 * 2, 32));
//! ```

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::adding::{adding_batch, ADDING_FEATURES};
use crate::mnist::{ImageSet, CLASSES};

/// Sequences in the adding problem's fixed test set.
pub const ADDING_TEST_SIZE: usize = 10_000;
/// Seed of that test set (no training batch is drawn from it: training seeds mix in
/// the step, see [`SequenceTask::adding_train_batch`]).
pub const ADDING_TEST_SEED: u64 = 0xADD_7E57;

/// A sequence task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceTask {
    /// MNIST, one image row per time step, the class after the last row.
    RowMnist,
    /// The adding problem with sequences of `length` steps; MSE on the sum.
    Adding {
        /// Time steps T per sequence (at least 2).
        length: usize,
    },
}

impl SequenceTask {
    /// `(steps, features, outputs)`: time steps per sequence, numbers per step, and
    /// the model's outputs (classes, or the one regression target).
    pub fn shape(&self) -> (usize, usize, usize) {
        match *self {
            SequenceTask::RowMnist => (28, 28, CLASSES),
            SequenceTask::Adding { length } => (length, ADDING_FEATURES, 1),
        }
    }

    /// The adding problem's training minibatch `step` of `n` sequences: inputs
    /// `[n, length, 2]` and targets `[n]`, a function of `(seed, step)` alone.
    /// For [`SequenceTask::RowMnist`] (which has no generated data) it is empty.
    pub fn adding_train_batch(&self, seed: u64, step: usize, n: usize) -> (Vec<f32>, Vec<f32>) {
        match *self {
            SequenceTask::Adding { length } => {
                let mixed =
                    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (step as u64).wrapping_add(1);
                let mut rng = rand::rngs::StdRng::seed_from_u64(mixed);
                adding_batch(&mut rng, n, length)
            }
            SequenceTask::RowMnist => (Vec::new(), Vec::new()),
        }
    }

    /// The adding problem's fixed test set: [`ADDING_TEST_SIZE`] sequences from
    /// [`ADDING_TEST_SEED`]. Empty for [`SequenceTask::RowMnist`].
    pub fn adding_test_set(&self) -> (Vec<f32>, Vec<f32>) {
        match *self {
            SequenceTask::Adding { length } => {
                let mut rng = rand::rngs::StdRng::seed_from_u64(ADDING_TEST_SEED);
                adding_batch(&mut rng, ADDING_TEST_SIZE, length)
            }
            SequenceTask::RowMnist => (Vec::new(), Vec::new()),
        }
    }
}

/// The images at `idx` as row sequences: `[n, rows, cols]` row-major (time step `t` of
/// sequence `s` is row `t` of image `idx[s]`), with their labels.
pub fn row_sequences(set: &ImageSet, idx: &[usize]) -> (Vec<f32>, Vec<u8>) {
    set.gather(idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Time step `t` of a row sequence is row `t` of its image.
    #[test]
    fn a_row_sequence_steps_through_the_image_rows() {
        let (rows, cols) = (28, 28);
        let pixels: Vec<f32> = (0..3 * rows * cols).map(|k| k as f32).collect();
        let set = ImageSet::new(pixels, vec![4, 7, 1], rows, cols);
        let (x, y) = row_sequences(&set, &[2, 0]);
        assert_eq!(y, vec![1, 4]);
        let (steps, features, _) = SequenceTask::RowMnist.shape();
        for t in 0..steps {
            let step = &x[t * features..(t + 1) * features];
            let row = &set.image(2)[t * cols..(t + 1) * cols];
            assert_eq!(step, row);
        }
    }

    /// Training batches depend on the seed and the step alone, differ between steps and
    /// seeds, and never equal the test set's first sequences; the test set is fixed.
    #[test]
    fn adding_batches_are_a_function_of_seed_and_step_and_the_test_set_is_fixed() {
        let task = SequenceTask::Adding { length: 50 };
        let a = task.adding_train_batch(1, 5, 16);
        assert_eq!(task.adding_train_batch(1, 5, 16), a);
        assert_ne!(task.adding_train_batch(1, 6, 16), a);
        assert_ne!(task.adding_train_batch(2, 5, 16), a);
        let (tx, ty) = task.adding_test_set();
        assert_eq!(
            (tx.len(), ty.len()),
            (ADDING_TEST_SIZE * 50 * 2, ADDING_TEST_SIZE)
        );
        assert_eq!(task.adding_test_set(), (tx.clone(), ty));
        for step in 0..20 {
            let (x, _) = task.adding_train_batch(0, step, 1);
            assert_ne!(x[..], tx[..100]);
        }
        assert_eq!(
            SequenceTask::RowMnist.adding_train_batch(0, 0, 4),
            (vec![], vec![])
        );
    }

    /// The names a config file uses.
    #[test]
    fn tasks_read_from_toml() {
        #[derive(Deserialize)]
        struct File {
            task: SequenceTask,
        }
        let read = |s: &str| toml::from_str::<File>(s).map(|f| f.task);
        assert_eq!(
            read("task = \"row-mnist\"").unwrap(),
            SequenceTask::RowMnist
        );
        assert_eq!(
            read("task = { adding = { length = 100 } }").unwrap(),
            SequenceTask::Adding { length: 100 }
        );
        assert!(read("task = \"adding\"").is_err());
    }
}
