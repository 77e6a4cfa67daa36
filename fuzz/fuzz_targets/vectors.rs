//! The word2vec vectors readers (`.bin` and `.txt`): any bytes give vectors or an error, never a
//! panic or an allocation beyond what the bytes can hold. The first byte picks the format.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use word2vec::{Embeddings, Format};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = if pick & 1 == 0 {
        Format::Binary
    } else {
        Format::Text
    };
    let size = bytes.len() as u64;
    if let Ok(vectors) = Embeddings::read_from(Path::new("fuzz"), &mut &bytes[..], size, format) {
        assert_eq!(vectors.data().len(), vectors.len() * vectors.dim());
    }
});
