//! The encoder config (`configs/encoder*.toml`), parsed and range-checked now so configs can be
//! written against the final contract; training arrives with the encoder issue.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::{check, one_of};

/// `configs/encoder*.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Text and sequences.
    pub data: EncData,
    /// Tokenizer training or loading.
    #[serde(default)]
    pub tokenizer: EncTokenizer,
    /// Model shape.
    #[serde(default)]
    pub model: EncModel,
    /// Optimisation and schedule.
    #[serde(default)]
    pub train: EncTrain,
}

/// `[data]` of an encoder config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncData {
    /// Training text.
    pub corpus: PathBuf,
    /// Held-out text; absent = `valid_fraction` of the corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<PathBuf>,
    /// Fraction of the corpus held out when `valid` is absent.
    #[serde(default = "default_valid_fraction")]
    pub valid_fraction: f64,
    /// Tokens per sequence, [CLS] and [SEP] included.
    #[serde(default = "default_seq_len")]
    pub seq_len: usize,
}

fn default_valid_fraction() -> f64 {
    0.01
}
fn default_seq_len() -> usize {
    128
}

/// `[tokenizer]` of an encoder config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncTokenizer {
    /// "wordpiece" or "bpe".
    pub kind: String,
    /// Vocabulary size to train.
    pub vocab_size: usize,
    /// Lowercase before tokenizing.
    pub lowercase: bool,
    /// An existing tokenizer.json to load instead of training one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

impl Default for EncTokenizer {
    fn default() -> Self {
        EncTokenizer {
            kind: "wordpiece".into(),
            vocab_size: 8192,
            lowercase: true,
            path: None,
        }
    }
}

/// `[model]` of an encoder config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncModel {
    /// Encoder layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads (must divide `hidden`).
    pub heads: usize,
    /// Feed-forward inner size.
    pub ffn: usize,
    /// Dropout probability.
    pub dropout: f64,
    /// "post" or "pre" LayerNorm.
    pub norm: String,
    /// "sinusoidal" or "learned".
    pub positions: String,
    /// "scaled" or "bert": how the weights start.
    pub init: String,
    /// A word2vec vectors file to initialise token embeddings from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init_embeddings: Option<PathBuf>,
}

impl Default for EncModel {
    fn default() -> Self {
        EncModel {
            layers: 4,
            hidden: 256,
            heads: 4,
            ffn: 1024,
            dropout: 0.1,
            norm: "post".into(),
            positions: "sinusoidal".into(),
            init: "scaled".into(),
            init_embeddings: None,
        }
    }
}

/// `[train]` of an encoder config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EncTrain {
    /// Sequences per optimizer step (before accumulation).
    pub batch_size: usize,
    /// Optimizer steps.
    pub steps: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// "linear" or "cosine" decay after warmup.
    pub schedule: String,
    /// AdamW weight decay (not applied to biases and LayerNorm weights).
    pub weight_decay: f64,
    /// Clip the global gradient norm to this; 0 = off.
    pub grad_clip: f64,
    /// Micro-batches accumulated per optimizer step.
    pub grad_accum: usize,
    /// Shards each micro-batch is split into and run concurrently, one thread each.
    pub shards: usize,
    /// Fraction of tokens chosen for masking.
    pub mask_prob: f64,
    /// Steps between train-metric logs.
    pub log_every: u64,
    /// Steps between evaluations.
    pub eval_every: u64,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Checkpoints kept.
    pub keep_checkpoints: usize,
    /// Random seed.
    pub seed: u64,
    /// "cpu" or "wgpu".
    pub device: String,
}

impl Default for EncTrain {
    fn default() -> Self {
        EncTrain {
            batch_size: 32,
            steps: 10_000,
            lr: 5e-4,
            warmup_steps: 100,
            schedule: "linear".into(),
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
            device: "cpu".into(),
        }
    }
}

impl EncoderConfig {
    /// Range-checks every value.
    pub fn validate(&self) -> Result<()> {
        let (d, k, m, t) = (&self.data, &self.tokenizer, &self.model, &self.train);
        check(
            "data.seq_len",
            d.seq_len,
            (3..=8192).contains(&d.seq_len),
            "3..=8192 (room for [CLS], one token and [SEP])",
        )?;
        check(
            "data.valid_fraction",
            d.valid_fraction,
            d.valid_fraction > 0.0 && d.valid_fraction < 0.5,
            "0 < fraction < 0.5",
        )?;
        one_of("tokenizer.kind", &k.kind, &["wordpiece", "bpe"])?;
        check(
            "tokenizer.vocab_size",
            k.vocab_size,
            (16..=1_000_000).contains(&k.vocab_size),
            "16..=1000000",
        )?;
        check(
            "model.layers",
            m.layers,
            (1..=64).contains(&m.layers),
            "1..=64",
        )?;
        check(
            "model.hidden",
            m.hidden,
            (1..=16_384).contains(&m.hidden),
            "1..=16384",
        )?;
        check(
            "model.heads",
            m.heads,
            (1..=256).contains(&m.heads),
            "1..=256",
        )?;
        if m.hidden % m.heads != 0 {
            bail!(
                "model.heads = {} does not divide model.hidden = {} (allowed: a divisor of hidden)",
                m.heads,
                m.hidden
            );
        }
        check(
            "model.ffn",
            m.ffn,
            (1..=65_536).contains(&m.ffn),
            "1..=65536",
        )?;
        check(
            "model.dropout",
            m.dropout,
            (0.0..1.0).contains(&m.dropout),
            "0 <= dropout < 1",
        )?;
        one_of("model.norm", &m.norm, &["post", "pre"])?;
        one_of("model.positions", &m.positions, &["sinusoidal", "learned"])?;
        one_of("model.init", &m.init, &["scaled", "bert"])?;
        check(
            "train.batch_size",
            t.batch_size,
            (1..=65_536).contains(&t.batch_size),
            "1..=65536",
        )?;
        check("train.steps", t.steps, t.steps >= 1, ">= 1")?;
        check("train.lr", t.lr, t.lr > 0.0 && t.lr <= 1.0, "0 < lr <= 1")?;
        one_of("train.schedule", &t.schedule, &["linear", "cosine"])?;
        check(
            "train.weight_decay",
            t.weight_decay,
            (0.0..=1.0).contains(&t.weight_decay),
            "0..=1",
        )?;
        check(
            "train.grad_clip",
            t.grad_clip,
            t.grad_clip >= 0.0 && t.grad_clip.is_finite(),
            ">= 0 (0 = off)",
        )?;
        check(
            "train.grad_accum",
            t.grad_accum,
            (1..=1024).contains(&t.grad_accum),
            "1..=1024",
        )?;
        check(
            "train.shards",
            t.shards,
            (1..=1024).contains(&t.shards),
            "1..=1024",
        )?;
        check(
            "train.mask_prob",
            t.mask_prob,
            t.mask_prob > 0.0 && t.mask_prob < 1.0,
            "0 < p < 1",
        )?;
        for (key, v) in [
            ("train.log_every", t.log_every),
            ("train.eval_every", t.eval_every),
            ("train.checkpoint_every", t.checkpoint_every),
        ] {
            check(key, v, v >= 1, ">= 1")?;
        }
        check(
            "train.keep_checkpoints",
            t.keep_checkpoints,
            t.keep_checkpoints >= 1,
            ">= 1",
        )?;
        // "ndarray" exists only in builds with the `ndarray` feature, for the backend benchmark.
        let devices: &[&str] = if cfg!(feature = "ndarray") {
            &["cpu", "wgpu", "ndarray"]
        } else {
            &["cpu", "wgpu"]
        };
        one_of("train.device", &t.device, devices)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::load_str;

    #[test]
    fn encoder_config_checks() {
        let base = "[data]\ncorpus = \"c.txt\"\n";
        let enc = |sets: &[&str]| -> Result<EncoderConfig> {
            let c: EncoderConfig = load_str(base, sets)?;
            c.validate()?;
            Ok(c)
        };
        let c = enc(&[]).unwrap();
        assert_eq!((c.model.layers, c.model.hidden, c.model.heads), (4, 256, 4));
        let e = format!("{:#}", enc(&["model.heads=3"]).unwrap_err());
        assert!(e.contains("model.heads = 3") && e.contains("divide"), "{e}");
        let e = format!("{:#}", enc(&["data.seq_len=2"]).unwrap_err());
        assert!(e.contains("data.seq_len = 2"), "{e}");
        let e = format!("{:#}", enc(&["model.norm=\"mid\""]).unwrap_err());
        assert!(
            e.contains("model.norm = \"mid\"") && e.contains("post, pre"),
            "{e}"
        );
        let e = format!("{:#}", enc(&["train.lrr=1"]).unwrap_err());
        assert!(e.contains("train.lrr"), "{e}");
    }
}
