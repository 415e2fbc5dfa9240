//! Training and evaluating the SET-MLP: one Adam step per minibatch, a fresh shuffle
//! every epoch, the learning-rate schedule of the config, and the topology evolution
//! after each epoch. [`train`] is the whole run; [`train_epoch`], [`evolve_if_due`] and
//! [`evaluate`] are its parts, for hand-written loops.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::kernels::{SetAutodiffBackend as KernelAutodiffBackend, SetBackend as KernelBackend};
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{ElementConversion, Tensor};
use manifold_data::{ImageSet, Mnist};
use manifold_train::{
    all_finite, argmax_rows, batch_tensor, labels_tensor, load_module, save_module, Evaluation,
    Observer, Position, Summary, TrainError, Trained,
};
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::config::{ComputePath, SetConfig};
use crate::evolve::evolve;
use crate::model::SetMlp;
use crate::optim::{adam_step, SparseAdam};
use crate::pictures;

/// The columns of SET's `metrics.csv`, one row per epoch (evaluated before the evolution).
pub const METRICS: [&str; 8] = [
    "epoch",
    "step",
    "lr",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "density",
    "wall_seconds",
];

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
    /// The model after the epoch's updates.
    pub model: SetMlp<B>,
    /// Mean training loss over the epoch's minibatches done (those of this call and,
    /// for a resumed epoch, those before it: see [`Position::epoch_loss_sum`]).
    pub mean_loss: f64,
    /// The sum behind `mean_loss`, carried in the checkpoint of an interrupted epoch.
    pub loss_sum: f64,
    /// The next minibatch index (the number of minibatches when the epoch finished).
    pub next_batch: usize,
    /// True when the observer stopped the epoch early.
    pub interrupted: bool,
}

/// Runs epoch `at.epoch` from minibatch `at.batch` to its end, or until the observer
/// asks to stop; the observer hears a tick after every minibatch. No evolution here:
/// see [`evolve_if_due`].
pub fn train_epoch<B: KernelAutodiffBackend>(
    mut model: SetMlp<B>,
    state: &mut SparseAdam<B::InnerBackend>,
    config: &SetConfig,
    set: &ImageSet,
    at: Position,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> EpochResult<B> {
    let order = epoch_order(config.seed, at.epoch, set.len());
    let batches: Vec<&[usize]> = order.chunks(config.batch_size).collect();
    let lr = config.lr_at(at.epoch);
    // A resumed epoch continues its accumulator from the checkpoint (an f32 sum, stored
    // exactly as f64), so its mean is the uninterrupted epoch's to the bit.
    let mut loss_sum: Option<Tensor<B::InnerBackend, 1>> =
        (at.batch > 0).then(|| Tensor::from_floats([at.epoch_loss_sum as f32], device));
    let (mut ran, mut next, mut stopped) = (0usize, at.batch, false);
    for (b, idx) in batches.iter().enumerate().skip(at.batch) {
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

/// Evolves the topology after finished epoch `epoch` (0-based) when the config asks for
/// it (see [`SetConfig::evolves_after`]); otherwise returns the model as it is.
pub fn evolve_if_due<B: KernelAutodiffBackend>(
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
pub fn evaluate<B: KernelBackend>(
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
        let loss = manifold_train::cross_entropy(logits.clone(), labels_tensor::<B>(&y, device));
        loss_sum += loss.into_scalar().elem::<f64>() * idx.len() as f64;
        predictions.extend(argmax_rows(logits));
    }
    Evaluation::classification(
        manifold_train::accuracy(&predictions, set.labels()),
        loss_sum / set.len().max(1) as f64,
    )
}

/// Trains a fresh SET-MLP on `data.train` for `config.epochs` epochs, each followed by
/// a test evaluation, a metrics row, the topology evolution and a checkpoint, reporting
/// to `observer`. When the observer resumes a run, the model and the optimiser state
/// come from its checkpoint; when it has an output directory, the final model
/// (`model.mpk`) and the pictures go there.
pub fn train<B: KernelAutodiffBackend>(
    config: &SetConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<SetMlp<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    let train_set = data.train.limited(config.train_limit);
    B::seed(device, config.seed);
    let mut model = SetMlp::<B>::new(config, device);
    let mut state = SparseAdam::<B::InnerBackend>::new(&model, device);
    let mut at = Position::default();
    if let Some(point) = observer.resume_point() {
        model = load_module(model, &point.dir.join("model"), device)?;
        state = load_module(state, &point.dir.join("optim"), device)?;
        at = point.position;
    }
    let batches = train_set.len().div_ceil(config.batch_size);
    let picture_dir = observer
        .output_dir()
        .filter(|_| observer.draws_pictures())
        .map(std::path::Path::to_path_buf);
    // Every file a resume appends to is checked before the run writes anything.
    let kept = match &picture_dir {
        Some(dir) => Some(pictures::check_connectivity(dir, at.epoch)?),
        None => None,
    };
    observer.begin("set", &METRICS, config.epochs * batches, &at)?;
    if at.step == 0 && observer.watches_health() {
        // The untrained network's loss: the reference the divergence watch starts from.
        let initial = evaluate(&model.valid(), &data.test, config.path, device);
        observer.check_health(&at, true, Some(initial.loss))?;
    }
    let mut connectivity = match (&picture_dir, kept) {
        (Some(dir), Some(kept)) => Some(pictures::connectivity_log(dir, kept)?),
        _ => None,
    };
    let started = Instant::now() - Duration::from_secs_f64(at.wall_seconds);
    let mut last_eval = None;
    let mut stopped = false;
    while at.epoch < config.epochs {
        let result = train_epoch(model, &mut state, config, &train_set, at, device, observer);
        model = result.model;
        at.step += result.next_batch - at.batch;
        at.wall_seconds = started.elapsed().as_secs_f64();
        if result.interrupted {
            at.batch = result.next_batch;
            at.epoch_loss_sum = result.loss_sum;
            stopped = true;
            break;
        }
        // Evaluate before evolving: the regrown connections have not been trained yet.
        let eval = evaluate(&model.valid(), &data.test, config.path, device);
        observer.status(&eval.describe());
        observer.log(&[
            (at.epoch + 1) as f64,
            at.step as f64,
            config.lr_at(at.epoch),
            result.mean_loss,
            eval.loss,
            eval.accuracy.unwrap_or(f64::NAN),
            model.density(),
            at.wall_seconds,
        ])?;
        last_eval = Some(eval);
        if let (Some(dir), Some(log)) = (&picture_dir, &mut connectivity) {
            pictures::draw_connectivity(dir, &model, at.epoch + 1, log)?;
        }
        model = evolve_if_due(model, &mut state, config, at.epoch);
        at.epoch += 1;
        at.batch = 0;
        at.epoch_loss_sum = 0.0;
        checkpoint(observer, &model, &state, &at, Some(eval.loss))?;
    }
    if stopped {
        checkpoint(observer, &model, &state, &at, None)?;
    }
    observer.end();
    let evaluation = match last_eval {
        Some(e) => e,
        None => evaluate(&model.valid(), &data.test, config.path, device),
    };
    if let Some(dir) = observer.output_dir() {
        save_module(&model, &dir.join("model"))?;
        pictures::draw_curves(dir)?;
        pictures::draw_input_connections(&dir.join("input_connections.png"), &model)?;
        pictures::draw_centre_margin(dir)?;
    }
    let counts = model.connection_counts();
    let summary = Summary::of("set", &evaluation, &at, stopped)
        .with("connections", counts.iter().sum::<usize>())
        .with("density", model.density())
        .with("connections_per_layer", counts)
        .with("path", format!("{:?}", config.path));
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
fn checkpoint<B: KernelAutodiffBackend>(
    observer: &mut dyn Observer,
    model: &SetMlp<B>,
    state: &SparseAdam<B::InnerBackend>,
    at: &Position,
    loss: Option<f64>,
) -> Result<(), TrainError> {
    observer.check_health(at, all_finite(model), loss)?;
    observer.checkpoint(at, &mut |dir: &Path| {
        save_module(model, &dir.join("model"))?;
        save_module(state, &dir.join("optim"))
    })
}
