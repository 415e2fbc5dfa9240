//! The evolution step after an epoch: in every layer that is not fully connected,
//! remove the ζ-fraction of connections closest to zero ([`prune_slots`]), move those
//! slots to random empty positions with fresh `N(0, (s·σ₀)²)` weights (SET), or to the
//! empty positions of largest dense gradient with weight 0 (RigL,
//! [`strongest_positions`]), and reset their optimiser state. The connection count is
//! unchanged.

use burn::tensor::backend::Backend;
use rand::SeedableRng;

use crate::config::SetConfig;
use crate::layer::{Connections, SparseLinear};
use crate::model::SetMlp;
use crate::optim::{Moments, SparseAdam};
use crate::topology::{
    init_std, normal_weights, prune_slots, regrow_positions, strongest_positions,
};

/// What one evolution step recycled in each layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Evolution {
    /// Slots pruned and regrown, one count per layer (0 for a fully connected layer).
    pub recycled: Vec<usize>,
}

/// The RNG of the evolution after `epoch` in `layer`: fixed by the seed, so a resumed
/// run evolves exactly as an uninterrupted one.
fn evolve_rng(seed: u64, epoch: usize, layer: usize) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(
        seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ ((layer as u64) << 48),
    )
}

/// Evolves every sparse layer of `model` and resets the recycled slots in `state`;
/// `gradients` (one dense gradient per layer, see [`strongest_positions`]) makes the
/// regrowth RigL's.
pub fn evolve<B: Backend, O: Backend>(
    model: SetMlp<B>,
    state: &mut SparseAdam<O>,
    config: &SetConfig,
    epoch: usize,
    gradients: Option<&[Vec<f32>]>,
) -> (SetMlp<B>, Evolution) {
    let SetMlp { layers, dropout } = model;
    let mut recycled = Vec::new();
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(l, layer)| {
            let mut rng = evolve_rng(config.seed, epoch, l);
            let g = gradients.map(|g| &g[l][..]);
            let (layer, slots) = evolve_layer(layer, &mut state.weights[l], config, g, &mut rng);
            recycled.push(slots);
            layer
        })
        .collect();
    (SetMlp { layers, dropout }, Evolution { recycled })
}

/// Prunes and regrows one layer (RigL's way when its dense `gradient` is given);
/// returns it and the number of recycled slots.
pub fn evolve_layer<B: Backend, O: Backend, R: rand::Rng>(
    layer: SparseLinear<B>,
    moments: &mut Moments<O>,
    config: &SetConfig,
    gradient: Option<&[f32]>,
    rng: &mut R,
) -> (SparseLinear<B>, usize) {
    let (n_in, n_out) = (layer.n_in, layer.n_out);
    if layer.nnz() >= n_in * n_out {
        return (layer, 0);
    }
    let mut c: Connections = layer.connections();
    let slots = prune_slots(&c.weights, config.zeta, config.prune_rule);
    if slots.is_empty() {
        return (layer, 0);
    }
    let occupied: Vec<(usize, usize)> =
        c.rows.iter().copied().zip(c.cols.iter().copied()).collect();
    let (positions, fresh) = match gradient {
        Some(g) => (
            strongest_positions(n_in, n_out, &occupied, &slots, g),
            vec![0.0; slots.len()],
        ),
        None => {
            let positions = regrow_positions(n_in, n_out, &occupied, &slots, rng);
            let density = layer.nnz() as f64 / (n_in * n_out) as f64;
            let std = config.regrow_scale * init_std(n_in, density);
            (positions, normal_weights(slots.len(), std, rng))
        }
    };
    for ((&k, &(r, col)), w) in slots.iter().zip(&positions).zip(fresh) {
        c.rows[k] = r;
        c.cols[k] = col;
        c.weights[k] = w;
    }
    moments.reset(&slots);
    let device = layer.weights.device();
    (layer.with_connections(&c, &device), slots.len())
}
