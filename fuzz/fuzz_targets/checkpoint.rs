//! The Word2Vec checkpoint loader: any bytes give a checkpoint or an error naming the byte
//! offset, never a panic or an allocation beyond what the bytes can hold.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use word2vec::Checkpoint;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Checkpoint::read_from(Path::new("fuzz"), data, data.len() as u64) {
        let dim = c.progress.model.dim;
        assert_eq!(c.weights.input.len(), c.vocab.len() * dim);
        assert_eq!(c.vocab.len(), c.progress.vocab_words);
    }
});
