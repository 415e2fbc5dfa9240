//! LSTM neurons (`neuron = "lstm"`): the kept-cell forward pass ([`super::kept`]) where
//! every comp keeps a cell state across time steps ([`outputs_tensor`]), and its backward
//! ([`outputs_backward_tensor`]).
//!
//! A comp `i` (sender `j = n_in + i`) reads its D-weighted input sum `s_i` as before and,
//! with the previous time step's cell state `c⁻_i`, computes
//!
//! ```text
//! in     ι = σ(w_ι·s + b_ι)       forget  f = σ(w_f·s + b_f)      out  ω = σ(w_ω·s + b_ω)
//! g      = tanh(w_j·s + b_j)      (the comp's own sender weight and bias)
//! c      = f·c⁻ + ι·g             h = ω·tanh(c)
//! ```
//!
//! Later comps and the outputs both read `h` (a plain comp's outputs read its
//! pre-activation). The six gate parameters of comp `i` are row `i` of `gates`
//! (`[n_comp, 6]`: `w_ι b_ι w_f b_f w_ω b_ω`), so an LSTM comp has 8 trainable numbers
//! (with `w_j`, `b_j`) against a plain comp's 2. Inputs stay plain (`leaky(w·x + b)`).
//!
//! One tensor in, one tensor out, so that the cell state is differentiated through time
//! like any other value: `z = [x | c⁻]` (`[batch, n_in + n_comp]`) →
//! `[y | c]` (`[batch, n_out + n_comp]`). The backward recomputes the gates once from the
//! saved input sums `s` and `c⁻` (one pass over the comps, kept for the reverse pass):
//!
//! ```text
//! h̄ = ā (comps) + ū (outputs)     ω̄ = h̄·tanh(c)     c̄ = c̄_out + h̄·ω·(1 − tanh²c)
//! f̄ = c̄·c⁻   ῑ = c̄·g   ḡ = c̄·ι   c̄⁻ = c̄·f
//! z̄_ι = ῑ·ι(1−ι)  z̄_f = f̄·f(1−f)  z̄_ω = ω̄·ω(1−ω)  z̄_g = ḡ·(1−g²)
//! w̄_x += z̄_x·s   b̄_x += z̄_x      s̄ = w_ι z̄_ι + w_f z̄_f + w_ω z̄_ω + w_j z̄_g
//! ```
//!
//! and `s̄` flows into `D̄` and the senders as in [`super::forward`].
//!
//! With f64 passes (the default) the gates' `σ` and `tanh` are the C library's, one
//! sample at a time. With f32 passes ([`Precision::F32`]) they are computed
//! [`LANES`] samples at a time from [`exp_approx`], which the compiler turns into vector
//! instructions: `σ(z) = 1/(1 + e^{−z})`, `tanh(z) = 1 − 2/(1 + e^{2z})`, each within
//! 5e-10 of the library's (the sums, cell states and gradients stay f64). Batches of
//! [`super::forward::SPLIT`] samples or more run as two halves on two threads, sums added
//! half by half (a fixed order), each on the CPU's widest vectors
//! ([`manifold_kernels::simd`]).

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

use super::forward::{axpy, close, joined, Net};
use super::kept::{host, Pattern};
use crate::Precision;
use manifold_kernels::floats::{dot, Floats};
use manifold_kernels::rows::{transpose, SparseRows};
use manifold_kernels::widest;

/// Gate parameters per comp: `w_ι b_ι w_f b_f w_ω b_ω`.
pub const GATE_PARAMETERS: usize = 6;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// One LSTM neuron at one sample.
struct Cell {
    i: f64,
    f: f64,
    o: f64,
    g: f64,
    c: f64,
    tanh_c: f64,
}

impl Cell {
    fn of(gates: &[f64], w: f64, b: f64, s: f64, c_prev: f64) -> Cell {
        let i = sigmoid(gates[0] * s + gates[1]);
        let f = sigmoid(gates[2] * s + gates[3]);
        let o = sigmoid(gates[4] * s + gates[5]);
        let g = (w * s + b).tanh();
        let c = f * c_prev + i * g;
        Cell {
            i,
            f,
            o,
            g,
            c,
            tanh_c: c.tanh(),
        }
    }

    fn h(&self) -> f64 {
        self.o * self.tanh_c
    }
}

/// Samples a vector of the approximate gates takes ([`Precision::F32`]).
pub const LANES: usize = 8;

/// `e^x` within 5e-10 of it (relative), without a branch or a table, so that a loop of it
/// becomes vector instructions: `x = k·ln 2 + r` with `k` rounded to an integer by adding
/// 1.5·2⁵² and `|r| ≤ ln 2 / 2`, `e^r` by its Taylor polynomial of degree 8, `2^k` built
/// in the exponent bits. `x` is clamped to ±700 (`e^±700` is finite in f64).
#[inline(always)]
pub fn exp_approx(x: f64) -> f64 {
    const ROUND: f64 = 6_755_399_441_055_744.0;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = x.clamp(-700.0, 700.0);
    let m = x * std::f64::consts::LOG2_E + ROUND;
    let k = m - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let mut p = 1.0 / 40320.0;
    for c in [5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0] {
        p = p * r + 1.0 / c;
    }
    let k = m.to_bits().wrapping_sub(ROUND.to_bits());
    p * f64::from_bits(k.wrapping_add(1023) << 52)
}

/// `σ(z)` from [`exp_approx`] (within 5e-10 of `1/(1 + e^{−z})` with the library's `exp`).
#[inline(always)]
fn sigmoid_approx(z: f64) -> f64 {
    1.0 / (1.0 + exp_approx(-z))
}

/// `tanh(z)` from [`exp_approx`] (within 5e-10 of the library's `tanh`, absolute).
#[inline(always)]
fn tanh_approx(z: f64) -> f64 {
    1.0 - 2.0 / (1.0 + exp_approx(2.0 * z))
}

/// The cells of [`LANES`] samples from the approximate gates: every step a loop over
/// fixed-size arrays.
#[inline(always)]
fn cells_approx(
    p: &[f64],
    w: f64,
    b: f64,
    s: &[f64; LANES],
    c_prev: &[f64; LANES],
) -> [Cell; LANES] {
    let (mut i, mut f, mut o, mut g, mut c, mut tanh_c) = (
        [0.0; LANES],
        [0.0; LANES],
        [0.0; LANES],
        [0.0; LANES],
        [0.0; LANES],
        [0.0; LANES],
    );
    for k in 0..LANES {
        i[k] = sigmoid_approx(p[0] * s[k] + p[1]);
        f[k] = sigmoid_approx(p[2] * s[k] + p[3]);
        o[k] = sigmoid_approx(p[4] * s[k] + p[5]);
        g[k] = tanh_approx(w * s[k] + b);
        c[k] = f[k] * c_prev[k] + i[k] * g[k];
        tanh_c[k] = tanh_approx(c[k]);
    }
    std::array::from_fn(|k| Cell {
        i: i[k],
        f: f[k],
        o: o[k],
        g: g[k],
        c: c[k],
        tanh_c: tanh_c[k],
    })
}

/// Comp `i`'s `h` appended to `u` and `a` (sender-major, holding rows `0..n_in + i`), from
/// its input sums `s_i` and the previous cell states `c_prev` (comp-major); hands each
/// sample's [`Cell`] to `keep`, in sample order (so comps taken in order give a
/// comp-major sequence).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn comp(
    net: &Net,
    gates: &[f64],
    i: usize,
    s_i: &[f64],
    c_prev: &[f64],
    u: &mut Vec<f64>,
    a: &mut Vec<f64>,
    mut keep: impl FnMut(Cell),
) {
    let (bt, j) = (net.batch, net.n_in + i);
    let g = &gates[i * GATE_PARAMETERS..(i + 1) * GATE_PARAMETERS];
    let c_prev = &c_prev[i * bt..(i + 1) * bt];
    let mut emit = |cell: Cell| {
        u.push(cell.h());
        a.push(cell.h());
        keep(cell);
    };
    match net.precision {
        Precision::F64 => {
            for (&s, &c) in s_i.iter().zip(c_prev) {
                emit(Cell::of(g, net.w[j], net.b[j], s, c));
            }
        }
        Precision::F32 => {
            for (s, c) in s_i.chunks(LANES).zip(c_prev.chunks(LANES)) {
                let (mut s_k, mut c_k) = ([0.0; LANES], [0.0; LANES]);
                s_k[..s.len()].copy_from_slice(s);
                c_k[..c.len()].copy_from_slice(c);
                let cells = cells_approx(g, net.w[j], net.b[j], &s_k, &c_k);
                cells.into_iter().take(s.len()).for_each(&mut emit);
            }
        }
    }
}

/// Forward: `y` (`[batch, n_out]`), the comps' input sums `s` and cell states `c`
/// (`[batch, n_comp]`), batch-major, from `x` (`[batch, n_in]`) and `c⁻`
/// (`[batch, n_comp]`).
pub fn forward(
    net: &Net,
    gates: &[f64],
    x: &[f64],
    c_prev: &[f64],
    d: &SparseRows<f64>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    match net.halves() {
        None => forward_part(net, gates, x, c_prev, d),
        Some((first, second)) => {
            let (cx, cc) = (first.batch * net.n_in, first.batch * net.comps());
            let ((y1, s1, c1), (y2, s2, c2)) = rayon::join(
                || forward_part(&first, gates, &x[..cx], &c_prev[..cc], d),
                || forward_part(&second, gates, &x[cx..], &c_prev[cc..], d),
            );
            (joined(y1, y2), joined(s1, s2), joined(c1, c2))
        }
    }
}

widest! {
/// One part of the forward pass, on the CPU's widest vectors.
fn forward_part(
    net: &Net,
    gates: &[f64],
    x: &[f64],
    c_prev: &[f64],
    d: &SparseRows<f64>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (bt, n_comp) = (net.batch, net.comps());
    let n_out = d.len() - n_comp;
    let c_prev = transpose(c_prev, bt, n_comp);
    let (mut u, mut a) = net.rows();
    net.inputs(x, &mut u, &mut a);
    let mut s = vec![0.0; n_comp * bt];
    let mut c = Vec::with_capacity(n_comp * bt);
    for i in 0..n_comp {
        let s_i = &mut s[i * bt..(i + 1) * bt];
        for (j, v) in d.entries(i) {
            axpy(s_i, v, &a[j * bt..(j + 1) * bt]);
        }
        comp(net, gates, i, s_i, &c_prev, &mut u, &mut a, |cell| {
            c.push(cell.c)
        });
    }
    let mut y = vec![0.0; n_out * bt];
    for q in 0..n_out {
        for (j, v) in d.entries(n_comp + q) {
            axpy(&mut y[q * bt..(q + 1) * bt], v, &u[j * bt..(j + 1) * bt]);
        }
    }
    (
        transpose(&y, n_out, bt),
        transpose(&s, n_comp, bt),
        transpose(&c, n_comp, bt),
    )
}
}

/// Gradients of `x` and `c⁻` (batch-major), the kept values of `D`, `w`, `b` and the gates.
pub struct Grads {
    /// `x̄`, `[batch, n_in]`.
    pub x: Vec<f64>,
    /// `c̄⁻`, `[batch, n_comp]`.
    pub c_prev: Vec<f64>,
    /// `D̄`, one value per kept cell.
    pub d: Vec<f64>,
    /// `w̄`, `[C]`.
    pub w: Vec<f64>,
    /// `b̄`, `[C]`.
    pub b: Vec<f64>,
    /// The gates' gradient, `[n_comp, 6]`.
    pub gates: Vec<f64>,
}

/// Backward (see the module docs) from the forward's inputs, its input sums `s` and the
/// gradients `ȳ` (`[batch, n_out]`) and `c̄` (`[batch, n_comp]`) of its outputs.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    net: &Net,
    gates: &[f64],
    x: &[f64],
    c_prev: &[f64],
    d: &SparseRows<f64>,
    s: &[f64],
    g_y: &[f64],
    g_c: &[f64],
) -> Grads {
    let Some((first, second)) = net.halves() else {
        return backward_part(net, gates, x, c_prev, d, s, g_y, g_c);
    };
    let (h, n_comp, n_out) = (first.batch, net.comps(), d.len() - net.comps());
    let (cx, cc, cy) = (h * net.n_in, h * n_comp, h * n_out);
    let (p, q) = rayon::join(
        || {
            let (c, s, y, gc) = (&c_prev[..cc], &s[..cc], &g_y[..cy], &g_c[..cc]);
            backward_part(&first, gates, &x[..cx], c, d, s, y, gc)
        },
        || {
            let (c, s, y, gc) = (&c_prev[cc..], &s[cc..], &g_y[cy..], &g_c[cc..]);
            backward_part(&second, gates, &x[cx..], c, d, s, y, gc)
        },
    );
    let add = |p: Vec<f64>, q: Vec<f64>| p.into_iter().zip(q).map(|(p, q)| p + q).collect();
    Grads {
        x: joined(p.x, q.x),
        c_prev: joined(p.c_prev, q.c_prev),
        d: add(p.d, q.d),
        w: add(p.w, q.w),
        b: add(p.b, q.b),
        gates: add(p.gates, q.gates),
    }
}

widest! {
/// One part of the backward pass, on the CPU's widest vectors.
#[allow(clippy::too_many_arguments)]
fn backward_part(
    net: &Net,
    gates: &[f64],
    x: &[f64],
    c_prev: &[f64],
    d: &SparseRows<f64>,
    s: &[f64],
    g_y: &[f64],
    g_c: &[f64],
) -> Grads {
    let (bt, n_in, n_comp, cols) = (net.batch, net.n_in, net.comps(), net.senders());
    let n_out = d.len() - n_comp;
    let (c_prev, s) = (transpose(c_prev, bt, n_comp), transpose(s, bt, n_comp));
    let (g_y, g_c) = (transpose(g_y, bt, n_out), transpose(g_c, bt, n_comp));
    let (mut u, mut a) = net.rows();
    let x = net.inputs(x, &mut u, &mut a);
    // Every comp's cells (comp-major), computed once here for the reverse pass below.
    let mut cells = Vec::with_capacity(n_comp * bt);
    for i in 0..n_comp {
        let s_i = &s[i * bt..(i + 1) * bt];
        comp(net, gates, i, s_i, &c_prev, &mut u, &mut a, |cell| {
            cells.push(cell)
        });
    }
    let mut g_u = vec![0.0; cols * bt];
    let mut g_a = vec![0.0; cols * bt];
    let mut g_d = vec![0.0; d.nnz()];
    for q in 0..n_out {
        let (r, g_yq) = (n_comp + q, &g_y[q * bt..(q + 1) * bt]);
        for (k, (j, v)) in d.entries(r).enumerate() {
            let span = j * bt..(j + 1) * bt;
            axpy(&mut g_u[span.clone()], v, g_yq);
            g_d[d.start(r) + k] = dot(g_yq, &u[span]);
        }
    }
    let (mut g_w, mut g_b) = (vec![0.0; cols], vec![0.0; cols]);
    let mut g_gates = vec![0.0; n_comp * GATE_PARAMETERS];
    let mut g_c_prev = vec![0.0; n_comp * bt];
    let mut g_s = vec![0.0; bt];
    for i in (0..n_comp).rev() {
        let j = n_in + i;
        let p = &gates[i * GATE_PARAMETERS..(i + 1) * GATE_PARAMETERS];
        let mut gp = [0.0; GATE_PARAMETERS];
        let (mut sw, mut sb) = (0.0, 0.0);
        for (t, g_st) in g_s.iter_mut().enumerate() {
            let k = i * bt + t;
            let (sv, cp, cell) = (s[k], c_prev[k], &cells[k]);
            let g_h = g_a[j * bt + t] + g_u[j * bt + t];
            let g_o = g_h * cell.tanh_c;
            let g_cell = g_c[k] + g_h * cell.o * (1.0 - cell.tanh_c * cell.tanh_c);
            g_c_prev[k] = g_cell * cell.f;
            let z_i = g_cell * cell.g * cell.i * (1.0 - cell.i);
            let z_f = g_cell * cp * cell.f * (1.0 - cell.f);
            let z_o = g_o * cell.o * (1.0 - cell.o);
            let z_g = g_cell * cell.i * (1.0 - cell.g * cell.g);
            for (n, z) in [z_i, z_f, z_o].into_iter().enumerate() {
                gp[2 * n] += z * sv;
                gp[2 * n + 1] += z;
            }
            sw += z_g * sv;
            sb += z_g;
            *g_st = p[0] * z_i + p[2] * z_f + p[4] * z_o + net.w[j] * z_g;
        }
        g_gates[i * GATE_PARAMETERS..(i + 1) * GATE_PARAMETERS].copy_from_slice(&gp);
        (g_w[j], g_b[j]) = (sw, sb);
        for (k, (col, v)) in d.entries(i).enumerate() {
            let span = col * bt..(col + 1) * bt;
            axpy(&mut g_a[span.clone()], v, &g_s);
            g_d[d.start(i) + k] = dot(&g_s, &a[span]);
        }
    }
    let mut g_x = vec![0.0; n_in * bt];
    for j in 0..n_in {
        (g_w[j], g_b[j]) = close(j, bt, net, &u, &g_a, &mut g_u, |t| x[j * bt + t]);
        for t in 0..bt {
            g_x[j * bt + t] = net.w[j] * g_u[j * bt + t];
        }
    }
    Grads {
        x: transpose(&g_x, n_in, bt),
        c_prev: transpose(&g_c_prev, n_comp, bt),
        d: g_d,
        w: g_w,
        b: g_b,
        gates: g_gates,
    }
}
}

/// Columns `0..left` and `left..` of a batch-major `[batch, left + right]`.
fn split(z: &[f64], batch: usize, left: usize) -> (Vec<f64>, Vec<f64>) {
    let width = z.len() / batch;
    let (mut l, mut r) = (Vec::with_capacity(batch * left), Vec::new());
    for row in z.chunks(width) {
        l.extend_from_slice(&row[..left]);
        r.extend_from_slice(&row[left..]);
    }
    (l, r)
}

/// `[a | b]` of two batch-major blocks of `batch` rows.
fn beside(batch: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
    let (wa, wb) = (a.len() / batch, b.len() / batch);
    let mut out = Vec::with_capacity(a.len() + b.len());
    for t in 0..batch {
        out.extend_from_slice(&a[t * wa..(t + 1) * wa]);
        out.extend_from_slice(&b[t * wb..(t + 1) * wb]);
    }
    out
}

/// A tensor of `v` in the precision of `like`.
fn data_like(v: Vec<f64>, shape: Vec<usize>, f32: bool) -> TensorData {
    if f32 {
        TensorData::new(v.into_iter().map(|v| v as f32).collect::<Vec<_>>(), shape)
    } else {
        TensorData::new(v, shape)
    }
}

/// The LSTM-neuron pass over the kept cells on a CPU backend: `[y | c]`
/// (`[batch, n_out + n_comp]`) and the comps' input sums `s` (`[batch, n_comp]`, for the
/// backward) from `z = [x | c⁻]` (`[batch, n_in + n_comp]`), the gates computed in
/// `precision` (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn outputs_tensor<B: Backend>(
    z: Tensor<B, 2>,
    values: Tensor<B, 1>,
    pattern: &Pattern,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    gates: Tensor<B, 2>,
    leak: f64,
    precision: Precision,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let ([batch, _], device) = (z.dims(), z.device());
    let g = pattern.geometry;
    let z = Floats::f64_of(z);
    let (x, c_prev) = split(&z, batch, g.inputs);
    let x = Tensor::<B, 2>::from_data(TensorData::new(x, [batch, g.inputs]), &device);
    let (net, x, d) = host(x, values, pattern, w, b, leak, precision);
    let x = x.into_f64();
    let (y, s, c) = forward(&net, &Floats::f64_of(gates), &x, &c_prev, &d);
    let out = beside(batch, &y, &c);
    (
        Tensor::from_data(TensorData::new(out, [batch, g.outputs + g.comps]), &device),
        Tensor::from_data(TensorData::new(s, [batch, g.comps]), &device),
    )
}

/// The gradients of `z`, the values (`[len]`, 0 past the kept cells), `w`, `b`, `gates`.
pub type LstmGrads<B> = (
    Tensor<B, 2>,
    Tensor<B, 1>,
    Tensor<B, 1>,
    Tensor<B, 1>,
    Tensor<B, 2>,
);

/// The backward of [`outputs_tensor`] from its `s` and the gradient of `[y | c]`.
#[allow(clippy::too_many_arguments)]
pub fn outputs_backward_tensor<B: Backend>(
    z: Tensor<B, 2>,
    values: Tensor<B, 1>,
    pattern: &Pattern,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    gates: Tensor<B, 2>,
    leak: f64,
    precision: Precision,
    s: Tensor<B, 2>,
    grad: Tensor<B, 2>,
) -> LstmGrads<B> {
    let ([batch, width], device) = (z.dims(), z.device());
    let g = pattern.geometry;
    let (len, cols) = (values.dims()[0], g.cols());
    let f32_values = values.dtype() == DType::F32;
    let z = Floats::f64_of(z);
    let (x, c_prev) = split(&z, batch, g.inputs);
    let x = Tensor::<B, 2>::from_data(TensorData::new(x, [batch, g.inputs]), &device);
    let (net, x, d) = host(x, values, pattern, w, b, leak, precision);
    let x = x.into_f64();
    let grad = Floats::f64_of(grad);
    let (g_y, g_c) = split(&grad, batch, g.outputs);
    let gates = Floats::f64_of(gates);
    let gr = backward(
        &net,
        &gates,
        &x,
        &c_prev,
        &d,
        &Floats::f64_of(s),
        &g_y,
        &g_c,
    );
    let mut g_values = gr.d;
    g_values.resize(len, 0.0);
    let g_z = beside(batch, &gr.x, &gr.c_prev);
    (
        Tensor::from_data(TensorData::new(g_z, [batch, width]), &device),
        Tensor::from_data(data_like(g_values, vec![len], f32_values), &device),
        Tensor::from_data(TensorData::new(gr.w, [cols]), &device),
        Tensor::from_data(TensorData::new(gr.b, [cols]), &device),
        Tensor::from_data(
            TensorData::new(gr.gates, [g.comps, GATE_PARAMETERS]),
            &device,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The passes' outputs and gradients in `precision`: `y s c x̄ c̄⁻ D̄ w̄ b̄ gates̄`.
    fn passes(precision: Precision) -> [Vec<f64>; 9] {
        let (net, x, d) = crate::kernels::forward::tests::network(37);
        let net = net.with_precision(precision);
        let (bt, n_comp) = (net.batch, net.comps());
        let gates: Vec<f64> = (0..n_comp * GATE_PARAMETERS)
            .map(|k| ((k * 7 % 13) as f64 - 6.0) / 5.0)
            .collect();
        let c_prev: Vec<f64> = (0..bt * n_comp).map(|k| (k as f64 * 0.37).sin()).collect();
        let (y, s, c) = forward(&net, &gates, &x, &c_prev, &d);
        let g_y: Vec<f64> = y.iter().map(|v| v.cos()).collect();
        let g_c: Vec<f64> = c.iter().map(|v| 0.5 * v.sin()).collect();
        let g = backward(&net, &gates, &x, &c_prev, &d, &s, &g_y, &g_c);
        [y, s, c, g.x, g.c_prev, g.d, g.w, g.b, g.gates]
    }

    const NAMES: [&str; 9] = ["y", "s", "c", "x̄", "c̄⁻", "D̄", "w̄", "b̄", "gates̄"];

    /// The AVX2 copy of the LSTM passes ([`manifold_kernels::simd`]) gives the baseline
    /// copy's bits, the approximate gates' too: outputs, input sums, cell states and every
    /// gradient. (On a CPU without AVX2 both runs take the baseline copy.)
    #[test]
    fn the_wide_passes_give_the_baseline_bits() {
        for precision in [Precision::F64, Precision::F32] {
            let run = |wide: bool| {
                manifold_kernels::simd::set_wide(wide);
                let out = passes(precision);
                manifold_kernels::simd::set_wide(true);
                out.map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
            };
            let (wide, baseline) = (run(true), run(false));
            for ((name, a), b) in NAMES.iter().zip(&wide).zip(&baseline) {
                assert_eq!(a, b, "{precision:?} {name}");
                assert!(a.iter().any(|&v| v != 0), "{name} is not all zero");
            }
        }
    }

    /// `exp_approx` against the library's `exp` over the gates' range and past the
    /// clamp, and the approximate σ and tanh against theirs.
    #[test]
    fn the_approximate_exp_is_within_5e_10_of_the_library() {
        for k in -40_000..=40_000 {
            let x = k as f64 * 1e-3 + 1.234_567e-5;
            let (got, want) = (exp_approx(x), x.exp());
            assert!(
                (got - want).abs() <= 5e-10 * want,
                "exp({x}): {got} against {want}"
            );
            let sigmoid = 1.0 / (1.0 + (-x).exp());
            assert!((sigmoid_approx(x) - sigmoid).abs() <= 5e-10, "σ({x})");
            assert!((tanh_approx(x) - x.tanh()).abs() <= 5e-10, "tanh({x})");
        }
        assert_eq!(exp_approx(0.0), 1.0);
        assert!(exp_approx(-1e4) > 0.0 && exp_approx(-1e4) < 1e-300);
        assert!(exp_approx(1e4).is_finite() && exp_approx(1e4) > 1e300);
        assert_eq!((tanh_approx(1e4), tanh_approx(-1e4)), (1.0, -1.0));
    }

    /// The passes with the approximate gates ([`Precision::F32`]) give every output and
    /// gradient within 1e-7 of the library gates' (relative to the array's largest), and
    /// not their bits.
    #[test]
    fn the_approximate_gates_match_the_library_gates() {
        let (approx, exact) = (passes(Precision::F32), passes(Precision::F64));
        for ((name, a), e) in NAMES.iter().zip(&approx).zip(&exact) {
            let scale = e.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let worst = a
                .iter()
                .zip(e)
                .fold(0.0_f64, |m, (a, e)| m.max((a - e).abs()));
            assert!(worst <= 1e-7 * scale, "{name}: {worst} at scale {scale}");
        }
        assert_ne!(
            approx[0], exact[0],
            "the approximate gates give the library's bits"
        );
    }
}
