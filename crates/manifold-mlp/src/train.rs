//! Training and evaluating the MLP: Adam whose moments persist across minibatches and
//! epochs, one update per minibatch, a fresh shuffle every epoch. [`train`] is the whole
//! run (resume, metrics, checkpoints, pictures through an [`Observer`]);
//! [`train_epoch`] and [`evaluate`] are its parts, for hand-written loops.

use std::path::Path;
use std::time::{Duration, Instant};

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};
use manifold_data::{ImageSet, Mnist};
use manifold_train::{
    all_finite, argmax_rows, batch_tensor, labels_tensor, load_module, load_record, save_module,
    save_record, AdamParams, Evaluation, FusedAdam, Observer, Position, Summary, TrainError,
    Trained,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::config::MlpConfig;
use crate::model::Mlp;
use crate::pictures::{draw_curves, draw_first_layer};

/// The columns of the MLP's `metrics.csv`, one row per epoch.
pub const METRICS: [&str; 6] = [
    "epoch",
    "step",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "wall_seconds",
];

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
    /// The model after the epoch's updates.
    pub model: Mlp<B>,
    /// Mean training loss over the epoch's minibatches done (those of this call and,
    /// for a resumed epoch, those before it: see [`Position::epoch_loss_sum`]).
    pub mean_loss: f64,
    /// The sum behind `mean_loss`, carried in the checkpoint of an interrupted epoch.
    pub loss_sum: f64,
    /// The next minibatch index (= the number of batches when the epoch finished).
    pub next_batch: usize,
    /// True when the observer stopped the epoch early.
    pub interrupted: bool,
}

/// Runs epoch `at.epoch` from minibatch `at.batch` to its end, or until the observer
/// asks to stop; the observer hears a tick after every minibatch.
pub fn train_epoch<B: AutodiffBackend>(
    mut model: Mlp<B>,
    optim: &mut FusedAdam<B>,
    config: &MlpConfig,
    set: &ImageSet,
    at: Position,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> EpochResult<B> {
    let order = epoch_order(config.seed, at.epoch, set.len());
    let batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
    // A resumed epoch continues its accumulator from the checkpoint (an f32 sum, stored
    // exactly as f64), so its mean is the uninterrupted epoch's to the bit.
    let mut loss_sum: Option<Tensor<B::InnerBackend, 1>> =
        (at.batch > 0).then(|| Tensor::from_floats([at.epoch_loss_sum as f32], device));
    let mut ran = 0usize;
    let mut stopped = false;
    let mut next = at.batch;
    for (b, idx) in batches.iter().enumerate().skip(at.batch) {
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
        observer.tick(&Position {
            batch: next,
            step: at.step + ran,
            ..at
        });
        if observer.should_stop() {
            stopped = next < batches.len();
            break;
        }
    }
    let sum = loss_sum.map(|s| s.into_scalar().elem::<f64>());
    let mean_loss = sum.map_or(f64::NAN, |s| s / next as f64);
    EpochResult {
        model,
        mean_loss,
        loss_sum: sum.unwrap_or(0.0),
        next_batch: next,
        interrupted: stopped,
    }
}

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
        let loss = manifold_train::cross_entropy(logits.clone(), labels_tensor::<B>(&y, device));
        loss_sum += loss.into_scalar().elem::<f64>() * idx.len() as f64;
        predictions.extend(argmax_rows(logits));
    }
    Evaluation::classification(
        manifold_train::accuracy(&predictions, set.labels()),
        loss_sum / set.len().max(1) as f64,
    )
}

/// Trains a fresh MLP on `data.train` for `config.epochs` epochs and evaluates it on
/// `data.test`, reporting to `observer` (see [`train_from`]).
pub fn train<B: AutodiffBackend>(
    config: &MlpConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<Mlp<B>>, TrainError> {
    train_from(Mlp::new(config, device), config, data, device, observer)
}

/// Trains `model` (which fixes the shapes a resumed checkpoint must have): epochs of
/// [`train_epoch`], a test evaluation, a metrics row and a checkpoint after each. When
/// the observer resumes a run, the model and Adam's moments come from its checkpoint;
/// when it has an output directory, the final model (`model.mpk`) and the curves go there,
/// and `first_layer.png` too when it draws pictures.
pub fn train_from<B: AutodiffBackend>(
    mut model: Mlp<B>,
    config: &MlpConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<Mlp<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    let train_set = data.train.limited(config.train_limit);
    let mut optim = adam::<B>(config);
    let mut at = Position::default();
    if let Some(point) = observer.resume_point() {
        model = load_module(model, &point.dir.join("model"), device)?;
        optim = optim.load_record(load_record::<B::InnerBackend, _>(
            &point.dir.join("optim"),
            device,
        )?);
        at = point.position;
    }
    let batches = train_set.len().div_ceil(config.batch_size);
    observer.begin("mlp", &METRICS, config.epochs * batches, &at)?;
    if at.step == 0 && observer.watches_health() {
        // The untrained network's loss: the reference the divergence watch starts from.
        let initial = evaluate(&model.valid(), &data.test, device);
        observer.check_health(&at, true, Some(initial.loss))?;
    }
    let started = Instant::now() - Duration::from_secs_f64(at.wall_seconds);
    let mut last_eval = None;
    let mut stopped = false;
    while at.epoch < config.epochs {
        let result = train_epoch(model, &mut optim, config, &train_set, at, device, observer);
        model = result.model;
        at.step += result.next_batch - at.batch;
        at.wall_seconds = started.elapsed().as_secs_f64();
        if result.interrupted {
            at.batch = result.next_batch;
            at.epoch_loss_sum = result.loss_sum;
            stopped = true;
            break;
        }
        let eval = evaluate(&model.valid(), &data.test, device);
        observer.status(&eval.describe());
        observer.log(&[
            (at.epoch + 1) as f64,
            at.step as f64,
            result.mean_loss,
            eval.loss,
            eval.accuracy.unwrap_or(f64::NAN),
            at.wall_seconds,
        ])?;
        last_eval = Some(eval);
        at.epoch += 1;
        at.batch = 0;
        at.epoch_loss_sum = 0.0;
        checkpoint(observer, &model, &optim, &at, Some(eval.loss))?;
    }
    if stopped {
        checkpoint(observer, &model, &optim, &at, None)?;
    }
    observer.end();
    let evaluation = match last_eval {
        Some(e) => e,
        None => evaluate(&model.valid(), &data.test, device),
    };
    if let Some(dir) = observer.output_dir() {
        save_module(&model, &dir.join("model"))?;
        draw_curves(dir)?;
        if observer.draws_pictures() {
            draw_first_layer(&dir.join("first_layer.png"), &model)?;
        }
    }
    let summary = Summary::of("mlp", &evaluation, &at, stopped);
    Ok(Trained {
        model,
        evaluation,
        position: at,
        stopped,
        summary,
    })
}

/// The health check (finite parameters, `loss` when one was evaluated), then the model
/// and the optimiser state, through the observer.
fn checkpoint<B: AutodiffBackend>(
    observer: &mut dyn Observer,
    model: &Mlp<B>,
    optim: &FusedAdam<B>,
    at: &Position,
    loss: Option<f64>,
) -> Result<(), TrainError> {
    observer.check_health(at, all_finite(model), loss)?;
    observer.checkpoint(at, &mut |dir: &Path| {
        save_module(model, &dir.join("model"))?;
        save_record::<B::InnerBackend, _>(optim.to_record(), &dir.join("optim"))
    })
}

/// Trains every config silently (in parallel on the CPU's threads) and returns each
/// one's test loss and accuracy, in order: the tuner's inner loop.
pub fn tune<B: AutodiffBackend>(
    configs: &[MlpConfig],
    data: &Mnist,
    device: &B::Device,
) -> Result<Vec<manifold_train::tune::Outcome>, TrainError> {
    use rayon::prelude::*;
    let bar = manifold_train::progress_bar(configs.len() as u64, "tune");
    let outcomes = configs
        .par_iter()
        .map(|c| {
            let t = train::<B>(c, data, device, &mut manifold_train::Silent)?;
            bar.inc(1);
            Ok(manifold_train::tune::Outcome {
                cost: t.evaluation.loss,
                accuracy: t.evaluation.accuracy.unwrap_or(f64::NAN),
            })
        })
        .collect();
    bar.finish_and_clear();
    outcomes
}
