//! What a run fixes before it trains: the resolved parameters, the sampling tables, the Huffman
//! tree, the σ tables, the learning-rate schedule and the initial weights.

use crate::error::{Error, Result};
use crate::huffman::Huffman;
use crate::params::{ModelParams, TrainParams};
use crate::sampling::{NegativeTable, Rng, keep_thresholds};
use crate::vocab::Vocab;

use super::maths::SigmoidTables;

/// The learning rate decays linearly to this fraction of its start, as in word2vec.c.
const MIN_ALPHA_FRACTION: f64 = 1e-4;

/// Everything about a run that does not change while it trains; the workers share it read-only.
pub(super) struct Engine<'v> {
    /// The model's parameters.
    pub(super) model: ModelParams,
    /// The starting learning rate, resolved for the architecture.
    alpha: f64,
    /// The final learning rate, or word2vec.c's schedule.
    min_alpha: Option<f64>,
    /// The fraction of the run at `alpha` before the rate starts to fall.
    hold: f64,
    /// The seed of the run.
    pub(super) seed: u64,
    /// Per word, the subsampling keep threshold ([`keep_thresholds`]).
    pub(super) keep: Vec<u32>,
    /// The negative-sampling distribution, when `negative > 0`.
    pub(super) negatives: Option<NegativeTable>,
    /// The tree of hierarchical softmax, when `hs`.
    pub(super) huffman: Option<Huffman>,
    /// σ and the loss, tabulated.
    pub(super) tables: SigmoidTables,
    /// The vocabulary being trained.
    pub(super) vocab: &'v Vocab,
    /// The test hook of [`TrainParams::poison_at_words`].
    pub(super) poison_at: Option<u64>,
}

impl<'v> Engine<'v> {
    /// The engine for `vocab` with validated parameters.
    pub(super) fn new(vocab: &'v Vocab, model: &ModelParams, train: &TrainParams) -> Self {
        Engine {
            model: model.clone(),
            alpha: train.alpha_for(model.arch),
            min_alpha: train.min_alpha_for(model),
            hold: train.alpha_hold_for(model),
            seed: train.seed,
            keep: keep_thresholds(vocab.counts(), vocab.total(), train.sample),
            negatives: (model.negative > 0).then(|| NegativeTable::new(vocab.counts())),
            huffman: model.hs.then(|| Huffman::new(vocab.counts())),
            tables: SigmoidTables::new(),
            vocab,
            poison_at: train.poison_at_words,
        }
    }

    /// The input vectors' start: U(-init_scale/dim, init_scale/dim), word2vec.c's initialisation
    /// with init_scale 0.5, gensim's with 1.0.
    pub(super) fn init_input(&self) -> Result<Vec<f32>> {
        let dim = self.model.dim;
        let width = (2.0 * self.model.init_scale / dim as f64) as f32;
        // A stream of its own: the workers' seeds are derived differently.
        let mut rng = Rng::new(self.seed ^ 0xD1B5_4A32_D192_ED03);
        let mut m = zeros(self.vocab.len(), dim)?;
        for x in &mut m {
            *x = (((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32) - 0.5) * width;
        }
        Ok(m)
    }

    /// The output matrices, zeroed as in word2vec.c: one row per word for negative sampling and
    /// one per inner node of the Huffman tree for hierarchical softmax (empty when unused).
    pub(super) fn init_outputs(&self) -> Result<OutputWeights> {
        let dim = self.model.dim;
        let (negative, hs) = self.output_rows();
        Ok(OutputWeights {
            negative: zeros(negative, dim)?,
            hs: zeros(hs, dim)?,
        })
    }

    /// Rows of the two output matrices: one per word for negative sampling, one per inner node
    /// of the Huffman tree for hierarchical softmax; 0 for a layer the model does not use.
    pub(super) fn output_rows(&self) -> (usize, usize) {
        let negative = self.negatives.as_ref().map_or(0, |_| self.vocab.len());
        let hs = self.huffman.as_ref().map_or(0, Huffman::inner_nodes);
        (negative, hs)
    }

    /// The learning rate after `words_done` of `words_total` words: `alpha` for the first
    /// `hold` of them, then linear to `min_alpha` (gensim), or towards 0 with a floor
    /// (word2vec.c).
    pub(super) fn alpha_at(&self, words_done: u64, words_total: u64) -> f64 {
        let start = self.alpha;
        let run = (words_done as f64 / (words_total as f64 + 1.0)).min(1.0);
        let progress = ((run - self.hold) / (1.0 - self.hold)).max(0.0);
        match self.min_alpha {
            Some(end) => start - (start - end) * progress,
            None => (start * (1.0 - progress)).max(start * MIN_ALPHA_FRACTION),
        }
    }

    /// The seed of worker `thread` of `threads` in epoch `epoch` (from 0): a stream per thread
    /// and epoch, a pure function of the run's seed.
    pub(super) fn worker_seed(&self, epoch: usize, thread: usize, threads: usize) -> u64 {
        self.seed
            .wrapping_mul(0x1000_0000_01B3)
            .wrapping_add((epoch * threads + thread) as u64)
    }
}

/// The output layers' weights, owned by the run and lent to the workers each epoch.
pub(super) struct OutputWeights {
    /// Negative sampling's output vectors (vocab × dim), or empty.
    pub(super) negative: Vec<f32>,
    /// Hierarchical softmax's inner-node vectors (inner nodes × dim), or empty.
    pub(super) hs: Vec<f32>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Arch;

    /// The learning rate of a run of `model` with `train` (one-word vocabulary) after `done` of
    /// `total` words.
    fn rate(model: &ModelParams, train: &TrainParams, done: u64, total: u64) -> f64 {
        let vocab = Vocab::from_counts([("a".to_string(), 10)], 1, 0);
        Engine::new(&vocab, model, train).alpha_at(done, total)
    }

    /// Equal to within 1e-12.
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn learning_rate_decays_linearly_to_its_floor() {
        let sg = ModelParams::default();
        let word2vec_c = TrainParams {
            min_alpha: Some(0.0),
            ..TrainParams::default()
        };
        assert!(close(rate(&sg, &word2vec_c, 0, 100), 0.025));
        assert!(close(rate(&sg, &word2vec_c, 50, 99), 0.0125));
        assert!(close(rate(&sg, &word2vec_c, 100, 99), 0.025 * 1e-4));
        let to_half = TrainParams {
            min_alpha: Some(0.0125),
            alpha_hold: Some(0.0),
            ..TrainParams::default()
        };
        assert!(close(rate(&sg, &to_half, 0, 99), 0.025));
        assert!(close(rate(&sg, &to_half, 50, 99), 0.01875));
        assert!(close(rate(&sg, &to_half, 200, 99), 0.0125));
    }

    #[test]
    fn unset_min_alpha_ends_at_alpha_over_epochs_plus_one_with_negatives_only() {
        let three = TrainParams {
            epochs: 3,
            ..TrainParams::default()
        };
        assert!(close(
            rate(&ModelParams::default(), &three, 200, 99),
            0.025 / 4.0
        ));
        let cbow = ModelParams {
            arch: Arch::Cbow,
            ..ModelParams::default()
        };
        assert!(close(rate(&cbow, &three, 200, 99), 0.05 / 4.0), "CBOW too");
        let hs_only = ModelParams {
            hs: true,
            negative: 0,
            ..ModelParams::default()
        };
        assert!(close(rate(&hs_only, &three, 200, 99), 0.025 * 1e-4));
        let both = ModelParams {
            hs: true,
            ..ModelParams::default()
        };
        assert!(close(rate(&both, &three, 200, 99), 0.025 / 4.0));
    }

    #[test]
    fn a_held_rate_stays_at_alpha_then_falls_linearly_to_the_end() {
        let sg = ModelParams::default();
        let held = TrainParams {
            min_alpha: Some(0.0125),
            alpha_hold: Some(0.5),
            ..TrainParams::default()
        };
        assert!(close(rate(&sg, &held, 0, 99), 0.025));
        assert!(close(rate(&sg, &held, 50, 99), 0.025));
        assert!(close(rate(&sg, &held, 75, 99), 0.01875));
        assert!(close(rate(&sg, &held, 100, 99), 0.0125));
        let cbow = ModelParams {
            arch: Arch::Cbow,
            ..ModelParams::default()
        };
        let default = TrainParams::default();
        assert!(
            close(rate(&cbow, &default, 40, 99), 0.05),
            "negative sampling holds by default"
        );
        let word2vec_c = TrainParams {
            min_alpha: Some(0.0),
            ..TrainParams::default()
        };
        assert!(
            close(rate(&cbow, &word2vec_c, 50, 99), 0.025),
            "word2vec.c's shape"
        );
        let word2vec_c_held = TrainParams {
            min_alpha: Some(0.0),
            alpha_hold: Some(0.5),
            ..TrainParams::default()
        };
        assert!(close(rate(&sg, &word2vec_c_held, 50, 99), 0.025));
        assert!(close(rate(&sg, &word2vec_c_held, 75, 99), 0.0125));
        assert!(
            close(rate(&sg, &word2vec_c_held, 100, 99), 0.025 * 1e-4),
            "its floor"
        );
    }

    #[test]
    fn an_impossible_matrix_is_an_error_not_an_abort() {
        let e = zeros(usize::MAX / 2, 8).unwrap_err().to_string();
        assert!(e.contains("cannot be allocated"), "{e}");
    }
}
