//! Orders in which an image's pixels become a model's inputs: [`PixelOrder`].
//!
//! A model that sees the pixels as one sequence — the DNM, whose closeness functions
//! are functions of the sender's index — reads a window of consecutive indices. In
//! raster order such a window is a band of image rows; along a Hilbert curve it is a
//! compact patch. A fixed permutation of the pixels changes nothing for a dense or a
//! randomly wired network, which do not see the order.
//!
//! The Hilbert order of a `rows × cols` image walks the Hilbert curve of the smallest
//! `2^k × 2^k` square holding the image and keeps the cells inside it, so consecutive
//! inputs are neighbouring pixels except where the curve leaves the image and comes back.
//!
//! ```
//! use manifold_data::PixelOrder;
//!
//! // The 2 × 2 curve: (0,0) (0,1) (1,1) (1,0) as (row, col), pixels 0 1 3 2.
//! assert_eq!(PixelOrder::Hilbert.order(2, 2), vec![0, 1, 3, 2]);
//! assert_eq!(PixelOrder::Raster.order(2, 3), (0..6).collect::<Vec<_>>());
//! ```

use serde::{Deserialize, Serialize};

/// The order of the input neurons over an image's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelOrder {
    /// Row after row, left to right: input `k` is pixel `k` (the files' order).
    #[default]
    Raster,
    /// Along a Hilbert curve: a window of consecutive inputs is a patch of the image.
    Hilbert,
}

impl PixelOrder {
    /// `order[k]`: the row-major pixel index that becomes input `k`; a permutation of
    /// `0..rows·cols`.
    pub fn order(self, rows: usize, cols: usize) -> Vec<usize> {
        match self {
            PixelOrder::Raster => (0..rows * cols).collect(),
            PixelOrder::Hilbert => {
                let side = rows.max(cols).max(1).next_power_of_two();
                (0..side * side)
                    .map(|d| hilbert_cell(side, d))
                    .filter(|&(r, c)| r < rows && c < cols)
                    .map(|(r, c)| r * cols + c)
                    .collect()
            }
        }
    }

    /// The pixels of one row-major image in this order.
    pub fn apply(order: &[usize], image: &[f32], out: &mut Vec<f32>) {
        out.extend(order.iter().map(|&p| image[p]));
    }
}

/// Cell `(row, col)` at distance `d` along the Hilbert curve of a `side × side` square
/// (`side` a power of two): two bits of `d` per level, from the finest level up, pick
/// the quadrant, and the cell found so far is reflected or transposed into it so that
/// each quadrant is a copy of the whole curve entered where the previous one left.
fn hilbert_cell(side: usize, d: usize) -> (usize, usize) {
    let (mut x, mut y, mut t) = (0usize, 0usize, d);
    let mut s = 1;
    while s < side {
        let rx = 1 & (t / 2);
        let ry = 1 & (t ^ rx);
        if ry == 0 {
            if rx == 1 {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        x += s * rx;
        y += s * ry;
        t /= 4;
        s *= 2;
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_permutation(order: &[usize], n: usize) -> bool {
        let mut seen = vec![false; n];
        order.len() == n
            && order
                .iter()
                .all(|&p| p < n && !std::mem::replace(&mut seen[p], true))
    }

    fn neighbours(a: usize, b: usize, cols: usize) -> bool {
        let (ra, ca, rb, cb) = (a / cols, a % cols, b / cols, b % cols);
        ra.abs_diff(rb) + ca.abs_diff(cb) == 1
    }

    /// The 4 × 4 curve is the one drawn by hand, and on a power-of-two square every
    /// step of the curve moves to a 4-neighbour.
    #[test]
    fn the_curve_on_a_power_of_two_square_steps_between_neighbours() {
        // (row, col) along the 4 × 4 curve, drawn by hand from the 2 × 2 one.
        let hand = [
            (0, 0),
            (1, 0),
            (1, 1),
            (0, 1),
            (0, 2),
            (0, 3),
            (1, 3),
            (1, 2),
            (2, 2),
            (2, 3),
            (3, 3),
            (3, 2),
            (3, 1),
            (2, 1),
            (2, 0),
            (3, 0),
        ];
        let order = PixelOrder::Hilbert.order(4, 4);
        let expected: Vec<usize> = hand.iter().map(|&(r, c)| r * 4 + c).collect();
        assert_eq!(order, expected);
        for side in [2, 8, 32] {
            let order = PixelOrder::Hilbert.order(side, side);
            assert!(is_permutation(&order, side * side));
            assert!(order.windows(2).all(|w| neighbours(w[0], w[1], side)));
        }
    }

    /// MNIST's 28 × 28: a permutation of the 784 pixels, every step but 5 between
    /// neighbours (the curve of the 32 × 32 square leaves the image and comes back), and
    /// a window of 49 consecutive inputs inside a box of at most 10 × 10 pixels in the
    /// median and 20 at worst (in raster order such a window spans 28 columns).
    #[test]
    fn the_mnist_order_is_a_permutation_whose_windows_are_patches() {
        let order = PixelOrder::Hilbert.order(28, 28);
        assert!(is_permutation(&order, 784));
        let jumps = order
            .windows(2)
            .filter(|w| !neighbours(w[0], w[1], 28))
            .count();
        assert_eq!(jumps, 5);
        let mut spans: Vec<usize> = order
            .windows(49)
            .map(|w| {
                let span = |f: fn(usize) -> usize| {
                    w.iter().map(|&p| f(p)).max().unwrap() - w.iter().map(|&p| f(p)).min().unwrap()
                };
                span(|p| p / 28).max(span(|p| p % 28)) + 1
            })
            .collect();
        spans.sort_unstable();
        assert_eq!((spans[spans.len() / 2], spans[spans.len() - 1]), (10, 20));
        let mut out = Vec::new();
        let image: Vec<f32> = (0..784).map(|p| p as f32).collect();
        PixelOrder::apply(&order, &image, &mut out);
        assert_eq!(out, order.iter().map(|&p| p as f32).collect::<Vec<_>>());
    }
}
