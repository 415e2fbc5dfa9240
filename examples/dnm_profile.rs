//! Times the parts of one DNM training step at seed-mnist size on ndarray (and flex
//! with `--features flex`): the closeness grid with its losses (forward + backward)
//! against the whole step, with `D` and `s` from the tensor expression and from the fused
//! kernel. `cargo run --release [--features flex] --example dnm_profile [steps]`.

use std::time::Instant;

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use manifold_dnm::{adam, flow, flow_fast, Dnm, DnmConfig, Grid, Structure};
use manifold_sparse::SparseAutodiffBackend;

fn time<B: SparseAutodiffBackend>(name: &str, n: usize, fused: bool) {
    let dev = Default::default();
    let config = DnmConfig::seed_mnist();
    let grid = Grid::<B>::of(&config, &dev);
    let mut model = Dnm::<B>::new(&config, &dev);
    let mut optim = adam::<B>();
    let x = Tensor::<B, 2>::random(
        [50, 784],
        burn::tensor::Distribution::Uniform(0.0, 1.0),
        &dev,
    );
    // closeness (D, s), flow, structure, evaluator + objective, backward, Adam
    let mut parts = [0.0f64; 6];
    for _ in 0..n {
        let t = Instant::now();
        let k = config.surrogate_needed();
        let cl = if fused {
            model.cutoff(&grid, k)
        } else {
            model.cutoff_expression(&grid, k)
        };
        let s = cl.surrogate.unwrap_or_else(|| Tensor::zeros([1], &dev));
        let _ = s.clone().into_scalar();
        parts[0] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let fl = if fused {
            flow_fast(&cl.d, &grid)
        } else {
            flow(&cl.d, &grid)
        };
        let fl = fl.mul_scalar(config.lambda_flow);
        let _ = fl.clone().into_scalar();
        parts[1] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let st = Structure::of(&cl.d, &grid);
        parts[2] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let out = model.outputs_fast(&cl.d, &grid, x.clone(), st.depth);
        let loss = out.square().mean() + s + fl;
        let _ = loss.clone().into_scalar();
        parts[3] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        parts[4] += t.elapsed().as_secs_f64();
        let t = Instant::now();
        model = optim.step(1e-4, model, grads);
        parts[5] += t.elapsed().as_secs_f64();
    }
    let ms = |v: f64| 1e3 * v / n as f64;
    println!(
        "{name} ({}): closeness {:.2} ms, flow {:.2}, structure {:.2}, evaluator {:.2}, backward {:.2}, Adam {:.2}; sum {:.2} ms",
        if fused { "fused" } else { "expression" },
        ms(parts[0]),
        ms(parts[1]),
        ms(parts[2]),
        ms(parts[3]),
        ms(parts[4]),
        ms(parts[5]),
        ms(parts.iter().sum()),
    );
    let _ = model.valid();
}

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    if std::env::args().nth(2).as_deref() == Some("ndarray-fused") {
        // One case alone, for `perf record`.
        time::<Autodiff<burn_ndarray::NdArray<f32>>>("ndarray", n, true);
        return;
    }
    kernel_only(n);
    for fused in [false, true] {
        time::<Autodiff<burn_ndarray::NdArray<f32>>>("ndarray", n, fused);
        #[cfg(feature = "flex")]
        time::<Autodiff<burn_flex::Flex>>("flex", n, fused);
    }
}

fn kernel_only(n: usize) {
    use manifold_sparse::closeness::{backward, forward, Inputs};
    let config = DnmConfig::seed_mnist();
    let grid = Grid::<burn_ndarray::NdArray<f32>>::of(&config, &Default::default());
    let g = grid.geometry();
    let shape: Vec<f64> = (0..g.rows() * 7)
        .map(|k| ((k * 37) % 11) as f64 / 5.0 - 1.0)
        .collect();
    for k in [None, Some(1.0)] {
        let inp = Inputs {
            shape: shape.clone(),
            kappa: -1.0,
            geometry: g,
            sharpness: k,
        };
        let t = Instant::now();
        let mut out = Vec::new();
        for _ in 0..n {
            out = forward(&inp);
        }
        let f = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        let grad: Vec<f64> = out.iter().map(|v| v * 0.5 + 0.1).collect();
        let t = Instant::now();
        for _ in 0..n {
            let _ = backward(&inp, &out, &grad);
        }
        let b = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        println!("kernel sharpness {k:?}: forward {f:.2} ms, backward {b:.2} ms");
    }
}
