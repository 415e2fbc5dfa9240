//! Times the parts of one DreamComp minibatch step (scores matmul vs the whole step)
//! on ndarray (and flex with `--features flex`): `cargo run --release --example
//! dreamcomp_profile [K] [B] [batches]`.

use std::time::Instant;

use burn::tensor::{Distribution, Tensor};
use manifold_dreamcomp::rule::{scores, step, synapse_rows};
use manifold_sparse::SparseBackend;

fn time<Bk: SparseBackend>(name: &str, k: usize, b: usize, n: usize) {
    let dev = Default::default();
    let w = Tensor::<Bk, 2>::random([k, 794], Distribution::Uniform(0.0, 1.0), &dev);
    // about 19 % non-zero inputs, as in MNIST
    let v = Tensor::<Bk, 2>::random([b, 794], Distribution::Uniform(0.0, 1.0), &dev)
        * Tensor::<Bk, 2>::random([b, 794], Distribution::Bernoulli(0.19), &dev);
    let (xi, iz) = synapse_rows::<Bk>(784, 10, 0.006, 0.1, 10.0, &dev);
    let t = Instant::now();
    for _ in 0..n {
        let s = scores(w.clone(), v.clone());
        let _ = s.argmax(1).into_data();
    }
    let s_time = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let s = w.clone().matmul(v.clone().transpose());
        let _ = s.argmax(0).into_data();
    }
    let ws_time = t.elapsed().as_secs_f64() / n as f64;
    let wt = w.clone().transpose() * 1.0;
    let t = Instant::now();
    for _ in 0..n {
        let s = v.clone().matmul(wt.clone());
        let _ = s.argmax(1).into_data();
    }
    let wt_time = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "  w·Vᵀ {:.2} ms, V·(stored wᵀ) {:.2} ms",
        ws_time * 1e3,
        wt_time * 1e3
    );
    let mut w2 = w.clone();
    drop(w);
    let t = Instant::now();
    for _ in 0..n {
        w2 = step(w2, v.clone(), xi.clone(), iz.clone());
    }
    let _ = w2.sum().into_data();
    let step_time = t.elapsed().as_secs_f64() / n as f64;
    let gflop = 2.0 * (k * b * 794) as f64 / 1e9;
    println!(
        "{name} K={k} B={b}: scores+argmax {:.2} ms ({:.1} GFLOP/s), full step {:.2} ms",
        s_time * 1e3,
        gflop / s_time,
        step_time * 1e3
    );
}

fn main() {
    if std::env::var("HOST_ONLY").is_ok() {
        host_only(6400, 500, 5);
        host_only(400, 100, 50);
        return;
    }
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let (k, b, n) = (
        a.first().copied().unwrap_or(6400),
        a.get(1).copied().unwrap_or(500),
        a.get(2).copied().unwrap_or(10),
    );
    #[cfg(feature = "ndarray")]
    time::<burn_ndarray::NdArray<f32>>("ndarray", k, b, n);
    #[cfg(feature = "flex")]
    time::<burn_flex::Flex>("flex", k, b, n);
}

/// The host kernel alone on plain buffers (no tensor conversion).
#[allow(dead_code)]
fn host_only(k: usize, b: usize, n: usize) {
    let d = 794;
    let v: Vec<f32> = (0..b * d)
        .map(|i| {
            if (i * 2654435761usize) % 100 < 19 {
                0.5
            } else {
                0.0
            }
        })
        .collect();
    let w: Vec<f32> = (0..k * d).map(|i| (i % 97) as f32 * 0.01).collect();
    let t = Instant::now();
    for _ in 0..n {
        let s = manifold_sparse::rows::rows_matmul_t(&v, &w, b, k, d);
        std::hint::black_box(s);
    }
    println!(
        "host kernel alone K={k} B={b}: {:.2} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}
