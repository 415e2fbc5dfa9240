//! Sparse products over a connection list, as a Burn backend extension.
//!
//! A sparse matrix `W` (`n_out × n_in`) is a list of slots `k` with an input `rows_k`, an
//! output `cols_k` and a weight `w_k`. Activations are feature-major (`[features, batch]`).
//!
//! ```text
//! forward            y[j, :] = Σ_{k : cols_k = j} w_k · x[rows_k, :]        (y = W·x)
//! input gradient     x̄[i, :] = Σ_{k : rows_k = i} w_k · ȳ[cols_k, :]        (x̄ = Wᵀ·ȳ: the same
//!                                                     product with rows and cols swapped)
//! weight gradient    w̄_k     = Σ_b x[rows_k, b] · ȳ[cols_k, b]
//! ```
//!
//! Every operation costs `O(nnz · batch)` work and never builds an `n_out × n_in` matrix.
//! [`SparseBackend`] has a default implementation of each from Burn's own ops (gather with
//! `select`, scatter-add with `select_assign`: it runs on every backend, but materialises the
//! `[nnz, batch]` products). The CPU backends (`ndarray`, `flex` features) override them with
//! the kernels of [`host`], which walk the connection list grouped by output (or input) and
//! add whole batch rows, with rayon. For `Autodiff<B>` the forward is one node whose backward
//! is the two products above ([`autodiff`]), so autodiff records one op per layer instead of
//! the three gather/multiply/scatter ops and their broadcasts.
//!
//! [`rows`] is the other sparse product of the workspace: `S = V·Wᵀ` for a `V` whose rows
//! are mostly zero (DreamComp's scores of MNIST images), walking only the non-zeros.
//!
//! The DNM's two hot spots live here too, as the workspace's one crate of hand-written
//! kernels: [`closeness`] (the cutoff matrix `D` and the density surrogate from the
//! per-neuron parameters, one pass over the grid instead of some forty autodiff ops) and
//! [`substitution`] (the comp→comp block of the forward pass, one pass over the non-zeros
//! of `D`). Backends without them (wgpu) answer `None` and the DNM falls back to its
//! tensor expressions.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};

pub use closeness::Geometry;

pub mod autodiff;
pub mod closeness;
pub mod generic;
pub mod hebbian;
pub mod host;
pub mod real;
pub mod rows;
pub mod substitution;

/// A backend that can compute the sparse products of this crate.
pub trait SparseBackend: Backend {
    /// `y = W·x`: `x` is `[n_in, batch]`, the result `[n_out, batch]`.
    fn sparse_matmul(
        x: Tensor<Self, 2>,
        weights: Tensor<Self, 1>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
        n_out: usize,
    ) -> Tensor<Self, 2> {
        generic::sparse_matmul(x, weights, rows, cols, n_out)
    }

    /// `w̄_k = Σ_b x[rows_k, b] · ȳ[cols_k, b]` (`[nnz]`).
    fn sparse_weight_grad(
        x: Tensor<Self, 2>,
        grad_out: Tensor<Self, 2>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
    ) -> Tensor<Self, 1> {
        generic::sparse_weight_grad(x, grad_out, rows, cols)
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
    /// host pass ([`hebbian`]): the new `w` (`[K, L']`) from the minibatch `v` (`[B, L']`)
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

    /// The backward of [`SparseBackend::dnm_closeness`]: the gradients of the packed
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

    /// The backward of [`SparseBackend::dnm_flow`]: `D̄` from `ḡ` and `v` (the sum before
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

    /// The DNM's fast forward pass fused into one operation ([`substitution`]): the output
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

    /// The backward of [`SparseBackend::dnm_outputs`] from its `o` and the gradient of `y`:
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
    ) -> Option<substitution::TensorGrads<Self>> {
        None
    }
}

/// A training backend whose inner (no-autodiff) backend is sparse-capable too.
pub trait SparseAutodiffBackend:
    AutodiffBackend<InnerBackend: SparseBackend> + SparseBackend
{
}

impl<B> SparseAutodiffBackend for B where
    B: AutodiffBackend<InnerBackend: SparseBackend> + SparseBackend
{
}

/// The CPU backends use the host kernels (`rows`: also for `V·Wᵀ` and DreamComp's fused
/// step, where the `rows` product measured faster than the backend's own matmul: on
/// ndarray, not on flex).
#[cfg(any(feature = "ndarray", feature = "flex"))]
macro_rules! host_backend {
    ($backend:ty, rows: $rows:literal) => {
        impl SparseBackend for $backend {
            fn sparse_matmul(
                x: Tensor<Self, 2>,
                weights: Tensor<Self, 1>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
                n_out: usize,
            ) -> Tensor<Self, 2> {
                host::sparse_matmul(x, weights, rows, cols, n_out)
            }

            fn sparse_weight_grad(
                x: Tensor<Self, 2>,
                grad_out: Tensor<Self, 2>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
            ) -> Tensor<Self, 1> {
                host::sparse_weight_grad(x, grad_out, rows, cols)
            }

            fn sparse_scratch_bytes(nnz: usize, _batch: usize) -> usize {
                host::scratch_bytes(nnz)
            }

            fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
                if $rows {
                    rows::sparse_rows_matmul_t(v, w)
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
                    Ok(hebbian::step_tensor(w, v, xi, inv_zeta))
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
                Some(substitution::outputs_tensor(x, d, w, b, n_in, leak))
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
            ) -> Option<substitution::TensorGrads<Self>> {
                Some(substitution::outputs_backward_tensor(
                    x, d, w, b, n_in, leak, o, grad,
                ))
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

/// GPUs keep the gather/scatter default (a host round trip would cost more than it saves).
#[cfg(feature = "wgpu")]
impl SparseBackend for burn_wgpu::Wgpu<f32, i32> {}
