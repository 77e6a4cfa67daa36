//! The CPU training engine: word2vec.c's algorithm with Hogwild threads.
//!
//! Each worker takes the next batch of sentences from a shared streaming reader, maps tokens to
//! ids, drops frequent words by subsampling, and runs SGD on the shared matrices without locks
//! (Hogwild, Recht et al. 2011, as word2vec.c and gensim do). With one thread, a run is a pure
//! function of the corpus, the parameters and the seed.
//!
//! For a training example with input vector `v` (a context word's vector in skip-gram, the mean of
//! the context vectors in CBOW) and output vectors `u`, negative sampling minimises
//! `-ln σ(v·u_target) - Σ_neg ln σ(-v·u_neg)`; its gradient with respect to `v·u` is
//! `label - σ(v·u)`, scaled by the learning rate into `g`. Hierarchical softmax does the same
//! with the inner nodes of the target's Huffman path as outputs and `1 - code` as labels.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::corpus::{CorpusReader, TokenBatch};
use crate::error::{Error, Result};
use crate::huffman::Huffman;
use crate::sampling::{NegativeTable, Rng, keep, keep_thresholds};
use crate::vectors::Embeddings;
use crate::vocab::Vocab;

/// σ is tabulated over [-MAX_EXP, MAX_EXP], as in word2vec.c; beyond it the gradient is 0 or ±α.
const MAX_EXP: f32 = 6.0;
/// Resolution of the σ table (word2vec.c's EXP_TABLE_SIZE).
const EXP_TABLE_SIZE: usize = 1000;
/// Tokens a worker takes from the reader at a time: large enough to make the lock rare, small
/// enough that threads finish an epoch together.
const BATCH_TOKENS: usize = 10_000;
/// The learning rate decays linearly to this fraction of its start, as in word2vec.c.
const MIN_ALPHA_FRACTION: f64 = 1e-4;

/// Which word predicts which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Each context word predicts the centre word (word2vec.c's `-cbow 0`).
    SkipGram,
    /// The mean (or sum) of the context predicts the centre word.
    Cbow,
}

/// Hyperparameters of a training run; defaults are word2vec.c's.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainParams {
    /// Skip-gram or CBOW.
    pub arch: Arch,
    /// Vector size.
    pub dim: usize,
    /// Maximum window on each side; the effective window is drawn from 1..=window per word.
    pub window: usize,
    /// Negative samples per positive example; 0 disables negative sampling.
    pub negative: usize,
    /// Hierarchical softmax (may be combined with negative sampling).
    pub hs: bool,
    /// CBOW averages the context vectors (true) or sums them.
    pub cbow_mean: bool,
    /// Passes over the corpus.
    pub epochs: usize,
    /// Starting learning rate.
    pub alpha: f64,
    /// Subsampling threshold; 0 disables subsampling.
    pub sample: f64,
    /// Input vectors start uniform in ±`init_scale / dim`. word2vec.c uses 0.5, gensim 1.0;
    /// 1.0 measured about one analogy point better for skip-gram and CBOW at 3 epochs on
    /// enwiki-10M (experiments/word2vec-vs-peers).
    pub init_scale: f64,
    /// Skip-gram: draw one set of negatives per centre word and share it across its window
    /// (Ji et al. 2016, "Parallelizing Word2Vec in Shared and Distributed Memory"): the output
    /// rows stay in cache across the window, far fewer random memory reads.
    pub share_negatives: bool,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            arch: Arch::SkipGram,
            dim: 100,
            window: 5,
            negative: 5,
            hs: false,
            cbow_mean: true,
            epochs: 5,
            alpha: 0.025,
            sample: 1e-3,
            init_scale: 1.0,
            share_negatives: true,
            threads: 0,
            seed: 1,
        }
    }
}

impl TrainParams {
    /// Rejects parameters the engine cannot train with.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidParameter(m.to_string()));
        if self.dim == 0 {
            return bad("dim must be at least 1");
        }
        if self.window == 0 {
            return bad("window must be at least 1");
        }
        if self.negative == 0 && !self.hs {
            return bad("negative = 0 and hs = false leaves nothing to train");
        }
        if self.epochs == 0 {
            return bad("epochs must be at least 1");
        }
        if !(self.init_scale > 0.0 && self.init_scale.is_finite()) {
            return bad("init_scale must be positive");
        }
        if self.threads > 1024 {
            return bad("threads must be at most 1024");
        }
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return bad("alpha must be positive");
        }
        if !(self.sample >= 0.0 && self.sample.is_finite()) {
            return bad("sample must be >= 0");
        }
        Ok(())
    }

    /// The number of worker threads `threads = 0` resolves to.
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// A progress report, sent every `report_every` while training.
#[derive(Debug, Clone)]
pub struct Progress {
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

/// Receives progress while training runs; the binary turns it into a progress bar, log lines
/// and TensorBoard scalars.
pub trait Observer {
    /// Called every `report_every` from the thread that called [`train`].
    fn progress(&mut self, _progress: &Progress) {}
    /// Called after each epoch with the current input vectors (for evaluation).
    fn epoch_end(&mut self, _summary: &EpochSummary, _vectors: &Embeddings) {}
}

/// An observer that ignores everything.
impl Observer for () {}

/// Trains vectors for `vocab` on the corpus at `corpus`, reading it once per epoch.
pub fn train(
    corpus: &Path,
    lowercase: bool,
    vocab: &Vocab,
    params: &TrainParams,
    report_every: Duration,
    observer: &mut dyn Observer,
) -> Result<Embeddings> {
    params.validate()?;
    if vocab.is_empty() {
        return Err(Error::InvalidParameter("the vocabulary is empty".into()));
    }
    let engine = Engine::new(vocab, params);
    let threads = params.effective_threads();
    let words_total = vocab.total() * params.epochs as u64;
    let words_done = AtomicU64::new(0);
    let start = Instant::now();
    let mut input = Embeddings::new(vocab.words().to_vec(), params.dim, engine.init_input()?)?;
    let mut output_neg = if params.negative > 0 {
        zeros(vocab.len(), params.dim)?
    } else {
        Vec::new()
    };
    let mut output_hs = if params.hs {
        zeros(
            engine.huffman.as_ref().map_or(1, Huffman::inner_nodes),
            params.dim,
        )?
    } else {
        Vec::new()
    };
    let matrices = Matrices {
        input: input.data_mut().as_mut_ptr(),
        output_neg: output_neg.as_mut_ptr(),
        output_hs: output_hs.as_mut_ptr(),
    };
    for epoch in 0..params.epochs {
        let epoch_start = Instant::now();
        let reader = Mutex::new(CorpusReader::open(corpus, lowercase)?);
        let totals = Mutex::new(LossTotals::default());
        let interval = Mutex::new(LossTotals::default());
        let running = AtomicUsize::new(threads);
        let words_at_epoch_start = words_done.load(Ordering::Relaxed);
        let results: Vec<Result<()>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let ctx = WorkerContext {
                        engine: &engine,
                        matrices: &matrices,
                        reader: &reader,
                        words_done: &words_done,
                        words_total,
                        totals: &totals,
                        interval: &interval,
                        seed: params
                            .seed
                            .wrapping_mul(0x1000_0000_01B3)
                            .wrapping_add((epoch * threads + t) as u64),
                    };
                    let running = &running;
                    scope.spawn(move || {
                        let r = ctx.run();
                        running.fetch_sub(1, Ordering::Release);
                        r
                    })
                })
                .collect();
            let mut last_report = Instant::now();
            let mut last_words = words_done.load(Ordering::Relaxed);
            loop {
                let finished = running.load(Ordering::Acquire) == 0;
                if !finished {
                    std::thread::sleep(Duration::from_millis(20));
                }
                // Report every `report_every`, and once more for the tail of the epoch.
                if finished || last_report.elapsed() >= report_every {
                    let now_words = words_done.load(Ordering::Relaxed);
                    let loss = std::mem::take(&mut *lock(&interval)).mean();
                    let secs = last_report.elapsed().as_secs_f64();
                    if finished && loss.is_none() {
                        break;
                    }
                    observer.progress(&Progress {
                        epoch: epoch + 1,
                        epochs: params.epochs,
                        words_done: now_words,
                        words_total,
                        alpha: engine.alpha_at(now_words, words_total),
                        loss,
                        words_per_sec: (now_words - last_words) as f64 / secs,
                        elapsed: start.elapsed(),
                    });
                    last_report = Instant::now();
                    last_words = now_words;
                }
                if finished {
                    break;
                }
            }
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::InvalidParameter("a training thread panicked".into()))
                    })
                })
                .collect()
        });
        for r in results {
            r?;
        }
        let totals = std::mem::take(&mut *lock(&totals));
        let summary = EpochSummary {
            epoch: epoch + 1,
            loss: totals.mean().unwrap_or(f64::NAN),
            examples: totals.examples,
            words: words_done.load(Ordering::Relaxed) - words_at_epoch_start,
            words_done: words_done.load(Ordering::Relaxed),
            elapsed: epoch_start.elapsed(),
        };
        observer.epoch_end(&summary, &input);
    }
    // Keep the output matrices alive until here: the raw pointers in `matrices` point into them.
    drop((output_neg, output_hs));
    Ok(input)
}

/// A zeroed `rows × dim` matrix, or a clear error when it cannot be allocated (instead of an
/// abort).
fn zeros(rows: usize, dim: usize) -> Result<Vec<f32>> {
    let too_big = || {
        Error::InvalidParameter(format!(
            "a {rows} x {dim} matrix ({:.1} GiB) cannot be allocated; lower model.dim or data.max_vocab",
            rows as f64 * dim as f64 * 4.0 / (1u64 << 30) as f64
        ))
    };
    let cells = rows.checked_mul(dim).ok_or_else(too_big)?;
    let mut m = Vec::new();
    m.try_reserve_exact(cells).map_err(|_| too_big())?;
    m.resize(cells, 0.0);
    Ok(m)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Loss sums in f64 (f32 sums over millions of examples lose the small terms).
#[derive(Debug, Default, Clone, Copy)]
struct LossTotals {
    loss: f64,
    examples: u64,
}

impl LossTotals {
    fn add(&mut self, other: LossTotals) {
        self.loss += other.loss;
        self.examples += other.examples;
    }

    fn mean(&self) -> Option<f64> {
        (self.examples > 0).then(|| self.loss / self.examples as f64)
    }
}

/// The shared weight matrices as raw pointers: Hogwild updates race by design (word2vec.c,
/// gensim and finalfrontier do the same); a lost update now and then does not hurt SGD.
struct Matrices {
    input: *mut f32,
    output_neg: *mut f32,
    output_hs: *mut f32,
}

// SAFETY: the pointers stay valid for the whole `train` call (the vectors they point into outlive
// the thread scope), and concurrent unsynchronised f32 updates are the Hogwild algorithm.
unsafe impl Sync for Matrices {}

/// Everything about a run that does not change while it trains.
struct Engine<'v> {
    params: TrainParams,
    keep: Vec<u32>,
    negatives: Option<NegativeTable>,
    huffman: Option<Huffman>,
    sigmoid: Vec<f32>,
    /// `-ln σ(x)` on the same grid as `sigmoid`, for the loss report: exact `ln`/`exp` per output
    /// cost a quarter of the run time.
    neg_log_sigmoid: Vec<f32>,
    vocab: &'v Vocab,
}

impl<'v> Engine<'v> {
    fn new(vocab: &'v Vocab, params: &TrainParams) -> Self {
        let sigmoid = (0..EXP_TABLE_SIZE)
            .map(|i| {
                let x = (i as f32 / EXP_TABLE_SIZE as f32 * 2.0 - 1.0) * MAX_EXP;
                let e = x.exp();
                e / (e + 1.0)
            })
            .collect();
        let neg_log_sigmoid = (0..EXP_TABLE_SIZE)
            .map(|i| {
                let x = (i as f32 + 0.5) / EXP_TABLE_SIZE as f32 * 2.0 * MAX_EXP - MAX_EXP;
                neg_log_sigmoid(x) as f32
            })
            .collect();
        Engine {
            params: params.clone(),
            neg_log_sigmoid,
            keep: keep_thresholds(vocab.counts(), vocab.total(), params.sample),
            negatives: (params.negative > 0).then(|| NegativeTable::new(vocab.counts())),
            huffman: params.hs.then(|| Huffman::new(vocab.counts())),
            sigmoid,
            vocab,
        }
    }

    /// U(-init_scale/dim, init_scale/dim): word2vec.c's initialisation with init_scale 0.5,
    /// gensim's with 1.0.
    fn init_input(&self) -> Result<Vec<f32>> {
        let dim = self.params.dim;
        let width = (2.0 * self.params.init_scale / dim as f64) as f32;
        // A stream of its own: the workers' seeds are derived differently.
        let mut rng = Rng::new(self.params.seed ^ 0xD1B5_4A32_D192_ED03);
        let mut m = zeros(self.vocab.len(), dim)?;
        for x in &mut m {
            *x = (((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32) - 0.5) * width;
        }
        Ok(m)
    }

    fn alpha_at(&self, words_done: u64, words_total: u64) -> f64 {
        let start = self.params.alpha;
        let progress = words_done as f64 / (words_total as f64 + 1.0);
        (start * (1.0 - progress)).max(start * MIN_ALPHA_FRACTION)
    }
}

/// Per-thread buffers of the hot loop, allocated once.
struct Scratch {
    /// CBOW's averaged (or summed) context vector.
    hidden: Vec<f32>,
    /// The gradient for the input vector(s) of the current example.
    grad: Vec<f32>,
    /// The negatives drawn for the current centre word.
    negatives: Vec<u32>,
}

struct WorkerContext<'a> {
    engine: &'a Engine<'a>,
    matrices: &'a Matrices,
    reader: &'a Mutex<CorpusReader>,
    words_done: &'a AtomicU64,
    words_total: u64,
    totals: &'a Mutex<LossTotals>,
    interval: &'a Mutex<LossTotals>,
    seed: u64,
}

impl WorkerContext<'_> {
    fn run(&self) -> Result<()> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { self.run_avx2() };
        }
        self.run_generic()
    }

    /// The same loop compiled for AVX2: `dot` and `axpy` inline into it and vectorise 8-wide.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self) -> Result<()> {
        self.run_generic()
    }

    #[inline(always)]
    fn run_generic(&self) -> Result<()> {
        let p = &self.engine.params;
        let dim = p.dim;
        let mut rng = Rng::new(self.seed);
        let mut batch = TokenBatch::default();
        let mut ids: Vec<u32> = Vec::with_capacity(BATCH_TOKENS);
        let mut scratch = Scratch {
            hidden: vec![0f32; dim],
            grad: vec![0f32; dim],
            negatives: Vec::with_capacity(p.negative),
        };
        loop {
            batch.clear();
            if !lock(self.reader).read_batch(&mut batch, BATCH_TOKENS)? {
                return Ok(());
            }
            let mut loss = LossTotals::default();
            let mut words = 0u64;
            for sentence in batch.sentences() {
                ids.clear();
                for i in sentence {
                    if let Some(id) = self.engine.vocab.id(batch.token(i)) {
                        words += 1;
                        if keep(self.engine.keep[id as usize], &mut rng) {
                            ids.push(id);
                        }
                    }
                }
                let done = self.words_done.load(Ordering::Relaxed) + words;
                let alpha = self.engine.alpha_at(done, self.words_total) as f32;
                match p.arch {
                    Arch::SkipGram => {
                        self.skipgram_sentence(&ids, alpha, &mut rng, &mut scratch, &mut loss)
                    }
                    Arch::Cbow => {
                        self.cbow_sentence(&ids, alpha, &mut rng, &mut scratch, &mut loss)
                    }
                }
            }
            self.words_done.fetch_add(words, Ordering::Relaxed);
            lock(self.totals).add(loss);
            lock(self.interval).add(loss);
        }
    }

    #[inline(always)]
    fn skipgram_sentence(
        &self,
        ids: &[u32],
        alpha: f32,
        rng: &mut Rng,
        scratch: &mut Scratch,
        loss: &mut LossTotals,
    ) {
        let Scratch {
            grad, negatives, ..
        } = scratch;
        let window = self.engine.params.window;
        let dim = self.engine.params.dim;
        let share = self.engine.params.share_negatives;
        for (pos, &word) in ids.iter().enumerate() {
            let reduced = rng.below(window as u32) as usize;
            let span = window - reduced;
            let lo = pos.saturating_sub(span);
            let hi = (pos + span).min(ids.len() - 1);
            if share {
                self.draw_negatives(word, rng, negatives);
            }
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c == pos {
                    continue;
                }
                if !share {
                    self.draw_negatives(word, rng, negatives);
                }
                // SAFETY: `context` < vocab size; see `Matrices`.
                let input = unsafe { row(self.matrices.input, context, dim) };
                grad.fill(0.0);
                loss.loss += self.output_step(word, negatives, input, grad, alpha);
                loss.examples += 1;
                axpy(1.0, grad, input);
            }
        }
    }

    #[inline(always)]
    fn cbow_sentence(
        &self,
        ids: &[u32],
        alpha: f32,
        rng: &mut Rng,
        scratch: &mut Scratch,
        loss: &mut LossTotals,
    ) {
        let Scratch {
            hidden,
            grad,
            negatives,
        } = scratch;
        let window = self.engine.params.window;
        let dim = self.engine.params.dim;
        for (pos, &word) in ids.iter().enumerate() {
            let reduced = rng.below(window as u32) as usize;
            let span = window - reduced;
            let lo = pos.saturating_sub(span);
            let hi = (pos + span).min(ids.len() - 1);
            if hi == lo {
                continue;
            }
            hidden.fill(0.0);
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c != pos {
                    // SAFETY: see `Matrices`.
                    axpy(
                        1.0,
                        unsafe { row(self.matrices.input, context, dim) },
                        hidden,
                    );
                }
            }
            if self.engine.params.cbow_mean {
                let inv = 1.0 / (hi - lo) as f32;
                hidden.iter_mut().for_each(|h| *h *= inv);
            }
            grad.fill(0.0);
            self.draw_negatives(word, rng, negatives);
            loss.loss += self.output_step(word, negatives, hidden, grad, alpha);
            loss.examples += 1;
            // word2vec.c adds the whole gradient to every context vector, also when averaging.
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c != pos {
                    // SAFETY: see `Matrices`.
                    axpy(1.0, grad, unsafe { row(self.matrices.input, context, dim) });
                }
            }
        }
    }

    /// Draws the negative samples for predicting `word` (draws equal to `word` are dropped, as
    /// in word2vec.c).
    #[inline(always)]
    fn draw_negatives(&self, word: u32, rng: &mut Rng, out: &mut Vec<u32>) {
        out.clear();
        if let Some(table) = &self.engine.negatives {
            for _ in 0..self.engine.params.negative {
                let t = table.sample(rng);
                if t != word {
                    out.push(t);
                }
            }
        }
    }

    /// One logistic-regression step of negative sampling: output vector `target` with `label`.
    #[inline(always)]
    fn negative_step(
        &self,
        target: u32,
        label: f32,
        input: &[f32],
        grad: &mut [f32],
        alpha: f32,
    ) -> f64 {
        // SAFETY: `target` < vocab size; see `Matrices`.
        let out = unsafe { row(self.matrices.output_neg, target, self.engine.params.dim) };
        let f = dot(input, out);
        let g = if f > MAX_EXP {
            (label - 1.0) * alpha
        } else if f < -MAX_EXP {
            label * alpha
        } else {
            (label - self.sigmoid(f)) * alpha
        };
        axpy(g, out, grad);
        axpy(g, input, out);
        self.loss(if label > 0.0 { f } else { -f })
    }

    /// Updates the output vectors for predicting `word` (with the drawn `negatives`) from
    /// `input`, adds the gradient for `input` into `grad`, and returns the example's loss.
    #[inline(always)]
    fn output_step(
        &self,
        word: u32,
        negatives: &[u32],
        input: &[f32],
        grad: &mut [f32],
        alpha: f32,
    ) -> f64 {
        let dim = self.engine.params.dim;
        let mut loss = 0f64;
        if let Some(huffman) = &self.engine.huffman {
            for (&code, &point) in huffman.code(word).iter().zip(huffman.points(word)) {
                // SAFETY: `point` < inner nodes; see `Matrices`.
                let out = unsafe { row(self.matrices.output_hs, point, dim) };
                let f = dot(input, out);
                let label = 1.0 - code as f32;
                loss += self.loss(if code == 0 { f } else { -f });
                if f.abs() >= MAX_EXP {
                    continue; // word2vec.c skips saturated nodes in hierarchical softmax
                }
                let g = (label - self.sigmoid(f)) * alpha;
                axpy(g, out, grad);
                axpy(g, input, out);
            }
        }
        if self.engine.negatives.is_some() {
            loss += self.negative_step(word, 1.0, input, grad, alpha);
            for &target in negatives {
                loss += self.negative_step(target, 0.0, input, grad, alpha);
            }
        }
        loss
    }

    /// `-ln σ(x)` from the table; beyond ±MAX_EXP it is ~0 or ~-x.
    #[inline(always)]
    fn loss(&self, x: f32) -> f64 {
        if x >= MAX_EXP {
            0.0
        } else if x <= -MAX_EXP {
            -x as f64
        } else {
            let i = ((x + MAX_EXP) * (EXP_TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
            self.engine.neg_log_sigmoid[i.min(EXP_TABLE_SIZE - 1)] as f64
        }
    }

    #[inline(always)]
    fn sigmoid(&self, f: f32) -> f32 {
        let i = ((f + MAX_EXP) * (EXP_TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
        self.engine.sigmoid[i.min(EXP_TABLE_SIZE - 1)]
    }
}

/// `-ln σ(x)`, exactly (used to fill the loss table).
#[inline(always)]
fn neg_log_sigmoid(x: f32) -> f64 {
    let x = x as f64;
    if x > 0.0 {
        (-x).exp().ln_1p()
    } else {
        -x + x.exp().ln_1p()
    }
}

/// Row `i` of a `dim`-column matrix behind `ptr`.
///
/// # Safety
/// `ptr` must point to a live matrix with more than `i` rows of `dim` floats.
#[inline(always)]
#[allow(clippy::mut_from_ref)]
unsafe fn row<'a>(ptr: *mut f32, i: u32, dim: usize) -> &'a mut [f32] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(ptr.add(i as usize * dim), dim) }
}

/// `a·b` with eight independent accumulators, so the compiler vectorises it (a single running
/// sum is a dependency chain it may not reorder).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// `y += a·x`.
#[inline(always)]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_match_the_definitions() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let expected: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - expected).abs() < 1e-4);
        let mut y = b.clone();
        axpy(2.0, &a, &mut y);
        assert!(
            y.iter()
                .zip(&a)
                .zip(&b)
                .all(|((y, a), b)| (y - (b + 2.0 * a)).abs() < 1e-6)
        );
    }

    #[test]
    fn loss_formula() {
        assert!((neg_log_sigmoid(0.0) - 2f64.ln()).abs() < 1e-12);
        assert!((neg_log_sigmoid(-30.0) - 30.0).abs() < 1e-9);
        assert!(neg_log_sigmoid(30.0) < 1e-12);
    }

    #[test]
    fn learning_rate_decays_linearly_to_its_floor() {
        let vocab = Vocab::from_counts([("a".to_string(), 10)], 1, 0);
        let e = Engine::new(&vocab, &TrainParams::default());
        assert!((e.alpha_at(0, 100) - 0.025).abs() < 1e-12);
        assert!((e.alpha_at(50, 99) - 0.0125).abs() < 1e-12);
        assert!((e.alpha_at(100, 99) - 0.025 * 1e-4).abs() < 1e-12);
    }
}
