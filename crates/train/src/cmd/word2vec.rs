//! `train word2vec`: config → run folder → vocabulary → training (progress, TensorBoard,
//! per-epoch evaluation) → vectors and Embedding Projector files.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use word2vec::{
    AnalogySet, Embeddings, EpochSummary, Format, Index, Progress, SimilaritySet, Vocab,
};

use crate::cmd::queries::set_name;
use crate::config::Word2VecConfig;
use crate::progress::{Display, human};
use crate::run as run_dir;
use crate::tensorboard::{EventWriter, write_projector};
use common::write_atomic;

/// Values sampled for the per-epoch histogram of vector components (enough for its shape).
const HISTOGRAM_SAMPLE: usize = 200_000;

/// Runs `train word2vec`.
pub fn run(config_path: &Path, sets: &[String], out: Option<&Path>) -> Result<()> {
    let mut cfg: Word2VecConfig = crate::config::load(config_path, sets)?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    // Fail before creating anything when an input is missing.
    word2vec::check_corpus_path(&cfg.data.corpus).context("data.corpus")?;
    // Evaluation sets are read now, so a bad one fails before hours of training, not after.
    let eval = EvalSets {
        analogy: read_sets(&cfg.eval.analogy, "eval.analogy", AnalogySet::read)?,
        similarity: read_sets(&cfg.eval.similarity, "eval.similarity", SimilaritySet::read)?,
        restrict: cfg.eval.restrict,
    };
    let dir = run_dir::create(out, config_path)?;
    let config_text = run_dir::write_config(&dir, &cfg)?;
    let mut tb = EventWriter::create(&dir).context("creating the TensorBoard event file")?;
    tb.text("config", 0, &format!("```toml\n{config_text}```"))?;
    tb.flush()?;
    eprintln!("run folder: {}", dir.display());

    let (vocab, stats) = Vocab::from_corpus(
        &cfg.data.corpus,
        cfg.data.lowercase,
        cfg.data.min_count,
        cfg.data.max_vocab,
    )
    .context("building the vocabulary")?;
    eprintln!(
        "corpus: {} tokens, {} sentences, {} distinct; vocabulary: {} words (min_count {}), {} training words per epoch{}",
        stats.tokens,
        stats.sentences,
        stats.distinct,
        vocab.len(),
        cfg.data.min_count,
        vocab.total(),
        if stats.invalid_utf8_tokens > 0 {
            format!(
                "; {} tokens had invalid UTF-8 (replaced)",
                stats.invalid_utf8_tokens
            )
        } else {
            String::new()
        }
    );
    let vocab_path = dir.join("vocab.txt");
    write_atomic(&vocab_path, |w| vocab.write_to(w))
        .with_context(|| format!("writing {}", vocab_path.display()))?;

    let params = cfg.params();
    let mut observer = Observer {
        display: Display::new(vocab.total() * params.epochs as u64, "words"),
        tb: &mut tb,
        eval: &eval,
        error: None,
    };
    let vectors = word2vec::train(
        &cfg.data.corpus,
        cfg.data.lowercase,
        &vocab,
        &params,
        Duration::from_secs_f64(cfg.train.log_every_secs),
        &mut observer,
    )?;
    observer.display.finish();
    // A logging failure (disk full for the event file, say) is reported, but only after the
    // vectors it did not affect are saved.
    let log_error = observer.error.take();

    for (enabled, name, format) in [
        (cfg.output.binary, "vectors.bin", Format::Binary),
        (cfg.output.text, "vectors.txt", Format::Text),
    ] {
        if enabled {
            let path = dir.join(name);
            write_atomic(&path, |w| vectors.write(w, format))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    let n = cfg.output.projector_words.min(vectors.len());
    if n > 0 {
        let labels: Vec<&str> = vectors.words()[..n].iter().map(String::as_str).collect();
        write_projector(
            &dir,
            "word2vec",
            &labels,
            &vectors.data()[..n * vectors.dim()],
            vectors.dim(),
        )
        .context("writing the Embedding Projector files")?;
    }
    if let Some(e) = log_error {
        return Err(e.context("logging to TensorBoard"));
    }
    tb.flush()?;
    Ok(())
}

/// The evaluation sets of a run, read before training starts.
struct EvalSets {
    analogy: Vec<(String, AnalogySet)>,
    similarity: Vec<(String, SimilaritySet)>,
    restrict: usize,
}

fn read_sets<T>(
    paths: &[std::path::PathBuf],
    key: &str,
    read: impl Fn(&Path) -> word2vec::Result<T>,
) -> Result<Vec<(String, T)>> {
    paths
        .iter()
        .map(|p| Ok((set_name(p), read(p).context(key.to_string())?)))
        .collect()
}

struct Observer<'a> {
    display: Display,
    tb: &'a mut EventWriter,
    eval: &'a EvalSets,
    error: Option<anyhow::Error>,
}

impl Observer<'_> {
    fn keep_first_error(&mut self, r: Result<()>) {
        if let (Err(e), None) = (r, &self.error) {
            self.error = Some(e);
        }
    }

    fn log_progress(&mut self, p: &Progress) -> Result<()> {
        let step = p.words_done;
        if let Some(loss) = p.loss {
            self.tb.scalar("train/loss", step, loss)?;
        }
        self.tb.scalar("train/lr", step, p.alpha)?;
        self.tb
            .scalar("train/words_per_sec", step, p.words_per_sec)?;
        self.tb.flush()?;
        Ok(())
    }

    fn log_epoch(&mut self, s: &EpochSummary, vectors: &Embeddings) -> Result<()> {
        let step = s.words_done;
        self.display.println(&format!(
            "epoch {}: loss {:.4} over {} examples, {} words in {:.1}s ({} words/s)",
            s.epoch,
            s.loss,
            s.examples,
            s.words,
            s.elapsed.as_secs_f64(),
            human(s.words as f64 / s.elapsed.as_secs_f64().max(1e-9))
        ));
        self.tb.scalar("train/epoch_loss", step, s.loss)?;
        let stride = (vectors.data().len() / HISTOGRAM_SAMPLE).max(1);
        let sample: Vec<f32> = vectors.data().iter().step_by(stride).copied().collect();
        if sample.iter().any(|x| x.is_finite()) {
            self.tb.histogram("vectors/input", step, &sample)?;
        }
        if !self.eval.analogy.is_empty() || !self.eval.similarity.is_empty() {
            let index = Index::new(vectors);
            for (name, set) in &self.eval.analogy {
                let r = index.evaluate_analogies(set, self.eval.restrict);
                self.tb
                    .scalar(&format!("eval/analogy/{name}"), step, r.accuracy)?;
                self.display.println(&format!(
                    "  analogy {name}: {:.2}% (coverage {:.1}%)",
                    100.0 * r.accuracy,
                    100.0 * r.coverage
                ));
            }
            for (name, set) in &self.eval.similarity {
                let r = index.evaluate_similarity(set);
                self.tb
                    .scalar(&format!("eval/similarity/{name}"), step, r.spearman)?;
                self.display.println(&format!(
                    "  similarity {name}: spearman {:.4} (coverage {:.1}%)",
                    r.spearman,
                    100.0 * r.coverage
                ));
            }
        }
        self.tb.flush()?;
        Ok(())
    }
}

impl word2vec::Observer for Observer<'_> {
    fn progress(&mut self, p: &Progress) {
        self.display.update(
            p.words_done,
            p.words_per_sec,
            p.loss,
            p.alpha,
            &format!("epoch {}/{}", p.epoch, p.epochs),
        );
        let r = self.log_progress(p);
        self.keep_first_error(r);
    }

    fn epoch_end(&mut self, summary: &EpochSummary, vectors: &Embeddings) {
        let r = self.log_epoch(summary, vectors);
        self.keep_first_error(r);
    }
}
