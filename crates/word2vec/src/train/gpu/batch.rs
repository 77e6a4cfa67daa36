//! A batch of sentences for the GPU, made on the host while the GPU trains the previous one: the
//! corpus read sentence by sentence, tokens mapped to ids and subsampled (the CPU engine's rules
//! and generator), and each sentence's learning rate fixed from the words read before it.

use crate::corpus::{CorpusReader, TokenBatch};
use crate::error::Result;
use crate::sampling::{Rng, keep};

use super::super::engine::Engine;

/// Sentences of word ids, flattened, with what the kernel needs to train them.
#[derive(Debug, Default, Clone)]
pub(super) struct Batch {
    /// Word ids after subsampling, sentence after sentence.
    pub(super) tokens: Vec<u32>,
    /// Sentence `s` is `tokens[starts[s]..starts[s + 1]]`; starts with 0.
    pub(super) starts: Vec<u32>,
    /// Each sentence's learning rate.
    pub(super) alphas: Vec<f32>,
    /// Vocabulary words read for this batch, before subsampling (the learning rate's clock).
    pub(super) words: u64,
}

/// Where a batch stops growing.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Tokens (after subsampling).
    pub(super) tokens: usize,
    /// Sentences.
    pub(super) sentences: usize,
    /// Tokens of one sentence: longer ones are cut into pieces this long.
    pub(super) sentence_tokens: usize,
}

impl Batch {
    /// Sentences in the batch.
    pub(super) fn sentences(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// Empties the batch and fills it from `reader` until a limit is reached or the corpus
    /// ends. `words_done` and `words_total` place it on the learning rate's schedule. Returns
    /// false when the corpus had nothing more.
    pub(super) fn fill(
        &mut self,
        source: &mut Source<'_>,
        words_done: u64,
        words_total: u64,
        limits: Limits,
    ) -> Result<bool> {
        self.tokens.clear();
        self.starts.clear();
        self.starts.push(0);
        self.alphas.clear();
        self.words = 0;
        let mut read_any = false;
        while self.tokens.len() < limits.tokens && self.sentences() < limits.sentences {
            source.text.clear();
            if !source.reader.read_sentence(&mut source.text)? {
                break;
            }
            source.sentences += 1;
            read_any = true;
            let before = self.tokens.len();
            for i in 0..source.text.len() {
                if let Some(id) = source.engine.vocab.id(source.text.token(i)) {
                    self.words += 1;
                    if keep(source.engine.keep[id as usize], &mut source.rng) {
                        self.tokens.push(id);
                    }
                }
            }
            let alpha = source.engine.alpha_at(words_done + self.words, words_total) as f32;
            let mut from = before;
            while from < self.tokens.len() {
                let to = (from + limits.sentence_tokens).min(self.tokens.len());
                if to - from < 2 {
                    // No pair to train: the words still count for the learning rate.
                    self.tokens.truncate(from);
                    break;
                }
                self.starts.push(to as u32);
                self.alphas.push(alpha);
                from = to;
            }
        }
        Ok(read_any)
    }
}

/// Where batches come from: the corpus of an epoch, and the generator that subsamples it.
pub(super) struct Source<'a> {
    /// The corpus.
    pub(super) reader: CorpusReader,
    /// The vocabulary, keep thresholds and learning-rate schedule.
    pub(super) engine: &'a Engine<'a>,
    /// Subsampling's generator.
    pub(super) rng: Rng,
    /// The sentence being read.
    pub(super) text: TokenBatch,
    /// Sentences read in the epoch (the corpus position a checkpoint records).
    pub(super) sentences: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{ModelParams, TrainParams};
    use crate::vocab::Vocab;

    /// A source over `text` with no subsampling and a rate that falls from the first word, and
    /// its engine's vocabulary.
    fn batches(text: &str, limits: Limits) -> Vec<Batch> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        std::fs::write(&path, text).unwrap();
        let (vocab, _) = Vocab::from_corpus(&path, false, 1, 0).unwrap();
        let train = TrainParams {
            sample: 0.0,
            alpha_hold: Some(0.0),
            ..TrainParams::default()
        };
        let engine = Engine::new(&vocab, &ModelParams::default(), &train);
        let mut source = Source {
            reader: CorpusReader::open(&path, false).unwrap(),
            engine: &engine,
            rng: Rng::new(1),
            text: TokenBatch::default(),
            sentences: 0,
        };
        let mut out = Vec::new();
        let mut batch = Batch::default();
        let mut done = 0;
        while batch.fill(&mut source, done, 1000, limits).unwrap() {
            done += batch.words;
            out.push(batch.clone());
        }
        out
    }

    #[test]
    fn long_sentences_are_cut_and_lone_words_count_but_do_not_train() {
        let limits = Limits {
            tokens: 1000,
            sentences: 1000,
            sentence_tokens: 3,
        };
        // 7 words: pieces of 3, 3 and 1 (dropped); a one-word line is dropped too.
        let b = batches("a b c d e f g\nh\ni j\n", limits);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].starts, [0, 3, 6, 8]);
        assert_eq!(b[0].tokens.len(), 8);
        assert_eq!(b[0].words, 10, "every vocabulary word counts");
        assert_eq!(b[0].sentences(), 3);
        // Pieces of one line share its learning rate; a later line's is lower.
        assert_eq!(b[0].alphas[0], b[0].alphas[1]);
        assert!(b[0].alphas[2] < b[0].alphas[1]);
    }

    #[test]
    fn a_batch_stops_at_its_token_or_sentence_limit() {
        let text = "a b c\n".repeat(10);
        let by_tokens = Limits {
            tokens: 7,
            sentences: 1000,
            sentence_tokens: 1000,
        };
        let sizes: Vec<usize> = batches(&text, by_tokens)
            .iter()
            .map(Batch::sentences)
            .collect();
        assert_eq!(sizes, [3, 3, 3, 1]);
        let by_sentences = Limits {
            sentences: 4,
            ..by_tokens
        };
        let b = batches(&text, by_sentences);
        assert_eq!(b.iter().map(|b| b.words).sum::<u64>(), 30);
        assert!(b.iter().all(|b| b.sentences() <= 4));
    }
}
