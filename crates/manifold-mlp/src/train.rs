//! Training and evaluating the MLP: Adam whose moments persist across minibatches and
//! epochs, one update per minibatch, a fresh shuffle every epoch. [`train`] is the whole
//! run: an [`MlpLearner`] driven by [`manifold_train::fit`], the workspace's one loop
//! (resume, metrics, checkpoints, pictures through an [`Observer`]); the learner's
//! [`Learner::step`] and [`evaluate`] are its parts, for hand-written loops.

use std::path::Path;

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor, TensorData};
use manifold_data::{ImageSet, Mnist};
use manifold_train::epoch::{EpochLoss, Minibatches};
use manifold_train::{
    all_finite, argmax_rows, batch_tensor, fit, labels_tensor, load_module, load_record,
    save_module, save_record, AdamParams, Evaluation, FusedAdam, Learner, Observer, Position,
    Schedule, StepError, Summary, TrainError, Trained,
};

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

/// The MLP being trained: the model, Adam's state and the epoch's running loss, for
/// [`manifold_train::fit`]. [`train_from`] builds one and runs it; benchmarks and
/// hand-written loops call [`Learner::step`] directly.
pub struct MlpLearner<'a, B: AutodiffBackend> {
    config: &'a MlpConfig,
    test: &'a ImageSet,
    train: ImageSet,
    device: B::Device,
    /// Always `Some` between steps (taken by value through the optimiser).
    model: Option<Mlp<B>>,
    optim: FusedAdam<B>,
    /// The epochs' shuffled minibatches.
    batches: Minibatches,
    /// The epoch's running training loss.
    loss: EpochLoss<B::InnerBackend>,
}

impl<'a, B: AutodiffBackend> MlpLearner<'a, B> {
    /// `model` trained on `data.train` (limited by `config.train_limit`), evaluated on
    /// `data.test`.
    pub fn new(model: Mlp<B>, config: &'a MlpConfig, data: &'a Mnist, device: &B::Device) -> Self {
        let train = data.train.limited(config.train_limit);
        Self {
            config,
            test: &data.test,
            device: device.clone(),
            model: Some(model),
            optim: adam::<B>(config),
            batches: Minibatches::new(config.seed, train.len(), config.batch_size),
            train,
            loss: EpochLoss::default(),
        }
    }

    /// The model as it stands.
    pub fn model(&self) -> &Mlp<B> {
        self.model
            .as_ref()
            .expect("the model is put back after every step")
    }

    fn take_model(&mut self) -> Mlp<B> {
        self.model
            .take()
            .expect("the model is put back after every step")
    }

    /// Minibatches per epoch.
    pub fn batches(&self) -> usize {
        self.batches.per_epoch()
    }
}

impl<B: AutodiffBackend> Learner for MlpLearner<'_, B> {
    type Model = Mlp<B>;

    fn name(&self) -> &'static str {
        "mlp"
    }

    fn columns(&self) -> &'static [&'static str] {
        &METRICS
    }

    fn schedule(&self) -> Schedule {
        Schedule::Epochs {
            epochs: self.config.epochs,
            batches: self.batches(),
        }
    }

    fn resume(&mut self, dir: &Path, at: &Position) -> Result<(), TrainError> {
        let model = self.take_model();
        self.model = Some(load_module(model, &dir.join("model"), &self.device)?);
        let record = load_record::<B::InnerBackend, _>(&dir.join("optim"), &self.device)?;
        self.optim = std::mem::replace(&mut self.optim, adam::<B>(self.config)).load_record(record);
        self.loss.resume(at, &self.device);
        Ok(())
    }

    fn step(&mut self, at: &Position) -> Result<(), StepError> {
        let config = self.config;
        let idx = self.batches.indices(at);
        let (x, y) = self.train.gather(idx);
        let shape = [idx.len(), self.train.dim()];
        let x = Tensor::<B::InnerBackend, 2>::from_data(TensorData::new(x, shape), &self.device);
        let labels = labels_tensor::<B::InnerBackend>(&y, &self.device);
        let model = self.take_model();
        // The gradients by hand, without an autodiff graph: autodiff's numbers, fewer ops.
        let (value, grads) = model.loss_and_gradients(x, labels);
        self.loss.add(at, value);
        self.model = Some(self.optim.step(config.learning_rate, model, grads));
        Ok(())
    }

    fn epoch_loss_sum(&mut self) -> f64 {
        self.loss.sum()
    }

    fn evaluate(&mut self) -> Evaluation {
        evaluate(&self.model().valid(), self.test, &self.device)
    }

    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
        let mean_loss = self.loss.mean(at);
        let eval = eval
            .copied()
            .unwrap_or(Evaluation::classification(f64::NAN, f64::NAN));
        vec![
            (at.epoch + 1) as f64,
            at.step as f64,
            mean_loss,
            eval.loss,
            eval.accuracy.unwrap_or(f64::NAN),
            at.wall_seconds,
        ]
    }

    fn params_finite(&self) -> bool {
        all_finite(self.model())
    }

    fn save(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.model(), &dir.join("model"))?;
        save_record::<B::InnerBackend, _>(self.optim.to_record(), &dir.join("optim"))
    }

    fn finish(
        mut self,
        observer: &dyn Observer,
        _at: &Position,
        summary: Summary,
    ) -> Result<(Mlp<B>, Summary), TrainError> {
        let model = self.take_model();
        if let Some(dir) = observer.output_dir() {
            save_module(&model, &dir.join("model"))?;
            draw_curves(dir)?;
            if observer.draws_pictures() {
                draw_first_layer(&dir.join("first_layer.png"), &model)?;
            }
        }
        // Kept connections: every weight of every layer; trainable: the biases too.
        let mut sizes = vec![self.config.inputs];
        sizes.extend(&self.config.hidden);
        sizes.push(self.config.classes);
        let connections: usize = sizes.windows(2).map(|w| w[0] * w[1]).sum();
        let summary = summary
            .with("connections", connections)
            .with("trainable", model.num_params());
        Ok((model, summary))
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

/// Trains `model` (which fixes the shapes a resumed checkpoint must have) through
/// [`manifold_train::fit`]: epochs of minibatch Adam steps, a test evaluation, a metrics
/// row and a checkpoint after each. When the observer resumes a run, the model and
/// Adam's moments come from its checkpoint; when it has an output directory, the final
/// model (`model.mpk`) and the curves go there, and `first_layer.png` too when it draws
/// pictures.
pub fn train_from<B: AutodiffBackend>(
    model: Mlp<B>,
    config: &MlpConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<Mlp<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    fit(MlpLearner::new(model, config, data, device), observer)
}
