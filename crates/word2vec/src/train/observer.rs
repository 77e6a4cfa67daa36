//! How a run tells its caller what is happening: an [`IntervalReport`] every
//! `train.log_every_secs` and an [`EpochSummary`] with the vectors after each epoch, both
//! through an [`Observer`], from the thread that called [`train`](crate::train).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::checkpoint::Progress;
use crate::vectors::Embeddings;

use super::engine::Engine;
use super::worker::{EpochState, LossTotals};

/// How often the reporting thread looks at the workers' progress: often enough that the end of
/// an epoch is noticed at once, rarely enough to cost nothing.
const POLL: Duration = Duration::from_millis(20);

/// What training did since the previous report, sent every `log_every_secs`.
#[derive(Debug, Clone)]
pub struct IntervalReport {
    /// Current epoch, from 1.
    pub epoch: usize,
    /// Total epochs.
    pub epochs: usize,
    /// Vocabulary words read so far over all epochs (before subsampling).
    pub words_done: u64,
    /// `words_done` at the end of the run.
    pub words_total: u64,
    /// Current learning rate.
    pub alpha: f64,
    /// Mean loss per training example since the previous report (None if no example finished).
    pub loss: Option<f64>,
    /// Words per second since the previous report.
    pub words_per_sec: f64,
    /// Time since training started.
    pub elapsed: Duration,
}

/// What an epoch achieved.
#[derive(Debug, Clone)]
pub struct EpochSummary {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Mean loss per training example over the epoch.
    pub loss: f64,
    /// Training examples (skip-gram pairs or CBOW windows) in the epoch.
    pub examples: u64,
    /// Vocabulary words read in the epoch, before subsampling.
    pub words: u64,
    /// Vocabulary words read since training started (the step of per-epoch logs).
    pub words_done: u64,
    /// Time the epoch took.
    pub elapsed: Duration,
}

impl EpochSummary {
    /// The summary of the epoch `progress` is in, once it has ended, `elapsed` after it began
    /// (in this process).
    pub(super) fn of(progress: &Progress, elapsed: Duration) -> Self {
        let totals = LossTotals {
            loss: progress.epoch_loss,
            examples: progress.epoch_examples,
        };
        EpochSummary {
            epoch: progress.epoch,
            loss: totals.mean().unwrap_or(f64::NAN),
            examples: totals.examples,
            words: progress.words_done - progress.epoch_words_before,
            words_done: progress.words_done,
            elapsed,
        }
    }
}

/// Receives progress while training runs; the binary turns it into a progress bar, log lines,
/// TensorBoard scalars and per-epoch evaluations. Both methods default to doing nothing.
pub trait Observer {
    /// Called every `log_every_secs`, and once more for the tail of each epoch.
    fn progress(&mut self, _report: &IntervalReport) {}
    /// Called after each epoch with the current word vectors (for evaluation).
    fn epoch_end(&mut self, _summary: &EpochSummary, _vectors: &Embeddings) {}
    /// Polled while training runs (every few milliseconds): true asks the run to stop after
    /// the batches in progress, with a checkpoint when it keeps one (a signal, say).
    fn stop_requested(&mut self) -> bool {
        false
    }
}

/// An observer that ignores everything.
impl Observer for () {}

/// Sends the interval reports of one epoch while its workers run.
pub(super) struct Reporter<'a> {
    /// For the learning rate at the time of a report.
    pub(super) engine: &'a Engine<'a>,
    /// The epoch, from 1, and the number of epochs.
    pub(super) epoch: (usize, usize),
    /// When the run started.
    pub(super) run_start: Instant,
    /// Time between reports.
    pub(super) every: Duration,
}

impl Reporter<'_> {
    /// Reports every `every` until the workers of `state` have all stopped, then once more for
    /// the tail of the epoch (if it trained any example since the last report).
    pub(super) fn run(&self, state: &EpochState, observer: &mut dyn Observer) {
        let mut last_report = Instant::now();
        let mut last_words = state.words_done.load(Ordering::Relaxed);
        loop {
            let finished = state.finished();
            if !finished {
                std::thread::sleep(POLL);
            }
            if observer.stop_requested() {
                state.stop.store(true, Ordering::Relaxed);
            }
            if finished || last_report.elapsed() >= self.every {
                let report = self.report(state, last_report, last_words);
                if finished && report.loss.is_none() {
                    break;
                }
                if report.loss.is_some_and(|loss| !loss.is_finite()) {
                    // A numerical fault: stop now; the run reports it once the workers pause.
                    state.stop.store(true, Ordering::Relaxed);
                }
                observer.progress(&report);
                last_report = Instant::now();
                last_words = report.words_done;
            }
            if finished {
                break;
            }
        }
    }

    /// The report of the interval since `since`, when `words_since` words were done.
    fn report(&self, state: &EpochState, since: Instant, words_since: u64) -> IntervalReport {
        let words_done = state.words_done.load(Ordering::Relaxed);
        let loss = state.take_interval().mean();
        self.report_at(words_done, state.words_total, loss, since, words_since)
    }

    /// The report of the interval since `since`, when `words_since` words were done, now that
    /// `words_done` of `words_total` are and the interval's mean loss is `loss` (also for the
    /// GPU engine, which counts its words itself).
    pub(super) fn report_at(
        &self,
        words_done: u64,
        words_total: u64,
        loss: Option<f64>,
        since: Instant,
        words_since: u64,
    ) -> IntervalReport {
        let secs = since.elapsed().as_secs_f64();
        IntervalReport {
            epoch: self.epoch.0,
            epochs: self.epoch.1,
            words_done,
            words_total,
            alpha: self.engine.alpha_at(words_done, words_total),
            loss,
            words_per_sec: (words_done - words_since) as f64 / secs,
            elapsed: self.run_start.elapsed(),
        }
    }
}
