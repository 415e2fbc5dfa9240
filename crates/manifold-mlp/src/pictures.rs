//! The MLP's pictures: `loss.png` (train and test cross-entropy per epoch) and
//! `accuracy.png` (test accuracy per epoch), drawn from a run's `metrics.csv`, and
//! `first_layer.png`, the first layer's incoming weights of 16 units as 28 × 28 images.

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use manifold_train::TrainError;
use manifold_viz::{heatmap, Figure, Panel, Scale};

use crate::model::Mlp;

/// How many first-layer units [`draw_first_layer`] shows.
const UNITS: usize = 16;

/// Draws `loss.png` and `accuracy.png` in `dir` from `dir/metrics.csv`.
pub fn draw_curves(dir: &Path) -> Result<(), TrainError> {
    manifold_train::curves::epoch_curves(dir, "MLP")
}

/// The first matrix parameter a module visits: `(values row-major, [rows, cols])`.
struct FirstMatrix(Option<(Vec<f32>, [usize; 2])>);

impl<B: Backend> ModuleVisitor<B> for FirstMatrix {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if D != 2 || self.0.is_some() {
            return;
        }
        let value = param.val();
        let dims = value.dims();
        if let Ok(values) = value.into_data().convert::<f32>().to_vec::<f32>() {
            self.0 = Some((values, [dims[0], dims[1]]));
        }
    }
}

/// The first layer's weights, `[inputs, units]` row-major: column `k` holds unit `k`'s
/// incoming weights.
fn first_layer<B: Backend>(model: &Mlp<B>) -> Option<(Vec<f32>, [usize; 2])> {
    let mut visitor = FirstMatrix(None);
    model.visit(&mut visitor);
    visitor.0
}

/// The incoming weights of the first layer's first 16 units, each as a 28 × 28 image
/// captioned with its unit, four to a row, on one diverging scale with a colour bar;
/// `None` unless the first layer has 784 inputs.
pub fn first_layer_figure<B: Backend>(model: &Mlp<B>) -> Option<Figure> {
    let side = 28;
    let (w, [inputs, units]) = first_layer(model)?;
    if inputs != side * side {
        return None;
    }
    let shown = units.min(UNITS);
    let unit = |k: usize| -> Vec<f32> { (0..inputs).map(|i| w[i * units + k]).collect() };
    let vectors: Vec<Vec<f32>> = (0..shown).map(unit).collect();
    let scale = Scale::diverging_for(&vectors.concat());
    let kind = if model.widths().len() > 2 {
        "hidden"
    } else {
        "output"
    };
    let panels = vectors
        .iter()
        .enumerate()
        .map(|(k, v)| Panel::new(format!("{kind} unit {k}"), heatmap(v, side, side, 4, scale)))
        .collect();
    Some(
        Figure::new("MLP first-layer weights", panels)
            .with_columns(4)
            .with_note("each panel: one unit's incoming weights, one cell per input pixel")
            .with_colour_bar(scale, "weight"),
    )
}

/// [`first_layer_figure`] as `first_layer.png` at `path`; nothing is drawn unless the
/// first layer has 784 inputs.
pub fn draw_first_layer<B: Backend>(path: &Path, model: &Mlp<B>) -> Result<(), TrainError> {
    if let Some(figure) = first_layer_figure(model) {
        figure.save(path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MlpConfig;

    type B = burn_ndarray::NdArray<f32>;

    #[test]
    fn first_layer_is_drawn_for_square_inputs_only() {
        let device = Default::default();
        let config = MlpConfig::new().with_hidden(vec![20, 8]);
        let model = Mlp::<B>::new(&config, &device);
        let (w, dims) = first_layer(&model).unwrap();
        assert_eq!(dims, [784, 20]);
        let figure = first_layer_figure(&model).unwrap();
        assert_eq!(figure.panels.len(), 16);
        assert_eq!(figure.panels[3].title, "hidden unit 3");
        // Panel k shows column k of the `[inputs, units]` weight: unit k's incoming weights.
        let scale = figure.colour_bar.as_ref().unwrap().scale;
        let panel = &figure.panels[3].image;
        assert_eq!(panel.dimensions(), (112, 112));
        assert_eq!(panel.get_pixel(0, 0), &scale.colour(w[3]));
        assert_eq!(panel.get_pixel(4 * 27, 0), &scale.colour(w[27 * 20 + 3]));
        assert_eq!(panel.get_pixel(0, 4), &scale.colour(w[28 * 20 + 3]));
        let img = figure.render();
        assert!(img.width() > 4 * 112 && img.height() > 4 * 112);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("first_layer.png");
        draw_first_layer(&path, &model).unwrap();
        assert!(path.exists());

        let small = MlpConfig::new().with_inputs(10).with_hidden(vec![4]);
        let model = Mlp::<B>::new(&small, &device);
        assert!(first_layer_figure(&model).is_none());
        let path = dir.path().join("none.png");
        draw_first_layer(&path, &model).unwrap();
        assert!(!path.exists());
    }
}
