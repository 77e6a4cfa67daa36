//! `train encoder`: config → run folder → tokenizer → cached token stream → packed sequences →
//! MLM pretraining with TensorBoard logging and checkpoints → `model.bpk`; `--resume` continues a
//! run folder from its newest checkpoint.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use encoder::{
    Checkpoint, EvalReport, Init, MaskingConfig, MlmModel, ModelShape, NormPlacement,
    PretrainObserver, PretrainParams, Schedule, StepReport, TokenizerKind, TokenizerSpec,
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

/// Config keys that may change when a run is resumed: they do not change what the steps already
/// taken mean (`train.steps` moves the end of the learning-rate schedule, to train further).
const RESUMABLE_CHANGES: [&str; 6] = [
    "train.steps",
    "train.log_every",
    "train.eval_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.device",
];

/// Runs `train encoder` with a validated config: a new run, or with `resume` the run in `out`
/// continued from its newest checkpoint.
pub fn run(config_path: &Path, sets: &[String], out: Option<&Path>, resume: bool) -> Result<()> {
    let cfg: EncoderConfig = crate::config::load(config_path, sets)?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    let resume_from = match (resume, out) {
        (false, _) => None,
        (true, None) => bail!("--resume needs --out DIR, the run folder to continue"),
        (true, Some(dir)) => Some(resume_point(dir, &cfg)?),
    };
    word2vec::check_corpus_path(&cfg.data.corpus).context("data.corpus")?;
    if let Some(valid) = &cfg.data.valid {
        word2vec::check_corpus_path(valid).context("data.valid")?;
    }
    // Word vectors to start the token embeddings from, read (and checked) before any work.
    let init_vectors = match &cfg.model.init_embeddings {
        Some(_) if resume_from.is_some() => None, // the weights come from the checkpoint
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
    let dir = match (&resume_from, out) {
        (Some(_), Some(dir)) => dir.to_path_buf(),
        _ => run_dir::create(out, config_path)?,
    };
    let start_step = resume_from.as_ref().map_or(0, |r| r.0);
    let config_text = run_dir::write_config(&dir, &cfg)?;
    let mut tb = EventWriter::create(&dir).context("creating the TensorBoard event file")?;
    tb.text("config", start_step, &format!("```toml\n{config_text}```"))?;
    match &resume_from {
        Some((step, path)) => eprintln!(
            "run folder: {}, resuming from {} (step {step})",
            dir.display(),
            path.display()
        ),
        None => eprintln!("run folder: {}", dir.display()),
    }

    let tokenizer_path = dir.join("tokenizer.json");
    let (tokenizer, special) = match &cfg.tokenizer.path {
        _ if resume_from.is_some() => {
            encoder::load_tokenizer(&tokenizer_path).context("loading the run's tokenizer")?
        }
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
    let device = compute_device(&t.device)?;
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
        shards: t.shards,
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
        checkpoint_every: t.checkpoint_every,
    };
    let device = device.autodiff();
    let (mut model, resume) = match &resume_from {
        Some((_, path)) => {
            let loaded = encoder::checkpoint::load(path, &shape, t.weight_decay, &device)
                .context("--resume")?;
            if loaded.progress.order.len() != train.len() {
                bail!(
                    "--resume: {} now gives {} training sequences, but the checkpoint was made with {}; the data changed",
                    cfg.data.corpus.display(),
                    train.len(),
                    loaded.progress.order.len()
                );
            }
            let resume = encoder::Resume {
                optimizer: loaded.optimizer,
                progress: loaded.progress,
            };
            (loaded.model, Some(resume))
        }
        None => {
            device.seed(t.seed);
            (MlmModel::new(&shape, &device), None)
        }
    };
    if let Some(vectors) = &init_vectors {
        let rows = token_vectors(&tokenizer.get_vocab(true), vectors);
        eprintln!(
            "model.init_embeddings: {} of {} tokens initialised from word vectors",
            rows.len(),
            vocab_size
        );
        model = model.with_token_vectors(&rows);
    }
    // Ctrl-C asks the loop to stop after the current step; the observer then saves a checkpoint.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not save a checkpoint ({e})");
    }
    let mut observer = Observer {
        tb: &mut tb,
        display: Display::new(t.steps, "tokens"),
        log_every: t.log_every,
        last: Instant::now(),
        step_end: Instant::now(),
        paused: Duration::ZERO,
        tokens: 0,
        checkpoints: dir.join("checkpoints"),
        keep_checkpoints: t.keep_checkpoints,
        error: None,
        checkpoint_error: None,
        interrupted,
        last_checkpoint: None,
    };
    let trained = encoder::pretrain(
        model,
        resume,
        &train,
        &valid,
        &special,
        &masking,
        &params,
        &mut observer,
    );
    observer.display.finish();
    let log_error = observer.error.take();
    if let Some(e) = observer.checkpoint_error.take() {
        return Err(e);
    }
    if !trained.finished {
        match observer.last_checkpoint {
            Some(path) if observer.interrupted.load(Ordering::SeqCst) => bail!(
                "interrupted; {} holds the run: continue it with the same command and --out {} --resume",
                path.display(),
                dir.display()
            ),
            _ => bail!("training stopped before train.steps = {}", t.steps),
        }
    }
    let model = trained.model;

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

/// The newest complete checkpoint of the run folder `dir` (step, folder), after checking that
/// `cfg` differs from the run's `config.toml` only in [`RESUMABLE_CHANGES`] and that the run has
/// steps left to take.
fn resume_point(dir: &Path, cfg: &EncoderConfig) -> Result<(u64, PathBuf)> {
    let config_path = dir.join("config.toml");
    if !config_path.exists() {
        bail!(
            "--resume: {} holds no run ({} is missing)",
            dir.display(),
            config_path.display()
        );
    }
    let old: EncoderConfig = crate::config::load(&config_path, &[])?;
    let (old, new) = (flatten(&old)?, flatten(cfg)?);
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| !RESUMABLE_CHANGES.contains(&k.as_str()) && old.get(*k) != new.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or_else(|| "absent".to_string(), Clone::clone);
            format!("{k} ({} -> {})", show(old.get(k)), show(new.get(k)))
        })
        .collect();
    if !changed.is_empty() {
        bail!(
            "--resume: the config differs from {} in {}; only {} may change when resuming",
            config_path.display(),
            changed.join(", "),
            RESUMABLE_CHANGES.join(", ")
        );
    }
    let checkpoints = dir.join("checkpoints");
    let Some((step, path)) = encoder::checkpoint::latest(&checkpoints).context("--resume")? else {
        bail!(
            "--resume: no complete checkpoint in {}",
            checkpoints.display()
        );
    };
    encoder::checkpoint::verify(&path).context("--resume")?;
    if step >= cfg.train.steps {
        bail!(
            "--resume: the newest checkpoint is at step {step}, and train.steps = {}; raise train.steps to train further",
            cfg.train.steps
        );
    }
    Ok((step, path))
}

/// A config as `dotted.key -> TOML value` pairs, to compare two of them key by key.
fn flatten(cfg: &EncoderConfig) -> Result<std::collections::BTreeMap<String, String>> {
    fn walk(
        prefix: &str,
        value: &toml::Value,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        match value {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            v => {
                out.insert(prefix.to_string(), v.to_string());
            }
        }
    }
    let value = toml::Value::try_from(cfg).context("serialising the config")?;
    let mut out = std::collections::BTreeMap::new();
    walk("", &value, &mut out);
    Ok(out)
}

/// The burn device `train.device` names.
fn compute_device(name: &str) -> Result<encoder::Device> {
    match name {
        "cpu" => Ok(encoder::cpu_device()),
        #[cfg(feature = "ndarray")]
        "ndarray" => Ok(encoder::ndarray_device()),
        other => bail!("train.device = {other:?}: only \"cpu\" is built yet"),
    }
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
pub(crate) fn shape_of(cfg: &EncoderConfig, vocab_size: usize) -> ModelShape {
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
        init: if m.init == "bert" {
            Init::Bert
        } else {
            Init::Scaled
        },
    }
}

/// Logs the run to the terminal and TensorBoard and writes its checkpoints.
struct Observer<'a> {
    tb: &'a mut EventWriter,
    display: Display,
    log_every: u64,
    /// When the current logging interval started.
    last: Instant,
    /// When the last step ended.
    step_end: Instant,
    /// Time spent since `last` on evaluations and checkpoints, not training.
    paused: Duration,
    /// Tokens trained on since `last`.
    tokens: usize,
    checkpoints: PathBuf,
    keep_checkpoints: usize,
    /// The first TensorBoard error: reported at the end, as it does not stop training.
    error: Option<anyhow::Error>,
    /// A checkpoint that could not be written: stops training.
    checkpoint_error: Option<anyhow::Error>,
    /// Set by Ctrl-C: stop after the current step.
    interrupted: Arc<AtomicBool>,
    /// The newest checkpoint written.
    last_checkpoint: Option<PathBuf>,
}

impl Observer<'_> {
    fn keep(&mut self, r: std::io::Result<()>) {
        if let (Err(e), None) = (r, &self.error) {
            self.error = Some(e.into());
        }
    }

    /// Logs the interval that ends with step `r` (train/loss, train/lr, train/grad_norm and
    /// train/tokens_per_sec) and starts the next one.
    fn log_step(&mut self, r: &StepReport) {
        let training = self.last.elapsed().saturating_sub(self.paused);
        let rate = self.tokens as f64 / training.as_secs_f64().max(1e-9);
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
        self.paused = Duration::ZERO;
        self.last = Instant::now();
        self.step_end = self.last;
    }

    /// Counts the time since the last step (or pause) as not training, so tokens/s measures
    /// training alone.
    fn pause_since_step(&mut self) {
        self.paused += self.step_end.elapsed();
        self.step_end = Instant::now();
    }
}

impl PretrainObserver for Observer<'_> {
    fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
        self.step_end = Instant::now();
        self.tokens += r.tokens;
        if r.step.is_multiple_of(self.log_every) {
            self.log_step(r);
        }
        if self.interrupted.load(Ordering::SeqCst) {
            self.display.println(&format!(
                "interrupted after step {}: saving a checkpoint",
                r.step
            ));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    fn eval(&mut self, r: &EvalReport, model: &MlmModel) {
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
            .and_then(|_| {
                // Weight histograms "now and then": at every evaluation.
                model
                    .parameter_values()
                    .iter()
                    .try_for_each(|(name, values)| {
                        tb.histogram(&format!("weights/{name}"), r.step, values)
                    })
            })
            .and_then(|_| tb.flush());
        self.keep(result);
        self.pause_since_step();
    }

    fn checkpoint(&mut self, c: &Checkpoint<'_>) -> ControlFlow<()> {
        let saved = encoder::checkpoint::save(&self.checkpoints, c, self.keep_checkpoints);
        self.pause_since_step();
        match saved {
            Ok(path) => {
                self.last_checkpoint = Some(path);
                ControlFlow::Continue(())
            }
            Err(e) => {
                self.checkpoint_error = Some(anyhow::Error::new(e).context("writing a checkpoint"));
                ControlFlow::Break(())
            }
        }
    }
}
