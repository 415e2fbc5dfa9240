//! Every hyperparameter of the recurrent baselines, in one serde struct (TOML + flags),
//! and their presets.

use burn::config::Config;
use manifold_data::SequenceTask;
use manifold_train::{ModelConfig, TrainError};
use serde::{Deserialize, Serialize};

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// `burn::nn::Lstm`: input, forget and output gates and a cell state;
    /// `4·H·(F + H) + 8·H` numbers (Burn gives each gate two biases).
    Lstm,
    /// `burn::nn::Gru`: update and reset gates; `3·H·(F + H) + 6·H` numbers.
    Gru,
}

impl Cell {
    /// Weight blocks of the cell, each `H × (F + H)` with two biases of H: 4 for the
    /// LSTM (input, forget, output gates and the candidate), 3 for the GRU.
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// The names [`RnnConfig::preset`] knows.
pub const PRESETS: [&str; 2] = ["seq-mnist", "adding-t100"];

/// A recurrent network (one [`Cell`] layer of `hidden` units, then a linear head on its
/// last hidden state) trained with Adam on a [`SequenceTask`].
#[derive(Config, Debug, PartialEq)]
pub struct RnnConfig {
    /// The task: `"row-mnist"` or `{ adding = { length = T } }`.
    #[config(default = "SequenceTask::RowMnist")]
    pub task: SequenceTask,
    /// The recurrent cell: `lstm` or `gru`.
    #[config(default = "Cell::Lstm")]
    pub cell: Cell,
    /// Hidden units H.
    #[config(default = 128)]
    pub hidden: usize,
    /// Passes over the training data (row-MNIST: its 60 000 images; the adding problem:
    /// `sequences_per_epoch` fresh sequences).
    #[config(default = 10)]
    pub epochs: usize,
    /// Fresh training sequences per epoch of the adding problem.
    #[config(default = 20_000)]
    pub sequences_per_epoch: usize,
    /// Minibatch size: one Adam update per minibatch.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Adam step size.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Largest L2 norm of each parameter's gradient (Burn's norm clipping); 0 = none.
    #[config(default = 1.0)]
    pub clip_norm: f64,
    /// Seed of the initialisation and of the data order (and of the adding problem's
    /// training sequences).
    #[config(default = 0)]
    pub seed: u64,
    /// Row-MNIST: use only the first N training images (0 = all).
    #[config(default = 0)]
    pub train_limit: usize,
    /// A length curriculum for the adding problem: over the first `curriculum_steps`
    /// minibatches its training sequences grow linearly from `curriculum_start` time steps
    /// to the task's length ([`manifold_data::curriculum_length`]); the test sequences
    /// keep the task's length. 0: no curriculum.
    #[config(default = 0)]
    pub curriculum_steps: usize,
    /// The adding problem's first training length under a curriculum
    /// (`curriculum_steps` > 0), 2 …= the task's length.
    #[config(default = 10)]
    pub curriculum_start: usize,
}

impl RnnConfig {
    /// A preset by name (one of [`PRESETS`]): `seq-mnist` (an LSTM of 128 units on
    /// row-sequential MNIST, 10 epochs) or `adding-t100` (an LSTM of 128 units on the
    /// adding problem with T = 100, 10 epochs of 20 000 sequences).
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        match name {
            "seq-mnist" => Ok(Self::new()),
            "adding-t100" => Ok(Self::new().with_task(SequenceTask::Adding { length: 100 })),
            other => Err(TrainError::config(
                "preset",
                format!("unknown preset `{other}` ({})", PRESETS.join(", ")),
            )),
        }
    }

    /// `(steps, features, outputs)` of the task.
    pub fn shape(&self) -> (usize, usize, usize) {
        self.task.shape()
    }

    /// The time steps of the adding problem's training sequences at minibatch `step`:
    /// the task's length, or less during a curriculum (`curriculum_steps`). Row-MNIST: 28.
    pub fn adding_train_length(&self, step: usize) -> usize {
        let (length, _, _) = self.shape();
        manifold_data::curriculum_length(self.curriculum_start, length, self.curriculum_steps, step)
    }

    /// Training sequences per epoch: the (limited) MNIST training images, or
    /// `sequences_per_epoch`.
    pub fn epoch_size(&self, mnist_train: usize) -> usize {
        match self.task {
            SequenceTask::RowMnist => match self.train_limit {
                0 => mnist_train,
                n => n.min(mnist_train),
            },
            SequenceTask::Adding { .. } => self.sequences_per_epoch,
        }
    }

    /// The cell's and the head's numbers: what `num_params` of the model counts.
    pub fn trainable(&self) -> usize {
        let (_, f, out) = self.shape();
        let h = self.hidden;
        let gates = self.cell.gates();
        gates * (h * (f + h) + 2 * h) + h * out + out
    }

    /// The connections: the cell's and the head's weights (no biases).
    pub fn connections(&self) -> usize {
        let (_, f, out) = self.shape();
        let h = self.hidden;
        let gates = self.cell.gates();
        gates * h * (f + h) + h * out
    }

    /// The estimated memory of a step in bytes: the parameters with their gradients and
    /// Adam's moments (8 copies), and for the batch the cell's gate activations, state
    /// and their gradients at every time step (f32):
    ///
    /// ```text
    /// P·4·8 + b·T·H·(2·gates + 4)·4·2
    /// ```
    pub fn memory_bytes(&self) -> f64 {
        let (t, _, _) = self.shape();
        let gates = self.cell.gates() as f64;
        let batch = (self.batch_size * t * self.hidden) as f64 * (2.0 * gates + 4.0) * 8.0;
        self.trainable() as f64 * 32.0 + batch
    }
}

impl ModelConfig for RnnConfig {
    const RESUMABLE: &'static [&'static str] = &["epochs", "learning_rate"];

    /// Rejects impossible values, naming the field, then the memory estimate.
    fn validate(&self) -> Result<(), TrainError> {
        let at_least_one = |name: &str, v: usize| {
            if v == 0 {
                Err(TrainError::config(name, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        at_least_one("hidden", self.hidden)?;
        at_least_one("epochs", self.epochs)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("sequences_per_epoch", self.sequences_per_epoch)?;
        if let SequenceTask::Adding { length } = self.task {
            if length < 2 {
                return Err(TrainError::config(
                    "task",
                    format!("the adding problem needs length ≥ 2 (got {length})"),
                ));
            }
        }
        if self.curriculum_steps > 0 {
            let SequenceTask::Adding { length } = self.task else {
                return Err(TrainError::config(
                    "curriculum_steps",
                    "grows the adding problem's sequences: it needs task = { adding = { length = T } }",
                ));
            };
            manifold_data::check_curriculum_start(self.curriculum_start, length)
                .map_err(|message| TrainError::config("curriculum_start", message))?;
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::config(
                "learning_rate",
                "must be a positive number",
            ));
        }
        if !(self.clip_norm.is_finite() && self.clip_norm >= 0.0) {
            return Err(TrainError::config(
                "clip_norm",
                "must be 0 (no clipping) or positive",
            ));
        }
        manifold_train::memory::check_fits("hidden", self.memory_bytes())
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
    fn presets_and_impossible_values_name_the_field() {
        let seq = RnnConfig::preset("seq-mnist").unwrap();
        assert_eq!((seq.shape(), seq.hidden), ((28, 28, 10), 128));
        let adding = RnnConfig::preset("adding-t100").unwrap();
        assert_eq!(adding.shape(), (100, 2, 1));
        ModelConfig::validate(&adding).unwrap();
        let msg = |c: RnnConfig| ModelConfig::validate(&c).unwrap_err().to_string();
        assert_eq!(
            msg(RnnConfig::new().with_hidden(0)),
            "config field `hidden`: must be at least 1"
        );
        assert!(
            msg(RnnConfig::new().with_task(SequenceTask::Adding { length: 1 }))
                .starts_with("config field `task`")
        );
        assert!(msg(RnnConfig::new().with_clip_norm(-1.0)).starts_with("config field `clip_norm`"));
        assert!(msg(RnnConfig::new().with_hidden(1 << 22))
            .starts_with("config field `hidden`: needs about"));
        assert!(RnnConfig::preset("lstm")
            .unwrap_err()
            .to_string()
            .contains("seq-mnist"));
    }

    /// The counts by hand: an LSTM of 128 units on 28 features with a 10-way head has
    /// 4·(128·156 + 256) + 1 290 = 82 186 numbers and 4·128·156 + 1 280 = 81 152 weights.
    #[test]
    fn the_counts_by_hand() {
        let c = RnnConfig::new();
        assert_eq!((c.trainable(), c.connections()), (82_186, 81_152));
        let g = c
            .with_cell(Cell::Gru)
            .with_hidden(8)
            .with_task(SequenceTask::Adding { length: 5 });
        // 3·(8·10 + 16) + 8 + 1 = 297; 3·80 + 8 = 248.
        assert_eq!((g.trainable(), g.connections()), (297, 248));
    }
}
