//! The same MLP code on every compiled backend: identical initialisation (drawn from
//! the config's seed on the host), identical data order, so the loss curves and the
//! test accuracy must agree within float-rounding drift.
//!
//! Tolerances: per-epoch mean training loss within 1% (relative), test accuracy
//! within 0.5 point, test loss within 2%.

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use manifold_data::Mnist;
use manifold_mlp::{evaluate, Mlp, MlpConfig, MlpLearner};
use manifold_train::{run_epoch, Evaluation, Learner};

fn curve<B: AutodiffBackend>(config: &MlpConfig, data: &Mnist) -> (Vec<f64>, Evaluation) {
    let device = B::Device::default();
    let test = data.test.take(2000);
    let model = Mlp::<B>::new(config, &device);
    let mut learner = MlpLearner::new(model, config, data, &device);
    let mut losses = Vec::new();
    for epoch in 0..config.epochs {
        run_epoch(&mut learner, epoch).unwrap();
        losses.push(learner.epoch_loss_sum() / learner.batches() as f64);
    }
    (losses, evaluate(&learner.model().valid(), &test, &device))
}

/// Two backends training the same network from the same start: f32 rounding differs
/// from the first step and training amplifies it, so the epochs' losses agree to 1% and
/// the accuracies to half a point, not to the bit; a wrong kernel misses by far more.
#[allow(dead_code)]
fn assert_agree(name: &str, a: &(Vec<f64>, Evaluation), b: &(Vec<f64>, Evaluation)) {
    for (x, y) in a.0.iter().zip(&b.0) {
        assert!(
            (x - y).abs() / x < 0.01,
            "{name}: epoch losses {:?} vs {:?}",
            a.0,
            b.0
        );
    }
    assert!(
        (a.1.accuracy.unwrap() - b.1.accuracy.unwrap()).abs() <= 0.005,
        "{name}: accuracy {:?} vs {:?}",
        a.1,
        b.1
    );
    assert!(
        (a.1.loss - b.1.loss).abs() / a.1.loss < 0.02,
        "{name}: test loss {:?} vs {:?}",
        a.1,
        b.1
    );
}

fn config() -> MlpConfig {
    MlpConfig::new()
        .with_epochs(2)
        .with_train_limit(5000)
        .with_seed(11)
}

type Ndarray = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

#[test]
fn ndarray_learns_the_subset() {
    let data = Mnist::load_default(None).unwrap();
    let (losses, eval) = curve::<Ndarray>(&config(), &data);
    assert!(losses[1] < losses[0], "{losses:?}");
    assert!(eval.accuracy.unwrap() > 0.6, "{eval:?}");
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_agrees_with_ndarray() {
    let data = Mnist::load_default(None).unwrap();
    let a = curve::<Ndarray>(&config(), &data);
    let b = curve::<burn::backend::Autodiff<burn_wgpu::Wgpu<f32, i32>>>(&config(), &data);
    eprintln!("ndarray {a:?}\nwgpu    {b:?}");
    assert_agree("wgpu", &a, &b);
}

#[cfg(feature = "flex")]
#[test]
fn flex_agrees_with_ndarray() {
    let data = Mnist::load_default(None).unwrap();
    let a = curve::<Ndarray>(&config(), &data);
    let b = curve::<burn::backend::Autodiff<burn_flex::Flex>>(&config(), &data);
    eprintln!("ndarray {a:?}\nflex    {b:?}");
    assert_agree("flex", &a, &b);
}
