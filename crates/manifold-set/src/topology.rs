//! The sparse topology on the host: Erdős–Rényi sampling, the pruning rule and random
//! regrowth. Pure functions over plain vectors; the layers and the optimiser apply
//! what they return.
//!
//! A connection is a *slot* `k` holding `(row_k, col_k)` (input `row_k` → output
//! `col_k`) and weight `w_k`. Evolution keeps the slots and moves the recycled ones:
//! slot `k` gets a new position and a fresh weight, so the connection count is constant.

use std::collections::HashSet;

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::config::PruneRule;

/// `nnz = round(density · n_in · n_out)` distinct positions drawn uniformly, as
/// `(rows, cols)` sorted by `row · n_out + col`. At least one connection.
pub fn erdos_renyi<R: Rng>(
    n_in: usize,
    n_out: usize,
    density: f64,
    rng: &mut R,
) -> (Vec<usize>, Vec<usize>) {
    let total = n_in * n_out;
    let nnz = ((density * total as f64).round() as usize).clamp(1, total);
    let mut flat = rand::seq::index::sample(rng, total, nnz).into_vec();
    flat.sort_unstable();
    flat.iter().map(|&f| (f / n_out, f % n_out)).unzip()
}

/// The slots to remove: with [`PruneRule::Paper`], the `⌊ζ·|P|⌋` smallest of the
/// non-negative weights P and the `⌊ζ·|N|⌋` largest (closest to zero) of the negative
/// weights N; with [`PruneRule::Magnitude`], the `⌊ζ·nnz⌋` of smallest |w|.
/// Ties are broken by slot order. Returned sorted.
pub fn prune_slots(weights: &[f32], zeta: f64, rule: PruneRule) -> Vec<usize> {
    let lowest = |mut slots: Vec<usize>, key: &dyn Fn(f32) -> f32| -> Vec<usize> {
        let k = (zeta * slots.len() as f64).floor() as usize;
        slots.sort_by(|&a, &b| key(weights[a]).total_cmp(&key(weights[b])).then(a.cmp(&b)));
        slots.truncate(k);
        slots
    };
    let mut out = match rule {
        PruneRule::Paper => {
            let (pos, neg): (Vec<usize>, Vec<usize>) =
                (0..weights.len()).partition(|&k| weights[k] >= 0.0);
            let mut out = lowest(pos, &|w| w);
            out.extend(lowest(neg, &|w| -w));
            out
        }
        PruneRule::Magnitude => lowest((0..weights.len()).collect(), &|w: f32| w.abs()),
    };
    out.sort_unstable();
    out
}

/// New positions for `count` recycled slots: uniform over the positions not occupied
/// before pruning (`occupied`); if too few are free, over those not kept.
pub fn regrow_positions<R: Rng>(
    n_in: usize,
    n_out: usize,
    occupied: &[(usize, usize)],
    removed: &[usize],
    rng: &mut R,
) -> Vec<(usize, usize)> {
    let total = n_in * n_out;
    let count = removed.len();
    let removed_set: HashSet<usize> = removed.iter().copied().collect();
    let mut taken: HashSet<usize> = occupied
        .iter()
        .enumerate()
        .filter(|(k, _)| total - occupied.len() >= count || !removed_set.contains(k))
        .map(|(_, &(r, c))| r * n_out + c)
        .collect();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let f = rng.random_range(0..total);
        if taken.insert(f) {
            out.push((f / n_out, f % n_out));
        }
    }
    out
}

/// RigL's regrowth: new positions for the `removed` slots, the free positions (not
/// occupied before pruning; if too few are free, not kept) of largest `|g|`, where `g`
/// is the layer's dense gradient, row-major `[n_out, n_in]` (`g[col·n_in + row]`). Ties
/// go to the lower position, so the choice is a function of `g` alone.
pub fn strongest_positions(
    n_in: usize,
    n_out: usize,
    occupied: &[(usize, usize)],
    removed: &[usize],
    g: &[f32],
) -> Vec<(usize, usize)> {
    let total = n_in * n_out;
    let count = removed.len();
    let removed_set: HashSet<usize> = removed.iter().copied().collect();
    let taken: HashSet<usize> = occupied
        .iter()
        .enumerate()
        .filter(|(k, _)| total - occupied.len() >= count || !removed_set.contains(k))
        .map(|(_, &(r, c))| c * n_in + r)
        .collect();
    let mut free: Vec<usize> = (0..total).filter(|f| !taken.contains(f)).collect();
    let stronger = |a: &usize, b: &usize| g[*b].abs().total_cmp(&g[*a].abs()).then(a.cmp(b));
    if count > 0 && count < free.len() {
        free.select_nth_unstable_by(count - 1, stronger);
        free.truncate(count);
    }
    free.sort_unstable_by(stronger);
    free.into_iter().map(|f| (f % n_in, f / n_in)).collect()
}

/// He-style initial std of a sparse ReLU layer: `√(2 / (density · n_in))`.
pub fn init_std(n_in: usize, density: f64) -> f64 {
    (2.0 / (density * n_in as f64).max(1.0)).sqrt()
}

/// `n` weights drawn from `N(0, std²)`.
pub fn normal_weights<R: Rng>(n: usize, std: f64, rng: &mut R) -> Vec<f32> {
    let normal = Normal::new(0.0, std.max(f64::MIN_POSITIVE)).expect("finite std");
    (0..n).map(|_| normal.sample(rng) as f32).collect()
}

/// Connections per input unit: `counts[i] = #{k : row_k = i}`.
pub fn connections_per_input(rows: &[usize], n_in: usize) -> Vec<f32> {
    let mut counts = vec![0.0; n_in];
    for &r in rows {
        counts[r] += 1.0;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A 3-in, 2-out layer with (0→0) and (1→1) kept and slot 0 removed: the four free
    /// positions, by |g| (g[col·3 + row]): (2→1) 0.9, (1→0) −0.7, (0→1) 0.2, (2→0) 0.1.
    #[test]
    fn rigl_regrows_at_the_largest_dense_gradients() {
        let occupied = [(0, 0), (1, 1)];
        let g = [5.0, -0.7, 0.1, 0.2, 5.0, 0.9];
        assert_eq!(strongest_positions(3, 2, &occupied, &[0], &g), [(2, 1)]);
        let two = strongest_positions(3, 2, &occupied, &[0, 1], &g);
        assert_eq!(two, [(2, 1), (1, 0)]);
        // Equal magnitudes go to the lower position.
        let flat = [0.0, 1.0, 1.0, 1.0, 0.0, 1.0];
        assert_eq!(strongest_positions(3, 2, &occupied, &[0], &flat), [(1, 0)]);
        // A full layer but for the removed slots regrows among those.
        let all: Vec<(usize, usize)> = (0..3).flat_map(|r| (0..2).map(move |c| (r, c))).collect();
        let back = strongest_positions(3, 2, &all, &[5], &g);
        assert_eq!(back.len(), 1);
    }

    #[test]
    fn erdos_renyi_has_the_density_and_no_duplicates() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (r, c) = erdos_renyi(784, 1000, 0.04, &mut rng);
        assert_eq!(r.len(), (0.04f64 * 784_000.0).round() as usize);
        let set: HashSet<(usize, usize)> = r.iter().copied().zip(c.iter().copied()).collect();
        assert_eq!(set.len(), r.len());
        assert!(r.iter().all(|&x| x < 784) && c.iter().all(|&x| x < 1000));
    }

    #[test]
    fn paper_rule_removes_smallest_positive_and_largest_negative() {
        //          slot: 0     1    2     3    4     5     6    7     8    9
        let w = [0.5, -0.1, 0.05, -0.9, 0.2, -0.02, 0.7, -0.3, 0.01, 0.4];
        // positives 0,2,4,6,8,9 (6) → remove ⌊0.5·6⌋ = 3: 0.01 (8), 0.05 (2), 0.2 (4)
        // negatives 1,3,5,7 (4) → remove ⌊0.5·4⌋ = 2: −0.02 (5), −0.1 (1)
        assert_eq!(prune_slots(&w, 0.5, PruneRule::Paper), vec![1, 2, 4, 5, 8]);
        // magnitude: ⌊0.5·10⌋ = 5 smallest |w|: 0.01, 0.02, 0.05, 0.1, 0.2
        assert_eq!(
            prune_slots(&w, 0.5, PruneRule::Magnitude),
            vec![1, 2, 4, 5, 8]
        );
        // ζ = 0.3 differs between the rules: paper ⌊1.8⌋=1 pos + ⌊1.2⌋=1 neg
        assert_eq!(prune_slots(&w, 0.3, PruneRule::Paper), vec![5, 8]);
        assert_eq!(prune_slots(&w, 0.3, PruneRule::Magnitude), vec![2, 5, 8]);
        assert!(prune_slots(&w, 0.0, PruneRule::Paper).is_empty());
    }

    #[test]
    fn regrowth_lands_on_free_positions() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let occupied: Vec<(usize, usize)> = (0..6).map(|i| (i, i % 3)).collect();
        let new = regrow_positions(6, 3, &occupied, &[0, 4], &mut rng);
        assert_eq!(new.len(), 2);
        assert!(new.iter().all(|p| !occupied.contains(p)));
        assert_ne!(new[0], new[1]);
    }

    #[test]
    fn connection_counts() {
        assert_eq!(
            connections_per_input(&[0, 2, 2, 1, 2], 4),
            vec![1.0, 1.0, 3.0, 0.0]
        );
    }
}
