//! From text to training examples: the tokenizer ([`tokenizer`]), the cached token stream and
//! its packing into sequences ([`stream`]), the held-out split ([`sequences`]), MLM masking
//! ([`masking`]) and masked batches as tensors ([`batch`]).

pub mod batch;
pub mod masking;
pub mod sequences;
pub mod stream;
pub mod tokenizer;
