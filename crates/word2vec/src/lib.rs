//! Word2Vec as word2vec.c defines it — skip-gram and CBOW, negative sampling and hierarchical
//! softmax, Hogwild threads — plus the word2vec file formats, nearest-neighbour queries and the
//! standard analogy and similarity evaluations.
//!
//! The library knows nothing of configs, the command line or TensorBoard: it takes typed
//! parameters ([`DataParams`], [`ModelParams`], [`TrainParams`]; serde-ready, so a config file
//! can nest them, each with its defaults and `validate`) and reports through an [`Observer`]
//! ([`IntervalReport`] every few seconds, [`EpochSummary`] after each epoch).
//!
//! ```no_run
//! use word2vec::{DataParams, ModelParams, TrainParams, Vocab, train};
//! # fn main() -> word2vec::Result<()> {
//! let data = DataParams::new("corpus.txt");
//! // One pass over the file: the vocabulary, and the corpus as its ids if they fit in memory.
//! let (vocab, _stats, ids) = Vocab::from_corpus_with_ids(
//!     &data.corpus,
//!     data.lowercase,
//!     data.min_count,
//!     data.max_vocab,
//!     2, // threads
//!     data.cache_bytes(),
//! )?;
//! let model = ModelParams { dim: 50, ..ModelParams::default() };
//! let vectors = train(&data, &model, &TrainParams::default(), &vocab, ids.as_ref(), &mut ())?;
//! # Ok(()) }
//! ```

mod checkpoint;
mod corpus;
mod corpus_ids;
mod count;
mod error;
mod eval;
mod huffman;
mod params;
mod sampling;
mod train;
mod vectors;
mod vocab;

pub use checkpoint::{CHECKPOINT_FILE, Checkpoint, Progress, Weights};
pub use corpus::{
    CorpusReader, MAX_LINE_SEARCH, MAX_SENTENCE_TOKENS, TokenBatch, check_corpus_path, line_parts,
};
pub use corpus_ids::CorpusIds;
pub use count::CorpusStats;
pub use error::{Error, Result};
pub use eval::{
    AnalogyResult, AnalogySet, Index, Neighbour, SectionResult, SimilarityResult, SimilaritySet,
    spearman,
};
pub use huffman::Huffman;
pub use params::{Arch, DataParams, Device, ModelParams, TrainParams};
pub use sampling::{NegativeTable, Rng, keep_thresholds};
pub use train::{
    Checkpoints, EpochSummary, IntervalReport, Observer, open_device, train, train_checkpointed,
};
pub use vectors::{Embeddings, Format};
pub use vocab::Vocab;
