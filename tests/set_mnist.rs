//! SET-MLP accuracy floor on a subset of MNIST (ndarray), and the CLI's config errors.

use burn::backend::Autodiff;
use manifold_data::Mnist;
use manifold_set::experiment::trace;
use manifold_set::{ComputePath, SetConfig};

type B = Autodiff<burn_ndarray::NdArray<f32>>;

#[test]
fn small_set_mlp_learns_mnist_subset_and_keeps_its_connection_count() {
    let data = Mnist::load_default(None).expect("shipped MNIST");
    let config = SetConfig::new()
        .with_hidden(vec![100])
        .with_epsilon(10.0)
        .with_epochs(3)
        .with_train_limit(3000)
        .with_dropout(0.0)
        .with_lr_step(0)
        .with_path(ComputePath::Sparse);
    let dev = Default::default();
    let data = Mnist {
        train: data.train,
        test: data.test.take(1000),
    };
    let (per_pixel, accuracy) = trace::<B>(&config, &data, &dev, || {});
    let counts: Vec<f32> = per_pixel.iter().map(|c| c.iter().sum()).collect();
    assert_eq!(counts.len(), 3);
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "first-layer connection count changed: {counts:?}"
    );
    // Measured 62.5% for this seed and subset (3 short epochs at ε = 10); chance is 10%.
    assert!(accuracy > 0.55, "accuracy {accuracy}");
}

#[test]
fn impossible_zeta_is_a_one_line_error_naming_the_field() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(["train", "set", "--zeta", "1.5", "--out"])
        .arg(std::env::temp_dir().join("set-bad-zeta"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`zeta`"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
