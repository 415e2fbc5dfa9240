//! Training and evaluating the SET-MLP: one Adam step per minibatch, a fresh shuffle
//! every epoch, the learning-rate schedule of the config, and the topology evolution
//! after each epoch. [`train`] is the whole run, a [`SetLearner`] driven by
//! [`manifold_train::fit`]; the learner's steps, [`SetLearner::evolve_if_due`] and
//! [`evaluate`] are its parts, for hand-written loops.

use std::path::{Path, PathBuf};

use crate::kernels::{SetAutodiffBackend, SetBackend};
use burn::module::AutodiffModule;
use burn::tensor::ElementConversion;
use manifold_data::{ImageSet, Mnist};
use manifold_train::epoch::{EpochLoss, Minibatches};
use manifold_train::files::{Kept, MetricsLog};
use manifold_train::{
    all_finite, argmax_rows, batch_tensor, fit, labels_tensor, load_module, save_module,
    Evaluation, Learner, Observer, Position, Schedule, StepError, Summary, TrainError, Trained,
};

use crate::config::{ComputePath, Regrow, SetConfig};
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

/// The SET-MLP being trained: the model, its sparse Adam state, the epoch's running
/// loss and the connectivity log, for [`manifold_train::fit`]. [`train`] builds one and
/// runs it; benchmarks and experiments call its steps directly.
pub struct SetLearner<'a, B: SetAutodiffBackend> {
    config: &'a SetConfig,
    test: &'a ImageSet,
    train: ImageSet,
    device: B::Device,
    /// Always `Some` between steps (taken by value through the optimiser).
    model: Option<SetMlp<B>>,
    state: SparseAdam<B::InnerBackend>,
    /// The epochs' shuffled minibatches.
    batches: Minibatches,
    /// The epoch's running training loss.
    loss: EpochLoss<B::InnerBackend>,
    /// `connectivity.csv` and the directory its pictures go to, when drawing pictures.
    connectivity: Option<(PathBuf, MetricsLog)>,
    /// What `prepare` accepted of an existing `connectivity.csv`.
    kept: Option<Kept>,
}

impl<'a, B: SetAutodiffBackend> SetLearner<'a, B> {
    /// `model` trained on `data.train` (limited by `config.train_limit`), evaluated on
    /// `data.test`.
    pub fn new(
        model: SetMlp<B>,
        config: &'a SetConfig,
        data: &'a Mnist,
        device: &B::Device,
    ) -> Self {
        let train = data.train.limited(config.train_limit);
        Self {
            config,
            test: &data.test,
            device: device.clone(),
            state: SparseAdam::<B::InnerBackend>::new(&model, device),
            model: Some(model),
            batches: Minibatches::new(config.seed, train.len(), config.batch_size),
            train,
            loss: EpochLoss::default(),
            connectivity: None,
            kept: None,
        }
    }

    /// The model as it stands.
    pub fn model(&self) -> &SetMlp<B> {
        self.model
            .as_ref()
            .expect("the model is put back after every step")
    }

    fn take_model(&mut self) -> SetMlp<B> {
        self.model
            .take()
            .expect("the model is put back after every step")
    }

    /// Evolves the topology after finished epoch `epoch` (0-based) when the config asks
    /// for it (see [`SetConfig::evolves_after`]).
    pub fn evolve_if_due(&mut self, epoch: usize) {
        if self.config.evolves_after(epoch) {
            let gradients = match self.config.regrow {
                Regrow::Random => None,
                Regrow::Gradient => Some(self.dense_gradients(epoch)),
            };
            let model = self.take_model();
            let evolved = evolve(
                model,
                &mut self.state,
                self.config,
                epoch,
                gradients.as_deref(),
            );
            self.model = Some(evolved.0);
        }
    }

    /// RigL's dense gradients after epoch `epoch`, on `gradient_images` training images
    /// drawn by the epoch's seed stream (the same on a resumed run).
    fn dense_gradients(&self, epoch: usize) -> Vec<Vec<f32>> {
        let order =
            manifold_train::epoch_order(self.config.seed ^ 0x5167_5eed, epoch, self.train.len());
        let idx = &order[..self.config.gradient_images.min(order.len())];
        let (x, y) = self.train.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), self.train.dim(), &self.device);
        let y = labels_tensor::<B>(&y, &self.device);
        crate::gradient::dense_gradients(self.model(), x, y, self.config.path)
    }

    /// Minibatches per epoch.
    pub fn batches(&self) -> usize {
        self.batches.per_epoch()
    }
}

impl<B: SetAutodiffBackend> Learner for SetLearner<'_, B> {
    type Model = SetMlp<B>;

    fn name(&self) -> &'static str {
        "set"
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
        let state = SparseAdam::<B::InnerBackend>::new(self.model(), &self.device);
        self.state = load_module(state, &dir.join("optim"), &self.device)?;
        self.loss.resume(at, &self.device);
        Ok(())
    }

    fn prepare(
        &mut self,
        observer: &dyn Observer,
        resumed: Option<&Position>,
    ) -> Result<(), TrainError> {
        if let Some(dir) = observer.output_dir().filter(|_| observer.draws_pictures()) {
            let epochs = resumed.map_or(0, |at| at.epoch);
            self.kept = Some(pictures::check_connectivity(dir, epochs)?);
        }
        Ok(())
    }

    fn open(&mut self, observer: &dyn Observer, _: Option<&Position>) -> Result<(), TrainError> {
        if let (Some(dir), Some(kept)) = (observer.output_dir(), self.kept.take()) {
            let log = pictures::connectivity_log(dir, kept)?;
            self.connectivity = Some((dir.to_path_buf(), log));
        }
        Ok(())
    }

    fn step(&mut self, at: &Position) -> Result<(), StepError> {
        let config = self.config;
        let idx = self.batches.indices(at);
        let (x, y) = self.train.gather(idx);
        let x = batch_tensor::<B>(&x, idx.len(), self.train.dim(), &self.device);
        let model = self.take_model();
        let loss = model.loss(x, labels_tensor::<B>(&y, &self.device), config.path);
        let value = loss.clone().inner();
        self.loss.add(at, value);
        let grads = loss.backward();
        let lr = config.lr_at(at.epoch);
        self.model = Some(adam_step(model, &mut self.state, &grads, lr, config));
        Ok(())
    }

    fn epoch_loss_sum(&mut self) -> f64 {
        self.loss.sum()
    }

    /// Evaluated before the evolution: the regrown connections are not trained yet.
    fn evaluate(&mut self) -> Evaluation {
        evaluate(
            &self.model().valid(),
            self.test,
            self.config.path,
            &self.device,
        )
    }

    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
        let mean_loss = self.loss.mean(at);
        let eval = eval
            .copied()
            .unwrap_or(Evaluation::classification(f64::NAN, f64::NAN));
        vec![
            (at.epoch + 1) as f64,
            at.step as f64,
            self.config.lr_at(at.epoch),
            mean_loss,
            eval.loss,
            eval.accuracy.unwrap_or(f64::NAN),
            self.model().density(),
            at.wall_seconds,
        ]
    }

    /// The connectivity pictures of the finished epoch, then the topology evolution.
    fn recorded(&mut self, _: &dyn Observer, at: &Position) -> Result<(), TrainError> {
        if let Some((dir, log)) = &mut self.connectivity {
            let model = self
                .model
                .as_ref()
                .expect("the model is put back after every step");
            pictures::draw_connectivity(dir, model, at.epoch + 1, log)?;
        }
        self.evolve_if_due(at.epoch);
        Ok(())
    }

    fn params_finite(&self) -> bool {
        all_finite(self.model())
    }

    fn save(&self, dir: &Path) -> Result<(), TrainError> {
        save_module(self.model(), &dir.join("model"))?;
        save_module(&self.state, &dir.join("optim"))
    }

    fn finish(
        mut self,
        observer: &dyn Observer,
        _: &Position,
        summary: Summary,
    ) -> Result<(SetMlp<B>, Summary), TrainError> {
        let model = self.take_model();
        if let Some(dir) = observer.output_dir() {
            save_module(&model, &dir.join("model"))?;
            pictures::draw_curves(dir)?;
            pictures::draw_input_connections(&dir.join("input_connections.png"), &model)?;
            pictures::draw_centre_margin(dir)?;
        }
        let counts = model.connection_counts();
        // Trainable: every slot's weight and every bias (the connection lists are
        // rewired by the evolution, not trained).
        let trainable: usize = model
            .layers
            .iter()
            .map(|l| l.weights.val().dims()[0] + l.bias.val().dims()[0])
            .sum();
        let summary = summary
            .with("connections", counts.iter().sum::<usize>())
            .with("trainable", trainable)
            .with("density", model.density())
            .with("connections_per_layer", counts)
            .with("path", format!("{:?}", self.config.path));
        Ok((model, summary))
    }
}

/// Accuracy and mean cross-entropy on a whole image set.
pub fn evaluate<B: SetBackend>(
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

/// Trains a fresh SET-MLP on `data.train` for `config.epochs` epochs through
/// [`manifold_train::fit`], each followed by a test evaluation, a metrics row, the
/// topology evolution and a checkpoint, reporting to `observer`. When the observer
/// resumes a run, the model and the optimiser state come from its checkpoint; when it
/// has an output directory, the final model (`model.mpk`) and the pictures go there.
pub fn train<B: SetAutodiffBackend>(
    config: &SetConfig,
    data: &Mnist,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<SetMlp<B>>, TrainError> {
    config.validate()?;
    config.check_data(data)?;
    B::seed(device, config.seed);
    let model = SetMlp::<B>::new(config, device);
    fit(SetLearner::new(model, config, data, device), observer)
}
