//! `train word2vec`: config → evaluation sets → run folder → vocabulary → training (progress,
//! TensorBoard, per-epoch evaluation, checkpoints) → vectors and Embedding Projector files;
//! `--resume` continues a run folder from its checkpoint. Each step is a function below; the
//! work is the word2vec library's.

mod evaluate;
mod observer;
mod resume;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use word2vec::{
    CHECKPOINT_FILE, Checkpoint, Checkpoints, CorpusIds, Device, Embeddings, Format, Vocab,
};

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
    let (vocab, ids, resume_from) = match resume_from {
        Some(Checkpoint {
            progress,
            vocab,
            weights,
        }) => {
            let ids = load_ids(&cfg, &vocab, progress.corpus_bytes)?;
            (vocab, ids, Some((progress, weights)))
        }
        None => {
            let (vocab, ids) = build_vocabulary(&cfg, &dir)?;
            (vocab, ids, None)
        }
    };
    let checkpoints = Checkpoints {
        path: dir.join(CHECKPOINT_FILE),
        resume: resume_from,
    };
    let corpus = (&vocab, ids.as_ref());
    let (vectors, log_error) = train_vectors(&cfg, corpus, &eval, &mut tb, checkpoints, &dir)?;
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

/// Counts the corpus into a vocabulary, and keeps it as ids when `data.cache_mib` allows; says
/// what it found, and writes `vocab.txt`.
fn build_vocabulary(cfg: &Word2VecConfig, dir: &Path) -> Result<(Vocab, Option<CorpusIds>)> {
    let data = &cfg.data;
    let (vocab, stats, ids) = Vocab::from_corpus_with_ids(
        &data.corpus,
        data.lowercase,
        data.min_count,
        data.max_vocab,
        cfg.train.effective_threads(),
        ids_budget(cfg),
    )
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
    report_ids(cfg, ids.as_ref());
    let vocab_path = dir.join("vocab.txt");
    write_atomic(&vocab_path, |w| vocab.write_to(w))
        .with_context(|| format!("writing {}", vocab_path.display()))?;
    Ok((vocab, ids))
}

/// A resumed run's corpus as its vocabulary's ids, when `data.cache_mib` allows; none when the
/// corpus is no longer the `corpus_bytes` long its checkpoint saw (training then refuses it).
fn load_ids(cfg: &Word2VecConfig, vocab: &Vocab, corpus_bytes: u64) -> Result<Option<CorpusIds>> {
    let data = &cfg.data;
    let now = std::fs::metadata(&data.corpus).map(|m| m.len()).ok();
    if corpus_bytes != 0 && now != Some(corpus_bytes) {
        return Ok(None);
    }
    let ids = vocab
        .encode_corpus(&data.corpus, data.lowercase, ids_budget(cfg))
        .context("reading the corpus")?;
    report_ids(cfg, ids.as_ref());
    Ok(ids)
}

/// The memory the corpus's ids may take: `data.cache_mib`, on the CPU (the GPU engine reads
/// the file).
fn ids_budget(cfg: &Word2VecConfig) -> usize {
    match cfg.train.device {
        Device::Cpu => cfg.data.cache_bytes(),
        Device::Wgpu => 0,
    }
}

/// Says whether the epochs read the corpus from memory or from its file.
fn report_ids(cfg: &Word2VecConfig, ids: Option<&CorpusIds>) {
    match ids {
        Some(ids) => eprintln!(
            "corpus held in memory as ids: {:.1} MiB",
            ids.size_bytes() as f64 / f64::from(1 << 20)
        ),
        None if ids_budget(cfg) > 0 => eprintln!(
            "corpus read from its file every epoch: its ids need more than data.cache_mib = {} MiB",
            cfg.data.cache_mib
        ),
        None => {}
    }
}

/// Trains the vectors with progress shown and logged, `eval` run after every epoch and
/// checkpoints kept; returns them with the first TensorBoard error, which must not stop the
/// run. SIGINT or SIGTERM stops the run with a checkpoint and the command that continues it.
fn train_vectors(
    cfg: &Word2VecConfig,
    (vocab, ids): (&Vocab, Option<&CorpusIds>),
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
        ids,
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
