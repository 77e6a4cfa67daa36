//! The encoder's config (`configs/encoder*.toml`), typed: one struct per TOML section, an enum for
//! every choice, one `Default` per section as the single source of each default, and
//! `validate()` with one line per range check. The binary reads the TOML into [`Config`] and
//! hands the sections to the library as they are.

use std::path::PathBuf;

use common::{InvalidParam, check};
use serde::{Deserialize, Serialize};

/// The whole encoder config: `[data]`, `[tokenizer]`, `[model]`, `[train]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Text and sequences.
    pub data: DataConfig,
    /// Tokenizer training or loading.
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
    /// Model shape and initialisation.
    #[serde(default)]
    pub model: ModelConfig,
    /// Optimisation, schedule, logging and checkpoints.
    #[serde(default)]
    pub train: TrainConfig,
}

/// `[data]`: the training text, the held-out text and the sequence length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Training text (`.txt` or `.gz`).
    pub corpus: PathBuf,
    /// Held-out text; absent = `valid_fraction` of the corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<PathBuf>,
    /// Fraction of the corpus's sequences held out when `valid` is absent.
    #[serde(default = "default_valid_fraction")]
    pub valid_fraction: f64,
    /// Tokens per sequence, `[CLS]` and `[SEP]` included.
    #[serde(default = "default_seq_len")]
    pub seq_len: usize,
}

fn default_valid_fraction() -> f64 {
    0.01
}

fn default_seq_len() -> usize {
    128
}

/// `[tokenizer]`: train a WordPiece or BPE tokenizer on the corpus, or load one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizerConfig {
    /// WordPiece (BERT) or BPE.
    pub kind: TokenizerKind,
    /// Vocabulary size to train.
    pub vocab_size: usize,
    /// Lowercase before tokenizing.
    pub lowercase: bool,
    /// An existing `tokenizer.json` to load instead of training one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            kind: TokenizerKind::WordPiece,
            vocab_size: 8192,
            lowercase: true,
            path: None,
        }
    }
}

/// `[model]`: the encoder's shape (its vocabulary and longest sequence come from the tokenizer
/// and `data.seq_len`, see [`crate::ModelShape`]) and how its weights start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Encoder layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Feed-forward inner size.
    pub ffn: usize,
    /// Dropout probability (embeddings, attention, residuals).
    pub dropout: f64,
    /// LayerNorm after each sub-layer (BERT) or before it.
    pub norm: NormPlacement,
    /// Sinusoidal (original Transformer) or learned (BERT) positions.
    pub positions: Positions,
    /// How the weights start.
    pub init: Init,
    /// A word2vec vectors file to start whole-word token embeddings from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_embeddings: Option<PathBuf>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            layers: 4,
            hidden: 256,
            heads: 4,
            ffn: 1024,
            dropout: 0.1,
            norm: NormPlacement::Post,
            positions: Positions::Sinusoidal,
            init: Init::Scaled,
            init_embeddings: None,
        }
    }
}

/// The device the encoder trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// burn's pure-Rust `flex` CPU backend.
    Cpu,
    /// burn's deprecated `ndarray` CPU backend, only in builds with the `ndarray` feature, to
    /// measure it against flex.
    #[cfg(feature = "ndarray")]
    Ndarray,
    /// burn's wgpu backend (Vulkan, Metal, DirectX or OpenGL, whichever the adapter offers),
    /// with kernel fusion and autotuning, in f32.
    #[cfg(feature = "wgpu")]
    Wgpu,
}

/// `[train]`: optimisation, schedule, logging, evaluation and checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Sequences per micro-batch.
    pub batch_size: usize,
    /// Optimizer steps.
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// Decay after warmup.
    pub schedule: Schedule,
    /// AdamW weight decay (not on biases and LayerNorm parameters).
    pub weight_decay: f64,
    /// Clip the global gradient norm to this; 0 = off.
    pub grad_clip: f64,
    /// Micro-batches whose gradients make one optimizer step.
    pub grad_accum: usize,
    /// Row ranges each micro-batch is split into and run concurrently, one thread each (at most
    /// one a sequence); each draws its own dropout masks, so changing it changes the run.
    pub shards: usize,
    /// Fraction of tokens chosen for masking (80% `[MASK]`, 10% random, 10% kept).
    pub mask_prob: f64,
    /// Steps between training logs (for the caller's logger).
    pub log_every: u64,
    /// Steps between evaluations (and one at the last step).
    pub eval_every: u64,
    /// Steps between checkpoints (and one at the last step).
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    pub keep_checkpoints: usize,
    /// Seed of the initial weights, batch order, masks and dropout.
    pub seed: u64,
    /// Where to train.
    pub device: DeviceKind,
    /// A step whose loss or gradient norm is NaN or infinite is skipped (no update; counted in
    /// TensorBoard's `train/skipped_steps`) instead of stopping the run with an error.
    pub skip_nonfinite: bool,
    /// Test hook, not a setting: the loss of this step is multiplied by NaN before the
    /// backward pass, so the tests can show what a numerical fault does.
    #[doc(hidden)]
    #[serde(skip)]
    pub poison_step: Option<u64>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            batch_size: 32,
            steps: 10_000,
            lr: 5e-4,
            warmup_steps: 100,
            schedule: Schedule::Linear,
            weight_decay: 0.01,
            grad_clip: 1.0,
            grad_accum: 1,
            shards: 2,
            mask_prob: 0.15,
            log_every: 10,
            eval_every: 500,
            checkpoint_every: 1000,
            keep_checkpoints: 3,
            seed: 1,
            device: DeviceKind::Cpu,
            skip_nonfinite: false,
            poison_step: None,
        }
    }
}

/// Which subword model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// BERT's WordPiece: continuation pieces start with `##`.
    WordPiece,
    /// Byte-pair encoding with an end-of-word marker.
    Bpe,
}

/// Where the LayerNorm of each sub-layer sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormPlacement {
    /// `x = norm(x + sublayer(x))`: the original Transformer and BERT.
    Post,
    /// `x = x + sublayer(norm(x))`.
    Pre,
}

/// Sinusoidal or learned positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Positions {
    /// The fixed encoding of "Attention Is All You Need" (any sequence length).
    Sinusoidal,
    /// One learned vector per position up to `max_len`, as BERT.
    Learned,
}

/// How a model's weights start. The two differ in scale (and so in how fast the first steps
/// learn), not in what the model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// Token embeddings N(0, 1/hidden), scaled by sqrt(hidden) on the way in (as the original
    /// Transformer does), so they match the positions' unit scale while the tied output scores
    /// start near N(0, 1); burn's defaults elsewhere (Kaiming-uniform linear layers, N(0, 1)
    /// learned positions); LayerNorm epsilon 1e-5.
    Scaled,
    /// As BERT (and HF `BertForMaskedLM`): every weight matrix and embedding N(0, 0.02), every
    /// bias 0, token embeddings used as they are, LayerNorm epsilon 1e-12. For comparisons with
    /// BERT implementations, with learned positions as BERT's: the sinusoidal encoding's rows
    /// are about 35 times longer than these token rows and would drown them.
    Bert,
}

/// How the learning rate falls after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Straight line from the peak to 0 at the last step.
    Linear,
    /// Half a cosine from the peak to 0 at the last step.
    Cosine,
}

/// Config keys that may change when a run is resumed: they do not change what the steps
/// already taken mean (`train.steps` moves the end of the learning-rate schedule, to train
/// further).
pub const RESUMABLE_CHANGES: [&str; 8] = [
    "train.steps",
    "train.lr",
    "train.log_every",
    "train.eval_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.device",
    "train.skip_nonfinite",
];

impl Config {
    /// Range-checks every section; the error names the dotted key.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        self.data.validate().map_err(|e| e.in_section("data"))?;
        self.tokenizer
            .validate()
            .map_err(|e| e.in_section("tokenizer"))?;
        self.model.validate().map_err(|e| e.in_section("model"))?;
        self.train.validate().map_err(|e| e.in_section("train"))
    }

    /// The keys whose values differ between `self` and `other`, other than
    /// [`RESUMABLE_CHANGES`], each as `key (old -> new)`: what a resumed run refuses.
    pub fn unresumable_changes(&self, other: &Config) -> Vec<String> {
        common::changed_keys(self, other, &RESUMABLE_CHANGES)
    }
}

impl DataConfig {
    /// Range-checks `[data]`.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let (seq, fraction) = (self.seq_len, self.valid_fraction);
        check(
            "seq_len",
            seq,
            (3..=8192).contains(&seq),
            "3..=8192 (room for [CLS], one token and [SEP])",
        )?;
        check(
            "valid_fraction",
            fraction,
            fraction > 0.0 && fraction < 0.5,
            "0 < fraction < 0.5",
        )
    }
}

impl TokenizerConfig {
    /// Range-checks `[tokenizer]`.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let v = self.vocab_size;
        check(
            "vocab_size",
            v,
            (16..=1_000_000).contains(&v),
            "16..=1000000",
        )
    }
}

impl ModelConfig {
    /// Range-checks `[model]`.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        check(
            "layers",
            self.layers,
            (1..=64).contains(&self.layers),
            "1..=64",
        )?;
        check(
            "hidden",
            self.hidden,
            (1..=16_384).contains(&self.hidden),
            "1..=16384",
        )?;
        check(
            "heads",
            self.heads,
            (1..=256).contains(&self.heads),
            "1..=256",
        )?;
        if !self.hidden.is_multiple_of(self.heads) {
            let problem = format!("does not divide model.hidden = {}", self.hidden);
            return Err(InvalidParam::new(
                "heads",
                self.heads,
                &problem,
                "a divisor of hidden",
            ));
        }
        check(
            "ffn",
            self.ffn,
            (1..=65_536).contains(&self.ffn),
            "1..=65536",
        )?;
        check(
            "dropout",
            self.dropout,
            (0.0..1.0).contains(&self.dropout),
            "0 <= dropout < 1",
        )
    }
}

impl TrainConfig {
    /// Range-checks `[train]`.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let t = self;
        check(
            "batch_size",
            t.batch_size,
            (1..=65_536).contains(&t.batch_size),
            "1..=65536",
        )?;
        check("steps", t.steps, t.steps >= 1, ">= 1")?;
        check("lr", t.lr, t.lr > 0.0 && t.lr <= 1.0, "0 < lr <= 1")?;
        check(
            "weight_decay",
            t.weight_decay,
            (0.0..=1.0).contains(&t.weight_decay),
            "0..=1",
        )?;
        let clip = t.grad_clip;
        check(
            "grad_clip",
            clip,
            clip >= 0.0 && clip.is_finite(),
            ">= 0 (0 = off)",
        )?;
        check(
            "grad_accum",
            t.grad_accum,
            (1..=1024).contains(&t.grad_accum),
            "1..=1024",
        )?;
        check(
            "shards",
            t.shards,
            (1..=1024).contains(&t.shards),
            "1..=1024",
        )?;
        check(
            "mask_prob",
            t.mask_prob,
            t.mask_prob > 0.0 && t.mask_prob < 1.0,
            "0 < p < 1",
        )?;
        check("log_every", t.log_every, t.log_every >= 1, ">= 1")?;
        check("eval_every", t.eval_every, t.eval_every >= 1, ">= 1")?;
        check(
            "checkpoint_every",
            t.checkpoint_every,
            t.checkpoint_every >= 1,
            ">= 1",
        )?;
        check(
            "keep_checkpoints",
            t.keep_checkpoints,
            t.keep_checkpoints >= 1,
            ">= 1",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `train.device` values of this build.
    const DEVICES: &[&str] = &[
        "cpu",
        #[cfg(feature = "ndarray")]
        "ndarray",
        #[cfg(feature = "wgpu")]
        "wgpu",
    ];

    fn parse(text: &str) -> Result<Config, String> {
        let cfg: Config = serde_json::from_str(text).map_err(|e| e.to_string())?;
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    #[test]
    fn absent_sections_and_keys_take_the_one_default_of_each_section() {
        let cfg = parse(r#"{"data": {"corpus": "c.txt"}, "model": {}}"#).unwrap();
        assert_eq!(cfg.tokenizer, TokenizerConfig::default());
        assert_eq!(cfg.model, ModelConfig::default());
        assert_eq!(cfg.train, TrainConfig::default());
        assert_eq!((cfg.data.seq_len, cfg.data.valid_fraction), (128, 0.01));
        let cfg = parse(r#"{"data": {"corpus": "c.txt"}, "model": {"hidden": 64}}"#).unwrap();
        assert_eq!(cfg.model.hidden, 64);
        assert_eq!(cfg.model.layers, ModelConfig::default().layers);
    }

    #[test]
    fn every_choice_is_an_enum_whose_error_lists_the_allowed_values() {
        for (section, key, allowed) in [
            ("tokenizer", "kind", &["wordpiece", "bpe"][..]),
            ("model", "norm", &["post", "pre"]),
            ("model", "positions", &["sinusoidal", "learned"]),
            ("model", "init", &["scaled", "bert"]),
            ("train", "schedule", &["linear", "cosine"]),
            ("train", "device", DEVICES),
        ] {
            for value in allowed {
                let text = format!(
                    r#"{{"data": {{"corpus": "c"}}, "{section}": {{"{key}": "{value}"}}}}"#
                );
                assert!(parse(&text).is_ok(), "{section}.{key} = {value}");
            }
            let text =
                format!(r#"{{"data": {{"corpus": "c"}}, "{section}": {{"{key}": "nope"}}}}"#);
            let e = parse(&text).unwrap_err();
            assert!(e.contains("unknown variant `nope`"), "{e}");
            assert!(allowed.iter().all(|v| e.contains(&format!("`{v}`"))), "{e}");
        }
    }

    #[test]
    fn range_errors_name_the_dotted_key_the_value_and_what_is_allowed() {
        let with = |section: &str, body: &str| {
            parse(&format!(
                r#"{{"data": {{"corpus": "c"}}, "{section}": {{{body}}}}}"#
            ))
            .unwrap_err()
        };
        assert_eq!(
            with("model", r#""heads": 3"#),
            "model.heads = 3 does not divide model.hidden = 256 (allowed: a divisor of hidden)"
        );
        assert_eq!(
            with("train", r#""shards": 0"#),
            "train.shards = 0 is out of range (allowed: 1..=1024)"
        );
        let e = parse(r#"{"data": {"corpus": "c", "seq_len": 2}}"#).unwrap_err();
        assert!(e.starts_with("data.seq_len = 2 is out of range"), "{e}");
        assert!(with("tokenizer", r#""vocab_size": 3"#).starts_with("tokenizer.vocab_size = 3"));
    }

    #[test]
    fn only_the_resumable_keys_may_differ_on_resume() {
        let old = parse(r#"{"data": {"corpus": "c"}}"#).unwrap();
        let mut new = old.clone();
        new.train.steps = 20_000;
        new.train.log_every = 1;
        assert!(old.unresumable_changes(&new).is_empty());
        new.model.norm = NormPlacement::Pre;
        new.data.valid = Some("v.txt".into());
        assert_eq!(
            old.unresumable_changes(&new),
            [
                "data.valid (absent -> \"v.txt\")",
                "model.norm (\"post\" -> \"pre\")"
            ]
        );
    }
}
