//! Fixtures the unit tests share: the special ids of the tests' tiny vocabularies, tiny model
//! shapes and `[train]` settings, and an observer that records what it is told.

use std::ops::ControlFlow;

use crate::config::{Init, ModelConfig, NormPlacement, Positions, TrainConfig};
use crate::data::masking::MaskingConfig;
use crate::data::tokenizer::SpecialIds;
use crate::model::{MlmModel, ModelShape};
use crate::train::eval::EvalReport;
use crate::train::{Observer, StepReport};
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// The special ids of the tests' vocabularies: `[PAD]` 0 … `[MASK]` 4; regular tokens from 5.
pub fn specials() -> SpecialIds {
    SpecialIds {
        pad: 0,
        unk: 1,
        cls: 2,
        sep: 3,
        mask: 4,
    }
}

/// Masking with probability `mask_prob` over a vocabulary of `vocab_size` ([`specials`]).
pub fn masking(mask_prob: f64, vocab_size: usize) -> MaskingConfig {
    MaskingConfig::new(mask_prob, &specials(), vocab_size)
}

/// A one-layer post-norm model with sinusoidal positions, no dropout, `heads` 2 and
/// `ffn` 2 × `hidden`; tests change what they need on the result.
pub fn tiny_shape(vocab_size: usize, max_len: usize, hidden: usize) -> ModelShape {
    let model = ModelConfig {
        layers: 1,
        hidden,
        heads: 2,
        ffn: 2 * hidden,
        dropout: 0.0,
        norm: NormPlacement::Post,
        positions: Positions::Sinusoidal,
        init: Init::Scaled,
        init_embeddings: None,
    };
    ModelShape::new(&model, vocab_size, max_len)
}

/// `[train]` settings for `steps` steps of `batch_size` × `grad_accum`, evaluating every
/// `eval_every` and never checkpointing before the end.
pub fn tiny_train(
    steps: u64,
    batch_size: usize,
    grad_accum: usize,
    eval_every: u64,
) -> TrainConfig {
    TrainConfig {
        batch_size,
        grad_accum,
        steps,
        eval_every,
        checkpoint_every: steps,
        ..TrainConfig::default()
    }
}

/// Records every step and evaluation report; stops the run after step `stop_after` (0: never).
#[derive(Default)]
pub struct Record {
    /// The step reports, in order.
    pub steps: Vec<StepReport>,
    /// The evaluation reports, in order.
    pub evals: Vec<EvalReport>,
    /// The step after which to stop.
    pub stop_after: u64,
}

impl Observer for Record {
    fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
        self.steps.push(r.clone());
        if r.step == self.stop_after {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn eval(&mut self, r: &EvalReport, _model: &MlmModel) {
        self.evals.push(r.clone());
    }
}

/// Every parameter's gradient in `grads`, each flattened, in `model`'s visiting order.
///
/// # Panics
/// If a parameter has no gradient.
pub fn parameter_gradients(model: &MlmModel, grads: &GradientsParams) -> Vec<Vec<f32>> {
    struct Collect<'a>(&'a GradientsParams, Vec<Vec<f32>>);
    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = self
                .0
                .get::<D>(param.id)
                .expect("every parameter has a gradient");
            self.1.push(g.into_data().try_into_vec().unwrap());
        }
    }
    let mut collect = Collect(grads, Vec::new());
    model.visit(&mut collect);
    collect.1
}
