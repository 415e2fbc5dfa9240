//! What the learners that count epochs share: the shuffled minibatches of an epoch
//! ([`Minibatches`]) and the epoch's running training loss ([`EpochLoss`]).

use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

use crate::{epoch_order, Position};

/// `n` samples in minibatches of `batch_size`, in the order of [`epoch_order`]; the
/// current epoch's permutation is kept between calls.
///
/// ```
/// use manifold_train::{epoch::Minibatches, Position};
/// let mut batches = Minibatches::new(7, 10, 4);
/// assert_eq!(batches.per_epoch(), 3);
/// let mut seen: Vec<usize> = (0..3)
///     .flat_map(|batch| batches.indices(&Position { batch, ..Position::default() }).to_vec())
///     .collect();
/// seen.sort_unstable();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// ```
#[derive(Debug, Clone)]
pub struct Minibatches {
    seed: u64,
    n: usize,
    batch_size: usize,
    /// The epoch whose permutation `order` holds.
    order: Option<(usize, Vec<usize>)>,
}

impl Minibatches {
    /// The minibatches of `n` samples shuffled by `seed`.
    pub fn new(seed: u64, n: usize, batch_size: usize) -> Self {
        Self {
            seed,
            n,
            batch_size: batch_size.max(1),
            order: None,
        }
    }

    /// Minibatches per epoch (the last one may be short).
    pub fn per_epoch(&self) -> usize {
        self.n.div_ceil(self.batch_size)
    }

    /// The sample indices of minibatch `at.batch` of epoch `at.epoch`.
    pub fn indices(&mut self, at: &Position) -> &[usize] {
        if self.order.as_ref().map(|(e, _)| *e) != Some(at.epoch) {
            self.order = Some((at.epoch, epoch_order(self.seed, at.epoch, self.n)));
        }
        let order = &self.order.as_ref().expect("just filled").1;
        let start = (at.batch * self.batch_size).min(self.n);
        &order[start..(start + self.batch_size).min(self.n)]
    }
}

/// The training loss summed over the current epoch's minibatches, kept as an f32
/// accumulator on the device (read when a row is written, not after every step). A
/// checkpoint inside an epoch carries the sum ([`Position::epoch_loss_sum`]), so the
/// resumed epoch's mean is an uninterrupted one's to the bit.
#[derive(Debug, Clone)]
pub struct EpochLoss<B: Backend> {
    sum: Option<Tensor<B, 1>>,
}

impl<B: Backend> Default for EpochLoss<B> {
    fn default() -> Self {
        Self { sum: None }
    }
}

impl<B: Backend> EpochLoss<B> {
    /// Continues the sum of a checkpoint taken inside an epoch (`at.batch > 0`).
    pub fn resume(&mut self, at: &Position, device: &B::Device) {
        self.sum = (at.batch > 0).then(|| Tensor::from_floats([at.epoch_loss_sum as f32], device));
    }

    /// Adds the loss of minibatch `at.batch`; the epoch's first minibatch starts a new sum.
    pub fn add(&mut self, at: &Position, loss: Tensor<B, 1>) {
        self.sum = Some(match self.sum.take().filter(|_| at.batch > 0) {
            Some(sum) => sum + loss,
            None => loss,
        });
    }

    /// The sum so far (0 before the epoch's first minibatch).
    pub fn sum(&self) -> f64 {
        self.sum
            .clone()
            .map_or(0.0, |s| s.into_scalar().elem::<f64>())
    }

    /// The mean over the `at.batch` minibatches of the epoch done.
    pub fn mean(&self, at: &Position) -> f64 {
        self.sum() / at.batch.max(1) as f64
    }
}
