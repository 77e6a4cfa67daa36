//! The pretraining loop, step-based, in the order nanoGPT's reads: the learning rate of the step
//! ([`schedule`]), the micro-batches' gradient ([`shard`]: fresh MLM masks for every batch,
//! loss on the masked positions only), global-norm clipping and the AdamW step ([`optim`]), the
//! log, then evaluation on held-out sequences ([`eval`]) and a checkpoint when due.
//!
//! Every `checkpoint_every` steps (and at the last step) the observer gets a [`Snapshot`] to
//! save; a run resumed from one ([`Resume`]) continues exactly: the data position and generator
//! state come from the checkpoint ([`position`]), and dropout is reseeded from the seed, the
//! step, the micro-batch and the shard.

pub mod eval;
pub mod optim;
pub mod position;
pub mod schedule;
mod shard;

use std::ops::ControlFlow;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use crate::config::TrainConfig;
use crate::data::batch::Masker;
use crate::data::sequences::Sequences;
use crate::error::Error;
use crate::model::MlmModel;
use eval::{EvalReport, evaluate};
use position::Position;
use schedule::learning_rate;
use shard::ShardedStep;

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
    /// Whether the step was skipped (a non-finite loss or gradient, `train.skip_nonfinite`).
    pub skipped: bool,
    /// Steps skipped so far in the run.
    pub skipped_steps: u64,
}

/// What a checkpoint holds, borrowed from the loop.
pub struct Snapshot<'a> {
    /// The model after `position.step` steps.
    pub model: &'a MlmModel,
    /// Its optimizer.
    pub optimizer: &'a ModuleOptimizer,
    /// Step, data position and generator state.
    pub position: &'a Position,
}

/// Receives reports while pretraining runs (the binary logs them and saves the checkpoints).
pub trait Observer {
    /// After every step; `Break` stops the run there (e.g. on Ctrl-C), after handing
    /// [`Observer::checkpoint`] a snapshot of that step.
    fn step(&mut self, _report: &StepReport) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// After every evaluation, with the model evaluated (for weight histograms).
    fn eval(&mut self, _report: &EvalReport, _model: &MlmModel) {}
    /// Every `checkpoint_every` steps, at the last step and when stopped, after the step's
    /// evaluation: a snapshot to save. An error stops the run with it.
    fn checkpoint(&mut self, _snapshot: &Snapshot<'_>) -> Result<(), Error> {
        Ok(())
    }
}

impl Observer for () {}

/// Where a run resumes from: the optimizer and position of a checkpoint.
pub struct Resume {
    /// AdamW with its moments.
    pub optimizer: ModuleOptimizer,
    /// Step, data position and generator state.
    pub position: Position,
}

/// How [`pretrain`] ended.
pub enum Outcome {
    /// Every step was taken; the trained model.
    Finished {
        /// The model after the last step (boxed: a model is a large value to move around).
        model: Box<MlmModel>,
    },
    /// The observer stopped the run after `step`, whose snapshot it was handed.
    Stopped {
        /// The last step taken.
        step: u64,
    },
}

/// What a run trains on and how: the data, its masking and the `[train]` settings.
pub struct Pretraining<'a> {
    /// Training and held-out sequences, all of one length.
    pub sequences: &'a Sequences,
    /// How batches are masked.
    pub masker: Masker,
    /// Batch size, steps, schedule, optimizer, evaluation and checkpoint settings.
    pub config: &'a TrainConfig,
}

/// The optimizer and position a run starts from: a fresh AdamW and the start of the data, or
/// those of `resume`, after checking that there is data and that it is the checkpoint's.
fn start(
    model: &MlmModel,
    resume: Option<Resume>,
    job: &Pretraining<'_>,
) -> Result<(ModuleOptimizer, Position), Error> {
    let (cfg, train) = (job.config, &job.sequences.train);
    let (optimizer, position) = match resume {
        Some(r) => (r.optimizer, r.position),
        None => (
            optim::adamw(model, cfg.weight_decay),
            Position::start(cfg.seed, train.len()),
        ),
    };
    if train.is_empty() {
        return Err(Error::NoTrainingData);
    }
    if position.order.len() != train.len() {
        let (checkpoint, now) = (position.order.len(), train.len());
        return Err(Error::DataChanged { checkpoint, now });
    }
    position.check_order().map_err(Error::BadPosition)?;
    Ok((optimizer, position))
}

/// Trains `model` (created on an autodiff device) up to step `config.steps`, evaluating on the
/// held-out sequences and handing a snapshot to the observer when a checkpoint is due. Starts
/// from scratch, or from `resume` (whose model is `model`), in which case the steps after the
/// checkpoint are the very steps an uninterrupted run takes: same batches, masks, dropout and
/// optimizer state.
pub fn pretrain(
    mut model: MlmModel,
    resume: Option<Resume>,
    job: &Pretraining<'_>,
    observer: &mut dyn Observer,
) -> Result<Outcome, Error> {
    let cfg = job.config;
    let train = &job.sequences.train;
    let (mut optimizer, mut position) = start(&model, resume, job)?;
    let device = model.device();
    let ce = CrossEntropyLossConfig::new().init(&device);
    for step in position.step + 1..=cfg.steps {
        let lr = learning_rate(step - 1, cfg.steps, cfg.warmup_steps, cfg.lr, cfg.schedule);
        let sharded = ShardedStep {
            model: &model,
            ce: &ce,
            poison: cfg.poison_step == Some(step),
            masker: &job.masker,
            shards: cfg.device.shards(cfg.shards),
            accum: cfg.grad_accum.max(1),
            batch_size: cfg.batch_size,
            seed: cfg.seed,
            device: &device,
        };
        let gradient = sharded.gradient(train, &mut position, step);
        position.step = step;
        let mut flow = ControlFlow::Continue(());
        if let Some(mut g) = gradient {
            let grad_norm = optim::clip_global_norm(&model, &mut g.grads, cfg.grad_clip);
            let skipped = check_finite(step, g.loss, grad_norm, cfg.skip_nonfinite)?;
            if skipped {
                position.skipped_steps += 1;
            } else {
                model = optimizer.step(lr, model, g.grads);
            }
            let (loss, tokens) = (g.loss, g.tokens);
            flow = observer.step(&StepReport {
                step,
                loss,
                lr,
                grad_norm,
                tokens,
                skipped,
                skipped_steps: position.skipped_steps,
            });
        }
        // Stopping on request skips the evaluation but still saves where the run is, so no
        // step is lost. Scheduled checkpoints also come at the last step, so that a finished
        // run can be extended with more steps.
        let stop = flow.is_break();
        let last = step == cfg.steps;
        let valid = &job.sequences.valid;
        if !stop && (step.is_multiple_of(cfg.eval_every) || last) && !valid.is_empty() {
            let inference = model.valid();
            let report = evaluate(
                &inference,
                valid,
                &job.masker,
                cfg.batch_size,
                cfg.seed,
                step,
            );
            observer.eval(&report, &model);
        }
        if stop || step.is_multiple_of(cfg.checkpoint_every) || last {
            let optimizer = &optimizer;
            observer.checkpoint(&Snapshot {
                model: &model,
                optimizer,
                position: &position,
            })?;
            if stop {
                return Ok(Outcome::Stopped { step });
            }
        }
    }
    Ok(Outcome::Finished {
        model: Box::new(model),
    })
}

/// Whether step `step` must be skipped: its `loss` or `grad_norm` is not finite and `skip` is
/// on. Not finite with `skip` off is an error; the step is then not applied either.
fn check_finite(step: u64, loss: f64, grad_norm: f64, skip: bool) -> Result<bool, Error> {
    let bad = [("loss", loss), ("gradient norm", grad_norm)]
        .into_iter()
        .find(|(_, v)| !v.is_finite());
    match bad {
        None => Ok(false),
        Some(_) if skip => Ok(true),
        Some((what, value)) => Err(Error::NonFinite { step, what, value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{Record, masking, specials, tiny_shape, tiny_train};

    #[test]
    fn eval_loss_falls_on_a_learnable_corpus_and_eval_masks_are_fixed() {
        // Each sequence repeats one token, so the unmasked rest gives a masked token away: a
        // model that trains at all learns to copy it.
        let seq = |start: u32| -> Vec<u32> {
            let mut s = vec![2];
            s.extend((0..14).map(|_| 5 + start % 10));
            s.push(3);
            s
        };
        let sequences = Sequences {
            train: (0..40).map(|i| seq(i % 10)).collect(),
            valid: (0..40).map(|i| seq((i * 3) % 10)).collect(),
        };
        let masker = Masker {
            masking: masking(0.15, 15),
            special: specials(),
        };
        let config = TrainConfig {
            lr: 1e-2,
            warmup_steps: 5,
            weight_decay: 0.0,
            seed: 3,
            ..tiny_train(150, 4, 2, 50)
        };
        let device = Device::flex().autodiff();
        let model = tiny_shape(15, 16, 16).init(&device);
        let valid = &sequences.valid;
        let before = evaluate(&model.valid(), valid, &masker, 4, 3, 0);
        let again = evaluate(&model.valid(), valid, &masker, 4, 3, 0);
        assert_eq!(before, again, "fixed eval masks");
        let mut record = Record::default();
        let job = Pretraining {
            sequences: &sequences,
            masker,
            config: &config,
        };
        let outcome = pretrain(model, None, &job, &mut record).unwrap();
        assert!(matches!(outcome, Outcome::Finished { .. }));
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
    }

    #[test]
    fn a_nan_step_stops_the_run_or_is_skipped_and_counted() {
        let sequences = Sequences {
            train: (0..8).map(|i| vec![2, 5 + i % 4, 6, 7, 3]).collect(),
            valid: Vec::new(),
        };
        let job = |config| Pretraining {
            sequences: &sequences,
            masker: Masker {
                masking: masking(0.5, 10),
                special: specials(),
            },
            config,
        };
        let device = Device::flex().autodiff();
        let model = tiny_shape(10, 8, 8).init(&device);
        let poisoned = TrainConfig {
            poison_step: Some(2),
            ..tiny_train(4, 2, 1, 10)
        };
        let e = pretrain(model.clone(), None, &job(&poisoned), &mut ())
            .err()
            .unwrap();
        assert!(
            matches!(
                e,
                Error::NonFinite {
                    step: 2,
                    what: "loss",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("step 2: the loss is NaN"), "{e}");
        let skipping = TrainConfig {
            skip_nonfinite: true,
            ..poisoned
        };
        let mut record = Record::default();
        let outcome = pretrain(model, None, &job(&skipping), &mut record).unwrap();
        assert!(matches!(outcome, Outcome::Finished { .. }));
        let skipped: Vec<bool> = record.steps.iter().map(|s| s.skipped).collect();
        assert_eq!(skipped, [false, true, false, false]);
        assert_eq!(record.steps[3].skipped_steps, 1);
        assert!(
            record.steps[2].loss.is_finite(),
            "the weights were not poisoned"
        );
    }

    #[test]
    fn no_sequences_or_a_checkpoint_of_other_data_is_an_error_not_a_silent_stop() {
        let empty = Sequences {
            train: Vec::new(),
            valid: Vec::new(),
        };
        let config = tiny_train(2, 2, 1, 1);
        let job = Pretraining {
            sequences: &empty,
            masker: Masker {
                masking: masking(0.5, 10),
                special: specials(),
            },
            config: &config,
        };
        let device = Device::flex().autodiff();
        let model = tiny_shape(10, 6, 8).init(&device);
        let e = pretrain(model.clone(), None, &job, &mut ()).err().unwrap();
        assert!(matches!(e, Error::NoTrainingData), "{e}");
        let sequences = Sequences {
            train: vec![vec![2, 5, 6, 3]; 3],
            valid: Vec::new(),
        };
        let job = Pretraining {
            sequences: &sequences,
            ..job
        };
        let resume = Resume {
            optimizer: optim::adamw(&model, 0.0),
            position: Position::start(1, 5),
        };
        let e = pretrain(model, Some(resume), &job, &mut ()).err().unwrap();
        assert_eq!(
            e.to_string(),
            "the checkpoint was made with 5 training sequences, but the data now gives 3; the data changed"
        );
    }
}
