//! One Transformer encoder layer: self-attention and a feed-forward block, each wrapped in a
//! residual connection and LayerNorm, either after the residual ("post", the original Transformer
//! and BERT) or before the sub-layer ("pre", more stable for deep stacks; the stack then ends with
//! one more LayerNorm). Also the sinusoidal positional encoding of the original Transformer.

use crate::config::NormPlacement;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;

use super::attention::{SelfAttention, SelfAttentionConfig};
use super::dropout::Dropout;
use super::flat_linear::flat_linear;
use super::gelu::gelu;

/// hidden → ffn, GELU, → hidden, dropout.
#[derive(Module, Debug)]
pub struct FeedForward {
    inner: Linear,
    outer: Linear,
    dropout: Dropout,
}

/// The shape of a [`FeedForward`] block.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedForwardConfig {
    /// Width in and out.
    pub hidden: usize,
    /// Inner width (4 × hidden in BERT).
    pub ffn: usize,
    /// Dropout on the output.
    pub dropout: f64,
}

impl FeedForwardConfig {
    /// A fresh block on `device`.
    pub fn init(&self, device: &Device) -> FeedForward {
        FeedForward {
            inner: LinearConfig::new(self.hidden, self.ffn).init(device),
            outer: LinearConfig::new(self.ffn, self.hidden).init(device),
            dropout: Dropout::new(self.dropout),
        }
    }
}

impl FeedForward {
    /// Applies the block position-wise.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = gelu(flat_linear(&self.inner, x));
        self.dropout.forward(flat_linear(&self.outer, h))
    }
}

/// Self-attention and feed-forward with residuals and LayerNorms.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    attention: SelfAttention,
    attention_norm: LayerNorm,
    feed_forward: FeedForward,
    feed_forward_norm: LayerNorm,
    dropout: Dropout,
    pre_norm: bool,
}

/// The shape of an [`EncoderLayer`].
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderLayerConfig {
    /// Width.
    pub hidden: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Feed-forward inner width.
    pub ffn: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// Where the LayerNorms sit.
    pub norm: NormPlacement,
    /// The LayerNorms divide by sqrt(variance + `norm_epsilon`).
    pub norm_epsilon: f64,
}

impl EncoderLayerConfig {
    /// A fresh layer on `device`.
    pub fn init(&self, device: &Device) -> EncoderLayer {
        let layer_norm = || {
            LayerNormConfig::new(self.hidden)
                .with_epsilon(self.norm_epsilon)
                .init(device)
        };
        let (hidden, dropout) = (self.hidden, self.dropout);
        EncoderLayer {
            attention: SelfAttentionConfig {
                hidden,
                heads: self.heads,
                dropout,
            }
            .init(device),
            attention_norm: layer_norm(),
            feed_forward: FeedForwardConfig {
                hidden,
                ffn: self.ffn,
                dropout,
            }
            .init(device),
            feed_forward_norm: layer_norm(),
            dropout: Dropout::new(dropout),
            pre_norm: self.norm == NormPlacement::Pre,
        }
    }
}

impl EncoderLayer {
    /// Self-attention through burn's fused op when there is no attention dropout, else written
    /// out.
    fn attend(&self, x: Tensor<3>, padding: Option<Tensor<2, Bool>>) -> Tensor<3> {
        if self.attention.can_fuse() {
            self.attention.forward_fused(x, padding, false)
        } else {
            self.attention.forward(x, padding, false).0
        }
    }

    /// Applies the layer; `padding` is true at padding positions.
    pub fn forward(&self, x: Tensor<3>, padding: Option<Tensor<2, Bool>>) -> Tensor<3> {
        if self.pre_norm {
            let a = self.attend(self.attention_norm.forward(x.clone()), padding);
            let x = x + self.dropout.forward(a);
            let f = self
                .feed_forward
                .forward(self.feed_forward_norm.forward(x.clone()));
            x + f
        } else {
            let a = self.attend(x.clone(), padding);
            let x = self.attention_norm.forward(x + self.dropout.forward(a));
            let f = self.feed_forward.forward(x.clone());
            self.feed_forward_norm.forward(x + f)
        }
    }

    /// The layer's output at the flattened positions `queries` (`row * seq + position`,
    /// `per_row` of them for each sequence, in order) of `x` `[batch, seq, hidden]`:
    /// `[batch, per_row, hidden]`, the rows [`forward`](Self::forward) gives there. Keys and
    /// values come from every position; the rest is computed for those rows only.
    pub fn forward_rows(
        &self,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        queries: Tensor<1, Int>,
        per_row: usize,
    ) -> Tensor<3> {
        let [batch, seq, hidden] = x.dims();
        let rows = |t: Tensor<3>| {
            t.reshape([batch * seq, hidden])
                .select(0, queries.clone())
                .reshape([batch, per_row, hidden])
        };
        if self.pre_norm {
            let normed = self.attention_norm.forward(x.clone());
            let a = self
                .attention
                .forward_rows(rows(normed.clone()), normed, padding);
            let x = rows(x) + self.dropout.forward(a);
            let f = self
                .feed_forward
                .forward(self.feed_forward_norm.forward(x.clone()));
            x + f
        } else {
            let chosen = rows(x.clone());
            let a = self.attention.forward_rows(chosen.clone(), x, padding);
            let x = self
                .attention_norm
                .forward(chosen + self.dropout.forward(a));
            let f = self.feed_forward.forward(x.clone());
            self.feed_forward_norm.forward(x + f)
        }
    }
}

/// The sinusoidal positional encoding of "Attention Is All You Need", `[seq_len × hidden]`
/// row-major: `PE(p, 2i) = sin(p / 10000^(2i/hidden))`, `PE(p, 2i+1) = cos(p / 10000^(2i/hidden))`.
pub fn sinusoidal_positions(seq_len: usize, hidden: usize) -> Vec<f32> {
    let mut table = Vec::with_capacity(seq_len * hidden);
    for p in 0..seq_len {
        for d in 0..hidden {
            let i = (d / 2) as f64;
            let angle = p as f64 / 10_000f64.powf(2.0 * i / hidden as f64);
            table.push(if d % 2 == 0 { angle.sin() } else { angle.cos() } as f32);
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(device: &Device, last: f32) -> Tensor<3> {
        let mut data: Vec<f32> = (0..48).map(|i| ((i * 5 % 13) as f32 - 6.0) / 6.0).collect();
        for x in &mut data[40..] {
            *x = last;
        }
        Tensor::<1>::from_floats(data.as_slice(), device).reshape([1, 6, 8])
    }

    #[test]
    fn padding_does_not_leak_into_other_positions_with_either_norm() {
        let device = Device::flex();
        let pad = Tensor::<2, Bool>::from_bool(
            TensorData::new(vec![false, false, false, false, false, true], [1, 6]),
            &device,
        );
        for norm in [NormPlacement::Post, NormPlacement::Pre] {
            let layer = EncoderLayerConfig {
                hidden: 8,
                heads: 2,
                ffn: 16,
                dropout: 0.0,
                norm,
                norm_epsilon: 1e-5,
            }
            .init(&device);
            let a = layer.forward(input(&device, 0.5), Some(pad.clone()));
            let b = layer.forward(input(&device, -3.0), Some(pad.clone()));
            let head = |t: Tensor<3>| {
                t.slice([0..1, 0..5, 0..8])
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap()
            };
            let (a, b) = (head(a), head(b));
            assert!(
                a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5),
                "{norm:?}"
            );
            assert!(a.iter().all(|x| x.is_finite()));
        }
    }

    #[test]
    fn sinusoidal_encoding_equals_its_formula() {
        let t = sinusoidal_positions(50, 16);
        assert_eq!(t.len(), 800);
        for (p, d) in [(0, 0), (0, 1), (7, 2), (7, 3), (49, 14), (49, 15)] {
            let i = (d / 2) as f64;
            let angle = p as f64 / 10_000f64.powf(2.0 * i / 16.0);
            let expected = if d % 2 == 0 { angle.sin() } else { angle.cos() };
            assert!((t[p * 16 + d] as f64 - expected).abs() < 1e-6, "({p}, {d})");
        }
        assert_eq!(t[0], 0.0);
        assert_eq!(t[1], 1.0);
    }
}
