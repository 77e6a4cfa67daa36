//! The Word2Vec config (`configs/word2vec*.toml`): the library's typed parameters, one per TOML
//! section (`[data]`, `[model]`, `[train]`), plus what only the binary does with a run
//! (`[output]`, `[eval]`). Defaults and ranges live with the library's types; this file adds the
//! section names to their errors and checks the binary's own sections.

use std::path::PathBuf;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use word2vec::{DataParams, ModelParams, TrainParams};

use common::check;

/// `configs/word2vec*.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Word2VecConfig {
    /// The corpus and vocabulary (`corpus` is required).
    pub data: DataParams,
    /// The model.
    #[serde(default)]
    pub model: ModelParams,
    /// The optimisation.
    #[serde(default)]
    pub train: TrainParams,
    /// What to write.
    #[serde(default)]
    pub output: W2vOutput,
    /// Evaluations after each epoch.
    #[serde(default)]
    pub eval: W2vEval,
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

/// The keys a resumed Word2Vec run may change: how long it trains, its learning rate (what a
/// numerical fault calls for), where and how fast (and with how much memory), what it logs and
/// writes; the model, the vocabulary, subsampling and the seed stay.
pub const RESUMABLE_CHANGES: [&str; 16] = [
    "data.cache_mib",
    "train.epochs",
    "train.alpha",
    "train.min_alpha",
    "train.alpha_hold",
    "train.threads",
    "train.device",
    "train.log_every_secs",
    "train.checkpoint_every_words",
    "train.batch_words",
    "output.binary",
    "output.text",
    "output.projector_words",
    "eval.analogy",
    "eval.similarity",
    "eval.restrict",
];

impl Word2VecConfig {
    /// The keys whose values differ between `self` and `other`, other than
    /// [`RESUMABLE_CHANGES`], each as `key (old -> new)`: what a resumed run refuses.
    pub fn unresumable_changes(&self, other: &Word2VecConfig) -> Vec<String> {
        common::changed_keys(self, other, &RESUMABLE_CHANGES)
    }

    /// Range-checks every value (the library's sections through their own `validate`, with the
    /// section prefixed to the key) and writes the architecture's default `train.alpha` into
    /// the config, so the run folder's config.toml says which rate was used.
    pub fn validate(&mut self) -> Result<()> {
        self.data.validate().map_err(|e| e.in_section("data"))?;
        self.model.validate().map_err(|e| e.in_section("model"))?;
        self.train.validate().map_err(|e| e.in_section("train"))?;
        if !self.output.binary && !self.output.text {
            bail!(
                "output.binary = false and output.text = false would write no vectors (allowed: at least one true)"
            );
        }
        let restrict = self.eval.restrict;
        check("eval.restrict", restrict, restrict >= 1, ">= 1")?;
        let alpha = self.train.alpha_for(self.model.arch);
        self.train.alpha = Some(alpha);
        if let Some(min_alpha) = self.train.min_alpha {
            let ok = min_alpha <= alpha;
            check(
                "train.min_alpha",
                min_alpha,
                ok,
                "0 <= min_alpha <= train.alpha",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::config::tests::load_str;
    use std::path::Path;
    use word2vec::{Arch, Device};

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
    fn min_alpha_is_checked_against_the_resolved_alpha() {
        let c = w2v(GOOD, &["train.min_alpha=0.025"]).unwrap();
        assert_eq!(c.train.min_alpha, Some(0.025));
        let e = err(GOOD, &["model.arch=skipgram", "train.min_alpha=0.03"]);
        assert!(
            e.contains(
                "train.min_alpha = 0.03 is out of range (allowed: 0 <= min_alpha <= train.alpha)"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_shipped_word2vec_configs_load_and_validate() {
        let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        for name in ["word2vec.toml", "word2vec-text8.toml"] {
            let mut cfg: Word2VecConfig = load(&configs.join(name), &[]).unwrap();
            cfg.validate().unwrap();
        }
    }

    #[test]
    fn alpha_hold_must_leave_part_of_the_run_to_fall() {
        let c = w2v(GOOD, &["train.alpha_hold=0.25"]).unwrap();
        assert_eq!(c.train.alpha_hold, Some(0.25));
        let e = err(GOOD, &["train.alpha_hold=1.0"]);
        assert!(
            e.contains("train.alpha_hold = 1.0 is out of range (allowed: 0 <= alpha_hold < 1)"),
            "{e}"
        );
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
        assert_eq!(c.model.arch, Arch::SkipGram);
        assert_eq!(c.eval.analogy, vec![PathBuf::from("q.txt")]);
        assert!(c.data.lowercase);
    }

    #[test]
    fn out_of_range_values_name_the_dotted_key_the_value_and_what_is_allowed() {
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
        assert!(
            e.contains("model.negative = 0 with hs = false leaves nothing to train"),
            "{e}"
        );
        let e = err(GOOD, &["train.log_every_secs=0.0"]);
        assert!(
            e.contains("train.log_every_secs = 0.0") && e.contains("0.05..=86400"),
            "{e}"
        );
        let e = err(GOOD, &["data.min_count=0"]);
        assert!(
            e.contains("data.min_count = 0 is out of range (allowed: >= 1)"),
            "{e}"
        );
    }

    #[test]
    fn enums_and_missing_keys_name_the_key_and_what_is_allowed() {
        let e = err("[data]\nmin_count = 1\n", &[]);
        assert!(e.contains("missing field `corpus`"), "{e}");
        let e = err(GOOD, &["train.device=\"tpu\""]);
        assert!(
            e.contains("train.device")
                && e.contains("unknown variant `tpu`, expected `cpu` or `wgpu`"),
            "{e}"
        );
        let e = err(GOOD, &["model.arch=glove"]);
        assert!(
            e.contains("key `model.arch`")
                && e.contains("unknown variant `glove`, expected `skipgram` or `cbow`"),
            "{e}"
        );
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
        let e = err(GOOD, &["output.binary=false"]);
        assert!(e.contains("output.binary"), "{e}");
        let e = err("[model]\ndim = 5\n", &[]);
        assert!(e.contains("missing field `data`"), "{e}");
        let e = err("[data]\ncorpus = \"x\"\n[bogus]\na = 1\n", &[]);
        assert!(e.contains("bogus"), "{e}");
        let e = err("[data]\ncorpus = \n", &[]);
        assert!(e.contains("invalid TOML at line 2"), "{e}");
        let e = err("[data]\ncorpus = \"\u{e9}\u{e9}\" x\n", &[]);
        assert!(e.contains("invalid TOML at line 2, column 17"), "{e}");
        let e = err(&format!("# {}\n", "x".repeat(2 << 20)), &[]);
        assert!(
            e.contains("reading config") && e.contains("larger than"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            load_str::<Word2VecConfig>("[data]\n\u{0}", &[]).unwrap_err()
        );
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

    #[test]
    fn the_sections_are_the_libraries_types_with_their_defaults() {
        let c = w2v("[data]\ncorpus = \"c.txt\"\n[model]\n[train]\n", &[]).unwrap();
        assert_eq!(c.data, word2vec::DataParams::new("c.txt"));
        assert_eq!(c.model, word2vec::ModelParams::default());
        assert_eq!(
            c.train,
            word2vec::TrainParams {
                alpha: Some(0.025),
                ..word2vec::TrainParams::default()
            }
        );
        assert_eq!(c.train.device, Device::Cpu);
    }

    /// config.toml as the binary wrote it before the parameters moved into the library.
    const OLD_RUN_CONFIG: &str = r#"[data]
corpus = "c.txt"
lowercase = false
min_count = 1
max_vocab = 0

[model]
arch = "cbow"
dim = 100
window = 5
negative = 5
hs = false
cbow_mean = true
share_negatives = true
init_scale = 1.0

[train]
epochs = 1
alpha = 0.05
sample = 0.001
threads = 1
seed = 1
device = "cpu"
log_every_secs = 2.0

[output]
binary = true
text = false
projector_words = 10000

[eval]
analogy = []
similarity = []
restrict = 30000
"#;

    #[test]
    fn an_existing_run_config_loads_and_is_written_back_the_same() {
        let c = w2v(OLD_RUN_CONFIG, &[]).unwrap();
        assert_eq!(c.model.arch, Arch::Cbow);
        assert_eq!(c.train.alpha, Some(0.05));
        // Keys added since are written back with their defaults.
        let now = OLD_RUN_CONFIG
            .replace("max_vocab = 0\n", "max_vocab = 0\ncache_mib = 1024\n")
            .replace(
                "log_every_secs = 2.0\n",
                "log_every_secs = 2.0\ncheckpoint_every_words = 100000000\nbatch_words = 4096\n",
            );
        assert_eq!(toml::to_string_pretty(&c).unwrap(), now);
    }
}
