//! Training and evaluating the SET-MLP: one Adam step per minibatch, a fresh shuffle
//! every epoch, the learning-rate schedule of the config, and the topology evolution
//! after each epoch.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use manifold_data::ImageSet;
use manifold_sparse::{SparseAutodiffBackend, SparseBackend};
use manifold_train::{argmax_rows, batch_tensor, interrupted, labels_tensor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::config::{ComputePath, SetConfig};
use crate::evolve::evolve;
use crate::model::SetMlp;
use crate::optim::{adam_step, SparseAdam};

/// Test-set numbers: accuracy in `[0, 1]` and mean cross-entropy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub loss: f64,
}

/// Where training stands: the epoch in progress and the next minibatch within it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Progress {
    pub epoch: usize,
    pub batch: usize,
    pub step: usize,
    pub wall_seconds: f64,
}

/// The sample order of `epoch`, fixed by the seed (a resumed run sees the same order).
pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(
        seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rng);
    idx
}

/// What one call of [`train_epoch`] did.
pub struct EpochResult<B: AutodiffBackend> {
    pub model: SetMlp<B>,
    pub mean_loss: f64,
    pub next_batch: usize,
    pub interrupted: bool,
}

/// Runs epoch `progress.epoch` from minibatch `progress.batch` to its end (or Ctrl-C);
/// `tick` is called after every minibatch. No evolution here: see [`end_of_epoch`].
pub fn train_epoch<B: SparseAutodiffBackend>(
    mut model: SetMlp<B>,
    state: &mut SparseAdam<B::InnerBackend>,
    config: &SetConfig,
    set: &ImageSet,
    progress: Progress,
    device: &B::Device,
    mut tick: impl FnMut(),
) -> EpochResult<B> {
    let order = epoch_order(config.seed, progress.epoch, set.len());
    let batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
    let lr = config.lr_at(progress.epoch);
    let mut loss_sum: Option<Tensor<B::InnerBackend, 1>> = None;
    let (mut ran, mut next, mut stopped) = (0usize, progress.batch, false);
    for (b, idx) in batches.iter().enumerate().skip(progress.batch) {
        let (x, y) = set.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), set.dim(), device);
        let loss = model.loss(x, labels_tensor::<B>(&y, device), config.path);
        let value = loss.clone().inner();
        loss_sum = Some(match loss_sum {
            Some(s) => s + value,
            None => value,
        });
        let grads = loss.backward();
        model = adam_step(model, state, &grads, lr, config);
        ran += 1;
        next = b + 1;
        tick();
        if interrupted() {
            stopped = next < batches.len();
            break;
        }
    }
    let mean_loss = loss_sum
        .map(|s| s.into_scalar().elem::<f64>() / ran as f64)
        .unwrap_or(f64::NAN);
    EpochResult {
        model,
        mean_loss,
        next_batch: next,
        interrupted: stopped,
    }
}

/// The evolution after a finished epoch (when the config asks for one).
pub fn end_of_epoch<B: SparseAutodiffBackend>(
    model: SetMlp<B>,
    state: &mut SparseAdam<B::InnerBackend>,
    config: &SetConfig,
    epoch: usize,
) -> SetMlp<B> {
    if config.evolves_after(epoch) {
        evolve(model, state, config, epoch).0
    } else {
        model
    }
}

/// Accuracy and mean cross-entropy on a whole image set.
pub fn evaluate<B: SparseBackend>(
    model: &SetMlp<B>,
    set: &ImageSet,
    path: ComputePath,
    device: &B::Device,
) -> Evaluation {
    let mut loss_sum = 0.0;
    let mut predictions = Vec::with_capacity(set.len());
    let all: Vec<usize> = (0..set.len()).collect();
    for idx in all.chunks(1000) {
        let (x, y) = set.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), set.dim(), device);
        let logits = model.forward(x, path);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(device)
            .forward(logits.clone(), labels_tensor::<B>(&y, device));
        loss_sum += loss.into_scalar().elem::<f64>() * idx.len() as f64;
        predictions.extend(argmax_rows(logits));
    }
    Evaluation {
        accuracy: manifold_train::accuracy(&predictions, set.labels()),
        loss: loss_sum / set.len().max(1) as f64,
    }
}

/// Trains a fresh model for `config.epochs` epochs (with evolution) without recording;
/// `after_epoch(epoch, model)` sees the model after each epoch's evolution.
pub fn fit<B: SparseAutodiffBackend>(
    config: &SetConfig,
    train: &ImageSet,
    device: &B::Device,
    mut after_epoch: impl FnMut(usize, &SetMlp<B>),
) -> SetMlp<B> {
    B::seed(device, config.seed);
    let mut model = SetMlp::new(config, device);
    let mut state = SparseAdam::new(&model, device);
    let train = if config.train_limit > 0 {
        train.take(config.train_limit)
    } else {
        train.clone()
    };
    for epoch in 0..config.epochs {
        let progress = Progress {
            epoch,
            ..Default::default()
        };
        model = train_epoch(model, &mut state, config, &train, progress, device, || {}).model;
        model = end_of_epoch(model, &mut state, config, epoch);
        after_epoch(epoch, &model);
    }
    model
}

/// The inference copy of a model.
pub fn valid<B: AutodiffBackend>(model: &SetMlp<B>) -> SetMlp<B::InnerBackend> {
    model.valid()
}
