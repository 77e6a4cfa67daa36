//! A worker thread: takes batches of sentences from the epoch's [`Source`] (mapping a file's
//! tokens to ids), subsamples frequent words, and runs skip-gram or CBOW SGD steps on the
//! shared weights.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::corpus::TokenBatch;
use crate::corpus_ids::IdBatch;
use crate::error::Result;
use crate::params::Arch;
use crate::sampling::{Rng, keep};
use crate::vocab::Vocab;

use super::engine::Engine;
use super::hogwild::HogwildMatrix;
use super::hot_rows::{HOT_NODES, HotRows, MERGE_EVERY};
use super::kernels::{self, Kernels, UsesKernels, prefetch};
use super::source::{Source, Taken};

/// The weights the workers train, shared without locks (see [`HogwildMatrix`]).
pub(super) struct Weights<'m> {
    /// The word vectors (the result).
    pub(super) input: HogwildMatrix<'m>,
    /// Negative sampling's output vectors (no rows when unused).
    pub(super) output_neg: HogwildMatrix<'m>,
    /// Hierarchical softmax's inner-node vectors (no rows when unused).
    pub(super) output_hs: HogwildMatrix<'m>,
}

/// Loss sums in f64 (f32 sums over millions of examples lose the small terms).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct LossTotals {
    /// Summed loss.
    pub(super) loss: f64,
    /// Training examples (skip-gram pairs or CBOW windows) summed.
    pub(super) examples: u64,
}

impl LossTotals {
    /// Adds `other`'s sums.
    pub(super) fn add(&mut self, other: LossTotals) {
        self.loss += other.loss;
        self.examples += other.examples;
    }

    /// Mean loss per example, if there was any example.
    pub(super) fn mean(&self) -> Option<f64> {
        (self.examples > 0).then(|| self.loss / self.examples as f64)
    }
}

/// What the workers of one epoch share with each other and with the thread that reports
/// progress: the corpus source, the word counter the learning rate decays with, the loss sums, and
/// when to pause (a checkpoint is due, or a stop was asked for).
pub(super) struct EpochState<'a> {
    source: Mutex<Source<'a>>,
    /// Vocabulary words read since the run started (before subsampling).
    pub(super) words_done: &'a AtomicU64,
    /// `words_done` at the end of the run.
    pub(super) words_total: u64,
    /// Set to pause every worker after its current batch (a signal, a non-finite loss).
    pub(super) stop: &'a AtomicBool,
    /// The workers pause once `words_done` reaches this (the next checkpoint).
    pause_at: u64,
    /// Sentences taken from the source (the corpus position a checkpoint records).
    sentences: AtomicU64,
    /// Set when the source is exhausted: the epoch is over.
    exhausted: AtomicBool,
    /// The test hook: the first batch after this many words gets a NaN.
    poison_at: Option<u64>,
    /// Whether the test hook has poisoned its batch (it does once).
    poisoned: AtomicBool,
    totals: Mutex<LossTotals>,
    interval: Mutex<LossTotals>,
    running: AtomicUsize,
    /// The workers of the stretch.
    threads: usize,
    /// Taken by a worker merging its [`HotRows`] into the shared weights.
    merge_lock: Mutex<()>,
}

impl<'a> EpochState<'a> {
    /// The state of a stretch of an epoch that reads `source` with `threads` workers until the
    /// corpus ends, `pause_at` words are done or `stop` is set.
    pub(super) fn new(
        source: Source<'a>,
        counters: (&'a AtomicU64, u64, &'a AtomicBool),
        pause_at: u64,
        threads: usize,
        poison_at: Option<u64>,
    ) -> Self {
        let (words_done, words_total, stop) = counters;
        EpochState {
            source: Mutex::new(source),
            words_done,
            words_total,
            stop,
            pause_at,
            sentences: AtomicU64::new(0),
            exhausted: AtomicBool::new(false),
            poison_at,
            poisoned: AtomicBool::new(false),
            totals: Mutex::default(),
            interval: Mutex::default(),
            running: AtomicUsize::new(threads),
            threads,
            merge_lock: Mutex::new(()),
        }
    }

    /// Whether every worker has stopped.
    pub(super) fn finished(&self) -> bool {
        self.running.load(Ordering::Acquire) == 0
    }

    /// The loss since the previous call (for a progress report).
    pub(super) fn take_interval(&self) -> LossTotals {
        std::mem::take(&mut *lock(&self.interval))
    }

    /// After the workers have stopped: the stretch's loss, the sentences it read, whether the
    /// corpus is exhausted, and the source (to continue after a checkpoint).
    pub(super) fn into_parts(self) -> (LossTotals, u64, bool, Source<'a>) {
        let source = self
            .source
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let totals = self
            .totals
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        let exhausted = self.exhausted.load(Ordering::Acquire);
        (totals, self.sentences.into_inner(), exhausted, source)
    }

    /// Whether a worker should stop before taking another batch.
    fn should_pause(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
            || self.exhausted.load(Ordering::Relaxed)
            || self.words_done.load(Ordering::Relaxed) >= self.pause_at
    }

    /// Takes the next batch into `batch` (through `tokens` from a file, whose words `vocab`
    /// looks up once the source is unlocked); false when the corpus is exhausted.
    fn next_batch(
        &self,
        tokens: &mut TokenBatch,
        batch: &mut IdBatch,
        vocab: &Vocab,
    ) -> Result<bool> {
        let taken = lock(&self.source).read_batch(tokens, batch)?;
        match taken {
            None => {
                self.exhausted.store(true, Ordering::Release);
                return Ok(false);
            }
            Some(Taken::Tokens) => batch.encode(tokens, |word| vocab.id(word)),
            Some(Taken::Ids) => {}
        }
        self.sentences
            .fetch_add(batch.sentence_count() as u64, Ordering::Relaxed);
        Ok(true)
    }

    /// Whether the batch about to be trained is the one the test hook poisons (once).
    fn poison_now(&self) -> bool {
        self.poison_at.is_some_and(|at| {
            self.words_done.load(Ordering::Relaxed) >= at
                && !self.poisoned.swap(true, Ordering::Relaxed)
        })
    }
}

impl UsesKernels for &Worker<'_, '_> {
    type Output = Result<u64>;

    #[inline(always)]
    fn run<K: Kernels>(self) -> Result<u64> {
        self.run_with::<K>()
    }
}

/// Counts a worker as stopped when dropped, also when it panics (so the reporting loop ends).
struct Stopped<'a>(&'a AtomicUsize);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
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
    /// The negatives of the next centre word (CBOW, and skip-gram with shared negatives), drawn
    /// a window ahead so that their rows can be prefetched.
    next_negatives: Vec<u32>,
    /// Skip-gram's window buffers.
    window: Window,
}

/// Skip-gram's buffers for one window (see `Worker::skipgram_window`), allocated once.
#[derive(Default)]
struct Window {
    /// The window's context words.
    contexts: Vec<u32>,
    /// The negative-sampling outputs: the centre word, then its negatives.
    targets: Vec<u32>,
    /// The contexts' input vectors, one row each, as the window started.
    inputs: Vec<f32>,
    /// The output vectors (Huffman nodes, then `targets`), one row each, as the window started.
    outputs: Vec<f32>,
    /// The step `g` of each (output, context) pair, output by output.
    steps: Vec<f32>,
    /// The same steps, context by context.
    by_context: Vec<f32>,
    /// This thread's copies of the Huffman tree's top nodes (none with one thread).
    hot: HotRows,
}

/// One worker thread of an epoch.
pub(super) struct Worker<'a, 'e> {
    /// The run's fixed tables.
    pub(super) engine: &'a Engine<'a>,
    /// The weights being trained.
    pub(super) weights: &'a Weights<'a>,
    /// What the epoch's threads share.
    pub(super) epoch: &'a EpochState<'e>,
    /// This worker's random stream: its generator's state.
    pub(super) rng: u64,
}

impl Worker<'_, '_> {
    /// Trains on batches until the epoch's state says to pause; returns the generator's state
    /// then (a checkpoint saves it, and the next stretch continues it).
    pub(super) fn run(&self) -> Result<u64> {
        let _stopped = Stopped(&self.epoch.running);
        kernels::dispatch(self)
    }

    /// The loop itself, with the kernels `K`.
    #[inline(always)]
    fn run_with<K: Kernels>(&self) -> Result<u64> {
        let dim = self.engine.model.dim;
        let mut rng = Rng::from_state(self.rng);
        let mut tokens = TokenBatch::default();
        let mut batch = IdBatch::default();
        let mut ids: Vec<u32> = Vec::new();
        let mut scratch = Scratch {
            hidden: vec![0f32; dim],
            grad: vec![0f32; dim],
            negatives: Vec::with_capacity(self.engine.model.negative),
            next_negatives: Vec::with_capacity(self.engine.model.negative),
            window: Window::default(),
        };
        scratch.window.hot = self.hot_rows();
        while !self.epoch.should_pause() {
            if !self
                .epoch
                .next_batch(&mut tokens, &mut batch, self.engine.vocab)?
            {
                break;
            }
            if self.epoch.poison_now() {
                self.poison(&batch);
            }
            let (loss, words) = self.train_batch::<K>(&batch, &mut ids, &mut rng, &mut scratch);
            self.epoch.words_done.fetch_add(words, Ordering::Relaxed);
            lock(&self.epoch.totals).add(loss);
            lock(&self.epoch.interval).add(loss);
        }
        Ok(rng.state())
    }

    /// This thread's copies of the Huffman tree's top nodes ([`HotRows`]): for skip-gram windows
    /// with hierarchical softmax and several threads; none otherwise (CBOW and unshared negatives
    /// read the shared rows).
    fn hot_rows(&self) -> HotRows {
        let model = &self.engine.model;
        match &self.engine.huffman {
            Some(huffman)
                if self.epoch.threads > 1
                    && model.arch == Arch::SkipGram
                    && model.share_negatives =>
            {
                let nodes = huffman.inner_nodes();
                let (rows, lock) = (&self.weights.output_hs, &self.epoch.merge_lock);
                HotRows::last_of(rows, nodes, HOT_NODES, model.dim, lock)
            }
            _ => HotRows::none(),
        }
    }

    /// The test hook's fault: a NaN in the input vector of the batch's first vocabulary word.
    #[cold]
    fn poison(&self, batch: &IdBatch) {
        if let Some(&id) = batch.ids.first() {
            self.weights.input.row_mut(id)[0] = f32::NAN;
        }
    }

    /// Trains on every sentence of `batch` (`ids` holds each in turn); returns the loss and
    /// the vocabulary words read.
    #[inline(always)]
    fn train_batch<K: Kernels>(
        &self,
        batch: &IdBatch,
        ids: &mut Vec<u32>,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> (LossTotals, u64) {
        let mut loss = LossTotals::default();
        let mut words = 0u64;
        for sentence in batch.sentences() {
            words += self.subsample(&batch.ids[sentence], ids, rng);
            let done = self.epoch.words_done.load(Ordering::Relaxed) + words;
            let alpha = self.engine.alpha_at(done, self.epoch.words_total) as f32;
            match self.engine.model.arch {
                Arch::SkipGram => self.skipgram_sentence::<K>(ids, alpha, rng, scratch, &mut loss),
                Arch::Cbow => self.cbow_sentence::<K>(ids, alpha, rng, scratch, &mut loss),
            }
        }
        (loss, words)
    }

    /// Puts into `ids` the words of `sentence` that survive subsampling; returns how many it
    /// held (the learning rate's clock counts them all).
    #[inline(always)]
    fn subsample(&self, sentence: &[u32], ids: &mut Vec<u32>, rng: &mut Rng) -> u64 {
        ids.clear();
        for &id in sentence {
            if keep(self.engine.keep[id as usize], rng) {
                ids.push(id);
            }
        }
        sentence.len() as u64
    }

    /// Skip-gram over one sentence: each context word's vector predicts the centre word.
    ///
    /// With shared negatives (the default) a window's contexts all predict the same outputs, so
    /// [`skipgram_window`](Self::skipgram_window) runs them output by output; otherwise each
    /// (context, centre) pair draws its own negatives and runs alone, as in word2vec.c.
    #[inline(always)]
    fn skipgram_sentence<K: Kernels>(
        &self,
        ids: &[u32],
        alpha: f32,
        rng: &mut Rng,
        scratch: &mut Scratch,
        loss: &mut LossTotals,
    ) {
        let Scratch {
            grad,
            negatives,
            next_negatives,
            window: buffers,
            ..
        } = scratch;
        let window = self.engine.model.window;
        let share = self.engine.model.share_negatives;
        for (pos, &word) in ids.iter().enumerate() {
            let (lo, hi) = context_span(pos, ids.len(), window, rng);
            if share {
                self.negatives_ahead(ids, pos, rng, (negatives, next_negatives), false);
                buffers.contexts.clear();
                buffers.contexts.extend(
                    ids[lo..=hi]
                        .iter()
                        .enumerate()
                        .filter_map(|(c, &id)| (lo + c != pos).then_some(id)),
                );
                let next = ids.get(pos + 1).copied();
                loss.loss += self.skipgram_window::<K>(word, negatives, next, buffers, alpha);
                loss.examples += buffers.contexts.len() as u64;
                // The private tree top goes back to the shared rows at the sentence's end and
                // every MERGE_EVERY words of a long one (once a batch cost an analogy point).
                if pos % MERGE_EVERY == MERGE_EVERY - 1 || pos + 1 == ids.len() {
                    let merge_lock = &self.epoch.merge_lock;
                    buffers.hot.merge(&self.weights.output_hs, merge_lock);
                }
                continue;
            }
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c == pos {
                    continue;
                }
                self.draw_negatives(word, rng, negatives);
                let input = self.weights.input.row_mut(context);
                grad.fill(0.0);
                loss.loss += self.output_step::<K>((word, negatives), input, grad, alpha, &[]);
                loss.examples += 1;
                K::axpy(1.0, grad, input);
            }
        }
    }

    /// Puts the negatives of centre position `pos` into `negatives` (drawn at the previous
    /// position, or now for the first), draws those of `pos + 1` into `next`, and prefetches the
    /// rows the next window will read. The caller spreads one kind of row over its own steps
    /// instead: with `spreads_negatives` (CBOW, whose `output_step` prefetches one negative's row
    /// per step) the Huffman nodes are prefetched here; without (skip-gram windows, whose dot
    /// products prefetch one node per output) the negatives' rows are. perf had 20% of CBOW
    /// waiting on a burst of about 49 cache lines' prefetches for the core's few fill buffers.
    #[inline(always)]
    fn negatives_ahead(
        &self,
        ids: &[u32],
        pos: usize,
        rng: &mut Rng,
        (negatives, next): (&mut Vec<u32>, &mut Vec<u32>),
        spreads_negatives: bool,
    ) {
        if pos == 0 {
            self.draw_negatives(ids[0], rng, negatives);
        } else {
            std::mem::swap(negatives, next);
        }
        if let Some(&word) = ids.get(pos + 1) {
            self.draw_negatives(word, rng, next);
            let entering = ids.get(pos + 1 + self.engine.model.window);
            if spreads_negatives {
                for &point in self.cold_points(word) {
                    prefetch(self.weights.output_hs.row(point));
                }
            }
            let burst: &[u32] = if spreads_negatives { &[] } else { next };
            self.prefetch_window(word, burst, entering);
        }
    }

    /// The nodes of `word`'s Huffman path below the [`HOT_NODES`] near the root (none without
    /// hierarchical softmax): those a window may find outside the cache. The top nodes are read
    /// by every window, so they stay cached (or are this thread's copies, see [`HotRows`]).
    #[inline(always)]
    fn cold_points(&self, word: u32) -> impl Iterator<Item = &u32> + '_ {
        let (points, hot) = match &self.engine.huffman {
            Some(huffman) => (
                huffman.points(word),
                huffman.inner_nodes().saturating_sub(HOT_NODES) as u32,
            ),
            None => (&[][..], 0),
        };
        points.iter().filter(move |&&p| p < hot)
    }

    /// Prefetches what the window of centre word `word` will read that this one does not,
    /// besides Huffman nodes: its negative-sampling output rows (the word's and `negatives`')
    /// and the input row of the context word entering the window.
    #[inline(always)]
    fn prefetch_window(&self, word: u32, negatives: &[u32], entering: Option<&u32>) {
        if self.engine.negatives.is_some() {
            prefetch(self.weights.output_neg.row(word));
            for &target in negatives {
                prefetch(self.weights.output_neg.row(target));
            }
        }
        if let Some(&context) = entering {
            prefetch(self.weights.input.row(context));
        }
    }

    /// One window of skip-gram with shared outputs, as small matrix products (Ji et al. 2016,
    /// "Parallelizing Word2Vec in Shared and Distributed Memory": HogBatch). The window's `k`
    /// context rows and its `m` output rows (the Huffman path's nodes, or the centre word and its
    /// negatives) are copied once into `inputs` and `outputs`; the `k × m` dot products give
    /// the steps `g`; then each output row takes `Σ g·input` and each context row `Σ g·output`,
    /// every shared row read once and written once per window. Pair by pair, each output row was
    /// read and written once per context, and the rows near the Huffman root and the frequent
    /// negatives are the ones both threads write, so this also cuts the traffic between cores
    /// where it is highest.
    ///
    /// The difference from running the pairs in turn: within one window, a context no longer
    /// sees the update its predecessors made to the same output row (a minibatch of the window's
    /// contexts for each output, as in HogBatch). Returns the window's summed loss.
    #[inline(always)]
    fn skipgram_window<K: Kernels>(
        &self,
        word: u32,
        negatives: &[u32],
        next: Option<u32>,
        w: &mut Window,
        alpha: f32,
    ) -> f64 {
        let k = w.contexts.len();
        if k == 0 {
            return 0.0;
        }
        let (codes, points) = match &self.engine.huffman {
            Some(huffman) => (huffman.code(word), huffman.points(word)),
            None => (&[][..], &[][..]),
        };
        w.targets.clear();
        if self.engine.negatives.is_some() {
            w.targets.push(word);
            w.targets.extend_from_slice(negatives);
        }
        let dim = self.engine.model.dim;
        let m = points.len() + w.targets.len();
        w.inputs.resize(k * dim, 0.0);
        for (copy, &context) in w.inputs.chunks_exact_mut(dim).zip(&w.contexts) {
            K::copy(self.weights.input.row(context), copy);
        }
        w.outputs.resize(m * dim, 0.0);
        let (node_copies, target_copies) = w.outputs.split_at_mut(points.len() * dim);
        for (copy, &point) in node_copies.chunks_exact_mut(dim).zip(points) {
            let row = match w.hot.index(point) {
                Some(h) => w.hot.row(h),
                None => self.weights.output_hs.row(point),
            };
            K::copy(row, copy);
        }
        for (copy, &target) in target_copies.chunks_exact_mut(dim).zip(&w.targets) {
            K::copy(self.weights.output_neg.row(target), copy);
        }
        let mut cold = next.map(|n| self.cold_points(n));
        let loss = self.window_steps::<K>(codes, w, (k, m), &mut cold, alpha);
        // The next centre's nodes that the dot products left (its path is longer).
        cold.into_iter()
            .flatten()
            .for_each(|&p| prefetch(self.weights.output_hs.row(p)));
        self.apply_window::<K>(points, w, k, m);
        loss
    }

    /// Fills `w.steps` with the step `g` of every (output, context) pair of a window whose rows
    /// [`skipgram_window`](Self::skipgram_window) copied (`k` contexts, `m` outputs, the first
    /// `codes.len()` of them Huffman nodes), output by output, and `w.by_context` with the same
    /// steps context by context; returns the window's summed loss. All dot products
    /// first, then all steps: the steps' table lookups no longer wait on each dot product's sum,
    /// and the dot products on nothing.
    #[inline(always)]
    fn window_steps<'p, K: Kernels>(
        &self,
        codes: &[u8],
        w: &mut Window,
        (k, m): (usize, usize),
        prefetches: &mut Option<impl Iterator<Item = &'p u32>>,
        alpha: f32,
    ) -> f64 {
        let dim = self.engine.model.dim;
        w.steps.clear();
        w.steps.resize(m * k, 0.0);
        for (out, fs) in w.outputs.chunks_exact(dim).zip(w.steps.chunks_exact_mut(k)) {
            // One of the next window's rows per output, so that the requests spread over the
            // dot products instead of queueing all at once (perf had 9% of hierarchical softmax
            // waiting in a burst of prefetches for the memory system's few free slots).
            if let Some(&p) = prefetches.as_mut().and_then(Iterator::next) {
                prefetch(self.weights.output_hs.row(p));
            }
            for (f, input) in fs.iter_mut().zip(w.inputs.chunks_exact(dim)) {
                *f = K::dot(input, out);
            }
        }
        let tables = &self.engine.tables;
        let mut loss = 0f64;
        w.by_context.resize(k * m, 0.0);
        for (j, steps) in w.steps.chunks_exact_mut(k).enumerate() {
            // Each step also goes to its context's list (the transpose), for `apply_window`.
            let by_context = w.by_context.iter_mut().skip(j).step_by(m);
            match codes.get(j) {
                Some(&code) => {
                    for (g, transposed) in steps.iter_mut().zip(by_context) {
                        let (l, step) = tables.node_step(*g, code, alpha);
                        loss += l;
                        *g = step.unwrap_or(0.0);
                        *transposed = *g;
                    }
                }
                None => {
                    let label = if j == codes.len() { 1.0 } else { 0.0 };
                    for (g, transposed) in steps.iter_mut().zip(by_context) {
                        let (l, step) = tables.sample_step(*g, label, alpha);
                        loss += l;
                        *g = step;
                        *transposed = step;
                    }
                }
            }
        }
        loss
    }

    /// The updates of [`skipgram_window`](Self::skipgram_window), from the copies of the rows as
    /// the window started: output row `j` += `Σ_i steps[j][i]·inputs[i]`, context row `i` +=
    /// `Σ_j steps[j][i]·outputs[j]`. The window has `k ≥ 1` contexts.
    #[inline(always)]
    fn apply_window<K: Kernels>(&self, points: &[u32], w: &mut Window, k: usize, m: usize) {
        for (j, steps) in w.steps.chunks_exact(k).enumerate() {
            let row = match points.get(j) {
                Some(&p) => match w.hot.index(p) {
                    Some(h) => w.hot.row_mut(h),
                    None => self.weights.output_hs.row_mut(p),
                },
                None => self.weights.output_neg.row_mut(w.targets[j - points.len()]),
            };
            K::add_weighted_rows(steps, &w.inputs, row);
        }
        let by_context = w.by_context.chunks_exact(m.max(1));
        for (steps, &context) in by_context.zip(&w.contexts) {
            K::add_weighted_rows(steps, &w.outputs, self.weights.input.row_mut(context));
        }
    }

    /// CBOW over one sentence: the mean (or sum) of the context vectors predicts the centre
    /// word, and every context vector receives the whole gradient (as in word2vec.c, also when
    /// averaging).
    #[inline(always)]
    fn cbow_sentence<K: Kernels>(
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
            next_negatives,
            ..
        } = scratch;
        let window = self.engine.model.window;
        let input = &self.weights.input;
        for (pos, &word) in ids.iter().enumerate() {
            let (lo, hi) = context_span(pos, ids.len(), window, rng);
            self.negatives_ahead(ids, pos, rng, (negatives, next_negatives), true);
            if hi == lo {
                continue;
            }
            hidden.fill(0.0);
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c != pos {
                    K::axpy(1.0, input.row(context), hidden);
                }
            }
            if self.engine.model.cbow_mean {
                let inv = 1.0 / (hi - lo) as f32;
                hidden.iter_mut().for_each(|h| *h *= inv);
            }
            grad.fill(0.0);
            let ahead = next_negatives.as_slice();
            loss.loss += self.output_step::<K>((word, negatives), hidden, grad, alpha, ahead);
            loss.examples += 1;
            for (c, &context) in ids.iter().enumerate().take(hi + 1).skip(lo) {
                if c != pos {
                    K::axpy(1.0, grad, input.row_mut(context));
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
            for _ in 0..self.engine.model.negative {
                let t = table.sample(rng);
                if t != word {
                    out.push(t);
                }
            }
        }
    }

    /// Updates the output vectors for predicting `word` (with the drawn `negatives`) from
    /// `input`, adds the gradient for `input` into `grad`, and returns the example's loss.
    #[inline(always)]
    fn output_step<K: Kernels>(
        &self,
        (word, negatives): (u32, &[u32]),
        input: &[f32],
        grad: &mut [f32],
        alpha: f32,
        ahead: &[u32],
    ) -> f64 {
        let mut loss = 0f64;
        if self.engine.huffman.is_some() {
            loss += self.hs_step::<K>(word, input, grad, alpha);
        }
        if self.engine.negatives.is_some() {
            loss += self.negative_step::<K>(word, 1.0, input, grad, alpha);
            for (i, &target) in negatives.iter().enumerate() {
                // One of the next example's negatives per step (see `negatives_ahead`).
                if let Some(&next) = ahead.get(i) {
                    prefetch(self.weights.output_neg.row(next));
                }
                loss += self.negative_step::<K>(target, 0.0, input, grad, alpha);
            }
            // The next example's negatives the steps left (it drew more that differ from its word).
            for &next in ahead.iter().skip(negatives.len()) {
                prefetch(self.weights.output_neg.row(next));
            }
        }
        loss
    }

    /// Hierarchical softmax: one logistic step per inner node on `word`'s Huffman path, with
    /// label `1 - code`.
    #[inline(always)]
    fn hs_step<K: Kernels>(&self, word: u32, input: &[f32], grad: &mut [f32], alpha: f32) -> f64 {
        let Some(huffman) = &self.engine.huffman else {
            return 0.0;
        };
        let tables = &self.engine.tables;
        let mut loss = 0f64;
        for (&code, &point) in huffman.code(word).iter().zip(huffman.points(word)) {
            let out = self.weights.output_hs.row_mut(point);
            let (l, step) = tables.node_step(K::dot(input, out), code, alpha);
            loss += l;
            if let Some(g) = step {
                K::axpy(g, out, grad);
                K::axpy(g, input, out);
            }
        }
        loss
    }

    /// One logistic-regression step of negative sampling: output vector `target` with `label`.
    #[inline(always)]
    fn negative_step<K: Kernels>(
        &self,
        target: u32,
        label: f32,
        input: &[f32],
        grad: &mut [f32],
        alpha: f32,
    ) -> f64 {
        let out = self.weights.output_neg.row_mut(target);
        let (loss, g) = self
            .engine
            .tables
            .sample_step(K::dot(input, out), label, alpha);
        K::axpy(g, out, grad);
        K::axpy(g, input, out);
        loss
    }
}

/// The context of position `pos` in a sentence of `len` words: `lo..=hi`, a window of
/// `window - r` on each side with `r` drawn uniformly from `0..window` (word2vec.c's reduced
/// window, which weighs near words more).
#[inline(always)]
fn context_span(pos: usize, len: usize, window: usize, rng: &mut Rng) -> (usize, usize) {
    let reduced = rng.below(window as u32) as usize;
    let span = window - reduced;
    (pos.saturating_sub(span), (pos + span).min(len - 1))
}

/// Locks `m`, ignoring poisoning: a panicked worker is reported by its join, and the sums it
/// guards stay meaningful.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
