//! The Word2Vec config (`configs/word2vec*.toml`).

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use super::check;

/// Which Word2Vec architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Context words predict the centre word one by one.
    Skipgram,
    /// The averaged context predicts the centre word.
    Cbow,
}

/// `configs/word2vec*.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word2VecConfig {
    /// The corpus and vocabulary.
    pub data: W2vData,
    /// The model.
    #[serde(default)]
    pub model: W2vModel,
    /// The optimisation.
    #[serde(default)]
    pub train: W2vTrain,
    /// What to write.
    #[serde(default)]
    pub output: W2vOutput,
    /// Evaluations after each epoch.
    #[serde(default)]
    pub eval: W2vEval,
}

/// `[data]` of a Word2Vec config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct W2vData {
    /// A .txt or .gz corpus, one sentence or paragraph per line.
    pub corpus: PathBuf,
    /// Lowercase while reading.
    #[serde(default)]
    pub lowercase: bool,
    /// Drop words seen fewer times.
    #[serde(default = "default_min_count")]
    pub min_count: u64,
    /// Keep at most this many words (0 = no limit).
    #[serde(default)]
    pub max_vocab: usize,
}

fn default_min_count() -> u64 {
    5
}

/// `[model]` of a Word2Vec config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct W2vModel {
    /// "skipgram" or "cbow".
    pub arch: Arch,
    /// Vector size.
    pub dim: usize,
    /// Maximum window on each side.
    pub window: usize,
    /// Negative samples per positive; 0 = none.
    pub negative: usize,
    /// Hierarchical softmax.
    pub hs: bool,
    /// Average (true) or sum the CBOW context.
    pub cbow_mean: bool,
    /// Skip-gram: share one draw of negatives across a centre word's window (faster; false is
    /// word2vec.c's exact sampling).
    pub share_negatives: bool,
    /// Input vectors start uniform in ±init_scale/dim (gensim 1.0, word2vec.c 0.5).
    pub init_scale: f64,
}

impl Default for W2vModel {
    /// The library's defaults (word2vec.c's, except shared negatives and init_scale 1.0).
    fn default() -> Self {
        let p = word2vec::TrainParams::default();
        W2vModel {
            arch: Arch::Skipgram,
            dim: p.dim,
            window: p.window,
            negative: p.negative,
            hs: p.hs,
            cbow_mean: p.cbow_mean,
            share_negatives: p.share_negatives,
            init_scale: p.init_scale,
        }
    }
}

/// `[train]` of a Word2Vec config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct W2vTrain {
    /// Passes over the corpus.
    pub epochs: usize,
    /// Starting learning rate; absent = 0.025 for skip-gram, 0.05 for CBOW.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Subsampling threshold; 0 = off.
    pub sample: f64,
    /// Worker threads; 0 = all cores.
    pub threads: usize,
    /// Random seed.
    pub seed: u64,
    /// "cpu": Hogwild threads.
    pub backend: String,
    /// Seconds between progress reports (log line, TensorBoard scalars).
    pub log_every_secs: f64,
}

impl Default for W2vTrain {
    /// The library's defaults; `alpha` is filled per architecture by `validate`.
    fn default() -> Self {
        let p = word2vec::TrainParams::default();
        W2vTrain {
            epochs: p.epochs,
            alpha: None,
            sample: p.sample,
            threads: p.threads,
            seed: p.seed,
            backend: "cpu".into(),
            log_every_secs: 2.0,
        }
    }
}

/// `[output]` of a Word2Vec config.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct W2vOutput {
    /// Write vectors.bin (word2vec binary format).
    pub binary: bool,
    /// Write vectors.txt (word2vec text format).
    pub text: bool,
    /// Words (most frequent first) exported to TensorBoard's Embedding Projector; 0 = none.
    pub projector_words: usize,
}

impl Default for W2vOutput {
    fn default() -> Self {
        W2vOutput {
            binary: true,
            text: false,
            projector_words: 10_000,
        }
    }
}

/// `[eval]` of a Word2Vec config: sets evaluated after every epoch and logged to TensorBoard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct W2vEval {
    /// questions-words analogy files.
    pub analogy: Vec<PathBuf>,
    /// Word-pair similarity files.
    pub similarity: Vec<PathBuf>,
    /// Analogy questions are restricted to this many most frequent words.
    pub restrict: usize,
}

impl Default for W2vEval {
    fn default() -> Self {
        W2vEval {
            analogy: Vec::new(),
            similarity: Vec::new(),
            restrict: 30_000,
        }
    }
}

impl Word2VecConfig {
    /// Range-checks every value and fills the architecture-dependent default of `train.alpha`.
    pub fn validate(&mut self) -> Result<()> {
        let m = &self.model;
        let t = &self.train;
        check(
            "data.min_count",
            self.data.min_count,
            self.data.min_count >= 1,
            ">= 1",
        )?;
        check(
            "model.dim",
            m.dim,
            (1..=10_000).contains(&m.dim),
            "1..=10000",
        )?;
        check(
            "model.window",
            m.window,
            (1..=1000).contains(&m.window),
            "1..=1000",
        )?;
        check("model.negative", m.negative, m.negative <= 1000, "0..=1000")?;
        check(
            "model.init_scale",
            m.init_scale,
            m.init_scale > 0.0 && m.init_scale <= 10.0,
            "0 < init_scale <= 10",
        )?;
        if m.negative == 0 && !m.hs {
            bail!(
                "model.negative = 0 with model.hs = false leaves nothing to train (allowed: negative >= 1 or hs = true)"
            );
        }
        check(
            "train.epochs",
            t.epochs,
            (1..=10_000).contains(&t.epochs),
            "1..=10000",
        )?;
        let alpha = t.alpha.unwrap_or(match m.arch {
            Arch::Skipgram => 0.025,
            Arch::Cbow => 0.05,
        });
        check(
            "train.alpha",
            alpha,
            alpha > 0.0 && alpha <= 10.0,
            "0 < alpha <= 10",
        )?;
        check(
            "train.sample",
            t.sample,
            (0.0..1.0).contains(&t.sample),
            "0 <= sample < 1",
        )?;
        check(
            "train.threads",
            t.threads,
            t.threads <= 1024,
            "0..=1024 (0 = all cores)",
        )?;
        check(
            "train.log_every_secs",
            t.log_every_secs,
            t.log_every_secs >= 0.05 && t.log_every_secs <= 86_400.0,
            "0.05..=86400",
        )?;
        if t.backend != "cpu" {
            bail!(
                "train.backend = {:?} is not available (allowed: \"cpu\"; the batched \"wgpu\" and \"cpu-tensor\" backends are not built yet)",
                t.backend
            );
        }
        if !self.output.binary && !self.output.text {
            bail!(
                "output.binary = false and output.text = false would write no vectors (allowed: at least one true)"
            );
        }
        check(
            "eval.restrict",
            self.eval.restrict,
            self.eval.restrict >= 1,
            ">= 1",
        )?;
        self.train.alpha = Some(alpha);
        Ok(())
    }

    /// The library's parameters for this config (after [`validate`](Self::validate)).
    pub fn params(&self) -> word2vec::TrainParams {
        word2vec::TrainParams {
            arch: match self.model.arch {
                Arch::Skipgram => word2vec::Arch::SkipGram,
                Arch::Cbow => word2vec::Arch::Cbow,
            },
            dim: self.model.dim,
            window: self.model.window,
            negative: self.model.negative,
            hs: self.model.hs,
            cbow_mean: self.model.cbow_mean,
            epochs: self.train.epochs,
            alpha: self.train.alpha.unwrap_or(0.025),
            sample: self.train.sample,
            share_negatives: self.model.share_negatives,
            init_scale: self.model.init_scale,
            threads: self.train.threads,
            seed: self.train.seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::config::tests::load_str;
    use std::path::Path;

    const GOOD: &str = "[data]\ncorpus = \"c.txt\"\n[model]\narch = \"cbow\"\ndim = 50\n";

    fn w2v(text: &str, sets: &[&str]) -> Result<Word2VecConfig> {
        let mut c: Word2VecConfig = load_str(text, sets)?;
        c.validate()?;
        Ok(c)
    }

    fn err(text: &str, sets: &[&str]) -> String {
        let e = format!("{:#}", w2v(text, sets).unwrap_err());
        assert!(!e.contains('\n'), "multi-line error: {e}");
        e
    }

    #[test]
    fn defaults_and_arch_dependent_alpha() {
        let c = w2v(GOOD, &[]).unwrap();
        assert_eq!(c.model.dim, 50);
        assert_eq!(c.model.window, 5);
        assert_eq!(c.train.alpha, Some(0.05));
        assert_eq!(c.data.min_count, 5);
        let c = w2v(GOOD, &["model.arch=\"skipgram\""]).unwrap();
        assert_eq!(c.train.alpha, Some(0.025));
    }

    #[test]
    fn set_overrides_by_dotted_key_with_toml_values() {
        let c = w2v(
            GOOD,
            &[
                "model.dim=300",
                "train.alpha=0.1",
                "model.arch=skipgram",
                "eval.analogy=[\"q.txt\"]",
                "data.lowercase=true",
            ],
        )
        .unwrap();
        assert_eq!(c.model.dim, 300);
        assert_eq!(c.train.alpha, Some(0.1));
        assert_eq!(c.model.arch, Arch::Skipgram);
        assert_eq!(c.eval.analogy, vec![PathBuf::from("q.txt")]);
        assert!(c.data.lowercase);
    }

    #[test]
    fn rejections_name_file_key_value_and_allowed() {
        let e = err(GOOD, &["model.dimm=3"]);
        assert!(
            e.contains("cfg.toml") && e.contains("model.dimm") && e.contains("unknown field"),
            "{e}"
        );
        let e = err(GOOD, &["model.dim=\"big\""]);
        assert!(e.contains("model.dim") && e.contains("invalid type"), "{e}");
        let e = err(GOOD, &["model.dim=0"]);
        assert!(
            e.contains("model.dim = 0") && e.contains("1..=10000"),
            "{e}"
        );
        let e = err(GOOD, &["model.init_scale=0.0"]);
        assert!(
            e.contains("model.init_scale = 0.0") && e.contains("0 < init_scale"),
            "{e}"
        );
        let e = err(GOOD, &["train.sample=1.5"]);
        assert!(e.contains("train.sample = 1.5"), "{e}");
        let e = err(GOOD, &["model.negative=0"]);
        assert!(e.contains("model.negative = 0"), "{e}");
        let e = err(GOOD, &["train.backend=\"wgpu\""]);
        assert!(e.contains("train.backend"), "{e}");
        let e = err(GOOD, &["output.binary=false"]);
        assert!(e.contains("output.binary"), "{e}");
        let e = err("[model]\ndim = 5\n", &[]);
        assert!(e.contains("missing field `data`"), "{e}");
        let e = err("[data]\ncorpus = \"x\"\n[bogus]\na = 1\n", &[]);
        assert!(e.contains("bogus"), "{e}");
        let e = err("[data]\ncorpus = \n", &[]);
        assert!(e.contains("invalid TOML at line 2"), "{e}");
        let e = err(GOOD, &["model"]);
        assert!(e.contains("--set model") && e.contains("KEY=VALUE"), "{e}");
        let e = err(GOOD, &["model.dim.x=1"]);
        assert!(e.contains("model.dim") && e.contains("not a table"), "{e}");
        let e = format!(
            "{:#}",
            load::<Word2VecConfig>(Path::new("/nonexistent/c.toml"), &[]).unwrap_err()
        );
        assert!(e.contains("/nonexistent/c.toml"), "{e}");
    }
}
