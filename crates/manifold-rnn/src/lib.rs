//! Recurrent baselines for the sequence tasks of `manifold-data` (row-sequential MNIST,
//! the adding problem): Burn's own `burn::nn::Lstm` or `burn::nn::Gru`, one layer and a
//! linear head on the last hidden state, trained by the workspace's one loop
//! ([`manifold_train::fit`]) like every other model, so a recurrent manifold can be put
//! beside them at matched trainable numbers.
//!
//! Hyperparameters and presets in [`config`], the network in [`model`], training in
//! [`train()`].
//!
//! Training an LSTM of 16 units on the adding problem with T = 10 for one short epoch,
//! silently, on the CPU:
//!
//! ```
//! use burn::backend::Autodiff;
//! use manifold_data::SequenceTask;
//! use manifold_rnn::RnnConfig;
//! use manifold_train::Silent;
//!
//! type B = Autodiff<burn_ndarray::NdArray<f32>>;
//!
//! # fn main() -> Result<(), manifold_train::TrainError> {
//! let config = RnnConfig::new()
//!     .with_task(SequenceTask::Adding { length: 10 })
//!     .with_hidden(16)
//!     .with_epochs(1)
//!     .with_sequences_per_epoch(640);
//! let trained = manifold_rnn::train::<B>(&config, None, &Default::default(), &mut Silent)?;
//! println!("{}", trained.evaluation.describe());
//! assert!(trained.evaluation.mse.is_some_and(f64::is_finite));
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod model;
pub mod train;

pub use config::{Cell, RnnConfig, PRESETS};
pub use model::Rnn;
pub use train::{adam, check_data, evaluate, train, RnnAdam, RnnLearner, METRICS};
