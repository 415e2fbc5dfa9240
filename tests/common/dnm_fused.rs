//! The fused closeness kernel against the tensor expression, shared by the f64 and f32
//! tests (included with `#[path]`; not a test target of its own).

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use manifold_dnm::kernels::DnmAutodiffBackend;
use manifold_dnm::{DensityTerm, Dnm, DnmConfig, Grid, Head, Window};

/// A 40-neuron network (6 inputs, 3 outputs) with shape parameters spread wide enough
/// that κ can keep every cell, cut some or cut all; also the base of `dnm_gradients`.
pub fn config() -> DnmConfig {
    DnmConfig::new()
        .with_neurons(40)
        .with_inputs(6)
        .with_outputs(3)
        .with_period(3.0)
        .with_head(Head::Identity)
        .with_density_term(DensityTerm::Surrogate)
        .with_surrogate_sharpness(5.0)
        .with_alpha_init((1.0, 1.0))
        .with_beta_init((0.0, 0.3))
        .with_gamma_init((0.0, 0.5))
        .with_theta_init((0.0, 0.5))
        .with_phi_init((1.5, 0.5))
        .with_sigma_init((4.0, 1.0))
        .with_mu_init((0.0, 3.0))
}

pub fn values<Bk: Backend, const D: usize>(t: Tensor<Bk, D>) -> Vec<f64> {
    t.into_data().convert::<f64>().to_vec::<f64>().unwrap()
}

fn shape_params<Bk: Backend>(m: &Dnm<Bk>) -> [(&'static str, Tensor<Bk, 1>); 8] {
    [
        ("alpha", m.alpha.val()),
        ("beta", m.beta.val()),
        ("gamma", m.gamma.val()),
        ("theta", m.theta.val()),
        ("phi", m.phi.val()),
        ("sigma", m.sigma.val()),
        ("mu", m.mu.val()),
        ("kappa", m.kappa.val()),
    ]
}

/// [`fused_matches_expression`] on seeds 0–2 with every cell kept (κ −12), partly cut
/// (κ −1, 0) and all cut (κ 30), under the line, the patch and the patches window.
pub fn fused_matches_expression_everywhere<Bk: DnmAutodiffBackend>(tol: f64) {
    for window in [Window::Line, Window::Patch, Window::Patches] {
        for seed in 0..3 {
            for kappa in [-12.0, -1.0, 0.0, 30.0] {
                fused_matches_expression::<Bk>(&config().with_window(window), kappa, seed, tol);
            }
        }
    }
}

/// `D`, `s` and the gradients of α…μ, κ of a random loss `Σ D·W + 3s`, from
/// `Dnm::cutoff` (the fused kernel on CPU backends) and `Dnm::cutoff_expression`, agree
/// within `tol` × the largest magnitude; with and without the surrogate.
pub fn fused_matches_expression<Bk: DnmAutodiffBackend>(
    config: &DnmConfig,
    kappa: f64,
    seed: u64,
    tol: f64,
) {
    let dev = Default::default();
    <Bk as Backend>::seed(&dev, seed);
    let model = Dnm::<Bk>::new(config, &dev);
    let model = Dnm {
        kappa: Param::from_tensor(Tensor::from_data(TensorData::new(vec![kappa], [1]), &dev)),
        ..model
    };
    let grid = Grid::<Bk>::of(config, &dev);
    let weights = Tensor::<Bk, 2>::random([grid.rows(), grid.cols()], Distribution::Default, &dev);
    // With the surrogate every allowed cell has a gradient; without it only kept ones.
    for k in [Some(config.surrogate_sharpness), None] {
        let run = |fused: bool| {
            let cut = if fused {
                model.cutoff(&grid, k)
            } else {
                model.cutoff_expression(&grid, k)
            };
            assert_eq!(cut.surrogate.is_some(), k.is_some(), "s iff asked for");
            let s = cut.surrogate.unwrap_or_else(|| Tensor::zeros([1], &dev));
            let d = values(cut.d.clone());
            let grads = ((cut.d * weights.clone()).sum() + s.clone().mul_scalar(3.0)).backward();
            let g: Vec<Vec<f64>> = shape_params(&model)
                .into_iter()
                .map(|(_, p)| p.grad(&grads).map(values).unwrap_or_default())
                .collect();
            (d, values(s)[0], g)
        };
        let (d_e, s_e, g_e) = run(false);
        let (d_f, s_f, g_f) = run(true);
        let close = |a: &[f64], b: &[f64], what: &str| {
            assert_eq!(a.len(), b.len(), "{what}: lengths");
            let scale = a.iter().fold(1f64, |m, v| m.max(v.abs()));
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert!(
                    (x - y).abs() <= tol * scale,
                    "{what}[{i}] (κ {kappa}, seed {seed}, k {k:?}): expression {x}, fused {y}"
                );
            }
        };
        close(&d_e, &d_f, "D");
        close(&[s_e], &[s_f], "s");
        for (i, (name, _)) in shape_params(&model).into_iter().enumerate() {
            close(&g_e[i], &g_f[i], name);
        }
        if kappa < 0.0 {
            assert!(d_f.iter().any(|v| *v != 0.0), "κ {kappa}: nothing kept");
        } else if kappa > 20.0 {
            assert!(d_f.iter().all(|v| *v == 0.0), "κ {kappa}: something kept");
        }
    }
}
