//! The network: one recurrent layer (`burn::nn::Lstm` or `burn::nn::Gru`) read over the
//! whole sequence from a zero state, and a linear head on its last hidden state.
//!
//! ```text
//! h_t = cell(x_t, h_{t−1})     t = 1 … T,  h_0 = 0 (and c_0 = 0 for the LSTM)
//! y   = W·h_T + b              logits (row-MNIST) or the predicted sum (adding)
//! ```

use burn::module::Module;
use burn::nn::{Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::config::{Cell, RnnConfig};

/// The recurrent layer and its head; exactly one of `lstm`, `gru` is present.
#[derive(Module, Debug)]
pub struct Rnn<B: Backend> {
    lstm: Option<Lstm<B>>,
    gru: Option<Gru<B>>,
    head: Linear<B>,
}

impl<B: Backend> Rnn<B> {
    /// A fresh network for `config` (Burn's initialisers, from the backend's seed).
    pub fn new(config: &RnnConfig, device: &B::Device) -> Self {
        let (_, features, outputs) = config.shape();
        let h = config.hidden;
        let (lstm, gru) = match config.cell {
            Cell::Lstm => (Some(LstmConfig::new(features, h, true).init(device)), None),
            Cell::Gru => (None, Some(GruConfig::new(features, h, true).init(device))),
        };
        Self {
            lstm,
            gru,
            head: LinearConfig::new(h, outputs).init(device),
        }
    }

    /// The last hidden state `h_T` of sequences `x` (`[n, T, F]`), `[n, H]`.
    pub fn last_hidden(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        let [n, t, _] = x.dims();
        let all = match (&self.lstm, &self.gru) {
            (Some(lstm), _) => lstm.forward(x, None).0,
            (None, Some(gru)) => gru.forward(x, None),
            (None, None) => unreachable!("a network has one recurrent layer"),
        };
        let h = all.dims()[2];
        all.slice([0..n, t - 1..t, 0..h]).reshape([n, h])
    }

    /// The head's outputs for sequences `x` (`[n, T, F]`): `[n, outputs]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 2> {
        self.head.forward(self.last_hidden(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use manifold_data::SequenceTask;

    type B = burn_ndarray::NdArray<f32>;

    /// Burn's layers hold what the config counts, for both cells.
    #[test]
    fn the_network_holds_the_counted_numbers() {
        let device = Default::default();
        for config in [
            RnnConfig::new().with_hidden(16),
            RnnConfig::new()
                .with_cell(Cell::Gru)
                .with_hidden(8)
                .with_task(SequenceTask::Adding { length: 5 }),
        ] {
            let model = Rnn::<B>::new(&config, &device);
            assert_eq!(model.num_params(), config.trainable());
            let (t, f, out) = config.shape();
            let y = model.forward(Tensor::zeros([3, t, f], &device));
            assert_eq!(y.dims(), [3, out]);
        }
    }

    /// The output depends on the last step through the state: changing only the first
    /// time step of a sequence changes its output.
    #[test]
    fn the_first_step_reaches_the_output() {
        let device = Default::default();
        let config = RnnConfig::new()
            .with_hidden(8)
            .with_task(SequenceTask::Adding { length: 6 });
        let model = Rnn::<B>::new(&config, &device);
        let x = Tensor::<B, 3>::zeros([1, 6, 2], &device);
        let y0 = model.forward(x.clone()).into_scalar();
        let bumped = x.slice_assign([0..1, 0..1, 0..2], Tensor::ones([1, 1, 2], &device));
        let y1 = model.forward(bumped).into_scalar();
        assert_ne!(y0, y1);
    }
}
