//! Every hyperparameter of the dense MLP, in one serde struct (TOML + CLI flags).

use burn::config::Config;
use manifold_train::{ModelConfig, TrainError};

/// The images of the MNIST training set: the most a minibatch can hold (a larger
/// `batch_size` takes them all), in the memory estimate.
const MNIST_TRAIN_IMAGES: usize = 60_000;

/// The test images `train::evaluate` runs at once, in the memory estimate.
const EVAL_BATCH: usize = 2000;

/// The MLP's configuration. Defaults reproduce the spec: 784-16-16-10, ReLU, softmax +
/// cross-entropy, He init, Adam with persistent moments, batch 32, shuffled epochs.
#[derive(Config, Debug, PartialEq)]
pub struct MlpConfig {
    /// Inputs (28×28 pixels).
    #[config(default = 784)]
    pub inputs: usize,
    /// Hidden layer widths.
    #[config(default = "vec![16, 16]")]
    pub hidden: Vec<usize>,
    /// Classes.
    #[config(default = 10)]
    pub classes: usize,
    /// Passes over the 60 000 training images.
    #[config(default = 15)]
    pub epochs: usize,
    /// Minibatch size: one Adam update per minibatch.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam step size.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Adam β₁ (first-moment decay).
    #[config(default = 0.9)]
    pub beta1: f32,
    /// Adam β₂ (second-moment decay).
    #[config(default = 0.999)]
    pub beta2: f32,
    /// Adam ε.
    #[config(default = 1e-8)]
    pub epsilon: f32,
    /// Seed of the initialisation and of the epoch shuffles.
    #[config(default = 0)]
    pub seed: u64,
    /// Use only the first N training images (0 = all).
    #[config(default = 0)]
    pub train_limit: usize,
}

impl MlpConfig {
    /// Rejects impossible values, naming the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let positive = |name: &str, v: usize| {
            if v == 0 {
                Err(TrainError::config(name, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("inputs", self.inputs)?;
        positive("classes", self.classes)?;
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(TrainError::config(
                "hidden",
                format!("layer {i} has width 0"),
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::config(
                "learning_rate",
                "must be a positive number",
            ));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(TrainError::config(name, "must lie in [0, 1)"));
            }
        }
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(TrainError::config("epsilon", "must be positive"));
        }
        Ok(())
    }

    /// Rejects a config that does not fit `data`: `inputs` must be the image size,
    /// `classes` above every label, and neither image set empty.
    pub fn check_data(&self, data: &manifold_data::Mnist) -> Result<(), TrainError> {
        manifold_train::check_images(self.inputs, self.classes, data)
    }

    /// The estimated memory of a run in bytes, `(weights, batch)`, with `P` the weights
    /// and biases, `A` the sum of the layer widths (inputs, hidden, classes) and f32
    /// (4 bytes) throughout:
    ///
    /// ```text
    /// weights    = P · 4 · 8          the parameters, their gradients, Adam's two moments
    ///                                 and the optimiser's temporaries (eight values each)
    /// batch      = max(step, evaluation)
    /// step       = b · A · 4 · 4      each layer's output and ReLU, and their gradients
    /// evaluation = 2000 · A · 4 · 2   the same forward only, 2 000 test images at once
    /// ```
    ///
    /// `b` is the minibatch: `batch_size`, at most the training images (`train_limit`,
    /// else the 60 000 of MNIST), since a batch cannot hold more.
    pub fn memory_bytes(&self) -> (f64, f64) {
        let w = self.widths();
        let params: f64 = w.windows(2).map(|p| (p[0] * p[1] + p[1]) as f64).sum();
        let (step, evaluation) = self.batch_bytes();
        (params * 4.0 * 8.0, step.max(evaluation))
    }

    /// `(step, evaluation)` of [`MlpConfig::memory_bytes`].
    fn batch_bytes(&self) -> (f64, f64) {
        let widths: f64 = self.widths().iter().map(|&w| w as f64).sum();
        let images = match self.train_limit {
            0 => MNIST_TRAIN_IMAGES,
            limit => limit.min(MNIST_TRAIN_IMAGES),
        };
        let b = self.batch_size.min(images) as f64;
        (
            b * widths * 4.0 * 4.0,
            EVAL_BATCH as f64 * widths * 4.0 * 2.0,
        )
    }

    /// Layer widths from input to output, e.g. `[784, 16, 16, 10]`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.inputs];
        w.extend(&self.hidden);
        w.push(self.classes);
        w
    }
}

impl ModelConfig for MlpConfig {
    const RESUMABLE: &'static [&'static str] = &["epochs", "learning_rate"];

    /// [`MlpConfig::validate`], then the memory estimate of [`MlpConfig::memory_bytes`]
    /// (`weights + batch`) against the memory available. The error names the field of
    /// the larger term: `hidden` for the weights, `batch_size` for the batch (`hidden`
    /// when the evaluation's fixed-size batches are the larger part of it).
    fn validate(&self) -> Result<(), TrainError> {
        MlpConfig::validate(self)?;
        let (weights, _) = self.memory_bytes();
        let (step, evaluation) = self.batch_bytes();
        manifold_train::memory::check_model_and_batch_fit("hidden", weights, step, evaluation)
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }

    fn defaults() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_spec() {
        let c = MlpConfig::new();
        assert_eq!(c.widths(), vec![784, 16, 16, 10]);
        assert_eq!((c.batch_size, c.learning_rate), (32, 1e-3));
        c.validate().unwrap();
    }

    #[test]
    fn impossible_values_name_the_field() {
        let msg = |c: MlpConfig| c.validate().unwrap_err().to_string();
        assert_eq!(
            msg(MlpConfig::new().with_epochs(0)),
            "config field `epochs`: must be at least 1"
        );
        assert_eq!(
            msg(MlpConfig::new().with_batch_size(0)),
            "config field `batch_size`: must be at least 1"
        );
        assert_eq!(
            msg(MlpConfig::new().with_hidden(vec![16, 0])),
            "config field `hidden`: layer 1 has width 0"
        );
        assert!(msg(MlpConfig::new().with_learning_rate(-1.0))
            .starts_with("config field `learning_rate`"));
        assert!(msg(MlpConfig::new().with_beta2(1.0)).starts_with("config field `beta2`"));
    }
    /// The estimate by hand for 5-4-3-3 (P = 24 + 15 + 12 = 51 parameters, A = 15).
    #[test]
    fn the_memory_estimate_counts_the_weights_the_batch_and_the_evaluation() {
        let tiny = MlpConfig::new()
            .with_inputs(5)
            .with_hidden(vec![4, 3])
            .with_classes(3)
            .with_batch_size(10);
        assert_eq!(
            tiny.batch_bytes(),
            (10.0 * 15.0 * 16.0, 2000.0 * 15.0 * 8.0)
        );
        assert_eq!(tiny.memory_bytes(), (51.0 * 32.0, 240_000.0));
        // A batch holds at most the training images: all of MNIST, or `train_limit`.
        let absurd = tiny.with_batch_size(1_000_000_000);
        assert_eq!(absurd.batch_bytes().0, 60_000.0 * 15.0 * 16.0);
        assert_eq!(
            absurd.with_train_limit(100).batch_bytes().0,
            100.0 * 15.0 * 16.0
        );
        // The spec's network: 13 002 parameters, widths 826; batch 32.
        let spec = MlpConfig::new();
        assert_eq!(spec.memory_bytes(), (13_002.0 * 32.0, 2000.0 * 826.0 * 8.0));
    }

    #[test]
    fn an_absurd_batch_is_refused_naming_batch_size_and_the_spec_fits() {
        // All 60 000 images through a layer of a million units: about 960 GB of
        // activations against 25 GB of weights.
        let absurd = MlpConfig::new()
            .with_hidden(vec![1_000_000])
            .with_batch_size(1_000_000_000);
        let (weights, batch) = absurd.memory_bytes();
        assert!(batch > weights);
        let err = ModelConfig::validate(&absurd).unwrap_err().to_string();
        assert!(
            err.starts_with("config field `batch_size`: needs about"),
            "{err}"
        );
        // Wide weights with a small batch name `hidden`.
        let wide = MlpConfig::new().with_hidden(vec![10_000_000]);
        let err = ModelConfig::validate(&wide).unwrap_err().to_string();
        assert!(
            err.starts_with("config field `hidden`: needs about"),
            "{err}"
        );
        let (weights, batch) = MlpConfig::new().memory_bytes();
        assert!(weights + batch < 2e9);
        ModelConfig::validate(&MlpConfig::new()).unwrap();
    }
}
