//! The DNM toy regression task: five standard-normal inputs `a, b, c, d, e`, four
//! targets `[b+e, e-d, b+e+d, e-d-c]`. Input `a` is deliberately unused.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Inputs per sample.
pub const TOY_INPUTS: usize = 5;
/// Targets per sample.
pub const TOY_OUTPUTS: usize = 4;

/// The targets of one input row `[a, b, c, d, e]`.
pub fn toy_targets(x: &[f32]) -> [f32; TOY_OUTPUTS] {
    let (b, c, d, e) = (x[1], x[2], x[3], x[4]);
    [b + e, e - d, b + e + d, e - d - c]
}

/// `n` fresh samples: `(x, y)` row-major, `n×5` and `n×4`.
pub fn toy_batch<R: Rng>(rng: &mut R, n: usize) -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..n * TOY_INPUTS)
        .map(|_| StandardNormal.sample(rng))
        .collect();
    let y = x.chunks(TOY_INPUTS).flat_map(toy_targets).collect();
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn targets_follow_the_formula_and_ignore_a() {
        assert_eq!(
            toy_targets(&[9.0, 1.0, 2.0, 3.0, 4.0]),
            [5.0, 1.0, 8.0, -1.0]
        );
        assert_eq!(
            toy_targets(&[-7.0, 1.0, 2.0, 3.0, 4.0]),
            [5.0, 1.0, 8.0, -1.0]
        );
    }

    #[test]
    fn batch_is_standard_normal_and_consistent() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let (x, y) = toy_batch(&mut rng, 20_000);
        assert_eq!((x.len(), y.len()), (100_000, 80_000));
        let mean = x.iter().sum::<f32>() / x.len() as f32;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / x.len() as f32;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "mean {mean} var {var}"
        );
        assert_eq!(&y[4..8], &toy_targets(&x[5..10]));
    }
}
