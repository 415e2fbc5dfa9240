//! DreamComp's hyperparameters (TOML + CLI flags) and the presets that reproduce rows
//! of the original's results table.

use burn::config::Config;
use manifold_train::{ModelConfig, TrainError};
use serde::{Deserialize, Serialize};

/// Where a neuron's class comes from at evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassSource {
    /// `synapses` when every image is labelled, `labelled` otherwise.
    Auto,
    /// Argmax of its label synapses (the original).
    Synapses,
    /// Majority label of the 5 labelled training images nearest to its pixel synapses
    /// (see `classes_from_labelled`).
    Labelled,
}

/// The images of the MNIST training set: the most a minibatch can hold (a larger
/// `batch_size` takes them all), in the memory estimate.
const MNIST_TRAIN_IMAGES: usize = 60_000;

/// The images `train::evaluate_as` scores at once, in the memory estimate.
const EVAL_BATCH: usize = 2000;

/// DreamComp's configuration. Defaults are the `k400` preset (custom ξ).
#[derive(Config, Debug, PartialEq)]
pub struct DreamCompConfig {
    /// Number of neurons K (the tapestry is a Kx × Ky grid).
    #[config(default = 400)]
    pub neurons: usize,
    /// Passes over the training set.
    #[config(default = 10)]
    pub epochs: usize,
    /// Minibatch size B.
    #[config(default = 100)]
    pub batch_size: usize,
    /// Reconstruction weight R of the 10 label synapses (ζ = 1 for pixels, R for labels).
    #[config(default = 10.0)]
    pub recon: f64,
    /// Learning rate ξ of the pixel synapses.
    #[config(default = 0.006)]
    pub xi: f64,
    /// Learning rate of the label synapses (equal to `xi` in the plain variant).
    #[config(default = 0.05)]
    pub c_xi: f64,
    /// Share of training images that keep their label (1 = fully supervised); the
    /// others get the network's own prediction as label ("dreaming").
    #[config(default = 1.0)]
    pub label_fraction: f64,
    /// Semi-supervised: factor on `c_xi` for the (rare) samples that carry a true label.
    #[config(default = 1.0)]
    pub label_boost: f64,
    /// Semi-supervised: factor on `c_xi` for samples whose label is dreamed.
    #[config(default = 1.0)]
    pub dream_scale: f64,
    /// Semi-supervised: epochs in which unlabelled samples train only their pixel
    /// synapses before dreaming starts. Dreaming from the first batch collapses: the
    /// first neuron to receive a true label is then the only one with a class, every
    /// sample dreams its class, and that class spreads to every winner (measured:
    /// 9.9% test accuracy at 1% labels, K = 400).
    #[config(default = 1)]
    pub dream_after: usize,
    /// Neuron classes at evaluation: `synapses` (the original), `labelled` (votes of the
    /// nearest labelled training images) or `auto` (`labelled` in the semi-supervised
    /// mode, else `synapses`). Measured at K = 400, 1% labels: 80.6% with the synapses'
    /// classes, 91.9% with the labelled images' (same run).
    #[config(default = "ClassSource::Auto")]
    pub classes_from: ClassSource,
    /// Seed of the initialisation, of the labelled subset and of the epoch shuffles.
    #[config(default = 0)]
    pub seed: u64,
    /// Use only the first N training images (0 = all).
    #[config(default = 0)]
    pub train_limit: usize,
}

/// The presets: name, (K, epochs, B, R, xi, c_xi), the original's test accuracy.
pub const PRESETS: [(&str, [f64; 6], f64); 5] = [
    ("k100", [100.0, 15.0, 100.0, 10.0, 0.003, 0.003], 0.9283),
    ("k400", [400.0, 10.0, 100.0, 10.0, 0.006, 0.05], 0.9504),
    (
        "k400-plain",
        [400.0, 10.0, 100.0, 10.0, 0.006, 0.006],
        0.9501,
    ),
    ("k1600", [1600.0, 10.0, 500.0, 10.0, 0.008, 0.1], 0.9628),
    ("k6400", [6400.0, 20.0, 500.0, 10.0, 0.006, 0.1], 0.9679),
];

impl DreamCompConfig {
    /// Checks that the data fits a DreamComp layer: 28 × 28 images, labels 0–9, neither
    /// set empty.
    pub fn check_data(&self, data: &manifold_data::Mnist) -> Result<(), TrainError> {
        manifold_train::check_images(crate::model::PIXELS, crate::model::CLASSES, data)
    }

    /// The preset `name` (see [`PRESETS`]), or an error naming the known ones.
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        let Some((_, p, _)) = PRESETS.iter().find(|(n, _, _)| *n == name) else {
            let known: Vec<&str> = PRESETS.iter().map(|(n, _, _)| *n).collect();
            return Err(TrainError::config(
                "preset",
                format!("unknown preset `{name}` (known: {})", known.join(", ")),
            ));
        };
        Ok(Self::new()
            .with_neurons(p[0] as usize)
            .with_epochs(p[1] as usize)
            .with_batch_size(p[2] as usize)
            .with_recon(p[3])
            .with_xi(p[4])
            .with_c_xi(p[5]))
    }

    /// Columns of the tapestry grid: Kx = ⌈√K⌉.
    pub fn grid_cols(&self) -> usize {
        (self.neurons as f64).sqrt().ceil() as usize
    }

    /// The estimated memory of a run in bytes, `(synapses, batch)`, with `K` neurons,
    /// `L = 794` synapses a neuron (784 pixels, 10 labels) and f32 (4 bytes) throughout:
    ///
    /// ```text
    /// synapses   = K · 800 · 4 · 8        the weights with the update's temporaries
    /// batch      = max(step, evaluation)
    /// step       = b · (3·L + 2·K) · 4    the minibatch V on the host, as a tensor and in
    ///                                     the kernel's copy, and a B × K score matrix with
    ///                                     its penalty (the tensor rule, the dreaming step)
    /// evaluation = max(2000 · (784 + 2·K) · 4,  n_l · (2·784 + 2·K) · 4)
    /// ```
    ///
    /// The evaluation scores 2 000 images at once against every neuron; with the
    /// `labelled` neuron classes it also holds the `n_l` labelled training images
    /// (normalised) and their `K × n_l` similarities with the top-k. `b` is the minibatch:
    /// `batch_size`, at most the training images (`train_limit`, else the 60 000 of
    /// MNIST), since a batch cannot hold more; `n_l` is `label_fraction` of them.
    pub fn memory_bytes(&self) -> (f64, f64) {
        let (step, evaluation) = self.batch_bytes();
        (
            self.neurons as f64 * 800.0 * 4.0 * 8.0,
            step.max(evaluation),
        )
    }

    /// `(step, evaluation)` of [`DreamCompConfig::memory_bytes`].
    fn batch_bytes(&self) -> (f64, f64) {
        use crate::model::{CLASSES, PIXELS};
        let k = self.neurons as f64;
        let images = match self.train_limit {
            0 => MNIST_TRAIN_IMAGES,
            limit => limit.min(MNIST_TRAIN_IMAGES),
        };
        let b = self.batch_size.min(images) as f64;
        let step = b * (3.0 * (PIXELS + CLASSES) as f64 + 2.0 * k) * 4.0;
        let chunks = EVAL_BATCH as f64 * (PIXELS as f64 + 2.0 * k) * 4.0;
        let labelled = if self.classes_from.uses_labelled(self.label_fraction) {
            let n_l = (self.label_fraction * images as f64)
                .round()
                .clamp(1.0, images as f64);
            n_l * (2.0 * PIXELS as f64 + 2.0 * k) * 4.0
        } else {
            0.0
        };
        (step, chunks.max(labelled))
    }

    /// Rejects impossible values, naming the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        for (name, v) in [
            ("neurons", self.neurons),
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
        ] {
            if v == 0 {
                return Err(TrainError::config(name, "must be at least 1"));
            }
        }
        for (name, v) in [
            ("recon", self.recon),
            ("xi", self.xi),
            ("c_xi", self.c_xi),
            ("label_boost", self.label_boost),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(TrainError::config(name, "must be a positive number"));
            }
        }
        if !(self.dream_scale.is_finite() && self.dream_scale >= 0.0) {
            return Err(TrainError::config("dream_scale", "must be a number ≥ 0"));
        }
        if !(self.label_fraction > 0.0 && self.label_fraction <= 1.0) {
            return Err(TrainError::config(
                "label_fraction",
                format!("must lie in (0, 1], got {}", self.label_fraction),
            ));
        }
        Ok(())
    }
}

impl ClassSource {
    /// Whether classes come from the labelled images, given the labelled fraction.
    pub fn uses_labelled(self, label_fraction: f64) -> bool {
        match self {
            ClassSource::Auto => label_fraction < 1.0,
            ClassSource::Synapses => false,
            ClassSource::Labelled => true,
        }
    }
}

impl ModelConfig for DreamCompConfig {
    const RESUMABLE: &'static [&'static str] = &["epochs"];

    /// [`DreamCompConfig::validate`], then the memory estimate of
    /// [`DreamCompConfig::memory_bytes`] (`synapses + batch`) against the memory
    /// available. The error names the field of the larger term: `neurons` for the
    /// synapses, `batch_size` for the batch (`neurons` when the evaluation, whose batches
    /// do not depend on `batch_size`, is the larger part of it).
    fn validate(&self) -> Result<(), TrainError> {
        DreamCompConfig::validate(self)?;
        let (synapses, _) = self.memory_bytes();
        let (step, evaluation) = self.batch_bytes();
        manifold_train::memory::check_model_and_batch_fit("neurons", synapses, step, evaluation)
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

    /// The estimate by hand for K = 10, batch 20: 3·794 + 20 = 2 402 values a sample.
    #[test]
    fn the_memory_estimate_counts_the_synapses_the_batch_and_the_evaluation() {
        let tiny = DreamCompConfig::new().with_neurons(10).with_batch_size(20);
        assert_eq!(
            tiny.batch_bytes(),
            (20.0 * 2402.0 * 4.0, 2000.0 * 804.0 * 4.0)
        );
        assert_eq!(tiny.memory_bytes(), (10.0 * 25_600.0, 6_432_000.0));
        // A batch holds at most the training images: all of MNIST, or `train_limit`.
        let absurd = tiny.clone().with_batch_size(1_000_000_000);
        assert_eq!(absurd.batch_bytes().0, 60_000.0 * 2402.0 * 4.0);
        assert_eq!(
            absurd.with_train_limit(100).batch_bytes().0,
            100.0 * 2402.0 * 4.0
        );
        // Classes from 1% of the images: 600 labelled images against the 10 neurons.
        let labelled = tiny.with_label_fraction(0.01);
        assert_eq!(labelled.batch_bytes().1, 2000.0 * 804.0 * 4.0);
        let all = labelled
            .with_label_fraction(1.0)
            .with_classes_from(ClassSource::Labelled);
        assert_eq!(all.batch_bytes().1, 60_000.0 * 1588.0 * 4.0);
    }

    #[test]
    fn an_absurd_batch_is_refused_naming_batch_size_and_the_presets_fit() {
        // All 60 000 images against ten million neurons: about 4.8 TB of scores against
        // 256 GB of synapses.
        let absurd = DreamCompConfig::new()
            .with_neurons(10_000_000)
            .with_batch_size(1_000_000_000);
        let (synapses, batch) = absurd.memory_bytes();
        assert!(batch > synapses, "{synapses} {batch}");
        let err = ModelConfig::validate(&absurd).unwrap_err().to_string();
        assert!(
            err.starts_with("config field `batch_size`: needs about"),
            "{err}"
        );
        for (name, _, _) in PRESETS {
            let config = DreamCompConfig::preset(name).unwrap();
            let (synapses, batch) = config.memory_bytes();
            assert!(synapses + batch < 2e9, "{name}: {synapses} + {batch} bytes");
            ModelConfig::validate(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
