//! Every model on every compiled backend, in one test binary: each backend's generic
//! code (autodiff, kernels) is compiled once for all models, not once per file.
//!
//! * [`mlp`]: the MLP's loss curve and accuracy agree across ndarray, wgpu and flex.
//! * [`dnm`]: the DNM's closeness matrix, outputs, loss and gradients, wgpu vs ndarray.
//! * [`dreamcomp`]: the hand-computed update step and a short run on wgpu.
//! * [`set`]: the sparse and masked compute paths agree on wgpu.

mod dnm;
mod dreamcomp;
mod mlp;
mod set;
