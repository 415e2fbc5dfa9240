//! The DNM's fast forward pass as one fused CPU operation ([`outputs_tensor`]: input block
//! and outputs as matmuls on the backend) around its comp→comp block: forward
//! substitution through a strictly lower-triangular `D` (`n × n`), and the backwards.
//!
//! ```text
//! forward   (i = 0, 1, …, n−1)   o_i = inp_i + Σ_{k<i} D_ik · a_k,   a_k = leaky(w_k·o_k + b_k)
//! backward  (i = n−1, …, 0)      ū_i = ā_i · leaky'(u_i)             (ā_i: Σ_{i'>i} D_i'i · ō_i')
//!                                ō_i = ḡ_i + w_i · ū_i              (ḡ: the gradient reaching o)
//!                                w̄_i = Σ_batch ū_i·o_i   b̄_i = Σ_batch ū_i   inp̄_i = ō_i
//!                                D̄_ik = Σ_batch ō_i·a_k   (k < i)
//! ```
//!
//! Each comp costs one pass over the non-zeros of its row of `D` (the thresholded DNM keeps
//! a few percent), so the whole block is a few hundred thousand multiply-adds for a batch
//! of 50, where the level-by-level sweeps cost some fifty autodiff ops. The dense `D̄` is the
//! only `O(n²·batch)` part (rows in parallel). Host arrays are comp-major (`[n][batch]`), in
//! f64.

use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use crate::real::{Floats, Real};

/// `leaky(u)` and its slope.
#[inline]
fn leaky(u: f64, leak: f64) -> (f64, f64) {
    if u > 0.0 {
        (u, 1.0)
    } else {
        (u * leak, leak)
    }
}

/// A `[batch, n]` row-major buffer as comp-major `[n][batch]`.
fn comp_major(x: &[f64], batch: usize, n: usize) -> Vec<f64> {
    let mut t = vec![0.0; x.len()];
    for (b, row) in x.chunks(n).enumerate() {
        for (i, v) in row.iter().enumerate() {
            t[i * batch + b] = *v;
        }
    }
    t
}

/// The inverse of [`comp_major`].
fn batch_major(t: &[f64], batch: usize, n: usize) -> Vec<f64> {
    comp_major(t, n, batch)
}

/// Forward: `o` (`[batch, n]`) from `inp` (`[batch, n]`), `d` (`[n, n]`, only `k < i`
/// read), `w`, `b` (`[n]`).
pub fn forward(inp: &[f64], d: &[f64], w: &[f64], b: &[f64], leak: f64) -> Vec<f64> {
    let n = w.len();
    let batch = inp.len() / n.max(1);
    let mut o = comp_major(inp, batch, n);
    let mut a = vec![0.0; n * batch];
    for i in 0..n {
        let o_i = &mut o[i * batch..(i + 1) * batch];
        for (k, &d_ik) in d[i * n..i * n + i].iter().enumerate() {
            if d_ik != 0.0 {
                let a_k = &a[k * batch..(k + 1) * batch];
                o_i.iter_mut().zip(a_k).for_each(|(o, a)| *o += d_ik * a);
            }
        }
        let a_i = &mut a[i * batch..(i + 1) * batch];
        for (a, o) in a_i.iter_mut().zip(o_i.iter()) {
            *a = leaky(w[i] * o + b[i], leak).0;
        }
    }
    batch_major(&o, batch, n)
}

/// Gradients of `inp`, `d`, `w`, `b` from the forward's output `out` and its gradient.
pub struct Grads {
    pub inp: Vec<f64>,
    pub d: Vec<f64>,
    pub w: Vec<f64>,
    pub b: Vec<f64>,
}

/// Backward (see the module docs); `out` and `grad` are `[batch, n]`.
pub fn backward(d: &[f64], w: &[f64], b: &[f64], leak: f64, out: &[f64], grad: &[f64]) -> Grads {
    let n = w.len();
    let batch = out.len() / n.max(1);
    let o = comp_major(out, batch, n);
    let mut o_bar = comp_major(grad, batch, n);
    let mut a = vec![0.0; n * batch];
    let mut slope = vec![0.0; n * batch];
    for i in 0..n {
        for t in 0..batch {
            let (v, s) = leaky(w[i] * o[i * batch + t] + b[i], leak);
            a[i * batch + t] = v;
            slope[i * batch + t] = s;
        }
    }
    let mut a_bar = vec![0.0; n * batch];
    let (mut g_w, mut g_b) = (vec![0.0; n], vec![0.0; n]);
    for i in (0..n).rev() {
        let rows = i * batch..(i + 1) * batch;
        let (mut sw, mut sb) = (0.0, 0.0);
        for t in rows.clone() {
            let u_bar = a_bar[t] * slope[t];
            o_bar[t] += w[i] * u_bar;
            sw += u_bar * o[t];
            sb += u_bar;
        }
        g_w[i] = sw;
        g_b[i] = sb;
        let o_bar_i = &o_bar[rows];
        for (k, &d_ik) in d[i * n..i * n + i].iter().enumerate() {
            if d_ik != 0.0 {
                let a_bar_k = &mut a_bar[k * batch..(k + 1) * batch];
                a_bar_k
                    .iter_mut()
                    .zip(o_bar_i)
                    .for_each(|(a, o)| *a += d_ik * o);
            }
        }
    }
    let mut g_d = vec![0.0; n * n];
    g_d.par_chunks_mut(n.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            let o_bar_i = &o_bar[i * batch..(i + 1) * batch];
            for (k, g) in row[..i].iter_mut().enumerate() {
                let a_k = &a[k * batch..(k + 1) * batch];
                *g = o_bar_i.iter().zip(a_k).map(|(x, y)| x * y).sum();
            }
        });
    Grads {
        inp: batch_major(&o_bar, batch, n),
        d: g_d,
        w: g_w,
        b: g_b,
    }
}

/// Gradients of `x` (or `inp`), `d`, `w`, `b`, as tensors.
pub type TensorGrads<B> = (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>);

/// `leaky'(u)`: 1 where `u > 0`, `leak` elsewhere.
fn leaky_slope<B: Backend>(u: Tensor<B, 2>, leak: f64) -> Tensor<B, 2> {
    u.greater_elem(0.0)
        .float()
        .mul_scalar(1.0 - leak)
        .add_scalar(leak)
}

/// The DNM's whole fast forward pass on a non-autodiff backend, with the comp block by
/// [`forward`]: `y` (`[batch, n_out]`) and the comps' values `o` (`[batch, n_comp]`) from
/// `x` (`[batch, n_in]`), `d` (`[R, C]`), `w`, `b` (`[C]`).
///
/// ```text
/// u_in = w_in∘x + b_in     inp = leaky(u_in)·D_ciᵀ     o = substitution(inp, D_cc, w_c, b_c)
/// y = [u_in, w_c∘o + b_c]·D_outᵀ
/// ```
pub fn outputs_tensor<B: Backend>(
    x: Tensor<B, 2>,
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    n_in: usize,
    leak: f64,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let [rows, cols] = d.dims();
    let n_comp = cols - n_in;
    let ([w_in, w_c], [b_in, b_c]) = (split(w, n_in), split(b, n_in));
    let u_in = x * w_in + b_in;
    let inp =
        leaky_relu(u_in.clone(), leak).matmul(d.clone().slice([0..n_comp, 0..n_in]).transpose());
    let d_cc = d.clone().slice([0..n_comp, n_in..cols]);
    let (batch, device) = (inp.dims()[0], inp.device());
    let o = forward(
        &Floats::f64_of(inp),
        &Floats::f64_of(d_cc),
        &Floats::f64_of(w_c.clone().reshape([n_comp])),
        &Floats::f64_of(b_c.clone().reshape([n_comp])),
        leak,
    );
    let o = Tensor::<B, 2>::from_data(TensorData::new(o, [batch, n_comp]), &device);
    let u = Tensor::cat(vec![u_in, o.clone() * w_c + b_c], 1);
    let y = u.matmul(d.slice([n_comp..rows, 0..cols]).transpose());
    (y, o)
}

/// The backward of [`outputs_tensor`] from its comps' values `o` and the gradient of `y`:
/// the gradients of `x`, `d`, `w`, `b`.
///
/// ```text
/// D̄_out = ȳᵀ·u      ū = ȳ·D_out      (ū_c: w̄_c, b̄_c, ō = ū_c∘w_c)
/// substitution backward: inp̄, D̄_cc, more of w̄_c, b̄_c
/// D̄_ci = inp̄ᵀ·leaky(u_in)      ū_in += (inp̄·D_ci)∘leaky'(u_in)      x̄ = ū_in∘w_in
/// ```
#[allow(clippy::too_many_arguments)]
pub fn outputs_backward_tensor<B: Backend>(
    x: Tensor<B, 2>,
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    n_in: usize,
    leak: f64,
    o: Tensor<B, 2>,
    grad: Tensor<B, 2>,
) -> TensorGrads<B> {
    let [rows, cols] = d.dims();
    let n_comp = cols - n_in;
    let batch = x.dims()[0];
    let ([w_in, w_c], [b_in, b_c]) = (split(w, n_in), split(b, n_in));
    let u_in = x.clone() * w_in.clone() + b_in;
    let a_in = leaky_relu(u_in.clone(), leak);
    let u = Tensor::cat(vec![u_in.clone(), o.clone() * w_c.clone() + b_c.clone()], 1);
    let d_out = d.clone().slice([n_comp..rows, 0..cols]);
    let g_d_out = grad.clone().transpose().matmul(u);
    let g_u = grad.matmul(d_out);
    let g_u_c = g_u.clone().slice([0..batch, n_in..cols]);
    let g_w_c = (g_u_c.clone() * o.clone()).sum_dim(0);
    let g_b_c = g_u_c.clone().sum_dim(0);
    let g_o = g_u_c * w_c.clone();
    let sub = backward(
        &Floats::f64_of(d.clone().slice([0..n_comp, n_in..cols])),
        &Floats::f64_of(w_c.reshape([n_comp])),
        &Floats::f64_of(b_c.reshape([n_comp])),
        leak,
        &Floats::f64_of(o),
        &Floats::f64_of(g_o),
    );
    let device = x.device();
    let g_inp = Tensor::<B, 2>::from_data(TensorData::new(sub.inp, [batch, n_comp]), &device);
    let g_w_c = g_w_c + Tensor::from_data(TensorData::new(sub.w, [1, n_comp]), &device);
    let g_b_c = g_b_c + Tensor::from_data(TensorData::new(sub.b, [1, n_comp]), &device);
    let d_ci = d.slice([0..n_comp, 0..n_in]);
    let g_d_ci = g_inp.clone().transpose().matmul(a_in);
    let g_u_in = g_u.slice([0..batch, 0..n_in]) + g_inp.matmul(d_ci) * leaky_slope(u_in, leak);
    let g_w_in = (g_u_in.clone() * x).sum_dim(0);
    let g_b_in = g_u_in.clone().sum_dim(0);
    let g_x = g_u_in * w_in;
    let g_d = match (Floats::of(g_d_ci), Floats::of(g_d_out)) {
        (Floats::F32(ci), Floats::F32(out)) => {
            TensorData::new(gradient_of_d(&ci, &sub.d, &out, n_in), [rows, cols])
        }
        (ci, out) => TensorData::new(
            gradient_of_d(&ci.into_f64(), &sub.d, &out.into_f64(), n_in),
            [rows, cols],
        ),
    };
    let g_d = Tensor::from_data(g_d, &device);
    (
        g_x,
        g_d,
        Tensor::cat(vec![g_w_in, g_w_c], 1).reshape([cols]),
        Tensor::cat(vec![g_b_in, g_b_c], 1).reshape([cols]),
    )
}

/// `D̄` (`[R, C]`, row-major) from its blocks: rows `0..n_comp` are `[D̄_ci | D̄_cc]`, the
/// rest `D̄_out` (one pass, where `Tensor::cat` measured 0.5 ms on ndarray).
fn gradient_of_d<T: Real>(ci: &[T], cc: &[f64], out: &[T], n_in: usize) -> Vec<T> {
    let n_comp = ci.len() / n_in.max(1);
    let mut g = Vec::with_capacity(ci.len() + cc.len() + out.len());
    for r in 0..n_comp {
        g.extend_from_slice(&ci[r * n_in..(r + 1) * n_in]);
        g.extend(cc[r * n_comp..(r + 1) * n_comp].iter().map(|v| T::of(*v)));
    }
    g.extend_from_slice(out);
    g
}

/// A per-sender `[C]` vector as the input part and the comp part, each a `[1, ·]` row.
fn split<B: Backend>(t: Tensor<B, 1>, n_in: usize) -> [Tensor<B, 2>; 2] {
    let cols = t.dims()[0];
    let t = t.unsqueeze_dim::<2>(0);
    [
        t.clone().slice([0..1, 0..n_in]),
        t.slice([0..1, n_in..cols]),
    ]
}
