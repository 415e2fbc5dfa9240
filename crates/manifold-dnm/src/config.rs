//! Every DNM hyperparameter in one serde struct (TOML, `--set field=value`, flags),
//! and the presets `seed-toy`, `seed-mnist` (the original's settings, spec table),
//! `best-toy`, `best-mnist` (ours), the size-aware `large-mnist`, `layered-mnist`,
//! `patch-mnist` (the patch window), `patches-mnist` (the patches window), `fast-mnist`
//! (`layered-mnist` in minutes), and the sequence tasks' `seq-mnist`, `adding-t100`.

pub use crate::geometry::Window;
use burn::config::Config;
pub use manifold_data::PixelOrder;

/// Pixels of an MNIST row, and rows of an image: row-sequential MNIST's features per
/// time step and its time steps.
pub const ROW: usize = 28;
use manifold_train::{ModelConfig, TrainError};
use serde::{Deserialize, Serialize};

/// Which task the network is trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// The add/subtract regression of `manifold_data::toy_batch` (MSE objective).
    Toy,
    /// MNIST digits (softmax cross-entropy objective).
    Mnist,
    /// Row-sequential MNIST: an image read as 28 time steps of one 28-pixel row, the
    /// class read from the outputs after the last row (`manifold_data::SequenceTask`);
    /// `inputs = 28 + carry`, `outputs = 10 + carry` ([`DnmConfig::carry`]).
    #[serde(rename = "row-mnist")]
    RowMnist,
    /// The adding problem (`manifold_data::SequenceTask::Adding`): sequences of
    /// [`DnmConfig::adding_length`] steps of (value, marker), the sum of the two marked
    /// values read from the outputs after the last step (MSE; answering 1 always scores
    /// ≈ 0.167); `inputs = 2 + carry`, `outputs = 1 + carry`.
    Adding,
}

/// What a comp computes from its D-weighted input sum `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Neuron {
    /// `leaky(w·s + b)`: 2 trainable numbers (the original).
    Plain,
    /// An LSTM cell with input, forget and output gates fed by `s`, keeping a cell state
    /// across the time steps of a sequence (`crate::kernels::lstm`): 8 trainable numbers
    /// (`w`, `b` of the candidate and `w`, `b` of each gate). On the CPU backends one
    /// fused kernel with its own backward; elsewhere (wgpu) and in the reference
    /// evaluator, Burn ops (`Dnm::outputs_sweeps`, `Dnm::outputs_reference`).
    Lstm,
}

/// The float the CPU passes over the kept cells ([`crate::kernels::forward`]) compute
/// in. Everything else (the closeness, the loss, the optimiser) is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f64 (the default, every preset).
    F64,
    /// f32: twice the lanes a vector and half the bytes a pass moves; the batch sums of
    /// the gradients are still added in f64 across the batch's parts. LSTM neurons keep
    /// f64 sums and cell states and compute their gates' `σ` and `tanh` on vectors, within
    /// 5e-10 of the C library's ([`crate::kernels::lstm`]). Other backends (wgpu) compute
    /// in their own float.
    F32,
}

/// How output neurons become predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Head {
    /// The original: `logits = o²` (negative targets unreachable).
    Square,
    /// `logits = o`.
    Identity,
}

/// Which density term enters the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DensityTerm {
    /// The original's count ρ: zero gradient, so the term never acts.
    Count,
    /// The smooth step `mean_allowed sigmoid(k·(|f|−c))`, which tracks ρ and has a gradient.
    Surrogate,
}

/// Learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// `lr` throughout (the original).
    Constant,
    /// Cosine decay from `lr` to `lr·lr_final_ratio` over the run.
    Cosine,
}

/// Which evaluation order computes the comps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evaluator {
    /// One comp at a time in index order (obviously correct, slow).
    Reference,
    /// Input block as one matmul, depth-many full-matrix sweeps over the comps, outputs as one matmul.
    Fast,
}

/// Where each receiver's gaussian window (its centre μ, and for `spread` its width σ)
/// starts. Row `r` (receiver `i = n_in + r`) centred at `μ` reads around sender
/// `j* = i − d_r + μ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// The original: every μ drawn from `mu_init`, every σ from `sigma_init`. Since `d_r`
    /// falls from n_in to n_out over the rows, comp `r` reads around sender
    /// `≈ r·(1 + n_in/R)`: once n_comp ≫ n_in/4 the later comps read earlier comps, and
    /// the initial DAG deepens with the size (depth 9 at 206 comps, 257 at 4 000).
    Original,
    /// Size-aware: comp `r`'s window is centred on input `(r + ½)·n_in/n_comp` (the comps
    /// read the image, spread evenly over it, so the initial DAG is at most a few levels
    /// deep at any size), with σ from `sigma_init`; each output's window is centred on the
    /// middle comp with width `σ' = n_comp/4` (every comp starts with a path to an
    /// output). `mu_init`'s std is added as noise around these centres.
    Spread,
    /// Size-aware in `comp_layers` comp layers (two by default) of equal size (the first
    /// ones one comp larger when the comps do not divide): the first layer reads the image
    /// as under `spread`; comp `r` of layer `ℓ + 1` (size `n_ℓ₊₁`) is centred on comp
    /// `(r + ½)·n_ℓ/n_ℓ₊₁` of layer `ℓ`, with its width scaled from `sigma_init` by
    /// `n_ℓ/n_in`; the outputs read the last layer (centred on its middle, width
    /// `n_last/4`). Outputs read their senders without the leaky ReLU, so a depth-1
    /// manifold is linear in the per-pixel transforms; here nearly every path from a
    /// pixel to an output passes `comp_layers − 1` leaky ReLUs on comps.
    Layered,
}

/// `patch-mnist`'s raw σ: `softplus⁻¹(2)`, a patch of σ' = 2 pixels.
const PATCH_SIGMA_RAW: f64 = 1.854_586_542_131_141_8;

/// The images of the MNIST training set: the most a minibatch can hold (a larger
/// `batch_size` takes them all), in the memory estimate.
const MNIST_TRAIN_IMAGES: usize = 60_000;

/// The names [`DnmConfig::preset`] knows.
pub const PRESETS: [&str; 14] = [
    "seed-toy",
    "seed-mnist",
    "best-toy",
    "best-mnist",
    "large-mnist",
    "layered-mnist",
    "patch-mnist",
    "patches-mnist",
    "fast-mnist",
    "fast-patches-mnist",
    "seq-mnist",
    "seq-mnist-large",
    "adding-t100",
    "adding-t100-curriculum",
];

/// The DNM's configuration (see the crate docs for the maths).
#[derive(Config, Debug, PartialEq)]
pub struct DnmConfig {
    /// Task: `toy`, `mnist`, `row-mnist` or `adding`.
    #[config(default = "Task::Mnist")]
    pub task: Task,
    /// Carry neurons k (sequence tasks only): k more inputs and k more outputs; at time step
    /// t + 1 carry input q reads `tanh` of carry output q of step t (0 at the first step).
    /// The closeness functions wire them like every other neuron, so the network learns
    /// which state to keep and where it flows. The last `k` inputs and outputs are the
    /// carry neurons.
    #[config(default = 0)]
    pub carry: usize,
    /// Time steps T of the adding problem's sequences (`task = "adding"`).
    #[config(default = 100)]
    pub adding_length: usize,
    /// A length curriculum for the adding problem: over the first `curriculum_steps`
    /// training steps its training sequences grow linearly from `curriculum_start` time
    /// steps to `adding_length` ([`manifold_data::curriculum_length`]); the test
    /// sequences are always `adding_length` long. 0: no curriculum. The activation
    /// memory ([`DnmConfig::activation_mib`], `λ_memory`) counts `adding_length` time
    /// steps throughout: an upper bound while the sequences are shorter.
    #[config(default = 0)]
    pub curriculum_steps: usize,
    /// The adding problem's first training length under a curriculum
    /// (`curriculum_steps` > 0), 2 …= `adding_length`.
    #[config(default = 10)]
    pub curriculum_start: usize,
    /// Truncated back-propagation through time (sequence tasks only): the carry and cell
    /// states leave the autodiff graph after every `bptt_steps` time steps, so the
    /// gradient reaches back at most that many steps from the loss. 0: through the whole
    /// sequence.
    #[config(default = 0)]
    pub bptt_steps: usize,
    /// What a comp computes: `plain` (`leaky(w·s + b)`, the default) or `lstm` (an LSTM
    /// cell per comp, [`Neuron::Lstm`]). Inputs are plain either way.
    #[config(default = "Neuron::Plain")]
    pub neuron: Neuron,
    /// The float the CPU forward and backward passes over the kept cells compute in:
    /// `f64` (the default) or `f32` ([`Precision`]).
    #[config(default = "Precision::F64")]
    pub precision: Precision,
    /// Init of the LSTM neurons' forget bias `b_f` (their gate weights start at 0): the
    /// forget gate starts at `σ(b_f)`, and a cell state decays as `σ(b_f)^t` until the
    /// gates learn.
    #[config(default = 1.0)]
    pub forget_bias_init: f64,
    /// Total neurons N.
    #[config(default = 1000)]
    pub neurons: usize,
    /// Input neurons n_in.
    #[config(default = 784)]
    pub inputs: usize,
    /// Output neurons n_out.
    #[config(default = 10)]
    pub outputs: usize,
    /// Period P of the sine part (image width).
    #[config(default = 28.0)]
    pub period: f64,
    /// Prediction head.
    #[config(default = "Head::Square")]
    pub head: Head,
    /// Evaluation order.
    #[config(default = "Evaluator::Fast")]
    pub evaluator: Evaluator,
    /// Training steps (one Adam update per minibatch).
    #[config(default = 50000)]
    pub steps: usize,
    /// Minibatch size.
    #[config(default = 50)]
    pub batch_size: usize,
    /// Adam step size.
    #[config(default = 2e-3)]
    pub lr: f64,
    /// Learning-rate schedule.
    #[config(default = "Schedule::Constant")]
    pub schedule: Schedule,
    /// Final learning rate as a share of `lr` (cosine schedule).
    #[config(default = 0.01)]
    pub lr_final_ratio: f64,
    /// Largest L2 norm of each parameter tensor's gradient before the Adam update
    /// (Burn's norm clipping, as `manifold-rnn`'s `clip_norm`); 0 = no clipping.
    #[config(default = 0.0)]
    pub clip_norm: f64,
    /// λ_obj.
    #[config(default = 1e3)]
    pub lambda_obj: f64,
    /// λ_flow.
    #[config(default = 1e-4)]
    pub lambda_flow: f64,
    /// λ_sparse (weight of the squared density term).
    #[config(default = 0.1)]
    pub lambda_sparse: f64,
    /// A warm-up of the density term: its weight rises linearly from 0 at the first step
    /// to `lambda_sparse` at step `sparse_warmup` ([`DnmConfig::lambda_sparse_at`]), so
    /// that a network can start to learn before the pressure thins it. 0: `lambda_sparse`
    /// from the first step.
    #[config(default = 0)]
    pub sparse_warmup: usize,
    /// Density term of the loss: `count` (original, no gradient) or `surrogate`.
    #[config(default = "DensityTerm::Count")]
    pub density_term: DensityTerm,
    /// Sharpness k of the surrogate `sigmoid(k·(|f|−c))`.
    #[config(default = 50.0)]
    pub surrogate_sharpness: f64,
    /// λ_time: adds `λ_time · (last step time in ms) · surrogate density` (0 = off).
    #[config(default = 0.0)]
    pub lambda_time: f64,
    /// λ_memory: adds `λ_memory · M̃`, the differentiable surrogate of the activation
    /// memory `M` in MiB ([`DnmConfig::activation_mib`]: 4 bytes per kept cell, sample
    /// and time step), `M̃` with the surrogate count of kept cells (0 = off).
    #[config(default = 0.0)]
    pub lambda_memory: f64,
    /// Init mean and std of α.
    #[config(default = "(5.0, 1.0)")]
    pub alpha_init: (f64, f64),
    /// Init mean and std of β.
    #[config(default = "(0.0, 0.01)")]
    pub beta_init: (f64, f64),
    /// Init mean and std of γ.
    #[config(default = "(0.0, 1.0)")]
    pub gamma_init: (f64, f64),
    /// Init mean and std of θ.
    #[config(default = "(0.0, 1.0)")]
    pub theta_init: (f64, f64),
    /// Init mean and std of φ.
    #[config(default = "(std::f64::consts::FRAC_PI_2, 0.01 * std::f64::consts::PI)")]
    pub phi_init: (f64, f64),
    /// Init mean and std of σ (raw, before softplus).
    #[config(default = "(784f64.powf(0.66), 1000f64.powf(0.33))")]
    pub sigma_init: (f64, f64),
    /// Init mean and std of μ.
    #[config(default = "(0.0, 14.0)")]
    pub mu_init: (f64, f64),
    /// Where the receivers' windows start: `original`, `spread` (size-aware) or `layered`
    /// (size-aware, two comp layers).
    #[config(default = "Placement::Original")]
    pub placement: Placement,
    /// Comp layers of the `layered` placement (at least 1, at most the comps; 1 places
    /// the comps as `spread` does).
    #[config(default = 2)]
    pub comp_layers: usize,
    /// The order in which an MNIST image's pixels become the input neurons: `raster`
    /// (row after row, the original: a window of consecutive senders is a band of image
    /// rows) or `hilbert` (along a Hilbert curve: such a window is a patch of the image).
    /// A fixed permutation of the pixels, the same for training and test images.
    #[config(default = "PixelOrder::Raster")]
    pub pixel_order: PixelOrder,
    /// The form of the receivers' gaussian window over the input pixels: `line` (over
    /// the sender index, the original: in raster order a band of image rows) or `patch`
    /// (over the image plane: a round patch of radius ~σ' pixels, [`Window::Patch`]), or
    /// `patches` (the same, and the first of two comp layers is a map on the image plane
    /// that the second reads in round patches too, [`Window::Patches`]). Other comp
    /// senders are read through the line form.
    #[config(default = "Window::Line")]
    pub window: Window,
    /// Divide the flow sum by the receivers R before squaring (`flow = (v/R)²`), so that
    /// its weight means the same at every size; `false` is the original `v²`.
    #[config(default = false)]
    pub flow_per_receiver: bool,
    /// Init of κ (cutoff c = sigmoid(κ)); lowered in steps of 0.5 where the random
    /// closeness functions leave no input→output path at this value (after
    /// `init_draws` draws, [`crate::train::initial_network`]).
    #[config(default = -1.0)]
    pub kappa_init: f64,
    /// Draws of the initial closeness functions tried for an input→output path at
    /// `kappa_init` before the cutoff is lowered instead
    /// ([`crate::train::initial_network`]); 1: the first draw, always.
    #[config(default = 1)]
    pub init_draws: usize,
    /// Init std of the per-sender weights w and biases b (mean 0).
    #[config(default = 1.0)]
    pub wb_init_std: f64,
    /// Record D and metrics every this many steps.
    #[config(default = 500)]
    pub record_every: usize,
    /// Evaluate on the full test set (and checkpoint) every this many steps.
    #[config(default = 5000)]
    pub eval_every: usize,
    /// Seed of initialisation and data order.
    #[config(default = 0)]
    pub seed: u64,
    /// Use only the first N training images (0 = all).
    #[config(default = 0)]
    pub train_limit: usize,
}

impl DnmConfig {
    /// The original's toy settings (spec table).
    pub fn seed_toy() -> Self {
        let (n, n_in) = (25.0f64, 5.0f64);
        Self::new()
            .with_task(Task::Toy)
            .with_neurons(25)
            .with_inputs(5)
            .with_outputs(4)
            .with_period(5.0)
            .with_steps(5000)
            .with_batch_size(50)
            .with_lr(1e-3)
            .with_lambda_obj(1e4)
            .with_lambda_flow(1.0)
            .with_lambda_sparse(0.1)
            .with_alpha_init((5.0, 0.1))
            .with_beta_init((0.0, 0.01))
            .with_gamma_init((0.0, 0.1))
            .with_theta_init((0.0, 0.1))
            .with_phi_init((std::f64::consts::FRAC_PI_2, 0.001 * std::f64::consts::PI))
            .with_sigma_init((n_in.powf(0.75), n.powf(0.133)))
            .with_mu_init((0.0, 2.0))
            .with_record_every(50)
            .with_eval_every(1000)
    }

    /// The original's MNIST settings (spec table).
    pub fn seed_mnist() -> Self {
        Self::new()
    }

    /// Our toy settings: identity head (negative targets reachable), cosine schedule, and
    /// a soft density surrogate (sharpness 1: close to an L1 pressure on every |f|, so
    /// the cells of the unused input, which only feed a constant once its `w` is ≈ 0, lose
    /// to the cells that carry signal). κ starts low (c ≈ 0.05) so that it can rise without
    /// cutting every cell, and μ starts at −3 (N(0, 2) puts the gaussian at the edge of the
    /// allowed region, where output rows can drift out and die). Results on seeds 0–2 are
    /// in the crate's `results/README.md`.
    pub fn best_toy() -> Self {
        Self::seed_toy()
            .with_head(Head::Identity)
            .with_steps(10_000)
            .with_lr(1e-2)
            .with_schedule(Schedule::Cosine)
            .with_lambda_obj(1.0)
            .with_lambda_flow(0.0)
            .with_lambda_sparse(3.0)
            .with_surrogate_sharpness(1.0)
            .with_kappa_init(-3.0)
            .with_mu_init((-3.0, 1.0))
            .with_density_term(DensityTerm::Surrogate)
    }

    /// Our MNIST settings: the original's, with the identity head (`logits = o`: the
    /// square head cannot give a negative logit and learned far slower: 83% against 56%
    /// at 5 000 steps), twice the steps, and a cosine schedule from twice the learning
    /// rate. Density is the original's count (no gradient): the network thins itself to
    /// ≈ 2.8% through the cutoff, where the surrogate at λ_sparse = 1 kept ≈ 10%.
    /// Its results over seeds 0–2, and the neighbouring settings tried, are in the crate's
    /// `results/README.md`.
    pub fn best_mnist() -> Self {
        Self::seed_mnist()
            .with_head(Head::Identity)
            .with_steps(100_000)
            .with_lr(4e-3)
            .with_schedule(Schedule::Cosine)
    }

    /// The size-aware settings for a manifold of any size, here with 1 000 comps
    /// (`--set neurons=…` scales it): `best-mnist`'s (identity head, cosine schedule from
    /// lr 4e-3, the count density term) with the `spread` placement (comps start reading
    /// the image, spread evenly over it; outputs start reading every comp; the comps'
    /// `w`, `b` scaled so the outputs start at the same size at every N) and the flow term
    /// per receiver, 30 000 steps. Its results against the size are in the crate's
    /// `results/README.md`.
    pub fn large_mnist() -> Self {
        Self::best_mnist()
            .with_neurons(784 + 1000 + 10)
            .with_placement(Placement::Spread)
            .with_flow_per_receiver(true)
            .with_steps(30_000)
    }

    /// `large-mnist` in two comp layers ([`Placement::Layered`]: every pixel-to-output
    /// path passes a leaky ReLU, where under `spread` the manifold stays a linear
    /// classifier) under the surrogate density term (λ_sparse = 1e4: the network thins
    /// itself to about 2.1%), batch 200, 100 000 steps: about 97.1% on the MNIST test
    /// set. A step of 200 samples costs about 1.4× one of 50 (the closeness pass does
    /// not grow with the batch), and the run ends about half a point higher. Its results
    /// are in the crate's `results/README.md`.
    pub fn layered_mnist() -> Self {
        Self::large_mnist()
            .with_placement(Placement::Layered)
            .with_density_term(DensityTerm::Surrogate)
            .with_lambda_sparse(1e4)
            .with_batch_size(200)
            .with_steps(100_000)
    }

    /// `layered-mnist` with the patch window ([`Window::Patch`]): the first layer's comps
    /// read round patches of the image (σ' = 2 pixels at the start, centres within a
    /// pixel of the tiling: `mu_init` std 1) instead of bands of rows. The surrogate's
    /// sharpness is 100: this network settles at a cutoff c ≈ 0.15, below the tail of a
    /// sharpness-50 surrogate (c − 10/k ≤ 0), where every closeness pass would visit
    /// every allowed cell ([`crate::kernels::closeness::SURROGATE_TAIL`]). Its results are
    /// in the crate's README.
    pub fn patch_mnist() -> Self {
        Self::layered_mnist()
            .with_window(Window::Patch)
            .with_sigma_init((PATCH_SIGMA_RAW, 0.3))
            .with_mu_init((0.0, 1.0))
            .with_surrogate_sharpness(100.0)
    }

    /// `patch-mnist` under the patches window ([`Window::Patches`]: the second comp
    /// layer reads the first on the image plane, in round patches) at surrogate
    /// sharpness 200, with 1 400 comps (N 2 194, 14 239 trainable numbers), 40 000 steps;
    /// evaluated every 5 000 steps, a metrics row every 500. Its results are in the
    /// crate's README.
    pub fn patches_mnist() -> Self {
        Self::patch_mnist()
            .under_the_patches_window()
            .with_neurons(2194)
            .with_steps(40_000)
            .with_eval_every(5000)
            .with_record_every(500)
    }

    /// `layered-mnist` in a few minutes: the same network and about as many samples (20
    /// million) in batches of 1 000 (lr 9e-3, the rate scaled by √5, the same cosine
    /// schedule), 20 000 steps, the forward pass and its backward in f32
    /// ([`Precision::F32`]); evaluated every 2 000 steps, a metrics row every 500. A step
    /// of 1 000 samples costs about 2.5 times one of 200 (the closeness pass does not grow
    /// with the batch). Its results are in the crate's README.
    pub fn fast_mnist() -> Self {
        Self::layered_mnist().on_the_fast_schedule()
    }

    /// `fast-mnist`'s schedule for a network trained at batch 200 over 100 000 steps:
    /// the same 20 million samples in batches of 1 000, lr 9e-3, 20 000 steps, f32
    /// passes; evaluated every 2 000 steps, a metrics row every 500.
    fn on_the_fast_schedule(self) -> Self {
        self.with_precision(Precision::F32)
            .with_batch_size(1000)
            .with_lr(9e-3)
            .with_steps(20_000)
            .with_eval_every(2000)
            .with_record_every(500)
    }

    /// `patch-mnist` under the patches window ([`Window::Patches`]) at surrogate
    /// sharpness 200, as `patches-mnist`, on `fast-mnist`'s schedule: 1 000 comps
    /// (10 639 trainable numbers) in batches of 1 000, lr 9e-3 (the cosine schedule),
    /// 20 000 steps, f32 passes; evaluated every 2 000 steps, a metrics row every 500.
    /// Its results are in the crate's README.
    pub fn fast_patches_mnist() -> Self {
        Self::patch_mnist()
            .under_the_patches_window()
            .on_the_fast_schedule()
    }

    /// The patches window ([`Window::Patches`]: the second comp layer reads the first on
    /// the image plane, in round patches) at surrogate sharpness 200: these networks
    /// settle at a cutoff c ≈ 0.1, where a sharpness of 100 would make every closeness
    /// pass visit every allowed cell ([`crate::kernels::closeness::SURROGATE_TAIL`]).
    fn under_the_patches_window(self) -> Self {
        self.with_window(Window::Patches)
            .with_surrogate_sharpness(200.0)
    }

    /// Row-sequential MNIST (28 time steps of one image row) with 16 carry neurons and
    /// 200 LSTM comps ([`Neuron::Lstm`]; N = 28 + 16 inputs + 200 + 10 + 16 outputs =
    /// 270), `best-mnist`'s training settings but lr 1e-2 (its cosine schedule from there),
    /// 40 000 steps of 50 sequences. Its results are in the crate's README.
    pub fn seq_mnist() -> Self {
        Self::best_mnist()
            .with_lr(1e-2)
            .with_task(Task::RowMnist)
            .with_carry(16)
            .with_neuron(Neuron::Lstm)
            .with_inputs(ROW + 16)
            .with_outputs(10 + 16)
            .with_neurons(270)
            .with_steps(40_000)
            .with_eval_every(2000)
    }

    /// `seq-mnist` with twice the comps (400 LSTM comps, N = 470), in batches of 100 (twice
    /// the sequences over the same 40 000 steps), the senders' `w` and `b` drawn at 0.3 of
    /// the default scale (`wb_init_std`: at 1 the outputs start noisy and, at batch 100,
    /// some draws stall on the uniform answer), the gates on vectors
    /// ([`Precision::F32`]). Its results are in the crate's README.
    pub fn seq_mnist_large() -> Self {
        Self::seq_mnist()
            .with_comps(400)
            .with_batch_size(100)
            .with_wb_init_std(0.3)
            .with_precision(Precision::F32)
    }

    /// The adding problem at T = 100 ([`Task::Adding`]): 40 LSTM comps
    /// ([`Neuron::Lstm`], their cell states the only memory: no carry neurons; N = 2 + 40 +
    /// 1 = 43) with forget bias 3 at the start (σ(3)^50 ≈ 0.09 of a state survives half a
    /// sequence, against 1e-7 at bias 1), `large-mnist`'s size-aware placement, lr 1e-2
    /// with a cosine schedule, 5 000 steps of 200 sequences, the gates on vectors
    /// ([`Precision::F32`]). Its results are in the crate's README.
    pub fn adding_t100() -> Self {
        Self::large_mnist()
            .with_task(Task::Adding)
            .with_adding_length(100)
            .with_neuron(Neuron::Lstm)
            .with_forget_bias_init(3.0)
            .with_inputs(manifold_data::ADDING_FEATURES)
            .with_outputs(1)
            .with_neurons(43)
            .with_lr(1e-2)
            .with_batch_size(200)
            .with_precision(Precision::F32)
            .with_steps(5000)
            .with_eval_every(1000)
    }

    /// `adding-t100` under a length curriculum: its training sequences grow from 10 time
    /// steps to 100 over the first 2 500 of its 5 000 steps (`curriculum_steps`,
    /// `curriculum_start`), at lr 5e-2 (cosine), the closeness functions drawn up to ten
    /// times for a first network with an input→output path (`init_draws`). At T = 10 the
    /// higher rate leaves the constant answer's plateau on most draws where lr 1e-2
    /// leaves it on half; the curriculum carries the solution to T = 100. Its results
    /// are in the crate's README.
    pub fn adding_t100_curriculum() -> Self {
        Self::adding_t100()
            .with_curriculum_steps(2500)
            .with_curriculum_start(10)
            .with_lr(5e-2)
            .with_init_draws(10)
    }

    /// The same settings with `comps` computing neurons (N = n_in + comps + n_out).
    pub fn with_comps(self, comps: usize) -> Self {
        let neurons = self.inputs + comps + self.outputs;
        self.with_neurons(neurons)
    }

    /// A preset by name (one of [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        match name {
            "seed-toy" => Ok(Self::seed_toy()),
            "seed-mnist" => Ok(Self::seed_mnist()),
            "best-toy" => Ok(Self::best_toy()),
            "best-mnist" => Ok(Self::best_mnist()),
            "large-mnist" => Ok(Self::large_mnist()),
            "layered-mnist" => Ok(Self::layered_mnist()),
            "patch-mnist" => Ok(Self::patch_mnist()),
            "patches-mnist" => Ok(Self::patches_mnist()),
            "fast-mnist" => Ok(Self::fast_mnist()),
            "fast-patches-mnist" => Ok(Self::fast_patches_mnist()),
            "seq-mnist" => Ok(Self::seq_mnist()),
            "seq-mnist-large" => Ok(Self::seq_mnist_large()),
            "adding-t100" => Ok(Self::adding_t100()),
            "adding-t100-curriculum" => Ok(Self::adding_t100_curriculum()),
            other => Err(TrainError::config(
                "preset",
                format!("unknown preset `{other}` ({})", PRESETS.join(", ")),
            )),
        }
    }

    /// The density term's weight at training step `step` (counted from 0):
    /// `λ_sparse · min(step / sparse_warmup, 1)`, or `λ_sparse` without a warm-up.
    pub fn lambda_sparse_at(&self, step: usize) -> f64 {
        match self.sparse_warmup {
            0 => self.lambda_sparse,
            w => self.lambda_sparse * (step.min(w) as f64 / w as f64),
        }
    }

    /// The surrogate's sharpness `k` when the loss uses the surrogate density (the
    /// `surrogate` density term with `λ_sparse > 0`, or the step-time term), else `None`.
    pub fn surrogate_needed(&self) -> Option<f64> {
        let needed = (self.lambda_sparse > 0.0 && self.density_term == DensityTerm::Surrogate)
            || self.lambda_time > 0.0
            || self.lambda_memory > 0.0;
        needed.then_some(self.surrogate_sharpness)
    }

    /// The grid's sizes and period.
    pub fn geometry(&self) -> crate::Geometry {
        crate::Geometry {
            inputs: self.inputs,
            comps: self.comps(),
            outputs: self.outputs,
            period: self.period,
            window: self.window,
        }
    }

    /// Number of computational neurons `N − n_in − n_out`.
    pub fn comps(&self) -> usize {
        self.neurons - self.inputs - self.outputs
    }

    /// Rejects data that does not match the config's task (and, for MNIST, images
    /// that are not `inputs` pixels, labels of `outputs` or more, empty image sets).
    pub fn check_data(&self, data: &crate::Data) -> Result<(), TrainError> {
        match (self.task, data) {
            (Task::Toy, crate::Data::Toy) => Ok(()),
            (Task::Mnist, crate::Data::Mnist(m)) => {
                manifold_train::check_images(self.inputs, self.outputs, m)
            }
            (Task::RowMnist, crate::Data::Mnist(m)) => {
                manifold_train::check_images(ROW * ROW, self.classes(), m)
            }
            (Task::Adding, crate::Data::Adding) => Ok(()),
            (task, _) => Err(TrainError::config(
                "task",
                format!("is {task:?}, but the data given is the other task's"),
            )),
        }
    }

    /// Rejects impossible values, naming the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let at_least_one = |name: &str, v: usize| {
            if v == 0 {
                Err(TrainError::config(name, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        at_least_one("inputs", self.inputs)?;
        at_least_one("outputs", self.outputs)?;
        at_least_one("steps", self.steps)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("record_every", self.record_every)?;
        at_least_one("eval_every", self.eval_every)?;
        if self.inputs + self.outputs >= self.neurons {
            return Err(TrainError::config(
                "neurons",
                format!(
                    "must exceed inputs + outputs = {} (got {})",
                    self.inputs + self.outputs,
                    self.neurons
                ),
            ));
        }
        match self.task {
            Task::Toy if (self.inputs, self.outputs) != (5, 4) => {
                return Err(TrainError::config(
                    "inputs",
                    "the toy task needs inputs = 5 and outputs = 4",
                ))
            }
            Task::Mnist if (self.inputs, self.outputs) != (784, 10) => {
                return Err(TrainError::config(
                    "inputs",
                    "MNIST needs inputs = 784 and outputs = 10",
                ))
            }
            Task::Adding if self.adding_length < 2 => {
                return Err(TrainError::config(
                    "adding_length",
                    "the adding problem needs sequences of 2 steps or more",
                ))
            }
            _ => {}
        }
        if let Some(sequence) = self.sequence_task() {
            let (_, features, answers) = sequence.shape();
            let (inputs, outputs) = (features + self.carry, answers + self.carry);
            if (self.inputs, self.outputs) != (inputs, outputs) {
                let name = match sequence {
                    manifold_data::SequenceTask::RowMnist => "row-sequential MNIST",
                    manifold_data::SequenceTask::Adding { .. } => "the adding problem",
                };
                return Err(TrainError::config(
                    "inputs",
                    format!(
                        "{name} needs inputs = {features} + carry = {inputs} and outputs = {answers} + carry = {outputs}"
                    ),
                ));
            }
        }
        if self.curriculum_steps > 0 {
            if self.task != Task::Adding {
                return Err(TrainError::config(
                    "curriculum_steps",
                    "grows the adding problem's sequences: it needs task = \"adding\"",
                ));
            }
            manifold_data::check_curriculum_start(self.curriculum_start, self.adding_length)
                .map_err(|message| TrainError::config("curriculum_start", message))?;
        }
        if self.bptt_steps > 0 && self.sequence().is_none() {
            return Err(TrainError::config(
                "bptt_steps",
                "truncates back-propagation through time: it needs a sequence task (task = \"row-mnist\" or \"adding\")",
            ));
        }
        if self.carry > 0 && self.sequence().is_none() {
            return Err(TrainError::config(
                "carry",
                "carry neurons need a sequence task (task = \"row-mnist\" or \"adding\")",
            ));
        }
        if self.task != Task::Mnist && self.pixel_order != PixelOrder::Raster {
            return Err(TrainError::config(
                "pixel_order",
                "orders the pixels of a whole image: only the mnist task reads one (use raster)",
            ));
        }
        if self.window != Window::Line {
            let whole_rows = self.period.fract() == 0.0 && self.inputs as f64 % self.period == 0.0;
            if self.task != Task::Mnist || self.pixel_order != PixelOrder::Raster || !whole_rows {
                return Err(TrainError::config(
                    "window",
                    "\"patch\" and \"patches\" fold the inputs into image rows of `period` pixels: they need task = \"mnist\", pixel_order = \"raster\" and a period that divides the inputs",
                ));
            }
        }
        if self.window == Window::Patches
            && (self.placement != Placement::Layered || self.comp_layers != 2)
        {
            return Err(TrainError::config(
                "window",
                "\"patches\" puts the first of two comp layers on the image plane: it needs placement = \"layered\" and comp_layers = 2",
            ));
        }
        if self.placement == Placement::Layered && !(1..=self.comps()).contains(&self.comp_layers) {
            return Err(TrainError::config(
                "comp_layers",
                format!(
                    "must lie in 1..={} (the comps) under the layered placement (got {})",
                    self.comps(),
                    self.comp_layers
                ),
            ));
        }
        if !(self.period.is_finite() && self.period > 0.0) {
            return Err(TrainError::config("period", "must be a positive number"));
        }
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(TrainError::config(name, "must be a positive number"))
            }
        };
        positive("lr", self.lr)?;
        positive("surrogate_sharpness", self.surrogate_sharpness)?;
        if !(self.lr_final_ratio.is_finite() && (0.0..=1.0).contains(&self.lr_final_ratio)) {
            return Err(TrainError::config("lr_final_ratio", "must lie in [0, 1]"));
        }
        for (name, v) in [
            ("lambda_obj", self.lambda_obj),
            ("lambda_flow", self.lambda_flow),
            ("lambda_sparse", self.lambda_sparse),
            ("lambda_time", self.lambda_time),
            ("lambda_memory", self.lambda_memory),
            ("wb_init_std", self.wb_init_std),
            ("clip_norm", self.clip_norm),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(TrainError::config(name, "must be a number ≥ 0"));
            }
        }
        for (name, (m, s)) in [
            ("alpha_init", self.alpha_init),
            ("beta_init", self.beta_init),
            ("gamma_init", self.gamma_init),
            ("theta_init", self.theta_init),
            ("phi_init", self.phi_init),
            ("sigma_init", self.sigma_init),
            ("mu_init", self.mu_init),
        ] {
            if !(m.is_finite() && s.is_finite() && s >= 0.0) {
                return Err(TrainError::config(
                    name,
                    "needs a finite mean and a std ≥ 0",
                ));
            }
        }
        if !self.kappa_init.is_finite() {
            return Err(TrainError::config("kappa_init", "must be finite"));
        }
        if self.init_draws == 0 {
            return Err(TrainError::config("init_draws", "must be at least 1"));
        }
        Ok(())
    }

    /// The estimated memory of a run in bytes, `(grid, batch)`, with `R = N − n_in`
    /// receivers, `C = N − n_out` senders and f64 (8 bytes) throughout:
    ///
    /// ```text
    /// grid  = R · C · 16 · 8        the closeness, D and their gradients (16 values a cell)
    /// batch = max(step, evaluation)
    /// step  = b · 8·N · 8           + b · 2·n_comp·C · 8 under the reference evaluator
    /// evaluation = e · 4·N · 8
    /// ```
    ///
    /// A training step holds eight values per neuron and sample: the fused forward pass's
    /// pre-activation `u` and activation `a` of every sender, the comps' `o` and the
    /// outputs with their transposed copies, then the backward's `u`, `a`, `ū`, `ā`, `x̄`
    /// ([`crate::kernels::forward`]); the reference evaluator also keeps, per comp,
    /// the `act` and `raw` rows its matmuls saved (`2·n_comp·C` values a sample). The
    /// evaluation is forward only (`u`, `a`, `o`, `y`: four values a neuron). `b` is the
    /// minibatch: `batch_size` on the toy task, and on MNIST at most the training images
    /// (`train_limit`, else the 60 000 of MNIST), since a batch cannot hold more; `e` is
    /// the evaluation's batch: [`crate::train::EVAL_BATCH`] test images on MNIST, the
    /// [`crate::train::TOY_TEST_SIZE`] toy test samples at once. Backends without the
    /// fused pass (the sweeps of `Dnm::outputs_sweeps`) hold about `depth` more comp
    /// layers a sample; the estimate does not count them.
    pub fn memory_bytes(&self) -> (f64, f64) {
        let grid = self.neurons.saturating_sub(self.inputs) as f64
            * self.neurons.saturating_sub(self.outputs) as f64;
        let (step, evaluation) = self.batch_bytes();
        (grid * 16.0 * 8.0, step.max(evaluation))
    }

    /// `(step, evaluation)` of [`DnmConfig::memory_bytes`].
    fn batch_bytes(&self) -> (f64, f64) {
        const F64: f64 = 8.0;
        let n = self.neurons as f64;
        let (b, e) = match self.task {
            Task::Toy => (self.batch_size, crate::train::TOY_TEST_SIZE),
            Task::Adding => (self.batch_size, crate::train::EVAL_BATCH),
            Task::Mnist | Task::RowMnist => {
                let images = match self.train_limit {
                    0 => MNIST_TRAIN_IMAGES,
                    limit => limit.min(MNIST_TRAIN_IMAGES),
                };
                (self.batch_size.min(images), crate::train::EVAL_BATCH)
            }
        };
        let mut per_sample = 8.0 * n;
        if self.evaluator == Evaluator::Reference {
            let senders = self.neurons.saturating_sub(self.outputs) as f64;
            let comps = self.neurons.saturating_sub(self.inputs + self.outputs) as f64;
            per_sample += 2.0 * comps * senders;
        }
        // A sequence keeps every time step's activations for the backward pass.
        let steps = self.time_steps() as f64;
        (
            b as f64 * per_sample * steps * F64,
            e as f64 * 4.0 * n * F64,
        )
    }

    /// The activation memory in MiB of a training step whose `D` has `kept` kept cells:
    /// `4 B × kept × batch × time steps` (28 for row-MNIST, else 1), the values a backward
    /// over the sparse products holds when it keeps one per kept cell, sample and time
    /// step (each cell's gradient `D̄_ij = Σ ō_i·a_j` reads its sender's value at every
    /// sample and step). The CPU kernels hold less (one value per sender, not per cell,
    /// and recompute the rest), so this is the memory of a per-cell implementation, the
    /// one whose footprint the wiring decides. With `kept = s · max_cells` it is the
    /// differentiable `M̃` of `λ_memory`.
    pub fn activation_mib(&self, kept: f64) -> f64 {
        let steps = self.time_steps();
        4.0 * kept * (self.batch_size * steps) as f64 / (1u64 << 20) as f64
    }

    /// The sequence task (row-MNIST, the adding problem of `adding_length` steps);
    /// `None` for the one-shot tasks.
    pub fn sequence_task(&self) -> Option<manifold_data::SequenceTask> {
        match self.task {
            Task::RowMnist => Some(manifold_data::SequenceTask::RowMnist),
            Task::Adding => Some(manifold_data::SequenceTask::Adding {
                length: self.adding_length,
            }),
            Task::Toy | Task::Mnist => None,
        }
    }

    /// The time steps of the adding problem's training sequences at training `step`:
    /// `adding_length`, or less during a curriculum (`curriculum_steps`).
    pub fn adding_train_length(&self, step: usize) -> usize {
        manifold_data::curriculum_length(
            self.curriculum_start,
            self.adding_length,
            self.curriculum_steps,
            step,
        )
    }

    /// `(time steps, inputs per step)` of a sequence task; `None` for the one-shot tasks.
    pub fn sequence(&self) -> Option<(usize, usize)> {
        self.sequence_task().map(|task| {
            let (steps, features, _) = task.shape();
            (steps, features)
        })
    }

    /// The passes a step makes through the network: a sequence's time steps, else 1.
    pub fn time_steps(&self) -> usize {
        self.sequence().map_or(1, |(steps, _)| steps)
    }

    /// The outputs that are predictions (the outputs less the carry neurons).
    pub fn classes(&self) -> usize {
        self.outputs.saturating_sub(self.carry)
    }

    /// The learning rate at `step` of the schedule.
    pub fn lr_at(&self, step: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Cosine => {
                let t = (step as f64 / self.steps.max(1) as f64).min(1.0);
                let lo = self.lr * self.lr_final_ratio;
                lo + 0.5 * (self.lr - lo) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

impl ModelConfig for DnmConfig {
    const RESUMABLE: &'static [&'static str] = &["steps", "lr", "eval_every"];

    /// [`DnmConfig::validate`], then the memory estimate of [`DnmConfig::memory_bytes`]
    /// (`grid + batch`) against the memory available. The error names the field of the
    /// larger term: `neurons` for the grid, `batch_size` for the batch (`neurons` when the
    /// evaluation's fixed-size batches are the larger part of it).
    fn validate(&self) -> Result<(), TrainError> {
        DnmConfig::validate(self)?;
        let (grid, _) = self.memory_bytes();
        let (step, evaluation) = self.batch_bytes();
        manifold_train::memory::check_model_and_batch_fit("neurons", grid, step, evaluation)
    }

    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }

    fn defaults() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_resolves_to_a_valid_config_and_others_are_refused_by_name() {
        for name in PRESETS {
            let config = DnmConfig::preset(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            DnmConfig::validate(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let layered = DnmConfig::preset("layered-mnist").unwrap();
        assert_eq!(layered.placement, Placement::Layered);
        assert_eq!(layered.density_term, DensityTerm::Surrogate);
        assert!(layered.surrogate_needed().is_some());
        let refused = DnmConfig::preset("huge-mnist").unwrap_err().to_string();
        assert!(refused.contains("preset"), "{refused}");
        assert!(refused.contains("`huge-mnist`") && refused.contains("layered-mnist"));
    }

    /// `fast-patches-mnist` is `patch-mnist` with exactly the settings of the frontier's
    /// group `dnm-fast-patches`, whose runs are its README rows, nothing else changed.
    #[test]
    fn fast_patches_mnist_is_patch_mnist_with_the_measured_settings() {
        let measured = DnmConfig {
            window: Window::Patches,
            surrogate_sharpness: 200.0,
            precision: Precision::F32,
            batch_size: 1000,
            lr: 9e-3,
            steps: 20_000,
            eval_every: 2000,
            record_every: 500,
            ..DnmConfig::patch_mnist()
        };
        assert_eq!(DnmConfig::preset("fast-patches-mnist").unwrap(), measured);
    }

    /// `seq-mnist-large` is `seq-mnist` with exactly the four settings its README rows
    /// were measured with (`neurons = 470, precision = "f32", batch_size = 100,
    /// wb_init_std = 0.3`), nothing else changed.
    #[test]
    fn seq_mnist_large_is_seq_mnist_with_the_measured_four_settings() {
        let large = DnmConfig::preset("seq-mnist-large").unwrap();
        let measured = DnmConfig {
            neurons: 470,
            precision: Precision::F32,
            batch_size: 100,
            wb_init_std: 0.3,
            ..DnmConfig::seq_mnist()
        };
        assert_eq!(large, measured);
        assert_eq!(large.neurons - large.inputs - large.outputs, 400);
    }

    /// `adding-t100-curriculum` is `adding-t100` with exactly the four settings its README
    /// rows were measured with (`curriculum_steps = 2500, curriculum_start = 10,
    /// lr = 0.05, init_draws = 10`), nothing else changed; its first training batch is 10
    /// time steps long, from step 2 500 on 100.
    #[test]
    fn adding_t100_curriculum_is_adding_t100_with_the_measured_four_settings() {
        let curriculum = DnmConfig::preset("adding-t100-curriculum").unwrap();
        let measured = DnmConfig {
            curriculum_steps: 2500,
            curriculum_start: 10,
            lr: 0.05,
            init_draws: 10,
            ..DnmConfig::adding_t100()
        };
        assert_eq!(curriculum, measured);
        let lengths = [0, 1250, 2499, 2500, 4999].map(|s| curriculum.adding_train_length(s));
        assert_eq!(lengths, [10, 55, 99, 100, 100]);
        assert_eq!(curriculum.time_steps(), 100);
    }

    /// The patch window folds MNIST's raster-ordered pixels into rows of `period`: it is
    /// refused, naming `window`, on a sequence task, along a Hilbert curve and with a
    /// period that does not divide the inputs.
    #[test]
    fn the_patch_window_needs_raster_mnist_and_whole_image_rows() {
        let patch = DnmConfig::patch_mnist();
        assert_eq!(patch.window, Window::Patch);
        patch.validate().unwrap();
        let refused = [
            DnmConfig::seq_mnist().with_window(Window::Patch),
            patch.clone().with_pixel_order(PixelOrder::Hilbert),
            patch.clone().with_period(27.0),
            patch.clone().with_period(28.5),
        ];
        for config in refused {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("window") && err.contains("patch"), "{err}");
        }
        assert!(DnmConfig::layered_mnist()
            .with_period(27.0)
            .validate()
            .is_ok());
    }

    /// The patches window puts the first of two comp layers on the image plane: it is
    /// refused, naming `window`, where the patch window is, and without exactly two comp
    /// layers of the layered placement.
    #[test]
    fn the_patches_window_needs_two_comp_layers() {
        let patches = DnmConfig::patch_mnist().with_window(Window::Patches);
        patches.validate().unwrap();
        let refused = [
            patches.clone().with_period(27.0),
            patches.clone().with_comp_layers(3),
            patches.clone().with_placement(Placement::Spread),
        ];
        for config in refused {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("window") && err.contains("patches"), "{err}");
        }
    }

    /// The adding problem takes (value, marker) pairs and answers one sum: its inputs and
    /// outputs are 2 and 1 plus the carry neurons, its sequences at least 2 steps; carry
    /// neurons on a one-shot task are refused naming the field.
    #[test]
    fn the_adding_task_checks_its_sizes_and_carry_needs_a_sequence() {
        let adding = DnmConfig::best_toy()
            .with_task(Task::Adding)
            .with_carry(4)
            .with_inputs(6)
            .with_outputs(5)
            .with_neurons(40)
            .with_adding_length(50);
        adding.validate().unwrap();
        assert_eq!(adding.sequence(), Some((50, 2)));
        assert_eq!(adding.time_steps(), 50);
        assert_eq!(adding.classes(), 1);
        let refused = adding
            .clone()
            .with_inputs(5)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("inputs") && refused.contains("2 + carry = 6"),
            "{refused}"
        );
        let refused = adding.clone().with_adding_length(1).validate().unwrap_err();
        assert!(refused.to_string().contains("adding_length"), "{refused}");
        let one_shot = DnmConfig::seed_toy().with_carry(1);
        let refused = one_shot.validate().unwrap_err().to_string();
        assert!(
            refused.contains("carry") && refused.contains("sequence task"),
            "{refused}"
        );
    }

    /// Under `layered` the comp layers lie in 1..=comps; other placements ignore them.
    #[test]
    fn comp_layers_outside_one_to_the_comps_are_refused_by_name() {
        let config = DnmConfig::large_mnist()
            .with_comps(1001)
            .with_placement(Placement::Layered);
        let refused = config.clone().with_comp_layers(0).validate().unwrap_err();
        assert!(refused.to_string().contains("comp_layers"), "{refused}");
        assert!(config.clone().with_comp_layers(1002).validate().is_err());
        assert!(config.clone().with_comp_layers(1001).validate().is_ok());
        let spread = config.with_placement(Placement::Spread).with_comp_layers(0);
        assert!(spread.validate().is_ok());
    }
    /// The estimate by hand: seed-toy (N = 25: 5 inputs, 16 comps, 4 outputs; R = 20
    /// receivers, C = 21 senders, batch 50) and a small MNIST grid (N = 800, R = 16,
    /// C = 790).
    #[test]
    fn the_memory_estimate_counts_the_grid_the_batch_and_the_evaluation() {
        let toy = DnmConfig::seed_toy();
        assert_eq!(
            toy.batch_bytes(),
            (50.0 * 200.0 * 8.0, 10_000.0 * 100.0 * 8.0)
        );
        assert_eq!(toy.memory_bytes(), (20.0 * 21.0 * 128.0, 8_000_000.0));
        let reference = toy.clone().with_evaluator(Evaluator::Reference);
        assert_eq!(
            reference.batch_bytes().0,
            50.0 * (200.0 + 2.0 * 16.0 * 21.0) * 8.0
        );
        // On the toy task the batch is what it says: a billion samples are 1.6 TB.
        let absurd = toy.with_batch_size(1_000_000_000);
        assert_eq!(absurd.memory_bytes().1, 1e9 * 200.0 * 8.0);
        let mnist = DnmConfig::new().with_neurons(800);
        assert_eq!(mnist.memory_bytes().0, 16.0 * 790.0 * 128.0);
        assert_eq!(
            mnist.batch_bytes(),
            (50.0 * 6400.0 * 8.0, 2000.0 * 3200.0 * 8.0)
        );
        // On MNIST a batch holds at most the training images.
        let whole = |c: DnmConfig| c.batch_bytes().0;
        assert_eq!(
            whole(mnist.clone().with_batch_size(1_000_000_000)),
            60_000.0 * 51_200.0
        );
        assert_eq!(
            whole(mnist.with_batch_size(1_000_000_000).with_train_limit(100)),
            100.0 * 51_200.0
        );
    }

    #[test]
    fn an_absurd_batch_is_refused_naming_batch_size_and_every_preset_fits_two_gigabytes() {
        let absurd = DnmConfig::seed_toy().with_batch_size(1_000_000_000);
        let err = ModelConfig::validate(&absurd).unwrap_err().to_string();
        assert!(
            err.starts_with("config field `batch_size`: needs about 1600"),
            "{err}"
        );
        for name in PRESETS {
            let config = DnmConfig::preset(name).unwrap();
            let (grid, batch) = config.memory_bytes();
            assert!(grid + batch < 2e9, "{name}: {grid} + {batch} bytes");
            ModelConfig::validate(&config).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
