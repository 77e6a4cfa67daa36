//! What `train encoder` does while the library trains, in three parts of one concern each: the
//! [`Logger`] (progress line and TensorBoard), the [`Throughput`] meter (tokens per second of
//! training alone) and the [`CheckpointSaver`]; [`RunObserver`] hands each report to them and
//! stops the run on SIGINT or SIGTERM.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use encoder::{EvalReport, MlmModel, Observer, RunDir, Snapshot, StepReport};

use crate::first_error::FirstError;
use crate::progress::Display;
use crate::signals::StopRequest;
use crate::tensorboard::EventWriter;

/// Steps a GPU run takes at least before its speed counts: the first ones compile kernels and
/// autotune.
const GPU_WARMUP_STEPS: u64 = 3;

/// A GPU step counts as steady once it takes less than this many times the step before.
const STEADY_RATIO: f64 = 1.5;

/// Whether the steps are steady yet: on a GPU the first steps compile kernels and autotune, and
/// take far longer than the rest; they get no rate and no ETA.
pub struct Warmup {
    /// The run is on a GPU.
    gpu: bool,
    /// Steps seen.
    steps: u64,
    /// When the last step ended, and how long it took.
    last: Option<(Instant, Duration)>,
    /// The steps are steady.
    steady: bool,
}

impl Warmup {
    /// Steady from the start on a CPU; on a GPU after [`GPU_WARMUP_STEPS`] and a step no
    /// slower than [`STEADY_RATIO`] times the one before.
    pub fn new(gpu: bool) -> Self {
        Warmup {
            gpu,
            steps: 0,
            last: None,
            steady: !gpu,
        }
    }

    /// Counts a step that just ended; true on the step that makes the run steady.
    fn step(&mut self) -> bool {
        self.step_ended_at(Instant::now())
    }

    /// [`Warmup::step`] for a step that ended at `now`.
    fn step_ended_at(&mut self, now: Instant) -> bool {
        let took = self.last.map(|(end, _)| now - end);
        let before = self.last.map(|(_, d)| d);
        self.steps += 1;
        self.last = took.map(|t| (now, t)).or(Some((now, Duration::ZERO)));
        if self.steady || !self.gpu {
            return false;
        }
        let calm = matches!((took, before), (Some(t), Some(b)) if b > Duration::ZERO
            && t.as_secs_f64() < STEADY_RATIO * b.as_secs_f64());
        self.steady = self.steps > GPU_WARMUP_STEPS && calm;
        self.steady
    }
}

/// Tokens per second of training, not counting the time spent evaluating and checkpointing.
pub struct Throughput {
    /// When the current interval started.
    started: Instant,
    /// When the last step ended.
    step_end: Instant,
    /// Time since `started` spent on evaluations and checkpoints.
    paused: Duration,
    /// Tokens trained on since `started`.
    tokens: usize,
}

impl Default for Throughput {
    fn default() -> Self {
        let now = Instant::now();
        Throughput {
            started: now,
            step_end: now,
            paused: Duration::ZERO,
            tokens: 0,
        }
    }
}

impl Throughput {
    /// Counts a step of `tokens` that just ended.
    fn step(&mut self, tokens: usize) {
        self.step_end = Instant::now();
        self.tokens += tokens;
    }

    /// Counts the time since the last step (or pause) as not training.
    fn pause(&mut self) {
        self.paused += self.step_end.elapsed();
        self.step_end = Instant::now();
    }

    /// The rate of the interval so far, and a new interval started.
    fn take_rate(&mut self) -> f64 {
        let training = self.started.elapsed().saturating_sub(self.paused);
        let rate = self.tokens as f64 / training.as_secs_f64().max(1e-9);
        *self = Throughput::default();
        rate
    }
}

/// The progress line and the TensorBoard curves.
pub struct Logger<'a> {
    tb: &'a mut EventWriter,
    display: Display,
    log_every: u64,
    /// The first TensorBoard error: reported at the end, as it does not stop training.
    error: FirstError,
}

impl<'a> Logger<'a> {
    /// Logs a run of `steps` steps to `tb`, every `log_every` steps.
    pub fn new(tb: &'a mut EventWriter, steps: u64, log_every: u64) -> Self {
        Logger {
            tb,
            display: Display::new(steps, "tokens"),
            log_every,
            error: FirstError::default(),
        }
    }

    /// Whether step `step` is logged.
    fn due(&self, step: u64) -> bool {
        step.is_multiple_of(self.log_every)
    }

    /// Logs step `r`: train/loss, train/lr, train/grad_norm and, once the steps are steady
    /// (`rate` is some), the progress line and train/tokens_per_sec.
    fn step(&mut self, r: &StepReport, rate: Option<f64>) {
        if r.skipped {
            self.skipped(r);
            return;
        }
        if let Some(rate) = rate {
            self.display
                .update(r.step, rate, Some(r.loss), r.lr, "step");
        }
        let tb = &mut *self.tb;
        let result = tb
            .scalar("train/loss", r.step, r.loss)
            .and_then(|_| tb.scalar("train/lr", r.step, r.lr))
            .and_then(|_| tb.scalar("train/grad_norm", r.step, r.grad_norm))
            .and_then(|_| match rate {
                Some(rate) => tb.scalar("train/tokens_per_sec", r.step, rate),
                None => Ok(()),
            })
            .and_then(|_| tb.flush());
        self.error.keep(result);
    }

    /// Says that step `r.step` was skipped, and logs the count of skipped steps.
    fn skipped(&mut self, r: &StepReport) {
        self.display.println(&format!(
            "step {}: skipped (loss {}, gradient norm {}); {} skipped so far",
            r.step, r.loss, r.grad_norm, r.skipped_steps
        ));
        let tb = &mut *self.tb;
        let result = tb
            .scalar("train/skipped_steps", r.step, r.skipped_steps as f64)
            .and_then(|_| tb.flush());
        self.error.keep(result);
    }

    /// Logs an evaluation, and the histograms of every weight tensor of `model`.
    fn eval(&mut self, r: &EvalReport, model: &MlmModel) {
        self.display.println(&format!(
            "step {}: eval loss {:.4}, perplexity {:.2}, MLM accuracy {:.1}%",
            r.step,
            r.loss,
            r.perplexity,
            100.0 * r.accuracy
        ));
        let tb = &mut *self.tb;
        let result = tb
            .scalar("eval/loss", r.step, r.loss)
            .and_then(|_| tb.scalar("eval/perplexity", r.step, r.perplexity))
            .and_then(|_| tb.scalar("eval/mlm_accuracy", r.step, r.accuracy))
            .and_then(|_| {
                model
                    .parameter_values()
                    .iter()
                    .try_for_each(|(name, values)| {
                        tb.histogram(&format!("weights/{name}"), r.step, values)
                    })
            })
            .and_then(|_| tb.flush());
        self.error.keep(result);
    }

    /// Removes the progress bar.
    pub fn finish(&self) {
        self.display.finish();
    }

    /// The first TensorBoard error, if any.
    pub fn take_error(&mut self) -> Option<anyhow::Error> {
        self.error.take()
    }
}

/// Saves the checkpoints into the run folder, keeping the newest few.
pub struct CheckpointSaver<'a> {
    run: &'a RunDir,
    keep: usize,
    last: Option<PathBuf>,
}

impl<'a> CheckpointSaver<'a> {
    /// Saves into `run`, keeping the newest `keep`; `resumed_from` is the checkpoint a resumed
    /// run started from (its last good one until it saves its own).
    pub fn new(run: &'a RunDir, keep: usize, resumed_from: Option<PathBuf>) -> Self {
        CheckpointSaver {
            run,
            keep,
            last: resumed_from,
        }
    }

    /// The newest checkpoint saved.
    pub fn last(&self) -> Option<&Path> {
        self.last.as_deref()
    }
}

/// The observer of a `train encoder` run.
pub struct RunObserver<'a> {
    /// Progress line and TensorBoard.
    pub logger: Logger<'a>,
    /// Tokens per second.
    pub throughput: Throughput,
    /// Whether the steps are steady (a GPU's first steps compile kernels).
    pub warmup: Warmup,
    /// Checkpoints.
    pub saver: CheckpointSaver<'a>,
    /// Set by SIGINT or SIGTERM: stop after the current step, with a checkpoint.
    pub stop: StopRequest,
}

impl Observer for RunObserver<'_> {
    fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
        self.throughput.step(r.tokens);
        let became_steady = self.warmup.step();
        if became_steady {
            // The rate counts from the end of this step, the first steady one.
            self.throughput = Throughput::default();
        }
        let steady = self.warmup.steady && !became_steady;
        if !steady {
            let what = "compiling GPU kernels and autotuning";
            self.logger.display.warming_up(r.step, what);
        }
        if self.logger.due(r.step) || r.skipped {
            let rate = steady.then(|| self.throughput.take_rate());
            self.logger.step(r, rate);
        }
        if let Some(signal) = self.stop.received() {
            let line = format!(
                "{} after step {}: saving a checkpoint",
                signal.name(),
                r.step
            );
            self.logger.display.println(&line);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn eval(&mut self, r: &EvalReport, model: &MlmModel) {
        self.logger.eval(r, model);
        self.throughput.pause();
    }

    fn checkpoint(&mut self, snapshot: &Snapshot<'_>) -> Result<(), encoder::Error> {
        let saved = self.saver.run.save_checkpoint(snapshot, self.saver.keep);
        self.throughput.pause();
        self.saver.last = Some(saved?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `Warmup` steps of the given lengths (ms); which steps it calls the first steady one.
    fn first_steady(gpu: bool, lengths: &[u64]) -> Option<usize> {
        let mut warmup = Warmup::new(gpu);
        let mut now = Instant::now();
        warmup.step_ended_at(now);
        lengths.iter().position(|&ms| {
            now += Duration::from_millis(ms);
            warmup.step_ended_at(now)
        })
    }

    #[test]
    fn a_gpu_is_steady_once_a_step_is_no_slower_than_the_one_before() {
        // Compiling kernels: long, then longer, then short steps.
        assert_eq!(first_steady(true, &[9000, 12000, 30000, 300, 290]), Some(3));
        // Never before the fourth step, however calm the first ones are.
        assert_eq!(first_steady(true, &[100, 100, 100, 100]), Some(2));
        assert_eq!(first_steady(true, &[5000, 9000, 20000]), None);
        // A CPU is steady from the start: no step "becomes" steady.
        assert_eq!(first_steady(false, &[100, 100]), None);
        assert!(Warmup::new(false).steady && !Warmup::new(true).steady);
    }
}
