//! The state a sequence task keeps over time, for one test sequence: what the carry
//! neurons send to the next step and, with LSTM neurons, the comps' cell states
//! ([`trace`]), drawn as `state-over-time.png` ([`write_state_picture`]).
//!
//! ```text
//! x_t  step t's inputs (a row of 28 pixels, or a (value, marker) pair)
//! s_t  = tanh(carry outputs of step t)      what carry input q reads at step t + 1
//! c_t  the comps' cell states after step t  (drawn as tanh(c_t), the value the output
//!                                            gate scales)
//! ```

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};
use manifold_train::TrainError;
use manifold_viz::{heatmap_cells, Figure, Panel, Scale};

use crate::config::{DnmConfig, Neuron, Task};
use crate::kernels::DnmBackend;
use crate::model::{head, Dnm};
use crate::train::Data;
use crate::Grid;

/// The picture's file name inside a run directory.
pub const STATE_PICTURE: &str = "state-over-time.png";

/// One sequence read through a trained network, step by step.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTrace {
    /// Time steps T.
    pub steps: usize,
    /// Inputs per step (without the carry inputs).
    pub width: usize,
    /// The inputs, `[T][width]` row-major.
    pub inputs: Vec<f32>,
    /// Carry neurons k.
    pub carry: usize,
    /// The carry state `s_t`, `[T][k]`.
    pub carry_state: Vec<f32>,
    /// Comps with a cell state (0 with plain neurons).
    pub cells: usize,
    /// The cell states `c_t`, `[T][cells]`.
    pub cell_state: Vec<f32>,
    /// What the head answers after the last step (logits, or the adding sum).
    pub answer: Vec<f32>,
}

/// Reads the one sequence `x` (`[1, T · width]`) through `model` under its current `D`,
/// keeping the carry state and the cell states of every step.
///
/// # Panics
/// If the config has no sequence task (a one-shot task keeps no state).
pub fn trace<B: DnmBackend>(model: &Dnm<B>, config: &DnmConfig, x: Tensor<B, 2>) -> StateTrace {
    let (steps, width) = config
        .sequence()
        .expect("a state trace needs a sequence task");
    let grid = Grid::<B>::of(config, &x.device());
    let inputs = values(&x);
    let pass = model.evaluator_pass(&grid);
    let (mut carry_state, mut cell_state) = (Vec::new(), Vec::new());
    let outputs = crate::sequence::read_observed(config, x, &pass, |s, c| {
        carry_state.extend(values(s));
        if let Some(c) = c {
            cell_state.extend(values(c));
        }
    });
    let answer = values(&head(outputs, config.head));
    StateTrace {
        steps,
        width,
        inputs,
        carry: config.carry,
        carry_state,
        cells: if config.neuron == Neuron::Lstm {
            config.comps()
        } else {
            0
        },
        cell_state,
        answer,
    }
}

/// A tensor's values, read to the host.
fn values<B: burn::tensor::backend::Backend>(t: &Tensor<B, 2>) -> Vec<f32> {
    t.clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 after the conversion")
}

/// Test sequence `index` of the config's task as `[T · width]` inputs, and what it
/// should give: its label (row-sequential MNIST) or its sum (the adding problem).
pub fn test_sequence(
    config: &DnmConfig,
    data: &Data,
    index: usize,
) -> Result<(Vec<f32>, f32), TrainError> {
    let out_of_range = |n: usize| {
        TrainError::config(
            "sequence",
            format!(
                "test sequence {index} does not exist: the test set has {n} (0 … {})",
                n - 1
            ),
        )
    };
    match (config.task, data) {
        (Task::RowMnist, Data::Mnist(m)) => {
            if index >= m.test.len() {
                return Err(out_of_range(m.test.len()));
            }
            // Row-sequential MNIST reads its images in raster order (the config check
            // refuses any other `pixel_order`).
            Ok((m.test.image(index).to_vec(), m.test.labels()[index] as f32))
        }
        (Task::Adding, _) => {
            let (x, y) = config
                .sequence_task()
                .expect("the adding task is a sequence task")
                .adding_test_set();
            if index >= y.len() {
                return Err(out_of_range(y.len()));
            }
            let width = x.len() / y.len();
            Ok((x[index * width..(index + 1) * width].to_vec(), y[index]))
        }
        _ => Err(TrainError::config(
            "task",
            "the state over time needs a sequence task (task = \"row-mnist\" or \"adding\")",
        )),
    }
}

/// `[T][units]` values as a `units × T` matrix (one row per unit, time along the row).
fn over_time(values: &[f32], steps: usize, units: usize) -> Vec<f32> {
    let mut m = vec![0.0; values.len()];
    for t in 0..steps {
        for u in 0..units {
            m[u * steps + t] = values[t * units + u];
        }
    }
    m
}

/// A `units × T` panel about 560 pixels wide and 200 high (at least a pixel a unit), so
/// that the figure's panels, stacked, are about the same height.
fn panel(title: String, values: &[f32], steps: usize, units: usize) -> Panel {
    let cell_w = (560 / steps as u32).clamp(1, 24);
    let cell_h = (200 / units as u32).clamp(1, 100);
    let m = over_time(values, steps, units);
    Panel::new(
        title,
        heatmap_cells(
            &m,
            units,
            steps,
            cell_w,
            cell_h,
            Scale::Diverging { max: 1.0 },
        ),
    )
}

/// Draws `trace` of test sequence `index` (whose target is `target`) as one figure: the
/// inputs, the carry state and the cell states, each a units × time heatmap on one
/// diverging scale from −1 to 1.
pub fn draw_state(
    trace: &StateTrace,
    config: &DnmConfig,
    index: usize,
    target: f32,
    path: &Path,
) -> Result<(), TrainError> {
    let t = trace.steps;
    let what = match config.task {
        Task::RowMnist => {
            let predicted = trace
                .answer
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(c, _)| c)
                .unwrap_or(0);
            format!("label {target}, predicted {predicted}")
        }
        _ => format!(
            "target sum {target:.3}, answer {:.3}",
            trace.answer.first().copied().unwrap_or(f32::NAN)
        ),
    };
    let input_rows = match config.task {
        Task::RowMnist => "pixel of the row",
        _ => "value, marker",
    };
    let mut panels = vec![panel(
        format!("inputs x_t ({} a step: {input_rows})", trace.width),
        &trace.inputs,
        t,
        trace.width,
    )];
    if trace.carry > 0 {
        panels.push(panel(
            format!(
                "carry state s_t = tanh(carry outputs), {} carry neurons; row q feeds carry input q at t + 1",
                trace.carry
            ),
            &trace.carry_state,
            t,
            trace.carry,
        ));
    }
    if trace.cells > 0 {
        let squashed: Vec<f32> = trace.cell_state.iter().map(|c| c.tanh()).collect();
        panels.push(panel(
            format!("LSTM cell states tanh(c_t), {} comps", trace.cells),
            &squashed,
            t,
            trace.cells,
        ));
    }
    Figure::new(
        format!("state over time: test sequence {index} ({what})"),
        panels,
    )
    .with_columns(1)
    .with_note(format!(
        "each panel: one row per unit, time steps 1 … {t} from left to right"
    ))
    .with_colour_bar(Scale::Diverging { max: 1.0 }, "value")
    .save(path)
    .map_err(|e| TrainError::new(path, e.to_string()))
}

/// Writes `state-over-time.png` into the run directory `dir`: test sequence `index` read
/// through `model`. Returns its path.
pub fn write_state_picture<B: DnmBackend>(
    dir: &Path,
    model: &Dnm<B>,
    config: &DnmConfig,
    data: &Data,
    index: usize,
    device: &B::Device,
) -> Result<PathBuf, TrainError> {
    let (x, target) = test_sequence(config, data, index)?;
    let n = x.len();
    let x = Tensor::<B, 2>::from_data(TensorData::new(x, [1, n]), device);
    let trace = trace(model, config, x);
    let path = dir.join(STATE_PICTURE);
    draw_state(&trace, config, index, target, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn_ndarray::NdArray<f32>;

    /// The adding problem at T = 6 with 2 carry neurons and 5 LSTM comps.
    fn small() -> DnmConfig {
        DnmConfig::adding_t100()
            .with_adding_length(6)
            .with_carry(2)
            .with_inputs(manifold_data::ADDING_FEATURES + 2)
            .with_outputs(1 + 2)
            .with_comps(5)
    }

    /// The trace's answer is the evaluator's; it keeps T steps of k carry values in
    /// (−1, 1) and of the comps' cells, and the inputs it shows are the sequence's.
    #[test]
    fn a_trace_keeps_every_step_and_answers_as_the_evaluator() {
        let device = Default::default();
        let config = small();
        assert_eq!(config.neuron, Neuron::Lstm);
        let model = Dnm::<B>::new(&config, &device);
        let (x, _) = test_sequence(&config, &Data::Adding, 3).unwrap();
        assert_eq!(x.len(), 12);
        let xt = Tensor::<B, 2>::from_data(TensorData::new(x.clone(), [1, 12]), &device);
        let trace = trace(&model, &config, xt.clone());
        assert_eq!(
            (trace.steps, trace.width, trace.carry, trace.cells),
            (6, 2, 2, 5)
        );
        assert_eq!(trace.inputs, x);
        assert_eq!(trace.carry_state.len(), 12);
        assert_eq!(trace.cell_state.len(), 30);
        assert!(trace.carry_state.iter().all(|s| s.abs() < 1.0));
        let grid = Grid::<B>::of(&config, &device);
        let logits: Vec<f32> = model.fast_evaluator(&grid, &config)(xt)
            .into_data()
            .to_vec()
            .unwrap();
        assert_eq!(trace.answer, logits);
    }

    #[test]
    fn a_test_sequence_out_of_range_names_the_field_and_the_size() {
        let err = test_sequence(&small(), &Data::Adding, 10_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`sequence`") && err.contains("has 10000 (0 … 9999)"),
            "{err}"
        );
        let one_shot = DnmConfig::seed_toy();
        let err = test_sequence(&one_shot, &Data::Toy, 0)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`task`") && err.contains("sequence task"),
            "{err}"
        );
    }

    #[test]
    fn the_picture_is_written_as_a_png() {
        let device = Default::default();
        let config = small();
        let model = Dnm::<B>::new(&config, &device);
        let dir = tempfile::tempdir().unwrap();
        let path =
            write_state_picture(dir.path(), &model, &config, &Data::Adding, 0, &device).unwrap();
        assert_eq!(path, dir.path().join(STATE_PICTURE));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}
