//! Word2Vec as word2vec.c defines it — skip-gram and CBOW, negative sampling and hierarchical
//! softmax, Hogwild threads — plus the word2vec file formats, nearest-neighbour queries and the
//! standard analogy and similarity evaluations.
//!
//! The library knows nothing of configs, the command line or TensorBoard: it takes a
//! [`TrainParams`] and reports through an [`Observer`].
//!
//! ```no_run
//! use word2vec::{Vocab, TrainParams, train};
//! # fn main() -> word2vec::Result<()> {
//! let corpus = std::path::Path::new("corpus.txt");
//! let (vocab, _stats) = Vocab::from_corpus(corpus, false, 5, 0)?;
//! let vectors = train(corpus, false, &vocab, &TrainParams::default(),
//!                     std::time::Duration::from_secs(1), &mut ())?;
//! # Ok(()) }
//! ```

mod corpus;
mod error;
mod eval;
mod huffman;
mod sampling;
mod train;
mod vectors;
mod vocab;

pub use corpus::{CorpusReader, MAX_SENTENCE_TOKENS, TokenBatch, check_corpus_path};
pub use error::{Error, Result};
pub use eval::{
    AnalogyResult, AnalogySet, Index, Neighbour, SectionResult, SimilarityResult, SimilaritySet,
    spearman,
};
pub use huffman::Huffman;
pub use sampling::{NegativeTable, Rng, keep_thresholds};
pub use train::{Arch, EpochSummary, Observer, Progress, TrainParams, train};
pub use vectors::{Embeddings, Format};
pub use vocab::{CorpusStats, Vocab};
