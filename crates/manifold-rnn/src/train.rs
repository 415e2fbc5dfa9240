//! Training the recurrent baselines: [`train`] is the whole run, an [`RnnLearner`] driven
//! by [`manifold_train::fit`] (resume, metrics, checkpoints, summary through an
//! [`Observer`]); [`evaluate`] scores a network on the task's test set.

use std::path::Path;

use burn::module::{AutodiffModule, Module};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use manifold_data::{row_sequences, ImageSet, Mnist, SequenceTask};
use manifold_train::epoch::{EpochLoss, Minibatches};
use manifold_train::{
    all_finite, argmax_rows, fit, labels_tensor, load_module, load_record, save_module,
    save_record, Evaluation, Learner, Observer, Position, Schedule, StepError, Summary, TrainError,
    Trained,
};

use crate::config::RnnConfig;
use crate::model::Rnn;

/// The columns of `metrics.csv`, one row per epoch.
pub const METRICS: [&str; 7] = [
    "epoch",
    "step",
    "train_loss",
    "test_loss",
    "test_accuracy",
    "test_mse",
    "wall_seconds",
];

/// Test sequences scored at once.
const EVAL_BATCH: usize = 1000;

/// Burn's Adam over the network's parameters.
pub type RnnAdam<B> = OptimizerAdaptor<Adam, Rnn<B>, B>;

/// Adam with the config's gradient clipping (per parameter, by L2 norm).
pub fn adam<B: AutodiffBackend>(config: &RnnConfig) -> RnnAdam<B> {
    manifold_train::optim::clipped_adam::<B, Rnn<B>>(config.clip_norm)
}

/// What a batch is scored against.
enum Target<B: Backend> {
    /// Class labels (row-MNIST).
    Labels(Tensor<B, 1, Int>),
    /// The sums (the adding problem).
    Values(Tensor<B, 1>),
}

/// Cross-entropy on labels, mean squared error on values.
fn objective<B: Backend>(out: Tensor<B, 2>, target: Target<B>) -> Tensor<B, 1> {
    match target {
        Target::Labels(labels) => manifold_train::cross_entropy(out, labels),
        Target::Values(y) => {
            let n = y.dims()[0];
            (out.reshape([n]) - y).powi_scalar(2).mean()
        }
    }
}

/// Sequences `[n, steps, features]` and their targets as tensors.
fn tensors<B: Backend>(
    config: &RnnConfig,
    x: Vec<f32>,
    target: Result<Vec<u8>, Vec<f32>>,
    device: &B::Device,
) -> (Tensor<B, 3>, Target<B>) {
    let (_, features, _) = config.shape();
    let n = match &target {
        Ok(labels) => labels.len(),
        Err(y) => y.len(),
    };
    // The batch's own length: a curriculum's training sequences are shorter than the
    // task's.
    let steps = x.len() / (n.max(1) * features);
    let x = Tensor::from_data(TensorData::new(x, [n, steps, features]), device);
    let target = match target {
        Ok(labels) => Target::Labels(labels_tensor::<B>(&labels, device)),
        Err(y) => Target::Values(Tensor::from_data(TensorData::new(y, [n]), device)),
    };
    (x, target)
}

/// The network on the task's test set: accuracy and mean cross-entropy (row-MNIST) or
/// the MSE (the adding problem).
pub fn evaluate<B: Backend>(
    model: &Rnn<B>,
    config: &RnnConfig,
    mnist_test: Option<&ImageSet>,
    device: &B::Device,
) -> Evaluation {
    match (config.task, mnist_test) {
        (SequenceTask::RowMnist, Some(test)) => {
            let all: Vec<usize> = (0..test.len()).collect();
            let (mut loss_sum, mut predictions) = (0.0, Vec::with_capacity(test.len()));
            for idx in all.chunks(EVAL_BATCH) {
                let (x, y) = row_sequences(test, idx);
                let (x, target) = tensors::<B>(config, x, Ok(y), device);
                let logits = model.forward(x);
                predictions.extend(argmax_rows(logits.clone()));
                let loss = objective(logits, target).into_scalar().elem::<f64>();
                loss_sum += loss * idx.len() as f64;
            }
            Evaluation::classification(
                manifold_train::accuracy(&predictions, test.labels()),
                loss_sum / test.len().max(1) as f64,
            )
        }
        (SequenceTask::RowMnist, None) => Evaluation::classification(f64::NAN, f64::NAN),
        (SequenceTask::Adding { length }, _) => {
            let (x, y) = config.task.adding_test_set();
            let per = length * manifold_data::ADDING_FEATURES;
            let mut sum = 0.0;
            for (xs, ys) in x.chunks(EVAL_BATCH * per).zip(y.chunks(EVAL_BATCH)) {
                let (x, target) = tensors::<B>(config, xs.to_vec(), Err(ys.to_vec()), device);
                let mse = objective(model.forward(x), target)
                    .into_scalar()
                    .elem::<f64>();
                sum += mse * ys.len() as f64;
            }
            Evaluation::regression(sum / y.len().max(1) as f64)
        }
    }
}

/// The network being trained: the model, Adam's state, the epoch's minibatches and
/// running loss, for [`manifold_train::fit`].
pub struct RnnLearner<'a, B: AutodiffBackend> {
    config: &'a RnnConfig,
    /// Row-MNIST: the (limited) training images and the test images.
    mnist: Option<(ImageSet, &'a ImageSet)>,
    device: B::Device,
    /// Always `Some` between steps (taken by value through the optimiser).
    model: Option<Rnn<B>>,
    optim: RnnAdam<B>,
    batches: Minibatches,
    loss: EpochLoss<B::InnerBackend>,
}

impl<'a, B: AutodiffBackend> RnnLearner<'a, B> {
    /// `model` trained on the config's task (row-MNIST reads `mnist`).
    pub fn new(
        model: Rnn<B>,
        config: &'a RnnConfig,
        mnist: Option<&'a Mnist>,
        device: &B::Device,
    ) -> Self {
        let mnist = match config.task {
            SequenceTask::RowMnist => mnist.map(|m| (m.train.limited(config.train_limit), &m.test)),
            SequenceTask::Adding { .. } => None,
        };
        let n = config.epoch_size(mnist.as_ref().map_or(0, |(train, _)| train.len()));
        Self {
            config,
            mnist,
            device: device.clone(),
            model: Some(model),
            optim: adam::<B>(config),
            batches: Minibatches::new(config.seed, n, config.batch_size),
            loss: EpochLoss::default(),
        }
    }

    /// The model as it stands.
    pub fn model(&self) -> &Rnn<B> {
        self.model
            .as_ref()
            .expect("the model is put back after every step")
    }

    fn take_model(&mut self) -> Rnn<B> {
        self.model
            .take()
            .expect("the model is put back after every step")
    }
}

impl<B: AutodiffBackend> Learner for RnnLearner<'_, B> {
    type Model = Rnn<B>;

    fn name(&self) -> &'static str {
        "rnn"
    }

    fn columns(&self) -> &'static [&'static str] {
        &METRICS
    }

    fn schedule(&self) -> Schedule {
        Schedule::Epochs {
            epochs: self.config.epochs,
            batches: self.batches.per_epoch(),
        }
    }

    fn resume(&mut self, dir: &Path, at: &Position) -> Result<(), TrainError> {
        let model = self.take_model();
        self.model = Some(load_module(model, &dir.join("model"), &self.device)?);
        let record = load_record::<B, _>(&dir.join("optim"), &self.device)?;
        self.optim = std::mem::replace(&mut self.optim, adam::<B>(self.config)).load_record(record);
        self.loss.resume(at, &self.device);
        Ok(())
    }

    fn step(&mut self, at: &Position) -> Result<(), StepError> {
        let config = self.config;
        let (x, target) = match &self.mnist {
            Some((train, _)) => {
                let (x, y) = row_sequences(train, self.batches.indices(at));
                (x, Ok(y))
            }
            None => {
                let length = config.adding_train_length(at.step);
                let (x, y) = SequenceTask::Adding { length }.adding_train_batch(
                    config.seed,
                    at.step,
                    config.batch_size,
                );
                (x, Err(y))
            }
        };
        let (x, target) = tensors::<B>(config, x, target, &self.device);
        let model = self.take_model();
        let loss = objective(model.forward(x), target);
        self.loss.add(at, loss.clone().inner());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optim.step(config.learning_rate, model, grads));
        Ok(())
    }

    fn epoch_loss_sum(&mut self) -> f64 {
        self.loss.sum()
    }

    fn evaluate(&mut self) -> Evaluation {
        let test = self.mnist.as_ref().map(|(_, test)| *test);
        evaluate(&self.model().valid(), self.config, test, &self.device)
    }

    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
        let nan = f64::NAN;
        vec![
            (at.epoch + 1) as f64,
            at.step as f64,
            self.loss.mean(at),
            eval.map_or(nan, |e| e.loss),
            eval.and_then(|e| e.accuracy).unwrap_or(nan),
            eval.and_then(|e| e.mse).unwrap_or(nan),
            at.wall_seconds,
        ]
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
        _at: &Position,
        summary: Summary,
    ) -> Result<(Rnn<B>, Summary), TrainError> {
        let model = self.take_model();
        if let Some(dir) = observer.output_dir() {
            save_module(&model, &dir.join("model"))?;
        }
        let summary = summary
            .with("connections", self.config.connections())
            .with("trainable", model.num_params());
        Ok((model, summary))
    }
}

/// Refuses a task without its data: row-MNIST needs `mnist` with 28 × 28 images.
pub fn check_data(config: &RnnConfig, mnist: Option<&Mnist>) -> Result<(), TrainError> {
    match (config.task, mnist) {
        (SequenceTask::RowMnist, None) => Err(TrainError::config(
            "task",
            "row-mnist needs the MNIST files (none were loaded)",
        )),
        (SequenceTask::RowMnist, Some(m)) => manifold_train::check_images(784, 10, m),
        (SequenceTask::Adding { .. }, _) => Ok(()),
    }
}

/// Trains a fresh network (Burn's initialisers drawing from the backend seeded with
/// `config.seed` first, so that a seed repeats its run) for `config.epochs` epochs through [`manifold_train::fit`]: minibatch Adam steps, a test
/// evaluation, a metrics row and a checkpoint after each epoch; when the observer
/// resumes a run, the model and Adam's moments come from its checkpoint; when it has an
/// output directory, the final model (`model.mpk`) goes there.
pub fn train<B: AutodiffBackend>(
    config: &RnnConfig,
    mnist: Option<&Mnist>,
    device: &B::Device,
    observer: &mut dyn Observer,
) -> Result<Trained<Rnn<B>>, TrainError> {
    manifold_train::ModelConfig::validate(config)?;
    check_data(config, mnist)?;
    B::seed(device, config.seed);
    fit(
        RnnLearner::new(Rnn::new(config, device), config, mnist, device),
        observer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use manifold_train::Silent;

    type B = Autodiff<burn_ndarray::NdArray<f32>>;

    /// An LSTM of 16 units solves the adding problem at T = 10 in 500 steps: test MSE
    /// under 0.02, against 1/6 for the constant answer.
    #[test]
    fn an_lstm_learns_the_adding_problem_at_t10() {
        let config = RnnConfig::new()
            .with_task(SequenceTask::Adding { length: 10 })
            .with_hidden(16)
            .with_epochs(5)
            .with_sequences_per_epoch(6400)
            .with_learning_rate(0.01);
        let trained = train::<B>(&config, None, &Default::default(), &mut Silent).unwrap();
        let mse = trained.evaluation.mse.unwrap();
        assert!(mse < 0.02, "test MSE {mse}");
        assert_eq!(trained.summary.steps, Some(500));
    }

    /// Under a curriculum a minibatch holds the sequences of its step's length, read as
    /// `[n, T(step), 2]`, and the test set keeps the task's length; a curriculum on
    /// row-MNIST or with a start past the length is refused, naming the field.
    #[test]
    fn a_curriculum_minibatch_has_its_steps_length() {
        let config = RnnConfig::new()
            .with_task(SequenceTask::Adding { length: 10 })
            .with_curriculum_steps(8)
            .with_curriculum_start(2);
        manifold_train::ModelConfig::validate(&config).unwrap();
        let device = Default::default();
        for (step, length) in [(0, 2), (4, 6), (8, 10), (20, 10)] {
            assert_eq!(config.adding_train_length(step), length);
            let (x, y) = SequenceTask::Adding { length }.adding_train_batch(0, step, 3);
            let (x, _) = tensors::<B>(&config, x, Err(y), &device);
            assert_eq!(x.dims(), [3, length, 2], "step {step}");
        }
        let (x, y) = config.task.adding_test_set();
        let (x, _) = tensors::<B>(&config, x[..4 * 20].to_vec(), Err(y[..4].to_vec()), &device);
        assert_eq!(x.dims(), [4, 10, 2]);
        let refused = |c: RnnConfig| manifold_train::ModelConfig::validate(&c).unwrap_err();
        let row_mnist = RnnConfig::new().with_curriculum_steps(8);
        assert!(refused(row_mnist)
            .to_string()
            .contains("`curriculum_steps`"));
        let too_long = config.with_curriculum_start(11);
        assert!(refused(too_long).to_string().contains("`curriculum_start`"));
    }

    /// A seed repeats its run bit for bit (the initial weights come from the seeded
    /// backend); another seed gives another run.
    #[test]
    fn a_seed_repeats_its_run() {
        let config = RnnConfig::new()
            .with_task(SequenceTask::Adding { length: 5 })
            .with_hidden(4)
            .with_epochs(1)
            .with_sequences_per_epoch(640);
        let mse = |seed: u64| {
            let config = config.clone().with_seed(seed);
            let trained = train::<B>(&config, None, &Default::default(), &mut Silent).unwrap();
            trained.evaluation.mse.unwrap()
        };
        let first = mse(3);
        assert_eq!(first.to_bits(), mse(3).to_bits());
        assert_ne!(first.to_bits(), mse(4).to_bits());
    }

    /// A GRU of 32 units reads row-sequential MNIST: above 70% on the 10 000 test images
    /// after one epoch of 10 000 training images; without the MNIST files the task is
    /// refused naming the field.
    #[test]
    fn a_gru_reads_row_sequential_mnist() {
        let data = Mnist::load_default(None).unwrap();
        let config = RnnConfig::new()
            .with_cell(crate::Cell::Gru)
            .with_hidden(32)
            .with_epochs(1)
            .with_train_limit(10_000)
            .with_learning_rate(0.005);
        let trained = train::<B>(&config, Some(&data), &Default::default(), &mut Silent).unwrap();
        let accuracy = trained.evaluation.accuracy.unwrap();
        assert!(accuracy > 0.7, "test accuracy {accuracy}");
        let err = train::<B>(&config, None, &Default::default(), &mut Silent).unwrap_err();
        assert!(err.to_string().starts_with("config field `task`"), "{err}");
    }
}
