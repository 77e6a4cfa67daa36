//! Word vectors for the token embeddings (`model.init_embeddings`): the word2vec vector of every
//! whole-word token of a vocabulary, which no peer toolkit offers to start an encoder from.

use std::collections::HashMap;

use crate::data::tokenizer::whole_word;

/// The word vector of every whole-word token of `vocab` (token → id) found in `vectors`
/// (exactly, else lowercased), sorted by id; WordPiece continuations and special tokens have no
/// word vector, and BPE's end-of-word marker is dropped before the lookup
/// ([`whole_word`]).
pub fn token_vectors(
    vocab: &HashMap<String, u32>,
    vectors: &word2vec::Embeddings,
) -> Vec<(u32, Vec<f32>)> {
    let mut exact = HashMap::new();
    let mut lower = HashMap::new();
    for (i, w) in vectors.words().iter().enumerate() {
        exact.entry(w.as_str()).or_insert(i);
        lower.entry(w.to_lowercase()).or_insert(i);
    }
    let mut rows: Vec<(u32, Vec<f32>)> = vocab
        .iter()
        .filter_map(|(token, &id)| {
            let word = whole_word(token)?;
            exact
                .get(word)
                .copied()
                .or_else(|| lower.get(&word.to_lowercase()).copied())
                .map(|i| (id, vectors.vector(i).to_vec()))
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    rows
}
