//! Multi-head self-attention, written out so each step can be read and tested: project to Q, K
//! and V, split the hidden size into heads, take scaled dot products, set masked scores to a
//! large negative number (padding keys, and later positions when causal), softmax over the keys,
//! attention dropout, weight the values, merge the heads, project out.
//!
//! [`SelfAttention::forward_fused`] computes the same with burn's fused attention op (no
//! attention dropout, no weights returned); the encoder layer uses it when attention dropout is
//! off, and a test checks that both paths agree.

use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use super::dropout::Dropout;
use super::flat_linear::flat_linear;
use super::softmax::softmax_last;

/// Added to masked scores before the softmax: exp of it underflows to exactly 0 in f32.
const MASKED_SCORE: f32 = -1.0e9;

/// Multi-head self-attention over `[batch, seq, hidden]`.
#[derive(Module, Debug)]
pub struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    dropout: Dropout,
    heads: usize,
    dropout_prob: f64,
}

/// The shape of a [`SelfAttention`] block.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfAttentionConfig {
    /// Width.
    pub hidden: usize,
    /// Heads the width is split over.
    pub heads: usize,
    /// Attention dropout.
    pub dropout: f64,
}

impl SelfAttentionConfig {
    /// A fresh block on `device`.
    ///
    /// # Panics
    /// If `heads` does not divide `hidden`; the encoder config rejects such values first.
    pub fn init(&self, device: &Device) -> SelfAttention {
        let (hidden, heads) = (self.hidden, self.heads);
        assert!(
            heads > 0 && hidden.is_multiple_of(heads),
            "heads must divide hidden"
        );
        let linear = || LinearConfig::new(hidden, hidden).init(device);
        SelfAttention {
            query: linear(),
            key: linear(),
            value: linear(),
            output: linear(),
            dropout: Dropout::new(self.dropout),
            heads,
            dropout_prob: self.dropout,
        }
    }
}

impl SelfAttention {
    /// Whether the fused path computes what [`forward`](Self::forward) does (no attention
    /// dropout to apply).
    pub fn can_fuse(&self) -> bool {
        self.dropout_prob == 0.0
    }

    /// Q of `queries` `[batch, rows, hidden]` and K and V of `x` `[batch, seq, hidden]`, each
    /// split into heads: `[batch, heads, rows or seq, head_dim]`.
    fn project(&self, queries: Tensor<3>, x: Tensor<3>) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
        let heads = self.heads;
        let split = |t: Tensor<3>| {
            let [batch, len, hidden] = t.dims();
            t.reshape([batch, len, heads, hidden / heads])
                .swap_dims(1, 2)
        };
        (
            split(flat_linear(&self.query, queries)),
            split(flat_linear(&self.key, x.clone())),
            split(flat_linear(&self.value, x)),
        )
    }

    /// The same attention as [`forward`](Self::forward) through burn's fused op, without
    /// attention dropout and without returning the weights.
    pub fn forward_fused(
        &self,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        self.fused(x.clone(), x, padding, causal)
    }

    /// Attention whose queries come from `queries` `[batch, rows, hidden]` (rows of `x`, or of
    /// what `x` was normalised to) and whose keys and values come from `x` `[batch, seq,
    /// hidden]`: the outputs at those rows only, `[batch, rows, hidden]`. What the last layer
    /// computes when only some positions are scored ([`super::MaskedRows`]).
    pub fn forward_rows(
        &self,
        queries: Tensor<3>,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        if self.can_fuse() {
            self.fused(queries, x, padding, false)
        } else {
            self.written_out(queries, x, padding, false).0
        }
    }

    /// Fused attention of `queries` over `x` (see [`forward_rows`](Self::forward_rows)).
    fn fused(
        &self,
        queries: Tensor<3>,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        let [batch, rows, hidden] = queries.dims();
        let seq = x.dims()[1];
        debug_assert!(
            !causal || rows == seq,
            "causal attention needs every position's query"
        );
        let heads = self.heads;
        let (q, k, v) = self.project(queries, x);
        let mask = padding.map(|p| {
            p.reshape([batch, 1, 1, seq])
                .expand([batch, heads, rows, seq])
        });
        let options = AttentionModuleOptions {
            scale: None,
            softcap: None,
            is_causal: causal,
        };
        let context = attention(q, k, v, mask, None, options);
        let merged = context.swap_dims(1, 2).reshape([batch, rows, hidden]);
        flat_linear(&self.output, merged)
    }

    /// Attends over `x`; `padding` is `[batch, seq]`, true at padding positions, which no
    /// position attends to; `causal` also hides later positions. Returns the output and the
    /// attention weights `[batch, heads, seq, seq]`.
    pub fn forward(
        &self,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> (Tensor<3>, Tensor<4>) {
        self.written_out(x.clone(), x, padding, causal)
    }

    /// Attention of `queries` over `x`, step by step; `causal` only when `queries` is `x`.
    fn written_out(
        &self,
        queries: Tensor<3>,
        x: Tensor<3>,
        padding: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> (Tensor<3>, Tensor<4>) {
        let [batch, rows, hidden] = queries.dims();
        let seq = x.dims()[1];
        debug_assert!(
            !causal || rows == seq,
            "causal attention needs every position's query"
        );
        let heads = self.heads;
        let head_dim = hidden / heads;
        let (q, k, v) = self.project(queries, x);
        let mut scores = q
            .matmul(k.swap_dims(2, 3))
            .div_scalar((head_dim as f64).sqrt());
        if let Some(padding) = padding {
            let keys = padding
                .reshape([batch, 1, 1, seq])
                .expand([batch, heads, rows, seq]);
            scores = scores.mask_fill(keys, MASKED_SCORE);
        }
        if causal {
            let later = generate_autoregressive_mask(batch, seq, &scores.device())
                .reshape([batch, 1, seq, seq])
                .expand([batch, heads, seq, seq]);
            scores = scores.mask_fill(later, MASKED_SCORE);
        }
        let weights = softmax_last(scores);
        let context = self.dropout.forward(weights.clone()).matmul(v);
        // [batch, heads, rows, head_dim] -> [batch, rows, hidden]
        let merged = context.swap_dims(1, 2).reshape([batch, rows, hidden]);
        (flat_linear(&self.output, merged), weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<3>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    fn input(device: &Device, last: f32) -> Tensor<3> {
        // batch 1, seq 5, hidden 8; the last position varies between calls.
        let mut data: Vec<f32> = (0..40).map(|i| ((i * 7 % 11) as f32 - 5.0) / 5.0).collect();
        for x in &mut data[32..] {
            *x = last;
        }
        Tensor::<1>::from_floats(data.as_slice(), device).reshape([1, 5, 8])
    }

    fn first_four(t: Tensor<3>) -> Vec<f32> {
        values(t.slice([0..1, 0..4, 0..8]))
    }

    /// Attention of width 8 over 2 heads with attention dropout `dropout`.
    fn attention_of(dropout: f64, device: &Device) -> SelfAttention {
        SelfAttentionConfig {
            hidden: 8,
            heads: 2,
            dropout,
        }
        .init(device)
    }

    fn assert_close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }

    #[test]
    fn fused_and_written_out_attention_agree() {
        let device = Device::flex();
        let attention = attention_of(0.0, &device);
        assert!(attention.can_fuse());
        let pad = Tensor::<2, Bool>::from_bool(
            TensorData::new(vec![false, false, false, true, true], [1, 5]),
            &device,
        );
        for (padding, causal) in [
            (None, false),
            (Some(pad.clone()), false),
            (None, true),
            (Some(pad), true),
        ] {
            let (written, _) = attention.forward(input(&device, 0.7), padding.clone(), causal);
            let fused = attention.forward_fused(input(&device, 0.7), padding, causal);
            // The outputs at padding positions are never used; compare the real ones.
            assert_close(&first_three(written), &first_three(fused));
        }
        assert!(!attention_of(0.1, &device).can_fuse());
    }

    #[test]
    fn attention_at_some_rows_equals_those_rows_of_the_whole_and_has_the_same_gradient() {
        let device = Device::flex().autodiff();
        let attention = attention_of(0.0, &device);
        let pad = Tensor::<2, Bool>::from_bool(
            TensorData::new(vec![false, false, false, false, true], [1, 5]),
            &device,
        );
        let chosen = Tensor::<1, Int>::from_ints([1, 3], &device);
        for padding in [None, Some(pad)] {
            for fused in [false, true] {
                // The whole attention at rows 1 and 3, and the gradient of their sum of squares
                // with respect to the input; then the same through the rows-only path.
                let x = input(&device, 0.7).require_grad();
                let whole = if fused {
                    attention.forward_fused(x.clone(), padding.clone(), false)
                } else {
                    attention.forward(x.clone(), padding.clone(), false).0
                };
                let whole = whole.reshape([5, 8]).select(0, chosen.clone());
                let whole_grad = x.grad(&whole.clone().powi_scalar(2).sum().backward());

                let y = input(&device, 0.7).require_grad();
                let queries = y.clone().reshape([5, 8]).select(0, chosen.clone());
                let queries = queries.reshape([1, 2, 8]);
                let rows = if fused {
                    attention.fused(queries, y.clone(), padding.clone(), false)
                } else {
                    attention
                        .written_out(queries, y.clone(), padding.clone(), false)
                        .0
                };
                let rows = rows.reshape([2, 8]);
                let rows_grad = y.grad(&rows.clone().powi_scalar(2).sum().backward());

                let flat = |t: Tensor<2>| t.into_data().try_into_vec::<f32>().unwrap();
                assert_close(&flat(whole), &flat(rows));
                let (a, b) = (whole_grad.unwrap(), rows_grad.unwrap());
                assert_close(&values(a), &values(b));
            }
        }
    }

    fn first_three(t: Tensor<3>) -> Vec<f32> {
        values(t.slice([0..1, 0..3, 0..8]))
    }

    #[test]
    fn weights_are_distributions_and_masks_hide_what_they_should() {
        let device = Device::flex();
        let attention = attention_of(0.0, &device);
        let (_, weights) = attention.forward(input(&device, 0.3), None, false);
        let sums: Vec<f32> = weights
            .sum_dim(3)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-5), "{sums:?}");

        // Position 4 is padding: what it holds changes nothing at positions 0..4, and no
        // position gives it weight.
        let pad = Tensor::<2, Bool>::from_bool(
            TensorData::new(vec![false, false, false, false, true], [1, 5]),
            &device,
        );
        let (a, w) = attention.forward(input(&device, 0.3), Some(pad.clone()), false);
        let (b, _) = attention.forward(input(&device, -2.0), Some(pad), false);
        assert_close(&first_four(a), &first_four(b));
        let to_pad: Vec<f32> = w
            .slice([0..1, 0..2, 0..5, 4..5])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(to_pad.iter().all(|&x| x == 0.0), "{to_pad:?}");

        // Causal: position i does not see later positions, so changing the last one changes
        // nothing before it; without the mask it does.
        let (a, _) = attention.forward(input(&device, 0.3), None, true);
        let (b, _) = attention.forward(input(&device, -2.0), None, true);
        assert_close(&first_four(a), &first_four(b));
        let (a, _) = attention.forward(input(&device, 0.3), None, false);
        let (b, _) = attention.forward(input(&device, -2.0), None, false);
        assert!(
            first_four(a)
                .iter()
                .zip(first_four(b))
                .any(|(x, y)| (x - y).abs() > 1e-4)
        );
    }
}
