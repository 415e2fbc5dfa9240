//! Sweeps of manifold runs: one TOML file names the models, their presets or base
//! configs, the axes to vary and the seeds ([`mod@file`]); every point is an ordinary run
//! directory under the sweep's directory, named by its settings.
//!
//! - [`local::run`] runs the points on this machine, N `manifold train` processes at a
//!   time; running it again skips finished points, resumes half-run ones from their
//!   checkpoints and retries failed ones ([`point::State`] is read from the run
//!   directories alone).
//! - [`slurm::submit`] submits the same points as one Slurm job array, each task running
//!   [`slurm::task`]; submitting again sends only what is missing or failed.
//! - [`collect::collect`] merges whatever has finished: `sweep.csv`, a mean ± sd
//!   summary per setting, the comparison page and the pictures the file asks for.
//!
//! ```
//! use std::path::Path;
//! use manifold_sweep::Sweep;
//!
//! let text = r#"
//!     seeds = 3
//!     [[group]]
//!     name = "dense"
//!     model = "mlp"
//!     set = { epochs = 2 }
//!     axes = { hidden = [[8], [32]] }
//! "#;
//! let sweep = Sweep::parse(Path::new("sweeps/mlp.toml"), text, None).unwrap();
//! assert_eq!(sweep.points.len(), 6); // 2 sizes × 3 seeds
//! assert_eq!(sweep.points[4].id(), "dense/hidden=32,seed=1");
//! assert_eq!(sweep.out, Path::new("runs/sweeps/mlp"));
//! ```

pub mod collect;
pub mod file;
pub mod local;
pub mod point;
pub mod slurm;

pub use file::{Group, Plot, Point, Sweep};
pub use point::{Launcher, State};
