//! The corpus reader, plain and gzip (the first byte picks): any bytes give sentences of at most
//! `MAX_SENTENCE_TOKENS` tokens of at most `MAX_TOKEN_BYTES` bytes, or an error, never a panic.
#![no_main]

use std::io::{BufRead, BufReader, Cursor};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use libfuzzer_sys::fuzz_target;
use word2vec::{CorpusReader, MAX_SENTENCE_TOKENS, TokenBatch};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let cursor = Cursor::new(bytes.to_vec());
    let inner: Box<dyn BufRead + Send> = if pick & 1 == 0 {
        Box::new(BufReader::with_capacity(64, cursor))
    } else {
        Box::new(BufReader::new(MultiGzDecoder::new(cursor)))
    };
    let mut reader = CorpusReader::from_reader(Path::new("fuzz"), inner, pick & 2 == 0);
    let mut batch = TokenBatch::default();
    while let Ok(true) = reader.read_batch(&mut batch, 100) {
        for sentence in batch.sentences() {
            assert!(!sentence.is_empty() && sentence.len() <= MAX_SENTENCE_TOKENS);
            for i in sentence {
                assert!(!batch.token(i).is_empty() && batch.token(i).len() <= 4 * 1000);
            }
        }
        batch.clear();
    }
});
