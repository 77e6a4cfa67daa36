//! The sampling tables in the flat layout the kernel reads: the negatives' alias table as two
//! arrays, and the Huffman codes and paths of every word concatenated, with offsets.

use super::super::engine::Engine;

/// The tables on the host, before they are uploaded. An unused table holds one zero, because a
/// GPU buffer cannot be empty.
pub(super) struct HostTables {
    /// Per slot of the alias table: the probability (scaled to u32) of keeping the slot's word.
    pub(super) alias_prob: Vec<u32>,
    /// Per slot: the word taken otherwise.
    pub(super) alias_word: Vec<u32>,
    /// Word `w`'s code and path are `codes/points[code_starts[w]..code_starts[w + 1]]`.
    pub(super) code_starts: Vec<u32>,
    /// Huffman codes (0 or 1), one `u32` each.
    pub(super) codes: Vec<u32>,
    /// Inner nodes on each word's path.
    pub(super) points: Vec<u32>,
}

impl HostTables {
    /// The tables of `engine`'s vocabulary.
    pub(super) fn new(engine: &Engine) -> Self {
        let words = engine.vocab.len();
        let (alias_prob, alias_word) = match &engine.negatives {
            Some(table) => table.slots().iter().copied().unzip(),
            // Never read: the kernel draws no negatives. The vocabulary size still comes from
            // this table's length, so it keeps one slot per word.
            None => (vec![0; words], vec![0; words]),
        };
        let mut code_starts = vec![0u32];
        let (mut codes, mut points) = (Vec::new(), Vec::new());
        if let Some(huffman) = &engine.huffman {
            for w in 0..words as u32 {
                codes.extend(huffman.code(w).iter().map(|&c| c as u32));
                points.extend_from_slice(huffman.points(w));
                code_starts.push(codes.len() as u32);
            }
        } else {
            code_starts.resize(words + 1, 0);
        }
        if codes.is_empty() {
            codes.push(0);
            points.push(0);
        }
        HostTables {
            alias_prob,
            alias_word,
            code_starts,
            codes,
            points,
        }
    }
}
