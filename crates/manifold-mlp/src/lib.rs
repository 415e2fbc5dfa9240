//! The small dense MLP (784-16-16-10): the textbook network, trained with Adam.
//!
//! Maths in [`model`], hyperparameters in [`config`], the training loop in [`train()`],
//! the curves in [`pictures`].
//!
//! Training it for one epoch on MNIST (the shipped copy), silently, on the CPU, and
//! scoring it on the 10 000 test images:
//!
//! ```
//! use burn::backend::Autodiff;
//! use manifold_data::Mnist;
//! use manifold_mlp::MlpConfig;
//! use manifold_train::Silent;
//!
//! type B = Autodiff<burn_ndarray::NdArray<f32>>;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = Mnist::load_default(None)?;
//! let config = MlpConfig::new().with_epochs(1);
//! let trained = manifold_mlp::train::<B>(&config, &data, &Default::default(), &mut Silent)?;
//! println!("{}", trained.evaluation.describe());
//! assert!(trained.evaluation.accuracy.unwrap() > 0.85);
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod game;
pub mod model;
pub mod pictures;
pub mod train;

pub use config::MlpConfig;
pub use model::Mlp;
pub use train::{adam, evaluate, train, train_from, MlpLearner, METRICS};
