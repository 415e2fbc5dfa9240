//! One sparse layer: `y_j = b_j + Σ_{k : col_k = j} w_k · x_{row_k}` over its COO
//! connection list, in feature-major layout (activations are `[features, batch]`).
//!
//! Two compute paths, the same function of the same parameters:
//! - sparse: `y_j = Σ_{k: col_k = j} w_k · x[row_k]` by [`crate::kernels`]: work and memory
//!   ∝ connections, never `n_in × n_out` (CPU kernels on ndarray/flex, gather/scatter
//!   elsewhere; one autodiff node with a hand-written backward);
//! - masked: `W = scatter(colᵢ·n_in + rowᵢ ↦ wᵢ)` reshaped to a dense `[n_out, n_in]`
//!   matrix (zero where no connection), `y = W·x`.
//!
//! Autodiff differentiates the masked path through Burn's `select_assign` and matmul.

use crate::kernels::SetBackend;
use burn::module::{Module, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{IndexingUpdateOp, Int, Tensor, TensorData};

use crate::config::ComputePath;

/// A sparse linear layer with `nnz` connections (slots) and a bias.
#[derive(Module, Debug)]
pub struct SparseLinear<B: Backend> {
    /// `w_k`, one per slot.
    pub weights: Param<Tensor<B, 1>>,
    /// `b_j`, one per output.
    pub bias: Param<Tensor<B, 1>>,
    /// `row_k`: the input of slot k.
    pub rows: Param<Tensor<B, 1, Int>>,
    /// `col_k`: the output of slot k.
    pub cols: Param<Tensor<B, 1, Int>>,
    /// `col_k · n_in + row_k`: slot k's place in the row-major dense `[n_out, n_in]`.
    pub flat: Param<Tensor<B, 1, Int>>,
    /// Input features n_in.
    pub n_in: usize,
    /// Output features n_out.
    pub n_out: usize,
}

/// Host copy of a layer's connection list.
#[derive(Debug, Clone, PartialEq)]
pub struct Connections {
    /// `row_k`: the input of slot k, `< n_in`.
    pub rows: Vec<usize>,
    /// `col_k`: the output of slot k, `< n_out`.
    pub cols: Vec<usize>,
    /// `w_k`: the weight of slot k.
    pub weights: Vec<f32>,
}

fn int_param<B: Backend>(v: &[usize], device: &B::Device) -> Param<Tensor<B, 1, Int>> {
    let data: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    Param::initialized(
        ParamId::new(),
        Tensor::from_data(TensorData::new(data, [v.len()]), device),
    )
}

/// A float vector as a 1-D tensor.
pub fn vector<B: Backend>(v: Vec<f32>, device: &B::Device) -> Tensor<B, 1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// A 1-D tensor's values on the host.
pub fn host_f32<B: Backend>(t: Tensor<B, 1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float tensor")
}

fn host_usize<B: Backend>(t: Tensor<B, 1, Int>) -> Vec<usize> {
    t.into_data()
        .convert::<i64>()
        .to_vec::<i64>()
        .expect("int tensor")
        .into_iter()
        .map(|x| x as usize)
        .collect()
}

impl<B: Backend> SparseLinear<B> {
    /// A layer with the given connections and a zero bias.
    pub fn new(n_in: usize, n_out: usize, c: &Connections, device: &B::Device) -> Self {
        let flat: Vec<usize> = c
            .rows
            .iter()
            .zip(&c.cols)
            .map(|(&r, &k)| k * n_in + r)
            .collect();
        Self {
            weights: Param::from_tensor(vector(c.weights.clone(), device)),
            bias: Param::from_tensor(Tensor::zeros([n_out], device)),
            rows: int_param(&c.rows, device),
            cols: int_param(&c.cols, device),
            flat: int_param(&flat, device),
            n_in,
            n_out,
        }
    }

    /// Number of connections.
    pub fn nnz(&self) -> usize {
        self.weights.dims()[0]
    }

    /// The connection list on the host.
    pub fn connections(&self) -> Connections {
        Connections {
            rows: host_usize(self.rows.val()),
            cols: host_usize(self.cols.val()),
            weights: host_f32(self.weights.val()),
        }
    }

    /// The layer with a new connection list (same slot count), keeping the bias and
    /// the parameter ids.
    pub fn with_connections(self, c: &Connections, device: &B::Device) -> Self {
        let fresh = Self::new(self.n_in, self.n_out, c, device);
        let (wid, rid, cid, fid) = (self.weights.id, self.rows.id, self.cols.id, self.flat.id);
        Self {
            weights: Param::initialized(wid, fresh.weights.val().require_grad()),
            bias: self.bias,
            rows: Param::initialized(rid, fresh.rows.val()),
            cols: Param::initialized(cid, fresh.cols.val()),
            flat: Param::initialized(fid, fresh.flat.val()),
            n_in: self.n_in,
            n_out: self.n_out,
        }
    }

    /// The dense `[n_out, n_in]` matrix `W` (zeros where no connection).
    pub fn dense_weights(&self) -> Tensor<B, 2> {
        let w = self.weights.val();
        Tensor::zeros([self.n_in * self.n_out], &w.device())
            .select_assign(0, self.flat.val(), w, IndexingUpdateOp::Add)
            .reshape([self.n_out, self.n_in])
    }
}

impl<B: SetBackend> SparseLinear<B> {
    /// `[n_in, batch] → [n_out, batch]` on the chosen path.
    pub fn forward(&self, x: Tensor<B, 2>, path: ComputePath) -> Tensor<B, 2> {
        let y = match path {
            ComputePath::Sparse => self.forward_sparse(x),
            ComputePath::Masked => self.forward_masked(x),
        };
        y + self.bias.val().unsqueeze_dim(1)
    }

    /// The sparse product: `O(nnz · batch)`.
    fn forward_sparse(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        B::sparse_matmul(
            x,
            self.weights.val(),
            self.rows.val(),
            self.cols.val(),
            self.n_out,
        )
    }

    /// Dense matmul with the masked matrix: `O(n_in · n_out · batch)`.
    fn forward_masked(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.dense_weights().matmul(x)
    }
}
