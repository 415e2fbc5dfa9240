//! Training the DNM: [`train`] is the whole run, a [`DnmLearner`] driven by
//! [`manifold_train::fit`] (resume, metrics, checkpoints, snapshots of `D`, pictures,
//! through an [`Observer`]); [`train_step`], [`evaluate`] and [`train_batch`] are its
//! parts, for hand-written loops.

use std::path::Path;
use std::time::Instant;

use crate::kernels::{DnmAutodiffBackend, DnmBackend};
use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use manifold_data::{toy_batch, ImageSet, Mnist, TOY_INPUTS, TOY_OUTPUTS};
use manifold_train::{
    all_finite, argmax_rows, fit, labels_tensor, load_module, load_record, save_module,
    save_record, Evaluation, Learner, Observer, Position, Schedule, StepError, Summary, TrainError,
    Trained,
};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::closeness::Grid;
use crate::config::{DnmConfig, Evaluator, PixelOrder, Task};
use crate::loss::{flow_fast, flow_kept, objective, total_loss, Target};
use crate::model::{head, Dnm, Structure};
use crate::profile::{Phase, PhaseClock};

/// Where the data comes from.
#[derive(Debug, Clone)]
pub enum Data {
    /// Fresh toy samples every step.
    Toy,
    /// MNIST (training images possibly limited by `train_limit`).
    Mnist(Mnist),
    /// Fresh adding-problem sequences every step (`manifold_data::SequenceTask::Adding`,
    /// of the config's `adding_length`, shorter during a curriculum), tested on its
    /// fixed 10 000 sequences of `adding_length`.
    Adding,
}

/// Seed of the fixed 10 000-sample toy test set.
pub const TOY_TEST_SEED: u64 = 0x70E5_7E57;
/// Size of the toy test set.
pub const TOY_TEST_SIZE: usize = 10_000;
/// The MNIST test images [`evaluate`] runs at once.
pub const EVAL_BATCH: usize = 2000;

/// Burn's Adam over the DNM's parameters.
pub type DnmAdam<B> = OptimizerAdaptor<Adam, Dnm<B>, B>;

/// The Adam optimiser (its moments persist across steps), with the config's gradient
/// clipping (per parameter tensor, by L2 norm; none when `clip_norm` is 0).
pub fn adam<B: AutodiffBackend>(config: &DnmConfig) -> DnmAdam<B> {
    manifold_train::optim::clipped_adam::<B, Dnm<B>>(config.clip_norm)
}

/// The MNIST sample indices of minibatch `step`: the epochs of
/// [`manifold_train::epoch_order`], so a resumed run sees exactly what an uninterrupted
/// one would. The epoch's
/// permutation is kept between calls (shuffling 60 000 indices every step cost 0.6 ms).
pub fn mnist_indices(seed: u64, step: usize, batch: usize, n: usize) -> Vec<usize> {
    /// `(seed, epoch, n)` and that epoch's permutation.
    type Epoch = Option<((u64, usize, usize), Vec<usize>)>;
    thread_local! {
        static EPOCH: std::cell::RefCell<Epoch> = const { std::cell::RefCell::new(None) };
    }
    let per_epoch = (n / batch).max(1);
    let (epoch, k) = (step / per_epoch, step % per_epoch);
    EPOCH.with(|cache| {
        let mut cache = cache.borrow_mut();
        let key = (seed, epoch, n);
        if cache.as_ref().map(|(k, _)| *k) != Some(key) {
            *cache = Some((key, manifold_train::epoch_order(seed, epoch, n)));
        }
        let idx = &cache.as_ref().expect("just filled").1;
        idx[k * batch..((k + 1) * batch).min(n)].to_vec()
    })
}

/// Inputs and targets of training minibatch `step`.
pub fn train_batch<B: Backend>(
    config: &DnmConfig,
    data: &Data,
    step: usize,
    device: &B::Device,
) -> (Tensor<B, 2>, Target<B>) {
    match data {
        Data::Toy => {
            let mut rng = rand::rngs::StdRng::seed_from_u64(
                config.seed.wrapping_mul(1_000_003) ^ (step as u64).wrapping_mul(0x9E37_79B9),
            );
            toy_tensors(&mut rng, config.batch_size, device)
        }
        Data::Mnist(m) => {
            let n = match config.train_limit {
                0 => m.train.len(),
                limit => limit.min(m.train.len()),
            };
            let idx = mnist_indices(config.seed, step, config.batch_size, n);
            image_tensors(&m.train, &idx, config.pixel_order, device)
        }
        Data::Adding => {
            let length = config.adding_train_length(step);
            let (x, y) = manifold_data::SequenceTask::Adding { length }.adding_train_batch(
                config.seed,
                step,
                config.batch_size,
            );
            adding_tensors(x, y, device)
        }
    }
}

/// The adding problem of `config`'s sequence length.
fn adding_task(config: &DnmConfig) -> manifold_data::SequenceTask {
    config
        .sequence_task()
        .expect("the adding data belongs to the adding task")
}

/// Adding-problem sequences (`[n · T · 2]`) and sums (`[n]`) as `[n, 2T]` inputs and
/// `[n, 1]` targets.
fn adding_tensors<B: Backend>(
    x: Vec<f32>,
    y: Vec<f32>,
    device: &B::Device,
) -> (Tensor<B, 2>, Target<B>) {
    let n = y.len();
    let width = x.len() / n;
    (
        Tensor::from_data(TensorData::new(x, [n, width]), device),
        Target::Values(Tensor::from_data(TensorData::new(y, [n, 1]), device)),
    )
}

fn toy_tensors<B: Backend, R: rand::Rng>(
    rng: &mut R,
    n: usize,
    device: &B::Device,
) -> (Tensor<B, 2>, Target<B>) {
    let (x, y) = toy_batch(rng, n);
    (
        Tensor::from_data(TensorData::new(x, [n, TOY_INPUTS]), device),
        Target::Values(Tensor::from_data(
            TensorData::new(y, [n, TOY_OUTPUTS]),
            device,
        )),
    )
}

/// The images at `idx` as inputs (their pixels in `order`) and their labels.
fn image_tensors<B: Backend>(
    set: &ImageSet,
    idx: &[usize],
    order: PixelOrder,
    device: &B::Device,
) -> (Tensor<B, 2>, Target<B>) {
    let (x, y) = match order {
        PixelOrder::Raster => set.gather(idx),
        _ => {
            // The permutation is kept between calls: it depends on the order and the
            // image size only.
            type Cached = Option<((PixelOrder, usize, usize), Vec<usize>)>;
            thread_local! {
                static ORDER: std::cell::RefCell<Cached> = const { std::cell::RefCell::new(None) };
            }
            ORDER.with(|cache| {
                let mut cache = cache.borrow_mut();
                let key = (order, set.rows(), set.cols());
                if cache.as_ref().map(|(k, _)| *k) != Some(key) {
                    *cache = Some((key, order.order(set.rows(), set.cols())));
                }
                let pixels = &cache.as_ref().expect("just filled").1;
                let mut x = Vec::with_capacity(idx.len() * set.dim());
                for &i in idx {
                    PixelOrder::apply(pixels, set.image(i), &mut x);
                }
                (x, idx.iter().map(|&i| set.labels()[i]).collect())
            })
        }
    };
    (
        Tensor::from_data(TensorData::new(x, [idx.len(), set.dim()]), device),
        Target::Labels(labels_tensor::<B>(&y, device)),
    )
}

/// What one training step measured (values before the update).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StepReport {
    /// The total loss (objective + weighted flow and density terms).
    pub total: f64,
    /// The objective: cross-entropy (MNIST) or MSE (toy).
    pub objective: f64,
    /// The flow term.
    pub flow: f64,
    /// True density ρ.
    pub density: f64,
    /// Surrogate density (NaN when the loss did not need it).
    pub surrogate: f64,
    /// Sweeps the fast evaluator ran (depth of the comp graph).
    pub depth: usize,
    /// Wall time of the step (forward, backward, update).
    pub seconds: f64,
}

impl StepReport {
    /// The structure the step saw (connected: the step succeeded).
    pub(crate) fn structure(&self) -> Structure {
        Structure {
            depth: self.depth,
            density: self.density,
            connected: true,
        }
    }
}

/// Why training had to stop.
#[derive(Debug, Clone, PartialEq)]
pub enum StepFailure {
    /// The loss became NaN or infinite.
    NonFinite {
        /// The step that failed.
        step: usize,
        /// What it measured.
        report: StepReport,
    },
    /// No input reaches any output any more ("lobotomy").
    Lobotomy {
        /// The step that failed.
        step: usize,
        /// What it measured.
        report: StepReport,
    },
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepFailure::NonFinite { step, report } => write!(
                f,
                "step {step}: the loss is not finite (objective {}, flow {}, total {})",
                report.objective, report.flow, report.total
            ),
            StepFailure::Lobotomy { step: 0, report } => write!(
                f,
                "step 0: the network starts with no input→output path (density {:.4}%): \
                 draw its closeness functions again (`--set init_draws=10`) or take another \
                 seed",
                100.0 * report.density
            ),
            StepFailure::Lobotomy { step, report } => write!(
                f,
                "step {step}: the network lost every input→output path (density {:.4}%)",
                100.0 * report.density
            ),
        }
    }
}

impl std::error::Error for StepFailure {}

/// One Adam step on minibatch `step`. Fails, leaving the model as it was, on a
/// non-finite loss or a network with no input→output path.
// Both variants hand the model back (it is moved in): the error is as large as the
// success, ten parameter handles, and boxing it would only add an allocation.
#[allow(clippy::too_many_arguments, clippy::result_large_err)]
pub fn train_step<B: DnmAutodiffBackend, O: Optimizer<Dnm<B>, B>>(
    model: Dnm<B>,
    optim: &mut O,
    config: &DnmConfig,
    grid: &Grid<B>,
    data: &Data,
    step: usize,
    last_step_ms: f64,
    device: &B::Device,
) -> Result<(Dnm<B>, StepReport), (Dnm<B>, StepFailure)> {
    let mut clock = PhaseClock::off();
    train_step_timed(
        model,
        optim,
        config,
        grid,
        data,
        step,
        last_step_ms,
        None,
        device,
        &mut clock,
    )
}

/// [`train_step`], marking each [`Phase`] on `clock` as it ends, and reporting `earlier`
/// (a structure measured at an earlier step) where it would have to read the dense `D`
/// back to the host for its [`Structure`] and the forward pass does not need the depth.
/// On backends with the kept-cell kernels (ndarray, flex) the structure comes from the
/// kept cells, on the host already, and `earlier` is not used; elsewhere (wgpu) a step
/// given `earlier` reads nothing of `D` back (its density enters the loss only as the
/// count term's constant, so the update is the same), and a network that lost its last
/// input→output path is caught at the next step that reads.
#[allow(clippy::too_many_arguments, clippy::result_large_err)]
pub fn train_step_timed<B: DnmAutodiffBackend, O: Optimizer<Dnm<B>, B>>(
    model: Dnm<B>,
    optim: &mut O,
    config: &DnmConfig,
    grid: &Grid<B>,
    data: &Data,
    step: usize,
    last_step_ms: f64,
    earlier: Option<Structure>,
    device: &B::Device,
    clock: &mut PhaseClock<'_, B>,
) -> Result<(Dnm<B>, StepReport), (Dnm<B>, StepFailure)> {
    let started = Instant::now();
    let (x, target) = train_batch::<B>(config, data, step, device);
    clock.mark(Phase::Batch);
    let sharpness = config.surrogate_needed();
    let kept = model.kept_for(grid, config);
    // The kept cells where the backend has their kernels, else the dense `D`: the same
    // values either way.
    let (structure, outputs, flow, surrogate) = match kept {
        Some(kept) => {
            clock.mark(Phase::Closeness);
            let structure = Structure::of_pattern(&kept.pattern);
            clock.mark(Phase::Structure);
            let outputs = crate::sequence::read(config, x, |x| model.kept_outputs(&kept, x));
            clock.mark(Phase::Forward);
            (structure, outputs, flow_kept(&kept), kept.surrogate)
        }
        None => {
            let cut = model.cutoff(grid, sharpness);
            clock.mark(Phase::Closeness);
            // `D` goes to the host at most once, when the sweeps need the depth or no
            // earlier structure was given.
            let read = std::cell::OnceCell::new();
            let structure = || *read.get_or_init(|| Structure::of(&cut.d, grid));
            let outputs = crate::sequence::read(config, x, |x| match config.evaluator {
                Evaluator::Reference => model.outputs_reference(&cut.d, grid, x),
                Evaluator::Fast => model.outputs_fast(&cut.d, grid, x, || structure().depth),
            });
            clock.mark(Phase::Forward);
            let structure = read.get().copied().or(earlier).unwrap_or_else(structure);
            clock.mark(Phase::Structure);
            (structure, outputs, flow_fast(&cut.d, grid), cut.surrogate)
        }
    };
    let obj = objective(head(outputs, config.head), &target);
    let terms = total_loss(
        config,
        step,
        flow,
        surrogate,
        obj,
        structure.density,
        last_step_ms,
    );
    // The step's scalars in one read (one wait for a GPU, not four).
    let scalars: Vec<_> = [&terms.total, &terms.objective, &terms.flow]
        .into_iter()
        .chain(&terms.surrogate)
        .map(|t| t.clone().inner())
        .collect();
    let scalars = Tensor::cat(scalars, 0)
        .into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .expect("float data");
    let mut report = StepReport {
        total: scalars[0],
        objective: scalars[1],
        flow: scalars[2],
        density: structure.density,
        surrogate: scalars.get(3).copied().unwrap_or(f64::NAN),
        depth: structure.depth,
        seconds: 0.0,
    };
    clock.mark(Phase::Loss);
    if !report.total.is_finite() {
        return Err((model, StepFailure::NonFinite { step, report }));
    }
    if !structure.connected {
        return Err((model, StepFailure::Lobotomy { step, report }));
    }
    let grads = GradientsParams::from_grads(terms.total.backward(), &model);
    clock.mark(Phase::OtherBackward);
    let model = optim.step(config.lr_at(step), model, grads);
    clock.mark(Phase::Optimiser);
    report.seconds = started.elapsed().as_secs_f64();
    Ok((model, report))
}

/// Logits of a batch under the current `D` (fast evaluator).
pub fn predict<B: DnmBackend>(
    model: &Dnm<B>,
    grid: &Grid<B>,
    config: &DnmConfig,
    x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    model.fast_evaluator(grid, config)(x)
}

/// Evaluates on the full MNIST test set, or on the fixed 10 000 toy test samples.
pub fn evaluate<B: DnmBackend>(
    model: &Dnm<B>,
    config: &DnmConfig,
    data: &Data,
    device: &B::Device,
) -> Evaluation {
    let grid = Grid::<B>::of(config, device);
    let logits_of = model.fast_evaluator(&grid, config);
    match data {
        Data::Toy => {
            let mut rng = rand::rngs::StdRng::seed_from_u64(TOY_TEST_SEED);
            let (x, target) = toy_tensors::<B, _>(&mut rng, TOY_TEST_SIZE, device);
            let mse = objective(logits_of(x), &target).into_scalar().elem::<f64>();
            Evaluation::regression(mse)
        }
        Data::Mnist(m) => {
            let all: Vec<usize> = (0..m.test.len()).collect();
            let mut predictions = Vec::with_capacity(all.len());
            let mut loss_sum = 0.0;
            for idx in all.chunks(EVAL_BATCH) {
                let (x, target) = image_tensors::<B>(&m.test, idx, config.pixel_order, device);
                let logits = logits_of(x);
                loss_sum += objective(logits.clone(), &target)
                    .into_scalar()
                    .elem::<f64>()
                    * idx.len() as f64;
                predictions.extend(argmax_rows(logits));
            }
            Evaluation::classification(
                manifold_train::accuracy(&predictions, m.test.labels()),
                loss_sum / all.len().max(1) as f64,
            )
        }
        Data::Adding => {
            let (x, y) = adding_task(config).adding_test_set();
            let width = x.len() / y.len();
            let mut squared = 0.0;
            for (xs, ys) in x.chunks(EVAL_BATCH * width).zip(y.chunks(EVAL_BATCH)) {
                let (x, target) = adding_tensors::<B>(xs.to_vec(), ys.to_vec(), device);
                squared +=
                    objective(logits_of(x), &target).into_scalar().elem::<f64>() * ys.len() as f64;
            }
            Evaluation::regression(squared / y.len() as f64)
        }
    }
}

/// Total `|D|` leaving each input neuron (column sums over all receivers).
pub fn input_outflow<B: DnmBackend>(
    model: &Dnm<B>,
    config: &DnmConfig,
    device: &B::Device,
) -> Vec<f64> {
    let grid = Grid::<B>::of(config, device);
    let d = model.cutoff(&grid, None).d;
    let cols = d
        .abs()
        .sum_dim(0)
        .slice([0..1, 0..config.inputs])
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float data");
    cols.into_iter().map(f64::from).collect()
}

/// The columns of the DNM's `metrics.csv`: one row every `record_every` steps (and at
/// every evaluation, where the test columns are filled).
pub const METRICS: [&str; 11] = [
    "step",
    "objective",
    "flow",
    "density",
    "density_surrogate",
    "total",
    "depth",
    "step_ms",
    "lr",
    "test_accuracy",
    "test_mse",
];

/// How far [`initial_network`] lowers κ: at most this many steps of [`KAPPA_STEP`].
const KAPPA_STEPS: usize = 40;
/// The step by which [`initial_network`] lowers κ.
const KAPPA_STEP: f64 = 0.5;

/// Whether some input of `model` reaches some output (one read of the dense `D`).
fn connected<B: DnmBackend>(model: &Dnm<B>, grid: &Grid<B>) -> bool {
    Structure::of(&model.cutoff(grid, None).d, grid).connected
}

/// The network a run starts from, with an input→output path where one can be found (a
/// network without one stops its first step with the lobotomy error):
///
/// 1. the first of at most `config.init_draws` draws of [`Dnm::new`] (one stream of the
///    backend's seeded generator) with a path at `kappa_init`;
/// 2. where none has one, the first draw with κ stepped down by 0.5, at most 40 times, to
///    the first value with a path;
/// 3. where none has one even 20 below, the first draw as it is.
///
/// With one draw (the default) a network with a path at `kappa_init` starts there, so such
/// runs repeat as before; some draws have no path even 20 below, and a later draw has one.
pub fn initial_network<B: DnmBackend>(
    config: &DnmConfig,
    grid: &Grid<B>,
    device: &B::Device,
) -> Dnm<B> {
    let first = Dnm::<B>::new(config, device);
    if connected(&first, grid) {
        return first;
    }
    if let Some(later) = (1..config.init_draws)
        .map(|_| Dnm::<B>::new(config, device))
        .find(|m| connected(m, grid))
    {
        return later;
    }
    let start = first.kappa.val().into_scalar().elem::<f64>();
    (1..=KAPPA_STEPS)
        .map(|k| {
            first
                .clone()
                .with_kappa(start - KAPPA_STEP * k as f64, device)
        })
        .find(|m| connected(m, grid))
        .unwrap_or(first)
}

/// The DNM being trained, for [`manifold_train::fit`]: the model, Adam's state, the
/// training grid, the last step's report and the snapshot recorder. [`train`] builds
/// one and runs it; [`train_step`] is its step, for hand-written loops.
pub struct DnmLearner<'a, B: DnmAutodiffBackend> {
    config: &'a DnmConfig,
    data: &'a Data,
    device: B::Device,
    grid: Grid<B>,
    /// Always `Some` between steps (taken by value through the optimiser).
    model: Option<Dnm<B>>,
    optim: DnmAdam<B>,
    /// What the last step measured.
    report: StepReport,
    /// The structure the last step saw, reported by the steps whose rows are not
    /// recorded instead of reading `D` back ([`train_step_timed`]); `None` before the
    /// first step of this process.
    structure: Option<Structure>,
    /// `snapshots.bin`, once the run has begun.
    snapshots: Option<crate::pictures::SnapshotRecorder>,
}

impl<'a, B: DnmAutodiffBackend> DnmLearner<'a, B> {
    /// A fresh DNM (the backend seeded with `config.seed` first) trained on `data`.
    pub fn new(config: &'a DnmConfig, data: &'a Data, device: &B::Device) -> Self {
        B::seed(device, config.seed);
        let grid = Grid::<B>::of(config, device);
        let model = initial_network(config, &grid, device);
        Self {
            config,
            data,
            device: device.clone(),
            grid,
            model: Some(model),
            optim: adam::<B>(config),
            report: StepReport::default(),
            structure: None,
            snapshots: None,
        }
    }

    /// The model as it stands.
    pub fn model(&self) -> &Dnm<B> {
        self.model
            .as_ref()
            .expect("the model is put back after every step")
    }
}

impl<B: DnmAutodiffBackend> Learner for DnmLearner<'_, B> {
    type Model = Dnm<B>;

    fn name(&self) -> &'static str {
        "dnm"
    }

    fn columns(&self) -> &'static [&'static str] {
        &METRICS
    }

    fn schedule(&self) -> Schedule {
        Schedule::Steps {
            steps: self.config.steps,
            record_every: self.config.record_every,
            eval_every: self.config.eval_every,
        }
    }

    fn resume(&mut self, dir: &Path, _: &Position) -> Result<(), TrainError> {
        let model = self
            .model
            .take()
            .expect("the model is put back after every step");
        self.model = Some(load_module(model, &dir.join("model"), &self.device)?);
        let record = load_record::<B, _>(&dir.join("optim"), &self.device)?;
        self.optim = std::mem::replace(&mut self.optim, adam::<B>(self.config)).load_record(record);
        Ok(())
    }

    /// A snapshot file the resume could not append to stops it before anything in the
    /// run directory is written.
    fn prepare(
        &mut self,
        observer: &dyn Observer,
        resumed: Option<&Position>,
    ) -> Result<(), TrainError> {
        crate::pictures::SnapshotRecorder::check(observer, self.config, resumed.map(|p| p.step))
    }

    /// `snapshots.bin`, cut back to the records of the checkpoint's step and earlier.
    fn open(
        &mut self,
        observer: &dyn Observer,
        resumed: Option<&Position>,
    ) -> Result<(), TrainError> {
        let at = resumed.map(|p| p.step);
        self.snapshots = Some(crate::pictures::SnapshotRecorder::new(
            observer,
            self.config,
            at,
        )?);
        Ok(())
    }

    fn step(&mut self, at: &Position) -> Result<(), StepError> {
        let model = self
            .model
            .take()
            .expect("the model is put back after every step");
        let (config, grid) = (self.config, &self.grid);
        let last_ms = at.last_step_ms;
        // A step whose row is recorded measures its structure afresh.
        let ends_at = Position {
            step: at.step + 1,
            ..*at
        };
        let recorded = self.schedule().due(&ends_at).1;
        let earlier = self.structure.filter(|_| !recorded);
        match train_step_timed(
            model,
            &mut self.optim,
            config,
            grid,
            self.data,
            at.step,
            last_ms,
            earlier,
            &self.device,
            &mut PhaseClock::off(),
        ) {
            Ok((model, report)) => {
                self.model = Some(model);
                self.report = report;
                self.structure = Some(report.structure());
                Ok(())
            }
            Err((model, failure)) => {
                self.model = Some(model);
                let loss = match &failure {
                    StepFailure::NonFinite { report, .. } => Some(report.total),
                    StepFailure::Lobotomy { .. } => None,
                };
                Err(StepError {
                    message: failure.to_string(),
                    loss,
                })
            }
        }
    }

    fn evaluate(&mut self) -> Evaluation {
        evaluate(&self.model().valid(), self.config, self.data, &self.device)
    }

    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
        let r = &self.report;
        vec![
            at.step as f64,
            r.objective,
            r.flow,
            r.density,
            r.surrogate,
            r.total,
            r.depth as f64,
            r.seconds * 1e3,
            self.config.lr_at(at.step - 1),
            eval.and_then(|e| e.accuracy).unwrap_or(f64::NAN),
            eval.and_then(|e| e.mse).unwrap_or(f64::NAN),
        ]
    }

    fn status(&self, _: Option<&Evaluation>) -> Option<String> {
        let r = &self.report;
        Some(format!(
            "obj {:.4} density {:.2}% depth {}",
            r.objective,
            100.0 * r.density,
            r.depth
        ))
    }

    /// A snapshot of `D`.
    fn recorded(&mut self, _: &dyn Observer, at: &Position) -> Result<(), TrainError> {
        if let (Some(snapshots), Some(model)) = (&mut self.snapshots, &self.model) {
            snapshots.record(model, &self.grid, at.step)?;
        }
        Ok(())
    }

    fn params_finite(&self) -> bool {
        all_finite(self.model())
    }

    fn save(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.model(), &dir.join("model"))?;
        save_record::<B, _>(self.optim.to_record(), &dir.join("optim"))
    }

    fn finish(
        mut self,
        observer: &dyn Observer,
        at: &Position,
        summary: Summary,
    ) -> Result<(Dnm<B>, Summary), TrainError> {
        let model = self
            .model
            .take()
            .expect("the model is put back after every step");
        let (config, grid) = (self.config, &self.grid);
        if let Some(dir) = observer.output_dir() {
            save_module(&model, &dir.join("model"))?;
        }
        if let Some(snapshots) = self.snapshots.take() {
            snapshots.finish(&model, grid)?;
        }
        // What a sequence task keeps over time, for test sequence 0.
        if let (Some(dir), Some(_)) = (observer.output_dir(), config.sequence()) {
            crate::state::write_state_picture(
                dir,
                &model.valid(),
                config,
                self.data,
                0,
                &self.device,
            )?;
        }
        // The trained network's structure (the last step's report saw D before its update).
        let reached = Structure::of(&model.cutoff(grid, None).d, grid);
        // The densest recorded step (every `record_every` steps, from the run's start).
        let recorded = observer
            .output_dir()
            .and_then(|dir| manifold_train::read_metrics(&dir.join("metrics.csv")).ok())
            .and_then(|m| m.get("density").cloned())
            .unwrap_or_default();
        let peak = recorded
            .into_iter()
            .filter(|d| d.is_finite())
            .fold(reached.density, f64::max);
        let mut summary = summary
            .with("density", reached.density)
            .with(
                "connections",
                (reached.density * grid.max_cells() as f64).round() as usize,
            )
            .with("depth", reached.depth)
            .with(
                "activation_mib",
                config.activation_mib((reached.density * grid.max_cells() as f64).round()),
            )
            .with(
                "peak_activation_mib",
                config.activation_mib((peak * grid.max_cells() as f64).round()),
            )
            .with("trainable", model.num_params())
            .with("ms_per_step", 1e3 * at.step_seconds / at.step.max(1) as f64)
            .with(
                "evaluator",
                format!("{:?}", config.evaluator).to_lowercase(),
            );
        summary.epochs = None;
        if config.task == Task::Toy {
            let out = input_outflow(&model.valid(), config, &self.device);
            let others = out[1..].iter().sum::<f64>() / (out.len() - 1) as f64;
            summary = summary
                .with("input_outflow", out.clone())
                .with("unused_input_ratio", out[0] / others);
        }
        Ok((model, summary))
    }
}

/// Trains a fresh DNM (the backend seeded with `config.seed`) for `config.steps` Adam
/// steps of [`train_step`] through [`manifold_train::fit`], reporting to `observer`: a
/// metrics row and a snapshot of `D` every `record_every` steps, a test evaluation and a
/// checkpoint every `eval_every`. When the observer resumes a run, the model and Adam's
/// moments come from its checkpoint, and its `snapshots.bin` is checked before anything
/// in the directory is written (a damaged file, or one of another grid or period, is an
/// error naming the file and the field) and then cut back to the records of the
/// checkpoint's step and earlier; when it has an output directory, the final model
/// (`model.mpk`) and the pictures go there. A non-finite loss or a network with no
/// input→output path stops training with an error naming the step (the last checkpoint
/// is kept).
pub fn train<B: DnmAutodiffBackend>(
    config: &DnmConfig,
    data: &Data,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<Dnm<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    fit(DnmLearner::new(config, data, device), observer)
}

#[cfg(test)]
mod tests {
    use super::mnist_indices;

    #[test]
    fn mnist_indices_cover_each_epoch_once_and_depend_only_on_seed_epoch_and_step() {
        let (n, batch) = (103, 10);
        let first = mnist_indices(1, 0, batch, n);
        // Another seed and another epoch in between must not leak through the cache.
        let other = mnist_indices(2, 0, batch, n);
        assert_ne!(first, other);
        let _ = mnist_indices(1, 15, batch, n);
        assert_eq!(mnist_indices(1, 0, batch, n), first);
        let mut seen: Vec<usize> = (0..10)
            .flat_map(|s| mnist_indices(1, s, batch, n))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen.len(),
            100,
            "one epoch is 10 batches of distinct images"
        );
        assert_ne!(
            mnist_indices(1, 10, batch, n),
            first,
            "epoch 1 is reshuffled"
        );
    }

    /// Under `pixel_order = hilbert` input `k` of every image is pixel `order[k]` of the
    /// same image the raster batch holds, with the same label; the toy task refuses it.
    #[test]
    fn a_hilbert_batch_is_the_raster_batch_with_its_pixels_permuted() {
        use crate::{train_batch, Data, DnmConfig, PixelOrder, Target};
        use manifold_data::{ImageSet, Mnist};
        type B = burn_ndarray::NdArray<f32>;
        let (n, dim) = (12, 784);
        let pixels: Vec<f32> = (0..n * dim).map(|k| (k % 977) as f32 / 977.0).collect();
        let set = ImageSet::new(pixels, (0..n as u8).map(|k| k % 10).collect(), 28, 28);
        let data = Data::Mnist(Mnist {
            train: set.clone(),
            test: set,
        });
        let mut raster = DnmConfig::preset("seed-mnist").expect("preset");
        raster.batch_size = 5;
        let hilbert = raster.clone().with_pixel_order(PixelOrder::Hilbert);
        let device = Default::default();
        let batch = |config: &DnmConfig| {
            let (x, target) = train_batch::<B>(config, &data, 1, &device);
            let labels = match target {
                Target::Labels(y) => y.into_data().convert::<i64>().to_vec::<i64>().unwrap(),
                Target::Values(_) => panic!("MNIST has labels"),
            };
            (x.into_data().to_vec::<f32>().unwrap(), labels)
        };
        let ((xr, yr), (xh, yh)) = (batch(&raster), batch(&hilbert));
        assert_eq!(yr, yh);
        let order = PixelOrder::Hilbert.order(28, 28);
        for s in 0..5 {
            for (k, &p) in order.iter().enumerate() {
                assert_eq!(xh[s * dim + k], xr[s * dim + p]);
            }
        }
        assert_ne!(xh, xr);
        let toy = DnmConfig::preset("seed-toy")
            .expect("preset")
            .with_pixel_order(PixelOrder::Hilbert);
        let err = manifold_train::ModelConfig::validate(&toy).unwrap_err();
        assert!(err.to_string().contains("pixel_order"), "{err}");
    }

    /// `adding-t100` at seed 1 draws closeness functions that leave no input→output path
    /// at its `kappa_init`. With one draw the learner starts from the first lower κ with a
    /// path; with ten it starts from a later draw at `kappa_init` exactly. Seed 0 has a
    /// path and keeps its first draw either way. Seed 3 has no path even 20 below: with one
    /// draw its first step stops with an error that names `init_draws`, with ten it trains.
    #[test]
    fn a_network_without_a_path_is_drawn_again_or_starts_from_a_lower_cutoff() {
        use crate::kernels::DnmAutodiffBackend;
        use crate::{train_step, Data, Dnm, DnmConfig, DnmLearner, Grid, Structure};
        use burn::tensor::backend::Backend;
        use burn::tensor::ElementConversion;
        type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;
        fn kappa<B: DnmAutodiffBackend>(m: &Dnm<B>) -> f64 {
            m.kappa.val().into_scalar().elem::<f64>()
        }
        fn alpha<B: DnmAutodiffBackend>(m: &Dnm<B>) -> Vec<f32> {
            m.alpha.val().into_data().convert::<f32>().to_vec().unwrap()
        }
        /// Where the learner's network comes from.
        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Start {
            /// The first draw at `kappa_init`.
            FirstDraw,
            /// The first draw at the first lower κ with a path.
            Lowered,
            /// A later draw at `kappa_init`.
            LaterDraw,
            /// The first draw at `kappa_init`, without a path.
            NoPath,
        }
        let device = Default::default();
        for (seed, draws, expected) in [
            (0, 1, Start::FirstDraw),
            (0, 10, Start::FirstDraw),
            (1, 1, Start::Lowered),
            (1, 10, Start::LaterDraw),
            (3, 1, Start::NoPath),
            (3, 10, Start::LaterDraw),
        ] {
            let case = format!("seed {seed}, {draws} draws");
            let config = DnmConfig::preset("adding-t100")
                .expect("preset")
                .with_seed(seed)
                .with_init_draws(draws);
            let grid = Grid::<B>::of(&config, &device);
            B::seed(&device, seed);
            let drawn = Dnm::<B>::new(&config, &device);
            let at_init = Structure::of(&drawn.cutoff(&grid, None).d, &grid);
            assert_eq!(at_init.connected, seed == 0, "{case}");

            let learner = DnmLearner::<B>::new(&config, &Data::Adding, &device);
            let model = learner.model().clone();
            let start = Structure::of(&model.cutoff(&grid, None).d, &grid);
            let lowered = config.kappa_init - kappa(&model);
            let first_draw = alpha(&model) == alpha(&drawn);
            let got = match (first_draw, lowered > 0.0, start.connected) {
                (true, false, true) => Start::FirstDraw,
                (true, true, true) => Start::Lowered,
                (false, false, true) => Start::LaterDraw,
                (true, false, false) => Start::NoPath,
                other => panic!("{case}: first draw, lowered, connected = {other:?}"),
            };
            assert_eq!(got, expected, "{case}");
            if got == Start::Lowered {
                assert!(lowered <= 20.0, "{case}: {lowered}");
                // One step higher still had no path: the first κ with one was taken.
                let higher = model
                    .clone()
                    .with_kappa(kappa(&model) + super::KAPPA_STEP, &device);
                assert!(!Structure::of(&higher.cutoff(&grid, None).d, &grid).connected);
            }
            let mut optim = super::adam::<B>(&config);
            let step = train_step(
                model,
                &mut optim,
                &config,
                &grid,
                &Data::Adding,
                0,
                0.0,
                &device,
            );
            match step {
                Ok(_) => assert!(start.connected, "{case}"),
                Err((_, failure)) => {
                    assert_eq!(got, Start::NoPath, "{case}");
                    let message = failure.to_string();
                    assert!(message.contains("init_draws"), "{message}");
                }
            }
        }
    }

    /// Under a curriculum a training step reads the shorter sequences of its length: its
    /// batch is `T(step)` time steps wide, and its loss is the loss of the same network
    /// on the task of that length at the same step; from the ramp's end on it is the
    /// task's own. A curriculum on another task is refused, naming the field.
    #[test]
    fn a_curriculum_step_trains_on_the_sequences_of_its_length() {
        use crate::{train_batch, train_step, Data, Dnm, DnmConfig, Grid};
        use burn::tensor::backend::Backend;
        type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;
        let device = Default::default();
        let config = DnmConfig::preset("adding-t100")
            .expect("preset")
            .with_adding_length(20)
            .with_curriculum_steps(4)
            .with_curriculum_start(4);
        config.validate().unwrap();
        let grid = Grid::<B>::of(&config, &device);
        B::seed(&device, 0);
        let model = Dnm::<B>::new(&config, &device);
        for (step, length) in [(0, 4), (2, 12), (4, 20), (9, 20)] {
            assert_eq!(config.adding_train_length(step), length);
            let (x, _) = train_batch::<B>(&config, &Data::Adding, step, &device);
            assert_eq!(x.dims(), [config.batch_size, 2 * length], "step {step}");
            let plain = config
                .clone()
                .with_adding_length(length)
                .with_curriculum_steps(0);
            let loss = |config: &DnmConfig| {
                let mut optim = super::adam::<B>(config);
                let run = train_step(
                    model.clone(),
                    &mut optim,
                    config,
                    &grid,
                    &Data::Adding,
                    step,
                    0.0,
                    &device,
                );
                run.map_err(|(_, failure)| failure.to_string())
                    .unwrap()
                    .1
                    .objective
            };
            let (curriculum, task) = (loss(&config), loss(&plain));
            assert!(curriculum.is_finite(), "step {step}");
            assert_eq!(curriculum, task, "step {step}");
        }
        let refused = DnmConfig::seed_toy()
            .with_curriculum_steps(10)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(refused.contains("curriculum_steps"), "{refused}");
        let refused = config.with_curriculum_start(21).validate().unwrap_err();
        assert!(
            refused.to_string().contains("curriculum_start"),
            "{refused}"
        );
    }

    /// `clip_norm` reaches the optimiser: Adam's first update is `lr·g/(|g| + ε)` per
    /// entry (ε = 1e-5), about `lr` wherever the gradient is not tiny, so without
    /// clipping the per-sender weights `w` move by up to `lr`; with every gradient
    /// clipped to norm 1e-9 the update is `lr·1e-9/(1e-9 + 1e-5)` at most, below
    /// `lr·1e-3`. A negative norm is refused, naming the field.
    #[test]
    fn clip_norm_bounds_the_gradient_the_optimiser_applies() {
        use crate::{train_step, Data, Dnm, DnmConfig, Grid};
        use burn::tensor::backend::Backend;
        type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;
        let device = Default::default();
        let base = DnmConfig::seed_toy();
        let grid = Grid::<B>::of(&base, &device);
        B::seed(&device, 0);
        let model = Dnm::<B>::new(&base, &device);
        let w0: Vec<f32> = model.w.val().into_data().to_vec().unwrap();
        let largest_move = |config: &DnmConfig| {
            let mut optim = super::adam::<B>(config);
            let (stepped, _) = train_step(
                model.clone(),
                &mut optim,
                config,
                &grid,
                &Data::Toy,
                0,
                0.0,
                &device,
            )
            .map_err(|(_, failure)| failure.to_string())
            .unwrap();
            let w1: Vec<f32> = stepped.w.val().into_data().to_vec().unwrap();
            w0.iter()
                .zip(&w1)
                .map(|(a, b)| (a - b).abs() as f64)
                .fold(0.0, f64::max)
        };
        let free = largest_move(&base);
        let clipped = largest_move(&base.clone().with_clip_norm(1e-9));
        assert!(
            free > 0.5 * base.lr,
            "unclipped: largest move {free}, lr {}",
            base.lr
        );
        assert!(
            clipped < 1e-3 * base.lr,
            "clipped: largest move {clipped}, lr {}",
            base.lr
        );
        let refused = base
            .with_clip_norm(-1.0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(refused.contains("clip_norm"), "{refused}");
    }

    /// Where a step would read the dense `D` back to the host for its structure (the
    /// reference evaluator here, as wgpu does in training), the learner reads it only for
    /// the steps whose rows are recorded: their rows hold the structure of that step's
    /// `D`, the steps between report the last one read, and the parameters end bit for
    /// bit where a learner that reads at every step leaves them.
    #[test]
    fn a_learner_reads_the_structure_only_for_the_rows_it_records() {
        use crate::config::Evaluator;
        use crate::{Data, Dnm, DnmConfig, DnmLearner, Grid, Structure};
        use manifold_train::{Learner, Position};
        type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;
        let device = Default::default();
        // A large rate, so that the graph changes between steps.
        let config = |record_every| {
            DnmConfig::seed_toy()
                .with_evaluator(Evaluator::Reference)
                .with_lr(0.05)
                .with_steps(40)
                .with_record_every(record_every)
        };
        let (sparse, every) = (config(7), config(1));
        let mut reading = DnmLearner::<B>::new(&sparse, &Data::Toy, &device);
        let mut reference = DnmLearner::<B>::new(&every, &Data::Toy, &device);
        let grid = Grid::<B>::of(&sparse, &device);
        let (mut stale, mut recorded_rows) = (0, 0);
        for step in 0..sparse.steps {
            let fresh = Structure::of(&reading.model().cutoff(&grid, None).d, &grid);
            let before = reading.report;
            let at = Position {
                step,
                ..Position::default()
            };
            reading.step(&at).unwrap();
            reference.step(&at).unwrap();
            let seen = reading.report.structure();
            let ends = Position {
                step: step + 1,
                ..at
            };
            if reading.schedule().due(&ends).1 {
                recorded_rows += 1;
                assert_eq!(
                    (seen.depth, seen.density),
                    (fresh.depth, fresh.density),
                    "step {}",
                    step + 1
                );
            } else {
                assert_eq!(seen, before.structure(), "step {}", step + 1);
                stale += usize::from(seen.density != fresh.density);
            }
            assert_eq!(
                reading.report.objective,
                reference.report.objective,
                "step {}",
                step + 1
            );
        }
        assert_eq!(recorded_rows, 7, "steps 1, 7, 14, …, 35 and the last");
        assert!(stale > 0, "the graph changed between two reads");
        let values = |m: &Dnm<B>| {
            let mut all = Vec::new();
            for p in [
                &m.alpha, &m.beta, &m.gamma, &m.theta, &m.phi, &m.sigma, &m.mu, &m.kappa, &m.w,
                &m.b,
            ] {
                all.extend(p.val().into_data().to_vec::<f32>().unwrap());
            }
            all
        };
        assert_eq!(values(reading.model()), values(reference.model()));
    }
}

#[cfg(test)]
mod resume_tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use manifold_train::{Run, RunOptions};

    use super::*;
    use crate::pictures::{snapshot_geometry, SNAPSHOTS_FILE};
    use crate::snapshots::{NeuronShapes, SnapshotLog, Snapshots};

    type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

    /// The toy task for `steps` steps: records at 1, 5, 10, …, checkpoints every 10.
    fn toy(steps: usize) -> DnmConfig {
        DnmConfig::seed_toy()
            .with_steps(steps)
            .with_batch_size(8)
            .with_record_every(5)
            .with_eval_every(10)
    }

    /// Trains `toy(steps)` into `dir`: a new run, or `dir` resumed.
    fn run(dir: &Path, steps: usize, resume: bool) -> Result<(), TrainError> {
        let (options, config) = (RunOptions::new("dnm").progress_bar(false), toy(steps));
        let mut run = if resume {
            Run::resume(dir, options, &config)?
        } else {
            Run::create(options.out(dir), &config)?
        };
        train::<B>(&config, &Data::Toy, &Default::default(), &mut run).map(|_| ())
    }

    /// The steps of the whole records in a snapshot file, in file order (every one, not
    /// only those in force).
    fn physical_steps(bytes: &[u8]) -> Vec<u32> {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let (mut at, mut steps) = (32, Vec::new());
        while at + 8 <= bytes.len() {
            let end = at + 4 + u32_at(at) as usize;
            if end > bytes.len() {
                break;
            }
            steps.push(u32_at(at + 4));
            at = end;
        }
        steps
    }

    /// Every file under `dir` but the lock, with its bytes.
    fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.file_name().is_some_and(|n| n != "run.lock") {
                    out.insert(p.clone(), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn a_resume_cuts_the_snapshots_recorded_after_its_checkpoint() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        run(&dir, 20, false).unwrap();
        let path = dir.join(SNAPSHOTS_FILE);
        assert_eq!(
            physical_steps(&std::fs::read(&path).unwrap()),
            [1, 5, 10, 15, 20]
        );
        // Killed after its checkpoint at step 20 had recorded steps 25 and 30 (marked by
        // their cutoff) and begun another record.
        let rows = toy(20).comps() + toy(20).outputs;
        let zeros = vec![0f32; rows];
        let shapes = NeuronShapes {
            alpha: zeros.clone(),
            beta: zeros.clone(),
            gamma: zeros.clone(),
            theta: zeros.clone(),
            phi: zeros.clone(),
            sigma: zeros.clone(),
            mu: zeros,
        };
        let mut log = SnapshotLog::open(&path, snapshot_geometry(&toy(20))).unwrap();
        for step in [25, 30] {
            log.append_cells(step, 0.999, &shapes, &[]).unwrap();
        }
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&[60, 0, 0, 0, 35, 0]);
        std::fs::write(&path, &bytes).unwrap();
        run(&dir, 30, true).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            physical_steps(&bytes),
            [1, 5, 10, 15, 20, 25, 30],
            "every step once"
        );
        let s = Snapshots::read(&path).unwrap();
        assert!((0..s.len()).all(|k| s.get(k).unwrap().cutoff != 0.999));
    }

    #[test]
    fn a_resume_refuses_a_snapshot_file_of_another_period_before_writing_anything() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        run(&dir, 10, false).unwrap();
        let path = dir.join(SNAPSHOTS_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[24..32].copy_from_slice(&6.0f64.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let before = files(&dir);
        let err = run(&dir, 20, true).unwrap_err().to_string();
        assert!(
            err.contains(SNAPSHOTS_FILE) && err.contains("period = 6 in the file, 5 in this run"),
            "{err}"
        );
        assert!(files(&dir) == before, "the run directory changed");
    }
}
