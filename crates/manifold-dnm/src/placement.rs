//! Size-aware initialisation ([`Placement::Spread`], [`Placement::Layered`]): where each
//! receiver's gaussian window starts, and how wide the senders' `w`, `b` start, so that
//! a manifold of any size starts shallow, connected and with outputs of the same scale.
//!
//! ```text
//! row r (receiver i = n_in + r) centred at μ reads around sender  j* = i − d_r + μ
//! spread:   comp r:  j* = (r + ½)·n_in/n_comp          σ from sigma_init
//!           output:  j* = n_in + n_comp/2              σ' = n_comp/4
//! layered:  L = comp_layers layers of sizes n_0 … n_{L−1} (equal; the first ones one
//!           larger when L does not divide n_comp), layer ℓ starting at comp s_ℓ
//!           comp r of layer 0:      j* = (r + ½)·n_in/n_0                   σ from sigma_init
//!           comp r of layer ℓ + 1:  j* = n_in + s_ℓ + (r + ½)·n_ℓ/n_ℓ₊₁     σ' = σ'_init·n_ℓ/n_in
//!           output:                 j* = n_in + n_comp − n_last/2          σ' = n_last/4
//! senders:  inputs' w, b ~ N(0, s²)            comps' w, b ~ N(0, s²·min(1, 64/n_comp))
//! ```

use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::{DnmConfig, Placement, Window};
use crate::model::normal;

/// Comps the outputs' sums are scaled for under [`Placement::Spread`] and
/// [`Placement::Layered`].
pub const SPREAD_REFERENCE_COMPS: f64 = 64.0;

/// `w` or `b` of every sender, mean 0: std `wb_init_std` for all (the original); under
/// [`Placement::Spread`] and [`Placement::Layered`] the comps' std is
/// `wb_init_std·√(64/n_comp)` (at most `wb_init_std`), since each output starts summing about a third of all comps and its
/// sum would otherwise grow as `√n_comp`.
pub(crate) fn sender_init<B: Backend>(
    config: &DnmConfig,
    device: &B::Device,
) -> Param<Tensor<B, 1>> {
    let cols = config.neurons - config.outputs;
    let std = config.wb_init_std;
    match config.placement {
        Placement::Original => normal(cols, (0.0, std), device),
        Placement::Spread | Placement::Layered => {
            let comp_std = std
                * (SPREAD_REFERENCE_COMPS / config.comps() as f64)
                    .sqrt()
                    .min(1.0);
            let unit = drawn::<B>(cols, (0.0, 1.0), device);
            let values = unit
                .iter()
                .enumerate()
                .map(|(j, e)| e * if j < config.inputs { std } else { comp_std });
            param(values.collect(), device)
        }
    }
}

/// `n` draws of the backend's seeded `N(mean, std)`, on the host.
fn drawn<B: Backend>(n: usize, mean_std: (f64, f64), device: &B::Device) -> Vec<f64> {
    normal::<B>(n, mean_std, device)
        .val()
        .into_data()
        .convert::<f64>()
        .into_vec::<f64>()
        .expect("float parameters")
}

fn param<B: Backend>(values: Vec<f64>, device: &B::Device) -> Param<Tensor<B, 1>> {
    let n = values.len();
    Param::from_tensor(Tensor::from_data(TensorData::new(values, [n]), device))
}

/// `means + N(0, std)`, one value per mean.
fn around<B: Backend>(means: Vec<f64>, std: f64, device: &B::Device) -> Param<Tensor<B, 1>> {
    let noise = drawn::<B>(means.len(), (0.0, std), device);
    param(
        means.iter().zip(noise).map(|(m, e)| m + e).collect(),
        device,
    )
}

/// σ and μ of every receiver (drawn in that order): from `sigma_init` and `mu_init`
/// (the original), or under [`Placement::Spread`] and [`Placement::Layered`] around
/// [`spread_widths`] and [`spread_centres`] with those inits' stds.
pub(crate) fn gaussians<B: Backend>(
    config: &DnmConfig,
    device: &B::Device,
) -> (Param<Tensor<B, 1>>, Param<Tensor<B, 1>>) {
    let rows = config.neurons - config.inputs;
    match config.placement {
        Placement::Original => {
            let sigma = normal(rows, config.sigma_init, device);
            (sigma, normal(rows, config.mu_init, device))
        }
        Placement::Spread | Placement::Layered => {
            let sigma = around(spread_widths(config), config.sigma_init.1, device);
            (
                sigma,
                around(spread_centres(config), config.mu_init.1, device),
            )
        }
    }
}

/// μ of every row under [`Placement::Spread`]: comp `r` centred on input
/// `(r + ½)·n_in/n_comp`, outputs on the middle comp; under [`Placement::Layered`] the
/// first layer's comps tile the image, each later layer's tile the layer before, and
/// the outputs sit on the last layer's middle (module docs). In grid coordinates
/// `p = j − i + d_r`.
pub fn spread_centres(config: &DnmConfig) -> Vec<f64> {
    let g = config.geometry();
    let layers = layers(config);
    let n_in = g.inputs as f64;
    let last = *layers.last().expect("at least one layer") as f64;
    let mut targets = Vec::with_capacity(g.rows());
    let mut start = 0;
    for (l, &size) in layers.iter().enumerate() {
        let (from, width) = match l {
            0 => (0.0, n_in),
            _ => (n_in + (start - layers[l - 1]) as f64, layers[l - 1] as f64),
        };
        targets.extend((0..size).map(|r| from + (r as f64 + 0.5) * width / size as f64));
        start += size;
    }
    targets.resize(g.rows(), n_in + g.comps as f64 - last / 2.0);
    targets
        .iter()
        .enumerate()
        .map(|(r, target)| target - (g.inputs + r) as f64 + g.offset(r))
        .collect()
}

/// The sizes of the comp layers, in order: all comps in one under `spread`,
/// `comp_layers` equal ones under `layered` (the first `n_comp mod L` one larger).
fn layers(config: &DnmConfig) -> Vec<usize> {
    let comps = config.comps();
    let count = match config.placement {
        Placement::Layered => config.comp_layers.clamp(1, comps.max(1)),
        _ => 1,
    };
    (0..count)
        .map(|l| comps / count + usize::from(l < comps % count))
        .collect()
}

/// softplus(x) = ln(1 + eˣ), finite for every x.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// softplus⁻¹(y) = ln(eʸ − 1) = y + ln(1 − e^−y).
fn softplus_inverse(y: f64) -> f64 {
    y + (-(-y).exp()).ln_1p()
}

/// Raw σ of every row under [`Placement::Spread`]: `sigma_init`'s mean for comps, the
/// raw value whose softplus is `n_comp/4` for outputs; under [`Placement::Layered`] layer
/// `ℓ + 1`'s σ' is the first's times `n_ℓ/n_in` (times `P` under [`Window::Patch`], whose
/// first-layer width is in image rows; under [`Window::Patches`] the second layer reads
/// the first on the image plane, and its σ' is the first's, in pixels) and the outputs'
/// `n_last/4`.
pub fn spread_widths(config: &DnmConfig) -> Vec<f64> {
    let layers = layers(config);
    // A patch's width is in image rows; along the sender index its window spans `P` times
    // as many inputs, which the later layers' widths scale from.
    let along = match config.window {
        Window::Line => 1.0,
        Window::Patch | Window::Patches => config.period,
    };
    let first = softplus(config.sigma_init.0) * along;
    let mut widths = vec![config.sigma_init.0; layers[0]];
    for pair in layers.windows(2) {
        let raw = match config.window {
            Window::Patches => config.sigma_init.0,
            _ => softplus_inverse(first * pair[0] as f64 / config.inputs as f64),
        };
        widths.extend(std::iter::repeat_n(raw, pair[1]));
    }
    let last = *layers.last().expect("at least one layer") as f64;
    widths.resize(config.neurons - config.inputs, softplus_inverse(last / 4.0));
    widths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Pattern;
    use crate::model::{Dnm, Structure};
    use crate::Grid;
    use std::sync::Arc;

    type B = burn_ndarray::NdArray<f32>;

    /// The structure of a fresh network's `D` (kept cells, no surrogate).
    fn initial(config: &DnmConfig) -> (Structure, Arc<Pattern>) {
        let dev = Default::default();
        B::seed(&dev, 0);
        let grid = Grid::<B>::of(config, &dev);
        let kept = Dnm::<B>::new(config, &dev)
            .kept(&grid, None)
            .expect("ndarray has the kept-cell kernels");
        (Structure::of_pattern(&kept.pattern), kept.pattern)
    }

    #[test]
    fn spread_centres_put_comps_on_the_image_and_outputs_on_the_middle_comp() {
        let config = DnmConfig::large_mnist().with_comps(3000);
        let g = config.geometry();
        let centres = spread_centres(&config);
        let column = |r: usize| centres[r] + (g.inputs + r) as f64 - g.offset(r);
        assert!((column(0) - 784.0 / 6000.0).abs() < 1e-9, "{}", column(0));
        assert!((column(2999) - 2999.5 * 784.0 / 3000.0).abs() < 1e-9);
        assert!((column(3000) - (784.0 + 1500.0)).abs() < 1e-9);
        let widths = spread_widths(&config);
        assert!((softplus(widths[3005]) - 750.0).abs() < 1e-9);
        assert_eq!(widths[0], config.sigma_init.0);
    }

    #[test]
    fn layered_centres_put_the_second_half_on_the_first_and_outputs_on_the_second() {
        let config = DnmConfig::large_mnist()
            .with_comps(3000)
            .with_placement(Placement::Layered);
        let g = config.geometry();
        let centres = spread_centres(&config);
        let column = |r: usize| centres[r] + (g.inputs + r) as f64 - g.offset(r);
        assert!(
            (column(0) - 0.5 * 784.0 / 1500.0).abs() < 1e-9,
            "{}",
            column(0)
        );
        assert!((column(1499) - 1499.5 * 784.0 / 1500.0).abs() < 1e-9);
        assert!((column(1500) - 784.5).abs() < 1e-9, "{}", column(1500));
        assert!((column(2999) - (784.0 + 1499.5)).abs() < 1e-9);
        assert!((column(3000) - (784.0 + 1500.0 + 750.0)).abs() < 1e-9);
        let widths = spread_widths(&config);
        assert_eq!(widths[0], config.sigma_init.0);
        let scaled = softplus(config.sigma_init.0) * 1500.0 / 784.0;
        assert!((softplus(widths[1500]) - scaled).abs() < 1e-9);
        assert!((softplus(widths[3009]) - 375.0).abs() < 1e-9);
    }

    /// Under the patches window the second layer reads the first on the image plane, so
    /// its σ' is the first's, in pixels (under the patch window: `P·n_1/n_in` times it,
    /// along the sender index); the outputs keep `n_last/4`.
    #[test]
    fn under_patches_the_second_layer_starts_as_wide_as_the_first() {
        let patch = DnmConfig::patch_mnist();
        let patches = patch.clone().with_window(Window::Patches);
        let (along, on_plane) = (spread_widths(&patch), spread_widths(&patches));
        let first = softplus(patch.sigma_init.0);
        assert_eq!(on_plane[..500], along[..500]);
        assert!(on_plane[500..1000].iter().all(|&w| w == patch.sigma_init.0));
        assert!((softplus(along[500]) - first * 28.0 * 500.0 / 784.0).abs() < 1e-9);
        assert_eq!(on_plane[1000..], along[1000..]);
        assert_eq!(patches.geometry().plane(), 500);
    }

    /// Three layers of 1 001 comps: sizes 334, 334, 333; each layer tiles the one before
    /// with its width scaled by that layer's share of the image's size.
    #[test]
    fn three_layers_tile_each_other() {
        let config = DnmConfig::large_mnist()
            .with_comps(1001)
            .with_placement(Placement::Layered)
            .with_comp_layers(3);
        assert_eq!(layers(&config), vec![334, 334, 333]);
        let g = config.geometry();
        let centres = spread_centres(&config);
        let column = |r: usize| centres[r] + (g.inputs + r) as f64 - g.offset(r);
        let expected = [
            (0, 0.5 * 784.0 / 334.0),
            (333, 333.5 * 784.0 / 334.0),
            (334, 784.5),
            (667, 784.0 + 333.5),
            (668, 784.0 + 334.0 + 0.5 * 334.0 / 333.0),
            (1000, 784.0 + 334.0 + 332.5 * 334.0 / 333.0),
            (1001, 784.0 + 1001.0 - 333.0 / 2.0),
        ];
        for (r, want) in expected {
            assert!((column(r) - want).abs() < 1e-9, "row {r}: {}", column(r));
        }
        let widths = spread_widths(&config);
        let scaled = softplus(config.sigma_init.0) * 334.0 / 784.0;
        assert_eq!(widths[333], config.sigma_init.0);
        assert!((softplus(widths[334]) - scaled).abs() < 1e-9);
        assert!((softplus(widths[1000]) - scaled).abs() < 1e-9);
        assert!((softplus(widths[1010]) - 333.0 / 4.0).abs() < 1e-9);
    }

    /// Under the layered placement the first half of the comps reads mostly pixels, the
    /// second half mostly first-half comps, the outputs mostly second-half comps: about
    /// two layers, nearly every pixel-to-output path through a leaky ReLU.
    #[test]
    fn layered_placement_starts_as_two_layers() {
        let comps = 1000;
        let config = DnmConfig::large_mnist()
            .with_comps(comps)
            .with_placement(Placement::Layered);
        let (s, pattern) = initial(&config);
        let (inputs, first) = (784u32, 784 + comps as u32 / 2);
        let share = |rows: std::ops::Range<usize>, from: std::ops::Range<u32>| {
            let cells: Vec<u32> = rows.flat_map(|r| pattern.row(r).1.to_vec()).collect();
            let inside = cells.iter().filter(|j| from.contains(j)).count();
            inside as f64 / cells.len().max(1) as f64
        };
        let shares = [
            share(0..comps / 2, 0..inputs),
            share(comps / 2..comps, inputs..first),
            share(comps..comps + 10, first..784 + comps as u32),
        ];
        // Measured: 0.967, 0.940, 1.0 (the windows' tails at the layers' ends reach
        // into the next layer).
        assert!(s.depth <= 2 && s.connected, "{s:?}");
        assert!(shares.iter().all(|&x| x > 0.9), "{shares:?}");
    }

    /// The original placement's initial DAG deepens with the size (comps read ever
    /// later comps); the spread placement starts at most two levels deep at any size,
    /// with inputs reaching outputs and the outputs reading most comps.
    #[test]
    fn spread_placement_starts_shallow_at_any_size() {
        for comps in [206, 3000] {
            let spread = DnmConfig::large_mnist().with_comps(comps);
            let (s, pattern) = initial(&spread);
            assert!(s.depth <= 2 && s.connected, "{comps} comps, spread: {s:?}");
            let mut read = vec![false; comps];
            for r in comps..comps + 10 {
                for &j in pattern.row(r).1 {
                    if j as usize >= 784 {
                        read[j as usize - 784] = true;
                    }
                }
            }
            let share = read.iter().filter(|&&x| x).count() as f64 / comps as f64;
            assert!(
                share > 0.5,
                "{comps} comps: outputs read {share:.2} of the comps"
            );
        }
        let original = DnmConfig::large_mnist()
            .with_comps(3000)
            .with_placement(Placement::Original);
        let (s, _) = initial(&original);
        assert!(s.depth > 100, "original placement at 3 000 comps: {s:?}");
    }

    /// Under the spread placement the comps' `w` and `b` start `√(64/n_comp)` as wide as
    /// the inputs'; the original placement draws every sender alike.
    #[test]
    fn spread_placement_scales_the_comps_senders() {
        let std = |v: &[f32]| {
            let m = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
            (v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
        };
        let dev = Default::default();
        let config = DnmConfig::large_mnist().with_comps(4096);
        let w: Vec<f32> = Dnm::<B>::new(&config, &dev)
            .w
            .val()
            .into_data()
            .to_vec()
            .unwrap();
        let (inputs, comps) = (std(&w[..784]), std(&w[784..]));
        assert!((inputs - 1.0).abs() < 0.1, "inputs' std {inputs}");
        assert!((comps - 0.125).abs() < 0.01, "comps' std {comps}, want 1/8");
    }
}
