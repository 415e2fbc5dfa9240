//! Every hyperparameter of the dense MLP, in one serde struct (TOML + CLI flags).

use burn::config::Config;
use manifold_train::{ModelConfig, TrainError};

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

    /// [`MlpConfig::validate`], then the memory of the weights, their gradients and
    /// Adam's two moments (with the optimiser's temporaries: eight f32 per weight)
    /// against the memory available.
    fn validate(&self) -> Result<(), TrainError> {
        MlpConfig::validate(self)?;
        let w = self.widths();
        let weights: f64 = w.windows(2).map(|p| (p[0] * p[1] + p[1]) as f64).sum();
        manifold_train::memory::check_fits("hidden", weights * 4.0 * 8.0)
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
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
}
