//! The DNM's kernels, as a Burn backend extension: [`DnmBackend`] (and
//! [`DnmAutodiffBackend`] for training), with the CPU kernels, the CubeCL kernels and
//! their registration in the fusion stream, and the `Autodiff<B>` glue.
//!
//! | module | what it computes | backends |
//! |---|---|---|
//! | [`closeness`] | the cutoff matrix `D`, the density surrogate and the flow loss, with their backwards | ndarray, flex |
//! | [`forward`] | the forward pass over the non-zeros of `D`, and its backward | ndarray, flex |
//! | [`kept`] | the same three operations with `D` stored as its kept cells | ndarray, flex |
//! | [`lstm`] | the kept-cell forward pass with LSTM neurons (a cell state per comp across time steps), and its backward | ndarray, flex |
//! | `cube`, `fusion` (feature `wgpu`) | the dense closeness, forward pass and flow as CubeCL kernels, on `CubeBackend` and on `Fusion<CubeBackend>` (burn-wgpu's `Wgpu`) | wgpu |
//! | [`autodiff`] | `Autodiff<B>`: each fused operation as one graph node whose backward is the inner backend's | training |
//!
//! No kernel on a backend: a method answers `None` (its default body) and the model
//! evaluates its tensor expressions instead ([`crate::Dnm::cutoff_expression`],
//! [`crate::Dnm::outputs_sweeps`], [`crate::flow`]; without the kept-cell operations,
//! [`crate::Dnm::kept`] is `None` and a step uses the dense `D`); the `*_backward` methods
//! exist for [`autodiff`]. This is `manifold_kernels`' convention for operations whose
//! Burn-ops version is not a function of the method's arguments alone.
//!
//! How to add a differentiable operation: `README.md` beside this file.

use std::sync::Arc;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

use crate::{Geometry, Precision};
pub use kept::Pattern;

pub mod autodiff;
pub mod closeness;
#[cfg(feature = "wgpu")]
pub mod cube;
pub mod forward;
#[cfg(feature = "wgpu")]
pub mod fusion;
pub mod kept;
pub mod lstm;

/// A backend with the DNM's fused operations (each answers `None` by default: no kernel).
pub trait DnmBackend: Backend {
    /// The DNM's closeness grid fused into one operation ([`closeness`]): from the packed
    /// raw parameters `[R, 7]` (α β γ θ φ σ μ) and `κ` (`[1]`), the cutoff matrix `D`
    /// (`[R, C]`); with a sharpness `k`, one more row `[s, 0, …]` (`s` the density
    /// surrogate). `None`: this backend has no fused kernel, and the caller evaluates the
    /// tensor expression instead.
    fn dnm_closeness(
        _shape: Tensor<Self, 2>,
        _kappa: Tensor<Self, 1>,
        _geometry: Geometry,
        _sharpness: Option<f64>,
    ) -> Option<Tensor<Self, 2>> {
        None
    }

    /// The backward of [`DnmBackend::dnm_closeness`]: the gradients of the packed
    /// parameters and of `κ` from its output `out` and the gradient of that output.
    fn dnm_closeness_backward(
        _shape: Tensor<Self, 2>,
        _kappa: Tensor<Self, 1>,
        _geometry: Geometry,
        _sharpness: Option<f64>,
        _out: Tensor<Self, 2>,
        _grad: Tensor<Self, 2>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        None
    }

    /// The DNM's flow loss `(Σ_{comp ← input} |D| − Σ_{output ← comp} |D|)²` (`[1]`) of the
    /// cutoff matrix `d` (`[R, C]`), with the sum `v` before squaring, in one pass with a
    /// one-pass backward ([`closeness::flow_sum`]). `None`: the caller composes Burn ops.
    fn dnm_flow(
        _d: Tensor<Self, 2>,
        _n_in: usize,
        _n_comp: usize,
    ) -> Option<(f64, Tensor<Self, 1>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_flow`]: `D̄` from `ḡ` and `v` (the sum before
    /// squaring).
    fn dnm_flow_backward(
        _d: Tensor<Self, 2>,
        _n_in: usize,
        _n_comp: usize,
        _v: f64,
        _grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 2>> {
        None
    }

    /// The DNM's fast forward pass fused into one operation ([`forward`]): the output
    /// neurons `y` (`[batch, n_out]`) of inputs `x` (`[batch, n_in]`) under the cutoff
    /// matrix `d` (`[R, C]`) with per-sender `w`, `b` (`[C]`), in one pass over the
    /// non-zeros of `d` (comps in index order, so the comp→comp block is exact). Also
    /// returns the comps' values `o` (`[batch, n_comp]`, not differentiated). Its backward
    /// gives the gradient of `d` on the non-zeros of `d` only (0 elsewhere): `d`'s zero
    /// cells are cut, with zero derivative with respect to every parameter.
    /// `None`: no fused kernel, and the caller composes Burn ops instead.
    fn dnm_outputs(
        _x: Tensor<Self, 2>,
        _d: Tensor<Self, 2>,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _n_in: usize,
        _leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_outputs`] from its `o` and the gradient of `y`:
    /// the gradients of `x`, `d`, `w`, `b`.
    #[allow(clippy::too_many_arguments)]
    fn dnm_outputs_backward(
        _x: Tensor<Self, 2>,
        _d: Tensor<Self, 2>,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _n_in: usize,
        _leak: f64,
        _o: Tensor<Self, 2>,
        _grad: Tensor<Self, 2>,
    ) -> Option<forward::TensorGrads<Self>> {
        None
    }

    /// [`DnmBackend::dnm_closeness`] with `D` as its kept cells ([`kept`]): the
    /// values (`[nnz]`, with a sharpness `[nnz + 1]` ending with `s`) and which cells
    /// they are. Memory grows with the kept cells, not with the grid. `None`: no kernel.
    fn dnm_kept(
        _shape: Tensor<Self, 2>,
        _kappa: Tensor<Self, 1>,
        _geometry: Geometry,
        _sharpness: Option<f64>,
    ) -> Option<(Tensor<Self, 1>, Arc<Pattern>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_kept`] from the gradient of its values.
    fn dnm_kept_backward(
        _shape: Tensor<Self, 2>,
        _kappa: Tensor<Self, 1>,
        _pattern: &Pattern,
        _sharpness: Option<f64>,
        _grad: Tensor<Self, 1>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        None
    }

    /// [`DnmBackend::dnm_outputs`] from the kept cells (`values` as
    /// [`DnmBackend::dnm_kept`] gives them).
    fn dnm_kept_outputs(
        _x: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Arc<Pattern>,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _leak: f64,
        _precision: Precision,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_kept_outputs`]: the gradients of `x`, the
    /// values, `w`, `b`.
    #[allow(clippy::too_many_arguments)]
    fn dnm_kept_outputs_backward(
        _x: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Pattern,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _leak: f64,
        _precision: Precision,
        _o: Tensor<Self, 2>,
        _grad: Tensor<Self, 2>,
    ) -> Option<KeptGrads<Self>> {
        None
    }

    /// [`DnmBackend::dnm_flow`] over the kept cells: `v` and `v²` (`[1]`).
    fn dnm_kept_flow(
        _values: Tensor<Self, 1>,
        _pattern: &Arc<Pattern>,
    ) -> Option<(f64, Tensor<Self, 1>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_kept_flow`]: the values' gradient.
    fn dnm_kept_flow_backward(
        _values: Tensor<Self, 1>,
        _pattern: &Pattern,
        _v: f64,
        _grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 1>> {
        None
    }

    /// [`DnmBackend::dnm_kept_outputs`] with LSTM neurons ([`lstm`]): from
    /// `z = [x | c⁻]` (`[batch, n_in + n_comp]`) and the comps' gate parameters `gates`
    /// (`[n_comp, 6]`), `[y | c]` (`[batch, n_out + n_comp]`) and the comps' input sums
    /// (`[batch, n_comp]`, not differentiated). `None`: no kernel.
    #[allow(clippy::too_many_arguments)]
    fn dnm_lstm_outputs(
        _z: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Arc<Pattern>,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _gates: Tensor<Self, 2>,
        _leak: f64,
        _precision: Precision,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        None
    }

    /// The backward of [`DnmBackend::dnm_lstm_outputs`] from its input sums and the
    /// gradient of `[y | c]`: the gradients of `z`, the values, `w`, `b`, `gates`.
    #[allow(clippy::too_many_arguments)]
    fn dnm_lstm_outputs_backward(
        _z: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Pattern,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _gates: Tensor<Self, 2>,
        _leak: f64,
        _precision: Precision,
        _s: Tensor<Self, 2>,
        _grad: Tensor<Self, 2>,
    ) -> Option<lstm::LstmGrads<Self>> {
        None
    }
}

/// Gradients of `x`, the kept values, `w`, `b`.
pub type KeptGrads<B> = (Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>);

/// A training backend whose inner (no-autodiff) backend has the DNM's kernels too.
pub trait DnmAutodiffBackend: AutodiffBackend<InnerBackend: DnmBackend> + DnmBackend {}

impl<B> DnmAutodiffBackend for B where B: AutodiffBackend<InnerBackend: DnmBackend> + DnmBackend {}

/// The CPU backends: the host kernels of [`closeness`], [`forward`] and [`kept`].
// Unused when no CPU backend feature is on: `for_each_host_backend!` then expands to
// nothing.
#[allow(unused_macros)]
macro_rules! host_impl {
    ($backend:ty, $host:expr) => {
        impl DnmBackend for $backend {
            fn dnm_closeness(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
            ) -> Option<Tensor<Self, 2>> {
                Some(closeness::forward_tensor(shape, kappa, geometry, sharpness))
            }

            fn dnm_closeness_backward(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
                out: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
                Some(closeness::backward_tensor(
                    shape, kappa, geometry, sharpness, out, grad,
                ))
            }

            fn dnm_flow(
                d: Tensor<Self, 2>,
                n_in: usize,
                n_comp: usize,
            ) -> Option<(f64, Tensor<Self, 1>)> {
                Some(closeness::flow_tensor(d, n_in, n_comp))
            }

            fn dnm_flow_backward(
                d: Tensor<Self, 2>,
                n_in: usize,
                n_comp: usize,
                v: f64,
                grad: Tensor<Self, 1>,
            ) -> Option<Tensor<Self, 2>> {
                Some(closeness::flow_backward_tensor(d, n_in, n_comp, v, grad))
            }

            fn dnm_outputs(
                x: Tensor<Self, 2>,
                d: Tensor<Self, 2>,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                n_in: usize,
                leak: f64,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
                Some(forward::outputs_tensor(x, d, w, b, n_in, leak))
            }

            fn dnm_outputs_backward(
                x: Tensor<Self, 2>,
                d: Tensor<Self, 2>,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                n_in: usize,
                leak: f64,
                o: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<forward::TensorGrads<Self>> {
                Some(forward::outputs_backward_tensor(
                    x, d, w, b, n_in, leak, o, grad,
                ))
            }

            fn dnm_kept(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
            ) -> Option<(Tensor<Self, 1>, Arc<Pattern>)> {
                Some(kept::closeness_tensor(shape, kappa, geometry, sharpness))
            }

            fn dnm_kept_backward(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                pattern: &Pattern,
                sharpness: Option<f64>,
                grad: Tensor<Self, 1>,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
                Some(kept::closeness_backward_tensor(
                    shape, kappa, pattern, sharpness, grad,
                ))
            }

            fn dnm_kept_outputs(
                x: Tensor<Self, 2>,
                values: Tensor<Self, 1>,
                pattern: &Arc<Pattern>,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                leak: f64,
                precision: Precision,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
                Some(kept::outputs_tensor(
                    x, values, pattern, w, b, leak, precision,
                ))
            }

            fn dnm_kept_outputs_backward(
                x: Tensor<Self, 2>,
                values: Tensor<Self, 1>,
                pattern: &Pattern,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                leak: f64,
                precision: Precision,
                o: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<KeptGrads<Self>> {
                Some(kept::outputs_backward_tensor(
                    x, values, pattern, w, b, leak, precision, o, grad,
                ))
            }

            fn dnm_kept_flow(
                values: Tensor<Self, 1>,
                pattern: &Arc<Pattern>,
            ) -> Option<(f64, Tensor<Self, 1>)> {
                Some(kept::flow_tensor(values, pattern))
            }

            fn dnm_kept_flow_backward(
                values: Tensor<Self, 1>,
                pattern: &Pattern,
                v: f64,
                grad: Tensor<Self, 1>,
            ) -> Option<Tensor<Self, 1>> {
                Some(kept::flow_backward_tensor(values, pattern, v, grad))
            }

            fn dnm_lstm_outputs(
                z: Tensor<Self, 2>,
                values: Tensor<Self, 1>,
                pattern: &Arc<Pattern>,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                gates: Tensor<Self, 2>,
                leak: f64,
                precision: Precision,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
                Some(lstm::outputs_tensor(
                    z, values, pattern, w, b, gates, leak, precision,
                ))
            }

            fn dnm_lstm_outputs_backward(
                z: Tensor<Self, 2>,
                values: Tensor<Self, 1>,
                pattern: &Pattern,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                gates: Tensor<Self, 2>,
                leak: f64,
                precision: Precision,
                s: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<lstm::LstmGrads<Self>> {
                Some(lstm::outputs_backward_tensor(
                    z, values, pattern, w, b, gates, leak, precision, s, grad,
                ))
            }
        }
    };
}

manifold_kernels::for_each_host_backend!(host_impl);
