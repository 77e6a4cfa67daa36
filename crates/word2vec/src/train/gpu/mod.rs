//! The GPU engine: word2vec.c's algorithm as a CubeCL kernel on a wgpu device ([`kernel`]), one
//! plane per sentence, Hogwild across planes, as cusim, accSGNS and FULL-W2V do to keep the CPU's
//! quality. Not burn's tensors: the gradient of an embedding lookup there is a dense tensor of
//! the whole table per step.
//!
//! The host reads the corpus, subsamples and fixes each sentence's learning rate ([`batch`])
//! while the GPU trains the previous batch; the loss and example counts of a batch come back as
//! it finishes, for the same progress reports and epoch summaries as the CPU engine's. The
//! weights stay on the GPU for the whole run; the input vectors come back after each epoch (for
//! the per-epoch evaluation) and at the end.

mod batch;
mod device;
mod kernel;
mod layout;
#[cfg(test)]
mod reference;
mod tables;

use std::borrow::Cow;
use std::time::Instant;

use common::AdapterInfo;
use cubecl::prelude::*;
use cubecl::server::Handle;

use crate::corpus::{CorpusReader, TokenBatch};
use crate::error::{Error, Result};
use crate::params::{Arch, ModelParams};
use crate::sampling::Rng;
use crate::vectors::Embeddings;

use super::engine::{Engine, OutputWeights};
use super::observer::{EpochSummary, Observer, Reporter};
use super::saver::Saver;
use super::worker::LossTotals;
use crate::checkpoint::Progress;
use batch::{Batch, Limits, Source};
use device::Gpu;
use layout::Layout;
use tables::HostTables;

/// Opens the GPU (once per process), checks that it can train `model`, and says what it is.
pub fn open(model: &ModelParams) -> Result<AdapterInfo> {
    let gpu = device::open()?;
    layout::planes(&gpu, model)?;
    Ok(gpu.info)
}

/// What a GPU run keeps from epoch to epoch.
pub(super) struct GpuRun<'a> {
    /// The fixed tables and parameters.
    pub(super) engine: &'a Engine<'a>,
    /// Epochs in the run.
    pub(super) epochs: usize,
    /// Vocabulary words at the end of the run (the learning rate's clock).
    pub(super) words_total: u64,
    /// Time between progress reports.
    pub(super) report_every: std::time::Duration,
    /// Tokens per batch (`train.batch_words`).
    pub(super) batch_words: usize,
    /// Checkpoints.
    pub(super) saver: &'a Saver<'a>,
}

/// The GPU, what lives on it for the run, and how batches are laid out on it.
struct OnGpu {
    gpu: Gpu,
    resident: Resident,
    layout: Layout,
}

/// The weights and tables on the GPU.
struct Resident {
    /// Input vectors, output vectors and inner-node vectors, with their lengths in floats.
    weights: [(Handle, usize); 3],
    /// The alias table's two arrays, the Huffman offsets, codes and points, with their lengths.
    tables: [(Handle, usize); 5],
    /// Vocabulary words.
    vocab: u32,
}

/// Why a stretch of batches ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StretchEnd {
    /// The corpus is read: the epoch is over.
    Corpus,
    /// A checkpoint is due.
    Checkpoint,
    /// The observer asked for a stop.
    Stop,
}

/// Where an epoch's batches come from, and how far it is: the corpus and subsampling's
/// generator ([`Source`]), and the number of batches launched (the kernel's seeds follow it).
struct Stream<'a> {
    source: Source<'a>,
    index: u64,
}

impl GpuRun<'_> {
    /// Trains `input` and `outputs` on the GPU from `progress` to the last epoch, reading the
    /// corpus at `corpus`, with checkpoints at epoch ends, when the saver says one is due and
    /// on a stop.
    pub(super) fn train(
        &self,
        corpus: &std::path::Path,
        lowercase: bool,
        mut progress: Progress,
        input: &mut Embeddings,
        outputs: &OutputWeights,
        observer: &mut dyn Observer,
    ) -> Result<()> {
        let gpu = device::open()?;
        let path = self.engine.huffman.as_ref().map_or(0, |h| {
            (0..self.engine.vocab.len() as u32)
                .map(|w| h.code(w).len())
                .max()
                .unwrap_or(0)
        });
        let inner_nodes = self.engine.huffman.as_ref().map_or(0, |h| h.inner_nodes());
        let rows = self.engine.vocab.len().max(inner_nodes);
        let layout = Layout::new(&gpu, &self.engine.model, path, rows)?;
        let on = OnGpu {
            resident: upload(&gpu, self.engine, input.data(), outputs),
            gpu,
            layout,
        };
        let start = Instant::now();
        for epoch in progress.epoch..=self.epochs {
            let reporter = Reporter {
                engine: self.engine,
                epoch: (epoch, self.epochs),
                run_start: start,
                every: self.report_every,
            };
            let summary = self.epoch(&on, corpus, lowercase, &mut progress, reporter, observer)?;
            input.data_mut().copy_from_slice(&self.download(&on, 0)?);
            observer.epoch_end(&summary, input);
            progress = progress.next_epoch();
            // The input vectors were just read back for the observer.
            self.save(&on, &progress, Some(input.data()))?;
            if epoch < self.epochs && observer.stop_requested() {
                return Err(self.saver.stopped(progress.words_done));
            }
        }
        Ok(())
    }

    /// The rest of epoch `progress.epoch`, in stretches between checkpoints.
    fn epoch(
        &self,
        on: &OnGpu,
        corpus: &std::path::Path,
        lowercase: bool,
        progress: &mut Progress,
        reporter: Reporter<'_>,
        observer: &mut dyn Observer,
    ) -> Result<EpochSummary> {
        let epoch = progress.epoch;
        let mut reader = CorpusReader::open(corpus, lowercase)?;
        reader.skip_sentences(progress.sentences)?;
        let (rng, index) = match progress.rngs[..] {
            [rng, index] => (Rng::from_state(rng), index),
            _ => (Rng::new(self.engine.worker_seed(epoch - 1, 0, 1)), 0),
        };
        let mut stream = Stream {
            source: Source {
                reader,
                engine: self.engine,
                rng,
                text: TokenBatch::default(),
                sentences: progress.sentences,
            },
            index,
        };
        let epoch_start = Instant::now();
        let mut clock = Clock::new(reporter, progress.words_done);
        loop {
            let mut words_done = progress.words_done;
            let pause_at = self.saver.due_at(words_done);
            let stretch = (&mut stream, &mut words_done, pause_at);
            let (sums, end) = self.stretch(on, stretch, &mut clock, observer)?;
            progress.words_done = words_done;
            progress.sentences = stream.source.sentences;
            progress.epoch_loss += sums.loss;
            progress.epoch_examples += sums.examples;
            progress.rngs = vec![stream.source.rng.state(), stream.index];
            if !sums.loss.is_finite() {
                return Err(self.saver.non_finite(epoch, words_done));
            }
            if end == StretchEnd::Corpus {
                break;
            }
            self.save(on, progress, None)?;
            if end == StretchEnd::Stop || observer.stop_requested() {
                return Err(self.saver.stopped(words_done));
            }
        }
        clock.report(progress.words_done, self.words_total, true, observer);
        Ok(EpochSummary::of(progress, epoch_start.elapsed()))
    }

    /// Batches made on the host while the GPU trains the previous one, until the corpus ends,
    /// `pause_at` words are queued or the observer asks for a stop; returns their loss and why
    /// they ended, with every batch made also trained.
    fn stretch(
        &self,
        on: &OnGpu,
        (stream, words_done, pause_at): (&mut Stream<'_>, &mut u64, u64),
        clock: &mut Clock<'_>,
        observer: &mut dyn Observer,
    ) -> Result<(LossTotals, StretchEnd)> {
        let limits = Limits {
            tokens: self.batch_words,
            sentences: on.layout.batch_sentences,
            sentence_tokens: on.layout.sentence_tokens,
        };
        let mut totals = LossTotals::default();
        let mut batch = Batch::default();
        let mut in_flight: Option<InFlight> = None;
        let mut queued_words = *words_done;
        let epoch = clock.reporter.epoch.0 as u64;
        loop {
            let end = if observer.stop_requested() {
                Some(StretchEnd::Stop)
            } else if queued_words >= pause_at {
                Some(StretchEnd::Checkpoint)
            } else if !batch.fill(&mut stream.source, queued_words, self.words_total, limits)? {
                Some(StretchEnd::Corpus)
            } else {
                None
            };
            if end.is_none() {
                queued_words += batch.words;
            }
            if let Some(done) = in_flight.take() {
                let sums = done.finish(&on.gpu)?;
                *words_done += done.words;
                totals.add(sums);
                clock.interval.add(sums);
                clock.report(*words_done, self.words_total, false, observer);
                if !sums.loss.is_finite() {
                    // A numerical fault: stop at once; the epoch reports it.
                    return Ok((totals, StretchEnd::Stop));
                }
            }
            if let Some(end) = end {
                return Ok((totals, end));
            }
            let seed =
                (Rng::new(self.engine.seed ^ epoch << 40 ^ stream.index).next_u64() >> 32) as u32;
            stream.index += 1;
            let planes = on.layout.planes;
            in_flight = Some(launch(
                &on.gpu,
                &on.resident,
                self.engine,
                &batch,
                seed,
                planes,
            ));
        }
    }

    /// Matrix `which` (0 input, 1 negative sampling, 2 hierarchical softmax) read back from
    /// the GPU; an unused one is empty.
    fn download(&self, on: &OnGpu, which: usize) -> Result<Vec<f32>> {
        let unused = match which {
            1 => self.engine.negatives.is_none(),
            2 => self.engine.huffman.is_none(),
            _ => false,
        };
        if unused {
            return Ok(Vec::new());
        }
        let handle = on.resident.weights[which].0.clone();
        let bytes = on.gpu.client.read_one(handle).map_err(gpu_error)?;
        Ok(f32::from_bytes(&bytes).to_vec())
    }

    /// Writes the checkpoint of `progress` with the weights read back from the GPU, if the run
    /// keeps one; `input` is the input matrix when the caller has just read it back.
    fn save(&self, on: &OnGpu, progress: &Progress, input: Option<&[f32]>) -> Result<()> {
        if !self.saver.enabled() {
            return Ok(());
        }
        let input = match input {
            Some(input) => Cow::Borrowed(input),
            None => Cow::Owned(self.download(on, 0)?),
        };
        let outputs = [self.download(on, 1)?, self.download(on, 2)?];
        self.saver
            .save(progress, [&input, &outputs[0], &outputs[1]])
    }
}

/// A batch the GPU is training.
struct InFlight {
    /// The batch's tokens, sentence starts and learning rates, held until the batch is done:
    /// a buffer dropped earlier could be reused, and overwritten, before the kernel has run.
    _inputs: Vec<Handle>,
    loss: Handle,
    examples: Handle,
    /// Sentences launched (0: nothing to wait for).
    sentences: usize,
    /// Vocabulary words the batch read.
    words: u64,
}

impl InFlight {
    /// Waits for the batch and sums its loss and examples.
    fn finish(&self, gpu: &Gpu) -> Result<LossTotals> {
        let mut totals = LossTotals::default();
        if self.sentences == 0 {
            return Ok(totals);
        }
        let read = gpu
            .client
            .read(vec![self.loss.clone(), self.examples.clone()])
            .map_err(gpu_error)?;
        totals.loss = f32::from_bytes(&read[0]).iter().map(|&l| l as f64).sum();
        totals.examples = u32::from_bytes(&read[1]).iter().map(|&e| e as u64).sum();
        Ok(totals)
    }
}

/// Uploads the weights and tables.
fn upload(gpu: &Gpu, engine: &Engine, input: &[f32], outputs: &OutputWeights) -> Resident {
    let c = &gpu.client;
    // A GPU buffer cannot be empty: an unused output matrix is one zero.
    let f = |m: &[f32]| {
        let m = if m.is_empty() { &[0.0][..] } else { m };
        (c.create_from_slice(f32::as_bytes(m)), m.len())
    };
    let u = |v: &[u32]| (c.create_from_slice(u32::as_bytes(v)), v.len());
    let t = HostTables::new(engine);
    Resident {
        weights: [f(input), f(&outputs.negative), f(&outputs.hs)],
        tables: [
            u(&t.alias_prob),
            u(&t.alias_word),
            u(&t.code_starts),
            u(&t.codes),
            u(&t.points),
        ],
        vocab: engine.vocab.len() as u32,
    }
}

/// Uploads `batch` and launches the kernel on it.
fn launch(
    gpu: &Gpu,
    r: &Resident,
    engine: &Engine,
    batch: &Batch,
    seed: u32,
    planes: u32,
) -> InFlight {
    let c = &gpu.client;
    let n = batch.sentences();
    let mut done = InFlight {
        _inputs: Vec::new(),
        loss: c.empty(4 * n.max(1)),
        examples: c.empty(4 * n.max(1)),
        sentences: n,
        words: batch.words,
    };
    if n == 0 {
        return done;
    }
    let model = &engine.model;
    let tokens = c.create_from_slice(u32::as_bytes(&batch.tokens));
    let starts = c.create_from_slice(u32::as_bytes(&batch.starts));
    let alphas = c.create_from_slice(f32::as_bytes(&batch.alphas));
    // SAFETY: every length is the length the buffer was created with.
    let arg = |h: &Handle, len: usize| unsafe { BufferArg::from_raw_parts(h.clone(), len) };
    let [t0, t1, t2, t3, t4] = &r.tables;
    let [input, output_neg, output_hs] = &r.weights;
    let cubes = (n as u32).div_ceil(planes);
    kernel::train_batch::launch(
        c,
        CubeCount::new_1d(cubes),
        CubeDim::new_2d(gpu.width, planes),
        arg(&tokens, batch.tokens.len()),
        arg(&starts, batch.starts.len()),
        arg(&alphas, batch.alphas.len()),
        arg(&t0.0, t0.1),
        arg(&t1.0, t1.1),
        arg(&t2.0, t2.1),
        arg(&t3.0, t3.1),
        arg(&t4.0, t4.1),
        arg(&input.0, input.1),
        arg(&output_neg.0, output_neg.1),
        arg(&output_hs.0, output_hs.1),
        arg(&done.loss, n),
        arg(&done.examples, n),
        n as u32,
        r.vocab,
        seed,
        model.dim,
        model.window as u32,
        model.negative as u32,
        model.hs,
        model.arch == Arch::Cbow,
        model.cbow_mean,
        model.share_negatives,
        gpu.width,
        planes,
        gpu.plane_ops,
    );
    done._inputs = vec![tokens, starts, alphas];
    done
}

/// The progress clock of an epoch: when to report, and the loss since the last report; the
/// reports themselves are the CPU engine's ([`Reporter`]).
struct Clock<'a> {
    reporter: Reporter<'a>,
    last: Instant,
    last_words: u64,
    interval: LossTotals,
}

impl<'a> Clock<'a> {
    fn new(reporter: Reporter<'a>, words_done: u64) -> Self {
        Clock {
            reporter,
            last: Instant::now(),
            last_words: words_done,
            interval: LossTotals::default(),
        }
    }

    /// Reports the interval when it is due (or, at `tail`, when it trained anything).
    fn report(
        &mut self,
        words_done: u64,
        words_total: u64,
        tail: bool,
        observer: &mut dyn Observer,
    ) {
        let due = self.last.elapsed() >= self.reporter.every;
        if !(due || tail && self.interval.examples > 0) {
            return;
        }
        let loss = std::mem::take(&mut self.interval).mean();
        let report =
            self.reporter
                .report_at(words_done, words_total, loss, self.last, self.last_words);
        observer.progress(&report);
        self.last = Instant::now();
        self.last_words = words_done;
    }
}

/// A failure the GPU reported while it ran.
fn gpu_error(e: impl std::fmt::Debug) -> Error {
    Error::Gpu(common::one_line(&format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::reference::{self, RefShape, RefWeights};
    use super::*;
    use crate::params::{ModelParams, TrainParams};
    use crate::vocab::Vocab;

    /// The GPU, or None (with a message) where no Vulkan driver is installed; with a driver, a
    /// failure to open it fails the test.
    fn gpu_or_skip() -> Option<Gpu> {
        match device::open() {
            Ok(gpu) => Some(gpu),
            Err(e) => {
                let drivers = std::fs::read_dir("/usr/share/vulkan/icd.d")
                    .map(|d| d.count())
                    .unwrap_or(0);
                assert_eq!(drivers, 0, "a Vulkan driver is installed but: {e}");
                eprintln!("skipped: no Vulkan driver ({e}); install mesa-vulkan-drivers");
                None
            }
        }
    }

    /// A vocabulary of 40 words with Zipf-like counts.
    fn vocab() -> Vocab {
        Vocab::from_counts(
            (0..40).map(|i| (format!("w{i}"), 400 / (i + 1) as u64)),
            1,
            0,
        )
    }

    /// Values in [-0.5, 0.5) from `seed`.
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            .collect()
    }

    /// Trains one sentence on the GPU and with the reference from the same start; the weights
    /// and the loss must agree.
    fn one_sentence_matches_the_reference(model: ModelParams) {
        let Some(gpu) = gpu_or_skip() else { return };
        let vocab = vocab();
        let engine = Engine::new(&vocab, &model, &TrainParams::default());
        let dim = model.dim;
        let input = noise(vocab.len() * dim, 1);
        let mut outputs = engine.init_outputs().unwrap();
        outputs.negative = noise(outputs.negative.len(), 2);
        outputs.hs = noise(outputs.hs.len(), 3);
        let mut rng = Rng::new(4);
        let tokens: Vec<u32> = (0..80).map(|_| rng.below(40)).collect();
        let batch = Batch {
            starts: vec![0, tokens.len() as u32],
            tokens,
            alphas: vec![0.05],
            words: 80,
        };
        let resident = upload(&gpu, &engine, &input, &outputs);
        let totals = launch(&gpu, &resident, &engine, &batch, 77, 1)
            .finish(&gpu)
            .unwrap();
        let mut want = RefWeights {
            input,
            output_neg: outputs.negative,
            output_hs: outputs.hs,
        };
        let shape = RefShape {
            dim,
            window: model.window as u32,
            negative: model.negative as u32,
            hs: model.hs,
            cbow: model.arch == Arch::Cbow,
            cbow_mean: model.cbow_mean,
            share_negatives: model.share_negatives,
        };
        let tables = HostTables::new(&engine);
        let sums = reference::train_batch(&batch, &tables, &mut want, 77, &shape);
        assert_eq!(totals.examples, sums[0].1 as u64);
        assert!(totals.examples > 0);
        let rel = (totals.loss - sums[0].0 as f64).abs() / totals.loss;
        assert!(rel < 1e-4, "loss {} vs {}", totals.loss, sums[0].0);
        let read = |h: &Handle| f32::from_bytes(&gpu.client.read_one(h.clone()).unwrap()).to_vec();
        let [input, neg, hs] = &resident.weights;
        for (name, got, want) in [
            ("input", read(&input.0), &want.input),
            ("negative", read(&neg.0), &want.output_neg),
            ("hs", read(&hs.0), &want.output_hs),
        ] {
            if want.is_empty() {
                continue;
            }
            let worst = got
                .iter()
                .zip(want.iter())
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-5, "{name}: largest difference {worst}");
        }
    }

    /// Many sentences at once (many cubes, Hogwild): the weights race, but which examples are
    /// trained does not depend on them, so each sentence's example count must match.
    #[test]
    fn every_sentence_of_a_large_batch_is_trained() {
        let Some(gpu) = gpu_or_skip() else { return };
        let vocab = vocab();
        let model = ModelParams {
            dim: 8,
            window: 4,
            negative: 2,
            ..ModelParams::default()
        };
        let engine = Engine::new(&vocab, &model, &TrainParams::default());
        let input = noise(vocab.len() * model.dim, 1);
        let outputs = engine.init_outputs().unwrap();
        let mut rng = Rng::new(5);
        let mut batch = Batch {
            starts: vec![0],
            ..Batch::default()
        };
        for _ in 0..3000 {
            let len = 2 + rng.below(60) as usize;
            batch.tokens.extend((0..len).map(|_| rng.below(40)));
            batch.starts.push(batch.tokens.len() as u32);
            batch.alphas.push(0.025);
        }
        let resident = upload(&gpu, &engine, &input, &outputs);
        let planes = layout::planes(&gpu, &model).unwrap();
        let done = launch(&gpu, &resident, &engine, &batch, 9, planes);
        let read = gpu.client.read_one(done.examples.clone()).unwrap();
        let got = u32::from_bytes(&read).to_vec();
        let mut weights = RefWeights {
            input,
            output_neg: outputs.negative,
            output_hs: outputs.hs,
        };
        let shape = RefShape {
            dim: model.dim,
            window: model.window as u32,
            negative: model.negative as u32,
            hs: false,
            cbow: false,
            cbow_mean: true,
            share_negatives: true,
        };
        let tables = HostTables::new(&engine);
        let want: Vec<u32> = reference::train_batch(&batch, &tables, &mut weights, 9, &shape)
            .iter()
            .map(|s| s.1)
            .collect();
        assert_eq!(got.len(), want.len());
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(differ, 0, "first: {:?} vs {:?}", &got[..10], &want[..10]);
    }

    #[test]
    fn skipgram_with_negatives_matches_the_reference() {
        one_sentence_matches_the_reference(ModelParams {
            dim: 20,
            window: 3,
            negative: 4,
            ..ModelParams::default()
        });
    }

    #[test]
    fn skipgram_with_shared_negatives_and_hs_matches_the_reference() {
        one_sentence_matches_the_reference(ModelParams {
            dim: 33,
            window: 4,
            negative: 3,
            hs: true,
            share_negatives: true,
            ..ModelParams::default()
        });
    }

    #[test]
    fn cbow_mean_with_negatives_matches_the_reference() {
        one_sentence_matches_the_reference(ModelParams {
            arch: Arch::Cbow,
            dim: 16,
            window: 5,
            negative: 5,
            cbow_mean: true,
            ..ModelParams::default()
        });
    }

    #[test]
    fn cbow_sum_with_hs_only_matches_the_reference() {
        one_sentence_matches_the_reference(ModelParams {
            arch: Arch::Cbow,
            dim: 24,
            window: 2,
            negative: 0,
            hs: true,
            cbow_mean: false,
            ..ModelParams::default()
        });
    }

    /// Records the epochs' losses.
    #[derive(Default)]
    struct Losses(Vec<f64>, usize);

    impl Observer for Losses {
        fn progress(&mut self, _: &crate::IntervalReport) {
            self.1 += 1;
        }
        fn epoch_end(&mut self, summary: &EpochSummary, vectors: &Embeddings) {
            assert!(vectors.data().iter().all(|x| x.is_finite()));
            self.0.push(summary.loss);
        }
    }

    #[test]
    fn the_loss_falls_on_a_tiny_corpus_as_on_the_cpu() {
        if gpu_or_skip().is_none() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("c.txt");
        let text = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n";
        std::fs::write(&corpus, text.repeat(300)).unwrap();
        let data = crate::params::DataParams {
            min_count: 1,
            ..crate::params::DataParams::new(&corpus)
        };
        let (vocab, _) = Vocab::from_corpus(&corpus, false, 1, 0).unwrap();
        for (arch, hs) in [
            (Arch::SkipGram, false),
            (Arch::Cbow, false),
            (Arch::SkipGram, true),
        ] {
            let model = ModelParams {
                arch,
                hs,
                negative: if hs { 0 } else { 5 },
                dim: 16,
                ..ModelParams::default()
            };
            let losses = |device| {
                let params = TrainParams {
                    epochs: 4,
                    sample: 0.0,
                    threads: 1,
                    device,
                    ..TrainParams::default()
                };
                let mut losses = Losses::default();
                crate::train(&data, &model, &params, &vocab, None, &mut losses).unwrap();
                assert!(losses.1 >= 4, "a tail report per epoch");
                losses.0
            };
            let gpu = losses(crate::params::Device::Wgpu);
            let cpu = losses(crate::params::Device::Cpu);
            let what = format!("{arch:?} hs={hs}: gpu {gpu:?}, cpu {cpu:?}");
            assert_eq!(gpu.len(), 4, "{what}");
            assert!(gpu[3] < 0.95 * gpu[0], "the loss should fall: {what}");
            // The last two epochs' mean: one epoch's loss on this tiny corpus moves by a few
            // percent with the random stream (CBOW's CPU loss went 1.115 then 1.018).
            let (gpu_end, cpu_end) = ((gpu[2] + gpu[3]) / 2.0, (cpu[2] + cpu[3]) / 2.0);
            assert!((gpu_end - cpu_end).abs() < 0.03 * cpu_end, "{what}");
        }
    }
}
