//! The topology experiment: the same SET-MLP trained with and without a weight penalty
//! over several seeds, comparing how the input layer's connections spread over the
//! image (the centre/margin ratio of [`crate::stats`]).

use std::path::Path;

use crate::kernels::SetAutodiffBackend;
use burn::module::AutodiffModule;
use manifold_data::Mnist;
use manifold_train::{run_epoch, write_json, TrainError};
use manifold_viz::{heatmap, line_chart, write_gif, Figure, Panel, Scale, Series};
use serde::Serialize;

use crate::stats::{centre_margin_ratio, square_trend};
use crate::topology::connections_per_input;
use crate::train::{evaluate, SetLearner};
use crate::{ComputePath, SetConfig, SetMlp};

/// One run of the experiment: the input-connection counts after every epoch and the
/// final test accuracy.
pub type Trace = (Vec<Vec<f32>>, f64);

/// `topology.json`: both configs, per-seed ratios and accuracies, and the trend curves.
#[derive(Debug, Serialize)]
pub struct TopologyReport {
    /// The run without the penalty.
    pub config_without: SetConfig,
    /// The run with the penalty.
    pub config_with: SetConfig,
    /// Seeds run.
    pub seeds: Vec<u64>,
    /// Centre/margin ratio per seed without the penalty.
    pub ratio_without: Vec<f64>,
    /// Centre/margin ratio per seed with the penalty.
    pub ratio_with: Vec<f64>,
    /// Their mean without the penalty.
    pub mean_ratio_without: f64,
    /// Their mean with the penalty.
    pub mean_ratio_with: f64,
    /// Test accuracy per seed without the penalty.
    pub test_accuracy_without: Vec<f64>,
    /// Test accuracy per seed with the penalty.
    pub test_accuracy_with: Vec<f64>,
    /// Mean connections per pixel in centred squares (side, mean), seed mean, without.
    pub trend_without: Vec<(f64, f64)>,
    /// The same with the penalty.
    pub trend_with: Vec<(f64, f64)>,
}

/// The experiment's network without a penalty: hidden widths `hidden`, Erdős–Rényi
/// `epsilon`, `zeta`, `epochs`, a constant learning rate, no dropout, the masked path.
pub fn base_config(hidden: Vec<usize>, epsilon: f64, zeta: f64, epochs: usize) -> SetConfig {
    SetConfig::new()
        .with_hidden(hidden)
        .with_epsilon(epsilon)
        .with_zeta(zeta)
        .with_epochs(epochs)
        .with_lr_step(0)
        .with_dropout(0.0)
        .with_path(ComputePath::Masked)
}

/// [`trace`] of every config, with a progress bar over all their epochs.
pub fn traces<B: SetAutodiffBackend>(
    configs: &[SetConfig],
    data: &Mnist,
    device: &B::Device,
) -> Vec<Trace> {
    let epochs = configs.iter().map(|c| c.epochs as u64).sum();
    let bar = manifold_train::progress_bar(epochs, "set-topology");
    let traces = configs
        .iter()
        .map(|c| trace::<B>(c, data, device, || bar.inc(1)))
        .collect();
    bar.finish_and_clear();
    traces
}

/// Trains `config` (its own loop over the crate's epoch and evolution steps), recording
/// the first layer's connections per input pixel after every epoch.
pub fn trace<B: SetAutodiffBackend>(
    config: &SetConfig,
    data: &Mnist,
    device: &B::Device,
    mut after_epoch: impl FnMut(),
) -> Trace {
    B::seed(device, config.seed);
    let model = SetMlp::<B>::new(config, device);
    let mut learner = SetLearner::new(model, config, data, device);
    let mut counts = Vec::new();
    for epoch in 0..config.epochs {
        run_epoch(&mut learner, epoch).expect("SET's steps do not fail");
        learner.evolve_if_due(epoch);
        let first = &learner.model().layers[0];
        counts.push(connections_per_input(&first.connections().rows, first.n_in));
        after_epoch();
    }
    let eval = evaluate(&learner.model().valid(), &data.test, config.path, device);
    (counts, eval.accuracy.unwrap_or(f64::NAN))
}

/// The report of runs `traces` (without, with, for each seed in turn) on a
/// `side × side` image.
pub fn report(
    without: SetConfig,
    with: SetConfig,
    seeds: &[u64],
    traces: &[Trace],
    side: usize,
) -> TopologyReport {
    let last = |i: usize| traces[i].0.last().cloned().unwrap_or_default();
    let ratios = |off: usize| -> Vec<f64> {
        (0..seeds.len())
            .map(|s| centre_margin_ratio(&last(2 * s + off), side))
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mean_counts = |off: usize| -> Vec<f32> {
        let mut m = vec![0.0f32; side * side];
        for s in 0..seeds.len() {
            for (a, b) in m.iter_mut().zip(last(2 * s + off)) {
                *a += b / seeds.len() as f32;
            }
        }
        m
    };
    let (ratio_without, ratio_with) = (ratios(0), ratios(1));
    TopologyReport {
        config_without: without,
        config_with: with,
        seeds: seeds.to_vec(),
        mean_ratio_without: mean(&ratio_without),
        mean_ratio_with: mean(&ratio_with),
        ratio_without,
        ratio_with,
        test_accuracy_without: (0..seeds.len()).map(|s| traces[2 * s].1).collect(),
        test_accuracy_with: (0..seeds.len()).map(|s| traces[2 * s + 1].1).collect(),
        trend_without: square_trend(&mean_counts(0), side),
        trend_with: square_trend(&mean_counts(1), side),
    }
}

/// Writes `topology.json`, `heatmaps.png` (rows: the `snapshots` epochs, 1-based; left
/// without, right with the penalty; seed 0; captioned panels, pixel axes and a colour
/// bar of connections per pixel), `evolution.gif` (every epoch side by side, the same
/// figure) and `trend.png` into `out`.
pub fn write(
    out: &Path,
    report: &TopologyReport,
    traces: &[Trace],
    snapshots: &[usize],
    penalty: &str,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, "cannot create", e))?;
    write_json(&out.join("topology.json"), report)?;
    let side = 28;
    let (a, b) = (&traces[0].0, &traces[1].0);
    let all: Vec<f32> = a.iter().chain(b).flatten().copied().collect();
    let scale = Scale::sequential_for(&all);
    // Epoch `epoch` (1-based) of both runs side by side, captioned.
    let pair = |epoch: usize| -> Vec<Panel> {
        [(a, "no penalty"), (b, penalty)]
            .into_iter()
            .filter_map(|(run, name)| {
                let counts = run.get(epoch.checked_sub(1)?)?;
                Some(Panel::new(
                    format!("epoch {epoch} · {name}"),
                    heatmap(counts, side, side, 8, scale),
                ))
            })
            .collect()
    };
    let seed = report.seeds.first().copied().unwrap_or_default();
    let title = format!("SET first-layer connections per pixel (seed {seed})");
    let figure = |panels: Vec<Panel>| {
        Figure::new(title.as_str(), panels)
            .with_columns(2)
            .with_axes("pixel column", "pixel row", side, side)
            .with_colour_bar(scale, "connections per pixel")
    };
    figure(snapshots.iter().flat_map(|&e| pair(e)).collect()).save(&out.join("heatmaps.png"))?;
    let frames: Vec<_> = (1..=a.len().min(b.len()))
        .map(|e| figure(pair(e)).render())
        .collect();
    write_gif(&out.join("evolution.gif"), &frames, 400)?;
    line_chart(
        &out.join("trend.png"),
        "mean connections per pixel in centred squares",
        "square side",
        "connections",
        &[
            Series::new("no penalty", report.trend_without.clone()),
            Series::new(penalty, report.trend_with.clone()),
        ],
    )?;
    Ok(())
}
