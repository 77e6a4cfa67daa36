//! The vocabulary: word counts from one streaming pass, `min_count` and `max_vocab` applied,
//! sorted by descending frequency (ties by word, so the order is deterministic).

use std::io::Write;
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::corpus::{CorpusReader, TokenBatch};
use crate::corpus_ids::{CorpusIds, IdsBuilder};
use crate::count::{CorpusStats, Counted};
use crate::error::{Error, Result};

/// Words sorted by descending count, with an index from word to id.
#[derive(Debug, Clone)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    index: FxHashMap<String, u32>,
    total: u64,
}

impl Vocab {
    /// Counts the words of the corpus at `path` in one streaming pass and keeps those seen at
    /// least `min_count` times, at most `max_vocab` of them (0 = no limit).
    pub fn from_corpus(
        path: &Path,
        lowercase: bool,
        min_count: u64,
        max_vocab: usize,
    ) -> Result<(Self, CorpusStats)> {
        let counted = Counted::read(path, lowercase, 1, 0)?;
        let vocab = Self::from_counted(&counted, path, min_count, max_vocab)?;
        Ok((vocab, counted.stats))
    }

    /// [`from_corpus`](Self::from_corpus) read by up to `threads` threads (a plain-text file
    /// is cut at lines: see [`line_parts`](crate::line_parts)), which also keeps the corpus as
    /// the vocabulary's ids when they fit in `max_id_bytes` (see [`CorpusIds`]), so that
    /// training reads the file only this once.
    pub fn from_corpus_with_ids(
        path: &Path,
        lowercase: bool,
        min_count: u64,
        max_vocab: usize,
        threads: usize,
        max_id_bytes: usize,
    ) -> Result<(Self, CorpusStats, Option<CorpusIds>)> {
        let counted = Counted::read(path, lowercase, threads, max_id_bytes)?;
        let vocab = Self::from_counted(&counted, path, min_count, max_vocab)?;
        let stats = counted.stats.clone();
        let ids = counted.ids(|word| vocab.id(word), vocab.len());
        Ok((vocab, stats, ids))
    }

    /// The vocabulary of what the counting pass over `path` saw; an error when no word is
    /// kept.
    fn from_counted(
        counted: &Counted,
        path: &Path,
        min_count: u64,
        max_vocab: usize,
    ) -> Result<Self> {
        let vocab = Self::from_counts(counted.word_counts(), min_count, max_vocab);
        if vocab.is_empty() {
            return Err(Error::NoVocabulary {
                path: path.to_path_buf(),
                min_count,
                distinct: counted.stats.distinct,
            });
        }
        Ok(vocab)
    }

    /// The corpus at `path` as this vocabulary's ids, or `None` when they would take more than
    /// `max_bytes` (see [`CorpusIds`]): for a run that resumes with the vocabulary it saved.
    pub fn encode_corpus(
        &self,
        path: &Path,
        lowercase: bool,
        max_bytes: usize,
    ) -> Result<Option<CorpusIds>> {
        let mut reader = CorpusReader::open(path, lowercase)?;
        let mut ids = IdsBuilder::new(max_bytes, 0);
        let mut batch = TokenBatch::default();
        while ids.recording() {
            batch.clear();
            if !reader.read_batch(&mut batch, 100_000)? {
                break;
            }
            for sentence in batch.sentences() {
                let tokens = sentence.len();
                for i in sentence {
                    if let Some(id) = self.id(batch.token(i)) {
                        ids.push_id(id);
                    }
                }
                ids.end_sentence(tokens);
            }
        }
        Ok(ids.finish().map(|mut ids| {
            ids.vocab_words = self.len();
            ids
        }))
    }

    /// Builds a vocabulary from word counts (used by `from_corpus` and by tests); only the
    /// words it keeps are copied.
    pub fn from_counts<W: AsRef<str>>(
        counts: impl IntoIterator<Item = (W, u64)>,
        min_count: u64,
        max_vocab: usize,
    ) -> Self {
        let mut entries: Vec<(W, u64)> = counts
            .into_iter()
            .filter(|(_, c)| *c >= min_count.max(1))
            .collect();
        entries.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_ref().cmp(b.0.as_ref())));
        if max_vocab > 0 {
            entries.truncate(max_vocab);
        }
        let mut words = Vec::with_capacity(entries.len());
        let mut word_counts = Vec::with_capacity(entries.len());
        let mut index = FxHashMap::default();
        index.reserve(entries.len());
        for (i, (w, c)) in entries.into_iter().enumerate() {
            let w = w.as_ref().to_owned();
            index.insert(w.clone(), i as u32);
            words.push(w);
            word_counts.push(c);
        }
        let total = word_counts.iter().sum();
        Vocab {
            words,
            counts: word_counts,
            index,
            total,
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when no word is kept.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The id of `word`, if kept.
    #[inline]
    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(word).copied()
    }

    /// The words, most frequent first.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The count of each word, in id order.
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Sum of the counts of the kept words: the words one epoch trains on before subsampling.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Writes `word count` lines, the format of word2vec.c's `-save-vocab`.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        for (w, c) in self.words.iter().zip(&self.counts) {
            writeln!(out, "{w} {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_filters_and_sorts_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, "the cat sat on the mat\nthe dog sat\n\nzebra\n").unwrap();
        let (v, stats) = Vocab::from_corpus(&path, false, 2, 0).unwrap();
        assert_eq!(v.words(), ["the", "sat"]);
        assert_eq!(v.counts(), [3, 2]);
        assert_eq!(v.total(), 5);
        assert_eq!(v.id("sat"), Some(1));
        assert_eq!(v.id("cat"), None);
        assert_eq!(stats.tokens, 10);
        assert_eq!(stats.sentences, 3);
        assert_eq!(stats.distinct, 7);
        let mut out = Vec::new();
        v.write_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "the 3\nsat 2\n");
    }

    #[test]
    fn the_counting_pass_keeps_the_ids_a_known_vocabulary_gives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, "zebra the cat\n\nsat the the\ncat on sat the\n").unwrap();
        let (v, stats, ids) = Vocab::from_corpus_with_ids(&path, false, 2, 0, 1, 1 << 10).unwrap();
        assert_eq!(v.words(), ["the", "cat", "sat"]);
        assert_eq!(stats.sentences, 3);
        let ids = ids.unwrap();
        assert_eq!(ids.sentences(), 3);
        // "the cat / sat the the / cat sat the", each a byte, with 3, 3 and 4 tokens in the file.
        assert_eq!(ids.size_bytes(), 8 + 2 * 2 * 3);
        assert_eq!(v.encode_corpus(&path, false, 1 << 10).unwrap(), Some(ids));
        let (_, _, none) = Vocab::from_corpus_with_ids(&path, false, 2, 0, 1, 10).unwrap();
        assert_eq!(none, None, "over the budget");
        assert_eq!(v.encode_corpus(&path, false, 0).unwrap(), None);
    }

    #[test]
    fn threads_counting_pieces_of_the_file_find_what_one_finds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        let text: String = (0..300)
            .map(|i| format!("w{} rare{i} w{} common w{}\n", i % 13, i % 5, (i * 7) % 31))
            .collect();
        std::fs::write(&path, text).unwrap();
        let one = Vocab::from_corpus_with_ids(&path, false, 3, 0, 1, 1 << 20).unwrap();
        assert_eq!(crate::line_parts(&path, 3).unwrap().len(), 3);
        let three = Vocab::from_corpus_with_ids(&path, false, 3, 0, 3, 1 << 20).unwrap();
        assert_eq!(one.0.words(), three.0.words());
        assert_eq!(one.0.counts(), three.0.counts());
        assert_eq!((&one.1, &one.2), (&three.1, &three.2));
        assert_eq!(
            one.1.distinct,
            31 + 1 + 300,
            "w0..w30, common and rare0..rare299"
        );
        assert_eq!(one.0.len(), 31 + 1, "the rare words are dropped");
        assert_eq!(one.2.as_ref().map(CorpusIds::sentences), Some(300));
    }

    #[test]
    fn max_vocab_keeps_the_most_frequent_and_ties_break_by_word() {
        let counts = [("b", 5), ("a", 5), ("c", 9), ("d", 1)].map(|(w, c)| (w.to_string(), c));
        let v = Vocab::from_counts(counts, 1, 2);
        assert_eq!(v.words(), ["c", "a"]);
    }

    #[test]
    fn empty_corpus_and_no_surviving_word_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, " \n\n").unwrap();
        let e = Vocab::from_corpus(&empty, false, 1, 0).unwrap_err();
        assert!(matches!(e, Error::EmptyCorpus(_)), "{e}");
        let rare = dir.path().join("rare.txt");
        std::fs::write(&rare, "a b c\n").unwrap();
        let e = Vocab::from_corpus(&rare, false, 5, 0).unwrap_err();
        assert!(e.to_string().contains("min_count"), "{e}");
        assert!(e.to_string().contains("rare.txt"), "{e}");
    }
}
