//! `train encoder`: config → run folder → tokenizer → cached token stream → packed sequences →
//! MLM pretraining with TensorBoard logging → `model.bpk`. Checkpoints and `--resume` are not
//! built yet.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use encoder::{
    EvalReport, MaskingConfig, MlmModel, ModelShape, NormPlacement, PretrainObserver,
    PretrainParams, Schedule, StepReport, TokenizerKind, TokenizerSpec,
};

use crate::config::EncoderConfig;
use crate::progress::Display;
use crate::run as run_dir;
use crate::tensorboard::EventWriter;

/// Where token streams are cached between runs: `$XDG_CACHE_HOME/train/tokens`, else
/// `~/.cache/train/tokens`, else `runs/.cache/tokens`.
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map_or_else(|| PathBuf::from("runs/.cache"), |c| c.join("train"))
        .join("tokens")
}

/// Runs `train encoder` with a validated config.
pub fn run(cfg: EncoderConfig, config_path: &Path, out: Option<&Path>) -> Result<()> {
    word2vec::check_corpus_path(&cfg.data.corpus).context("data.corpus")?;
    if let Some(valid) = &cfg.data.valid {
        word2vec::check_corpus_path(valid).context("data.valid")?;
    }
    // Word vectors to start the token embeddings from, read (and checked) before any work.
    let init_vectors = match &cfg.model.init_embeddings {
        Some(path) => {
            let v = word2vec::Embeddings::read(path).context("model.init_embeddings")?;
            if v.dim() != cfg.model.hidden {
                bail!(
                    "model.init_embeddings: {} has vectors of dimension {}, but model.hidden = {} (they must match)",
                    path.display(),
                    v.dim(),
                    cfg.model.hidden
                );
            }
            Some(v)
        }
        None => None,
    };
    let dir = run_dir::create(out, config_path)?;
    let config_text = run_dir::write_config(&dir, &cfg)?;
    let mut tb = EventWriter::create(&dir).context("creating the TensorBoard event file")?;
    tb.text("config", 0, &format!("```toml\n{config_text}```"))?;
    eprintln!("run folder: {}", dir.display());

    let tokenizer_path = dir.join("tokenizer.json");
    let (tokenizer, special) = match &cfg.tokenizer.path {
        Some(path) => {
            let loaded = encoder::load_tokenizer(path).context("tokenizer.path")?;
            std::fs::copy(path, &tokenizer_path)
                .with_context(|| format!("copying {} into the run folder", path.display()))?;
            loaded
        }
        None => {
            let spec = TokenizerSpec {
                kind: match cfg.tokenizer.kind.as_str() {
                    "bpe" => TokenizerKind::Bpe,
                    _ => TokenizerKind::WordPiece,
                },
                vocab_size: cfg.tokenizer.vocab_size,
                lowercase: cfg.tokenizer.lowercase,
            };
            encoder::train_tokenizer(&cfg.data.corpus, &spec, &tokenizer_path)
                .context("training the tokenizer")?
        }
    };
    let vocab_size = tokenizer.get_vocab_size(true);
    let cache = cache_dir();
    let stream = encoder::token_stream(&cfg.data.corpus, &tokenizer, &special, &cache)
        .context("tokenizing the corpus")?;
    let mut train = encoder::pack(&stream, cfg.data.seq_len, &special, &cfg.data.corpus)?;
    let valid = match &cfg.data.valid {
        Some(path) => {
            let s = encoder::token_stream(path, &tokenizer, &special, &cache)
                .context("tokenizing data.valid")?;
            encoder::pack(&s, cfg.data.seq_len, &special, path)?
        }
        None => {
            let n = ((train.len() as f64 * cfg.data.valid_fraction).ceil() as usize).max(1);
            if train.len() <= n {
                bail!(
                    "{}: {} sequences of {} tokens leave nothing to train on after holding out data.valid_fraction = {}",
                    cfg.data.corpus.display(),
                    train.len(),
                    cfg.data.seq_len,
                    cfg.data.valid_fraction
                );
            }
            train.split_off(train.len() - n)
        }
    };
    eprintln!(
        "tokenizer: {vocab_size} tokens; {} training and {} held-out sequences of {}",
        train.len(),
        valid.len(),
        cfg.data.seq_len
    );

    let t = &cfg.train;
    if t.device != "cpu" {
        bail!("train.device = {:?}: only \"cpu\" is built yet", t.device);
    }
    let shape = shape_of(&cfg, vocab_size);
    let masking = MaskingConfig {
        mask_prob: t.mask_prob,
        mask_id: special.mask,
        first_regular_id: encoder::SPECIAL_TOKENS.len() as u32,
        vocab_size: vocab_size as u32,
    };
    let params = PretrainParams {
        batch_size: t.batch_size,
        grad_accum: t.grad_accum,
        grad_clip: t.grad_clip,
        steps: t.steps,
        lr: t.lr,
        warmup_steps: t.warmup_steps,
        schedule: if t.schedule == "cosine" {
            Schedule::Cosine
        } else {
            Schedule::Linear
        },
        weight_decay: t.weight_decay,
        seed: t.seed,
        eval_every: t.eval_every,
    };
    let device = encoder::cpu_device().autodiff();
    let mut model = MlmModel::new(&shape, &device);
    if let Some(vectors) = &init_vectors {
        let rows = token_vectors(&tokenizer.get_vocab(true), vectors);
        eprintln!(
            "model.init_embeddings: {} of {} tokens initialised from word vectors",
            rows.len(),
            vocab_size
        );
        model = model.with_token_vectors(&rows);
    }
    let mut observer = Observer {
        tb: &mut tb,
        display: Display::new(t.steps, "tokens"),
        log_every: t.log_every,
        last: Instant::now(),
        tokens: 0,
        error: None,
    };
    let model = encoder::pretrain(
        model,
        &train,
        &valid,
        &special,
        &masking,
        &params,
        &mut observer,
    );
    observer.display.finish();
    let log_error = observer.error.take();

    let path = dir.join("model.bpk");
    let temp = dir.join(".model.tmp.bpk");
    model
        .save(&temp)
        .map_err(|e| anyhow!("saving the model: {e}"))?;
    std::fs::rename(&temp, &path).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    if let Some(e) = log_error {
        return Err(e.context("logging to TensorBoard"));
    }
    tb.flush()?;
    Ok(())
}

/// The word vector of every whole-word token of `vocab` found in `vectors` (exactly, else
/// lowercased); WordPiece continuations (`##…`) and special tokens have no word vector, and
/// BPE's end-of-word marker is dropped before the lookup.
fn token_vectors(
    vocab: &std::collections::HashMap<String, u32>,
    vectors: &word2vec::Embeddings,
) -> Vec<(u32, Vec<f32>)> {
    let mut exact = std::collections::HashMap::new();
    let mut lower = std::collections::HashMap::new();
    for (i, w) in vectors.words().iter().enumerate() {
        exact.entry(w.as_str()).or_insert(i);
        lower.entry(w.to_lowercase()).or_insert(i);
    }
    let mut rows: Vec<(u32, Vec<f32>)> = vocab
        .iter()
        .filter(|(token, _)| {
            !token.starts_with("##") && !encoder::SPECIAL_TOKENS.contains(&token.as_str())
        })
        .filter_map(|(token, &id)| {
            let word = token.strip_suffix("</w>").unwrap_or(token);
            exact
                .get(word)
                .copied()
                .or_else(|| lower.get(&word.to_lowercase()).copied())
                .map(|i| (id, vectors.vector(i).to_vec()))
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    rows
}

/// The model shape a config describes, for a tokenizer of `vocab_size` tokens.
fn shape_of(cfg: &EncoderConfig, vocab_size: usize) -> ModelShape {
    let m = &cfg.model;
    ModelShape {
        vocab_size,
        max_len: cfg.data.seq_len,
        layers: m.layers,
        hidden: m.hidden,
        heads: m.heads,
        ffn: m.ffn,
        dropout: m.dropout,
        norm: if m.norm == "pre" {
            NormPlacement::Pre
        } else {
            NormPlacement::Post
        },
        learned_positions: m.positions == "learned",
    }
}

/// `train fill-mask`: the `top` most likely tokens for each `[MASK]` of `text`, with the
/// tokenizer, config and final weights of the encoder run in `run`.
pub fn fill_mask(run: &Path, text: &str, top: usize, json: bool) -> Result<()> {
    if top == 0 {
        bail!("--top 0: allowed is N >= 1");
    }
    let config_path = run.join("config.toml");
    let cfg: EncoderConfig = crate::config::load(&config_path, &[])?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    let (tokenizer, special) = encoder::load_tokenizer(&run.join("tokenizer.json"))
        .context("loading the run's tokenizer")?;
    let model = MlmModel::load(
        &shape_of(&cfg, tokenizer.get_vocab_size(true)),
        &run.join("model.bpk"),
        &encoder::cpu_device(),
    )
    .map_err(|e| anyhow!("loading the model: {e}"))?;
    let encoding = tokenizer
        .encode(text, true)
        .map_err(|e| anyhow!("tokenizing the text: {e}"))?;
    let ids = encoding.get_ids();
    if !ids.contains(&special.mask) {
        bail!("the text has no [MASK] token: {text:?}");
    }
    if ids.len() > cfg.data.seq_len && cfg.model.positions == "learned" {
        bail!(
            "the text is {} tokens with [CLS] and [SEP], longer than the model's data.seq_len = {}",
            ids.len(),
            cfg.data.seq_len
        );
    }
    let found = model.fill_mask(ids, special.mask, top);
    let token = |id: u32| {
        tokenizer
            .id_to_token(id)
            .unwrap_or_else(|| format!("#{id}"))
    };
    let mut out = String::new();
    if json {
        let masks: Vec<serde_json::Value> = found
            .iter()
            .map(|m| {
                serde_json::Value::Array(
                    m.iter()
                        .map(|&(id, score)| serde_json::json!({"token": token(id), "score": score}))
                        .collect(),
                )
            })
            .collect();
        out.push_str(&serde_json::Value::Array(masks).to_string());
        out.push('\n');
    } else {
        for (k, m) in found.iter().enumerate() {
            for &(id, score) in m {
                out.push_str(&format!("[MASK] {}\t{}\t{score:.4}\n", k + 1, token(id)));
            }
        }
    }
    crate::queries::emit(&out)
}

struct Observer<'a> {
    tb: &'a mut EventWriter,
    display: Display,
    log_every: u64,
    last: Instant,
    tokens: usize,
    error: Option<anyhow::Error>,
}

impl Observer<'_> {
    fn keep(&mut self, r: std::io::Result<()>) {
        if let (Err(e), None) = (r, &self.error) {
            self.error = Some(e.into());
        }
    }
}

impl PretrainObserver for Observer<'_> {
    fn step(&mut self, r: &StepReport) {
        self.tokens += r.tokens;
        if !r.step.is_multiple_of(self.log_every) {
            return;
        }
        let rate = self.tokens as f64 / self.last.elapsed().as_secs_f64().max(1e-9);
        self.display
            .update(r.step, rate, Some(r.loss), r.lr, "step");
        let tb = &mut *self.tb;
        let result = tb
            .scalar("train/loss", r.step, r.loss)
            .and_then(|_| tb.scalar("train/lr", r.step, r.lr))
            .and_then(|_| tb.scalar("train/grad_norm", r.step, r.grad_norm))
            .and_then(|_| tb.scalar("train/tokens_per_sec", r.step, rate))
            .and_then(|_| tb.flush());
        self.keep(result);
        self.tokens = 0;
        self.last = Instant::now();
    }

    fn eval(&mut self, r: &EvalReport) {
        self.display.println(&format!(
            "step {}: eval loss {:.4}, perplexity {:.2}, MLM accuracy {:.1}%",
            r.step,
            r.loss,
            r.perplexity,
            100.0 * r.accuracy
        ));
        let tb = &mut *self.tb;
        let result = tb
            .scalar("eval/loss", r.step, r.loss)
            .and_then(|_| tb.scalar("eval/perplexity", r.step, r.perplexity))
            .and_then(|_| tb.scalar("eval/mlm_accuracy", r.step, r.accuracy))
            .and_then(|_| tb.flush());
        self.keep(result);
    }
}
