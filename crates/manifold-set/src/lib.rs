//! Sparse Evolutionary Training (Mocanu et al. 2018) on Burn.
//!
//! Equations: [`layer`] (the sparse product, two compute paths), [`topology`]
//! (Erdős–Rényi init, pruning rule, regrowth), [`evolve`] (the step after each epoch),
//! [`optim`] (Adam with per-connection reset and the L1/L2 penalties).

pub mod config;
pub mod evolve;
pub mod layer;
pub mod model;
pub mod optim;
pub mod stats;
pub mod topology;
pub mod train;

pub use config::{ComputePath, PruneRule, SetConfig};
pub use evolve::{evolve, Evolution};
pub use layer::{Connections, SparseLinear};
pub use model::SetMlp;
pub use optim::{adam_step, SparseAdam};
pub use train::{evaluate, fit, train_epoch, EpochResult, Evaluation, Progress};
