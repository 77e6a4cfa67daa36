//! The CPU training engine: word2vec.c's algorithm with Hogwild threads.
//!
//! Each epoch, worker threads ([`worker`]) take the next batch of sentences from a shared
//! [`source`] (the corpus as ids in memory, or its file, whose tokens they map to ids), drop
//! frequent words by subsampling, and run SGD on the
//! shared weights without locks ([`hogwild`]; Recht et al. 2011, as word2vec.c and gensim do;
//! skip-gram with hierarchical softmax keeps private copies of the tree's top, merged under a
//! lock once a sentence: [`hot_rows`]), while the calling thread sends progress reports
//! ([`observer`]). The loss and its gradient are derived in [`maths`] and computed with the
//! vector [`kernels`]; what a run fixes before it starts is in [`engine`]. With one thread, a
//! run is a pure function of the corpus, the parameters and the seed, on the same kind of CPU
//! (the kernels for AVX-512, AVX2 and neither round differently).
//!
//! An epoch runs in stretches: the workers pause after their current batch when a checkpoint
//! is due (`train.checkpoint_every_words`), when the observer asks for a stop (a signal), or
//! when the loss stops being finite; the weights, the corpus position and each worker's
//! generator are then saved ([`saver`]), and the next stretch goes on from exactly there. So
//! a one-thread run resumed from any checkpoint, on the same kind of CPU, ends with the vectors of
//! an uninterrupted one.
//!
//! Module dependencies run one way: `mod` uses the others; `gpu` (the GPU engine) uses
//! `engine`, `observer`, `saver` and `worker`; `observer` uses `worker` and `engine`; `worker`
//! uses `engine`, `hogwild`, `hot_rows`, `kernels`, `maths` and `source`; `hot_rows` uses `hogwild`;
//! `engine` uses `maths`.

mod engine;
#[cfg(feature = "wgpu")]
mod gpu;
mod hogwild;
mod hot_rows;
mod kernels;
mod maths;
mod observer;
mod saver;
mod source;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::checkpoint::{self, Progress};
use crate::corpus_ids::CorpusIds;
use crate::error::{Error, Result};
use crate::params::{DataParams, Device, ModelParams, TrainParams};
use crate::sampling::Rng;
use crate::vectors::Embeddings;
use crate::vocab::Vocab;

use engine::{Engine, OutputWeights};
use hogwild::HogwildMatrix;
use worker::{EpochState, LossTotals, Weights, Worker};

use observer::Reporter;
pub use observer::{EpochSummary, IntervalReport, Observer};
use saver::Saver;
use source::Source;

/// Trains vectors for `vocab` on the corpus of `data`, and returns the input vectors
/// (word2vec's result). Each epoch reads `ids`, the corpus as `vocab`'s ids, when given (see
/// [`Vocab::from_corpus_with_ids`]); else the file (so does the GPU engine). The parameters are
/// validated first; `observer` hears of progress every `train.log_every_secs` and after every
/// epoch. No checkpoints are kept: see [`train_checkpointed`].
pub fn train(
    data: &DataParams,
    model: &ModelParams,
    train: &TrainParams,
    vocab: &Vocab,
    ids: Option<&CorpusIds>,
    observer: &mut dyn Observer,
) -> Result<Embeddings> {
    let job = Job {
        data,
        model,
        train,
        vocab,
        ids,
    };
    job.run(None, None, observer)
}

/// Where a run keeps its checkpoint, and the checkpoint it continues from.
#[derive(Debug)]
pub struct Checkpoints {
    /// The checkpoint file (a run folder's [`CHECKPOINT_FILE`](crate::CHECKPOINT_FILE)),
    /// replaced at every epoch's end, every `train.checkpoint_every_words` and when the
    /// observer asks the run to stop.
    pub path: PathBuf,
    /// The checkpoint to continue (its vocabulary must be the `vocab` given with it).
    pub resume: Option<(Progress, checkpoint::Weights)>,
}

/// [`train`] with checkpoints: a run that stops (a signal through
/// [`Observer::stop_requested`], a crash, a kill) continues from its last checkpoint. With one
/// thread, a resumed run ends with the same vectors, bit for bit, as one never interrupted.
/// A stop ends with [`Error::Stopped`] once the checkpoint is written.
pub fn train_checkpointed(
    data: &DataParams,
    model: &ModelParams,
    train: &TrainParams,
    vocab: &Vocab,
    ids: Option<&CorpusIds>,
    checkpoints: Checkpoints,
    observer: &mut dyn Observer,
) -> Result<Embeddings> {
    let job = Job {
        data,
        model,
        train,
        vocab,
        ids,
    };
    job.run(Some(&checkpoints.path), checkpoints.resume, observer)
}

/// Opens `device` before a run and checks that it can train `model` (a missing GPU, or a model
/// too large for it, is an error before any work), and says what it is, for the log and the run
/// folder. A process opens its GPU once; training reuses it.
pub fn open_device(device: Device, model: &ModelParams) -> Result<common::AdapterInfo> {
    match device {
        Device::Cpu => Ok(common::AdapterInfo::cpu("CPU", "Hogwild threads")),
        #[cfg(feature = "wgpu")]
        Device::Wgpu => gpu::open(model),
        #[cfg(not(feature = "wgpu"))]
        Device::Wgpu => {
            let _ = model; // only the GPU engine has limits of its own
            Err(Error::Param(common::InvalidParam::new(
                "train.device",
                "wgpu",
                "is not built into this program (build it with `--features wgpu`)",
                "\"cpu\"",
            )))
        }
    }
}

/// What a run is asked to do.
struct Job<'a> {
    data: &'a DataParams,
    model: &'a ModelParams,
    train: &'a TrainParams,
    vocab: &'a Vocab,
    ids: Option<&'a CorpusIds>,
}

impl Job<'_> {
    /// Validates the job, starts or resumes its weights, and trains them epoch by epoch.
    fn run(
        &self,
        checkpoint: Option<&Path>,
        resume: Option<(Progress, checkpoint::Weights)>,
        observer: &mut dyn Observer,
    ) -> Result<Embeddings> {
        self.data.validate()?;
        self.model.validate()?;
        self.train.validate()?;
        if self.vocab.is_empty() {
            return Err(Error::InvalidParameter("the vocabulary is empty".into()));
        }
        if let Some(ids) = self.ids
            && ids.vocab_words() != self.vocab.len()
        {
            return Err(Error::InvalidParameter(format!(
                "the corpus ids were made for a vocabulary of {} words, and this one has {}",
                ids.vocab_words(),
                self.vocab.len()
            )));
        }
        let engine = Engine::new(self.vocab, self.model, self.train);
        let words_total = self
            .vocab
            .total()
            .checked_mul(self.train.epochs as u64)
            .ok_or_else(|| {
                Error::InvalidParameter("the vocabulary's word count overflows".into())
            })?;
        let (mut input, mut outputs, progress) = match resume {
            Some((progress, weights)) => self.resumed(&engine, progress, weights)?,
            None => self.started(&engine)?,
        };
        let every = self.train.checkpoint_every_words;
        let saver = Saver::new(checkpoint, every, self.vocab, &progress);
        #[cfg(feature = "wgpu")]
        if self.train.device == Device::Wgpu {
            let run = gpu::GpuRun {
                engine: &engine,
                epochs: self.train.epochs,
                words_total,
                report_every: self.train.report_every(),
                batch_words: self.train.batch_words,
                saver: &saver,
            };
            let (data, corpus) = (self.data, &self.data.corpus);
            run.train(
                corpus,
                data.lowercase,
                progress,
                &mut input,
                &outputs,
                observer,
            )?;
            return Ok(input);
        }
        let run = Run {
            engine: &engine,
            data: self.data,
            ids: self.ids,
            threads: self.train.effective_threads(),
            epochs: self.train.epochs,
            words_done: AtomicU64::new(progress.words_done),
            words_total,
            start: Instant::now(),
            report_every: self.train.report_every(),
            saver,
            stop: AtomicBool::new(false),
        };
        run.all_epochs(progress, &mut input, &mut outputs, observer)?;
        Ok(input)
    }

    /// The corpus file's size, which a checkpoint records.
    fn corpus_bytes(&self) -> Result<u64> {
        let corpus = &self.data.corpus;
        Ok(std::fs::metadata(corpus)
            .map_err(|e| Error::io(corpus, e))?
            .len())
    }

    /// A new run's weights and its position: epoch 1, nothing done.
    fn started(&self, engine: &Engine) -> Result<(Embeddings, OutputWeights, Progress)> {
        let input = Embeddings::new(
            self.vocab.words().to_vec(),
            self.model.dim,
            engine.init_input()?,
        )?;
        let outputs = engine.init_outputs()?;
        let (negative_rows, hs_rows) = engine.output_rows();
        let progress = Progress {
            model: self.model.clone(),
            train: self.train.clone(),
            epoch: 1,
            sentences: 0,
            words_done: 0,
            epoch_words_before: 0,
            epoch_loss: 0.0,
            epoch_examples: 0,
            rngs: Vec::new(),
            corpus_bytes: self.corpus_bytes()?,
            negative_rows,
            hs_rows,
            vocab_words: self.vocab.len(),
        };
        Ok((input, outputs, progress))
    }

    /// A resumed run's weights and position, after checking that the checkpoint belongs to
    /// this job: the same model, vocabulary, corpus, `sample` and `seed` (the learning rate,
    /// epochs, threads, device and logging may change; a lower `alpha` is what a numerical
    /// fault calls for).
    fn resumed(
        &self,
        engine: &Engine,
        progress: Progress,
        weights: checkpoint::Weights,
    ) -> Result<(Embeddings, OutputWeights, Progress)> {
        let same_train = TrainParams {
            epochs: progress.train.epochs,
            threads: progress.train.threads,
            device: progress.train.device,
            log_every_secs: progress.train.log_every_secs,
            checkpoint_every_words: progress.train.checkpoint_every_words,
            batch_words: progress.train.batch_words,
            poison_at_words: progress.train.poison_at_words,
            alpha: progress.train.alpha,
            min_alpha: progress.train.min_alpha,
            alpha_hold: progress.train.alpha_hold,
            ..self.train.clone()
        };
        let (negative_rows, hs_rows) = engine.output_rows();
        let mismatch = if progress.model != *self.model {
            Some("the model settings")
        } else if same_train != progress.train {
            Some("the optimisation settings (sample or seed)")
        } else if progress.vocab_words != self.vocab.len()
            || weights.input.len() != self.vocab.len() * self.model.dim
        {
            Some("the vocabulary")
        } else if weights.negative.len() != negative_rows * self.model.dim
            || weights.hs.len() != hs_rows * self.model.dim
        {
            Some("the output layers' sizes")
        } else {
            None
        };
        if let Some(what) = mismatch {
            return Err(Error::InvalidParameter(format!(
                "the checkpoint does not match this run: {what} differ"
            )));
        }
        if progress.epoch > self.train.epochs {
            return Err(Error::InvalidParameter(format!(
                "the checkpoint has finished {} epochs, and train.epochs = {}; raise train.epochs to train further",
                progress.epoch - 1,
                self.train.epochs
            )));
        }
        let now = self.corpus_bytes()?;
        if progress.corpus_bytes != 0 && progress.corpus_bytes != now {
            return Err(Error::InvalidParameter(format!(
                "{}: the corpus changed since the checkpoint ({} bytes then, {now} now); its position would point elsewhere",
                self.data.corpus.display(),
                progress.corpus_bytes
            )));
        }
        let mid_epoch = !progress.rngs.is_empty();
        if mid_epoch && progress.train.device != self.train.device {
            return Err(Error::InvalidParameter(format!(
                "the checkpoint was written mid-epoch by the {} engine, whose position the other engine cannot take up; resume with train.device = \"{}\"",
                progress.train.device.name(),
                progress.train.device.name()
            )));
        }
        // From here on, checkpoints record this run's settings.
        let progress = Progress {
            train: self.train.clone(),
            ..progress
        };
        let input = Embeddings::new(self.vocab.words().to_vec(), self.model.dim, weights.input)?;
        let outputs = OutputWeights {
            negative: weights.negative,
            hs: weights.hs,
        };
        Ok((input, outputs, progress))
    }
}

/// A training run: what stays the same from epoch to epoch.
struct Run<'a> {
    /// The fixed tables and parameters.
    engine: &'a Engine<'a>,
    /// The corpus: its file is read once per epoch, unless `ids` holds it.
    data: &'a DataParams,
    /// The corpus as ids, read instead of its file when given.
    ids: Option<&'a CorpusIds>,
    /// Worker threads per epoch.
    threads: usize,
    /// Epochs in the run.
    epochs: usize,
    /// Vocabulary words read since the start (the learning rate's clock).
    words_done: AtomicU64,
    /// `words_done` at the end of the run.
    words_total: u64,
    /// When training started (for [`IntervalReport::elapsed`]).
    start: Instant,
    /// Time between interval reports.
    report_every: Duration,
    /// Checkpoints.
    saver: Saver<'a>,
    /// Set when the observer asks for a stop, or the loss stops being finite.
    stop: AtomicBool,
}

impl Run<'_> {
    /// Trains from `progress` to the last epoch, with a checkpoint after each.
    fn all_epochs(
        &self,
        mut progress: Progress,
        input: &mut Embeddings,
        outputs: &mut OutputWeights,
        observer: &mut dyn Observer,
    ) -> Result<()> {
        for epoch in progress.epoch..=self.epochs {
            let summary = self.epoch(&mut progress, input, outputs, observer)?;
            observer.epoch_end(&summary, input);
            progress = progress.next_epoch();
            self.save(&progress, input, outputs)?;
            if epoch < self.epochs && self.stop_asked(observer) {
                return Err(self.saver.stopped(progress.words_done));
            }
        }
        Ok(())
    }

    /// Runs the rest of epoch `progress.epoch` in stretches between checkpoints: the workers
    /// train `input` and `outputs` while this thread reports progress to `observer`.
    fn epoch(
        &self,
        progress: &mut Progress,
        input: &mut Embeddings,
        outputs: &mut OutputWeights,
        observer: &mut dyn Observer,
    ) -> Result<EpochSummary> {
        let started = Instant::now();
        let epoch = progress.epoch;
        let mut source = Source::open(self.data, self.ids)?;
        source.skip_sentences(progress.sentences)?;
        let mut rngs = self.worker_rngs(epoch, &progress.rngs);
        loop {
            let (totals, sentences, exhausted, rest) =
                self.stretch(epoch, source, &mut rngs, input, outputs, observer)?;
            source = rest;
            let words_done = self.words_done.load(Ordering::Relaxed);
            progress.sentences += sentences;
            progress.words_done = words_done;
            progress.epoch_loss += totals.loss;
            progress.epoch_examples += totals.examples;
            progress.rngs.clone_from(&rngs);
            if !totals.loss.is_finite() {
                return Err(self.saver.non_finite(epoch, words_done));
            }
            if exhausted {
                break;
            }
            self.save(progress, input, outputs)?;
            if self.stop_asked(observer) {
                return Err(self.saver.stopped(words_done));
            }
        }
        Ok(EpochSummary::of(progress, started.elapsed()))
    }

    /// The workers' generator states: those a checkpoint saved mid-epoch, else (and for
    /// threads it did not have) fresh streams for the epoch.
    fn worker_rngs(&self, epoch: usize, saved: &[u64]) -> Vec<u64> {
        (0..self.threads)
            .map(|t| match saved.get(t) {
                Some(&state) => state,
                None => Rng::new(self.engine.worker_seed(epoch - 1, t, self.threads)).state(),
            })
            .collect()
    }

    /// Trains from `source` until the corpus ends, a checkpoint is due or a stop is asked for;
    /// returns the stretch's loss, the sentences it read, whether the corpus ended, and the
    /// source. `rngs` carries the workers' generators from stretch to stretch.
    fn stretch<'s>(
        &'s self,
        epoch: usize,
        source: Source<'s>,
        rngs: &mut [u64],
        input: &mut Embeddings,
        outputs: &mut OutputWeights,
        observer: &mut dyn Observer,
    ) -> Result<(LossTotals, u64, bool, Source<'s>)> {
        let dim = input.dim();
        let weights = Weights {
            input: HogwildMatrix::new(input.data_mut(), dim),
            output_neg: HogwildMatrix::new(&mut outputs.negative, dim),
            output_hs: HogwildMatrix::new(&mut outputs.hs, dim),
        };
        let pause_at = self.saver.due_at(self.words_done.load(Ordering::Relaxed));
        let counters = (&self.words_done, self.words_total, &self.stop);
        let poison = self.engine.poison_at;
        let state = EpochState::new(source, counters, pause_at, self.threads, poison);
        self.run_workers(epoch, &weights, &state, rngs, observer)?;
        Ok(state.into_parts())
    }

    /// Runs the stretch's worker threads on `weights`, reporting progress from this thread
    /// meanwhile; stores their generators' states in `rngs`; returns the first worker's error.
    fn run_workers(
        &self,
        epoch: usize,
        weights: &Weights,
        state: &EpochState,
        rngs: &mut [u64],
        observer: &mut dyn Observer,
    ) -> Result<()> {
        let reporter = Reporter {
            engine: self.engine,
            epoch: (epoch, self.epochs),
            run_start: self.start,
            every: self.report_every,
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = rngs
                .iter()
                .map(|&rng| {
                    let worker = Worker {
                        engine: self.engine,
                        weights,
                        epoch: state,
                        rng,
                    };
                    scope.spawn(move || worker.run())
                })
                .collect();
            reporter.run(state, observer);
            // Join every worker before looking at any result, then report the first error.
            let mut first_error = None;
            for (slot, handle) in rngs.iter_mut().zip(handles) {
                match handle.join() {
                    Ok(Ok(rng)) => *slot = rng,
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Err(_) => {
                        let e = Error::InvalidParameter("a training thread panicked".into());
                        first_error.get_or_insert(e);
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        })
    }

    /// Writes the checkpoint of `progress`, if the run keeps one.
    fn save(&self, progress: &Progress, input: &Embeddings, outputs: &OutputWeights) -> Result<()> {
        let weights = [input.data(), &outputs.negative[..], &outputs.hs[..]];
        self.saver.save(progress, weights)
    }

    /// Whether a stop was asked for: by the observer (also between stretches, while an epoch's
    /// evaluation or a checkpoint ran), or by the loss check.
    fn stop_asked(&self, observer: &mut dyn Observer) -> bool {
        if observer.stop_requested() {
            self.stop.store(true, Ordering::Relaxed);
        }
        self.stop.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what an observer hears.
    #[derive(Default)]
    struct Counts {
        reports: usize,
        epochs: Vec<usize>,
    }

    impl Observer for Counts {
        fn progress(&mut self, _report: &IntervalReport) {
            self.reports += 1;
        }
        fn epoch_end(&mut self, summary: &EpochSummary, vectors: &Embeddings) {
            assert_eq!(vectors.len(), 3);
            self.epochs.push(summary.epoch);
        }
    }

    #[test]
    fn invalid_parameters_are_refused_before_any_work() {
        let vocab = Vocab::from_counts([("a".to_string(), 3)], 1, 0);
        let model = ModelParams {
            dim: 0,
            ..ModelParams::default()
        };
        let data = DataParams::new("does-not-exist.txt");
        let e = train(
            &data,
            &model,
            &TrainParams::default(),
            &vocab,
            None,
            &mut (),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Param(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            "invalid parameter: dim = 0 is out of range (allowed: 1..=10000)"
        );
    }

    /// Stops a run at its first progress report.
    struct StopAtOnce;

    impl Observer for StopAtOnce {
        fn stop_requested(&mut self) -> bool {
            true
        }
    }

    /// A corpus of `text` repeated `times` in a new folder, its data parameters and vocabulary.
    fn tiny_corpus(text: &str, times: usize) -> (tempfile::TempDir, DataParams, Vocab) {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("c.txt");
        std::fs::write(&corpus, text.repeat(times)).unwrap();
        let data = DataParams {
            min_count: 1,
            ..DataParams::new(&corpus)
        };
        let (vocab, _) = Vocab::from_corpus(&corpus, false, 1, 0).unwrap();
        (dir, data, vocab)
    }

    #[test]
    fn a_stopped_run_resumes_to_the_same_vectors_and_checks_its_checkpoint() {
        let (dir, data, vocab) = tiny_corpus("a b c a b\nc b a d\n", 3000);
        let model = ModelParams {
            dim: 8,
            ..ModelParams::default()
        };
        let params = TrainParams {
            epochs: 2,
            threads: 1,
            checkpoint_every_words: 5000,
            ..TrainParams::default()
        };
        // The whole run reads the ids in memory; the stopped one the file, and it resumes from
        // the ids: one sentence position, the same batches, the same vectors.
        let ids = vocab.encode_corpus(&data.corpus, false, 1 << 20).unwrap();
        assert!(ids.is_some());
        let whole = train(&data, &model, &params, &vocab, ids.as_ref(), &mut ()).unwrap();
        let path = dir.path().join(crate::CHECKPOINT_FILE);
        let checkpoints = || Checkpoints {
            path: path.clone(),
            resume: None,
        };
        let e = train_checkpointed(
            &data,
            &model,
            &params,
            &vocab,
            None,
            checkpoints(),
            &mut StopAtOnce,
        );
        assert!(matches!(e, Err(Error::Stopped { .. })), "{e:?}");
        let saved = crate::Checkpoint::read(&path).unwrap();
        assert!(saved.progress.words_done < 2 * vocab.total());
        let resume = |train: &TrainParams| {
            let saved = crate::Checkpoint::read(&path).unwrap();
            let checkpoints = Checkpoints {
                path: path.clone(),
                resume: Some((saved.progress, saved.weights)),
            };
            train_checkpointed(
                &data,
                &model,
                train,
                &vocab,
                ids.as_ref(),
                checkpoints,
                &mut (),
            )
        };
        #[cfg(feature = "wgpu")]
        if !saved.progress.rngs.is_empty() {
            let on_gpu = TrainParams {
                device: Device::Wgpu,
                ..params.clone()
            };
            let e = resume(&on_gpu).unwrap_err().to_string();
            assert!(e.contains("written mid-epoch by the cpu engine"), "{e}");
        }
        let other_seed = TrainParams {
            seed: 9,
            ..params.clone()
        };
        let e = resume(&other_seed).unwrap_err().to_string();
        assert!(e.contains("does not match this run"), "{e}");
        assert_eq!(resume(&params).unwrap(), whole);
    }

    #[test]
    fn one_thread_runs_repeat_exactly_from_file_or_memory_and_report_every_epoch() {
        let (_dir, data, vocab) = tiny_corpus("a b c a b\nc b a\n", 50);
        let model = ModelParams {
            dim: 8,
            hs: true,
            ..ModelParams::default()
        };
        let params = TrainParams {
            epochs: 2,
            threads: 1,
            ..TrainParams::default()
        };
        let mut counts = Counts::default();
        let a = train(&data, &model, &params, &vocab, None, &mut counts).unwrap();
        let b = train(&data, &model, &params, &vocab, None, &mut ()).unwrap();
        assert_eq!(a, b);
        let ids = vocab.encode_corpus(&data.corpus, false, 1 << 20).unwrap();
        let c = train(&data, &model, &params, &vocab, ids.as_ref(), &mut ()).unwrap();
        assert_eq!(a, c);
        assert_eq!(counts.epochs, [1, 2]);
        assert!(counts.reports >= 2, "a tail report per epoch");
    }

    #[test]
    fn the_ids_in_memory_train_what_the_file_trains_and_fit_their_vocabulary() {
        // Zipf-like words, a third of them rarer than min_count, lines of 1 to 60 words, and
        // one line of 12,000 (cut at 10,000): several batches and every kind of sentence.
        let mut rng = Rng::new(7);
        let mut text = String::new();
        for line in 0..700 {
            let len = if line == 350 {
                12_000
            } else {
                1 + rng.below(60) as usize
            };
            for _ in 0..len {
                let top = 1 + rng.below(3000);
                let word = rng.below(top);
                text.push_str(&format!("w{word} "));
            }
            text.push('\n');
        }
        let (_dir, data, _) = tiny_corpus(&text, 1);
        let data = DataParams {
            min_count: 3,
            ..data
        };
        let (vocab, stats, ids) =
            Vocab::from_corpus_with_ids(&data.corpus, false, 3, 0, 2, 1 << 20).unwrap();
        assert!(stats.distinct > vocab.len() + 100, "rare words are dropped");
        assert_eq!(stats.sentences, 701, "the long line is cut in two");
        let model = ModelParams {
            dim: 8,
            arch: crate::Arch::Cbow,
            ..ModelParams::default()
        };
        let params = TrainParams {
            epochs: 1,
            threads: 1,
            ..TrainParams::default()
        };
        let from_file = train(&data, &model, &params, &vocab, None, &mut ()).unwrap();
        let from_ids = train(&data, &model, &params, &vocab, ids.as_ref(), &mut ()).unwrap();
        assert_eq!(from_file, from_ids);
        let (smaller, _) = Vocab::from_corpus(&data.corpus, false, 10, 0).unwrap();
        let e = train(&data, &model, &params, &smaller, ids.as_ref(), &mut ()).unwrap_err();
        assert!(e.to_string().contains("made for a vocabulary of"), "{e}");
    }

    /// Keeps each epoch's mean loss.
    #[derive(Default)]
    struct Losses(Vec<f64>);

    impl Observer for Losses {
        fn epoch_end(&mut self, summary: &EpochSummary, _vectors: &Embeddings) {
            self.0.push(summary.loss);
        }
    }

    #[test]
    fn two_threads_train_the_huffman_tree_top_they_keep_private_copies_of() {
        // 300 words in a fixed order: each word's neighbours are fully predictable, and the tree
        // has 299 inner nodes, more than the top the threads keep to themselves.
        let words: Vec<String> = (0..300).map(|i| format!("w{i}")).collect();
        let line = |start: usize| {
            let mut s: Vec<&str> = (0..20).map(|j| words[(start + j) % 300].as_str()).collect();
            s.push("\n");
            s.join(" ")
        };
        let text: String = (0..300).map(|i| line(i * 7)).collect();
        let (dir, data, vocab) = tiny_corpus(&text, 20);
        let top = hot_rows::HOT_NODES;
        assert!(vocab.len() - 1 > top);
        let model = ModelParams {
            dim: 16,
            hs: true,
            negative: 0,
            ..ModelParams::default()
        };
        // The last epoch's loss, and the mean norm of the top nodes' shared rows as the run's
        // last checkpoint saved them.
        let run = |threads: usize| {
            let params = TrainParams {
                epochs: 3,
                threads,
                sample: 0.0,
                ..TrainParams::default()
            };
            let path = dir.path().join(format!("{threads}.ckpt"));
            let checkpoints = Checkpoints {
                path: path.clone(),
                resume: None,
            };
            let mut losses = Losses::default();
            train_checkpointed(
                &data,
                &model,
                &params,
                &vocab,
                None,
                checkpoints,
                &mut losses,
            )
            .unwrap();
            assert!(losses.0[2] < losses.0[0], "{:?}", losses.0);
            let hs = crate::Checkpoint::read(&path).unwrap().weights.hs;
            let rows = hs[hs.len() - top * model.dim..].chunks_exact(model.dim);
            let norm = rows
                .map(|r| r.iter().map(|x| x * x).sum::<f32>().sqrt())
                .sum::<f32>();
            (losses.0[2], norm / top as f32)
        };
        let ((loss1, norm1), (loss2, norm2)) = (run(1), run(2));
        // Were the threads' progress on the top nodes not merged, merged and then lost, or
        // merged twice, the nodes every word's path starts with would not learn (the loss stays
        // high) or the shared rows would not hold what was learned (their norms differ).
        assert!(
            (loss2 - loss1).abs() < 0.05 * loss1,
            "1 thread: {loss1}, 2 threads: {loss2}"
        );
        assert!(norm1 > 0.1, "{norm1}");
        assert!(
            (norm2 - norm1).abs() < 0.2 * norm1,
            "top rows' mean norm, 1 thread: {norm1}, 2 threads: {norm2}"
        );
    }
}
