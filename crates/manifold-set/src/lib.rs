//! Sparse Evolutionary Training (Mocanu et al. 2018) on Burn: an MLP whose layers keep
//! a few percent of their connections, pruning the weakest after every epoch and
//! regrowing as many at random.
//!
//! Equations: [`layer`] (the sparse product, two compute paths; its kernels: [`kernels`]), [`topology`]
//! (Erdős–Rényi init, pruning rule, regrowth), [`mod@evolve`] (the step after each epoch;
//! RigL's regrowth by the dense gradient of [`gradient`]),
//! [`optim`] (Adam with per-connection reset and the L1/L2 penalties). The run:
//! [`train()`]; pictures: [`pictures`]; the penalty experiment: [`experiment`].
//!
//! Training the default (`best`) configuration for one epoch on 1 000 MNIST images (the
//! shipped copy), silently, and scoring it on the 10 000 test images:
//!
//! ```
//! use burn::backend::Autodiff;
//! use manifold_data::Mnist;
//! use manifold_set::SetConfig;
//! use manifold_train::Silent;
//!
//! type B = Autodiff<burn_ndarray::NdArray<f32>>;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = Mnist::load_default(None)?;
//! let mut config = SetConfig::preset("best")?;
//! (config.epochs, config.train_limit) = (1, 1000);
//! let trained = manifold_set::train::<B>(&config, &data, &Default::default(), &mut Silent)?;
//! println!("{} at density {:.2}%", trained.evaluation.describe(), 100.0 * trained.model.density());
//! assert!(trained.evaluation.accuracy.unwrap() > 0.3);
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod evolve;
pub mod experiment;
pub mod gradient;
pub mod kernels;
pub mod layer;
pub mod model;
pub mod optim;
pub mod pictures;
pub mod stats;
pub mod topology;
pub mod train;

pub use config::{ComputePath, PruneRule, Regrow, SetConfig, PRESETS};
pub use evolve::{evolve, Evolution};
pub use layer::{Connections, SparseLinear};
pub use model::SetMlp;
pub use optim::{adam_step, SparseAdam};
pub use train::{evaluate, train, SetLearner, METRICS};
