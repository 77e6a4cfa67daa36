//! `train eval`, `train similar`, `train analogy`: queries on a vectors file.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use word2vec::{
    AnalogyResult, AnalogySet, Embeddings, Index, Neighbour, SimilarityResult, SimilaritySet,
};

fn load(vectors: &Path) -> Result<Index> {
    let e = Embeddings::read(vectors).context("reading vectors")?;
    Ok(Index::new(&e))
}

/// Writes `text` to stdout; a closed pipe (`train similar ... | head`) is not an error.
pub fn emit(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(()),
    }
}

fn print_neighbours(found: &[Neighbour], json: bool) -> Result<()> {
    let mut out = String::new();
    if json {
        let list: Vec<Value> = found
            .iter()
            .map(|n| json!({"word": n.word, "score": n.score}))
            .collect();
        writeln!(out, "{}", Value::Array(list))?;
    } else {
        for n in found {
            writeln!(out, "{}\t{:.4}", n.word, n.score)?;
        }
    }
    emit(&out)
}

fn check_top(top: usize) -> Result<()> {
    if top == 0 {
        bail!("--top 0: allowed is N >= 1");
    }
    Ok(())
}

/// `train similar`.
pub fn similar(vectors: &Path, word: &str, top: usize, json: bool) -> Result<()> {
    check_top(top)?;
    let found = load(vectors)?.similar(word, top)?;
    print_neighbours(&found, json)
}

/// `train analogy`.
pub fn analogy(vectors: &Path, [a, b, c]: [&str; 3], top: usize, json: bool) -> Result<()> {
    check_top(top)?;
    let found = load(vectors)?.analogy(a, b, c, top)?;
    print_neighbours(&found, json)
}

/// The name an evaluation file is reported under: its file stem.
pub fn set_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// JSON for one analogy result.
pub fn analogy_json(r: &AnalogyResult) -> Value {
    let sections: Map<String, Value> = r
        .sections
        .iter()
        .map(|(name, s)| {
            (
                name.clone(),
                json!({"accuracy": s.accuracy(), "correct": s.correct, "total": s.total}),
            )
        })
        .collect();
    json!({
        "accuracy": r.accuracy, "coverage": r.coverage, "correct": r.correct,
        "covered": r.covered, "questions": r.questions, "sections": sections,
    })
}

/// JSON for one similarity result (a NaN Spearman prints as null).
pub fn similarity_json(r: &SimilarityResult) -> Value {
    json!({"spearman": r.spearman, "coverage": r.coverage, "covered": r.covered, "pairs": r.pairs})
}

/// `train eval`.
pub fn eval(
    vectors: &Path,
    analogy: &[PathBuf],
    similarity: &[PathBuf],
    restrict: usize,
    json: bool,
) -> Result<()> {
    if analogy.is_empty() && similarity.is_empty() {
        bail!("nothing to evaluate: give --analogy FILE and/or --similarity FILE");
    }
    if restrict == 0 {
        bail!("--restrict 0: allowed is N >= 1");
    }
    // Read every set first: a malformed file fails before the vectors are loaded.
    let analogy_sets = analogy
        .iter()
        .map(|p| AnalogySet::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let similarity_sets = similarity
        .iter()
        .map(|p| SimilaritySet::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let index = load(vectors)?;
    let mut out = String::new();
    let mut analogies = Map::new();
    let mut similarities = Map::new();
    for (path, set) in analogy.iter().zip(&analogy_sets) {
        let r = index.evaluate_analogies(set, restrict);
        if !json {
            write_analogy(&mut out, &set_name(path), &r)?;
        }
        analogies.insert(set_name(path), analogy_json(&r));
    }
    for (path, set) in similarity.iter().zip(&similarity_sets) {
        let r = index.evaluate_similarity(set);
        if !json {
            writeln!(
                out,
                "similarity {}: spearman {:.4}, coverage {:.1}% ({}/{} pairs)",
                set_name(path),
                r.spearman,
                100.0 * r.coverage,
                r.covered,
                r.pairs
            )?;
        }
        similarities.insert(set_name(path), similarity_json(&r));
    }
    if json {
        let all = json!({"analogy": analogies, "similarity": similarities});
        writeln!(out, "{all}")?;
    }
    emit(&out)
}

/// An analogy result as text: the overall accuracy and coverage, then one line a section.
fn write_analogy(out: &mut String, name: &str, r: &AnalogyResult) -> std::fmt::Result {
    writeln!(
        out,
        "analogy {name}: accuracy {:.2}% ({}/{}), coverage {:.1}% of {} questions",
        100.0 * r.accuracy,
        r.correct,
        r.covered,
        100.0 * r.coverage,
        r.questions
    )?;
    for (section, s) in &r.sections {
        writeln!(
            out,
            "  {section:<28} {:6.2}%  ({}/{})",
            100.0 * s.accuracy(),
            s.correct,
            s.total
        )?;
    }
    Ok(())
}
