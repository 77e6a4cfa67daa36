//! One optimizer step's gradient, data-parallel on the CPU: each micro-batch is split into
//! row ranges ("shards") that run forward and backward concurrently on rayon's threads, each
//! on its own replica of the model and with its own dropout generator. burn's CPU backend runs
//! elementwise operations on one thread, so this is how a step keeps every core busy. The
//! seeds of masks and dropout depend only on the run's seed, the step, the micro-batch and the
//! shard, so a resumed run draws the same ones whichever thread runs a shard.

use burn::module::{ModuleMapper, Param};
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use common::Rng;
use rayon::prelude::*;

use super::position::Position;
use crate::data::batch::{Batch, Masker};
use crate::model::MlmModel;
use crate::model::dropout::Seeded;

/// The seed of the dropout generator of micro-batch `micro` of `step`: a function of the run's
/// seed, the step and the micro-batch only, so that a resumed run draws the same dropout masks
/// as an uninterrupted one. Each shard derives its own from it ([`shard_seed`]).
fn dropout_seed(seed: u64, step: u64, micro: usize) -> u64 {
    let mut rng = Rng::new(
        seed ^ step.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ (micro as u64).wrapping_mul(0x9E37_79B9),
    );
    rng.next_u64()
}

/// The dropout seed of shard `shard` of a micro-batch whose seed is `seed`.
fn shard_seed(seed: u64, shard: usize) -> u64 {
    Rng::new(seed ^ (shard as u64).wrapping_mul(0xA24B_AED4_963E_E407)).next_u64()
}

/// A copy of `model` whose trainable parameters are new leaves of the autodiff graph (same
/// values, same parameter ids). burn's autodiff keeps every graph that shares a node under one
/// lock for the whole backward pass; shards that used the same parameter leaves would be merged
/// into one graph and their backward passes would run one after the other.
fn replica(model: &MlmModel) -> MlmModel {
    struct NewLeaves;
    impl ModuleMapper for NewLeaves {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| {
                if t.is_require_grad() {
                    t.detach().require_grad()
                } else {
                    t
                }
            })
        }
    }
    model.clone().map(&mut NewLeaves)
}

/// What one step's gradient is computed with.
pub(super) struct ShardedStep<'a> {
    /// The model being trained (on an autodiff device).
    pub model: &'a MlmModel,
    /// The MLM loss.
    pub ce: &'a CrossEntropyLoss,
    /// The test hook: multiply the loss by NaN before the backward pass.
    pub poison: bool,
    /// Masks the batches.
    pub masker: &'a Masker,
    /// Row ranges per micro-batch.
    pub shards: usize,
    /// Micro-batches per step.
    pub accum: usize,
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// The run's seed, which the dropout seeds derive from.
    pub seed: u64,
    /// Where the batches go.
    pub device: &'a Device,
}

/// The summed gradient of a step and what it measured.
pub(super) struct StepGradient {
    /// The gradient of the mean loss over the step's micro-batches.
    pub grads: GradientsParams,
    /// That mean loss.
    pub loss: f64,
    /// Tokens (sequence positions) in the step's micro-batches.
    pub tokens: usize,
}

impl ShardedStep<'_> {
    /// The gradient of step `step` over the next `accum` micro-batches of `train` from
    /// `position`; `None` when no token of them was masked (nothing to learn from).
    pub fn gradient(
        &self,
        train: &[Vec<u32>],
        position: &mut Position,
        step: u64,
    ) -> Option<StepGradient> {
        let mut accumulator = GradientsAccumulator::<MlmModel>::new();
        let (mut loss_sum, mut micro_batches, mut tokens) = (0.0, 0, 0);
        for micro in 0..self.accum {
            let (picked, seed) = position.next_batch(train, self.batch_size);
            tokens += picked.len() * picked.first().map_or(0, |s| s.len());
            let dropout = dropout_seed(self.seed, step, micro);
            if let Some(loss) = self.micro_batch(&picked, seed, dropout, &mut accumulator) {
                loss_sum += loss;
                micro_batches += 1;
            }
        }
        (micro_batches > 0).then(|| StepGradient {
            grads: accumulator.grads(),
            loss: loss_sum / micro_batches as f64,
            tokens,
        })
    }

    /// Forward and backward of one micro-batch (`picked`, masked with generators seeded from
    /// `seed` and the row) split into shards. Each shard's loss is weighted by its share of the
    /// micro-batch's masked tokens and divided by `accum`, so the summed gradient is that of the
    /// whole micro-batch's mean loss. Adds the gradients to `accumulator` and returns the
    /// micro-batch's mean loss (`None`, and nothing added, when nothing was masked).
    pub fn micro_batch(
        &self,
        picked: &[&Vec<u32>],
        seed: u64,
        dropout_seed: u64,
        accumulator: &mut GradientsAccumulator<MlmModel>,
    ) -> Option<f64> {
        if picked.is_empty() {
            return None;
        }
        // Exactly min(shards, rows) shards, their sizes differing by at most one.
        let n = self.shards.clamp(1, picked.len());
        let bounds: Vec<usize> = (0..=n).map(|k| k * picked.len() / n).collect();
        let batches: Vec<Batch> = bounds
            .windows(2)
            .map(|w| {
                let offset = w[0];
                self.masker.batch(
                    &picked[w[0]..w[1]],
                    &mut |row| Rng::new(seed ^ (offset + row) as u64),
                    self.device,
                )
            })
            .collect();
        let masked: usize = batches.iter().map(|b| b.masked).sum();
        if masked == 0 {
            return None;
        }
        let results: Vec<Option<(f64, GradientsParams)>> = batches
            .into_par_iter()
            .enumerate()
            .map(|(k, batch)| {
                if batch.masked == 0 {
                    return None;
                }
                let _dropout = Seeded::new(shard_seed(dropout_seed, k));
                let model = if k == 0 {
                    self.model.clone()
                } else {
                    replica(self.model)
                };
                let share = batch.masked as f64 / masked as f64;
                let logits = model.masked_logits(batch.ids, None, &batch.rows);
                let loss = self.ce.forward(logits, batch.targets);
                let loss = if self.poison {
                    loss.mul_scalar(f64::NAN)
                } else {
                    loss
                };
                let value = loss.clone().into_scalar::<f32>() as f64 * share;
                let loss = loss.mul_scalar(share / self.accum as f64);
                Some((value, GradientsParams::from_grads(loss.backward(), &model)))
            })
            .collect();
        let mut loss = 0.0;
        for (value, grads) in results.into_iter().flatten() {
            loss += value;
            accumulator.accumulate(self.model, grads);
        }
        Some(loss)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Positions;
    use crate::test_support::{masking, parameter_gradients, specials, tiny_shape};
    use burn::nn::loss::CrossEntropyLossConfig;

    #[test]
    fn a_batch_split_into_shards_gives_the_whole_batch_loss_and_gradient() {
        let masker = Masker {
            masking: masking(0.3, 20),
            special: specials(),
        };
        let mut shape = tiny_shape(20, 10, 8);
        shape.model.layers = 2;
        shape.model.positions = Positions::Learned;
        let device = Device::flex().autodiff();
        device.seed(5);
        let model = shape.init(&device);
        let ce = CrossEntropyLossConfig::new().init(&device);
        let rows: Vec<Vec<u32>> = (0..7u32)
            .map(|r| {
                let mut s = vec![2];
                s.extend((0..8).map(|i| 5 + (r * 3 + i * 7) % 15));
                s.push(3);
                s
            })
            .collect();
        let picked: Vec<&Vec<u32>> = rows.iter().collect();
        let run = |shards: usize| {
            let mut accumulator = GradientsAccumulator::<MlmModel>::new();
            let step = ShardedStep {
                model: &model,
                ce: &ce,
                poison: false,
                masker: &masker,
                shards,
                accum: 2,
                batch_size: 7,
                seed: 0,
                device: &device,
            };
            let loss = step
                .micro_batch(&picked, 11, 0, &mut accumulator)
                .expect("something is masked");
            let grads = accumulator.grads();
            (loss, parameter_gradients(&model, &grads))
        };
        let (whole, whole_grads) = run(1);
        for shards in [2, 3, 7, 9] {
            let (loss, grads) = run(shards);
            assert!(
                (loss - whole).abs() < 1e-5,
                "{shards} shards: {loss} vs {whole}"
            );
            assert_eq!(grads.len(), whole_grads.len());
            for (g, w) in grads.iter().zip(&whole_grads) {
                for (a, b) in g.iter().zip(w) {
                    assert!(
                        (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
                        "{shards} shards: {a} vs {b}"
                    );
                }
            }
        }
        assert!(whole_grads.iter().flatten().any(|&g| g.abs() > 1e-4));
    }
}
