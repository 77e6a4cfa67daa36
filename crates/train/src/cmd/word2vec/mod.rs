//! `train word2vec`: config → evaluation sets → run folder → vocabulary → training (progress,
//! TensorBoard, per-epoch evaluation, checkpoints) → vectors and Embedding Projector files;
//! `--resume` continues a run folder from its checkpoint. Each step is a function below; the
//! work is the word2vec library's.

mod evaluate;
mod observer;
mod resume;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use word2vec::{CHECKPOINT_FILE, Checkpoint, Checkpoints, DataParams, Embeddings, Format, Vocab};

use crate::config::Word2VecConfig;
use crate::progress::Display;
use crate::resume_command::resume_command;
use crate::run as run_dir;
use crate::signals::{Signal, StopRequest, Stopped};
use crate::tensorboard::{EventWriter, write_projector};
use common::{AdapterInfo, write_atomic};
use evaluate::EvalSets;
use observer::RunObserver;

/// Runs `train word2vec`: a new run, or with `resume` the run in `out` continued from its
/// checkpoint.
pub fn run(config_path: &Path, sets: &[String], out: Option<&Path>, resume: bool) -> Result<()> {
    let cfg = load_config(config_path, sets)?;
    let resume_from = resume::resume_point(&cfg, out, resume)?;
    // Evaluation sets are read now, so a bad one fails before hours of training, not after.
    let eval = EvalSets::read(&cfg)?;
    // The device too: a missing GPU is one line, before a run folder exists.
    let adapter = word2vec::open_device(cfg.train.device, &cfg.model).context("train.device")?;
    let dir = match (&resume_from, out) {
        (Some(_), Some(dir)) => dir.to_path_buf(),
        _ => run_dir::create(out, config_path)?,
    };
    let mut tb = start_logging(&dir, &cfg, &adapter, resume_from.as_ref())?;
    eprintln!("device: {adapter}");
    let (vocab, resume_from) = match resume_from {
        Some(Checkpoint {
            progress,
            vocab,
            weights,
        }) => (vocab, Some((progress, weights))),
        None => (build_vocabulary(&cfg.data, &dir)?, None),
    };
    let checkpoints = Checkpoints {
        path: dir.join(CHECKPOINT_FILE),
        resume: resume_from,
    };
    let (vectors, log_error) = train_vectors(&cfg, &vocab, &eval, &mut tb, checkpoints, &dir)?;
    write_vectors(&dir, &cfg, &vectors)?;
    write_projector_files(&dir, &cfg, &vectors)?;
    // A logging failure (disk full for the event file, say) is reported, but only after the
    // vectors it did not affect are saved.
    if let Some(e) = log_error {
        return Err(e.context("logging to TensorBoard"));
    }
    tb.flush()?;
    Ok(())
}

/// Loads the config with its `--set` overrides, validates it, and checks that the corpus
/// exists, before anything is created.
fn load_config(config_path: &Path, sets: &[String]) -> Result<Word2VecConfig> {
    let mut cfg: Word2VecConfig = crate::config::load(config_path, sets)?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    word2vec::check_corpus_path(&cfg.data.corpus).context("data.corpus")?;
    Ok(cfg)
}

/// Writes the resolved config and the device (`device.json`, as an encoder run has) into the
/// run folder `dir`, and starts a TensorBoard event file with both as text summaries (at the
/// checkpoint's words when resuming).
fn start_logging(
    dir: &Path,
    cfg: &Word2VecConfig,
    adapter: &AdapterInfo,
    resume_from: Option<&Checkpoint>,
) -> Result<EventWriter> {
    let config_text = run_dir::write_config(dir, cfg)?;
    let mut device = serde_json::to_value(adapter)?;
    device["kind"] = serde_json::to_value(cfg.train.device)?;
    let path = dir.join("device.json");
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(w, &device).map_err(std::io::Error::other)
    })
    .with_context(|| format!("writing {}", path.display()))?;
    let step = resume_from.map_or(0, |c| c.progress.words_done);
    let mut tb = EventWriter::create(dir).context("creating the TensorBoard event file")?;
    tb.text("config", step, &format!("```toml\n{config_text}```"))?;
    tb.text("device", step, &adapter.to_string())?;
    tb.flush()?;
    match resume_from {
        Some(c) => eprintln!(
            "run folder: {}, resuming epoch {} at {} words",
            dir.display(),
            c.progress.epoch,
            c.progress.words_done
        ),
        None => eprintln!("run folder: {}", dir.display()),
    }
    Ok(tb)
}

/// Counts the corpus into a vocabulary, says what it found, and writes `vocab.txt`.
fn build_vocabulary(data: &DataParams, dir: &Path) -> Result<Vocab> {
    let (vocab, stats) =
        Vocab::from_corpus(&data.corpus, data.lowercase, data.min_count, data.max_vocab)
            .context("building the vocabulary")?;
    let invalid = if stats.invalid_utf8_tokens > 0 {
        format!(
            "; {} tokens had invalid UTF-8 (replaced)",
            stats.invalid_utf8_tokens
        )
    } else {
        String::new()
    };
    eprintln!(
        "corpus: {} tokens, {} sentences, {} distinct; vocabulary: {} words (min_count {}), {} training words per epoch{invalid}",
        stats.tokens,
        stats.sentences,
        stats.distinct,
        vocab.len(),
        data.min_count,
        vocab.total(),
    );
    let vocab_path = dir.join("vocab.txt");
    write_atomic(&vocab_path, |w| vocab.write_to(w))
        .with_context(|| format!("writing {}", vocab_path.display()))?;
    Ok(vocab)
}

/// Trains the vectors with progress shown and logged, `eval` run after every epoch and
/// checkpoints kept; returns them with the first TensorBoard error, which must not stop the
/// run. SIGINT or SIGTERM stops the run with a checkpoint and the command that continues it.
fn train_vectors(
    cfg: &Word2VecConfig,
    vocab: &Vocab,
    eval: &EvalSets,
    tb: &mut EventWriter,
    checkpoints: Checkpoints,
    dir: &Path,
) -> Result<(Embeddings, Option<anyhow::Error>)> {
    let display = Display::new(
        vocab.total().saturating_mul(cfg.train.epochs as u64),
        "words",
    );
    let stop = StopRequest::install();
    let mut observer = RunObserver::new(display, tb, eval, stop.clone());
    let mut train = cfg.train.clone();
    train.poison_at_words = crate::fault_injection::poison_at();
    let trained = word2vec::train_checkpointed(
        &cfg.data,
        &cfg.model,
        &train,
        vocab,
        checkpoints,
        &mut observer,
    );
    let log_error = observer.finish();
    match trained {
        Ok(vectors) => {
            // The outputs are written atomically: a signal now ends the process at once.
            stop.exit_on_next_signal();
            Ok((vectors, log_error))
        }
        Err(word2vec::Error::Stopped {
            words_done,
            checkpoint,
        }) => {
            // The checkpoint is written: a failed flush must not hide how to continue.
            if let Err(e) = tb.flush() {
                eprintln!("warning: flushing the TensorBoard events: {e}");
            }
            let saved: PathBuf = checkpoint.unwrap_or_else(|| dir.join(CHECKPOINT_FILE));
            let message = format!(
                "{words_done} words are saved in {}; continue with: {}",
                saved.display(),
                resume_command(dir)
            );
            let signal = stop.received().unwrap_or(Signal::Interrupt);
            Err(Stopped { signal, message }.into())
        }
        Err(e) => {
            // The curves up to the fault are worth keeping.
            let _ = tb.flush();
            Err(anyhow::Error::new(e).context("training"))
        }
    }
}

/// Writes `vectors.bin` and/or `vectors.txt`, as `[output]` asks.
fn write_vectors(dir: &Path, cfg: &Word2VecConfig, vectors: &Embeddings) -> Result<()> {
    let output = &cfg.output;
    for (enabled, name, format) in [
        (output.binary, "vectors.bin", Format::Binary),
        (output.text, "vectors.txt", Format::Text),
    ] {
        if enabled {
            let path = dir.join(name);
            write_atomic(&path, |w| vectors.write(w, format))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// Writes the Embedding Projector files for the `output.projector_words` most frequent words.
fn write_projector_files(dir: &Path, cfg: &Word2VecConfig, vectors: &Embeddings) -> Result<()> {
    let n = cfg.output.projector_words.min(vectors.len());
    if n == 0 {
        return Ok(());
    }
    let labels: Vec<&str> = vectors.words()[..n].iter().map(String::as_str).collect();
    let dim = vectors.dim();
    write_projector(dir, "word2vec", &labels, &vectors.data()[..n * dim], dim)
        .context("writing the Embedding Projector files")
}
