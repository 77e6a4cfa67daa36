//! The counting pass: one read of the corpus that counts its words and, within a memory budget,
//! keeps it as ids ([`CorpusIds`]). A plain-text file is read by several threads at once, each
//! from its own [`line_parts`] piece with its own word table; the tables are merged after.
//!
//! It is our own code rather than a crate's because it is what makes a run start fast: it was
//! 2 of a 1-epoch CBOW run's 7 seconds on enwiki-10M, most of them hash-map lookups that
//! threads split well.

use std::ops::Range;
use std::path::Path;

use rustc_hash::FxHashMap;

use crate::corpus::{CorpusReader, TokenBatch, check_corpus_path, line_parts};
use crate::corpus_ids::{CorpusIds, DROPPED, IdsBuilder};
use crate::error::{Error, Result};

/// Counts of what one pass over the corpus saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusStats {
    /// Every token read, in or out of the vocabulary.
    pub tokens: u64,
    /// Sentences (lines, or 10,000-token pieces of longer lines).
    pub sentences: u64,
    /// Distinct words before `min_count`/`max_vocab`.
    pub distinct: usize,
    /// Tokens whose bytes were not valid UTF-8 (replaced, not fatal).
    pub invalid_utf8_tokens: u64,
}

/// What one thread's piece of the corpus held.
struct Part {
    /// Its words, numbered in order of first sight.
    seen: FxHashMap<String, u32>,
    /// The count of each, by that number.
    counts: Vec<u64>,
    /// Its sentences as those numbers, while they fit the budget.
    ids: IdsBuilder,
    stats: CorpusStats,
}

/// The counting pass's result: [`Counted::word_counts`] makes the vocabulary, which
/// [`Counted::ids`] then numbers the kept corpus with.
pub(crate) struct Counted {
    /// Every word, with its number here (given as the pieces are merged).
    words: FxHashMap<String, u32>,
    /// The count of each, by that number.
    counts: Vec<u64>,
    /// Each piece's ids (while they fit the budget), and its own numbers' in `words`.
    parts: Vec<(IdsBuilder, Vec<u32>)>,
    /// The whole corpus's counts.
    pub(crate) stats: CorpusStats,
}

impl Counted {
    /// Reads the corpus at `path` with up to `threads` threads, keeping its ids while they take
    /// at most `max_id_bytes` (0: none). An empty corpus is an error.
    pub(crate) fn read(
        path: &Path,
        lowercase: bool,
        threads: usize,
        max_id_bytes: usize,
    ) -> Result<Self> {
        check_corpus_path(path)?;
        let ranges = line_parts(path, threads)?;
        let total = ranges.last().map_or(0, |r| r.end).max(1);
        // Each piece's share of the budget is its share of the file.
        let budget = |r: &Range<u64>| {
            let share = max_id_bytes as u128 * u128::from(r.end - r.start) / u128::from(total);
            usize::try_from(share).unwrap_or(usize::MAX)
        };
        let parts = if ranges.len() == 1 {
            // A .gz file's size says little about its text: no guess.
            let expected = match common::text::is_gzip(path) {
                true => 0,
                false => expected_id_bytes(ranges[0].end),
            };
            let reader = CorpusReader::open(path, lowercase)?;
            vec![count_part(reader, max_id_bytes, expected)?]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = ranges
                    .into_iter()
                    .map(|range| {
                        let budget = budget(&range);
                        scope.spawn(move || count_range(path, lowercase, range, budget))
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect::<Result<Vec<_>>>()
            })?
        };
        let counted = Self::merged(parts);
        if counted.stats.tokens == 0 {
            return Err(Error::EmptyCorpus(path.to_path_buf()));
        }
        Ok(counted)
    }

    /// The pieces' tables merged into one, moving their words rather than copying them.
    fn merged(parts: Vec<Part>) -> Self {
        let mut merged = Counted {
            words: FxHashMap::default(),
            counts: Vec::new(),
            parts: Vec::with_capacity(parts.len()),
            stats: CorpusStats::default(),
        };
        for part in parts {
            let mut to_merged = vec![0; part.counts.len()];
            for (word, id) in part.seen {
                let next = merged.counts.len() as u32;
                let number = *merged.words.entry(word).or_insert(next);
                if number == next {
                    merged.counts.push(0);
                }
                merged.counts[number as usize] += part.counts[id as usize];
                to_merged[id as usize] = number;
            }
            merged.parts.push((part.ids, to_merged));
            let stats = &mut merged.stats;
            stats.tokens += part.stats.tokens;
            stats.sentences += part.stats.sentences;
            stats.invalid_utf8_tokens += part.stats.invalid_utf8_tokens;
        }
        merged.stats.distinct = merged.words.len();
        merged
    }

    /// Every word with its count in the whole corpus.
    pub(crate) fn word_counts(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.words
            .iter()
            .map(|(word, &n)| (word.as_str(), self.counts[n as usize]))
    }

    /// The corpus as the ids `id_of` gives its words (those of a vocabulary of `vocab_words`
    /// words; words it does not know are dropped), unless they outgrew the budget.
    pub(crate) fn ids(
        self,
        id_of: impl Fn(&str) -> Option<u32>,
        vocab_words: usize,
    ) -> Option<CorpusIds> {
        if !self.parts.iter().all(|(ids, _)| ids.recording()) {
            return None;
        }
        let mut renumber = vec![DROPPED; self.counts.len()];
        for (word, &n) in &self.words {
            renumber[n as usize] = id_of(word).unwrap_or(DROPPED);
        }
        drop(self.words);
        let recorded = self.parts.iter().map(|(ids, _)| ids.recorded_bytes()).sum();
        let mut whole = CorpusIds::with_capacity(recorded);
        whole.vocab_words = vocab_words;
        for (ids, to_merged) in self.parts {
            let to_vocab: Vec<u32> = to_merged.iter().map(|&n| renumber[n as usize]).collect();
            if !ids.finish_remapped_into(&to_vocab, &mut whole) {
                return None;
            }
        }
        Some(whole)
    }
}

/// [`count_part`] of the bytes `range` of `path`.
fn count_range(path: &Path, lowercase: bool, range: Range<u64>, budget: usize) -> Result<Part> {
    let expected = expected_id_bytes(range.end - range.start);
    count_part(
        CorpusReader::open_part(path, lowercase, range)?,
        budget,
        expected,
    )
}

/// A generous guess at the ids of `text_bytes` of text: a token and its space take 2 bytes or
/// more, and most ids take 1 or 2 (6.8 bytes of enwiki text a token, 1.7 bytes of ids).
fn expected_id_bytes(text_bytes: u64) -> usize {
    usize::try_from(text_bytes / 3).unwrap_or(usize::MAX)
}

/// Counts the words of `reader`, numbering them in order of first sight, and keeps its
/// sentences as those numbers while they take at most `budget` bytes (about `expected`).
fn count_part(mut reader: CorpusReader, budget: usize, expected: usize) -> Result<Part> {
    let mut part = Part {
        seen: FxHashMap::default(),
        counts: Vec::new(),
        ids: IdsBuilder::new(budget, expected),
        stats: CorpusStats::default(),
    };
    let mut batch = TokenBatch::default();
    loop {
        batch.clear();
        if !reader.read_batch(&mut batch, 100_000)? {
            break;
        }
        part.stats.tokens += batch.len() as u64;
        for sentence in batch.sentences() {
            part.stats.sentences += 1;
            let tokens = sentence.len();
            for i in sentence {
                let id = part.number(batch.token(i));
                part.counts[id as usize] += 1;
                part.ids.push_id(id);
            }
            part.ids.end_sentence(tokens);
        }
    }
    part.stats.invalid_utf8_tokens = reader.invalid_utf8_tokens();
    Ok(part)
}

impl Part {
    /// The number of `word`, a new one if it is new.
    #[inline]
    fn number(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.seen.get(word) {
            return id;
        }
        let id = self.counts.len() as u32;
        self.seen.insert(word.to_owned(), id);
        self.counts.push(0);
        id
    }
}
