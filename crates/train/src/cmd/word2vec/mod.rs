//! `train word2vec`: config → evaluation sets → run folder → vocabulary → training (progress,
//! TensorBoard, per-epoch evaluation) → vectors and Embedding Projector files. Each step is a
//! function below; the work is the word2vec library's.

mod evaluate;
mod observer;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use word2vec::{DataParams, Embeddings, Format, Vocab};

use crate::config::Word2VecConfig;
use crate::progress::Display;
use crate::run as run_dir;
use crate::tensorboard::{EventWriter, write_projector};
use common::{AdapterInfo, write_atomic};
use evaluate::EvalSets;
use observer::RunObserver;

/// Runs `train word2vec`.
pub fn run(config_path: &Path, sets: &[String], out: Option<&Path>) -> Result<()> {
    let cfg = load_config(config_path, sets)?;
    // Evaluation sets are read now, so a bad one fails before hours of training, not after.
    let eval = EvalSets::read(&cfg)?;
    // The device too: a missing GPU is one line, before a run folder exists.
    let adapter = word2vec::open_device(cfg.train.device, &cfg.model).context("train.device")?;
    let (dir, mut tb) = create_run_folder(out, config_path, &cfg, &adapter)?;
    eprintln!("device: {adapter}");
    let vocab = build_vocabulary(&cfg.data, &dir)?;
    let (vectors, log_error) = train_vectors(&cfg, &vocab, &eval, &mut tb)?;
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

/// Makes the run folder with the resolved config and the device (`device.json`, as an encoder
/// run has), and its TensorBoard event file with both as text summaries.
fn create_run_folder(
    out: Option<&Path>,
    config_path: &Path,
    cfg: &Word2VecConfig,
    adapter: &AdapterInfo,
) -> Result<(PathBuf, EventWriter)> {
    let dir = run_dir::create(out, config_path)?;
    let config_text = run_dir::write_config(&dir, cfg)?;
    let mut device = serde_json::to_value(adapter)?;
    device["kind"] = serde_json::to_value(cfg.train.device)?;
    let path = dir.join("device.json");
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(w, &device).map_err(std::io::Error::other)
    })
    .with_context(|| format!("writing {}", path.display()))?;
    let mut tb = EventWriter::create(&dir).context("creating the TensorBoard event file")?;
    tb.text("config", 0, &format!("```toml\n{config_text}```"))?;
    tb.text("device", 0, &adapter.to_string())?;
    tb.flush()?;
    eprintln!("run folder: {}", dir.display());
    Ok((dir, tb))
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

/// Trains the vectors with progress shown and logged and `eval` run after every epoch; returns
/// them with the first TensorBoard error, which must not stop the run.
fn train_vectors(
    cfg: &Word2VecConfig,
    vocab: &Vocab,
    eval: &EvalSets,
    tb: &mut EventWriter,
) -> Result<(Embeddings, Option<anyhow::Error>)> {
    let display = Display::new(vocab.total() * cfg.train.epochs as u64, "words");
    let mut observer = RunObserver::new(display, tb, eval);
    let vectors = word2vec::train(&cfg.data, &cfg.model, &cfg.train, vocab, &mut observer)?;
    Ok((vectors, observer.finish()))
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
