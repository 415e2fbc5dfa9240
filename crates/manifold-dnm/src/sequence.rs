//! Reading an input through the network: one pass for the one-shot tasks, one pass per
//! time step with carry neurons for the sequence tasks ([`read`]).
//!
//! ```text
//! one-shot:      y = net(x)
//! sequence:      s_0 = 0 (k carry values)
//!                o_t = net([x_t, s_{t−1}])          x_t = step t's inputs, t = 1 … T
//!                s_t = tanh(o_t[m .. m + k])       the carry outputs, squashed
//!                y   = o_T[0 .. m]                 m = 10 classes (row-MNIST), 1 (adding)
//! ```
//!
//! Row-MNIST reads an image row per step (T = 28, 28 pixels); the adding problem one
//! (value, marker) pair per step (T = `adding_length`, or the input's own length: the
//! training sequences of a curriculum are shorter).
//!
//! With LSTM neurons ([`crate::Neuron::Lstm`]) every pass also reads and writes the comps'
//! cell states: the pass maps `[input | c_{t−1}]` to `[outputs | c_t]`, `c_0 = 0`; a
//! one-shot task is one such pass from `c = 0`.
//!
//! `D` (or its kept cells) is computed once per step and every time step's pass reads it,
//! so the gradient of a weight is the sum over time steps (back-propagation through
//! time, by autodiff over the repeated fused pass). With `bptt_steps = w > 0` the carry
//! and cell states are detached after steps w, 2w, …: the gradient reaches back at most
//! w steps from the loss (truncated BPTT).

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::config::{DnmConfig, Neuron};

/// The outputs the head reads (`[n, classes]`) for inputs `x` (`[n, inputs]`, or
/// `[n, steps · inputs per step]` sequences: `[n, 784]` images for row-MNIST, `[n, 2T]`
/// for the adding problem), where `pass` is one pass of the network
/// (`[n, inputs] → [n, outputs]`; with LSTM neurons `[n, inputs + comps] →
/// [n, outputs + comps]`, the cell states appended).
pub fn read<B: Backend>(
    config: &DnmConfig,
    x: Tensor<B, 2>,
    pass: impl FnMut(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Tensor<B, 2> {
    read_observed(config, x, pass, |_, _| {})
}

/// [`read`], handing `observe` the state after every time step: the carry state `s_t`
/// (`[n, carry]`, `[n, 0]` without carry neurons) and, with LSTM neurons, the comps'
/// cell states `c_t` (`[n, comps]`). A one-shot task is one step.
pub fn read_observed<B: Backend>(
    config: &DnmConfig,
    x: Tensor<B, 2>,
    mut pass: impl FnMut(Tensor<B, 2>) -> Tensor<B, 2>,
    mut observe: impl FnMut(&Tensor<B, 2>, Option<&Tensor<B, 2>>),
) -> Tensor<B, 2> {
    let [n, _] = x.dims();
    let device = x.device();
    let (outputs, comps) = (config.outputs, config.comps());
    // The comps' cell states with LSTM neurons, appended to every pass's input.
    let mut cells =
        (config.neuron == Neuron::Lstm).then(|| Tensor::<B, 2>::zeros([n, comps], &device));
    let mut step = |input: Tensor<B, 2>, cells: &mut Option<Tensor<B, 2>>| match cells.take() {
        None => pass(input),
        Some(c) => {
            let out = pass(Tensor::cat(vec![input, c], 1));
            *cells = Some(out.clone().slice([0..n, outputs..outputs + comps]));
            out.slice([0..n, 0..outputs])
        }
    };
    let (k, classes) = (config.carry, config.classes());
    let mut state = Tensor::<B, 2>::zeros([n, k], &device);
    let Some((_, width)) = config.sequence() else {
        let out = step(x, &mut cells);
        observe(&state, cells.as_ref());
        return out;
    };
    // The input's own length: a curriculum's training sequences are shorter than the
    // task's.
    let steps = x.dims()[1] / width;
    let mut last = None;
    for t in 0..steps {
        let row = x.clone().slice([0..n, t * width..(t + 1) * width]);
        let input = if k > 0 {
            Tensor::cat(vec![row, state.clone()], 1)
        } else {
            row
        };
        let out = step(input, &mut cells);
        if k > 0 {
            state = out.clone().slice([0..n, classes..classes + k]).tanh();
        }
        // Truncated back-propagation through time: the states leave the graph.
        if config.bptt_steps > 0 && (t + 1) % config.bptt_steps == 0 {
            state = state.detach();
            cells = cells.map(Tensor::detach);
        }
        observe(&state, cells.as_ref());
        last = Some(out);
    }
    last.expect("a sequence has time steps")
        .slice([0..n, 0..classes])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Task;
    use burn::backend::Autodiff;
    use burn::tensor::{ElementConversion, TensorData};

    type B = burn_ndarray::NdArray<f32>;

    /// With a pass that is linear and hand-written, the state and the output follow the
    /// recurrence by hand: one carry neuron that adds the row's first pixel to the
    /// squashed state, and a class output that reads the carry output.
    #[test]
    fn the_carry_follows_the_recurrence_by_hand() {
        let device = Default::default();
        let config = DnmConfig::new()
            .with_task(Task::RowMnist)
            .with_carry(1)
            .with_inputs(29)
            .with_outputs(11);
        let pixels: Vec<f32> = (0..784)
            .map(|p| {
                if p % 28 == 0 {
                    0.1 * (p / 28) as f32
                } else {
                    9.0
                }
            })
            .collect();
        let x = Tensor::<B, 2>::from_data(TensorData::new(pixels, [1, 784]), &device);
        let (mut seen, mut observed) = (Vec::new(), Vec::new());
        let y = read_observed(
            &config,
            x,
            |input: Tensor<B, 2>| {
                let v: Vec<f64> = input.clone().into_data().convert::<f64>().to_vec().unwrap();
                assert_eq!(v.len(), 29);
                seen.push(v[28]);
                // outputs 0..10 = carry input; output 10 (the carry) = pixel 0 + carry input.
                let c = input.clone().slice([0..1, 28..29]);
                let p = input.slice([0..1, 0..1]);
                Tensor::cat(vec![c.clone().repeat_dim(1, 10), p + c], 1)
            },
            |state, cells| {
                assert!(cells.is_none(), "plain neurons keep no cell state");
                observed.push(state.clone().into_scalar().elem::<f64>());
            },
        );
        // What the observer saw after step t is what the carry input reads at t + 1.
        assert_eq!(observed.len(), 28);
        for t in 0..27 {
            assert!((observed[t] - seen[t + 1]).abs() < 1e-6, "step {t}");
        }
        let last = (0.1 * 27.0 + seen[27]).tanh();
        assert!(
            (observed[27] - last).abs() < 1e-6,
            "{} against {last}",
            observed[27]
        );
        let mut s = 0.0f64;
        for (t, &got) in seen.iter().enumerate() {
            assert!(
                (got - s).abs() < 1e-6,
                "step {t}: carry in {got}, by hand {s}"
            );
            s = (0.1 * t as f64 + s).tanh();
        }
        let y: Vec<f64> = y.into_data().convert::<f64>().to_vec().unwrap();
        assert_eq!(y.len(), 10);
        assert!((y[0] - seen[27]).abs() < 1e-6);
    }

    /// With the pass `carry ← pixel 0 + carry` (as above), the answer is a sum over all
    /// 28 rows' first pixels, each squashed; its gradient reaches every row under full
    /// BPTT and only the last `bptt_steps` rows when truncated.
    #[test]
    fn truncated_bptt_cuts_the_gradient_after_its_window() {
        type A = Autodiff<B>;
        let device = Default::default();
        let reached = |bptt: usize| {
            let config = DnmConfig::new()
                .with_task(Task::RowMnist)
                .with_carry(1)
                .with_inputs(29)
                .with_outputs(11)
                .with_bptt_steps(bptt);
            let x =
                Tensor::<A, 2>::from_data(TensorData::new(vec![0.05f32; 784], [1, 784]), &device)
                    .require_grad();
            let y = read(&config, x.clone(), |input| {
                let c = input.clone().slice([0..1, 28..29]);
                let p = input.slice([0..1, 0..1]);
                Tensor::cat(vec![c.clone().repeat_dim(1, 10), p + c], 1)
            });
            let grads = y.sum().backward();
            let g: Vec<f32> = x.grad(&grads).unwrap().into_data().to_vec().unwrap();
            // The rows whose first pixel the answer's gradient reaches.
            (0..28).filter(|t| g[t * 28] != 0.0).collect::<Vec<usize>>()
        };
        // The answer reads the carry input of the last step: the state after row 26.
        assert_eq!(reached(0), (0..27).collect::<Vec<_>>());
        // Detached after rows 4, 9, …, 24 (0-based): rows 25 and 26 remain.
        assert_eq!(reached(5), [25, 26]);
        assert!(DnmConfig::seed_toy()
            .with_bptt_steps(3)
            .validate()
            .unwrap_err()
            .to_string()
            .contains("bptt_steps"));
    }
}
