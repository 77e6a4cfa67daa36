//! The CPU training engine: word2vec.c's algorithm with Hogwild threads.
//!
//! Each epoch, worker threads ([`worker`]) take the next batch of sentences from a shared
//! streaming reader, map tokens to ids, drop frequent words by subsampling, and run SGD on the
//! shared weights without locks ([`hogwild`]; Recht et al. 2011, as word2vec.c and gensim do),
//! while the calling thread sends progress reports ([`observer`]). The loss and its gradient are
//! derived in [`maths`]; what a run fixes before it starts is in [`engine`]. With one thread, a
//! run is a pure function of the corpus, the parameters and the seed.
//!
//! Module dependencies run one way: `mod` uses the others; `gpu` (the GPU engine) uses
//! `engine`, `observer` and `worker`; `observer` uses `worker` and `engine`; `worker` uses
//! `engine`, `hogwild` and `maths`; `engine` uses `maths`.

mod engine;
#[cfg(feature = "wgpu")]
mod gpu;
mod hogwild;
mod maths;
mod observer;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::corpus::CorpusReader;
use crate::error::{Error, Result};
use crate::params::{DataParams, Device, ModelParams, TrainParams};
use crate::vectors::Embeddings;
use crate::vocab::Vocab;

use engine::{Engine, OutputWeights};
use hogwild::HogwildMatrix;
use worker::{EpochState, Weights, Worker};

use observer::Reporter;
pub use observer::{EpochSummary, IntervalReport, Observer};

/// Trains vectors for `vocab` on the corpus of `data`, reading it once per epoch, and returns
/// the input vectors (word2vec's result). The parameters are validated first; `observer` hears
/// of progress every `train.log_every_secs` and after every epoch.
pub fn train(
    data: &DataParams,
    model: &ModelParams,
    train: &TrainParams,
    vocab: &Vocab,
    observer: &mut dyn Observer,
) -> Result<Embeddings> {
    data.validate()?;
    model.validate()?;
    train.validate()?;
    if vocab.is_empty() {
        return Err(Error::InvalidParameter("the vocabulary is empty".into()));
    }
    let engine = Engine::new(vocab, model, train);
    let run = Run {
        engine: &engine,
        data,
        threads: train.effective_threads(),
        epochs: train.epochs,
        words_done: AtomicU64::new(0),
        words_total: vocab.total() * train.epochs as u64,
        start: Instant::now(),
        report_every: train.report_every(),
    };
    let mut input = Embeddings::new(vocab.words().to_vec(), model.dim, engine.init_input()?)?;
    let mut outputs = engine.init_outputs()?;
    #[cfg(feature = "wgpu")]
    if train.device == Device::Wgpu {
        let run = gpu::GpuRun {
            engine: &engine,
            epochs: train.epochs,
            words_total: run.words_total,
            report_every: run.report_every,
        };
        run.train(&data.corpus, data.lowercase, &mut input, &outputs, observer)?;
        return Ok(input);
    }
    for epoch in 1..=train.epochs {
        let summary = run.epoch(epoch, &mut input, &mut outputs, observer)?;
        observer.epoch_end(&summary, &input);
    }
    Ok(input)
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

/// A training run: what stays the same from epoch to epoch.
struct Run<'a> {
    /// The fixed tables and parameters.
    engine: &'a Engine<'a>,
    /// The corpus, read once per epoch.
    data: &'a DataParams,
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
}

impl Run<'_> {
    /// Runs epoch `epoch` (from 1): the workers train `input` and `outputs` while this thread
    /// reports progress to `observer`.
    fn epoch(
        &self,
        epoch: usize,
        input: &mut Embeddings,
        outputs: &mut OutputWeights,
        observer: &mut dyn Observer,
    ) -> Result<EpochSummary> {
        let started = Instant::now();
        let dim = input.dim();
        let weights = Weights {
            input: HogwildMatrix::new(input.data_mut(), dim),
            output_neg: HogwildMatrix::new(&mut outputs.negative, dim),
            output_hs: HogwildMatrix::new(&mut outputs.hs, dim),
        };
        let reader = CorpusReader::open(&self.data.corpus, self.data.lowercase)?;
        let state = EpochState::new(reader, &self.words_done, self.words_total, self.threads);
        let words_before = self.words_done.load(Ordering::Relaxed);
        self.run_workers(epoch, &weights, &state, observer)?;
        let totals = state.totals();
        let words_done = self.words_done.load(Ordering::Relaxed);
        Ok(EpochSummary {
            epoch,
            loss: totals.mean().unwrap_or(f64::NAN),
            examples: totals.examples,
            words: words_done - words_before,
            words_done,
            elapsed: started.elapsed(),
        })
    }

    /// Runs the epoch's worker threads on `weights` until the corpus is read, reporting
    /// progress from this thread meanwhile; returns the first worker's error, if any.
    fn run_workers(
        &self,
        epoch: usize,
        weights: &Weights,
        state: &EpochState,
        observer: &mut dyn Observer,
    ) -> Result<()> {
        let reporter = Reporter {
            engine: self.engine,
            epoch: (epoch, self.epochs),
            run_start: self.start,
            every: self.report_every,
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.threads)
                .map(|t| {
                    let worker = Worker {
                        engine: self.engine,
                        weights,
                        epoch: state,
                        seed: self.engine.worker_seed(epoch - 1, t, self.threads),
                    };
                    scope.spawn(move || worker.run())
                })
                .collect();
            reporter.run(state, observer);
            // Join every worker before looking at any result, then report the first error.
            let results: Vec<Result<()>> = handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::InvalidParameter("a training thread panicked".into()))
                    })
                })
                .collect();
            results.into_iter().collect()
        })
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
        let e = train(&data, &model, &TrainParams::default(), &vocab, &mut ()).unwrap_err();
        assert!(matches!(e, Error::Param(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            "invalid parameter: dim = 0 is out of range (allowed: 1..=10000)"
        );
    }

    #[test]
    fn one_thread_runs_repeat_exactly_and_report_every_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("c.txt");
        std::fs::write(&corpus, "a b c a b\nc b a\n".repeat(50)).unwrap();
        let data = DataParams {
            min_count: 1,
            ..DataParams::new(&corpus)
        };
        let (vocab, _) = Vocab::from_corpus(&corpus, false, 1, 0).unwrap();
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
        let a = train(&data, &model, &params, &vocab, &mut counts).unwrap();
        let b = train(&data, &model, &params, &vocab, &mut ()).unwrap();
        assert_eq!(a, b);
        assert_eq!(counts.epochs, [1, 2]);
        assert!(counts.reports >= 2, "a tail report per epoch");
    }
}
