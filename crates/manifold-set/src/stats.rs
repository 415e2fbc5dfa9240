//! Statistics of the input layer's topology on a square image: connections per pixel,
//! the mean inside centred squares, and the centre/margin ratio
//! `mean(counts in the central half-side square) / mean(counts elsewhere)` — for 28×28,
//! the central 14×14 pixels over the other 588.

/// Mean of `counts` (a `side × side` image) inside the centred square of side `s`
/// (`s` and `side` of the same parity).
pub fn square_mean(counts: &[f32], side: usize, s: usize) -> f64 {
    let lo = (side - s) / 2;
    let mut sum = 0.0;
    for y in lo..lo + s {
        for x in lo..lo + s {
            sum += counts[y * side + x] as f64;
        }
    }
    sum / (s * s) as f64
}

/// The trend curve: `(s, square_mean(s))` for `s = 2, 4, …, side`.
pub fn square_trend(counts: &[f32], side: usize) -> Vec<(f64, f64)> {
    (1..=side / 2)
        .map(|h| (2 * h) as f64)
        .map(|s| (s, square_mean(counts, side, s as usize)))
        .collect()
}

/// Centre (central `side/2 × side/2` square) over margin (the rest) mean connections.
pub fn centre_margin_ratio(counts: &[f32], side: usize) -> f64 {
    let c = side / 2;
    let centre_sum = square_mean(counts, side, c) * (c * c) as f64;
    let total: f64 = counts.iter().map(|&v| v as f64).sum();
    let centre = centre_sum / (c * c) as f64;
    let margin = (total - centre_sum) / (side * side - c * c) as f64;
    centre / margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_trend_on_a_hand_made_image() {
        // 4×4: centre 2×2 holds 3 each, margin 12 pixels hold 1 each.
        let mut counts = vec![1.0f32; 16];
        for i in [5, 6, 9, 10] {
            counts[i] = 3.0;
        }
        assert_eq!(centre_margin_ratio(&counts, 4), 3.0);
        assert_eq!(
            square_trend(&counts, 4),
            vec![(2.0, 3.0), (4.0, 24.0 / 16.0)]
        );
    }
}
