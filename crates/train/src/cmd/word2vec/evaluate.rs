//! The per-epoch evaluation of `train word2vec`: the `[eval]` sets, read before training, scored
//! on the vectors after every epoch, shown and logged to TensorBoard.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use word2vec::{AnalogySet, Embeddings, Index, SimilaritySet};

use crate::cmd::queries::set_name;
use crate::config::Word2VecConfig;
use crate::progress::Display;
use crate::tensorboard::EventWriter;

/// The evaluation sets of a run, each with the name it is logged under.
pub(super) struct EvalSets {
    analogy: Vec<(String, AnalogySet)>,
    similarity: Vec<(String, SimilaritySet)>,
    restrict: usize,
}

impl EvalSets {
    /// Reads every set the config's `[eval]` names; an error names the key and the file.
    pub(super) fn read(cfg: &Word2VecConfig) -> Result<Self> {
        let eval = &cfg.eval;
        Ok(EvalSets {
            analogy: read_sets(&eval.analogy, "eval.analogy", AnalogySet::read)?,
            similarity: read_sets(&eval.similarity, "eval.similarity", SimilaritySet::read)?,
            restrict: eval.restrict,
        })
    }

    /// Scores `vectors` on every set, prints the results and logs them at `step` as
    /// `eval/analogy/<set>` and `eval/similarity/<set>`.
    pub(super) fn evaluate(
        &self,
        vectors: &Embeddings,
        step: u64,
        display: &Display,
        tb: &mut EventWriter,
    ) -> Result<()> {
        if self.analogy.is_empty() && self.similarity.is_empty() {
            return Ok(());
        }
        let index = Index::new(vectors);
        for (name, set) in &self.analogy {
            let r = index.evaluate_analogies(set, self.restrict);
            tb.scalar(&format!("eval/analogy/{name}"), step, r.accuracy)?;
            display.println(&format!(
                "  analogy {name}: {:.2}% (coverage {:.1}%)",
                100.0 * r.accuracy,
                100.0 * r.coverage
            ));
        }
        for (name, set) in &self.similarity {
            let r = index.evaluate_similarity(set);
            tb.scalar(&format!("eval/similarity/{name}"), step, r.spearman)?;
            display.println(&format!(
                "  similarity {name}: spearman {:.4} (coverage {:.1}%)",
                r.spearman,
                100.0 * r.coverage
            ));
        }
        Ok(())
    }
}

/// Reads each of `paths` with `read`, named after its file stem; errors carry `key`.
fn read_sets<T>(
    paths: &[PathBuf],
    key: &str,
    read: impl Fn(&Path) -> word2vec::Result<T>,
) -> Result<Vec<(String, T)>> {
    paths
        .iter()
        .map(|p| Ok((set_name(p), read(p).context(key.to_string())?)))
        .collect()
}
