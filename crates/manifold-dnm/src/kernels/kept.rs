//! The DNM's cutoff matrix `D` stored as its kept cells: a [`Pattern`] (which cells, on the
//! host) and a values tensor (`[nnz]`, in the pattern's order, differentiated), so that
//! a training step's memory and work grow with the kept connections, not with the
//! `R × C` grid.
//!
//! The three operations are the dense ones of [`super::closeness`] and
//! [`super::forward`] with `D` replaced by its kept cells, cell for cell the same
//! arithmetic in the same order, so the two give bit-identical values and gradients:
//!
//! | operation | dense | kept cells |
//! |---|---|---|
//! | closeness | `D` `[R, C]` (+ row `[s, 0, …]`) | values `[nnz]` (+ `s`), pattern |
//! | forward pass | from `D` | from values + pattern |
//! | flow | `Σ_A |D| − Σ_B |D|` over the blocks | over the kept cells in the blocks |
//!
//! Only the closeness pass visits cells that are not kept: the columns each row's
//! gaussian can lift over the cutoff (a window around μ), or with a surrogate over
//! `c − TAIL/k` ([`super::closeness::SURROGATE_TAIL`]). It records 32 bytes per visited
//! cell for its backward ([`Pattern::visits`]); nothing else grows with the `R × C` grid,
//! and that record only does when the window is the whole row (a surrogate whose tail
//! reaches below 0: `c ≤ TAIL/k`). The run's memory estimate
//! ([`crate::DnmConfig::memory_bytes`]: 128 bytes a cell) bounds it.

use std::sync::Arc;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::closeness::{inputs, Visit};
use super::forward::{backward as forward_backward, forward as forward_pass, Layout, Net};
use crate::{Geometry, Precision};
use manifold_kernels::floats::{Floats, Real};
use manifold_kernels::rows::SparseRows;

/// Which cells of `D` are kept: row `r`'s columns are `cols[ptr[r]..ptr[r + 1]]`, rising.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The grid's sizes and period.
    pub geometry: Geometry,
    /// Row starts, `R + 1` entries.
    pub ptr: Vec<usize>,
    /// Columns of the kept cells, row by row.
    pub cols: Vec<u32>,
    /// Per row, what the closeness pass computed at each cell it visited (kept or not),
    /// for its backward ([`closeness_backward`]).
    pub visits: Vec<Vec<Visit>>,
}

impl Pattern {
    /// Kept cells.
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Row `r`'s kept columns and their positions in the values.
    pub fn row(&self, r: usize) -> (std::ops::Range<usize>, &[u32]) {
        let span = self.ptr[r]..self.ptr[r + 1];
        (span.clone(), &self.cols[span])
    }

    /// The kept cells as `(r·C + j, value)`, rising: their places in a row-major
    /// `[R, C]` buffer.
    pub fn cells<'a, T: Copy>(&'a self, values: &'a [T]) -> impl Iterator<Item = (usize, T)> + 'a {
        let cols = self.geometry.cols();
        (0..self.geometry.rows()).flat_map(move |r| {
            let (span, js) = self.row(r);
            js.iter()
                .zip(&values[span])
                .map(move |(&j, &v)| (r * cols + j as usize, v))
        })
    }

    /// The pattern and values as a dense row-major `[R, C]` buffer.
    pub fn dense<T: Real>(&self, values: &[T]) -> Vec<T> {
        let mut d = vec![T::of(0.0); self.geometry.rows() * self.geometry.cols()];
        for (k, v) in self.cells(values) {
            d[k] = v;
        }
        d
    }

    fn sparse_rows<T: Real>(&self, values: &[T]) -> SparseRows<f64> {
        SparseRows::from_parts(
            self.ptr.clone(),
            self.cols.clone(),
            values[..self.nnz()].iter().map(|&v| v.into()).collect(),
        )
    }
}

/// Forward of the closeness: the pattern, the kept values (with a surrogate one more
/// value, `s`, at the end), in the precision `T` of the tensor they become.
pub fn closeness<T: Real>(inp: &super::closeness::Inputs) -> (Pattern, Vec<T>) {
    let g = inp.geometry;
    let rows = (0..g.rows())
        .into_par_iter()
        .map(|r| {
            let (mut cols, mut vals, mut visits) = (Vec::new(), Vec::new(), Vec::new());
            let s = inp.forward_row(
                r,
                |j, d| {
                    let v = T::of(d);
                    if v.into() != 0.0 {
                        cols.push(j as u32);
                        vals.push(v);
                    }
                },
                Some(&mut visits),
            );
            (cols, vals, visits, s)
        })
        .collect::<Vec<_>>();
    let nnz = rows.iter().map(|(c, _, _, _)| c.len()).sum::<usize>();
    let extra = inp.sharpness.is_some() as usize;
    let mut pattern = Pattern {
        geometry: g,
        ptr: Vec::with_capacity(g.rows() + 1),
        cols: Vec::with_capacity(nnz),
        visits: Vec::with_capacity(g.rows()),
    };
    let mut values = Vec::with_capacity(nnz + extra);
    let mut shares = Vec::with_capacity(g.rows());
    pattern.ptr.push(0);
    for (cols, vals, visits, s) in rows {
        pattern.cols.extend_from_slice(&cols);
        values.extend_from_slice(&vals);
        pattern.ptr.push(pattern.cols.len());
        pattern.visits.push(visits);
        shares.push(s);
    }
    if inp.sharpness.is_some() {
        values.push(T::of(inp.surrogate(&shares)));
    }
    (pattern, values)
}

/// Backward of [`closeness`]: the gradients of the packed parameters (`[R, 7]`) and `κ`
/// from the gradient of the values (with a surrogate, the last one is `s̄`). `pattern`
/// is what [`closeness`] gave for the same inputs: the backward reads its
/// [`Pattern::visits`] instead of computing each visited cell's exponentials again.
pub fn closeness_backward<T: Real>(
    inp: &super::closeness::Inputs,
    pattern: &Pattern,
    grad: &[T],
) -> (Vec<f64>, f64) {
    let g_s = match inp.sharpness {
        Some(_) => grad[pattern.nnz()].into(),
        None => 0.0,
    };
    let mut g_shape = vec![0.0; inp.geometry.rows() * 7];
    let g_c = g_shape
        .par_chunks_mut(7)
        .enumerate()
        .map(|(r, g_row)| {
            let (span, js) = pattern.row(r);
            let grads = &grad[span];
            let mut next = 0;
            let cell_grad = |j: usize| {
                (next < js.len() && js[next] as usize == j).then(|| {
                    next += 1;
                    grads[next - 1].into()
                })
            };
            inp.backward_row(r, g_s, cell_grad, g_row, Some(&pattern.visits[r]))
        })
        .collect::<Vec<f64>>();
    (g_shape, inp.kappa_grad(&g_c))
}

/// `v = Σ_A |D| − Σ_B |D|` over the kept cells (`A`: comp ← input, `B`: output ← comp),
/// summed per row and the rows in order, as [`super::closeness::flow_sum`] does.
pub fn flow_sum<T: Real>(pattern: &Pattern, values: &[T]) -> f64 {
    let (n_in, n_comp) = (pattern.geometry.inputs, pattern.geometry.comps);
    let rows = (0..pattern.geometry.rows())
        .map(|r| {
            let (span, js) = pattern.row(r);
            let vals = &values[span];
            let in_block = |j: u32| (j as usize) < n_in;
            let (wanted, sign) = if r < n_comp {
                (true, 1.0)
            } else {
                (false, -1.0)
            };
            sign * js
                .iter()
                .zip(vals)
                .filter(|(&j, _)| in_block(j) == wanted)
                .map(|(_, v)| (*v).into().abs())
                .sum::<f64>()
        })
        .collect::<Vec<f64>>();
    rows.iter().sum()
}

/// The gradient of the flow loss `v²` over the values: `scale·sign(D)` on `A`,
/// `−scale·sign(D)` on `B`, 0 elsewhere (`scale = 2v·ḡ`).
pub fn flow_grad<T: Real>(pattern: &Pattern, values: &[T], scale: f64) -> Vec<T> {
    let geometry = pattern.geometry;
    let mut g = vec![T::of(0.0); values.len()];
    for r in 0..geometry.rows() {
        let (span, js) = pattern.row(r);
        let (block, sign) = geometry.flow_block(r);
        for (k, &j) in span.zip(js) {
            let v: f64 = values[k].into();
            if block.contains(&(j as usize)) && v != 0.0 {
                g[k] = T::of(sign * scale * v.signum());
            }
        }
    }
    g
}

/// The kept cells of `D` on a CPU backend: the values tensor (`[nnz]`, or `[nnz + 1]`
/// ending with `s` when a sharpness is given) and the pattern.
pub fn closeness_tensor<B: Backend>(
    shape: Tensor<B, 2>,
    kappa: Tensor<B, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
) -> (Tensor<B, 1>, Arc<Pattern>) {
    fn data<T: Real>(inp: &super::closeness::Inputs) -> (Pattern, TensorData) {
        let (pattern, values) = closeness::<T>(inp);
        let n = values.len();
        (pattern, TensorData::new(values, [n]))
    }
    let (device, dtype) = (shape.device(), shape.dtype());
    let inp = inputs(shape, kappa, geometry, sharpness);
    let (pattern, data) = match dtype {
        DType::F32 => data::<f32>(&inp),
        _ => data::<f64>(&inp),
    };
    (Tensor::from_data(data, &device), Arc::new(pattern))
}

/// [`closeness_backward`] on tensors.
pub fn closeness_backward_tensor<B: Backend>(
    shape: Tensor<B, 2>,
    kappa: Tensor<B, 1>,
    pattern: &Pattern,
    sharpness: Option<f64>,
    grad: Tensor<B, 1>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let device = shape.device();
    let geometry = pattern.geometry;
    let inp = inputs(shape, kappa, geometry, sharpness);
    let (g_shape, g_kappa) = match Floats::of(grad) {
        Floats::F32(g) => closeness_backward(&inp, pattern, &g),
        Floats::F64(g) => closeness_backward(&inp, pattern, &g),
    };
    (
        Tensor::from_data(TensorData::new(g_shape, [geometry.rows(), 7]), &device),
        Tensor::from_data(TensorData::new(vec![g_kappa], [1]), &device),
    )
}

/// [`flow_sum`] on a tensor: `(v, v²)` with `v²` as a `[1]` tensor.
pub fn flow_tensor<B: Backend>(values: Tensor<B, 1>, pattern: &Pattern) -> (f64, Tensor<B, 1>) {
    let device = values.device();
    let v = match Floats::of(values) {
        Floats::F32(d) => flow_sum(pattern, &d),
        Floats::F64(d) => flow_sum(pattern, &d),
    };
    (
        v,
        Tensor::from_data(TensorData::new(vec![v * v], [1]), &device),
    )
}

/// The gradient of [`flow_tensor`]'s `v²` from `ḡ` (`[1]`), over the values.
pub fn flow_backward_tensor<B: Backend>(
    values: Tensor<B, 1>,
    pattern: &Pattern,
    v: f64,
    grad: Tensor<B, 1>,
) -> Tensor<B, 1> {
    let (n, device) = (values.dims()[0], values.device());
    let scale = 2.0 * v * Floats::of(grad).into_f64()[0];
    let data = match Floats::of(values) {
        Floats::F32(d) => TensorData::new(flow_grad(pattern, &d, scale), [n]),
        Floats::F64(d) => TensorData::new(flow_grad(pattern, &d, scale), [n]),
    };
    Tensor::from_data(data, &device)
}

pub(crate) fn host<B: Backend>(
    x: Tensor<B, 2>,
    values: Tensor<B, 1>,
    pattern: &Pattern,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    leak: f64,
    precision: Precision,
) -> (Net, Floats, SparseRows<f64>) {
    let batch = x.dims()[0];
    let support = match Floats::of(values) {
        Floats::F32(v) => pattern.sparse_rows(&v),
        Floats::F64(v) => pattern.sparse_rows(&v),
    };
    let net = Net::of(pattern.geometry.inputs, batch, w, b, leak).with_precision(precision);
    (net, Floats::of(x), support)
}

/// The forward pass over the kept cells ([`super::forward::forward`]): `y`
/// (`[batch, n_out]`) and the comps' values `o` (`[batch, n_comp]`).
pub fn outputs_tensor<B: Backend>(
    x: Tensor<B, 2>,
    values: Tensor<B, 1>,
    pattern: &Pattern,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    leak: f64,
    precision: Precision,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let device = x.device();
    let g = pattern.geometry;
    let (net, x, d) = host(x, values, pattern, w, b, leak, precision);
    // `y` and `o` in `x`'s precision.
    fn pass<X: Real>(net: &Net, x: &[X], d: &SparseRows<f64>, g: Geometry) -> [TensorData; 2] {
        let (y, o) = forward_pass(net, x, d);
        [
            TensorData::new(y, [net.batch, g.outputs]),
            TensorData::new(o, [net.batch, g.comps]),
        ]
    }
    let [y, o] = match x {
        Floats::F32(x) => pass(&net, &x, &d, g),
        Floats::F64(x) => pass(&net, &x, &d, g),
    };
    (Tensor::from_data(y, &device), Tensor::from_data(o, &device))
}

/// The backward of [`outputs_tensor`]: the gradients of `x`, the values (`[len]`, the
/// values tensor's length; 0 past the kept cells), `w`, `b`.
#[allow(clippy::too_many_arguments)]
pub fn outputs_backward_tensor<B: Backend>(
    x: Tensor<B, 2>,
    values: Tensor<B, 1>,
    pattern: &Pattern,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    leak: f64,
    precision: Precision,
    o: Tensor<B, 2>,
    grad: Tensor<B, 2>,
) -> (Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>, Tensor<B, 1>) {
    let ([batch, n_in], device) = (x.dims(), x.device());
    let (len, cols) = (values.dims()[0], pattern.geometry.cols());
    let f32_values = values.dtype() == DType::F32;
    let (net, x, d) = host(x, values, pattern, w, b, leak, precision);
    // x, o and ȳ in their own precision when all three are f32, else as f64.
    let g = match (x, Floats::of(o), Floats::of(grad)) {
        (Floats::F32(x), Floats::F32(o), Floats::F32(g_y)) => {
            forward_backward::<f32, f64>(&net, &x, &d, &o, &g_y, Layout::Kept)
        }
        (x, o, g_y) => {
            let (x, o, g_y) = (x.into_f64(), o.into_f64(), g_y.into_f64());
            forward_backward::<f64, f64>(&net, &x, &d, &o, &g_y, Layout::Kept)
        }
    };
    let mut g_values = g.d;
    g_values.resize(len, 0.0);
    let g_values = if f32_values {
        TensorData::new(
            g_values.into_iter().map(|v| v as f32).collect::<Vec<_>>(),
            [len],
        )
    } else {
        TensorData::new(g_values, [len])
    };
    (
        Tensor::from_data(TensorData::new(g.x, [batch, n_in]), &device),
        Tensor::from_data(g_values, &device),
        Tensor::from_data(TensorData::new(g.w, [cols]), &device),
        Tensor::from_data(TensorData::new(g.b, [cols]), &device),
    )
}
