//! The named steps before `train encoder` trains: where to resume from, the inputs checked, the
//! word vectors read, the run folder's log started, the tokenizer and the model built.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use encoder::Tokenizer;
use encoder::{Config, Device, DeviceInfo, MlmModel, ModelShape, Resume, RunDir, SpecialIds};

use crate::tensorboard::EventWriter;

/// Where token streams are cached between runs: `$XDG_CACHE_HOME/train/tokens`, else
/// `~/.cache/train/tokens`, else `runs/.cache/tokens`.
pub fn cache_dir() -> PathBuf {
    common::cache_dir("tokens")
}

/// With `--resume`, the newest complete checkpoint (step, folder) of the run folder `out`, after
/// checking that `cfg` differs from the run's config only where a resumed run may differ and
/// that the run has steps left to take.
pub fn resume_point(
    cfg: &Config,
    out: Option<&Path>,
    resume: bool,
) -> Result<Option<(u64, PathBuf)>> {
    if !resume {
        return Ok(None);
    }
    let (dir, old): (_, Config) = crate::run::resumed_config(out)?;
    let allowed = &encoder::config::RESUMABLE_CHANGES;
    crate::run::refuse_changes(dir, &old.unresumable_changes(cfg), allowed)?;
    let dir = RunDir::new(dir);
    let Some((step, path)) = dir.latest_checkpoint().context("--resume")? else {
        bail!(
            "--resume: no complete checkpoint in {}",
            dir.checkpoints().display()
        );
    };
    if step >= cfg.train.steps {
        bail!(
            "--resume: the newest checkpoint is at step {step}, and train.steps = {}; raise train.steps to train further",
            cfg.train.steps
        );
    }
    Ok(Some((step, path)))
}

/// Fails before anything is made when the corpus or the held-out text is missing.
pub fn check_inputs(cfg: &Config) -> Result<()> {
    word2vec::check_corpus_path(&cfg.data.corpus).context("data.corpus")?;
    if let Some(valid) = &cfg.data.valid {
        word2vec::check_corpus_path(valid).context("data.valid")?;
    }
    Ok(())
}

/// The word vectors `model.init_embeddings` names, read and checked before any work; none when
/// resuming (the weights come from the checkpoint).
pub fn init_vectors(cfg: &Config, resuming: bool) -> Result<Option<word2vec::Embeddings>> {
    let Some(path) = cfg.model.init_embeddings.as_ref().filter(|_| !resuming) else {
        return Ok(None);
    };
    let vectors = word2vec::Embeddings::read(path).context("model.init_embeddings")?;
    if vectors.dim() != cfg.model.hidden {
        bail!(
            "model.init_embeddings: {} has vectors of dimension {}, but model.hidden = {} (they must match)",
            path.display(),
            vectors.dim(),
            cfg.model.hidden
        );
    }
    Ok(Some(vectors))
}

/// Opens `train.device`, before anything is made: a missing GPU is a one-line error.
pub fn open_device(cfg: &Config) -> Result<(Device, DeviceInfo)> {
    let opened = cfg.train.device.open().context("train.device")?;
    eprintln!("device: {}", opened.1);
    Ok(opened)
}

/// Writes the resolved config and the device into the run folder and starts its TensorBoard
/// log with them.
pub fn start_logging(
    run: &RunDir,
    cfg: &Config,
    device: &DeviceInfo,
    step: u64,
) -> Result<EventWriter> {
    let config_text = crate::run::write_config(run.root(), cfg)?;
    run.write_device(device)
        .context("writing the device into the run folder")?;
    let mut tb = EventWriter::create(run.root()).context("creating the TensorBoard event file")?;
    tb.text("config", step, &format!("```toml\n{config_text}```"))?;
    tb.text("device", step, &device.to_string())?;
    Ok(tb)
}

/// Says where the run is, and where it resumes from.
pub fn announce(run: &RunDir, resume_from: Option<&(u64, PathBuf)>) {
    match resume_from {
        Some((step, path)) => eprintln!(
            "run folder: {}, resuming from {} (step {step})",
            run.root().display(),
            path.display()
        ),
        None => eprintln!("run folder: {}", run.root().display()),
    }
}

/// The run's tokenizer: its own when resuming, else `tokenizer.path` copied in, else one
/// trained on the corpus.
pub fn tokenizer(cfg: &Config, run: &RunDir, resuming: bool) -> Result<(Tokenizer, SpecialIds)> {
    let own = run.tokenizer();
    if resuming {
        return encoder::load_tokenizer(&own).context("loading the run's tokenizer");
    }
    match &cfg.tokenizer.path {
        Some(path) => {
            let loaded = encoder::load_tokenizer(path).context("tokenizer.path")?;
            common::replace_with(&own, |temp| std::fs::copy(path, temp).map(drop))
                .with_context(|| format!("copying {} into the run folder", path.display()))?;
            Ok(loaded)
        }
        None => encoder::train_tokenizer(&cfg.data.corpus, &cfg.tokenizer, &own)
            .context("training the tokenizer"),
    }
}

/// The model to train (on the config's device, with autodiff): a fresh one of the config's
/// shape, or the checkpoint's with its optimizer and position.
pub fn model(
    cfg: &Config,
    device: &Device,
    vocab_size: usize,
    resume_from: Option<&(u64, PathBuf)>,
) -> Result<(MlmModel, Option<Resume>)> {
    let device = device.clone().autodiff();
    let shape = ModelShape::new(&cfg.model, vocab_size, cfg.data.seq_len);
    let Some((_, path)) = resume_from else {
        let model = shape.init_seeded(cfg.train.seed, &device)?;
        return Ok((model, None));
    };
    let (model, position) = encoder::checkpoint::load(path, &shape, &device).context("--resume")?;
    let fresh = encoder::train::optim::adamw(&model, cfg.train.weight_decay);
    let optimizer = encoder::checkpoint::load_optimizer(path, fresh).context("--resume")?;
    Ok((
        model,
        Some(Resume {
            optimizer,
            position,
        }),
    ))
}

/// `model` with the token embeddings of whole-word tokens replaced by `vectors`, if given.
pub fn with_init_vectors(
    model: MlmModel,
    vectors: Option<&word2vec::Embeddings>,
    tokenizer: &Tokenizer,
) -> MlmModel {
    let Some(vectors) = vectors else {
        return model;
    };
    let rows = encoder::model::token_vectors(&tokenizer.get_vocab(true), vectors);
    eprintln!(
        "model.init_embeddings: {} of {} tokens initialised from word vectors",
        rows.len(),
        tokenizer.get_vocab_size(true)
    );
    model.with_token_vectors(&rows)
}
