//! What both engines do with checkpoints: write one (when the run keeps one) and remember it,
//! and build the errors of a stopped run and of a numerical fault, which name it.

use std::cell::Cell;
use std::path::Path;

use crate::checkpoint::{self, Progress};
use crate::error::{Error, Result};
use crate::vocab::Vocab;

/// The checkpoint file of a run, if it keeps one, and the words done at the last one written.
pub(super) struct Saver<'a> {
    /// The checkpoint file.
    pub(super) path: Option<&'a Path>,
    /// Words between checkpoints within an epoch (0: at epoch ends only).
    every_words: u64,
    /// The vocabulary every checkpoint holds.
    pub(super) vocab: &'a Vocab,
    /// Words done at the last checkpoint written (or resumed from).
    saved: Cell<Option<u64>>,
}

impl<'a> Saver<'a> {
    /// The saver of a run at `progress` that checkpoints to `path` every `every_words` words
    /// within an epoch (a resumed run's checkpoint is its last good one).
    pub(super) fn new(
        path: Option<&'a Path>,
        every_words: u64,
        vocab: &'a Vocab,
        progress: &Progress,
    ) -> Self {
        let resumed = (progress.words_done > 0).then_some(progress.words_done);
        Saver {
            path,
            every_words,
            vocab,
            saved: Cell::new(resumed),
        }
    }

    /// Whether the run keeps checkpoints.
    pub(super) fn enabled(&self) -> bool {
        self.path.is_some()
    }

    /// The words done at which the next checkpoint within an epoch is due, when `words_done`
    /// are done now (never, for a run without checkpoints or with `every_words` 0).
    pub(super) fn due_at(&self, words_done: u64) -> u64 {
        match self.every_words {
            every if every > 0 && self.enabled() => words_done.saturating_add(every),
            _ => u64::MAX,
        }
    }

    /// Writes a checkpoint of `progress` with `weights` (input, negative sampling, hierarchical
    /// softmax), if the run keeps one. Weights that are not all finite are a numerical fault,
    /// not a checkpoint: a weight can turn before the loss shows it.
    pub(super) fn save(&self, progress: &Progress, weights: [&[f32]; 3]) -> Result<()> {
        let Some(path) = self.path else {
            return Ok(());
        };
        if !weights.iter().all(|m| m.iter().all(|x| x.is_finite())) {
            return Err(self.non_finite(progress.epoch, progress.words_done));
        }
        checkpoint::write(path, progress, self.vocab, weights)?;
        self.saved.set(Some(progress.words_done));
        Ok(())
    }

    /// The error of a run stopped on request at `words_done` words.
    pub(super) fn stopped(&self, words_done: u64) -> Error {
        Error::Stopped {
            words_done,
            checkpoint: self.path.map(Path::to_path_buf),
        }
    }

    /// The error of a loss that stopped being finite in `epoch` before `words_done` words.
    pub(super) fn non_finite(&self, epoch: usize, words_done: u64) -> Error {
        let last_good = match (self.path, self.saved.get()) {
            (Some(path), Some(words)) => format!("{} (at {words} words)", path.display()),
            _ => "none".into(),
        };
        Error::NonFinite {
            epoch,
            words_done,
            last_good,
        }
    }
}
