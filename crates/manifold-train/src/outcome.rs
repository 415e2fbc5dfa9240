//! What training returns: the test-set [`Evaluation`], the run's [`Summary`]
//! (`summary.json`) and [`Trained`], the model with both.

use serde::{Deserialize, Serialize};

use crate::Position;

/// Test-set numbers of a model: accuracy in `[0, 1]` (classifiers) or mean squared
/// error (regression), and the mean loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Share of correctly classified test images.
    pub accuracy: Option<f64>,
    /// Mean squared error on the test samples.
    pub mse: Option<f64>,
    /// Mean loss on the test set.
    pub loss: f64,
}

impl Evaluation {
    /// A classifier's numbers.
    pub fn classification(accuracy: f64, loss: f64) -> Self {
        Self {
            accuracy: Some(accuracy),
            mse: None,
            loss,
        }
    }

    /// A regression's numbers (its loss is the MSE).
    pub fn regression(mse: f64) -> Self {
        Self {
            accuracy: None,
            mse: Some(mse),
            loss: mse,
        }
    }

    /// "test accuracy 95.40%" or "test MSE 0.0017".
    pub fn describe(&self) -> String {
        match (self.accuracy, self.mse) {
            (Some(a), _) => format!("test accuracy {:.2}%", 100.0 * a),
            (_, Some(m)) => format!("test MSE {m:.4}"),
            _ => format!("test loss {:.4}", self.loss),
        }
    }
}

/// `summary.json`: what a run did and reached. Model-specific numbers go in `extra`
/// (flattened into the same JSON object).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Summary {
    /// The model: `mlp`, `dnm`, `set` or `dreamcomp`.
    pub model: String,
    /// The backend it ran on (filled in by [`crate::Run::finish`]).
    pub device: String,
    /// Epochs completed (models that count epochs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Steps (minibatches) done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Training time in seconds.
    pub wall_seconds: f64,
    /// Test accuracy in `[0, 1]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Test mean squared error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_mse: Option<f64>,
    /// Mean test loss.
    pub test_loss: f64,
    /// The command line that made the run (filled in by [`crate::Run::finish`]).
    pub command: String,
    /// True when the run stopped early (Ctrl-C); the checkpoint is the last good one.
    pub interrupted: bool,
    /// Model-specific numbers.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Summary {
    /// The common part of a summary: `model`, what `evaluation` measured, where `at` the
    /// run stopped and whether it was interrupted.
    pub fn of(model: &str, evaluation: &Evaluation, at: &Position, interrupted: bool) -> Self {
        Self {
            model: model.to_string(),
            epochs: Some(at.epoch),
            steps: Some(at.step),
            wall_seconds: at.wall_seconds,
            test_accuracy: evaluation.accuracy,
            test_mse: evaluation.mse,
            test_loss: evaluation.loss,
            interrupted,
            ..Self::default()
        }
    }

    /// The test-set numbers the summary records.
    pub fn evaluation(&self) -> Evaluation {
        Evaluation {
            accuracy: self.test_accuracy,
            mse: self.test_mse,
            loss: self.test_loss,
        }
    }

    /// Adds a model-specific number (builder style).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.to_string(), value.into());
        self
    }
}

/// A finished (or interrupted) training run: the model, its test evaluation, where the
/// run stands and its summary.
#[derive(Debug, Clone)]
pub struct Trained<M> {
    /// The trained model (with autodiff, ready to train further).
    pub model: M,
    /// The test-set numbers of the final model.
    pub evaluation: Evaluation,
    /// Where the run stopped.
    pub position: Position,
    /// True when the observer stopped the run before its end (a checkpoint was saved).
    pub stopped: bool,
    /// `summary.json`'s content.
    pub summary: Summary,
}
