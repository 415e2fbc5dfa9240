//! DreamComp on wgpu (lavapipe on CPUs): the hand-computed update step and a tiny
//! training run that must agree with ndarray on accuracy.
#![cfg(feature = "wgpu")]

use burn::tensor::{backend::Backend, Tensor};
use manifold_data::Mnist;
use manifold_dreamcomp::rule::{step, synapse_rows};
use manifold_dreamcomp::{evaluate, train_epoch, DreamComp, DreamCompConfig, Progress, Trainer};

type W = burn_wgpu::Wgpu<f32, i32>;

#[test]
fn one_step_matches_hand_computation_on_wgpu() {
    let dev = Default::default();
    let m = |v: [f32; 12]| Tensor::<W, 1>::from_floats(v.as_slice(), &dev).reshape([3, 4]);
    let w = m([1.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.0, 0.2, 0.0, 0.0, 1.0, 0.5]);
    let v = m([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 1.0]);
    let (xi, inv_zeta) = synapse_rows::<W>(3, 1, 0.1, 0.2, 2.0, &dev);
    let got = step(w, v, xi, inv_zeta)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap();
    let want = [
        0.9, 0.0, 0.0, 1.025, 0.0, 0.575, 0.0, 0.19, 0.0, 0.0, 1.0, 0.5,
    ];
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-5,
            "w[{}][{}] = {g}, expected {w}",
            i / 4,
            i % 4
        );
    }
}

/// K = 25, one supervised epoch over 2 000 images, 500 test images.
#[test]
fn small_training_run_on_wgpu() {
    let data = Mnist::load_default(None).expect("MNIST");
    let train = data.train.take(2_000);
    let test = data.test.take(500);
    let dev = Default::default();
    let c = DreamCompConfig::new()
        .with_neurons(25)
        .with_xi(0.01)
        .with_c_xi(0.1);
    W::seed(&dev, 0);
    let model = DreamComp::<W>::new(25, &dev);
    let trainer = Trainer::<W>::new(&c, train.len(), &dev);
    let model = train_epoch(model, &trainer, &train, Progress::default(), || {}).model;
    let acc = evaluate(&model, &test, 0, &dev);
    assert!(acc > 0.45, "test accuracy {acc}");
}
