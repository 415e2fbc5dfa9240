//! The DNM module: trainable closeness parameters per receiver, `w`, `b` per sender,
//! and the two evaluation orders of the signal flow.
//!
//! ```text
//! input j: o_j = x_j
//! comp i (increasing i): o_i = Σ_{j<i} D_ij · leaky_relu(w_j·o_j + b_j)   (slope 0.2)
//! output i:              o_i = Σ_j     D_ij · (w_j·o_j + b_j)
//! head: logits = o² (square, the original) or o (identity)
//! ```

use burn::module::{Module, Param};
use burn::tensor::activation::leaky_relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use std::sync::Arc;

use manifold_kernels::floats::Floats;

use crate::closeness::{closeness, density_surrogate, Closeness, Grid, RawShape};
use crate::config::{DnmConfig, Evaluator, Head, Neuron, Precision};
use crate::kernels::{DnmBackend, Pattern};
use crate::placement::{gaussians, sender_init};

/// Negative slope of the comps' leaky ReLU.
pub const LEAK: f64 = 0.2;

/// The trainable parameters of a DNM.
#[derive(Module, Debug)]
pub struct Dnm<B: Backend> {
    /// Per receiver (`[R]`): amplitude/sign, raw.
    pub alpha: Param<Tensor<B, 1>>,
    /// Per receiver: power of the sine part, raw (`β' = β + 1`).
    pub beta: Param<Tensor<B, 1>>,
    /// Per receiver: vertical shift, raw (`γ' = σ(γ)`).
    pub gamma: Param<Tensor<B, 1>>,
    /// Per receiver: period multiplier, raw (`θ' = softplus(θ)/ln 2`).
    pub theta: Param<Tensor<B, 1>>,
    /// Per receiver: phase.
    pub phi: Param<Tensor<B, 1>>,
    /// Per receiver: gaussian width, raw (`σ' = softplus(σ)`).
    pub sigma: Param<Tensor<B, 1>>,
    /// Per receiver: gaussian centre.
    pub mu: Param<Tensor<B, 1>>,
    /// Global cutoff, raw (`c = sigmoid(κ)`), `[1]`.
    pub kappa: Param<Tensor<B, 1>>,
    /// Per sender (`[C]`): weight.
    pub w: Param<Tensor<B, 1>>,
    /// Per sender: bias.
    pub b: Param<Tensor<B, 1>>,
    /// Per comp (`[n_comp, 6]`), with LSTM neurons only: the gates' weights and biases
    /// `w_ι b_ι w_f b_f w_ω b_ω` ([`crate::kernels::lstm`]).
    pub gates: Option<Param<Tensor<B, 2>>>,
}

/// The gates of `comps` LSTM neurons at the start: weights 0, so every gate starts as a
/// constant (input and output gates ½), and the forget bias `forget_bias` (at 1 the forget
/// gate starts at σ(1) ≈ 0.73, a state that is kept rather than wiped; a larger bias
/// keeps it over more steps).
fn lstm_gates<B: Backend>(
    comps: usize,
    forget_bias: f64,
    device: &B::Device,
) -> Param<Tensor<B, 2>> {
    let row = [0.0f32, 0.0, 0.0, forget_bias as f32, 0.0, 0.0];
    let values: Vec<f32> = row.iter().copied().cycle().take(comps * 6).collect();
    Param::from_tensor(Tensor::from_data(
        burn::tensor::TensorData::new(values, [comps, 6]),
        device,
    ))
}

pub(crate) fn normal<B: Backend>(
    n: usize,
    (mean, std): (f64, f64),
    device: &B::Device,
) -> Param<Tensor<B, 1>> {
    let t = if std > 0.0 {
        Tensor::random([n], Distribution::Normal(mean, std), device)
    } else {
        Tensor::full([n], mean, device)
    };
    Param::from_tensor(t)
}

impl<B: Backend> Dnm<B> {
    /// A freshly initialised network (normal inits of the config).
    pub fn new(config: &DnmConfig, device: &B::Device) -> Self {
        let rows = config.neurons - config.inputs;
        let alpha = normal(rows, config.alpha_init, device);
        let beta = normal(rows, config.beta_init, device);
        let gamma = normal(rows, config.gamma_init, device);
        let theta = normal(rows, config.theta_init, device);
        let phi = normal(rows, config.phi_init, device);
        let (sigma, mu) = gaussians(config, device);
        Self {
            alpha,
            beta,
            gamma,
            theta,
            phi,
            sigma,
            mu,
            kappa: Param::from_tensor(Tensor::full([1], config.kappa_init, device)),
            w: sender_init(config, device),
            b: sender_init(config, device),
            gates: (config.neuron == Neuron::Lstm)
                .then(|| lstm_gates(config.comps(), config.forget_bias_init, device)),
        }
    }

    /// The same network with the raw cutoff κ set to `kappa` (a fresh parameter).
    pub fn with_kappa(self, kappa: f64, device: &B::Device) -> Self {
        Self {
            kappa: Param::from_tensor(Tensor::full([1], kappa, device)),
            ..self
        }
    }

    /// The raw closeness parameters as tensors.
    pub fn raw(&self) -> RawShape<B> {
        RawShape {
            alpha: self.alpha.val(),
            beta: self.beta.val(),
            gamma: self.gamma.val(),
            theta: self.theta.val(),
            phi: self.phi.val(),
            sigma: self.sigma.val(),
            mu: self.mu.val(),
            kappa: self.kappa.val(),
        }
    }

    /// `f`, `c` and `D` of the current parameters, as the tensor expression of
    /// [`mod@crate::closeness`].
    pub fn closeness(&self, grid: &Grid<B>) -> Closeness<B> {
        closeness(&self.raw(), grid)
    }

    /// `D` and, with a sharpness `k`, the density surrogate `s`, from the tensor
    /// expression (some forty autodiff ops over the grid).
    pub fn cutoff_expression(&self, grid: &Grid<B>, sharpness: Option<f64>) -> Cutoff<B> {
        let cl = self.closeness(grid);
        let surrogate = sharpness.map(|k| density_surrogate(&cl, grid, k));
        Cutoff { d: cl.d, surrogate }
    }

    /// Reference order: one comp at a time, in index order. With LSTM neurons the input
    /// is `[x | c⁻]` and the output `[y | c]` ([`Dnm::kept_outputs`]).
    pub fn outputs_reference(
        &self,
        d: &Tensor<B, 2>,
        grid: &Grid<B>,
        x: Tensor<B, 2>,
    ) -> Tensor<B, 2> {
        let (n_in, n_comp, rows, cols) = (grid.inputs, grid.comps, grid.rows(), grid.cols());
        let (x, c_prev) = self.split_cells(x, n_in);
        let batch = x.dims()[0];
        let device = x.device();
        let w = self.w.val().unsqueeze_dim::<2>(0);
        let b = self.b.val().unsqueeze_dim::<2>(0);
        let u_in = x * w.clone().slice([0..1, 0..n_in]) + b.clone().slice([0..1, 0..n_in]);
        // Columns j < i hold the senders' values: `act` for comp receivers, `raw` for outputs.
        let mut act = Tensor::<B, 2>::zeros([batch, cols], &device)
            .slice_assign([0..batch, 0..n_in], leaky_relu(u_in.clone(), LEAK));
        let mut raw =
            Tensor::<B, 2>::zeros([batch, cols], &device).slice_assign([0..batch, 0..n_in], u_in);
        let mut cells = Vec::new();
        for r in 0..n_comp {
            let i = n_in + r;
            let row = d.clone().slice([r..r + 1, 0..i]);
            let o = act.clone().slice([0..batch, 0..i]).matmul(row.transpose());
            let c_r = c_prev
                .as_ref()
                .map(|c| c.clone().slice([0..batch, r..r + 1]));
            let (a, u, c) = self.comp_values(o, n_in, r..r + 1, c_r);
            act = act.slice_assign([0..batch, i..i + 1], a);
            raw = raw.slice_assign([0..batch, i..i + 1], u);
            cells.extend(c);
        }
        let y = raw.matmul(d.clone().slice([n_comp..rows, 0..cols]).transpose());
        match cells.is_empty() {
            true => y,
            false => Tensor::cat(vec![y, Tensor::cat(cells, 1)], 1),
        }
    }

    /// With LSTM neurons, `[x | c⁻]` split into `x` (`n_in` columns) and `c⁻`.
    fn split_cells(&self, x: Tensor<B, 2>, n_in: usize) -> (Tensor<B, 2>, Option<Tensor<B, 2>>) {
        match self.gates {
            None => (x, None),
            Some(_) => {
                let [batch, width] = x.dims();
                let c = x.clone().slice([0..batch, n_in..width]);
                (x.slice([0..batch, 0..n_in]), Some(c))
            }
        }
    }

    /// Comps `comps`' activation (what later comps read), the value the outputs read, and
    /// with LSTM neurons their new cell states, from their input sums `s`
    /// (`[batch, comps.len()]`) and, with LSTM neurons, their cell states `c_prev`:
    /// `(leaky(u), u, None)` with `u = w·s + b`, or `(h, h, Some(c))`
    /// ([`crate::kernels::lstm`]'s maths as Burn ops).
    fn comp_values(
        &self,
        s: Tensor<B, 2>,
        n_in: usize,
        comps: std::ops::Range<usize>,
        c_prev: Option<Tensor<B, 2>>,
    ) -> (Tensor<B, 2>, Tensor<B, 2>, Option<Tensor<B, 2>>) {
        let senders = n_in + comps.start..n_in + comps.end;
        let w = self.w.val().slice([senders.clone()]).unsqueeze_dim::<2>(0);
        let b = self.b.val().slice([senders]).unsqueeze_dim::<2>(0);
        let u = s.clone() * w + b;
        let (Some(gates), Some(c_prev)) = (&self.gates, c_prev) else {
            return (leaky_relu(u.clone(), LEAK), u, None);
        };
        let k = comps.len();
        let gates = gates.val().slice([comps, 0..6]);
        let gate = |n: usize| {
            let g = |col: usize| gates.clone().slice([0..k, col..col + 1]).reshape([1, k]);
            // σ(z) = 1 / (1 + e^−z), written out: exact in f64 for the gradient tests.
            (s.clone() * g(2 * n) + g(2 * n + 1))
                .neg()
                .exp()
                .add_scalar(1.0)
                .recip()
        };
        let (input, forget, output) = (gate(0), gate(1), gate(2));
        let c = forget * c_prev + input * u.tanh();
        let h = output * c.clone().tanh();
        (h.clone(), h, Some(c))
    }

    /// Fast order with the comp block as `sweeps` full-matrix sweeps: the input block as
    /// one matmul (`inp = leaky(w∘x + b)·D_ciᵀ`), then `o ← inp + leaky(w∘o + b)·D_ccᵀ`
    /// from `o = inp` (exact once `sweeps` reaches the depth of the thresholded comp
    /// graph), the outputs as one matmul of every sender's `w∘o + b`. The order of
    /// backends without the fused forward pass.
    pub fn outputs_sweeps(
        &self,
        d: &Tensor<B, 2>,
        grid: &Grid<B>,
        x: Tensor<B, 2>,
        sweeps: usize,
    ) -> Tensor<B, 2> {
        let (n_in, n_comp, rows, cols) = (grid.inputs, grid.comps, grid.rows(), grid.cols());
        let (x, c_prev) = self.split_cells(x, n_in);
        let (w, b) = (
            self.w.val().unsqueeze_dim::<2>(0),
            self.b.val().unsqueeze_dim::<2>(0),
        );
        let u_in = x * w.slice([0..1, 0..n_in]) + b.slice([0..1, 0..n_in]);
        let d_ci = d.clone().slice([0..n_comp, 0..n_in]).transpose();
        let inp = leaky_relu(u_in.clone(), LEAK).matmul(d_ci);
        let d_cc = d.clone().slice([0..n_comp, n_in..cols]).transpose();
        let values = |o: Tensor<B, 2>| self.comp_values(o, n_in, 0..n_comp, c_prev.clone());
        let mut o = inp.clone();
        for _ in 0..sweeps {
            o = inp.clone() + values(o).0.matmul(d_cc.clone());
        }
        let (_, u_c, cells) = values(o);
        let u = Tensor::cat(vec![u_in, u_c], 1);
        let y = u.matmul(d.clone().slice([n_comp..rows, 0..cols]).transpose());
        match cells {
            None => y,
            Some(c) => Tensor::cat(vec![y, c], 1),
        }
    }
}

/// The cutoff matrix `D` (`[R, C]`) and the density surrogate `s` (`[1]`) when asked for.
#[derive(Debug, Clone)]
pub struct Cutoff<B: Backend> {
    /// The cutoff matrix `D`, `[R, C]`.
    pub d: Tensor<B, 2>,
    /// The density surrogate `s`, `[1]`; `Some` exactly when a sharpness was given.
    pub surrogate: Option<Tensor<B, 1>>,
}

impl<B: DnmBackend> Dnm<B> {
    /// `D` and (with a sharpness `k`) `s`: one fused operation with a hand-written
    /// backward where the backend has the kernel ([`crate::kernels::closeness`]: the CPU
    /// backends), else [`Dnm::cutoff_expression`]. Both compute the same values.
    pub fn cutoff(&self, grid: &Grid<B>, sharpness: Option<f64>) -> Cutoff<B> {
        match B::dnm_closeness(
            self.packed_shape(),
            self.kappa.val(),
            grid.geometry(),
            sharpness,
        ) {
            Some(d) if sharpness.is_none() => Cutoff { d, surrogate: None },
            Some(out) => {
                let (rows, cols) = (grid.rows(), grid.cols());
                Cutoff {
                    d: out.clone().slice([0..rows, 0..cols]),
                    surrogate: Some(out.slice([rows..rows + 1, 0..1]).reshape([1])),
                }
            }
            None => self.cutoff_expression(grid, sharpness),
        }
    }

    /// The seven closeness parameters packed as `[R, 7]` (α β γ θ φ σ μ), as the fused
    /// kernels take them.
    fn packed_shape(&self) -> Tensor<B, 2> {
        Tensor::stack(
            vec![
                self.alpha.val(),
                self.beta.val(),
                self.gamma.val(),
                self.theta.val(),
                self.phi.val(),
                self.sigma.val(),
                self.mu.val(),
            ],
            1,
        )
    }

    /// The output neurons `[batch, n_out]` of inputs `x` (`[batch, n_in]`) under `d`.
    pub fn outputs(
        &self,
        d: &Tensor<B, 2>,
        grid: &Grid<B>,
        x: Tensor<B, 2>,
        evaluator: Evaluator,
    ) -> Tensor<B, 2> {
        match evaluator {
            Evaluator::Reference => self.outputs_reference(d, grid, x),
            Evaluator::Fast => self.outputs_fast(d, grid, x, || Structure::of(d, grid).depth),
        }
    }

    /// Fast order. Where the backend has the fused kernel ([`crate::kernels::forward`]:
    /// the CPU backends) the whole pass is one autodiff op with a hand-written backward:
    /// one pass over the non-zeros of `D` with the comps in index order (exact, no levels;
    /// the input block and the outputs as sparse products). Elsewhere the input block and
    /// the outputs are matmuls and the comp block is `sweeps` sweeps
    /// ([`Dnm::outputs_sweeps`]); `sweeps` is asked for their number only there, so a
    /// caller that must read `D` back to the host for the depth does so only when needed.
    pub fn outputs_fast(
        &self,
        d: &Tensor<B, 2>,
        grid: &Grid<B>,
        x: Tensor<B, 2>,
        sweeps: impl Fn() -> usize,
    ) -> Tensor<B, 2> {
        if self.gates.is_some() {
            return self.outputs_sweeps(d, grid, x, sweeps());
        }
        match B::dnm_outputs(
            x.clone(),
            d.clone(),
            self.w.val(),
            self.b.val(),
            grid.inputs,
            LEAK,
        ) {
            Some((y, _)) => y,
            None => self.outputs_sweeps(d, grid, x, sweeps()),
        }
    }
}

/// `D` as its kept cells, from the kernels of [`crate::kernels::kept`] (the CPU
/// backends): nothing of the grid's size is held.
#[derive(Debug, Clone)]
pub struct Kept<B: Backend> {
    /// The kept cells' values, `[nnz]`, row by row in column order.
    pub values: Tensor<B, 1>,
    /// Which cells they are.
    pub pattern: Arc<Pattern>,
    /// The density surrogate `s`, `[1]`; `Some` exactly when a sharpness was given.
    pub surrogate: Option<Tensor<B, 1>>,
    /// The float the passes over them compute in (the grid's).
    pub precision: Precision,
}

impl<B: DnmBackend> Dnm<B> {
    /// The kept cells a training step under `config` uses: [`Dnm::kept`] with the
    /// config's surrogate sharpness under the fast evaluator; `None` under the reference
    /// evaluator (it computes the whole grid) or where the backend lacks the kernels.
    pub fn kept_for(&self, grid: &Grid<B>, config: &DnmConfig) -> Option<Kept<B>> {
        match config.evaluator {
            Evaluator::Fast => self.kept(grid, config.surrogate_needed()),
            Evaluator::Reference => None,
        }
    }

    /// `D` as its kept cells (and `s` with a sharpness `k`), where the backend has the
    /// kernels; `None` elsewhere (then [`Dnm::cutoff`] gives the dense `D`). The same
    /// values as [`Dnm::cutoff`], bit for bit.
    pub fn kept(&self, grid: &Grid<B>, sharpness: Option<f64>) -> Option<Kept<B>> {
        let (values, pattern) = B::dnm_kept(
            self.packed_shape(),
            self.kappa.val(),
            grid.geometry(),
            sharpness,
        )?;
        let nnz = pattern.nnz();
        let (values, surrogate) = match sharpness {
            None => (values, None),
            Some(_) => (
                values.clone().narrow(0, 0, nnz),
                Some(values.narrow(0, nnz, 1)),
            ),
        };
        Some(Kept {
            values,
            pattern,
            surrogate,
            precision: grid.precision,
        })
    }

    /// The output neurons `[batch, n_out]` of inputs `x` under the kept cells, by the
    /// forward pass of [`Dnm::outputs_fast`] (exact, comps in index order).
    ///
    /// With LSTM neurons ([`Dnm::gates`]) the input is `[x | c⁻]` and the output
    /// `[y | c]`, the comps' cell states before and after the pass
    /// ([`crate::kernels::lstm`]; [`crate::sequence::read`] threads them through time).
    pub fn kept_outputs(&self, kept: &Kept<B>, x: Tensor<B, 2>) -> Tensor<B, 2> {
        if let Some(gates) = &self.gates {
            return B::dnm_lstm_outputs(
                x,
                kept.values.clone(),
                &kept.pattern,
                self.w.val(),
                self.b.val(),
                gates.val(),
                LEAK,
                kept.precision,
            )
            .expect("a backend with the kept-cell closeness has the LSTM-neuron pass")
            .0;
        }
        B::dnm_kept_outputs(
            x,
            kept.values.clone(),
            &kept.pattern,
            self.w.val(),
            self.b.val(),
            LEAK,
            kept.precision,
        )
        .expect("a backend with the kept-cell closeness has the kept-cell forward pass")
        .0
    }

    /// One pass of the network under the current `D` (computed once), by the fast
    /// evaluator: inputs `[n, inputs]` to outputs `[n, outputs]` (with LSTM neurons
    /// `[x | c⁻] → [y | c]`, see [`Dnm::kept_outputs`]), before the head.
    pub fn evaluator_pass<'a>(
        &'a self,
        grid: &'a Grid<B>,
    ) -> impl Fn(Tensor<B, 2>) -> Tensor<B, 2> + 'a {
        let d = match self.kept(grid, None) {
            Some(kept) => Ok(kept),
            // The depth is read from `D` on the host the first time a pass needs it.
            None => Err((self.cutoff(grid, None).d, std::cell::OnceCell::new())),
        };
        move |x| match &d {
            Ok(kept) => self.kept_outputs(kept, x),
            Err((d, depth)) => self.outputs_fast(d, grid, x, || {
                *depth.get_or_init(|| Structure::of(d, grid).depth)
            }),
        }
    }

    /// The logits of any number of batches under the current `D` (computed once), by the
    /// fast evaluator ([`Dnm::evaluator_pass`]), read as the config's task reads an input
    /// ([`crate::sequence::read`]), through its head.
    pub fn fast_evaluator<'a>(
        &'a self,
        grid: &'a Grid<B>,
        config: &'a DnmConfig,
    ) -> impl Fn(Tensor<B, 2>) -> Tensor<B, 2> + 'a {
        let pass = self.evaluator_pass(grid);
        move |x| head(crate::sequence::read(config, x, &pass), config.head)
    }
}

/// The head: `o²` (square) or `o` (identity).
pub fn head<B: Backend>(outputs: Tensor<B, 2>, head: Head) -> Tensor<B, 2> {
    match head {
        Head::Square => outputs.square(),
        Head::Identity => outputs,
    }
}

/// What the thresholded graph `D ≠ 0` looks like, read on the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Structure {
    /// Longest comp→comp path in edges: the sweeps the fast evaluator needs.
    pub depth: usize,
    /// `#{allowed cells with D ≠ 0} / max_cells`.
    pub density: f64,
    /// Whether some input reaches some output along cells with `D ≠ 0`.
    pub connected: bool,
}

impl Structure {
    /// Reads `D` once and analyses it.
    pub fn of<B: Backend>(d: &Tensor<B, 2>, grid: &Grid<B>) -> Self {
        let (inputs, comps, outputs) = (grid.inputs, grid.comps, grid.outputs);
        match Floats::of(d.clone()) {
            Floats::F32(v) => Self::of_values(&v, inputs, comps, outputs),
            Floats::F64(v) => Self::of_values(&v, inputs, comps, outputs),
        }
    }

    /// The same from `D` as a row-major `[R, C]` buffer.
    pub fn of_values<T: Copy + Into<f64>>(
        d: &[T],
        inputs: usize,
        comps: usize,
        outputs: usize,
    ) -> Self {
        let cols = inputs + comps;
        Self::of_rows(inputs, comps, outputs, |r| {
            d[r * cols..(r + 1) * cols]
                .iter()
                .enumerate()
                .filter(|(_, v)| (**v).into() != 0.0)
                .map(|(j, _)| j)
        })
    }

    /// The same from the kept cells of `D`.
    pub fn of_pattern(pattern: &Pattern) -> Self {
        let g = pattern.geometry;
        Self::of_rows(g.inputs, g.comps, g.outputs, |r| {
            pattern.row(r).1.iter().map(|&j| j as usize)
        })
    }

    /// From the columns of each row's non-zeros (`row(r)`, rising): comp rows count
    /// only their allowed cells (`j < n_in + r`).
    fn of_rows<I: Iterator<Item = usize>>(
        inputs: usize,
        comps: usize,
        outputs: usize,
        row: impl Fn(usize) -> I,
    ) -> Self {
        let rows = comps + outputs;
        let mut level = vec![0usize; comps];
        let mut reached = vec![false; comps];
        let mut kept = 0usize;
        for r in 0..comps {
            for j in row(r).take_while(|&j| j < inputs + r) {
                kept += 1;
                if j < inputs {
                    reached[r] = true;
                } else {
                    let k = j - inputs;
                    level[r] = level[r].max(level[k] + 1);
                    reached[r] |= reached[k];
                }
            }
        }
        let mut connected = false;
        for r in comps..rows {
            for j in row(r) {
                kept += 1;
                connected |= j < inputs || reached[j - inputs];
            }
        }
        let n = inputs + comps + outputs;
        let max_cells = (n * n - inputs * inputs - outputs * outputs - comps) / 2;
        Self {
            depth: level.iter().copied().max().unwrap_or(0),
            density: kept as f64 / max_cells as f64,
            connected,
        }
    }
}
