//! The two compute paths, the optimiser reset and the evolution step on hand-made
//! layers (ndarray backend).

use burn::backend::Autodiff;
use burn::tensor::{Tensor, TensorData};
use manifold_set::evolve::evolve_layer;
use manifold_set::optim::{adam_step, SparseAdam};
use manifold_set::topology::erdos_renyi;
use manifold_set::{ComputePath, Connections, SetConfig, SetMlp, SparseLinear};
use rand::SeedableRng;

type B = Autodiff<burn_ndarray::NdArray<f32>>;

fn host(t: Tensor<burn_ndarray::NdArray<f32>, 2>) -> Vec<f32> {
    t.into_data().to_vec::<f32>().unwrap()
}

fn input(rows: usize, cols: usize, seed: u64) -> Tensor<B, 2> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let v = manifold_set::topology::normal_weights(rows * cols, 1.0, &mut rng);
    Tensor::from_data(TensorData::new(v, [rows, cols]), &Default::default())
}

/// y = b + Σ w·x over a 3-in, 2-out layer with connections (0→1, 2→0, 2→1).
#[test]
fn sparse_layer_matches_hand_computed_values_on_both_paths() {
    let dev = Default::default();
    let c = Connections {
        rows: vec![0, 2, 2],
        cols: vec![1, 0, 1],
        weights: vec![2.0, -1.0, 0.5],
    };
    let layer = SparseLinear::<B>::new(3, 2, &c, &dev);
    // feature-major input: 3 features × 2 samples
    let x = Tensor::<B, 2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]),
        &dev,
    );
    // sample 0: x = (1, 3, 5): y0 = −1·5 = −5, y1 = 2·1 + 0.5·5 = 4.5
    // sample 1: x = (2, 4, 6): y0 = −6, y1 = 4 + 3 = 7
    for path in [ComputePath::Sparse, ComputePath::Masked] {
        let y = host(layer.forward(x.clone(), path).inner());
        assert_eq!(y, vec![-5.0, -6.0, 4.5, 7.0], "{path:?}");
    }
}

#[test]
fn sparse_and_masked_paths_agree_in_outputs_and_gradients() {
    let dev = Default::default();
    let config = SetConfig::new()
        .with_inputs(30)
        .with_hidden(vec![20, 15])
        .with_classes(4)
        .with_density(0.2)
        .with_dropout(0.0);
    let model = SetMlp::<B>::new(&config, &dev);
    let x = input(8, 30, 3);
    let labels = manifold_train::labels_tensor::<B>(&[0, 1, 2, 3, 0, 1, 2, 3], &dev);
    let mut outs = Vec::new();
    for path in [ComputePath::Sparse, ComputePath::Masked] {
        let logits = model.forward(x.clone(), path);
        let grads = model.loss(x.clone(), labels.clone(), path).backward();
        let g: Vec<Vec<f32>> = model
            .layers
            .iter()
            .flat_map(|l| {
                [
                    l.weights.grad(&grads).unwrap(),
                    l.bias.grad(&grads).unwrap(),
                ]
            })
            .map(|t| t.into_data().to_vec::<f32>().unwrap())
            .collect();
        outs.push((host(logits.inner()), g));
    }
    // The sparse and masked paths add the same products in other orders (f32 rounding of
    // sums over ≤ 100 terms: ≤ 100·ε ≈ 1.2e-5 of the scale).
    let close = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + x.abs()))
    };
    assert!(close(&outs[0].0, &outs[1].0), "logits differ");
    assert_eq!(outs[0].1.len(), 6);
    for (a, b) in outs[0].1.iter().zip(&outs[1].1) {
        assert!(
            a.iter().any(|v| *v != 0.0),
            "a zero gradient proves nothing"
        );
        assert!(close(a, b), "gradients differ: {a:?} vs {b:?}");
    }
}

/// The weight gradient of the sparse path against central finite differences.
#[test]
fn sparse_gradient_matches_finite_differences() {
    let dev = Default::default();
    let config = SetConfig::new()
        .with_inputs(6)
        .with_hidden(vec![5])
        .with_classes(3)
        .with_density(0.5)
        .with_dropout(0.0);
    let model = SetMlp::<B>::new(&config, &dev);
    let x = input(4, 6, 9);
    let labels = manifold_train::labels_tensor::<B>(&[0, 1, 2, 1], &dev);
    let loss_of = |m: &SetMlp<B>| -> f64 {
        m.loss(x.clone(), labels.clone(), ComputePath::Sparse)
            .into_scalar() as f64
    };
    let grads = model
        .loss(x.clone(), labels.clone(), ComputePath::Sparse)
        .backward();
    let g = model.layers[0]
        .weights
        .grad(&grads)
        .unwrap()
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let c = model.layers[0].connections();
    let h = 1e-2f32;
    assert_eq!(g.len(), c.weights.len(), "one gradient per connection");
    for (k, &gk) in g.iter().enumerate() {
        let shifted = |d: f32| {
            let mut c2 = c.clone();
            c2.weights[k] += d;
            let mut m = model.clone();
            m.layers[0] = m.layers[0].clone().with_connections(&c2, &dev);
            loss_of(&m)
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h as f64);
        // f32 central differences with h = 1e-2: rounding ε·|L|/h ≈ 1.2e-5·|L| and
        // truncation h²·|L‴|/6 (|L| ≈ 2.3 at initialisation).
        assert!(
            (fd - gk as f64).abs() < 2e-3,
            "slot {k}: fd {fd} vs autodiff {gk}"
        );
    }
}

#[test]
fn erdos_renyi_density_of_the_default_mnist_net() {
    let config = SetConfig::new();
    // ε(n_in+n_out)/(n_in·n_out) for 784×1000: 20·1784/784000
    let d = config.layer_density(784, 1000);
    // A ratio of counts: exact up to f64 rounding.
    assert!((d - 20.0 * 1784.0 / 784_000.0).abs() < 1e-12);
    assert_eq!(config.layer_density(1000, 10), 1.0, "capped at 1");
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let (r, _) = erdos_renyi(784, 1000, d, &mut rng);
    assert_eq!(r.len(), 35_680, "ε·(n_in+n_out) = 20·1784");
}

/// A 4×3 layer with 6 hand-set weights; ζ = 0.5 with the paper's rule must recycle
/// exactly the smallest positive ones and the negative ones closest to zero.
#[test]
fn evolution_keeps_the_count_and_recycles_exactly_the_right_weights() {
    let dev = Default::default();
    let c = Connections {
        rows: vec![0, 0, 1, 2, 3, 3],
        cols: vec![0, 2, 1, 0, 1, 2],
        weights: vec![0.9, 0.1, -0.05, -0.8, 0.3, -0.4],
    };
    // positives: 0.9, 0.1, 0.3 → ⌊1.5⌋ = 1 removed: slot 1 (0.1)
    // negatives: −0.05, −0.8, −0.4 → ⌊1.5⌋ = 1 removed: slot 2 (−0.05)
    let layer = SparseLinear::<B>::new(4, 3, &c, &dev);
    let model = SetMlp {
        layers: vec![layer],
        dropout: burn::nn::DropoutConfig::new(0.0).init(),
    };
    let mut state = SparseAdam::<burn_ndarray::NdArray<f32>>::new(&model, &dev);
    let config = SetConfig::new().with_zeta(0.5);
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let (layer, n) = evolve_layer(
        model.layers[0].clone(),
        &mut state.weights[0],
        &config,
        None,
        &mut rng,
    );
    assert_eq!(n, 2);
    let after = layer.connections();
    assert_eq!(after.weights.len(), 6);
    for k in [0, 3, 4, 5] {
        assert_eq!(
            (after.rows[k], after.cols[k], after.weights[k]),
            (c.rows[k], c.cols[k], c.weights[k])
        );
    }
    let before: Vec<(usize, usize)> = c.rows.iter().copied().zip(c.cols.iter().copied()).collect();
    let mut now: Vec<(usize, usize)> = after
        .rows
        .iter()
        .copied()
        .zip(after.cols.iter().copied())
        .collect();
    for k in [1, 2] {
        assert!(
            !before.contains(&now[k]),
            "slot {k} regrown on an occupied position"
        );
    }
    now.sort();
    now.dedup();
    assert_eq!(now.len(), 6, "positions stay distinct");
    // the dense matrix has exactly 6 non-zeros at the new positions
    let dense = layer
        .dense_weights()
        .inner()
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(dense.iter().filter(|v| **v != 0.0).count(), 6);
}

/// After a few Adam steps, evolution zeroes m, v and t of the recycled slots only, and
/// the next step of a recycled weight is a fresh Adam step: |Δw| = lr (m̂/√v̂ = ±1).
#[test]
fn optimiser_state_is_reset_for_recycled_connections() {
    let dev = Default::default();
    let config = SetConfig::new()
        .with_inputs(8)
        .with_hidden(vec![6])
        .with_classes(3)
        .with_density(0.5)
        .with_dropout(0.0)
        .with_zeta(0.3);
    let mut model = SetMlp::<B>::new(&config, &dev);
    let mut state = SparseAdam::new(&model, &dev);
    let x = input(5, 8, 1);
    let labels = manifold_train::labels_tensor::<B>(&[0, 1, 2, 0, 1], &dev);
    for _ in 0..3 {
        let grads = model
            .loss(x.clone(), labels.clone(), ComputePath::Sparse)
            .backward();
        model = adam_step(model, &mut state, &grads, 0.01, &config);
    }
    let vec = |t: Tensor<burn_ndarray::NdArray<f32>, 1>| t.into_data().to_vec::<f32>().unwrap();
    let m_before = vec(state.weights[0].m.val());
    let t_before = vec(state.weights[0].t.val());
    assert!(t_before.iter().all(|&t| t == 3.0));
    let w_before = model.layers[0].connections().weights;
    let expected = manifold_set::topology::prune_slots(&w_before, config.zeta, config.prune_rule);
    assert!(!expected.is_empty());
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let (layer, _) = evolve_layer(
        model.layers[0].clone(),
        &mut state.weights[0],
        &config,
        None,
        &mut rng,
    );
    model.layers[0] = layer;
    let (m_after, v_after, t_after) = (
        vec(state.weights[0].m.val()),
        vec(state.weights[0].v.val()),
        vec(state.weights[0].t.val()),
    );
    for k in 0..m_after.len() {
        if expected.contains(&k) {
            assert_eq!(
                (m_after[k], v_after[k], t_after[k]),
                (0.0, 0.0, 0.0),
                "slot {k}"
            );
        } else {
            assert_eq!((m_after[k], t_after[k]), (m_before[k], 3.0), "slot {k}");
        }
    }
    // one more step: recycled slots move by exactly lr (a first Adam step).
    let w0 = model.layers[0].connections().weights;
    let grads = model
        .loss(x.clone(), labels.clone(), ComputePath::Sparse)
        .backward();
    let g = vec(model.layers[0].weights.grad(&grads).unwrap());
    model = adam_step(model, &mut state, &grads, 0.01, &config);
    let w1 = model.layers[0].connections().weights;
    for &k in &expected {
        if g[k].abs() > 1e-6 {
            let step = w0[k] - w1[k];
            // Adam's first step is lr·sign(g) up to ε/|g| and f32 rounding of w (|w| < 1,
            // ulp ≤ 6e-8).
            assert!(
                (step - 0.01 * g[k].signum()).abs() < 1e-5,
                "slot {k}: step {step}, g {}",
                g[k]
            );
        }
    }
}

#[test]
fn impossible_configs_name_the_field() {
    let bad = [
        (SetConfig::new().with_zeta(1.5), "zeta"),
        (SetConfig::new().with_epsilon(-1.0), "epsilon"),
        (SetConfig::new().with_density(2.0), "density"),
        (SetConfig::new().with_hidden(vec![10, 0]), "hidden"),
        (SetConfig::new().with_l2(-1e-4), "l2"),
        (SetConfig::new().with_dropout(1.0), "dropout"),
    ];
    for (c, field) in bad {
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("`{field}`")), "{e}");
        assert!(!e.contains('\n'));
    }
    assert!(SetConfig::new().validate().is_ok());
}

/// RigL's dense gradient at a kept connection is that connection's own gradient, and
/// at an empty position it is δ·hᵀ by hand: a 3-in, 2-out, 2-class network of two
/// layers with every number chosen.
#[test]
fn dense_gradient_equals_the_kept_weights_gradient_and_delta_times_input() {
    let dev = Default::default();
    let l0 = SparseLinear::<B>::new(
        3,
        2,
        &Connections {
            rows: vec![0, 2],
            cols: vec![0, 1],
            weights: vec![0.5, -0.3],
        },
        &dev,
    );
    let l1 = SparseLinear::<B>::new(
        2,
        2,
        &Connections {
            rows: vec![0, 1, 1],
            cols: vec![0, 0, 1],
            weights: vec![0.7, 0.2, -0.4],
        },
        &dev,
    );
    let model = SetMlp {
        layers: vec![l0, l1],
        dropout: burn::nn::DropoutConfig::new(0.0).init(),
    };
    let x = Tensor::<B, 2>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, -1.0, 0.5, 2.0], [2, 3]),
        &dev,
    );
    let labels =
        || Tensor::<B, 1, burn::tensor::Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &dev);
    for path in [ComputePath::Sparse, ComputePath::Masked] {
        let g = manifold_set::gradient::dense_gradients(&model, x.clone(), labels(), path);
        assert_eq!((g.len(), g[0].len(), g[1].len()), (2, 6, 4));
        // The sparse weights' own gradients, by autodiff.
        let loss = manifold_train::cross_entropy(model.forward(x.clone(), path), labels());
        let grads = loss.backward();
        for (l, layer) in model.layers.iter().enumerate() {
            let own = layer
                .weights
                .grad(&grads)
                .unwrap()
                .to_data()
                .to_vec::<f32>()
                .unwrap();
            let c = layer.connections();
            for k in 0..own.len() {
                let dense = g[l][c.cols[k] * layer.n_in + c.rows[k]];
                assert!(
                    (dense - own[k]).abs() <= 1e-6,
                    "{path:?} layer {l} slot {k}: {dense} vs {own:?}"
                );
            }
        }
        // By hand for the last layer: h = relu(W0 x) per sample, p = softmax(W1 h),
        // ∂L/∂W1[c, j] = mean over samples of (p_c − [c = label]) · h_j.
        let xs = [[1.0f32, 2.0, 3.0], [-1.0, 0.5, 2.0]];
        let mut expected = [0.0f32; 4];
        for (s, x) in xs.iter().enumerate() {
            let h = [(0.5 * x[0]).max(0.0), (-0.3 * x[2]).max(0.0)];
            let z = [0.7 * h[0] + 0.2 * h[1], -0.4 * h[1]];
            let m = z[0].max(z[1]);
            let e = [(z[0] - m).exp(), (z[1] - m).exp()];
            let p = [e[0] / (e[0] + e[1]), e[1] / (e[0] + e[1])];
            let label = [1, 0][s];
            for c in 0..2 {
                let d = p[c] - if c == label { 1.0 } else { 0.0 };
                for j in 0..2 {
                    expected[c * 2 + j] += d * h[j] / 2.0;
                }
            }
        }
        for (k, (a, b)) in g[1].iter().zip(expected).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6,
                "{path:?} last layer [{k}]: {a} vs {b}"
            );
        }
    }
}
