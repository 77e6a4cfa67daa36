//! What `train word2vec` does with the library's reports: the progress display, TensorBoard
//! scalars and histograms, and the per-epoch evaluation, each a function of its own; a failed
//! TensorBoard write is kept, not fatal, and reported after the vectors are saved.

use anyhow::Result;
use word2vec::{Embeddings, EpochSummary, IntervalReport};

use crate::first_error::FirstError;
use crate::progress::{Display, human};
use crate::signals::StopRequest;
use crate::tensorboard::EventWriter;

use super::evaluate::EvalSets;

/// Values sampled for the per-epoch histogram of vector components (enough for its shape).
const HISTOGRAM_SAMPLE: usize = 200_000;

/// The [`word2vec::Observer`] of a run: shows and logs progress, logs and evaluates each epoch.
pub(super) struct RunObserver<'a> {
    display: Display,
    tb: &'a mut EventWriter,
    eval: &'a EvalSets,
    log_error: FirstError,
    stop: StopRequest,
    stopping: bool,
}

impl<'a> RunObserver<'a> {
    /// An observer showing progress on `display`, logging to `tb`, evaluating `eval`, and
    /// asking the run to stop once `stop` has heard a signal.
    pub(super) fn new(
        display: Display,
        tb: &'a mut EventWriter,
        eval: &'a EvalSets,
        stop: StopRequest,
    ) -> Self {
        RunObserver {
            display,
            tb,
            eval,
            log_error: FirstError::default(),
            stop,
            stopping: false,
        }
    }

    /// Removes the progress bar; returns the first logging error, if any.
    pub(super) fn finish(mut self) -> Option<anyhow::Error> {
        self.display.finish();
        self.log_error.take()
    }
}

impl word2vec::Observer for RunObserver<'_> {
    fn progress(&mut self, report: &IntervalReport) {
        show_interval(&mut self.display, report);
        self.log_error.keep(log_interval(self.tb, report));
    }

    fn epoch_end(&mut self, summary: &EpochSummary, vectors: &Embeddings) {
        self.display.println(&epoch_line(summary));
        self.log_error.keep(log_epoch(self.tb, summary, vectors));
        let evaluated = self
            .eval
            .evaluate(vectors, summary.words_done, &self.display, self.tb);
        self.log_error.keep(evaluated);
        self.log_error.keep(self.tb.flush());
    }

    fn stop_requested(&mut self) -> bool {
        let Some(signal) = self.stop.received() else {
            return false;
        };
        if !self.stopping {
            self.stopping = true;
            let line = format!(
                "{}: stopping after the current batches, with a checkpoint",
                signal.name()
            );
            self.display.println(&line);
        }
        true
    }
}

/// Updates the progress bar (or log line) with an interval report.
fn show_interval(display: &mut Display, r: &IntervalReport) {
    let prefix = format!("epoch {}/{}", r.epoch, r.epochs);
    display.update(r.words_done, r.words_per_sec, r.loss, r.alpha, &prefix);
}

/// Logs an interval report as `train/loss`, `train/lr` and `train/words_per_sec`.
fn log_interval(tb: &mut EventWriter, r: &IntervalReport) -> Result<()> {
    let step = r.words_done;
    if let Some(loss) = r.loss {
        tb.scalar("train/loss", step, loss)?;
    }
    tb.scalar("train/lr", step, r.alpha)?;
    tb.scalar("train/words_per_sec", step, r.words_per_sec)?;
    tb.flush()?;
    Ok(())
}

/// The line printed after an epoch.
fn epoch_line(s: &EpochSummary) -> String {
    format!(
        "epoch {}: loss {:.4} over {} examples, {} words in {:.1}s ({} words/s)",
        s.epoch,
        s.loss,
        s.examples,
        s.words,
        s.elapsed.as_secs_f64(),
        human(s.words as f64 / s.elapsed.as_secs_f64().max(1e-9))
    )
}

/// Logs an epoch's `train/epoch_loss` and a histogram of (a sample of) the vectors' components.
fn log_epoch(tb: &mut EventWriter, s: &EpochSummary, vectors: &Embeddings) -> Result<()> {
    tb.scalar("train/epoch_loss", s.words_done, s.loss)?;
    let stride = (vectors.data().len() / HISTOGRAM_SAMPLE).max(1);
    let sample: Vec<f32> = vectors.data().iter().step_by(stride).copied().collect();
    if sample.iter().any(|x| x.is_finite()) {
        tb.histogram("vectors/input", s.words_done, &sample)?;
    }
    Ok(())
}
