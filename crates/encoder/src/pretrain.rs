//! The pretraining loop, step-based: batches of packed sequences, fresh MLM masks for every
//! batch, loss on the masked positions only, AdamW with linear warmup and linear or cosine decay
//! ([`learning_rate`]), and evaluation on held-out sequences with fixed masks (each held-out
//! sequence always gets the masks of its own seed), so eval losses are comparable between steps.
//!
//! Gradients can be accumulated over several micro-batches per step, and are clipped by their
//! global norm over all parameters (burn's built-in clipping works tensor by tensor, which is
//! not the same).
//!
//! AdamW's weight decay applies to the weight matrices only: biases and LayerNorm parameters
//! (every 1-D parameter of this model) are exempt, as in BERT.
//!
//! Every `checkpoint_every` steps the observer gets a [`Checkpoint`] to save; a run resumed
//! from one ([`Resume`]) continues exactly: the data position and generator state come from the
//! checkpoint, and each shard's dropout generator is seeded from the seed, the step, the
//! micro-batch and the shard.

use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rayon::prelude::*;
use word2vec::Rng;

use std::ops::ControlFlow;

use crate::checkpoint::{Checkpoint, Progress};
use crate::masking::{IGNORE, MaskingConfig, mask_tokens};
use crate::model::MlmModel;
use crate::schedule::{Schedule, learning_rate};
use crate::tokenizer::SpecialIds;

/// Hyperparameters of a pretraining run.
#[derive(Debug, Clone, PartialEq)]
pub struct PretrainParams {
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed (averaged) into one optimizer step.
    pub grad_accum: usize,
    /// Row ranges each micro-batch is split into and run concurrently (data parallelism on
    /// rayon's threads; at most one a sequence); the gradient is the whole micro-batch's, but
    /// each shard draws its own dropout masks, so changing it changes the run.
    pub shards: usize,
    /// Clip the global gradient norm to this; 0 = no clipping.
    pub grad_clip: f64,
    /// Optimizer steps.
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// Decay after warmup.
    pub schedule: Schedule,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Seed of batch order and masks.
    pub seed: u64,
    /// Steps between evaluations (and at the last step).
    pub eval_every: u64,
    /// Steps between checkpoints handed to the observer (and one at the last step); 0 = none.
    pub checkpoint_every: u64,
}

/// What one training step measured.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The step, from 1.
    pub step: u64,
    /// Mean cross-entropy over the masked tokens of the batch.
    pub loss: f64,
    /// Learning rate of the step.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Tokens (sequence positions) in the step's micro-batches.
    pub tokens: usize,
}

/// Loss and accuracy on the held-out sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The step after which it was measured.
    pub step: u64,
    /// Mean cross-entropy over all masked held-out tokens.
    pub loss: f64,
    /// exp(loss).
    pub perplexity: f64,
    /// Share of masked tokens predicted exactly.
    pub accuracy: f64,
}

/// Receives reports while pretraining runs (the binary logs them and writes the checkpoints).
pub trait PretrainObserver {
    /// After every step; `Break` stops the run there (e.g. on Ctrl-C), after handing
    /// [`PretrainObserver::checkpoint`] a checkpoint of that step.
    fn step(&mut self, _report: &StepReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After every evaluation, with the model evaluated (for weight histograms).
    fn eval(&mut self, _report: &EvalReport, _model: &MlmModel) {}
    /// Every `checkpoint_every` steps and at the last step, after the step's evaluation: a
    /// checkpoint to save.
    /// `Break` stops the run there (e.g. when it could not be saved).
    fn checkpoint(&mut self, _checkpoint: &Checkpoint<'_>) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

impl PretrainObserver for () {}

/// One batch ready for the model: ids `[batch, seq]`, flattened masked positions and targets.
struct Batch {
    ids: Tensor<2, Int>,
    at: Tensor<1, Int>,
    targets: Tensor<1, Int>,
    masked: usize,
}

fn make_batch(
    sequences: &[&Vec<u32>],
    masking: &MaskingConfig,
    special: &SpecialIds,
    rngs: &mut dyn FnMut(usize) -> Rng,
    device: &Device,
) -> Batch {
    let seq = sequences[0].len();
    let mut ids = Vec::with_capacity(sequences.len() * seq);
    let (mut at, mut targets) = (Vec::new(), Vec::new());
    let is_special = |id: u32| id == special.cls || id == special.sep || id == special.pad;
    for (row, s) in sequences.iter().enumerate() {
        let m = mask_tokens(s, is_special, masking, &mut rngs(row));
        for (pos, (&input, &label)) in m.input.iter().zip(&m.labels).enumerate() {
            ids.push(input as i64);
            if label != IGNORE {
                at.push((row * seq + pos) as i64);
                targets.push(label);
            }
        }
    }
    let masked = at.len();
    Batch {
        ids: Tensor::<1, Int>::from_ints(ids.as_slice(), device).reshape([sequences.len(), seq]),
        at: Tensor::<1, Int>::from_ints(at.as_slice(), device),
        targets: Tensor::<1, Int>::from_ints(targets.as_slice(), device),
        masked,
    }
}

/// Where a run resumes from: the optimizer and progress of a checkpoint ([`crate::checkpoint`]).
pub struct Resume {
    /// AdamW with its moments.
    pub optimizer: ModuleOptimizer,
    /// Step, data position and generator state.
    pub progress: Progress,
}

/// What [`pretrain`] returns.
pub struct Trained {
    /// The model after the last step taken.
    pub model: MlmModel,
    /// False when the observer stopped the run before `params.steps`.
    pub finished: bool,
}

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

/// Forward and backward of one micro-batch (`picked`, masked with generators seeded from
/// `seed` and the row) split into `shards` row ranges that run concurrently on rayon's threads,
/// each on its own [`replica`] and with its own dropout generator. Each shard's loss is
/// weighted by its share of the micro-batch's masked tokens and divided by `accum`, so the
/// summed gradient is that of the whole micro-batch's mean loss (the elementwise operations of
/// burn's CPU backend run on one thread, so this is how a step keeps every core busy).
/// Adds the gradients to `accumulator` and returns the micro-batch's mean loss (`None`, and
/// nothing added, when nothing was masked).
#[allow(clippy::too_many_arguments)] // the inputs of make_batch plus the shard settings
fn shard_gradients(
    model: &MlmModel,
    ce: &CrossEntropyLoss,
    picked: &[&Vec<u32>],
    masking: &MaskingConfig,
    special: &SpecialIds,
    seed: u64,
    shards: usize,
    dropout_seed: u64,
    accum: usize,
    device: &Device,
    accumulator: &mut GradientsAccumulator<MlmModel>,
) -> Option<f64> {
    if picked.is_empty() {
        return None;
    }
    // Exactly min(shards, rows) shards, their sizes differing by at most one.
    let n = shards.clamp(1, picked.len());
    let bounds: Vec<usize> = (0..=n).map(|k| k * picked.len() / n).collect();
    let batches: Vec<Batch> = bounds
        .windows(2)
        .map(|w| {
            let offset = w[0];
            make_batch(
                &picked[w[0]..w[1]],
                masking,
                special,
                &mut |row| Rng::new(seed ^ (offset + row) as u64),
                device,
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
            let _dropout = crate::dropout::Seeded::new(shard_seed(dropout_seed, k));
            let model = if k == 0 {
                model.clone()
            } else {
                replica(model)
            };
            let share = batch.masked as f64 / masked as f64;
            let hidden = model.encode(batch.ids, None);
            let loss = ce.forward(model.mlm_logits(hidden, batch.at), batch.targets);
            let value = loss.clone().into_scalar::<f32>() as f64 * share;
            let loss = loss.mul_scalar(share / accum as f64);
            Some((value, GradientsParams::from_grads(loss.backward(), &model)))
        })
        .collect();
    let mut loss = 0.0;
    for (value, grads) in results.into_iter().flatten() {
        loss += value;
        accumulator.accumulate(model, grads);
    }
    Some(loss)
}

/// Trains `model` (created on an autodiff device) on `train` sequences, all of one length, up to
/// step `params.steps`, evaluating on `valid` and handing a checkpoint to the observer every
/// `params.checkpoint_every` steps. Starts from scratch, or from `resume` (whose model is
/// `model`), in which case the steps after the checkpoint are the very steps an uninterrupted
/// run takes: same batches, masks, dropout and optimizer state.
#[allow(clippy::too_many_arguments)] // each is a different input; a struct would only rename them
pub fn pretrain(
    mut model: MlmModel,
    resume: Option<Resume>,
    train: &[Vec<u32>],
    valid: &[Vec<u32>],
    special: &SpecialIds,
    masking: &MaskingConfig,
    params: &PretrainParams,
    observer: &mut dyn PretrainObserver,
) -> Trained {
    let device = model
        .devices()
        .into_iter()
        .next()
        .unwrap_or_else(Device::flex);
    let ce = CrossEntropyLossConfig::new().init(&device);
    let (mut optim, mut progress) = match resume {
        Some(r) => (r.optimizer, r.progress),
        None => (
            adamw(&model, params.weight_decay),
            Progress::start(params.seed, train.len()),
        ),
    };
    if train.is_empty() || params.batch_size == 0 || progress.order.len() != train.len() {
        return Trained {
            model,
            finished: false,
        };
    }
    let mut rng = Rng::from_state(progress.rng);
    let accum = params.grad_accum.max(1);
    for step in progress.step + 1..=params.steps {
        let lr = learning_rate(
            step - 1,
            params.steps,
            params.warmup_steps,
            params.lr,
            params.schedule,
        );
        let mut accumulator = GradientsAccumulator::<MlmModel>::new();
        let (mut loss_sum, mut micro_batches, mut tokens) = (0.0, 0, 0);
        for micro in 0..accum {
            let mut picked = Vec::with_capacity(params.batch_size);
            while picked.len() < params.batch_size.min(train.len()) {
                let order = &mut progress.order;
                if progress.cursor >= order.len() {
                    // A new epoch: reshuffle (Fisher-Yates).
                    for i in (1..order.len()).rev() {
                        order.swap(i, rng.below(i as u32 + 1) as usize);
                    }
                    progress.cursor = 0;
                }
                picked.push(&train[order[progress.cursor] as usize]);
                progress.cursor += 1;
            }
            let seed = rng.next_u64();
            tokens += picked.len() * picked[0].len();
            let loss = shard_gradients(
                &model,
                &ce,
                &picked,
                masking,
                special,
                seed,
                params.shards,
                dropout_seed(params.seed, step, micro),
                accum,
                &device,
                &mut accumulator,
            );
            if let Some(loss) = loss {
                loss_sum += loss;
                micro_batches += 1;
            }
        }
        progress.step = step;
        progress.rng = rng.state();
        let mut flow = ControlFlow::Continue(());
        if micro_batches > 0 {
            let mut grads = accumulator.grads();
            let grad_norm = clip_global_norm(&model, &mut grads, params.grad_clip);
            model = optim.step(lr, model, grads);
            flow = observer.step(&StepReport {
                step,
                loss: loss_sum / micro_batches as f64,
                lr,
                grad_norm,
                tokens,
            });
        }
        // Stopping on request (the observer's Break) skips the evaluation but still saves
        // where the run is, so no step is lost. Scheduled checkpoints also come at the last
        // step, so that a finished run can be extended with more steps.
        let stop = flow.is_break();
        let due = params.checkpoint_every > 0
            && (step % params.checkpoint_every == 0 || step == params.steps);
        if !stop && (step % params.eval_every == 0 || step == params.steps) && !valid.is_empty() {
            let report = evaluate(&model.valid(), valid, special, masking, params, step);
            observer.eval(&report, &model);
        }
        if stop || due {
            let checkpoint = Checkpoint {
                model: &model,
                optimizer: &optim,
                progress: &progress,
            };
            if observer.checkpoint(&checkpoint).is_break() || stop {
                return Trained {
                    model,
                    finished: false,
                };
            }
        }
    }
    Trained {
        model,
        finished: true,
    }
}

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

/// Loss, perplexity and accuracy on `valid` with fixed masks (sequence `i` always masked with
/// the generator seeded by `seed` and `i`). `model` should be in its inference form
/// ([`Module::valid`]): batches run on rayon's threads, where dropout would draw from
/// unseeded per-thread generators.
pub fn evaluate(
    model: &MlmModel,
    valid: &[Vec<u32>],
    special: &SpecialIds,
    masking: &MaskingConfig,
    params: &PretrainParams,
    step: u64,
) -> EvalReport {
    let device = model
        .devices()
        .into_iter()
        .next()
        .unwrap_or_else(Device::flex);
    let ce = CrossEntropyLossConfig::new().init(&device);
    // Batches are independent: rayon runs them on all threads (the elementwise operations of
    // burn's CPU backend use one thread each), and the sums are taken in batch order.
    let per_batch: Vec<(f64, usize, usize)> = valid
        .par_chunks(params.batch_size.max(1))
        .enumerate()
        .map(|(chunk_index, chunk)| {
            let refs: Vec<&Vec<u32>> = chunk.iter().collect();
            let base = chunk_index * params.batch_size.max(1);
            let batch = make_batch(
                &refs,
                masking,
                special,
                &mut |row| {
                    Rng::new(params.seed.wrapping_mul(0x9E37_79B9) ^ (base + row) as u64 ^ 0xE7A1)
                },
                &device,
            );
            if batch.masked == 0 {
                return (0.0, 0, 0);
            }
            let logits = model.mlm_logits(model.encode(batch.ids, None), batch.at);
            let predicted = logits.clone().argmax(1).reshape([batch.masked]);
            let hits = predicted.equal(batch.targets.clone());
            let correct = hits.int().sum().into_scalar::<i64>() as usize;
            let loss = ce.forward(logits, batch.targets).into_scalar::<f32>() as f64;
            (loss * batch.masked as f64, correct, batch.masked)
        })
        .collect();
    let (mut loss_sum, mut correct, mut count) = (0.0, 0usize, 0usize);
    for (l, c, n) in per_batch {
        loss_sum += l;
        correct += c;
        count += n;
    }
    let loss = if count > 0 {
        loss_sum / count as f64
    } else {
        f64::NAN
    };
    EvalReport {
        step,
        loss,
        perplexity: loss.exp(),
        accuracy: if count > 0 {
            correct as f64 / count as f64
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::NormPlacement;
    use crate::model::{Init, ModelShape};

    /// The special-token ids of the tests' tiny vocabularies; regular tokens start at 5.
    fn specials() -> SpecialIds {
        SpecialIds {
            pad: 0,
            unk: 1,
            cls: 2,
            sep: 3,
            mask: 4,
        }
    }

    #[derive(Default)]
    struct Record {
        steps: Vec<StepReport>,
        evals: Vec<EvalReport>,
    }

    impl PretrainObserver for Record {
        fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
            self.steps.push(r.clone());
            ControlFlow::Continue(())
        }
        fn eval(&mut self, r: &EvalReport, _model: &MlmModel) {
            self.evals.push(r.clone());
        }
    }

    #[test]
    fn biases_and_layer_norms_are_exempt_from_weight_decay() {
        let shape = ModelShape {
            vocab_size: 12,
            max_len: 6,
            layers: 2,
            hidden: 8,
            heads: 2,
            ffn: 16,
            dropout: 0.0,
            norm: NormPlacement::Post,
            learned_positions: false,
            init: Init::Scaled,
        };
        let model = MlmModel::new(&shape, &Device::flex());
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
        let model = MlmModel::new(&shape, &device);
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
        let shape = ModelShape {
            vocab_size: 12,
            max_len: 6,
            layers: 1,
            hidden: 8,
            heads: 2,
            ffn: 16,
            dropout: 0.0,
            norm: NormPlacement::Post,
            learned_positions: false,
            init: Init::Scaled,
        };
        let device = Device::flex().autodiff();
        let model = MlmModel::new(&shape, &device);
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

    /// Every parameter's gradient, flattened, in visiting order.
    struct Flat<'a>(&'a GradientsParams, Vec<Vec<f32>>);

    impl ModuleVisitor for Flat<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = self
                .0
                .get::<D>(param.id)
                .expect("every parameter has a gradient");
            self.1.push(g.into_data().try_into_vec().unwrap());
        }
    }

    #[test]
    fn a_batch_split_into_shards_gives_the_whole_batch_loss_and_gradient() {
        let special = specials();
        let masking = MaskingConfig {
            mask_prob: 0.3,
            mask_id: 4,
            first_regular_id: 5,
            vocab_size: 20,
        };
        let shape = ModelShape {
            vocab_size: 20,
            max_len: 10,
            layers: 2,
            hidden: 8,
            heads: 2,
            ffn: 16,
            dropout: 0.0,
            norm: NormPlacement::Post,
            learned_positions: true,
            init: Init::Scaled,
        };
        let device = Device::flex().autodiff();
        device.seed(5);
        let model = MlmModel::new(&shape, &device);
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
            let loss = shard_gradients(
                &model,
                &ce,
                &picked,
                &masking,
                &special,
                11,
                shards,
                0,
                2,
                &device,
                &mut accumulator,
            )
            .expect("something is masked");
            let grads = accumulator.grads();
            let mut flat = Flat(&grads, Vec::new());
            model.visit(&mut flat);
            (loss, flat.1)
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

    #[test]
    fn eval_loss_falls_on_a_learnable_corpus_and_eval_masks_are_fixed() {
        let special = specials();
        // Each sequence repeats one token, so the unmasked rest gives a masked token away: a
        // model that trains at all learns to copy it.
        let seq = |start: u32| -> Vec<u32> {
            let mut s = vec![2];
            s.extend((0..14).map(|_| 5 + start % 10));
            s.push(3);
            s
        };
        let train: Vec<Vec<u32>> = (0..40).map(|i| seq(i % 10)).collect();
        let valid: Vec<Vec<u32>> = (0..40).map(|i| seq((i * 3) % 10)).collect();
        let masking = MaskingConfig {
            mask_prob: 0.15,
            mask_id: 4,
            first_regular_id: 5,
            vocab_size: 15,
        };
        let params = PretrainParams {
            batch_size: 4,
            grad_accum: 2,
            shards: 2,
            grad_clip: 1.0,
            steps: 150,
            lr: 1e-2,
            warmup_steps: 5,
            schedule: Schedule::Linear,
            weight_decay: 0.0,
            seed: 3,
            eval_every: 50,
            checkpoint_every: 0,
        };
        let shape = ModelShape {
            vocab_size: 15,
            max_len: 16,
            layers: 1,
            hidden: 16,
            heads: 2,
            ffn: 32,
            dropout: 0.0,
            norm: NormPlacement::Post,
            learned_positions: false,
            init: Init::Scaled,
        };
        let device = Device::flex().autodiff();
        let model = MlmModel::new(&shape, &device);
        let before = evaluate(&model.valid(), &valid, &special, &masking, &params, 0);
        let again = evaluate(&model.valid(), &valid, &special, &masking, &params, 0);
        assert_eq!(before, again, "fixed eval masks");
        let mut record = Record::default();
        let trained = pretrain(
            model,
            None,
            &train,
            &valid,
            &special,
            &masking,
            &params,
            &mut record,
        );
        assert_eq!(record.evals.len(), 3);
        let last = &record.evals[2];
        assert!(
            last.loss < before.loss * 0.5,
            "{} -> {}",
            before.loss,
            last.loss
        );
        assert!(
            last.accuracy > 0.9,
            "accuracy {} loss {}",
            last.accuracy,
            last.loss
        );
        assert!((last.perplexity - last.loss.exp()).abs() < 1e-9);
        assert!(
            record
                .steps
                .iter()
                .all(|s| s.loss.is_finite() && s.grad_norm > 0.0)
        );
        assert!(
            record.steps.iter().all(|s| s.tokens == 8 * 16),
            "two micro-batches of 4 x 16"
        );
        assert!(
            (record.steps[4].lr - 1e-2).abs() < 1e-12,
            "warmup reaches the peak at step 5"
        );
        assert!(trained.finished);
    }

    /// Saves every checkpoint it is handed into `dir` and stops the run after step `stop_after`.
    struct Checkpointing<'a> {
        record: Record,
        dir: &'a std::path::Path,
        stop_after: u64,
    }

    impl PretrainObserver for Checkpointing<'_> {
        fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
            let _ = self.record.step(r);
            if r.step == self.stop_after {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        fn eval(&mut self, r: &EvalReport, model: &MlmModel) {
            self.record.eval(r, model);
        }
        fn checkpoint(&mut self, c: &Checkpoint<'_>) -> ControlFlow<()> {
            crate::checkpoint::save(self.dir, c, 2).unwrap();
            ControlFlow::Continue(())
        }
    }

    #[test]
    fn a_run_resumed_from_a_checkpoint_continues_the_uninterrupted_curve() {
        let special = specials();
        let mut rng = Rng::new(11);
        let train: Vec<Vec<u32>> = (0..9)
            .map(|_| {
                let mut s = vec![2];
                s.extend((0..10).map(|_| 5 + rng.below(20)));
                s.push(3);
                s
            })
            .collect();
        let valid = train[..3].to_vec();
        let masking = MaskingConfig {
            mask_prob: 0.3,
            mask_id: 4,
            first_regular_id: 5,
            vocab_size: 25,
        };
        // Two micro-batches a step and 9 sequences in batches of 4: the stop falls inside an
        // epoch, so the data position, the generator and AdamW's moments all matter. Dropout is
        // off here because burn's backend generator is global to the process and other tests
        // draw from it in parallel; the CLI test, one process per run, covers it with dropout.
        let params = PretrainParams {
            batch_size: 4,
            grad_accum: 2,
            shards: 2,
            grad_clip: 1.0,
            steps: 8,
            lr: 5e-3,
            warmup_steps: 2,
            schedule: Schedule::Cosine,
            weight_decay: 0.01,
            seed: 5,
            eval_every: 2,
            checkpoint_every: 3,
        };
        let shape = ModelShape {
            vocab_size: 25,
            max_len: 12,
            layers: 2,
            hidden: 16,
            heads: 2,
            ffn: 32,
            dropout: 0.0,
            norm: NormPlacement::Post,
            learned_positions: true,
            init: Init::Scaled,
        };
        let device = Device::flex().autodiff();
        let init = MlmModel::new(&shape, &device);
        let go = |model: MlmModel, resume: Option<Resume>, observer: &mut Checkpointing<'_>| {
            pretrain(
                model, resume, &train, &valid, &special, &masking, &params, observer,
            )
        };
        let tmp = tempfile::tempdir().unwrap();
        let mut whole = Checkpointing {
            record: Record::default(),
            dir: &tmp.path().join("whole"),
            stop_after: 0,
        };
        let done = go(init.clone(), None, &mut whole);
        assert!(done.finished);
        assert_eq!(whole.record.steps.len(), 8);
        let kept: Vec<u64> = crate::checkpoint::list(whole.dir)
            .unwrap()
            .iter()
            .map(|c| c.0)
            .collect();
        assert_eq!(
            kept,
            [6, 8],
            "every 3 steps and at the end, the newest 2 kept"
        );

        // Stopped after step 5, which saves a checkpoint of step 5 beside the one of step 3.
        let mut cut = Checkpointing {
            record: Record::default(),
            dir: &tmp.path().join("cut"),
            stop_after: 5,
        };
        let stopped = go(init, None, &mut cut);
        assert!(!stopped.finished);
        assert_eq!(cut.record.steps, whole.record.steps[..5]);
        // A folder left by a save that was killed midway is not a checkpoint, and the next
        // save removes it.
        let stale = cut.dir.join(".step-4.tmp");
        std::fs::create_dir(&stale).unwrap();
        let saved = crate::checkpoint::list(cut.dir).unwrap();
        assert_eq!(saved.iter().map(|c| c.0).collect::<Vec<_>>(), [3, 5]);
        // Resuming from step 3 (as after a crash in steps 4 or 5) retakes steps 4 and 5.
        let path = &saved[0].1;
        let loaded = crate::checkpoint::load(path, &shape, params.weight_decay, &device).unwrap();
        assert_eq!(loaded.progress.step, 3);
        let mut rest = Checkpointing {
            record: Record::default(),
            dir: cut.dir,
            stop_after: 0,
        };
        let resume = Resume {
            optimizer: loaded.optimizer,
            progress: loaded.progress,
        };
        let resumed = go(loaded.model, Some(resume), &mut rest);
        assert!(resumed.finished);
        assert!(!stale.exists());
        assert_eq!(rest.record.steps, whole.record.steps[3..], "steps 4..=8");
        assert_eq!(
            rest.record.evals,
            whole.record.evals[1..],
            "evals at 4, 6, 8"
        );
        let out = |m: &MlmModel| {
            let valid_model = m.valid();
            let device = Device::flex();
            let ids = Tensor::<2, Int>::from_ints([[2, 5, 4, 7, 8, 3]], &device);
            valid_model
                .encode(ids, None)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        assert_eq!(out(&resumed.model), out(&done.model), "same final weights");
    }
}
