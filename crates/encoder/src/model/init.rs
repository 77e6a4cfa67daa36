//! How a model's weights start: the original Transformer's scaled embeddings, or BERT's
//! N(0, 0.02) everywhere.

use crate::config::Init;
use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::Distribution;

/// The standard deviation of every weight matrix and embedding under [`Init::Bert`].
const BERT_STD: f64 = 0.02;

impl Init {
    /// The LayerNorm epsilon of this initialisation.
    pub fn norm_epsilon(self) -> f64 {
        match self {
            Init::Scaled => 1e-5,
            Init::Bert => 1e-12,
        }
    }

    /// What the token embeddings are multiplied by on the way in, for width `hidden`.
    pub(super) fn token_scale(self, hidden: usize) -> f64 {
        match self {
            Init::Scaled => (hidden as f64).sqrt(),
            Init::Bert => 1.0,
        }
    }

    /// The expected length of a freshly drawn token-embedding row of width `hidden`.
    pub(super) fn token_row_norm(self, hidden: usize) -> f64 {
        match self {
            Init::Scaled => 1.0,
            Init::Bert => BERT_STD * (hidden as f64).sqrt(),
        }
    }
}

/// Re-draws a freshly built model's weights as BERT does: matrices N(0, 0.02), linear biases 0
/// (LayerNorm scales stay 1 and shifts 0, as built).
pub(super) struct BertInit {
    pub(super) in_linear: Vec<bool>,
}

impl ModuleMapper for BertInit {
    fn enter_module(&mut self, _name: &str, container_type: &str) {
        self.in_linear.push(container_type == "Struct:Linear");
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.in_linear.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let linear_bias = D == 1 && self.in_linear.last() == Some(&true);
        if D == 1 && !linear_bias {
            return param;
        }
        param.map(|t| {
            let (shape, device) = (t.shape(), t.device());
            let fresh = if linear_bias {
                Tensor::zeros(shape, &device)
            } else {
                Tensor::random(shape, Distribution::Normal(0.0, BERT_STD), &device)
            };
            if t.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}
