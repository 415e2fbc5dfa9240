//! Every hyperparameter of SET, in one serde struct (TOML + CLI flags).

use burn::config::Config;
use manifold_train::{ModelConfig, TrainError};

/// Which connections the evolution step removes.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum PruneRule {
    /// Mocanu et al.: ζ of the smallest positive and ζ of the largest negative weights.
    Paper,
    /// ζ of all connections, those of smallest |w|.
    Magnitude,
}

/// Where the evolution step regrows the connections it removed.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Regrow {
    /// SET: uniformly at random among the empty positions, with fresh random weights.
    Random,
    /// RigL (Evci et al. 2020): at the empty positions where the dense gradient
    /// `|∂L/∂W|` (measured on `gradient_images` training images) is largest, with weight 0.
    Gradient,
}

/// The two compute paths of a sparse layer (identical results).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ComputePath {
    /// Gather/scatter over the COO connection list: work and memory ∝ connections.
    Sparse,
    /// Scatter the weights into a dense n_in×n_out matrix, then a dense matmul.
    Masked,
}

/// The images of the MNIST training set: the most a minibatch can hold (a larger
/// `batch_size` takes them all), in the memory estimate.
const MNIST_TRAIN_IMAGES: usize = 60_000;

/// The test images `train::evaluate` runs at once, in the memory estimate.
const EVAL_BATCH: usize = 1000;

/// The SET-MLP's configuration. Defaults: 784-1000-1000-1000-10, ε = 20, ζ = 0.3,
/// ReLU, dropout, Adam with a step decay of the learning rate.
#[derive(Config, Debug, PartialEq)]
pub struct SetConfig {
    /// Inputs (28×28 pixels).
    #[config(default = 784)]
    pub inputs: usize,
    /// Hidden layer widths.
    #[config(default = "vec![1000, 1000, 1000]")]
    pub hidden: Vec<usize>,
    /// Classes.
    #[config(default = 10)]
    pub classes: usize,
    /// Erdős–Rényi ε: density = ε·(n_in+n_out)/(n_in·n_out), capped at 1.
    #[config(default = 20.0)]
    pub epsilon: f64,
    /// A fixed density for every layer instead of ε (0 = use ε).
    #[config(default = 0.0)]
    pub density: f64,
    /// Fraction of connections removed and regrown after each epoch.
    #[config(default = 0.3)]
    pub zeta: f64,
    /// Pruning rule: "Paper" or "Magnitude".
    #[config(default = "PruneRule::Paper")]
    pub prune_rule: PruneRule,
    /// Regrowth: "Random" (SET) or "Gradient" (RigL).
    #[config(default = "Regrow::Random")]
    pub regrow: Regrow,
    /// Training images the dense gradient of `Gradient` regrowth is measured on.
    #[config(default = 1000)]
    pub gradient_images: usize,
    /// Compute path: "Sparse" or "Masked".
    #[config(default = "ComputePath::Sparse")]
    pub path: ComputePath,
    /// L2 penalty coefficient λ₂ (adds λ₂·w to the gradient, or decays w when `decoupled`).
    #[config(default = 0.0)]
    pub l2: f64,
    /// L1 penalty coefficient λ₁ (adds λ₁·sign(w) to the gradient).
    #[config(default = 0.0)]
    pub l1: f64,
    /// Decoupled weight decay (AdamW): w ← w − lr·λ₂·w instead of adding λ₂·w to g.
    #[config(default = false)]
    pub decoupled: bool,
    /// Dropout probability on hidden activations during training.
    #[config(default = 0.2)]
    pub dropout: f64,
    /// Passes over the training images.
    #[config(default = 30)]
    pub epochs: usize,
    /// Minibatch size.
    #[config(default = 128)]
    pub batch_size: usize,
    /// Adam step size at epoch 0.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// The learning rate is multiplied by `lr_decay` every `lr_step` epochs.
    #[config(default = 0.5)]
    pub lr_decay: f64,
    /// Epochs between learning-rate decays (0 = constant rate).
    #[config(default = 10)]
    pub lr_step: usize,
    /// Adam β₁.
    #[config(default = 0.9)]
    pub beta1: f64,
    /// Adam β₂.
    #[config(default = 0.999)]
    pub beta2: f64,
    /// Std of a regrown weight relative to the layer's initial std.
    #[config(default = 1.0)]
    pub regrow_scale: f64,
    /// No evolution after this epoch (0 = evolve after every epoch but the last).
    #[config(default = 0)]
    pub evolve_until: usize,
    /// Seed of topology, initialisation, dropout and shuffles.
    #[config(default = 0)]
    pub seed: u64,
    /// Use only the first N training images (0 = all).
    #[config(default = 0)]
    pub train_limit: usize,
}

/// The presets of `manifold train set --preset NAME`.
pub const PRESETS: [&str; 3] = ["best", "original", "rigl"];

impl SetConfig {
    /// A named configuration: `original` is Mocanu et al.'s MNIST setting (the
    /// defaults: 30 epochs, dropout 0.2, evolution after every epoch, regrowth at the
    /// initial scale, learning rate halved every 10 epochs); `best` (the CLI's default)
    /// trains 24 epochs with dropout 0.1, evolves until epoch 18, regrows at a tenth of
    /// the initial scale and halves the learning rate every 8 epochs; `rigl` is `best`
    /// with RigL's evolution: the ζ of smallest |w| removed, regrown where the dense
    /// gradient is largest, at weight 0.
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        match name {
            "original" => Ok(Self::new()),
            "best" => Ok(Self::new()
                .with_epochs(24)
                .with_dropout(0.1)
                .with_evolve_until(18)
                .with_regrow_scale(0.1)
                .with_lr_step(8)),
            "rigl" => Ok(Self::preset("best")?
                .with_prune_rule(PruneRule::Magnitude)
                .with_regrow(Regrow::Gradient)),
            other => Err(TrainError::config(
                "preset",
                format!("unknown preset `{other}` (known: {})", PRESETS.join(", ")),
            )),
        }
    }

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
        if self.regrow == Regrow::Gradient {
            positive("gradient_images", self.gradient_images)?;
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(TrainError::config(
                "hidden",
                format!("layer {i} has width 0"),
            ));
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(TrainError::config("epsilon", "must be a positive number"));
        }
        if !(self.density.is_finite() && (0.0..=1.0).contains(&self.density)) {
            return Err(TrainError::config(
                "density",
                "must lie in [0, 1] (0 = use epsilon)",
            ));
        }
        if !(0.0..1.0).contains(&self.zeta) {
            return Err(TrainError::config("zeta", "must lie in [0, 1)"));
        }
        for (name, v) in [
            ("l2", self.l2),
            ("l1", self.l1),
            ("regrow_scale", self.regrow_scale),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(TrainError::config(name, "must be a non-negative number"));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(TrainError::config("dropout", "must lie in [0, 1)"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::config(
                "learning_rate",
                "must be a positive number",
            ));
        }
        if !(self.lr_decay.is_finite() && self.lr_decay > 0.0) {
            return Err(TrainError::config("lr_decay", "must be a positive number"));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return Err(TrainError::config(name, "must lie in [0, 1)"));
            }
        }
        Ok(())
    }

    /// Rejects a config that does not fit `data` (`inputs` = image size, `classes`
    /// above every label, no empty image set).
    pub fn check_data(&self, data: &manifold_data::Mnist) -> Result<(), TrainError> {
        manifold_train::check_images(self.inputs, self.classes, data)
    }

    /// Layer widths from input to output, e.g. `[784, 1000, 1000, 1000, 10]`.
    pub fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.inputs];
        w.extend(&self.hidden);
        w.push(self.classes);
        w
    }

    /// The estimated memory of a run in bytes, `(layers, batch)`, with `A` the sum of the
    /// layer widths (inputs, hidden, classes) and f32 (4 bytes) throughout:
    ///
    /// ```text
    /// layers     = cells · 4 · 8      per layer, the dense matrix and its mask (2·n_in·n_out
    ///                                 cells, masked path) or the kept connections with their
    ///                                 two indices (3·density·n_in·n_out, sparse path), their
    ///                                 gradients and Adam's moments
    /// batch      = max(step, evaluation)
    /// step       = b · A · 4 · 8      per unit the product, the biased sum, the ReLU, the
    ///                                 dropout mask and output, and three gradients
    /// evaluation = 1000 · A · 4 · 4   forward only, 1 000 test images at once
    /// ```
    ///
    /// `b` is the minibatch: `batch_size`, at most the training images (`train_limit`,
    /// else the 60 000 of MNIST), since a batch cannot hold more.
    pub fn memory_bytes(&self) -> (f64, f64) {
        let w = self.widths();
        let cells: f64 = w
            .windows(2)
            .map(|p| match self.path {
                ComputePath::Masked => (p[0] * p[1]) as f64 * 2.0,
                ComputePath::Sparse => (p[0] * p[1]) as f64 * self.layer_density(p[0], p[1]) * 3.0,
            })
            .sum();
        let (step, evaluation) = self.batch_bytes();
        (cells * 4.0 * 8.0, step.max(evaluation))
    }

    /// `(step, evaluation)` of [`SetConfig::memory_bytes`].
    fn batch_bytes(&self) -> (f64, f64) {
        let widths: f64 = self.widths().iter().map(|&w| w as f64).sum();
        let images = match self.train_limit {
            0 => MNIST_TRAIN_IMAGES,
            limit => limit.min(MNIST_TRAIN_IMAGES),
        };
        let b = self.batch_size.min(images) as f64;
        (
            b * widths * 4.0 * 8.0,
            EVAL_BATCH as f64 * widths * 4.0 * 4.0,
        )
    }

    /// The density of an `n_in × n_out` layer: the fixed `density`, else Erdős–Rényi
    /// `ε·(n_in+n_out)/(n_in·n_out)`, capped at 1.
    pub fn layer_density(&self, n_in: usize, n_out: usize) -> f64 {
        if self.density > 0.0 {
            self.density
        } else {
            (self.epsilon * (n_in + n_out) as f64 / (n_in * n_out) as f64).min(1.0)
        }
    }

    /// Learning rate of `epoch`: `learning_rate · lr_decay^⌊epoch / lr_step⌋`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        match self.lr_step {
            0 => self.learning_rate,
            s => self.learning_rate * self.lr_decay.powi((epoch / s) as i32),
        }
    }

    /// Whether the topology evolves after `epoch` (0-based).
    pub fn evolves_after(&self, epoch: usize) -> bool {
        let last = if self.evolve_until > 0 {
            self.evolve_until.min(self.epochs)
        } else {
            self.epochs
        };
        self.zeta > 0.0 && epoch + 1 < last
    }
}

impl ModelConfig for SetConfig {
    const RESUMABLE: &'static [&'static str] = &["epochs", "learning_rate"];

    /// [`SetConfig::validate`], then the memory estimate of [`SetConfig::memory_bytes`]
    /// (`layers + batch`) against the memory available. The error names the field of
    /// the larger term: `hidden` for the layers, `batch_size` for the batch (`hidden`
    /// when the evaluation's fixed-size batches are the larger part of it).
    fn validate(&self) -> Result<(), TrainError> {
        SetConfig::validate(self)?;
        let (layers, _) = self.memory_bytes();
        let (step, evaluation) = self.batch_bytes();
        manifold_train::memory::check_model_and_batch_fit("hidden", layers, step, evaluation)
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

    /// The estimate by hand for a masked 5-4-3 network (cells 2·(20 + 12) = 64, A = 12)
    /// and the same sparse at density ½ (cells 3·16 = 48).
    #[test]
    fn the_memory_estimate_counts_the_layers_the_batch_and_the_evaluation() {
        let tiny = SetConfig::new()
            .with_inputs(5)
            .with_hidden(vec![4])
            .with_classes(3)
            .with_batch_size(10)
            .with_path(ComputePath::Masked);
        assert_eq!(
            tiny.batch_bytes(),
            (10.0 * 12.0 * 32.0, 1000.0 * 12.0 * 16.0)
        );
        assert_eq!(tiny.memory_bytes(), (64.0 * 32.0, 192_000.0));
        let sparse = tiny
            .clone()
            .with_path(ComputePath::Sparse)
            .with_density(0.5);
        assert_eq!(sparse.memory_bytes().0, 48.0 * 32.0);
        // A batch holds at most the training images: all of MNIST, or `train_limit`.
        let absurd = tiny.with_batch_size(1_000_000_000);
        assert_eq!(absurd.batch_bytes().0, 60_000.0 * 12.0 * 32.0);
        assert_eq!(
            absurd.with_train_limit(100).batch_bytes().0,
            100.0 * 12.0 * 32.0
        );
    }

    #[test]
    fn an_absurd_batch_is_refused_naming_batch_size_and_the_presets_fit() {
        // All 60 000 images through a sparse layer of ten million units: about 19 TB of
        // activations against a few GB of connections.
        let absurd = SetConfig::new()
            .with_hidden(vec![10_000_000])
            .with_batch_size(1_000_000_000);
        let (layers, batch) = absurd.memory_bytes();
        assert!(batch > 100.0 * layers, "{layers} {batch}");
        let err = ModelConfig::validate(&absurd).unwrap_err().to_string();
        assert!(
            err.starts_with("config field `batch_size`: needs about"),
            "{err}"
        );
        for name in PRESETS {
            let config = SetConfig::preset(name).unwrap();
            let (layers, batch) = config.memory_bytes();
            assert!(layers + batch < 2e9, "{name}: {layers} + {batch} bytes");
            ModelConfig::validate(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
