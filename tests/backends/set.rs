//! The two compute paths agree on wgpu (lavapipe); small sizes.
#![cfg(feature = "wgpu")]

use burn::backend::Autodiff;
use burn::tensor::{Tensor, TensorData};
use manifold_set::{ComputePath, SetConfig, SetMlp};

type B = Autodiff<burn_wgpu::Wgpu<f32, i32>>;

#[test]
fn sparse_and_masked_agree_on_wgpu() {
    let dev = Default::default();
    let config = SetConfig::new()
        .with_inputs(12)
        .with_hidden(vec![8])
        .with_classes(3)
        .with_density(0.4)
        .with_dropout(0.0);
    let model = SetMlp::<B>::new(&config, &dev);
    let x: Vec<f32> = (0..48)
        .map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.5)
        .collect();
    let x = Tensor::<B, 2>::from_data(TensorData::new(x, [4, 12]), &dev);
    let labels = manifold_train::labels_tensor::<B>(&[0, 1, 2, 1], &dev);
    let mut outs = Vec::new();
    for path in [ComputePath::Sparse, ComputePath::Masked] {
        let logits: Vec<f32> = model
            .forward(x.clone(), path)
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap();
        let grads = model.loss(x.clone(), labels.clone(), path).backward();
        let g: Vec<f32> = model.layers[0]
            .weights
            .grad(&grads)
            .unwrap()
            .into_data()
            .convert::<f32>()
            .to_vec()
            .unwrap();
        outs.push((logits, g));
    }
    for (a, b) in [(&outs[0].0, &outs[1].0), (&outs[0].1, &outs[1].1)] {
        assert!(a.iter().any(|v| *v != 0.0));
        for (x, y) in a.iter().zip(b) {
            // The two paths add ≤ 784 f32 products in different orders: each sum is off by
            // at most n·ε·Σ|terms| ≈ 784 · 6e-8 ≈ 5e-5 of its scale (≈ 1 + |x| here).
            assert!((x - y).abs() < 1e-4 * (1.0 + x.abs()), "{x} vs {y}");
        }
    }
}
