//! The adding problem (Hochreiter & Schmidhuber 1997), a sequence task that needs memory:
//! a sequence of `T` steps, each a pair `(value, marker)` with `value ~ U[0, 1]`; exactly
//! two markers are 1, one in each half of the sequence, and the target is the sum of the
//! two marked values. Answering the mean of the target, 1, scores the target's
//! variance, `2/12 ≈ 0.167`, in mean squared error; a model that remembers both values
//! scores 0.
//!
//! ```
//! use manifold_data::{adding_batch, ADDING_FEATURES};
//! use rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(0);
//! let (x, y) = adding_batch(&mut rng, 4, 100);
//! assert_eq!((x.len(), y.len()), (4 * 100 * ADDING_FEATURES, 4));
//! ```

use rand::Rng;

/// Features per time step: the value and the marker.
pub const ADDING_FEATURES: usize = 2;

/// The MSE of always answering 1 (the target's mean): the variance of a sum of two
/// independent `U[0, 1]`.
pub const ADDING_CONSTANT_MSE: f64 = 2.0 / 12.0;

/// `n` fresh sequences of `length` steps: inputs `[n, length, 2]` row-major (value,
/// marker per step) and targets `[n]`. The first marker falls uniformly in the first
/// half (`0..length/2`), the second in the second half. Needs `length ≥ 2`.
pub fn adding_batch<R: Rng>(rng: &mut R, n: usize, length: usize) -> (Vec<f32>, Vec<f32>) {
    assert!(length >= 2, "the adding problem needs two steps or more");
    let half = length / 2;
    let mut x = vec![0.0f32; n * length * ADDING_FEATURES];
    let mut y = Vec::with_capacity(n);
    for sequence in x.chunks_mut(length * ADDING_FEATURES) {
        for step in sequence.chunks_mut(ADDING_FEATURES) {
            step[0] = rng.random::<f32>();
        }
        let marked = [rng.random_range(0..half), rng.random_range(half..length)];
        for &t in &marked {
            sequence[t * ADDING_FEATURES + 1] = 1.0;
        }
        y.push(marked.iter().map(|&t| sequence[t * ADDING_FEATURES]).sum());
    }
    (x, y)
}

/// The length of the training sequences at training step `step` under a length
/// curriculum: `start` time steps at step 0, growing linearly to `length` at step `ramp`
/// and `length` from there on,
///
/// ```text
/// T(step) = start + ⌊(length − start) · step / ramp⌋   (step < ramp)
/// ```
///
/// `ramp = 0` (no curriculum) or `start ≥ length`: always `length`.
///
/// ```
/// use manifold_data::curriculum_length;
///
/// assert_eq!(curriculum_length(10, 100, 1000, 0), 10);
/// assert_eq!(curriculum_length(10, 100, 1000, 500), 55);
/// assert_eq!(curriculum_length(10, 100, 1000, 1000), 100);
/// assert_eq!(curriculum_length(10, 100, 0, 0), 100);
/// ```
pub fn curriculum_length(start: usize, length: usize, ramp: usize, step: usize) -> usize {
    if ramp == 0 || start >= length || step >= ramp {
        return length;
    }
    start + (length - start) * step / ramp
}

/// Checks a curriculum's first length against the task's `length`: it must lie in
/// `2 ..= length`. The error is the message for the config field that holds `start`.
pub fn check_curriculum_start(start: usize, length: usize) -> Result<(), String> {
    if (2..=length).contains(&start) {
        Ok(())
    } else {
        Err(format!(
            "must lie in 2 ..= the adding problem's length {length} (got {start})"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Two markers per sequence, one in each half; the target is the sum of the marked
    /// values, read back by hand; the same seed gives the same batch.
    #[test]
    fn each_target_is_the_sum_of_the_two_marked_values() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let (length, n) = (50, 200);
        let (x, y) = adding_batch(&mut rng, n, length);
        for (s, sequence) in x.chunks(length * ADDING_FEATURES).enumerate() {
            let marked: Vec<usize> = (0..length)
                .filter(|&t| sequence[t * ADDING_FEATURES + 1] == 1.0)
                .collect();
            assert_eq!(marked.len(), 2);
            assert!(marked[0] < length / 2 && marked[1] >= length / 2);
            let sum = sequence[marked[0] * 2] + sequence[marked[1] * 2];
            assert_eq!(y[s], sum);
            assert!(sequence.iter().all(|v| (0.0..=1.0).contains(v)));
        }
        let mut again = rand::rngs::StdRng::seed_from_u64(3);
        assert_eq!(adding_batch(&mut again, n, length), (x, y));
    }

    /// Answering 1 scores the target's variance, 1/6, on a large batch.
    #[test]
    fn the_constant_answer_scores_one_sixth() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let (_, y) = adding_batch(&mut rng, 100_000, 10);
        let mse = y.iter().map(|&v| (v as f64 - 1.0).powi(2)).sum::<f64>() / y.len() as f64;
        assert!((mse - ADDING_CONSTANT_MSE).abs() < 0.003, "{mse}");
    }

    /// The curriculum starts at `start`, never shrinks from one step to the next, reaches
    /// `length` exactly at `ramp` and stays there.
    #[test]
    fn the_curriculum_grows_from_its_start_to_the_length() {
        let lengths: Vec<usize> = (0..1200)
            .map(|s| curriculum_length(2, 50, 1000, s))
            .collect();
        assert_eq!(lengths[0], 2);
        assert_eq!(lengths[999], 49);
        assert!(lengths[1000..].iter().all(|&t| t == 50));
        assert!(lengths.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(curriculum_length(60, 50, 1000, 0), 50);
        assert!(check_curriculum_start(2, 50).is_ok() && check_curriculum_start(50, 50).is_ok());
        let refused = check_curriculum_start(51, 50).unwrap_err();
        assert!(
            refused.contains("50") && refused.contains("51"),
            "{refused}"
        );
        assert!(check_curriculum_start(1, 50).is_err());
    }
}
