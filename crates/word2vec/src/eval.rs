//! Queries (nearest neighbours, analogies) and the standard evaluations: analogy accuracy on
//! questions-words files and Spearman correlation on word-similarity files, computed as gensim's
//! `evaluate_word_analogies(restrict_vocab=N, case_insensitive=True)` and `evaluate_word_pairs`
//! compute them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::{Error, Result};
use crate::vectors::Embeddings;

/// Embeddings with unit-length rows, ready for cosine queries.
#[derive(Debug, Clone)]
pub struct Index {
    words: Vec<String>,
    dim: usize,
    unit: Vec<f32>,
    /// Word → id.
    exact: HashMap<String, u32>,
    /// Lowercased word → first (most frequent) id with that lowercase form.
    lower: HashMap<String, u32>,
}

/// One answer of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The word.
    pub word: String,
    /// Cosine similarity to the query.
    pub score: f32,
}

impl Index {
    /// Normalises every vector (zero vectors stay zero).
    pub fn new(e: &Embeddings) -> Self {
        let dim = e.dim();
        let mut unit = e.data().to_vec();
        for row in unit.chunks_exact_mut(dim) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x /= norm);
            }
        }
        let mut lower = HashMap::with_capacity(e.len());
        let mut exact = HashMap::with_capacity(e.len());
        for (i, w) in e.words().iter().enumerate() {
            lower.entry(w.to_lowercase()).or_insert(i as u32);
            exact.entry(w.clone()).or_insert(i as u32);
        }
        Index {
            words: e.words().to_vec(),
            dim,
            unit,
            exact,
            lower,
        }
    }

    fn row(&self, i: u32) -> &[f32] {
        &self.unit[i as usize * self.dim..(i as usize + 1) * self.dim]
    }

    /// The id of `word`: exact match first, then case-insensitive.
    pub fn id(&self, word: &str) -> Result<u32> {
        self.exact
            .get(word)
            .or_else(|| self.lower.get(&word.to_lowercase()))
            .copied()
            .ok_or_else(|| Error::UnknownWord(word.to_string()))
    }

    /// The `top` words closest to `query` among the first `limit` words, excluding `exclude`.
    fn nearest(&self, query: &[f32], limit: usize, exclude: &[u32], top: usize) -> Vec<(u32, f32)> {
        let top = top.min(self.words.len());
        if top == 0 {
            return Vec::new();
        }
        let mut best: Vec<(u32, f32)> = Vec::with_capacity(top + 1);
        for i in 0..limit.min(self.words.len()) as u32 {
            if exclude.contains(&i) {
                continue;
            }
            let s: f32 = self.row(i).iter().zip(query).map(|(a, b)| a * b).sum();
            if best.len() < top || s > best[best.len() - 1].1 {
                let at = best.partition_point(|&(_, b)| b >= s);
                best.insert(at, (i, s));
                best.truncate(top);
            }
        }
        best
    }

    fn answers(&self, found: Vec<(u32, f32)>) -> Vec<Neighbour> {
        found
            .into_iter()
            .map(|(i, score)| Neighbour {
                word: self.words[i as usize].clone(),
                score,
            })
            .collect()
    }

    /// The `top` nearest neighbours of `word` by cosine similarity.
    pub fn similar(&self, word: &str, top: usize) -> Result<Vec<Neighbour>> {
        let id = self.id(word)?;
        Ok(self.answers(self.nearest(self.row(id), usize::MAX, &[id], top)))
    }

    /// "`a` is to `b` as `c` is to ?" by 3CosAdd: the words closest to b − a + c (unit vectors),
    /// the three question words excluded.
    pub fn analogy(&self, a: &str, b: &str, c: &str, top: usize) -> Result<Vec<Neighbour>> {
        let ids = [self.id(a)?, self.id(b)?, self.id(c)?];
        Ok(self.answers(self.analogy_ids(ids, usize::MAX, top)))
    }

    fn analogy_ids(&self, [a, b, c]: [u32; 3], limit: usize, top: usize) -> Vec<(u32, f32)> {
        let query: Vec<f32> = (0..self.dim)
            .map(|k| self.row(b)[k] - self.row(a)[k] + self.row(c)[k])
            .collect();
        let norm = query
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE);
        let query: Vec<f32> = query.iter().map(|x| x / norm).collect();
        self.nearest(&query, limit, &[a, b, c], top)
    }

    /// Analogy accuracy on a questions-words set, as gensim's
    /// `evaluate_word_analogies(restrict_vocab=restrict, case_insensitive=True)` computes it:
    /// questions whose four words (lowercased) are among the `restrict` most frequent words are
    /// answered by 3CosAdd over those words; a candidate equal to A, B or C (case-insensitively)
    /// is skipped, and the answer is right when it equals D case-insensitively.
    pub fn evaluate_analogies(&self, set: &AnalogySet, restrict: usize) -> AnalogyResult {
        let limit = restrict.min(self.words.len());
        // Lowercase form -> most frequent id among the first `limit` words.
        let mut ok: HashMap<String, u32> = HashMap::new();
        for (i, w) in self.words[..limit].iter().enumerate() {
            ok.entry(w.to_lowercase()).or_insert(i as u32);
        }
        let mut sections = BTreeMap::new();
        for (name, questions) in &set.sections {
            let section: &mut SectionResult = sections.entry(name.clone()).or_default();
            for q in questions {
                let ids: Option<Vec<u32>> = q.iter().map(|w| ok.get(w).copied()).collect();
                let Some(ids) = ids else { continue };
                section.total += 1;
                // Three more than needed: case variants of A, B or C may come first.
                let found = self.analogy_ids([ids[0], ids[1], ids[2]], limit, 4);
                let answer = found
                    .iter()
                    .map(|&(i, _)| self.words[i as usize].to_lowercase())
                    .find(|w| !q[..3].contains(w));
                if answer.as_deref() == Some(q[3].as_str()) {
                    section.correct += 1;
                }
            }
        }
        let correct = sections.values().map(|s| s.correct).sum::<usize>();
        let covered = sections.values().map(|s| s.total).sum::<usize>();
        AnalogyResult {
            accuracy: ratio(correct, covered),
            coverage: ratio(covered, set.questions),
            correct,
            covered,
            questions: set.questions,
            sections,
        }
    }

    /// Spearman correlation between cosine similarities and human scores over the pairs of `set`
    /// whose words are both known (case-insensitive; the whole vocabulary is searched, which for
    /// vocabularies under 300,000 words equals gensim's `evaluate_word_pairs` default).
    pub fn evaluate_similarity(&self, set: &SimilaritySet) -> SimilarityResult {
        let (mut human, mut model) = (Vec::new(), Vec::new());
        for (w1, w2, score) in &set.pairs {
            let (Some(&a), Some(&b)) = (self.lower.get(w1), self.lower.get(w2)) else {
                continue;
            };
            human.push(*score);
            model.push(
                self.row(a)
                    .iter()
                    .zip(self.row(b))
                    .map(|(x, y)| x * y)
                    .sum::<f32>() as f64,
            );
        }
        SimilarityResult {
            spearman: spearman(&human, &model),
            coverage: ratio(human.len(), set.pairs.len()),
            covered: human.len(),
            pairs: set.pairs.len(),
        }
    }
}

/// An analogy file in the questions-words format (`: section` lines, then `a b c d`
/// questions), read and checked before any training starts. Words are lowercased.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogySet {
    sections: Vec<(String, Vec<[String; 4]>)>,
    questions: usize,
}

impl AnalogySet {
    /// Reads and checks `path`; a malformed line is an error naming the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            common::read_text_bounded(path, MAX_EVAL_BYTES).map_err(|e| Error::io(path, e))?;
        let mut sections: Vec<(String, Vec<[String; 4]>)> = Vec::new();
        let mut questions = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix(':') {
                sections.push((name.trim().to_string(), Vec::new()));
                continue;
            }
            // At most one word past the four is looked at, whatever the line holds.
            let mut words = line.split_whitespace();
            let (Some(a), Some(b), Some(c), Some(d), None) = (
                words.next(),
                words.next(),
                words.next(),
                words.next(),
                words.next(),
            ) else {
                return Err(Error::format(
                    path,
                    format!("line {}: expected 4 words", n + 1),
                ));
            };
            let q = [a, b, c, d].map(str::to_lowercase);
            let Some((_, section)) = sections.last_mut() else {
                return Err(Error::format(
                    path,
                    format!("line {}: question before any `: section` line", n + 1),
                ));
            };
            section.push(q);
            questions += 1;
        }
        Ok(AnalogySet {
            sections,
            questions,
        })
    }
}

/// The largest evaluation file read (Google's analogy set is 600 KB, SimLex-999 20 KB).
const MAX_EVAL_BYTES: u64 = 64 << 20;

/// A word-pair similarity file (`word1 word2 score`, tabs or spaces; `#` starts a comment line),
/// read and checked before any training starts. Words are lowercased.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilaritySet {
    pairs: Vec<(String, String, f64)>,
}

impl SimilaritySet {
    /// Reads and checks `path`; a malformed line is an error naming the file and line.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            common::read_text_bounded(path, MAX_EVAL_BYTES).map_err(|e| Error::io(path, e))?;
        let mut pairs = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split(['\t', ' ']).filter(|p| !p.is_empty());
            let (Some(w1), Some(w2), Some(score), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(Error::format(
                    path,
                    format!("line {}: expected `word1 word2 score`", n + 1),
                ));
            };
            let score: f64 = score.parse().map_err(|_| {
                Error::format(path, format!("line {}: {score:?} is not a number", n + 1))
            })?;
            pairs.push((w1.to_lowercase(), w2.to_lowercase(), score));
        }
        Ok(SimilaritySet { pairs })
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Accuracy on one section of an analogy file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SectionResult {
    /// Questions answered correctly.
    pub correct: usize,
    /// Questions within the restricted vocabulary.
    pub total: usize,
}

impl SectionResult {
    /// correct / total (0 when no question was covered).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct, self.total)
    }
}

/// Result of an analogy evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogyResult {
    /// Correct answers over covered questions.
    pub accuracy: f64,
    /// Covered questions over all questions.
    pub coverage: f64,
    /// Correct answers.
    pub correct: usize,
    /// Questions whose four words are within the restricted vocabulary.
    pub covered: usize,
    /// All questions in the file.
    pub questions: usize,
    /// Per section, by name.
    pub sections: BTreeMap<String, SectionResult>,
}

/// Result of a word-similarity evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarityResult {
    /// Spearman rank correlation (NaN when fewer than two pairs are covered).
    pub spearman: f64,
    /// Covered pairs over all pairs.
    pub coverage: f64,
    /// Pairs with both words known.
    pub covered: usize,
    /// All pairs in the file.
    pub pairs: usize,
}

/// Spearman's ρ: Pearson's correlation of the ranks, ties sharing their average rank (as
/// `scipy.stats.spearmanr`).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len().min(ry.len());
    if n < 2 {
        return f64::NAN;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
    let (mx, my) = (mean(&rx), mean(&ry));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    sxy / (sxx * syy).sqrt()
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny space where king − man + woman is exactly queen.
    fn tiny() -> Index {
        let rows: [(&str, [f32; 3]); 6] = [
            ("the", [0.1, 0.1, 1.0]),
            ("king", [1.0, 1.0, 0.0]),
            ("queen", [1.0, -1.0, 0.0]),
            ("Man", [0.0, 1.0, 0.0]),
            ("woman", [0.0, -1.0, 0.0]),
            ("apple", [-1.0, 0.0, 0.2]),
        ];
        let words = rows.iter().map(|r| r.0.to_string()).collect();
        let data = rows.iter().flat_map(|r| r.1).collect();
        Index::new(&Embeddings::new(words, 3, data).unwrap())
    }

    #[test]
    fn similar_and_analogy_by_hand() {
        let ix = tiny();
        let s = ix.similar("king", 2).unwrap();
        // cos(king, Man) = 1/sqrt2 = 0.7071; cos(king, queen) = 0.
        assert_eq!(s[0].word, "Man");
        assert!((s[0].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        let a = ix.analogy("man", "king", "woman", 1).unwrap();
        assert_eq!(a[0].word, "queen");
        assert!(matches!(ix.similar("nope", 1), Err(Error::UnknownWord(_))));
    }

    #[test]
    fn analogy_file_accuracy_sections_coverage_and_restrict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.txt");
        std::fs::write(
            &path,
            ": royal\nMAN KING WOMAN QUEEN\nman king woman apple\n: fruit\nking queen apple pear\n",
        )
        .unwrap();
        let ix = tiny();
        let set = AnalogySet::read(&path).unwrap();
        let r = ix.evaluate_analogies(&set, 30000);
        assert_eq!((r.correct, r.covered, r.questions), (1, 2, 3));
        assert!((r.accuracy - 0.5).abs() < 1e-12 && (r.coverage - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(
            r.sections["royal"],
            SectionResult {
                correct: 1,
                total: 2
            }
        );
        assert_eq!(
            r.sections["fruit"],
            SectionResult {
                correct: 0,
                total: 0
            }
        );
        // Restricting to the 4 most frequent words drops "woman" and "apple".
        let r = ix.evaluate_analogies(&set, 4);
        assert_eq!(r.covered, 0);
    }

    #[test]
    fn case_variants_of_question_words_are_skipped_like_gensim() {
        // b - a + c = (1, -1) is exactly "King", a case variant of B, which gensim skips; the
        // next candidate is queen.
        let rows: [(&str, [f32; 2]); 5] = [
            ("king", [1.0, 1.0]),
            ("queen", [1.0, -0.9]),
            ("man", [0.0, 1.0]),
            ("woman", [0.0, -1.0]),
            ("King", [1.0, -1.0]),
        ];
        let words = rows.iter().map(|r| r.0.to_string()).collect();
        let data = rows.iter().flat_map(|r| r.1).collect();
        let ix = Index::new(&Embeddings::new(words, 2, data).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.txt");
        std::fs::write(&path, ": s\nman king woman queen\n").unwrap();
        let r = ix.evaluate_analogies(&AnalogySet::read(&path).unwrap(), 100);
        assert_eq!((r.correct, r.covered), (1, 1));
        assert_eq!(
            ix.analogy("man", "king", "woman", 1).unwrap()[0].word,
            "King"
        );
    }

    #[test]
    fn malformed_analogy_lines_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.txt");
        std::fs::write(&path, ": s\na b c\n").unwrap();
        let e = AnalogySet::read(&path).unwrap_err().to_string();
        assert!(e.contains("q.txt") && e.contains("line 2"), "{e}");
        std::fs::write(&path, "a b c d\n").unwrap();
        let e = AnalogySet::read(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: question before"), "{e}");
        // A hostile line is refused after five words, and invalid UTF-8 is placed.
        let long = format!(": s\n{}\n", "w ".repeat(200_000));
        std::fs::write(&path, long).unwrap();
        let e = AnalogySet::read(&path).unwrap_err().to_string();
        assert!(e.ends_with("line 2: expected 4 words"), "{e}");
        std::fs::write(&path, b": s\na b c \xff\n").unwrap();
        let e = AnalogySet::read(&path).unwrap_err().to_string();
        assert!(e.contains("q.txt: line 2 (byte 10): invalid UTF-8"), "{e}");
        let e = SimilaritySet::read(&path).unwrap_err().to_string();
        assert!(e.contains("line 2 (byte 10): invalid UTF-8"), "{e}");
        std::fs::write(&path, "a b 1 2\n").unwrap();
        let e = SimilaritySet::read(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: expected `word1 word2 score`"), "{e}");
    }

    #[test]
    fn top_zero_and_huge_top_do_not_panic() {
        let ix = tiny();
        assert!(ix.similar("king", 0).unwrap().is_empty());
        assert_eq!(ix.similar("king", usize::MAX).unwrap().len(), 5);
    }

    #[test]
    fn similarity_file_spearman_and_coverage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.tsv");
        // Model cosines: king-Man .707, king-queen 0, king-apple -.69; human agrees in order.
        std::fs::write(
            &path,
            "# comment\nking\tman\t9\nking\tqueen\t5\nking\tapple\t1\nking\tzzz\t3\n",
        )
        .unwrap();
        let r = tiny().evaluate_similarity(&SimilaritySet::read(&path).unwrap());
        assert!((r.spearman - 1.0).abs() < 1e-12, "{}", r.spearman);
        assert_eq!((r.covered, r.pairs), (3, 4));
        std::fs::write(&path, "king\tman\tx\n").unwrap();
        let e = SimilaritySet::read(&path).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        // scipy.stats.spearmanr([1,2,2,3],[1,3,2,4]).statistic == 0.9486832980505138
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((r - 0.948_683_298_050_513_8).abs() < 1e-12, "{r}");
    }
}
