//! Images in the terminal: two pixel rows per text line with Unicode half blocks.

/// Renders a grey image (values in `[0, 1]`, row-major, `cols` wide) as text that
/// reads as a picture in any terminal: each character covers two pixel rows, using
/// ' ', '▀', '▄' and '█' for the four on/off combinations at threshold 0.35.
pub fn terminal_image(pixels: &[f32], cols: usize) -> String {
    let rows = pixels.len() / cols.max(1);
    let on = |r: usize, c: usize| r < rows && pixels[r * cols + c] > 0.35;
    let mut out = String::new();
    for r in (0..rows).step_by(2) {
        for c in 0..cols {
            out.push(match (on(r, c), on(r + 1, c)) {
                (false, false) => ' ',
                (true, false) => '▀',
                (false, true) => '▄',
                (true, true) => '█',
            });
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn half_blocks_cover_two_rows() {
        let img = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        // 2 columns × 3 rows: rows 0/1 give '▀' and '▄'; row 2 alone gives '▀▀'.
        assert_eq!(super::terminal_image(&img, 2), "▀▄\n▀▀\n");
    }
}
