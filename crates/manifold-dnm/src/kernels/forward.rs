//! The DNM's fast forward pass as one fused CPU operation over the non-zeros of `D`
//! ([`outputs_tensor`]), and its backward ([`outputs_backward_tensor`]).
//!
//! Senders `j < C` have a pre-activation `u_j` and an activation `a_j = leaky(u_j)`: inputs
//! `u_j = w_j·x_j + b_j`, comps `u_j = w_j·o_j + b_j`. Comps read activations, outputs read
//! pre-activations, and everything goes through the kept cells of `D` only:
//!
//! ```text
//! forward   o_i = Σ_{j ∈ nz(i)} D_ij · a_j      for comps i = 0, 1, …, n_comp−1 in order
//!           y_q = Σ_{j ∈ nz(q)} D_qj · u_j      for outputs q
//! backward  ū_j += Σ_q D_qj · ȳ_q               D̄_qj = Σ_batch ȳ_q·u_j
//!           (i = n_comp−1, …, 0, comp sender c = n_in + i)
//!           ū_c += ā_c · leaky'(u_c)     w̄_c = Σ_batch ū_c·o_i   b̄_c = Σ_batch ū_c   ō_i = w_c·ū_c
//!           ā_j += D_ij · ō_i            D̄_ij = Σ_batch ō_i·a_j                (j ∈ nz(i))
//!           (inputs j)  ū_j += ā_j·leaky'(u_j)   w̄_j = Σ_batch ū_j·x_j   b̄_j = Σ_batch ū_j   x̄_j = w_j·ū_j
//! ```
//!
//! Each comp costs one pass over the non-zeros of its row (the thresholded DNM keeps a few
//! percent of the cells), in index order, so the comp→comp block is exact in one pass (no
//! levels), and the input block and the outputs are sparse products instead of dense
//! matmuls. `D̄` is computed on the support of `D` (kept cells) and is 0 elsewhere: `D` is
//! the cutoff matrix, whose cut cells have zero derivative with respect to every
//! parameter, so that part of the dense gradient is never used. Host arrays are
//! sender-major (`[C][batch]`), in the network's [`Precision`]. A batch of [`SPLIT`]
//! samples or more is cut into two halves that run on two threads (the comps of one
//! sample never wait on another's), and a half of more than [`PART`] samples into two
//! again (the cache): outputs bit for bit
//! the same, the batch sums of `D̄`, `w̄`, `b̄` added part by part (a fixed order, the
//! same on every machine). One thread below that: each rayon
//! hand-off costs tens of µs on these machines. Each part runs on the CPU's widest vectors
//! ([`manifold_kernels::simd`]: AVX2 where the CPU has it, with the baseline copy's bits):
//! the sender-major `axpy`s and dot products over the batch are most of the pass.
//!
//! The passes compute in the network's [`Precision`]: f64 (the default) or f32, whose
//! vectors hold twice the lanes and whose arrays move half the bytes; with f32 the batch
//! sums of the parts are still added in f64. They read `x`, `o` and `ȳ` and write `y` and
//! `o` in the tensors' own precision (a [`Real`]), with no conversion pass of their own.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::Precision;
use manifold_kernels::floats::{dot, Compute, Floats, Real};
use manifold_kernels::rows::{transpose_as, SparseRows};
use manifold_kernels::widest;

/// `leaky(u)` and its slope.
#[inline]
fn leaky<F: Compute>(u: F, leak: F) -> (F, F) {
    if u > F::default() {
        (u, F::of(1.0))
    } else {
        (u * leak, leak)
    }
}

/// The shape of one pass and the per-sender parameters.
#[derive(Debug, Clone)]
pub struct Net {
    /// Input neurons n_in (senders `0..n_in`).
    pub n_in: usize,
    /// Samples in the batch.
    pub batch: usize,
    /// Per-sender weights `w_j`, `[C]`.
    pub w: Vec<f64>,
    /// Per-sender biases `b_j`, `[C]`.
    pub b: Vec<f64>,
    /// Negative-side slope of the leaky ReLU.
    pub leak: f64,
    /// The float the passes compute in.
    pub precision: Precision,
}

impl Net {
    /// The network of the per-sender tensors `w`, `b` (`[C]`), read as f64.
    pub fn of<B: Backend>(
        n_in: usize,
        batch: usize,
        w: Tensor<B, 1>,
        b: Tensor<B, 1>,
        leak: f64,
    ) -> Self {
        Net {
            n_in,
            batch,
            w: Floats::f64_of(w),
            b: Floats::f64_of(b),
            leak,
            precision: Precision::F64,
        }
    }

    /// The same network, its passes computed in `precision`.
    pub fn with_precision(self, precision: Precision) -> Self {
        Net { precision, ..self }
    }

    pub(crate) fn senders(&self) -> usize {
        self.w.len()
    }

    pub(crate) fn comps(&self) -> usize {
        self.senders() - self.n_in
    }

    /// Row `j` of the sender-major `u` and `a` (`[C][batch]`): `u = w_j·z + b_j` and
    /// `a = leaky(u)` from the sender's input `z` over the batch (`x_j` or the comp's `o`).
    /// Appended to `u` and `a`, which hold rows `0..j`: written once, never zeroed first.
    #[inline]
    fn sender<F: Compute>(
        &self,
        j: usize,
        z: impl Iterator<Item = F>,
        u: &mut Vec<F>,
        a: &mut Vec<F>,
    ) {
        let row = j * self.batch..(j + 1) * self.batch;
        debug_assert_eq!((u.len(), a.len()), (row.start, row.start));
        let (w, b, leak) = (F::of(self.w[j]), F::of(self.b[j]), F::of(self.leak));
        u.extend(z.map(|z| w * z + b));
        a.extend(u[row].iter().map(|&u| leaky(u, leak).0));
    }

    /// Room for the sender-major `u` and `a` of every sender, empty.
    pub(crate) fn rows<F>(&self) -> (Vec<F>, Vec<F>) {
        let n = self.senders() * self.batch;
        (Vec::with_capacity(n), Vec::with_capacity(n))
    }

    /// Rows `0..n_in` of `u` and `a` from `x` (`[batch, n_in]`); returns `x` sender-major
    /// (`[n_in][batch]`, transposed in tiles: reading a column of `x` in place misses the
    /// cache at every sample).
    #[inline]
    pub(crate) fn inputs<F: Compute, X: Real>(
        &self,
        x: &[X],
        u: &mut Vec<F>,
        a: &mut Vec<F>,
    ) -> Vec<F> {
        let bt = self.batch;
        let x = transpose_as(x, bt, self.n_in, |v| F::of(v.into()));
        for j in 0..self.n_in {
            self.sender(j, x[j * bt..(j + 1) * bt].iter().copied(), u, a);
        }
        x
    }
}

/// `acc += v · src` over a batch.
#[inline]
pub(crate) fn axpy<F: Compute>(acc: &mut [F], v: F, src: &[F]) {
    acc.iter_mut().zip(src).for_each(|(y, &x)| *y = *y + v * x);
}

/// Batches of this many samples or more run as two halves on two threads.
pub const SPLIT: usize = 16;

/// A half of more than this many samples is cut in two again, and so on: each part's
/// sender-major arrays (`[C][part]`, several of them) then stay small enough for the
/// cache, where a half of 250 samples of a 1 794-neuron manifold spills it and costs
/// about a fifth more per sample (two threads). Batches up to `2·PART` run as two halves.
pub const PART: usize = 128;

impl Net {
    /// The same network for a batch of `batch` samples.
    fn for_batch(&self, batch: usize) -> Net {
        Net {
            batch,
            ..self.clone()
        }
    }

    /// Where the batch is cut: `Some(first half's size)` from [`SPLIT`] samples.
    pub(crate) fn halves(&self) -> Option<(Net, Net)> {
        (self.batch >= SPLIT).then(|| self.cut())
    }

    /// Where a half is cut again: above [`PART`] samples.
    fn parts(&self) -> Option<(Net, Net)> {
        (self.batch > PART).then(|| self.cut())
    }

    fn cut(&self) -> (Net, Net) {
        let h = self.batch / 2;
        (self.for_batch(h), self.for_batch(self.batch - h))
    }
}

/// `a` then `b`, both batch-major.
pub(crate) fn joined<T>(mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
    a.extend(b);
    a
}

/// Forward: `y` (`[batch, n_out]`) and the comps' `o` (`[batch, n_comp]`), batch-major,
/// from `x` (`[batch, n_in]`) and the kept cells of `D` (`R = n_comp + n_out` rows), in
/// `x`'s precision.
pub fn forward<X: Real>(net: &Net, x: &[X], d: &SparseRows<f64>) -> (Vec<X>, Vec<X>) {
    match net.precision {
        Precision::F64 => forward_cut(net.halves(), net, x, d),
        Precision::F32 => forward_cut(net.halves(), net, x, &d.map(|v| v as f32)),
    }
}

/// [`forward_part`] of each part of `cut` (on two threads), else of the whole.
fn forward_cut<F: Compute, X: Real>(
    cut: Option<(Net, Net)>,
    net: &Net,
    x: &[X],
    d: &SparseRows<F>,
) -> (Vec<X>, Vec<X>) {
    match cut {
        None => forward_part(net, x, d),
        Some((first, second)) => {
            let at = first.batch * net.n_in;
            let ((y1, o1), (y2, o2)) = rayon::join(
                || forward_cut(first.parts(), &first, &x[..at], d),
                || forward_cut(second.parts(), &second, &x[at..], d),
            );
            (joined(y1, y2), joined(o1, o2))
        }
    }
}

widest! {
/// One part of the forward pass, on the CPU's widest vectors.
fn forward_part<F: Compute, X: Real>(net: &Net, x: &[X], d: &SparseRows<F>) -> (Vec<X>, Vec<X>) {
    let (bt, n_in, n_comp) = (net.batch, net.n_in, net.comps());
    let n_out = d.len() - n_comp;
    let (mut u, mut a) = net.rows();
    net.inputs(x, &mut u, &mut a);
    let mut o = vec![F::default(); n_comp * bt];
    for i in 0..n_comp {
        let o_i = &mut o[i * bt..(i + 1) * bt];
        for (j, v) in d.entries(i) {
            axpy(o_i, v, &a[j * bt..(j + 1) * bt]);
        }
        net.sender(n_in + i, o_i.iter().copied(), &mut u, &mut a);
    }
    let mut y = vec![F::default(); n_out * bt];
    for q in 0..n_out {
        for (j, v) in d.entries(n_comp + q) {
            axpy(&mut y[q * bt..(q + 1) * bt], v, &u[j * bt..(j + 1) * bt]);
        }
    }
    (
        transpose_as(&y, n_out, bt, |v| X::of(v.into())),
        transpose_as(&o, n_comp, bt, |v| X::of(v.into())),
    )
}
}

/// How the backward lays out `D̄`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `[R, C]` row-major, 0 off the support of `D`.
    Dense,
    /// One value per non-zero of `D`, in the order of its rows' entries.
    Kept,
}

/// Gradients of `x` (`[batch, n_in]`), `D` (on the support of `D`, laid out as asked),
/// `w`, `b`.
pub struct Grads<T> {
    /// `x̄`, `[batch, n_in]`, batch-major.
    pub x: Vec<f64>,
    /// `D̄`, `[R, C]` row-major with 0 off the support of `D` ([`Layout::Dense`]), or one
    /// value per non-zero ([`Layout::Kept`]).
    pub d: Vec<T>,
    /// `w̄`, `[C]`, one per sender.
    pub w: Vec<f64>,
    /// `b̄`, `[C]`, one per sender.
    pub b: Vec<f64>,
}

/// Backward (see the module docs) from `x`, the forward's `o` (`[batch, n_comp]`) and the
/// gradient `ȳ` of `y` (`[batch, n_out]`), all in one precision `X`, with `D̄` laid out as
/// `layout` says.
pub fn backward<X: Real, T: Real>(
    net: &Net,
    x: &[X],
    d: &SparseRows<f64>,
    o: &[X],
    g_y: &[X],
    layout: Layout,
) -> Grads<T> {
    let samples = Samples { x, o, g_y };
    match net.precision {
        Precision::F64 => backward_cut::<f64, T, X>(net.halves(), net, d, samples, layout),
        Precision::F32 => {
            let d = d.map(|v| v as f32);
            backward_cut::<f32, T, X>(net.halves(), net, &d, samples, layout)
        }
    }
}

/// The backward's per-sample inputs, batch-major: `x`, the comps' `o`, `ȳ`.
#[derive(Clone, Copy)]
struct Samples<'a, X> {
    x: &'a [X],
    o: &'a [X],
    g_y: &'a [X],
}

impl<X> Samples<'_, X> {
    /// The first `h` samples and the rest (`n_in` inputs, `n_comp` comps, `n_out` outputs
    /// a sample).
    fn split(self, h: usize, n_in: usize, n_comp: usize, n_out: usize) -> (Self, Self) {
        let (x, o, g_y) = (h * n_in, h * n_comp, h * n_out);
        (
            Samples {
                x: &self.x[..x],
                o: &self.o[..o],
                g_y: &self.g_y[..g_y],
            },
            Samples {
                x: &self.x[x..],
                o: &self.o[o..],
                g_y: &self.g_y[g_y..],
            },
        )
    }
}

/// [`backward_part`] of each part of `cut` (on two threads), the parts' sums added
/// first part first; else of the whole.
fn backward_cut<F: Compute, T: Real, X: Real>(
    cut: Option<(Net, Net)>,
    net: &Net,
    d: &SparseRows<F>,
    samples: Samples<'_, X>,
    layout: Layout,
) -> Grads<T> {
    let Some((first, second)) = cut else {
        let Samples { x, o, g_y } = samples;
        return backward_part::<F, T, X>(net, x, d, o, g_y, layout);
    };
    let (n_comp, n_out) = (net.comps(), d.len() - net.comps());
    let (p, q) = samples.split(first.batch, net.n_in, n_comp, n_out);
    let (a, b) = rayon::join(
        || backward_cut::<F, f64, X>(first.parts(), &first, d, p, layout),
        || backward_cut::<F, f64, X>(second.parts(), &second, d, q, layout),
    );
    let add = |p: Vec<f64>, q: Vec<f64>| p.into_iter().zip(q).map(|(p, q)| p + q);
    Grads {
        x: joined(a.x, b.x),
        d: add(a.d, b.d).map(T::of).collect(),
        w: add(a.w, b.w).collect(),
        b: add(a.b, b.b).collect(),
    }
}

widest! {
/// One part of the backward pass, on the CPU's widest vectors.
fn backward_part<F: Compute, T: Real, X: Real>(
    net: &Net,
    x: &[X],
    d: &SparseRows<F>,
    o: &[X],
    g_y: &[X],
    layout: Layout,
) -> Grads<T> {
    let (bt, n_in, n_comp, cols) = (net.batch, net.n_in, net.comps(), net.senders());
    let n_out = d.len() - n_comp;
    let o = transpose_as(o, bt, n_comp, |v| F::of(v.into()));
    let g_y = transpose_as(g_y, bt, n_out, |v| F::of(v.into()));
    let (mut u, mut a) = net.rows();
    let x = net.inputs(x, &mut u, &mut a);
    for i in 0..n_comp {
        net.sender(
            n_in + i,
            o[i * bt..(i + 1) * bt].iter().copied(),
            &mut u,
            &mut a,
        );
    }
    let mut g_u = vec![F::default(); cols * bt];
    let mut g_a = vec![F::default(); cols * bt];
    let mut g_d = vec![
        T::of(0.0);
        match layout {
            Layout::Dense => (n_comp + n_out) * cols,
            Layout::Kept => d.nnz(),
        }
    ];
    // Where cell (r, j), the k-th non-zero of row r, goes.
    let slot = |r: usize, j: usize, k: usize| match layout {
        Layout::Dense => r * cols + j,
        Layout::Kept => d.start(r) + k,
    };
    for q in 0..n_out {
        let (r, g_yq) = (n_comp + q, &g_y[q * bt..(q + 1) * bt]);
        for (k, (j, v)) in d.entries(r).enumerate() {
            let span = j * bt..(j + 1) * bt;
            axpy(&mut g_u[span.clone()], v, g_yq);
            g_d[slot(r, j, k)] = T::of(dot(g_yq, &u[span]).into());
        }
    }
    let (mut g_w, mut g_b) = (vec![0.0; cols], vec![0.0; cols]);
    let mut g_o = vec![F::default(); bt];
    for i in (0..n_comp).rev() {
        let c = n_in + i;
        let (sw, sb) = close(c, bt, net, &u, &g_a, &mut g_u, |t| o[i * bt + t]);
        (g_w[c], g_b[c]) = (sw.into(), sb.into());
        let w_c = F::of(net.w[c]);
        for (t, g) in g_o.iter_mut().enumerate() {
            *g = w_c * g_u[c * bt + t];
        }
        for (k, (j, v)) in d.entries(i).enumerate() {
            let span = j * bt..(j + 1) * bt;
            axpy(&mut g_a[span.clone()], v, &g_o);
            g_d[slot(i, j, k)] = T::of(dot(&g_o, &a[span]).into());
        }
    }
    let mut g_x = vec![F::default(); n_in * bt];
    for j in 0..n_in {
        let (sw, sb) = close(j, bt, net, &u, &g_a, &mut g_u, |t| x[j * bt + t]);
        (g_w[j], g_b[j]) = (sw.into(), sb.into());
        let w_j = F::of(net.w[j]);
        for t in 0..bt {
            g_x[j * bt + t] = w_j * g_u[j * bt + t];
        }
    }
    Grads {
        x: transpose_as(&g_x, n_in, bt, Into::into),
        d: g_d,
        w: g_w,
        b: g_b,
    }
}
}

/// Sender `j`'s last step backward: `ū_j += ā_j·leaky'(u_j)`, and `(w̄_j, b̄_j)` from the
/// sender's own input `z` (`x_j` or `o_i`) at each sample.
#[inline]
pub(crate) fn close<F: Compute>(
    j: usize,
    bt: usize,
    net: &Net,
    u: &[F],
    g_a: &[F],
    g_u: &mut [F],
    z: impl Fn(usize) -> F,
) -> (F, F) {
    let (mut sw, mut sb, leak) = (F::default(), F::default(), F::of(net.leak));
    for t in 0..bt {
        let k = j * bt + t;
        g_u[k] = g_u[k] + g_a[k] * leaky(u[k], leak).1;
        sw = sw + g_u[k] * z(t);
        sb = sb + g_u[k];
    }
    (sw, sb)
}

/// Gradients of `x`, `d`, `w`, `b`, as tensors.
pub type TensorGrads<B> = (Tensor<B, 2>, Tensor<B, 2>, Tensor<B, 1>, Tensor<B, 1>);

/// The host inputs of both passes: the network (`w`, `b` as f64), `x` as f64 and the
/// support of `d`.
fn host<B: Backend>(
    x: Tensor<B, 2>,
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    n_in: usize,
    leak: f64,
) -> (Net, Vec<f64>, SparseRows<f64>) {
    let ([batch, _], cols) = (x.dims(), d.dims()[1]);
    let support = match Floats::of(d) {
        Floats::F32(d) => SparseRows::kept(&d, cols),
        Floats::F64(d) => SparseRows::kept(&d, cols),
    };
    (Net::of(n_in, batch, w, b, leak), Floats::f64_of(x), support)
}

/// The DNM's whole fast forward pass on a CPU backend, by [`forward`]: `y`
/// (`[batch, n_out]`) and the comps' values `o` (`[batch, n_comp]`) from `x`
/// (`[batch, n_in]`), `d` (`[R, C]`), `w`, `b` (`[C]`).
pub fn outputs_tensor<B: Backend>(
    x: Tensor<B, 2>,
    d: Tensor<B, 2>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    n_in: usize,
    leak: f64,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let ([rows, cols], [batch, _], device) = (d.dims(), x.dims(), x.device());
    let n_comp = cols - n_in;
    let (net, x, d) = host(x, d, w, b, n_in, leak);
    let (y, o) = forward(&net, &x, &d);
    (
        Tensor::from_data(TensorData::new(y, [batch, rows - n_comp]), &device),
        Tensor::from_data(TensorData::new(o, [batch, n_comp]), &device),
    )
}

/// The backward of [`outputs_tensor`] by [`backward`], from its comps' values `o` and the
/// gradient of `y`: the gradients of `x`, `d` (on the support of `d`), `w`, `b`.
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
    let ([rows, cols], [batch, _], device) = (d.dims(), x.dims(), x.device());
    let f32_d = d.dtype() == burn::tensor::DType::F32;
    let (net, x, d) = host(x, d, w, b, n_in, leak);
    let (o, g_y) = (Floats::f64_of(o), Floats::f64_of(grad));
    let (g_x, g_d, g_w, g_b) = if f32_d {
        let g = backward::<f64, f32>(&net, &x, &d, &o, &g_y, Layout::Dense);
        (g.x, TensorData::new(g.d, [rows, cols]), g.w, g.b)
    } else {
        let g = backward::<f64, f64>(&net, &x, &d, &o, &g_y, Layout::Dense);
        (g.x, TensorData::new(g.d, [rows, cols]), g.w, g.b)
    };
    (
        Tensor::from_data(TensorData::new(g_x, [batch, n_in]), &device),
        Tensor::from_data(g_d, &device),
        Tensor::from_data(TensorData::new(g_w, [cols]), &device),
        Tensor::from_data(TensorData::new(g_b, [cols]), &device),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small random network (40 inputs, 30 comps, 5 outputs; each cell kept with
    /// probability 0.3, comps reading only earlier senders) and a batch of `batch`.
    pub(crate) fn network(batch: usize) -> (Net, Vec<f64>, SparseRows<f64>) {
        let (n_in, n_comp, n_out) = (40, 30, 5);
        let cols = n_in + n_comp;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut d = vec![0.0; (n_comp + n_out) * cols];
        for r in 0..n_comp + n_out {
            let allowed = if r < n_comp { n_in + r } else { cols };
            for j in 0..allowed {
                if uniform() < 0.3 {
                    d[r * cols + j] = 2.0 * uniform() - 1.0;
                }
            }
        }
        let net = Net {
            n_in,
            batch,
            w: (0..cols).map(|_| 2.0 * uniform() - 1.0).collect(),
            b: (0..cols).map(|_| uniform() - 0.5).collect(),
            leak: 0.2,
            precision: Precision::F64,
        };
        let x = (0..batch * n_in).map(|_| uniform()).collect();
        (net, x, SparseRows::kept(&d, cols))
    }

    /// A batch cut into parts of at most [`PART`] samples gives every sample's outputs,
    /// comp values and input gradient bit for bit as one pass over the whole batch, and
    /// the batch sums (`D̄`, `w̄`, `b̄`) to rounding.
    #[test]
    fn a_batch_in_parts_is_the_batch_in_one_pass() {
        let batch = 4 * PART + 3;
        let (net, x, d) = network(batch);
        let (y, o) = forward(&net, &x, &d);
        let (y_one, o_one) = forward_part::<f64, f64>(&net, &x, &d);
        assert_eq!((&y, &o), (&y_one, &o_one));
        let g_y: Vec<f64> = y.iter().map(|v| v.sin()).collect();
        let parts = backward::<f64, f64>(&net, &x, &d, &o, &g_y, Layout::Kept);
        let one = backward_part::<f64, f64, f64>(&net, &x, &d, &o, &g_y, Layout::Kept);
        assert_eq!(parts.x, one.x, "x̄");
        for (name, a, b) in [
            ("D̄", &parts.d, &one.d),
            ("w̄", &parts.w, &one.w),
            ("b̄", &parts.b, &one.b),
        ] {
            assert_eq!(a.len(), b.len());
            for (p, q) in a.iter().zip(b) {
                assert!(
                    (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                    "{name}: {p} vs {q}"
                );
            }
            assert!(a.iter().any(|v| *v != 0.0), "{name} is not all zero");
        }
    }

    /// `y`, `o` and every gradient of a pass in `precision` over a batch in parts, with `x`
    /// given as f32 (what an f32 tensor hands the kernels) when `f32_x`.
    fn pass(net: &Net, x: &[f64], d: &SparseRows<f64>, f32_x: bool) -> [Vec<f64>; 6] {
        let widen = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
        let (y, o) = match f32_x {
            false => forward(net, x, d),
            true => {
                let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
                let (y, o) = forward(net, &x, d);
                (widen(y), widen(o))
            }
        };
        let g_y: Vec<f64> = y.iter().map(|v| v.cos()).collect();
        let g = match f32_x {
            false => backward::<f64, f64>(net, x, d, &o, &g_y, Layout::Kept),
            true => {
                let narrow = |v: &[f64]| v.iter().map(|&v| v as f32).collect::<Vec<_>>();
                let (x, o, g_y) = (narrow(x), narrow(&o), narrow(&g_y));
                backward::<f32, f64>(net, &x, d, &o, &g_y, Layout::Kept)
            }
        };
        [y, o, g.x, g.d, g.w, g.b]
    }

    /// The AVX2 copy of the passes ([`manifold_kernels::simd`]) gives the baseline copy's
    /// bits: outputs, comp values and every gradient, over a batch in parts, in both
    /// precisions. (On a CPU without AVX2 both runs take the baseline copy.)
    #[test]
    fn the_wide_passes_give_the_baseline_bits() {
        let (net, x, d) = network(2 * PART + 7);
        for precision in [Precision::F64, Precision::F32] {
            let net = net.clone().with_precision(precision);
            let f32_x = precision == Precision::F32;
            let run = |wide: bool| {
                manifold_kernels::simd::set_wide(wide);
                let out = pass(&net, &x, &d, f32_x);
                manifold_kernels::simd::set_wide(true);
                out.map(|v| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>())
            };
            let (wide, baseline) = (run(true), run(false));
            let names = ["y", "o", "x̄", "D̄", "w̄", "b̄"];
            for ((name, a), b) in names.iter().zip(&wide).zip(&baseline) {
                assert_eq!(a, b, "{precision:?} {name}");
                assert!(a.iter().any(|&v| v != 0), "{name} is not all zero");
            }
        }
    }

    /// The f32 passes give the f64 passes' outputs and gradients to f32's rounding (a
    /// relative 1e-5 of each array's largest value, over ~30 kept cells a row and a batch
    /// in parts), and are not the f64 passes (they differ in the last bits somewhere).
    #[test]
    fn the_f32_passes_match_the_f64_passes_to_rounding() {
        let (net, x, d) = network(2 * PART + 7);
        let f64s = pass(&net, &x, &d, false);
        let f32s = pass(&net.clone().with_precision(Precision::F32), &x, &d, true);
        let names = ["y", "o", "x̄", "D̄", "w̄", "b̄"];
        for ((name, a), b) in names.iter().zip(&f32s).zip(&f64s) {
            let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{name} is not all zero");
            let worst = a
                .iter()
                .zip(b)
                .map(|(p, q)| (p - q).abs())
                .fold(0.0, f64::max);
            assert!(
                worst <= 1e-5 * scale,
                "{name}: off by {worst:e} at scale {scale:e}"
            );
            assert!(a != b, "{name}: the f32 passes gave the f64 bits");
        }
    }
}
