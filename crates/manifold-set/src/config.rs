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

/// The two compute paths of a sparse layer (identical results).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ComputePath {
    /// Gather/scatter over the COO connection list: work and memory ∝ connections.
    Sparse,
    /// Scatter the weights into a dense n_in×n_out matrix, then a dense matmul.
    Masked,
}

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
pub const PRESETS: [&str; 2] = ["best", "original"];

impl SetConfig {
    /// A named configuration: `original` is Mocanu et al.'s MNIST setting (the
    /// defaults: 30 epochs, dropout 0.2, evolution after every epoch, regrowth at the
    /// initial scale, learning rate halved every 10 epochs); `best` (the CLI's default)
    /// trains 24 epochs with dropout 0.1, evolves until epoch 18, regrows at a tenth of
    /// the initial scale and halves the learning rate every 8 epochs.
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        match name {
            "original" => Ok(Self::new()),
            "best" => Ok(Self::new()
                .with_epochs(24)
                .with_dropout(0.1)
                .with_evolve_until(18)
                .with_regrow_scale(0.1)
                .with_lr_step(8)),
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

    /// [`SetConfig::validate`], then the memory of the layers (dense matrices on the
    /// masked path, the kept connections with their indices on the sparse one), their
    /// gradients and Adam's moments against the memory available.
    fn validate(&self) -> Result<(), TrainError> {
        SetConfig::validate(self)?;
        let w = self.widths();
        let cells: f64 = w
            .windows(2)
            .map(|p| match self.path {
                ComputePath::Masked => (p[0] * p[1]) as f64 * 2.0,
                ComputePath::Sparse => (p[0] * p[1]) as f64 * self.layer_density(p[0], p[1]) * 3.0,
            })
            .sum();
        manifold_train::memory::check_fits("hidden", cells * 4.0 * 8.0)
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }
}
