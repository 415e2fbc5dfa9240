//! The small dense MLP (784-16-16-10): the textbook network, trained with Adam.
//!
//! Maths in [`model`], hyperparameters in [`config`], the training loop in [`train`].

pub mod config;
pub mod model;
pub mod train;

pub use config::MlpConfig;
pub use model::Mlp;
pub use train::{adam, epoch_order, evaluate, fit, train_epoch, EpochResult, Evaluation, Progress};
