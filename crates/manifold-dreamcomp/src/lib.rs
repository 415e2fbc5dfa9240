//! DreamComp: one layer of competing neurons that learns MNIST prototypes and their
//! labels by a local, winner-take-all Hebbian rule with reconstruction weights — no
//! backpropagation. The whole update rule is stated in [`rule`] (one short file).
//!
//! * [`rule`]: scores, winners and the weight update (the maths);
//! * [`kernels`]: the rule's fused CPU kernels ([`kernels::DreamCompBackend`]);
//! * [`model`]: the weights as a Burn module, neuron classes and predictions;
//! * [`config`]: hyperparameters and the presets reproducing the original's table;
//! * [`mod@train`]: [`train()`], minibatches, epochs, semi-supervised "dreaming" of missing labels;
//! * [`pictures`]: the tapestry of prototypes and the label-weight bar charts.
//!
//! Training the `k100` preset for one epoch on MNIST (the shipped copy; DreamComp learns
//! without autodiff, so `B` is a plain backend), silently:
//!
//! ```
//! use manifold_data::Mnist;
//! use manifold_dreamcomp::DreamCompConfig;
//! use manifold_train::Silent;
//!
//! type B = burn_ndarray::NdArray<f32>;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = Mnist::load_default(None)?;
//! let mut config = DreamCompConfig::preset("k100")?;
//! config.epochs = 1;
//! let trained = manifold_dreamcomp::train::<B>(&config, &data, &Default::default(), &mut Silent)?;
//! println!("{}", trained.evaluation.describe());
//! assert!(trained.evaluation.accuracy.unwrap() > 0.8);
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod kernels;
pub mod model;
pub mod pictures;
pub mod rule;
pub mod train;

pub use config::{ClassSource, DreamCompConfig, PRESETS};
pub use model::{DreamComp, CLASSES, PIXELS};
pub use train::{
    classes_from_labelled, evaluate, evaluate_as, neuron_classes_for, train, DreamCompLearner,
    UpdateRule, METRICS, TRAIN_EVAL_LIMIT,
};
