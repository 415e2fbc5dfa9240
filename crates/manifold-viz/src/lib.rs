//! Pictures of manifold: PNG line charts and scatter plots (plotters), heatmaps,
//! image-tile grids and bar-chart grids (image), labelled figures around them (title,
//! panel captions, axes, colour bar), animated GIFs, and terminal art.
//!
//! Colour scales: [`Scale::Diverging`] maps `-m..m` through blue–white–red with 0 white
//! (for signed matrices such as the DNM closeness `D`); [`Scale::Sequential`] maps
//! `lo..hi` through viridis.

mod chart;
mod figure;
mod raster;
mod terminal;

pub use chart::{chart, line_chart, scatter_chart, ChartStyle, Series};
pub use figure::{
    labelled_bar_grid, labelled_heatmap, Axes, ColourBar, Figure, HeatmapLabels, Panel,
};
pub use raster::{
    bar_charts, bar_grid, heatmap, heatmap_cells, save_png, tile_grid, write_gif, RgbImage, Scale,
};
pub use terminal::terminal_image;

/// An error drawing or writing a picture; names the file. Every picture is written
/// atomically ([`manifold_io::write_atomic`]): a failed save leaves the file as it was.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct VizError {
    /// The file being written.
    pub path: std::path::PathBuf,
    /// What went wrong.
    pub problem: String,
}

impl VizError {
    pub(crate) fn new(path: &std::path::Path, problem: impl ToString) -> Self {
        Self {
            path: path.to_path_buf(),
            problem: problem.to_string(),
        }
    }
}

impl From<manifold_io::IoError> for VizError {
    fn from(e: manifold_io::IoError) -> Self {
        Self {
            path: e.path,
            problem: e.problem,
        }
    }
}
