//! The corpus held in memory as vocabulary ids, so that epochs read no file and look up no word.
//!
//! Reading and hashing the tokens took a quarter of a CBOW epoch on 2 threads (perf: 16% in the
//! vocabulary's hash map, 11% reading), and every epoch repeated it; word2vec.c, gensim's
//! `corpus_file` mode and fastText all do. The vocabulary pass records the ids once
//! ([`IdsBuilder`]), and the epochs decode them ([`IdsCursor`]).
//!
//! Ids are stored as LEB128 varints (our own few lines: the `leb128` crates work on readers and
//! writers, one call per number). Ids are sorted by frequency, so the frequent words that make
//! up most of a text take one or two bytes, and enwiki-10M's 9.8M training words take 16 MiB with the sentences' lengths (about 1.7 bytes a
//! token), against 40 MB as `u32`s. Each sentence
//! keeps the number of tokens the file had (out-of-vocabulary ones too), so that batches are cut
//! exactly where [`CorpusReader::read_batch`](crate::CorpusReader::read_batch) cuts them: a run
//! gives the same vectors from memory as from the file.

use crate::corpus::{MAX_SENTENCE_TOKENS, TokenBatch};

/// In a renumbering (see [`IdsBuilder::finish_remapped_into`]): the word is not kept. A plain `u32`
/// rather than an `Option`, so that the table is half the size: its lookups miss the cache.
pub(crate) const DROPPED: u32 = u32::MAX;

/// The longest varint of a `u32`.
const MAX_ID_BYTES: usize = 5;

// A sentence's bytes and tokens are stored as `u16`s.
const _: () = assert!(MAX_SENTENCE_TOKENS * MAX_ID_BYTES <= u16::MAX as usize);

/// The corpus as vocabulary ids, sentence by sentence, in file order; out-of-vocabulary tokens
/// are dropped but counted. Built by [`Vocab::from_corpus_with_ids`](crate::Vocab::from_corpus_with_ids)
/// or [`Vocab::encode_corpus`](crate::Vocab::encode_corpus).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusIds {
    /// The ids, as varints.
    bytes: Vec<u8>,
    /// Per sentence: the length of its ids in `bytes`.
    sentence_bytes: Vec<u16>,
    /// Per sentence: the tokens the file had, in the vocabulary or not.
    sentence_tokens: Vec<u16>,
    /// The size of the vocabulary whose ids these are (training checks it).
    pub(crate) vocab_words: usize,
}

impl CorpusIds {
    /// No sentences yet, with room for `bytes` bytes of ids.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        CorpusIds {
            bytes: Vec::with_capacity(bytes),
            ..CorpusIds::default()
        }
    }

    /// The number of words of the vocabulary whose ids these are.
    pub fn vocab_words(&self) -> usize {
        self.vocab_words
    }

    /// Sentences held.
    pub fn sentences(&self) -> usize {
        self.sentence_bytes.len()
    }

    /// Memory held, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes.len() + 2 * (self.sentence_bytes.len() + self.sentence_tokens.len())
    }

    /// A cursor at the first sentence.
    pub(crate) fn cursor(&self) -> IdsCursor<'_> {
        IdsCursor {
            ids: self,
            sentence: 0,
            byte: 0,
        }
    }

    /// Appends the sentences of `self` to `out` with every id `i` replaced by `map[i]`,
    /// dropping those mapped to [`DROPPED`] (the counting pass's numbers, in order of first
    /// sight, become the vocabulary's).
    fn remap_into(&self, map: &[u32], out: &mut CorpusIds) {
        out.sentence_tokens.extend_from_slice(&self.sentence_tokens);
        let mut ids = Vec::new();
        let mut start = 0;
        for &len in &self.sentence_bytes {
            let end = start + usize::from(len);
            ids.clear();
            decode(&self.bytes[start..end], &mut ids);
            start = end;
            let before = out.bytes.len();
            for &id in &ids {
                let id = map[id as usize];
                if id != DROPPED {
                    encode(id, &mut out.bytes);
                }
            }
            // At most the tokens' count of varints of at most MAX_ID_BYTES: fits (see above).
            out.sentence_bytes.push((out.bytes.len() - before) as u16);
        }
    }
}

/// Records ids sentence by sentence, and gives up (freeing what it held) once they take more
/// than a budget: a corpus too large for memory is read from its file every epoch instead.
#[derive(Debug)]
pub(crate) struct IdsBuilder {
    ids: Option<CorpusIds>,
    max_bytes: usize,
    /// Where the open sentence's ids start in `ids.bytes`.
    open: usize,
}

impl IdsBuilder {
    /// A builder that holds at most `max_bytes` (0: records nothing), with room reserved for
    /// `expected` bytes of ids (memory is only touched as it fills; reserving spares the
    /// copies, and the freed blocks, of a vector that doubles).
    pub(crate) fn new(max_bytes: usize, expected: usize) -> Self {
        IdsBuilder {
            ids: (max_bytes > 0).then(|| CorpusIds::with_capacity(expected.min(max_bytes))),
            max_bytes,
            open: 0,
        }
    }

    /// Appends `id` to the open sentence.
    #[inline]
    pub(crate) fn push_id(&mut self, id: u32) {
        if let Some(ids) = &mut self.ids {
            encode(id, &mut ids.bytes);
        }
    }

    /// Closes the open sentence, which had `tokens` tokens in the file (at most
    /// [`MAX_SENTENCE_TOKENS`]).
    pub(crate) fn end_sentence(&mut self, tokens: usize) {
        let Some(ids) = &mut self.ids else { return };
        debug_assert!(tokens <= MAX_SENTENCE_TOKENS);
        ids.sentence_bytes
            .push((ids.bytes.len() - self.open) as u16);
        ids.sentence_tokens.push(tokens as u16);
        self.open = ids.bytes.len();
        if ids.size_bytes() > self.max_bytes {
            self.ids = None;
        }
    }

    /// Whether it still records (has not given up, or been given no budget).
    pub(crate) fn recording(&self) -> bool {
        self.ids.is_some()
    }

    /// The ids recorded, unless they outgrew the budget.
    pub(crate) fn finish(self) -> Option<CorpusIds> {
        self.ids
    }

    /// Bytes of ids recorded so far (0 once it gave up).
    pub(crate) fn recorded_bytes(&self) -> usize {
        self.ids.as_ref().map_or(0, |ids| ids.bytes.len())
    }

    /// Appends the ids recorded to `out` with every id `i` replaced by `map[i]` and those
    /// mapped to [`DROPPED`] dropped; false if they outgrew the budget.
    pub(crate) fn finish_remapped_into(self, map: &[u32], out: &mut CorpusIds) -> bool {
        self.ids.map(|ids| ids.remap_into(map, out)).is_some()
    }
}

/// A batch of sentences as vocabulary ids: what a training thread works on, whether the epoch
/// reads the file or [`CorpusIds`].
#[derive(Debug, Default, Clone)]
pub(crate) struct IdBatch {
    /// The vocabulary words of every sentence, in order.
    pub(crate) ids: Vec<u32>,
    /// Where each sentence ends in `ids` (a sentence with no vocabulary word is empty).
    sentence_ends: Vec<usize>,
}

impl IdBatch {
    /// Empties the batch, keeping its capacity.
    pub(crate) fn clear(&mut self) {
        self.ids.clear();
        self.sentence_ends.clear();
    }

    /// Replaces the batch with the ids `id_of` gives the words of `tokens` (the vocabulary's).
    pub(crate) fn encode(&mut self, tokens: &TokenBatch, id_of: impl Fn(&str) -> Option<u32>) {
        self.clear();
        for sentence in tokens.sentences() {
            self.ids
                .extend(sentence.filter_map(|i| id_of(tokens.token(i))));
            self.sentence_ends.push(self.ids.len());
        }
    }

    /// Number of sentences, empty ones included (the corpus position counts them).
    pub(crate) fn sentence_count(&self) -> usize {
        self.sentence_ends.len()
    }

    /// The sentences, each as a range of `ids`.
    pub(crate) fn sentences(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let mut start = 0;
        self.sentence_ends.iter().map(move |&end| {
            let range = start..end;
            start = end;
            range
        })
    }
}

/// A position in [`CorpusIds`], read batch by batch as a [`CorpusReader`](crate::CorpusReader)
/// reads its file.
#[derive(Debug, Clone)]
pub(crate) struct IdsCursor<'a> {
    ids: &'a CorpusIds,
    /// The next sentence.
    sentence: usize,
    /// Where its ids start.
    byte: usize,
}

impl IdsCursor<'_> {
    /// Skips the next `n` sentences (fewer left is not an error; the epoch then just ends).
    pub(crate) fn skip_sentences(&mut self, n: u64) {
        let end = usize::try_from(n)
            .map_or(usize::MAX, |n| self.sentence.saturating_add(n))
            .min(self.ids.sentences());
        let skipped = &self.ids.sentence_bytes[self.sentence..end];
        self.byte += skipped.iter().map(|&b| usize::from(b)).sum::<usize>();
        self.sentence = end;
    }

    /// Appends whole sentences to `batch` until they held at least `min_tokens` tokens in the
    /// file or the corpus ends. Returns false when nothing more could be read.
    pub(crate) fn read_batch(&mut self, batch: &mut IdBatch, min_tokens: usize) -> bool {
        let ids = self.ids;
        let mut tokens = 0;
        let first = self.sentence;
        while tokens < min_tokens && self.sentence < ids.sentences() {
            let end = self.byte + usize::from(ids.sentence_bytes[self.sentence]);
            decode(&ids.bytes[self.byte..end], &mut batch.ids);
            batch.sentence_ends.push(batch.ids.len());
            tokens += usize::from(ids.sentence_tokens[self.sentence]);
            self.byte = end;
            self.sentence += 1;
        }
        self.sentence > first
    }
}

/// Appends `id` as a LEB128 varint: seven bits a byte, low bits first, the top bit set on every
/// byte but the last.
#[inline]
fn encode(mut id: u32, out: &mut Vec<u8>) {
    while id >= 0x80 {
        out.push((id as u8) | 0x80);
        id >>= 7;
    }
    out.push(id as u8);
}

/// Appends the ids of `bytes` (whole varints) to `out`.
#[inline]
fn decode(bytes: &[u8], out: &mut Vec<u32>) {
    let mut id = 0u32;
    let mut shift = 0;
    for &b in bytes {
        id |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            out.push(id);
            id = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_every_length() {
        let ids = [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            u32::MAX,
        ];
        let mut bytes = Vec::new();
        for id in ids {
            encode(id, &mut bytes);
        }
        assert_eq!(bytes.len(), 3 + 3 * 2 + 2 * 3 + 4 + 5);
        let mut back = Vec::new();
        decode(&bytes, &mut back);
        assert_eq!(back, ids);
    }

    /// A builder fed `sentences` of (ids, tokens in the file).
    fn built(sentences: &[(&[u32], usize)], max_bytes: usize) -> Option<CorpusIds> {
        let mut b = IdsBuilder::new(max_bytes, 0);
        for (ids, tokens) in sentences {
            ids.iter().for_each(|&id| b.push_id(id));
            b.end_sentence(*tokens);
        }
        b.finish()
    }

    #[test]
    fn batches_cut_where_the_file_reader_cuts_them() {
        let sentences: [(&[u32], usize); 4] = [(&[1, 2, 3], 4), (&[], 2), (&[500], 1), (&[7], 3)];
        let ids = built(&sentences, 1 << 20).unwrap();
        assert_eq!(ids.sentences(), 4);
        let mut cursor = ids.cursor();
        let mut batch = IdBatch::default();
        // 4 file tokens reach 3; 2 + 1 reach 3; 3 reaches 3.
        assert!(cursor.read_batch(&mut batch, 3));
        assert_eq!(
            (batch.ids.clone(), batch.sentence_count()),
            (vec![1, 2, 3], 1)
        );
        batch.clear();
        assert!(cursor.read_batch(&mut batch, 3));
        assert_eq!(batch.ids, [500]);
        assert_eq!(batch.sentences().collect::<Vec<_>>(), [0..0, 0..1]);
        batch.clear();
        assert!(cursor.read_batch(&mut batch, 3));
        assert_eq!(batch.ids, [7]);
        assert!(!cursor.read_batch(&mut batch, 3));
        let mut skipping = ids.cursor();
        skipping.skip_sentences(2);
        batch.clear();
        assert!(skipping.read_batch(&mut batch, 1));
        assert_eq!(batch.ids, [500]);
        skipping.skip_sentences(u64::MAX);
        assert!(!skipping.read_batch(&mut batch, 1));
    }

    #[test]
    fn a_budget_too_small_gives_none_and_remapping_drops_and_renumbers() {
        let sentences: [(&[u32], usize); 2] = [(&[0, 1, 2, 1], 4), (&[2, 0], 3)];
        assert_eq!(built(&sentences, 6), None);
        let mut b = IdsBuilder::new(1 << 20, 1 << 10);
        for (ids, tokens) in sentences {
            ids.iter().for_each(|&id| b.push_id(id));
            b.end_sentence(tokens);
        }
        let mut ids = CorpusIds::default();
        assert!(b.finish_remapped_into(&[200, DROPPED, 0], &mut ids));
        let mut batch = IdBatch::default();
        assert!(ids.cursor().read_batch(&mut batch, 100));
        assert_eq!(batch.ids, [200, 0, 0, 200]);
        assert_eq!(batch.sentences().collect::<Vec<_>>(), [0..2, 2..4]);
        assert_eq!(ids.size_bytes(), 6 + 2 * 4);
    }
}
