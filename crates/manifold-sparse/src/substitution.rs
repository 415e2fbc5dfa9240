//! The DNM's comp→comp block as one fused CPU operation: forward substitution through a
//! strictly lower-triangular `D` (`n × n`), and its backward.
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

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

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

fn host<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
    // A fresh tensor is handed over without burn-ndarray's slow copy of shared tensors.
    t.mul_scalar(1.0)
        .into_data()
        .convert::<f64>()
        .into_vec::<f64>()
        .expect("float tensor")
}

fn check<B: Backend>(inp: &Tensor<B, 2>, d: &Tensor<B, 2>, w: &Tensor<B, 1>, b: &Tensor<B, 1>) {
    let n = w.dims()[0];
    assert_eq!(inp.dims()[1], n, "substitution: inp is [batch, n]");
    assert_eq!(d.dims(), [n, n], "substitution: d is [n, n]");
    assert_eq!(b.dims(), [n], "substitution: b is [n]");
}

/// [`forward`] on tensors of a CPU backend.
pub fn forward_tensor<B: Backend>(
    inp: Tensor<B, 2>,
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    leak: f64,
) -> Tensor<B, 2> {
    check(&inp, &d, &w, &b);
    let (shape, device) = (inp.dims(), inp.device());
    let out = forward(&host(inp), &host(d), &host(w), &host(b), leak);
    Tensor::from_data(TensorData::new(out, shape), &device)
}

/// Gradients of `inp`, `d`, `w`, `b`, as tensors.
pub type TensorGrads<B> = (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>);

/// [`backward`] on tensors of a CPU backend.
pub fn backward_tensor<B: Backend>(
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    leak: f64,
    out: Tensor<B, 2>,
    grad: Tensor<B, 2>,
) -> TensorGrads<B> {
    let ([batch, n], device) = (out.dims(), out.device());
    let g = backward(&host(d), &host(w), &host(b), leak, &host(out), &host(grad));
    (
        Tensor::from_data(TensorData::new(g.inp, [batch, n]), &device),
        Tensor::from_data(TensorData::new(g.d, [n, n]), &device),
        Tensor::from_data(TensorData::new(g.w, [n]), &device),
        Tensor::from_data(TensorData::new(g.b, [n]), &device),
    )
}
