//! Moving batches into tensors and scoring predictions.

use burn::tensor::{backend::Backend, Int, Tensor, TensorData};

use crate::TrainError;

/// A row-major `rows × cols` buffer as a 2-D float tensor on `device`.
pub fn batch_tensor<B: Backend>(
    x: &[f32],
    rows: usize,
    cols: usize,
    device: &B::Device,
) -> Tensor<B, 2> {
    Tensor::from_data(TensorData::new(x.to_vec(), [rows, cols]), device)
}

/// Class labels as a 1-D int tensor on `device`.
pub fn labels_tensor<B: Backend>(labels: &[u8], device: &B::Device) -> Tensor<B, 1, Int> {
    let v: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(v, [labels.len()]), device)
}

/// The index of the largest value of each row.
pub fn argmax_rows<B: Backend>(scores: Tensor<B, 2>) -> Vec<usize> {
    scores
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .to_vec::<i64>()
        .expect("argmax gives integers")
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// Share of `predictions` equal to `labels`.
pub fn accuracy(predictions: &[usize], labels: &[u8]) -> f64 {
    assert_eq!(predictions.len(), labels.len());
    if labels.is_empty() {
        return 0.0;
    }
    let hits = predictions
        .iter()
        .zip(labels)
        .filter(|(p, &l)| **p == l as usize)
        .count();
    hits as f64 / labels.len() as f64
}

/// Checks that a classifier with `inputs` inputs and `classes` classes fits `data`:
/// `inputs` equals the image size, `classes` exceeds every label, and neither set is empty.
pub fn check_images(
    inputs: usize,
    classes: usize,
    data: &manifold_data::Mnist,
) -> Result<(), TrainError> {
    if inputs != data.train.dim() {
        return Err(TrainError::config(
            "inputs",
            format!(
                "is {inputs}, but the images have {} pixels",
                data.train.dim()
            ),
        ));
    }
    let top = data
        .train
        .labels()
        .iter()
        .chain(data.test.labels())
        .max()
        .copied();
    if let Some(top) = top.filter(|&t| t as usize >= classes) {
        return Err(TrainError::config(
            "classes",
            format!("is {classes}, but the data has label {top}"),
        ));
    }
    if data.train.is_empty() || data.test.is_empty() {
        return Err(TrainError::config(
            "data",
            "the training and test sets must each hold at least one image",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    type B = burn_ndarray::NdArray<f32>;

    #[test]
    fn argmax_and_accuracy() {
        let dev = Default::default();
        let t = batch_tensor::<B>(&[0.1, 0.9, 0.0, 3.0, 1.0, 2.0], 2, 3, &dev);
        let p = argmax_rows(t);
        assert_eq!(p, vec![1, 0]);
        assert_eq!(accuracy(&p, &[1, 2]), 0.5);
        assert_eq!(
            labels_tensor::<B>(&[3, 9], &dev)
                .into_data()
                .convert::<i64>()
                .to_vec::<i64>()
                .unwrap(),
            vec![3, 9]
        );
    }
}
