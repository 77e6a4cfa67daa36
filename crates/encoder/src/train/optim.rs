//! The optimizer: AdamW with weight decay on the weight matrices only (biases and LayerNorm
//! parameters, every 1-D parameter of this model, are exempt, as in BERT), and clipping by the
//! global gradient norm over all parameters (burn's built-in clipping works tensor by tensor,
//! which is not the same).

use burn::module::{ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::model::MlmModel;

/// AdamW with `weight_decay` on the weight matrices and none on [`no_decay_params`].
pub fn adamw(model: &MlmModel, weight_decay: f64) -> ModuleOptimizer {
    AdamWConfig::new()
        .with_weight_decay(weight_decay as f32)
        .init()
        .with_group(
            ParamGroup::from_ids(no_decay_params(model)),
            AdamWConfig::new().with_weight_decay(0.0).build(),
            None,
        )
}

/// The parameters exempt from weight decay: the biases and LayerNorm scales and shifts, which
/// in this model are exactly the 1-D parameters.
pub fn no_decay_params(model: &MlmModel) -> Vec<ParamId> {
    struct OneDimensional(Vec<ParamId>);
    impl ModuleVisitor for OneDimensional {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if D == 1 {
                self.0.push(param.id);
            }
        }
    }
    let mut ids = OneDimensional(Vec::new());
    model.visit(&mut ids);
    ids.0
}

/// Scales `grads` so that their global L2 norm over all of `model`'s parameters is at most
/// `max_norm` (no change when `max_norm` is 0 or the norm is already smaller); returns the norm
/// before clipping.
pub fn clip_global_norm(model: &MlmModel, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut norm = SquaredNorm { grads, sum: 0.0 };
    model.visit(&mut norm);
    let total = norm.sum.sqrt();
    if max_norm > 0.0 && total > max_norm {
        let mut scale = Scale {
            grads,
            factor: max_norm / (total + 1e-6),
        };
        model.visit(&mut scale);
    }
    total
}

/// Sums the squares of every parameter's gradient.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.sum += g.powf_scalar(2.0).sum().into_scalar::<f32>() as f64;
        }
    }
}

/// Multiplies every parameter's gradient by `factor`.
struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f64,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, g.mul_scalar(self.factor));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::tiny_shape;
    use burn::nn::loss::CrossEntropyLossConfig;

    #[test]
    fn biases_and_layer_norms_are_exempt_from_weight_decay() {
        let mut shape = tiny_shape(12, 6, 8);
        shape.model.layers = 2;
        let model = shape.init(&Device::flex());
        // Per layer: 4 attention biases, 2 feed-forward biases, 2 LayerNorms x (scale, shift);
        // plus the embedding LayerNorm (2), the head's dense bias (1), LayerNorm (2), bias (1).
        let exempt = no_decay_params(&model);
        assert_eq!(exempt.len(), 2 * (4 + 2 + 4) + 2 + 1 + 2 + 1);
        // Everything else is a matrix: token embeddings, 4 + 2 per layer, the head's dense.
        let (v, h, f) = (12, 8, 16);
        let matrices = v * h + 2 * (4 * h * h + 2 * h * f) + h * h;
        let vectors = model.num_params() - matrices;
        assert_eq!(vectors, 2 * (4 * h + h + f + 4 * h) + 2 * h + h + 2 * h + v);

        // One step with zero gradients and a large decay: matrices shrink, vectors stay.
        let device = Device::flex().autodiff();
        let model = shape.init(&device);
        let ids = Tensor::<2, Int>::from_ints([[2, 5, 4, 7, 8, 3]], &device);
        let at = Tensor::<1, Int>::from_ints([2], &device);
        let zero = model
            .mlm_logits(model.encode(ids, None), at)
            .sum()
            .mul_scalar(0.0);
        let grads = GradientsParams::from_grads(zero.backward(), &model);
        let sums = |m: &MlmModel| {
            let mut v = ParamSums::default();
            m.visit(&mut v);
            (v.matrices, v.vectors)
        };
        let before = sums(&model);
        let after = sums(&adamw(&model, 0.5).step(0.1, model, grads));
        assert!(
            (after.0 - before.0 * 0.95).abs() < 1e-3 * before.0,
            "{before:?} -> {after:?}"
        );
        assert!((after.1 - before.1).abs() < 1e-6, "{before:?} -> {after:?}");
    }

    /// Sums of |w| over the matrices and over the 1-D parameters.
    #[derive(Default)]
    struct ParamSums {
        matrices: f64,
        vectors: f64,
    }

    impl ModuleVisitor for ParamSums {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let s = param.val().abs().sum().into_scalar::<f32>() as f64;
            if D == 1 {
                self.vectors += s;
            } else {
                self.matrices += s;
            }
        }
    }

    #[test]
    fn global_norm_clipping_scales_all_gradients_together() {
        let shape = tiny_shape(12, 6, 8);
        let device = Device::flex().autodiff();
        let model = shape.init(&device);
        let ids = Tensor::<2, Int>::from_ints([[2, 5, 4, 7, 8, 3]], &device);
        let at = Tensor::<1, Int>::from_ints([2], &device);
        let target = Tensor::<1, Int>::from_ints([6], &device);
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(model.mlm_logits(model.encode(ids, None), at), target);
        let mut a = GradientsParams::from_grads(loss.backward(), &model);
        let norm = clip_global_norm(&model, &mut a, 0.0);
        assert!(norm > 0.0);
        assert!(
            (clip_global_norm(&model, &mut a, 0.0) - norm).abs() < 1e-6 * norm,
            "0 = off"
        );
        let clipped = clip_global_norm(&model, &mut a, norm / 4.0);
        assert!(
            (clipped - norm).abs() < 1e-6 * norm,
            "returns the norm before clipping"
        );
        let after = clip_global_norm(&model, &mut a, 0.0);
        assert!(
            (after - norm / 4.0).abs() < 1e-4 * norm,
            "{after} vs {}",
            norm / 4.0
        );
    }
}
