//! The CPU kernels and the hand-written backward against a dense product computed here
//! and against the gather/scatter path differentiated by Burn's own autodiff.

use burn::backend::Autodiff;
use burn::tensor::{Int, Tensor, TensorData};
use manifold_set::kernels::{fallback as sparse_fallback, SetBackend};

type Cpu = burn_ndarray::NdArray<f32>;
type Ad = Autodiff<Cpu>;

/// A small deterministic pseudo-random stream in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.next() + 1.0) * 0.5 * n as f32) as usize % n
    }
}

struct Case {
    n_in: usize,
    n_out: usize,
    batch: usize,
    x: Vec<f32>,
    w: Vec<f32>,
    rows: Vec<usize>,
    cols: Vec<usize>,
    /// Weights of the scalar loss `Σ r ⊙ y`.
    r: Vec<f32>,
}

/// 40 connections of a 9 → 6 layer (repeated (row, col) pairs included), batch 5.
fn case(seed: u64) -> Case {
    let mut g = Lcg(seed);
    let (n_in, n_out, batch, nnz) = (9, 6, 5, 40);
    Case {
        n_in,
        n_out,
        batch,
        x: (0..n_in * batch).map(|_| g.next()).collect(),
        w: (0..nnz).map(|_| g.next()).collect(),
        rows: (0..nnz).map(|_| g.below(n_in)).collect(),
        cols: (0..nnz).map(|_| g.below(n_out)).collect(),
        r: (0..n_out * batch).map(|_| g.next()).collect(),
    }
}

fn float<B: SetBackend, const D: usize>(v: &[f32], shape: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), &Default::default())
}

fn index<B: SetBackend>(v: &[usize]) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = v.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(v.clone(), [v.len()]), &Default::default())
}

fn host<B: SetBackend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().into_vec().unwrap()
}

/// Equal to f32 rounding: the kernels and the dense reference add the same few (≤ 64)
/// products in other orders, n·ε ≈ 8e-6 of the scale `1 + |want|` at most.
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}[{i}] = {g}, expected {w}"
        );
    }
}

/// `y = W·x` with `W` built densely here, and the exact gradients of `Σ r ⊙ y`:
/// `x̄ = Wᵀ r`, `w̄_k = Σ_b x[row_k, b]·r[col_k, b]`.
fn reference(c: &Case) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut dense = vec![0f32; c.n_out * c.n_in];
    for k in 0..c.w.len() {
        dense[c.cols[k] * c.n_in + c.rows[k]] += c.w[k];
    }
    let mut y = vec![0f32; c.n_out * c.batch];
    let mut gx = vec![0f32; c.n_in * c.batch];
    for j in 0..c.n_out {
        for i in 0..c.n_in {
            for b in 0..c.batch {
                y[j * c.batch + b] += dense[j * c.n_in + i] * c.x[i * c.batch + b];
                gx[i * c.batch + b] += dense[j * c.n_in + i] * c.r[j * c.batch + b];
            }
        }
    }
    let gw = (0..c.w.len())
        .map(|k| {
            (0..c.batch)
                .map(|b| c.x[c.rows[k] * c.batch + b] * c.r[c.cols[k] * c.batch + b])
                .sum()
        })
        .collect();
    (y, gx, gw)
}

#[test]
fn cpu_kernel_and_gather_path_equal_the_dense_product() {
    for seed in 1..4 {
        let c = case(seed);
        let (want, _, _) = reference(&c);
        let args = || {
            (
                float::<Cpu, 2>(&c.x, [c.n_in, c.batch]),
                float::<Cpu, 1>(&c.w, [c.w.len()]),
                index::<Cpu>(&c.rows),
                index::<Cpu>(&c.cols),
            )
        };
        let (x, w, r, k) = args();
        assert_close(
            "kernel y",
            &host(Cpu::sparse_matmul(x, w, r, k, c.n_out)),
            &want,
        );
        let (x, w, r, k) = args();
        assert_close(
            "gather y",
            &host(sparse_fallback::sparse_matmul(x, w, r, k, c.n_out)),
            &want,
        );
    }
}

#[test]
fn hand_written_backward_equals_the_exact_gradients() {
    for seed in 1..4 {
        let c = case(seed);
        let (want_y, want_gx, want_gw) = reference(&c);
        let x = float::<Ad, 2>(&c.x, [c.n_in, c.batch]).require_grad();
        let w = float::<Ad, 1>(&c.w, [c.w.len()]).require_grad();
        let y = Ad::sparse_matmul(
            x.clone(),
            w.clone(),
            index(&c.rows),
            index(&c.cols),
            c.n_out,
        );
        assert_close("y", &host(y.clone()), &want_y);
        let grads = (y * float::<Ad, 2>(&c.r, [c.n_out, c.batch]))
            .sum()
            .backward();
        assert_close("x grad", &host(x.grad(&grads).unwrap()), &want_gx);
        assert_close("w grad", &host(w.grad(&grads).unwrap()), &want_gw);
    }
}

#[test]
fn gather_path_under_burns_autodiff_agrees_with_the_custom_node() {
    let c = case(7);
    let grads_of = |custom: bool| {
        let x = float::<Ad, 2>(&c.x, [c.n_in, c.batch]).require_grad();
        let w = float::<Ad, 1>(&c.w, [c.w.len()]).require_grad();
        let (r, k) = (index::<Ad>(&c.rows), index::<Ad>(&c.cols));
        let y = if custom {
            Ad::sparse_matmul(x.clone(), w.clone(), r, k, c.n_out)
        } else {
            sparse_fallback::sparse_matmul(x.clone(), w.clone(), r, k, c.n_out)
        };
        let g = (y.tanh() * float::<Ad, 2>(&c.r, [c.n_out, c.batch]))
            .sum()
            .backward();
        (host(x.grad(&g).unwrap()), host(w.grad(&g).unwrap()))
    };
    let (cx, cw) = grads_of(true);
    let (gx, gw) = grads_of(false);
    assert_close("x grad", &cx, &gx);
    assert_close("w grad", &cw, &gw);
}

#[test]
fn an_input_without_gradient_still_gives_the_weight_gradient() {
    let c = case(11);
    let (_, _, want_gw) = reference(&c);
    let x = float::<Ad, 2>(&c.x, [c.n_in, c.batch]);
    let w = float::<Ad, 1>(&c.w, [c.w.len()]).require_grad();
    let y = Ad::sparse_matmul(x, w.clone(), index(&c.rows), index(&c.cols), c.n_out);
    let grads = (y * float::<Ad, 2>(&c.r, [c.n_out, c.batch]))
        .sum()
        .backward();
    assert_close("w grad", &host(w.grad(&grads).unwrap()), &want_gw);
}
