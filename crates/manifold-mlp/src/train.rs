//! Training and evaluating the MLP: Adam whose moments persist across minibatches and
//! epochs, one update per minibatch, a fresh shuffle every epoch.

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use manifold_data::ImageSet;
use manifold_train::{
    argmax_rows, batch_tensor, interrupted, labels_tensor, AdamParams, FusedAdam,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::config::MlpConfig;
use crate::model::Mlp;

/// Test-set numbers: accuracy in `[0, 1]` and mean cross-entropy ("cost").
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

/// The Adam optimiser of the config: one fused update over all parameters, moments
/// persisting for as long as the value lives (and through checkpoints).
pub fn adam<B: AutodiffBackend>(config: &MlpConfig) -> FusedAdam<B> {
    FusedAdam::new(AdamParams {
        beta1: config.beta1,
        beta2: config.beta2,
        epsilon: config.epsilon,
    })
}

/// The order of epoch `epoch`'s samples: a permutation fixed by the seed and the epoch,
/// so a resumed run sees exactly the order an uninterrupted one would.
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
    pub model: Mlp<B>,
    /// Mean training loss over the minibatches run in this call.
    pub mean_loss: f64,
    /// The next minibatch index (= the number of batches when the epoch finished).
    pub next_batch: usize,
    /// True when Ctrl-C stopped the epoch early.
    pub interrupted: bool,
}

/// Runs epoch `progress.epoch` from minibatch `progress.batch` to its end (or to Ctrl-C).
/// `tick` is called after every minibatch.
pub fn train_epoch<B: AutodiffBackend>(
    mut model: Mlp<B>,
    optim: &mut FusedAdam<B>,
    config: &MlpConfig,
    set: &ImageSet,
    progress: Progress,
    device: &B::Device,
    mut tick: impl FnMut(),
) -> EpochResult<B> {
    let order = epoch_order(config.seed, progress.epoch, set.len());
    let batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
    let mut loss_sum: Option<Tensor<B::InnerBackend, 1>> = None;
    let mut ran = 0usize;
    let mut stopped = false;
    let mut next = progress.batch;
    for (b, idx) in batches.iter().enumerate().skip(progress.batch) {
        let (x, y) = set.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), set.dim(), device);
        let loss = model.loss(x, labels_tensor::<B>(&y, device));
        let value = loss.clone().inner();
        loss_sum = Some(match loss_sum {
            Some(s) => s + value,
            None => value,
        });
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.learning_rate, model, grads);
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

use burn::tensor::ElementConversion;

/// Accuracy and mean cross-entropy of the model on a whole image set.
pub fn evaluate<B: Backend>(model: &Mlp<B>, set: &ImageSet, device: &B::Device) -> Evaluation {
    let chunk = 2000;
    let mut loss_sum = 0.0;
    let mut predictions = Vec::with_capacity(set.len());
    let all: Vec<usize> = (0..set.len()).collect();
    for idx in all.chunks(chunk) {
        let (x, y) = set.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), set.dim(), device);
        let logits = model.forward(x);
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

/// Trains a fresh (or given) model for `config.epochs` epochs without any recording:
/// what the tuner and the tests use. Returns the model and its test evaluation.
pub fn fit<B: AutodiffBackend>(
    config: &MlpConfig,
    train: &ImageSet,
    test: &ImageSet,
    device: &B::Device,
    init: Option<Mlp<B>>,
) -> (Mlp<B>, Evaluation) {
    let mut model = init.unwrap_or_else(|| Mlp::new(config, device));
    let mut optim = adam::<B>(config);
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
        model = train_epoch(model, &mut optim, config, &train, progress, device, || {}).model;
    }
    let eval = evaluate(&model.valid(), test, device);
    (model, eval)
}
