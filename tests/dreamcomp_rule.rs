//! DreamComp on ndarray: the update rule against hand-computed values, an accuracy
//! floor on a subset of MNIST, and bad inputs rejected with one-line messages.

use std::process::Command;

use burn::tensor::backend::Backend;
use manifold_data::Mnist;
use manifold_dreamcomp::{evaluate, train_epoch, DreamComp, DreamCompConfig, Progress, Trainer};

#[path = "common/dreamcomp_hand.rs"]
mod hand;

type B = burn_ndarray::NdArray<f32>;

#[test]
fn one_step_matches_hand_computation() {
    hand::hand_example::<B>();
}

#[test]
fn semi_supervised_keeps_the_requested_share_of_labels() {
    let c = DreamCompConfig::new().with_label_fraction(0.01);
    let t = Trainer::<B>::new(&c, 60_000, &Default::default());
    assert_eq!(t.labelled_count(), 600);
}

/// K = 100, 2 epochs over 6 000 training images: test accuracy on 2 000 images.
#[test]
fn learns_mnist_subset_above_floor() {
    let data = Mnist::load_default(None).expect("MNIST");
    let train = data.train.take(6_000);
    let test = data.test.take(2_000);
    let dev = Default::default();
    let c = DreamCompConfig::new()
        .with_neurons(100)
        .with_xi(0.006)
        .with_c_xi(0.05);
    B::seed(&dev, 0);
    let mut model = DreamComp::<B>::new(100, &dev);
    let trainer = Trainer::<B>::new(&c, train.len(), &dev);
    for epoch in 0..2 {
        let p = Progress {
            epoch,
            ..Default::default()
        };
        model = train_epoch(model, &trainer, &train, p, || {}).model;
    }
    let acc = evaluate(&model, &test, 0, &dev);
    assert!(acc > 0.80, "test accuracy {acc}");
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_manifold"))
        .args(args)
        .output()
        .expect("run manifold");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn bad_inputs_are_one_line_errors() {
    for (args, needle) in [
        (vec!["--preset", "k7"], "unknown preset `k7`"),
        (vec!["--label-fraction", "0"], "label_fraction"),
        (vec!["--neurons", "0"], "neurons"),
        (vec!["--xi=-1"], "xi"),
        (vec!["--set", "bogus=1"], "unknown config field `bogus`"),
    ] {
        let mut full = vec!["train", "dreamcomp"];
        full.extend(args);
        let (code, err) = run(&full);
        assert_ne!(code, 0, "{full:?} should fail");
        assert!(err.contains(needle), "{full:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{full:?}: {err}");
    }
}

/// Semi-supervised, K = 400, 5% of 10 000 training images labelled, 4 epochs: dreaming
/// starts after one epoch and the network learns (measured 48% on the full test set).
/// Dreaming from the first batch instead collapsed to one class (11.5%).
#[test]
fn semi_supervised_does_not_collapse_to_one_class() {
    let data = Mnist::load_default(None).expect("MNIST");
    let train = data.train.take(10_000);
    let dev = Default::default();
    let c = DreamCompConfig::new().with_label_fraction(0.05);
    B::seed(&dev, 0);
    let trainer = Trainer::<B>::new(&c, train.len(), &dev);
    let mut model = trainer.initial(DreamComp::<B>::new(400, &dev));
    for epoch in 0..4 {
        let p = Progress {
            epoch,
            ..Default::default()
        };
        model = train_epoch(model, &trainer, &train, p, || {}).model;
    }
    let acc = evaluate(&model, &data.test, 0, &dev);
    assert!(
        acc > 0.35,
        "test accuracy {acc} (one class would give ≈ 0.1)"
    );
}
