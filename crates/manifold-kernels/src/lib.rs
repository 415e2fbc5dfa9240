//! The workspace's hand-written kernels, as a Burn backend extension: [`KernelBackend`]
//! (and [`KernelAutodiffBackend`] for training). Each operation has a default made of
//! Burn's own ops, so every backend runs it; the CPU backends (`ndarray`, `flex`
//! features) override it with a fused host kernel, and `Autodiff<B>` records each fused
//! operation as one graph node with a hand-written backward ([`autodiff`]).
//!
//! | module | what it computes | used by |
//! |---|---|---|
//! | [`sparse_fallback`], [`sparse_host`] | `y = W·x` over a connection list and its two gradients | SET |
//! | [`sparse_rows`] | `S = V·Wᵀ` for a `V` whose rows are mostly zero | DreamComp |
//! | [`dreamcomp_step`] | DreamComp's whole rule step (scores, winners, update) | DreamComp |
//! | [`dnm_closeness`] | the DNM's cutoff matrix `D`, density surrogate and flow loss | DNM |
//! | [`dnm_forward`] | the DNM's forward pass over the non-zeros of `D`, and its backward | DNM |
//! | [`dnm_kept`] | the same three DNM operations with `D` stored as its kept cells | DNM |
//! | `dnm_cube`, `dnm_fusion` (`wgpu` feature) | the DNM's closeness and forward pass as CubeCL kernels, on `CubeBackend` and on `Fusion<CubeBackend>` (burn-wgpu's `Wgpu`) | DNM |
//! | [`floats`] | host buffers of float tensors in their own precision | all kernels |
//!
//! The sparse product over a connection list: a sparse matrix `W` (`n_out × n_in`) is a
//! list of slots `k` with an input `rows_k`, an output `cols_k` and a weight `w_k`.
//! Activations are feature-major (`[features, batch]`).
//!
//! ```text
//! forward            y[j, :] = Σ_{k : cols_k = j} w_k · x[rows_k, :]        (y = W·x)
//! input gradient     x̄[i, :] = Σ_{k : rows_k = i} w_k · ȳ[cols_k, :]        (x̄ = Wᵀ·ȳ)
//! weight gradient    w̄_k     = Σ_b x[rows_k, b] · ȳ[cols_k, b]
//! ```
//!
//! Every one costs `O(nnz · batch)` work and never builds an `n_out × n_in` matrix. The
//! default ([`sparse_fallback`]) gathers with `select` and scatter-adds with
//! `select_assign`, materialising the `[nnz, batch]` products; the host kernels
//! ([`sparse_host`]) walk the list grouped by output (or input) and add whole batch rows.
//! The DNM's operations answer `None` where a backend has no kernel (the kept-cell ops
//! and the flow on the GPU), and the DNM then evaluates its tensor expressions instead.

use std::sync::Arc;

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};

pub use dnm_closeness::Geometry;
pub use dnm_kept::Pattern;

pub mod autodiff;
pub mod dnm_closeness;
#[cfg(feature = "wgpu")]
pub mod dnm_cube;
pub mod dnm_forward;
#[cfg(feature = "wgpu")]
pub mod dnm_fusion;
pub mod dnm_kept;
pub mod dreamcomp_step;
pub mod floats;
pub mod sparse_fallback;
pub mod sparse_host;
pub mod sparse_rows;

/// A backend with the kernels of this crate (each has a default from Burn ops).
pub trait KernelBackend: Backend {
    /// `y = W·x`: `x` is `[n_in, batch]`, the result `[n_out, batch]`.
    fn sparse_matmul(
        x: Tensor<Self, 2>,
        weights: Tensor<Self, 1>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
        n_out: usize,
    ) -> Tensor<Self, 2> {
        sparse_fallback::sparse_matmul(x, weights, rows, cols, n_out)
    }

    /// `w̄_k = Σ_b x[rows_k, b] · ȳ[cols_k, b]` (`[nnz]`).
    fn sparse_weight_grad(
        x: Tensor<Self, 2>,
        grad_out: Tensor<Self, 2>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
    ) -> Tensor<Self, 1> {
        sparse_fallback::sparse_weight_grad(x, grad_out, rows, cols)
    }

    /// Bytes of the largest intermediate one product allocates besides its input and
    /// output, for `nnz` connections and `batch` columns: here the gathered `[nnz, batch]`
    /// products.
    fn sparse_scratch_bytes(nnz: usize, batch: usize) -> usize {
        4 * nnz * batch
    }

    /// `S = V·Wᵀ` (`[n, d]` × `[k, d]` → `[n, k]`) for a `V` whose rows are mostly zero
    /// (DreamComp's scores). Default: the dense matmul. Not differentiated.
    fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
        v.matmul(w.transpose())
    }

    /// DreamComp's whole rule step (scores, winners, the winners' update) fused into one
    /// host pass ([`dreamcomp_step`]): the new `w` (`[K, L']`) from the minibatch `v` (`[B, L']`)
    /// and the per-synapse rows `xi`, `inv_zeta` (`[1, L']`). Not differentiated. The
    /// tensors are taken by value (a tensor nobody else holds is read without a copy);
    /// `Err` gives them back where there is no fused kernel, and the caller composes Burn
    /// ops.
    fn dreamcomp_step(
        w: Tensor<Self, 2>,
        v: Tensor<Self, 2>,
        xi: Tensor<Self, 2>,
        inv_zeta: Tensor<Self, 2>,
    ) -> Result<Tensor<Self, 2>, [Tensor<Self, 2>; 4]> {
        Err([w, v, xi, inv_zeta])
    }

    /// The DNM's closeness grid fused into one operation ([`dnm_closeness`]): from the packed
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

    /// The backward of [`KernelBackend::dnm_closeness`]: the gradients of the packed
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
    /// one-pass backward ([`dnm_closeness::flow_sum`]). `None`: the caller composes Burn ops.
    fn dnm_flow(
        _d: Tensor<Self, 2>,
        _n_in: usize,
        _n_comp: usize,
    ) -> Option<(f64, Tensor<Self, 1>)> {
        None
    }

    /// The backward of [`KernelBackend::dnm_flow`]: `D̄` from `ḡ` and `v` (the sum before
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

    /// The DNM's fast forward pass fused into one operation ([`dnm_forward`]): the output
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

    /// The backward of [`KernelBackend::dnm_outputs`] from its `o` and the gradient of `y`:
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
    ) -> Option<dnm_forward::TensorGrads<Self>> {
        None
    }

    /// [`KernelBackend::dnm_closeness`] with `D` as its kept cells ([`dnm_kept`]): the
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

    /// The backward of [`KernelBackend::dnm_kept`] from the gradient of its values.
    fn dnm_kept_backward(
        _shape: Tensor<Self, 2>,
        _kappa: Tensor<Self, 1>,
        _pattern: &Pattern,
        _sharpness: Option<f64>,
        _grad: Tensor<Self, 1>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        None
    }

    /// [`KernelBackend::dnm_outputs`] from the kept cells (`values` as
    /// [`KernelBackend::dnm_kept`] gives them).
    fn dnm_kept_outputs(
        _x: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Arc<Pattern>,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        None
    }

    /// The backward of [`KernelBackend::dnm_kept_outputs`]: the gradients of `x`, the
    /// values, `w`, `b`.
    #[allow(clippy::too_many_arguments)]
    fn dnm_kept_outputs_backward(
        _x: Tensor<Self, 2>,
        _values: Tensor<Self, 1>,
        _pattern: &Pattern,
        _w: Tensor<Self, 1>,
        _b: Tensor<Self, 1>,
        _leak: f64,
        _o: Tensor<Self, 2>,
        _grad: Tensor<Self, 2>,
    ) -> Option<KeptGrads<Self>> {
        None
    }

    /// [`KernelBackend::dnm_flow`] over the kept cells: `v` and `v²` (`[1]`).
    fn dnm_kept_flow(
        _values: Tensor<Self, 1>,
        _pattern: &Arc<Pattern>,
    ) -> Option<(f64, Tensor<Self, 1>)> {
        None
    }

    /// The backward of [`KernelBackend::dnm_kept_flow`]: the values' gradient.
    fn dnm_kept_flow_backward(
        _values: Tensor<Self, 1>,
        _pattern: &Pattern,
        _v: f64,
        _grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 1>> {
        None
    }
}

/// Gradients of `x`, the kept values, `w`, `b`.
pub type KeptGrads<B> = (Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>);

/// A training backend whose inner (no-autodiff) backend is sparse-capable too.
pub trait KernelAutodiffBackend:
    AutodiffBackend<InnerBackend: KernelBackend> + KernelBackend
{
}

impl<B> KernelAutodiffBackend for B where
    B: AutodiffBackend<InnerBackend: KernelBackend> + KernelBackend
{
}

/// The CPU backends use the host kernels (`rows`: also for `V·Wᵀ` and DreamComp's fused
/// step, where the `rows` product measured faster than the backend's own matmul: on
/// ndarray, not on flex).
#[cfg(any(feature = "ndarray", feature = "flex"))]
macro_rules! host_backend {
    ($backend:ty, rows: $rows:literal) => {
        impl KernelBackend for $backend {
            fn sparse_matmul(
                x: Tensor<Self, 2>,
                weights: Tensor<Self, 1>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
                n_out: usize,
            ) -> Tensor<Self, 2> {
                sparse_host::sparse_matmul(x, weights, rows, cols, n_out)
            }

            fn sparse_weight_grad(
                x: Tensor<Self, 2>,
                grad_out: Tensor<Self, 2>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
            ) -> Tensor<Self, 1> {
                sparse_host::sparse_weight_grad(x, grad_out, rows, cols)
            }

            fn sparse_scratch_bytes(nnz: usize, _batch: usize) -> usize {
                sparse_host::scratch_bytes(nnz)
            }

            fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
                if $rows {
                    sparse_rows::sparse_rows_matmul_t(v, w)
                } else {
                    v.matmul(w.transpose())
                }
            }

            fn dreamcomp_step(
                w: Tensor<Self, 2>,
                v: Tensor<Self, 2>,
                xi: Tensor<Self, 2>,
                inv_zeta: Tensor<Self, 2>,
            ) -> Result<Tensor<Self, 2>, [Tensor<Self, 2>; 4]> {
                // Its scores are the `rows` product: only where that beat the matmul.
                if $rows {
                    Ok(dreamcomp_step::step_tensor(w, v, xi, inv_zeta))
                } else {
                    Err([w, v, xi, inv_zeta])
                }
            }

            fn dnm_closeness(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
            ) -> Option<Tensor<Self, 2>> {
                Some(dnm_closeness::forward_tensor(
                    shape, kappa, geometry, sharpness,
                ))
            }

            fn dnm_closeness_backward(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
                out: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
                Some(dnm_closeness::backward_tensor(
                    shape, kappa, geometry, sharpness, out, grad,
                ))
            }

            fn dnm_flow(
                d: Tensor<Self, 2>,
                n_in: usize,
                n_comp: usize,
            ) -> Option<(f64, Tensor<Self, 1>)> {
                Some(dnm_closeness::flow_tensor(d, n_in, n_comp))
            }

            fn dnm_flow_backward(
                d: Tensor<Self, 2>,
                n_in: usize,
                n_comp: usize,
                v: f64,
                grad: Tensor<Self, 1>,
            ) -> Option<Tensor<Self, 2>> {
                Some(dnm_closeness::flow_backward_tensor(
                    d, n_in, n_comp, v, grad,
                ))
            }

            fn dnm_outputs(
                x: Tensor<Self, 2>,
                d: Tensor<Self, 2>,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                n_in: usize,
                leak: f64,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
                Some(dnm_forward::outputs_tensor(x, d, w, b, n_in, leak))
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
            ) -> Option<dnm_forward::TensorGrads<Self>> {
                Some(dnm_forward::outputs_backward_tensor(
                    x, d, w, b, n_in, leak, o, grad,
                ))
            }

            fn dnm_kept(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                geometry: Geometry,
                sharpness: Option<f64>,
            ) -> Option<(Tensor<Self, 1>, Arc<Pattern>)> {
                Some(dnm_kept::closeness_tensor(
                    shape, kappa, geometry, sharpness,
                ))
            }

            fn dnm_kept_backward(
                shape: Tensor<Self, 2>,
                kappa: Tensor<Self, 1>,
                pattern: &Pattern,
                sharpness: Option<f64>,
                grad: Tensor<Self, 1>,
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
                Some(dnm_kept::closeness_backward_tensor(
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
            ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
                Some(dnm_kept::outputs_tensor(x, values, pattern, w, b, leak))
            }

            fn dnm_kept_outputs_backward(
                x: Tensor<Self, 2>,
                values: Tensor<Self, 1>,
                pattern: &Pattern,
                w: Tensor<Self, 1>,
                b: Tensor<Self, 1>,
                leak: f64,
                o: Tensor<Self, 2>,
                grad: Tensor<Self, 2>,
            ) -> Option<KeptGrads<Self>> {
                Some(dnm_kept::outputs_backward_tensor(
                    x, values, pattern, w, b, leak, o, grad,
                ))
            }

            fn dnm_kept_flow(
                values: Tensor<Self, 1>,
                pattern: &Arc<Pattern>,
            ) -> Option<(f64, Tensor<Self, 1>)> {
                Some(dnm_kept::flow_tensor(values, pattern))
            }

            fn dnm_kept_flow_backward(
                values: Tensor<Self, 1>,
                pattern: &Pattern,
                v: f64,
                grad: Tensor<Self, 1>,
            ) -> Option<Tensor<Self, 1>> {
                Some(dnm_kept::flow_backward_tensor(values, pattern, v, grad))
            }
        }
    };
}

#[cfg(feature = "ndarray")]
host_backend!(burn_ndarray::NdArray<f32>, rows: true);
#[cfg(feature = "ndarray")]
host_backend!(burn_ndarray::NdArray<f64>, rows: true);
#[cfg(feature = "flex")]
host_backend!(burn_flex::Flex, rows: false);
