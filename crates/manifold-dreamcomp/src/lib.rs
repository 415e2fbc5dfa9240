//! DreamComp: one layer of competing neurons that learns MNIST prototypes and their
//! labels by a local, winner-take-all Hebbian rule with reconstruction weights — no
//! backpropagation. The whole update rule is stated in [`rule`] (one short file).
//!
//! * [`rule`]: scores, winners and the weight update (the maths);
//! * [`model`]: the weights as a Burn module, neuron classes and predictions;
//! * [`config`]: hyperparameters and the presets reproducing the original's table;
//! * [`train`]: minibatches, epochs, semi-supervised "dreaming" of missing labels;
//! * [`pictures`]: the tapestry of prototypes and the label-weight bar charts.

pub mod config;
pub mod model;
pub mod pictures;
pub mod rule;
pub mod train;

pub use config::{ClassSource, DreamCompConfig, PRESETS};
pub use model::{DreamComp, CLASSES, PIXELS};
pub use train::{
    classes_from_labelled, evaluate, evaluate_as, train_epoch, EpochStats, Progress, Trainer,
};
