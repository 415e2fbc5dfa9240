//! Timing the DNM's training step: [`time_steps`] runs [`crate::train_step`] on a fresh
//! network and reports the median step time, the structure reached and the process's
//! peak resident memory during the steps (Linux; the host side only, not GPU memory);
//! with `phases`, also the median time of each [`Phase`] of a step
//! ([`crate::profile`]).

use std::time::Instant;

use crate::kernels::DnmAutodiffBackend;
use manifold_train::memory::{peak_rss, reset_peak_rss};
use manifold_train::{median, ModelConfig, TrainError};
use serde::Serialize;

use crate::profile::{Phase, PhaseClock, PhaseTimes};
use crate::{adam, train_step_timed, Data, Dnm, DnmConfig, Grid, StepReport};

/// The timings of one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    /// Neurons N.
    pub neurons: usize,
    /// Computing neurons N − n_in − n_out.
    pub comps: usize,
    /// Grid cells, receivers × senders: what the closeness expression computes each step.
    pub grid_cells: usize,
    /// Minibatch size.
    pub batch: usize,
    /// `fast` or `reference`.
    pub evaluator: String,
    /// Comp-graph depth at the last step.
    pub depth: usize,
    /// Density at the last step.
    pub density: f64,
    /// Kept connections at the last step (density × allowed cells).
    pub kept: usize,
    /// Cells the closeness pass visits (kept or not) after the last step, where the fast
    /// evaluator runs it over the kept cells ([`Dnm::kept`]); `None` where the whole grid
    /// is computed (the reference evaluator, or a backend without those kernels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visited: Option<usize>,
    /// Every timed step, in milliseconds.
    pub step_ms: Vec<f64>,
    /// Their median.
    pub median_step_ms: f64,
    /// Peak resident memory of the process during the steps (warm-up included), in bytes.
    pub peak_rss_bytes: Option<u64>,
    /// With `phases`: each [`Phase`]'s median milliseconds, in step order (the device
    /// waited for after each, so on a GPU the step is slower than without).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase_ms: Option<Vec<(Phase, f64)>>,
}

/// Runs `warmup` untimed and then `steps` timed steps of [`crate::train_step_timed`] on a fresh
/// network (the backend seeded with 0), waiting for the device after each. The config
/// is validated first, its memory estimate included, so an impossible size is an error
/// naming the field rather than an abort. With `phases`, each step also waits for the
/// device after every [`Phase`] and the report carries their medians.
pub fn time_steps<B: DnmAutodiffBackend>(
    config: &DnmConfig,
    data: &Data,
    steps: usize,
    warmup: usize,
    phases: bool,
    device: &B::Device,
) -> Result<StepTiming, TrainError> {
    ModelConfig::validate(config)?;
    config.check_data(data)?;
    reset_peak_rss();
    B::seed(device, 0);
    let grid = Grid::<B>::of(config, device);
    let mut model = Dnm::<B>::new(config, device);
    let mut optim = adam::<B>(config);
    let mut times = Vec::with_capacity(steps);
    let mut split: Vec<PhaseTimes> = Vec::with_capacity(steps);
    let mut last = StepReport::default();
    for step in 0..warmup + steps {
        let t = Instant::now();
        let mut clock = if phases {
            PhaseClock::on(device)
        } else {
            PhaseClock::off()
        };
        // As in training: the structure read afresh at the first and the last step.
        let earlier = (step > 0 && step + 1 < warmup + steps).then(|| last.structure());
        let (m, r) = train_step_timed(
            model, &mut optim, config, &grid, data, step, 0.0, earlier, device, &mut clock,
        )
        .map_err(|(_, e)| failed(e))?;
        B::sync(device).map_err(|e| failed(format!("the device failed: {e:?}")))?;
        model = m;
        last = r;
        if step >= warmup {
            times.push(t.elapsed().as_secs_f64() * 1e3);
            split.push(clock.times());
        }
    }
    let phase_ms = phases.then(|| {
        Phase::ALL
            .iter()
            .enumerate()
            .map(|(k, &p)| (p, median(&split.iter().map(|t| t[k]).collect::<Vec<_>>())))
            .collect()
    });
    let visited = model
        .kept_for(&grid, config)
        .map(|kept| kept.pattern.visits.iter().map(Vec::len).sum());
    let comps = config.comps();
    Ok(StepTiming {
        neurons: config.neurons,
        comps,
        grid_cells: grid.rows() * grid.cols(),
        batch: config.batch_size,
        evaluator: format!("{:?}", config.evaluator).to_lowercase(),
        depth: last.depth,
        density: last.density,
        kept: (last.density * grid.max_cells() as f64).round() as usize,
        visited,
        median_step_ms: median(&times),
        step_ms: times,
        peak_rss_bytes: peak_rss(),
        phase_ms,
    })
}

fn failed(problem: impl ToString) -> TrainError {
    TrainError {
        where_: "dnm bench".into(),
        problem: problem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Evaluator;

    type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

    /// The fast evaluator reports how many cells its closeness pass visits: every kept
    /// cell, and under `best-toy`'s soft surrogate (its tail reaches below 0) every
    /// allowed cell, `(N² − n_in² − n_out² − n_comp)/2` = 284 of the 20 × 21 grid; the
    /// reference evaluator computes the whole grid and reports none.
    #[test]
    fn the_fast_evaluator_reports_the_cells_it_visits() {
        let device = Default::default();
        let config = DnmConfig::preset("best-toy").expect("preset");
        let fast = time_steps::<B>(&config, &Data::Toy, 1, 0, false, &device).expect("steps");
        assert_eq!(fast.grid_cells, 20 * 21);
        assert_eq!(fast.visited, Some(284));
        assert!(fast.kept > 0 && fast.kept < 284, "{} kept", fast.kept);
        let reference = config.with_evaluator(Evaluator::Reference);
        let slow = time_steps::<B>(&reference, &Data::Toy, 1, 0, false, &device).expect("steps");
        assert_eq!(slow.visited, None);
    }
}
