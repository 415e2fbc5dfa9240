//! The shared core of the workspace's hand-written kernels. Each model keeps its own
//! kernels beside its maths, as a Burn backend extension (a trait on `Backend` with
//! one method per operation, implemented per backend):
//!
//! | trait | crate, module | operations |
//! |---|---|---|
//! | `SetBackend` | `manifold_set::kernels` | `y = W·x` over a connection list and its weight gradient |
//! | `DreamCompBackend` | `manifold_dreamcomp::kernels` | `S = V·Wᵀ` for a mostly-zero `V`, DreamComp's whole rule step |
//! | `DnmBackend` | `manifold_dnm::kernels` | the DNM's closeness grid, forward pass and flow loss (dense and kept-cell), each with its backward; CubeCL kernels on the GPU |
//!
//! This crate holds what they share: host buffers of float tensors ([`floats`]), rows
//! stored as their non-zeros ([`rows`]), the run-time choice of the CPU's widest vector
//! instructions ([`simd`]), the helpers of the `Autodiff<B>` glue
//! ([`autodiff`]), and the macros that implement a model's trait for every backend
//! compiled in ([`backends`]: [`for_each_host_backend!`], [`defaults_on_gpu_backends!`]).
//!
//! # No kernel on this backend
//!
//! Every method of a kernel trait has a default body that is right on every backend, so
//! a backend without a kernel for it just keeps the default (`impl Trait for B {}`):
//!
//! - where the operation's Burn-ops version can be written from the method's own
//!   arguments, the default body *is* that version and the method returns its result:
//!   callers never branch (SET's product and weight gradient, DreamComp's scores and
//!   rule step);
//! - where it cannot (the DNM's operations: their tensor expressions need the model's
//!   parameters and grid, and the kept-cell ones have no dense counterpart), the method
//!   returns `Option` and the default body is `None`; the caller then composes Burn ops.
//!
//! A backend with a kernel overrides the method. `Autodiff<B>` records each fused
//! operation as one graph node whose backward is the inner backend's hand-written
//! backward, and answers `None` exactly where the inner backend does.
//!
//! # Features
//!
//! `ndarray`, `flex` and `wgpu` decide which backends the macros implement the model
//! traits for; each model crate has features of the same names that forward to these.

pub mod autodiff;
pub mod backends;
pub mod floats;
pub mod rows;
pub mod simd;
