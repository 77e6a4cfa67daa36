//! The typed parameters of a run, one struct per concern: what to read ([`DataParams`]), what to
//! learn ([`ModelParams`]) and how to optimise it ([`TrainParams`]).
//!
//! Each struct is the one place its defaults live (its `Default` impl, or [`DataParams::new`]),
//! derives serde so a config file can nest it as it is (unknown keys are rejected, missing keys
//! take the defaults), and checks its own ranges with `validate`, whose errors name the key, the
//! value and what is allowed. The ranges are wide sanity bounds, not tuning advice.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use common::{InvalidParam, check};

/// Which word predicts which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arch {
    /// Each context word predicts the centre word (word2vec.c's `-cbow 0`).
    #[default]
    #[serde(rename = "skipgram")]
    SkipGram,
    /// The mean (or sum) of the context predicts the centre word (`-cbow 1`).
    #[serde(rename = "cbow")]
    Cbow,
}

impl Arch {
    /// The starting learning rate when none is given: word2vec.c's 0.025 for skip-gram and 0.05
    /// for CBOW (CBOW's averaged input gets smaller gradients per context word).
    pub fn default_alpha(self) -> f64 {
        match self {
            Arch::SkipGram => 0.025,
            Arch::Cbow => 0.05,
        }
    }
}

/// Where the training runs: `train.device`, the same key and values as the encoder's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// Hogwild threads on plain Rust (SIMD through the compiler).
    #[default]
    Cpu,
    /// The GPU engine: CubeCL kernels on a wgpu device (built with the `wgpu` feature; without
    /// it, refused by [`TrainParams::validate`] with a clear message).
    Wgpu,
}

impl Device {
    /// Its name in a config (`train.device`).
    pub fn name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Wgpu => "wgpu",
        }
    }
}

/// The corpus and how the vocabulary is drawn from it. `corpus` has no default, so this struct
/// has [`DataParams::new`] instead of `Default`; the other fields' serde defaults come from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataParams {
    /// A `.txt` or `.gz` corpus, one sentence or paragraph per line.
    pub corpus: PathBuf,
    /// Lowercase every token while reading (for corpora that keep their case).
    #[serde(default = "data_defaults::lowercase")]
    pub lowercase: bool,
    /// Words seen fewer times are dropped: too rare to learn a vector from, and they would
    /// dominate the vocabulary's size.
    #[serde(default = "data_defaults::min_count")]
    pub min_count: u64,
    /// Keep at most this many most frequent words; 0 = no limit.
    #[serde(default = "data_defaults::max_vocab")]
    pub max_vocab: usize,
    /// Hold the corpus in memory as vocabulary ids (about 1.7 bytes a token) when they fit in
    /// this many MiB, so that epochs read and look up nothing; 0 = read the file every epoch.
    /// Counting the vocabulary may take up to twice this, while the ids are renumbered.
    #[serde(default = "data_defaults::cache_mib")]
    pub cache_mib: usize,
}

impl DataParams {
    /// The defaults for reading `corpus`: word2vec.c's (case kept, min_count 5, no size limit).
    pub fn new(corpus: impl Into<PathBuf>) -> Self {
        DataParams {
            corpus: corpus.into(),
            lowercase: false,
            min_count: 5,
            max_vocab: 0,
            cache_mib: 1024,
        }
    }

    /// `cache_mib` in bytes.
    pub fn cache_bytes(&self) -> usize {
        self.cache_mib.saturating_mul(1 << 20)
    }

    /// Checks every value's range.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        check("min_count", self.min_count, self.min_count >= 1, ">= 1")
    }
}

/// serde's defaults for [`DataParams`], read from [`DataParams::new`] so they are written once.
mod data_defaults {
    use super::DataParams;

    fn defaults() -> DataParams {
        DataParams::new("")
    }
    pub(super) fn lowercase() -> bool {
        defaults().lowercase
    }
    pub(super) fn min_count() -> u64 {
        defaults().min_count
    }
    pub(super) fn max_vocab() -> usize {
        defaults().max_vocab
    }
    pub(super) fn cache_mib() -> usize {
        defaults().cache_mib
    }
}

/// The model: architecture, size and output layer(s). Defaults are word2vec.c's, except
/// `share_negatives` and `init_scale` (see their fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelParams {
    /// Skip-gram or CBOW.
    pub arch: Arch,
    /// Vector size.
    pub dim: usize,
    /// Maximum window on each side; the effective window is drawn from 1..=window per word, so
    /// near words weigh more.
    pub window: usize,
    /// Negative samples per positive example; 0 disables negative sampling.
    pub negative: usize,
    /// Hierarchical softmax over a Huffman tree (may be combined with negative sampling).
    pub hs: bool,
    /// CBOW averages the context vectors (true) or sums them.
    pub cbow_mean: bool,
    /// Skip-gram: one set of outputs per centre word serves its whole window, and the window
    /// trains as small matrix products (Ji et al. 2016, "Parallelizing Word2Vec in Shared and
    /// Distributed Memory": HogBatch). One draw of negatives per centre word instead of one per
    /// (word, context) pair, and every output row (negatives, or Huffman nodes with hierarchical
    /// softmax) read and written once per window instead of once per context. false runs the
    /// pairs one by one with their own negatives, as word2vec.c does.
    pub share_negatives: bool,
    /// Input vectors start uniform in ±`init_scale / dim`. word2vec.c uses 0.5, gensim 1.0;
    /// 1.0 measured about one analogy point better for skip-gram and CBOW at 3 epochs on
    /// enwiki-10M (experiments/word2vec-vs-peers).
    pub init_scale: f64,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            arch: Arch::SkipGram,
            dim: 100,
            window: 5,
            negative: 5,
            hs: false,
            cbow_mean: true,
            share_negatives: true,
            init_scale: 1.0,
        }
    }
}

impl ModelParams {
    /// Checks every value's range, and that some output layer is left to train.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let (dim, window, negative) = (self.dim, self.window, self.negative);
        check("dim", dim, (1..=10_000).contains(&dim), "1..=10000")?;
        check("window", window, (1..=1000).contains(&window), "1..=1000")?;
        check("negative", negative, negative <= 1000, "0..=1000")?;
        let scale = self.init_scale;
        let scale_ok = scale > 0.0 && scale <= 10.0;
        check("init_scale", scale, scale_ok, "0 < init_scale <= 10")?;
        if negative == 0 && !self.hs {
            return Err(InvalidParam::new(
                "negative",
                negative,
                "with hs = false leaves nothing to train",
                "negative >= 1 or hs = true",
            ));
        }
        Ok(())
    }
}

/// The GPU engine's batch by default (`train.batch_words`): on an H200 (enwiki-10M, skip-gram,
/// 1 epoch), 4,096 words came within 0.82 analogy points and 0.010 WS-353 of the CPU engine, at
/// 1.3M words/s; 32,768 and 262,144 ran
/// 3.2 and 4.6 times faster with 3.1% and 2.0% on analogies instead of 5.5%.
pub const DEFAULT_BATCH_WORDS: usize = 4096;

/// The default [`TrainParams::alpha_hold`] with negative sampling (see
/// [`TrainParams::alpha_hold_for`]).
const NEGATIVE_SAMPLING_ALPHA_HOLD: f64 = 0.5;

/// The optimisation: passes, learning rate, subsampling, threads and seed. Defaults are
/// word2vec.c's, except the final learning rate ([`TrainParams::min_alpha_for`]) and the hold
/// of the starting rate ([`TrainParams::alpha_hold_for`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainParams {
    /// Passes over the corpus.
    pub epochs: usize,
    /// Starting learning rate; `None` takes the architecture's default
    /// ([`Arch::default_alpha`], see [`TrainParams::alpha_for`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// The final learning rate (gensim's name): the rate falls linearly from `alpha` to it over
    /// the run (after [`TrainParams::alpha_hold`]). 0 is word2vec.c's exact schedule: linear
    /// towards 0, floored at `alpha × 1e-4`.
    /// `None` takes the measured default ([`TrainParams::min_alpha_for`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_alpha: Option<f64>,
    /// The fraction of the run (0 ≤ hold < 1) trained at the starting rate before it starts to
    /// fall: the rate stays at `alpha` for the first `hold` of the words, then falls linearly to
    /// the final rate. 0 is word2vec.c's and gensim's shape (falling from the first word). A hold
    /// given with word2vec.c's schedule (`min_alpha = 0`) applies too, then the fall towards 0
    /// with its floor. `None` takes the measured default ([`TrainParams::alpha_hold_for`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha_hold: Option<f64>,
    /// Subsampling threshold: words more frequent than this fraction of the corpus are randomly
    /// dropped (word2vec.c's formula); 0 disables subsampling.
    pub sample: f64,
    /// Worker threads; 0 = all cores. With 1 a run is reproducible byte for byte on the same
    /// kind of CPU (the vector kernels for AVX-512, AVX2 and neither round differently).
    pub threads: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Where the training runs.
    pub device: Device,
    /// Seconds between progress reports ([`crate::Observer::progress`]).
    pub log_every_secs: f64,
    /// A run with a checkpoint file ([`crate::train_checkpointed`]) writes one at every
    /// epoch's end and also after every this many words (a few minutes of work at CPU speed);
    /// 0 = at epoch ends only.
    pub checkpoint_every_words: u64,
    /// The GPU engine's batch (gensim's name for its jobs' size): words, after subsampling,
    /// that the GPU trains at once, one sentence per plane. Larger batches fill a large GPU;
    /// smaller ones put fewer sentences on the same rows at once (Hogwild's lost updates,
    /// which grow with the sentences in flight). The CPU engine ignores it.
    pub batch_words: usize,
    /// Test hook, not a setting: the first batch after this many words gets a NaN in one input
    /// vector, so the tests can show what a numerical fault does.
    #[doc(hidden)]
    #[serde(skip)]
    pub poison_at_words: Option<u64>,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            epochs: 5,
            alpha: None,
            min_alpha: None,
            alpha_hold: None,
            sample: 1e-3,
            threads: 0,
            seed: 1,
            device: Device::Cpu,
            log_every_secs: 2.0,
            checkpoint_every_words: 100_000_000,
            batch_words: DEFAULT_BATCH_WORDS,
            poison_at_words: None,
        }
    }
}

impl TrainParams {
    /// Checks every value's range (`alpha` only when given: the defaults are in range).
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let epochs = self.epochs;
        check(
            "epochs",
            epochs,
            (1..=10_000).contains(&epochs),
            "1..=10000",
        )?;
        if let Some(alpha) = self.alpha {
            let ok = alpha > 0.0 && alpha <= 10.0;
            check("alpha", alpha, ok, "0 < alpha <= 10")?;
        }
        if let Some(min_alpha) = self.min_alpha {
            let ok = min_alpha >= 0.0 && min_alpha <= self.alpha.unwrap_or(f64::INFINITY);
            check("min_alpha", min_alpha, ok, "0 <= min_alpha <= alpha")?;
        }
        if let Some(hold) = self.alpha_hold {
            check(
                "alpha_hold",
                hold,
                (0.0..1.0).contains(&hold),
                "0 <= alpha_hold < 1",
            )?;
        }
        let sample = self.sample;
        check(
            "sample",
            sample,
            (0.0..1.0).contains(&sample),
            "0 <= sample < 1",
        )?;
        let threads = self.threads;
        check(
            "threads",
            threads,
            threads <= 1024,
            "0..=1024 (0 = all cores)",
        )?;
        let every = self.checkpoint_every_words;
        let every_ok = every == 0 || every >= 1000;
        check("checkpoint_every_words", every, every_ok, "0 or >= 1000")?;
        let batch = self.batch_words;
        let batch_ok = (1000..=1 << 24).contains(&batch);
        check("batch_words", batch, batch_ok, "1000..=16777216")?;
        let secs = self.log_every_secs;
        let secs_ok = (0.05..=86_400.0).contains(&secs);
        check("log_every_secs", secs, secs_ok, "0.05..=86400")?;
        if self.device == Device::Wgpu && !cfg!(feature = "wgpu") {
            let problem = "is not built into this program (build it with `--features wgpu`)";
            return Err(InvalidParam::new("device", "wgpu", problem, "\"cpu\""));
        }
        Ok(())
    }

    /// The starting learning rate: `alpha` if given, else `arch`'s default.
    pub fn alpha_for(&self, arch: Arch) -> f64 {
        self.alpha.unwrap_or(arch.default_alpha())
    }

    /// The final learning rate of a run of `model`, or `None` for word2vec.c's schedule
    /// (`min_alpha = 0`, or unset with hierarchical softmax alone). Unset with negative sampling,
    /// it is `alpha / (epochs + 1)`, for both architectures. Over three seeds on enwiki-10M (1 and
    /// 3 epochs), it beat word2vec.c's schedule on every analogy and WS-353 median, and gensim's
    /// vectors on all three sets for skip-gram. CBOW ended at 1.5 times it from 2026-12-01 to
    /// 2026-12-07 (five seeds, before the hold); with the hold, 16-24 seeds showed the plain rule
    /// level on SimLex with gensim at 1 epoch where 1.5 times trailed it by 0.006, and ahead on
    /// analogies at 3 (`experiments/word2vec-schedule`, "2026-12-07, later"). Hierarchical
    /// softmax did best with word2vec.c's.
    pub fn min_alpha_for(&self, model: &ModelParams) -> Option<f64> {
        match self.min_alpha {
            Some(end) if end > 0.0 => Some(end),
            Some(_) => None,
            None if model.negative > 0 => {
                Some(self.alpha_for(model.arch) / (self.epochs as f64 + 1.0))
            }
            None => None,
        }
    }

    /// The fraction of a run of `model` held at the starting rate: `alpha_hold` if given, else
    /// 0.5 with negative sampling and a final rate of its own, 0 otherwise (word2vec.c's
    /// schedule, `min_alpha = 0`, and hierarchical softmax alone keep its shape). On enwiki-10M
    /// (`experiments/word2vec-schedule`), holding the first half beat the linear fall to the same
    /// end on every median: CBOW by 0.2 analogy points at 1 epoch (20 and 12 seeds; WS-353 and
    /// SimLex +0.001) and by 0.3 points, 0.020 WS-353 and 0.006 SimLex at 3 epochs (8 seeds);
    /// skip-gram by 0.4 points, 0.032 and 0.002 at 1 epoch (10 seeds) and by 0.8 points, 0.024
    /// and 0.001 at 3 (13 seeds). Measured at 1 and 3 epochs only.
    pub fn alpha_hold_for(&self, model: &ModelParams) -> f64 {
        match self.alpha_hold {
            Some(hold) => hold,
            None if model.negative > 0 && self.min_alpha_for(model).is_some() => {
                NEGATIVE_SAMPLING_ALPHA_HOLD
            }
            None => 0.0,
        }
    }

    /// The number of worker threads `threads = 0` resolves to.
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    /// Time between progress reports (`log_every_secs`, which `validate` keeps finite).
    pub fn report_every(&self) -> Duration {
        Duration::from_secs_f64(self.log_every_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default model but for its architecture and output layers.
    fn model_of(arch: Arch, negative: usize, hs: bool) -> ModelParams {
        ModelParams {
            arch,
            negative,
            hs,
            ..ModelParams::default()
        }
    }

    #[test]
    fn the_final_learning_rate_follows_the_measured_rules() {
        let end = |arch, negative, hs, epochs, min_alpha| {
            let train = TrainParams {
                epochs,
                min_alpha,
                ..TrainParams::default()
            };
            train.min_alpha_for(&model_of(arch, negative, hs))
        };
        assert_eq!(end(Arch::SkipGram, 5, false, 1, None), Some(0.025 / 2.0));
        assert_eq!(end(Arch::SkipGram, 5, false, 3, None), Some(0.025 / 4.0));
        assert_eq!(end(Arch::Cbow, 5, false, 3, None), Some(0.05 / 4.0));
        assert_eq!(end(Arch::SkipGram, 0, true, 1, None), None, "HS alone");
        assert_eq!(
            end(Arch::Cbow, 5, false, 1, Some(0.0)),
            None,
            "word2vec.c's"
        );
        assert_eq!(end(Arch::Cbow, 5, false, 1, Some(0.01)), Some(0.01));
    }

    #[test]
    fn negative_sampling_holds_half_the_run_unless_told() {
        let hold = |arch, negative, hs, min_alpha, alpha_hold| {
            let train = TrainParams {
                min_alpha,
                alpha_hold,
                ..TrainParams::default()
            };
            train.alpha_hold_for(&model_of(arch, negative, hs))
        };
        assert_eq!(hold(Arch::Cbow, 5, false, None, None), 0.5);
        assert_eq!(hold(Arch::Cbow, 5, false, Some(0.01), None), 0.5);
        assert_eq!(hold(Arch::SkipGram, 5, false, None, None), 0.5);
        assert_eq!(hold(Arch::SkipGram, 5, true, None, None), 0.5, "with HS");
        assert_eq!(hold(Arch::Cbow, 0, true, None, None), 0.0, "HS alone");
        assert_eq!(
            hold(Arch::Cbow, 0, true, Some(0.01), None),
            0.0,
            "HS, an end"
        );
        assert_eq!(
            hold(Arch::Cbow, 5, false, Some(0.0), None),
            0.0,
            "word2vec.c's"
        );
        assert_eq!(hold(Arch::SkipGram, 5, false, None, Some(0.25)), 0.25);
        let bad = TrainParams {
            alpha_hold: Some(1.0),
            ..TrainParams::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn empty_sections_deserialise_to_the_defaults() {
        assert_eq!(
            toml::from_str::<ModelParams>("").unwrap(),
            ModelParams::default()
        );
        assert_eq!(
            toml::from_str::<TrainParams>("").unwrap(),
            TrainParams::default()
        );
        assert_eq!(
            toml::from_str::<DataParams>("corpus = \"c.txt\"").unwrap(),
            DataParams::new("c.txt")
        );
        let e = toml::from_str::<DataParams>("min_count = 1").unwrap_err();
        assert!(e.to_string().contains("missing field `corpus`"), "{e}");
    }

    #[test]
    fn enums_use_the_config_spelling_and_list_the_allowed_values() {
        let m: ModelParams = toml::from_str("arch = \"cbow\"").unwrap();
        assert_eq!(m.arch, Arch::Cbow);
        let e = toml::from_str::<ModelParams>("arch = \"glove\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown variant `glove`, expected `skipgram` or `cbow`"),
            "{e}"
        );
        let e = toml::from_str::<TrainParams>("device = \"tpu\"").unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown variant `tpu`, expected `cpu` or `wgpu`"),
            "{e}"
        );
        let gpu: TrainParams = toml::from_str("device = \"wgpu\"").unwrap();
        if cfg!(feature = "wgpu") {
            assert_eq!(gpu.validate(), Ok(()));
        } else {
            assert_eq!(
                gpu.validate().unwrap_err().to_string(),
                "device = \"wgpu\" is not built into this program (build it with `--features wgpu`) (allowed: \"cpu\")"
            );
        }
        let text = toml::to_string(&TrainParams::default()).unwrap();
        assert!(
            text.contains("device = \"cpu\"") && !text.contains("alpha"),
            "{text}"
        );
    }

    #[test]
    fn the_defaults_are_valid_and_ranges_name_the_key() {
        assert_eq!(DataParams::new("c.txt").validate(), Ok(()));
        assert_eq!(ModelParams::default().validate(), Ok(()));
        assert_eq!(TrainParams::default().validate(), Ok(()));
        let m = ModelParams {
            dim: 0,
            ..ModelParams::default()
        };
        assert_eq!(
            m.validate().unwrap_err().to_string(),
            "dim = 0 is out of range (allowed: 1..=10000)"
        );
        let m = ModelParams {
            negative: 0,
            ..ModelParams::default()
        };
        let e = m.validate().unwrap_err().in_section("model").to_string();
        assert!(e.starts_with("model.negative = 0 with hs = false"), "{e}");
        let t = TrainParams {
            alpha: Some(-1.0),
            ..TrainParams::default()
        };
        assert_eq!(
            t.validate().unwrap_err().to_string(),
            "alpha = -1.0 is out of range (allowed: 0 < alpha <= 10)"
        );
        let t = TrainParams {
            log_every_secs: f64::NAN,
            ..TrainParams::default()
        };
        assert!(t.validate().is_err());
    }

    #[test]
    fn alpha_defaults_per_architecture() {
        let t = TrainParams::default();
        assert_eq!(t.alpha_for(Arch::SkipGram), 0.025);
        assert_eq!(t.alpha_for(Arch::Cbow), 0.05);
        let t = TrainParams {
            alpha: Some(0.1),
            ..t
        };
        assert_eq!(t.alpha_for(Arch::Cbow), 0.1);
    }
}
