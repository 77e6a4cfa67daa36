//! Where an epoch's batches come from: the corpus file, read and looked up in the vocabulary
//! as it goes, or the corpus held as vocabulary ids ([`CorpusIds`]), which skips both. Either
//! way a batch holds the same sentences, so a run trains the same vectors from both.

use crate::corpus::{CorpusReader, TokenBatch};
use crate::corpus_ids::{CorpusIds, IdBatch, IdsCursor};
use crate::error::Result;
use crate::params::DataParams;

/// Tokens a worker takes at a time: large enough to make the lock rare, small enough that
/// threads finish an epoch together.
pub(super) const BATCH_TOKENS: usize = 10_000;

/// An epoch's position in the corpus.
pub(super) enum Source<'a> {
    /// Reading the file.
    File(CorpusReader),
    /// Reading the ids in memory.
    Memory(IdsCursor<'a>),
}

/// What [`Source::read_batch`] took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taken {
    /// Tokens from the file, for the caller to look up outside the source's lock.
    Tokens,
    /// Ids, ready to train on.
    Ids,
}

impl<'a> Source<'a> {
    /// The start of `data`'s corpus: `ids` when given, else its file.
    pub(super) fn open(data: &DataParams, ids: Option<&'a CorpusIds>) -> Result<Self> {
        Ok(match ids {
            Some(ids) => Source::Memory(ids.cursor()),
            None => Source::File(CorpusReader::open(&data.corpus, data.lowercase)?),
        })
    }

    /// Skips the next `n` sentences: where a resumed epoch continues.
    pub(super) fn skip_sentences(&mut self, n: u64) -> Result<()> {
        match self {
            Source::File(reader) => reader.skip_sentences(n),
            Source::Memory(cursor) => {
                cursor.skip_sentences(n);
                Ok(())
            }
        }
    }

    /// Takes the next [`BATCH_TOKENS`] tokens' worth of whole sentences: into `tokens` from the
    /// file, into `batch` from memory. `None` at the end of the corpus.
    pub(super) fn read_batch(
        &mut self,
        tokens: &mut TokenBatch,
        batch: &mut IdBatch,
    ) -> Result<Option<Taken>> {
        let taken = match self {
            Source::File(reader) => {
                tokens.clear();
                reader
                    .read_batch(tokens, BATCH_TOKENS)?
                    .then_some(Taken::Tokens)
            }
            Source::Memory(cursor) => {
                batch.clear();
                cursor.read_batch(batch, BATCH_TOKENS).then_some(Taken::Ids)
            }
        };
        Ok(taken)
    }
}
