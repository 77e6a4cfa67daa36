//! The Huffman tree of hierarchical softmax: each word's path of inner nodes from the root and
//! the branch (0/1) taken at each, built as word2vec.c builds it, so frequent words get short
//! codes.

/// Codes and inner-node ids of every word, stored flat (one allocation, cache-friendly).
#[derive(Debug, Clone)]
pub struct Huffman {
    offsets: Vec<usize>,
    codes: Vec<u8>,
    points: Vec<u32>,
}

impl Huffman {
    /// Builds the tree for `counts`, which must be sorted in descending order (as a [`Vocab`]
    /// is). There are `counts.len() - 1` inner nodes, numbered 0.., the root last.
    ///
    /// [`Vocab`]: crate::Vocab
    pub fn new(counts: &[u64]) -> Self {
        let n = counts.len();
        if n < 2 {
            // One word: a single inner node, code 0, so training still has a target.
            return Huffman {
                offsets: vec![0, n],
                codes: vec![0; n],
                points: vec![0; n],
            };
        }
        // Nodes 0..n are leaves (sorted descending); n..2n-1 are inner nodes, created in
        // increasing weight order, so two cursors find the two lightest nodes in O(1).
        let mut weight: Vec<u64> = Vec::with_capacity(2 * n - 1);
        weight.extend_from_slice(counts);
        let mut parent = vec![0usize; 2 * n - 1];
        let mut is_right = vec![0u8; 2 * n - 1];
        let mut leaf = n as isize - 1; // lightest unused leaf
        let mut inner = n; // lightest unused inner node
        let take = |weight: &Vec<u64>, leaf: &mut isize, inner: &mut usize| -> usize {
            if *leaf >= 0 && (*inner >= weight.len() || weight[*leaf as usize] < weight[*inner]) {
                *leaf -= 1;
                (*leaf + 1) as usize
            } else {
                *inner += 1;
                *inner - 1
            }
        };
        for _ in 0..n - 1 {
            let a = take(&weight, &mut leaf, &mut inner);
            let b = take(&weight, &mut leaf, &mut inner);
            let node = weight.len();
            weight.push(weight[a] + weight[b]);
            parent[a] = node;
            parent[b] = node;
            is_right[b] = 1;
        }
        let root = 2 * n - 2;
        let mut offsets = Vec::with_capacity(n + 1);
        let mut codes = Vec::new();
        let mut points = Vec::new();
        offsets.push(0);
        let mut path_codes = Vec::new();
        let mut path_points = Vec::new();
        for word in 0..n {
            path_codes.clear();
            path_points.clear();
            let mut node = word;
            while node != root {
                path_codes.push(is_right[node]);
                node = parent[node];
                path_points.push((node - n) as u32);
            }
            // Root first, as the training loop walks it.
            codes.extend(path_codes.iter().rev());
            points.extend(path_points.iter().rev());
            offsets.push(codes.len());
        }
        Huffman {
            offsets,
            codes,
            points,
        }
    }

    /// The branch taken at each inner node on the path of `word`, root first.
    #[inline(always)]
    pub fn code(&self, word: u32) -> &[u8] {
        let w = word as usize;
        &self.codes[self.offsets[w]..self.offsets[w + 1]]
    }

    /// The inner nodes on the path of `word`, root first.
    #[inline(always)]
    pub fn points(&self, word: u32) -> &[u32] {
        let w = word as usize;
        &self.points[self.offsets[w]..self.offsets[w + 1]]
    }

    /// Number of inner nodes (rows of the hierarchical-softmax output matrix).
    pub fn inner_nodes(&self) -> usize {
        (self.offsets.len() - 1).saturating_sub(1).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_on_a_known_distribution() {
        // Weights 45,13,12,16,9,5 (the CLRS example), sorted: 45,16,13,12,9,5.
        let h = Huffman::new(&[45, 16, 13, 12, 9, 5]);
        let lens: Vec<usize> = (0..6).map(|w| h.code(w).len()).collect();
        assert_eq!(lens, [1, 3, 3, 3, 4, 4]);
        // Prefix-free, and the root is the last inner node on every path.
        let codes: Vec<String> = (0..6)
            .map(|w| h.code(w).iter().map(|b| (b'0' + b) as char).collect())
            .collect();
        // The exact codes word2vec.c's CreateBinaryTree assigns (computed by hand from its
        // two-cursor construction: the second node taken at each merge gets code 1).
        assert_eq!(codes, ["0", "111", "101", "100", "1101", "1100"]);
        for a in &codes {
            for b in &codes {
                assert!(a == b || !b.starts_with(a.as_str()), "{a} prefixes {b}");
            }
        }
        for w in 0..6 {
            assert_eq!(h.points(w)[0], 4, "root first");
            assert!(h.points(w).iter().all(|&p| p < 5));
        }
        assert_eq!(h.inner_nodes(), 5);
        // Expected code length sum of weights*len equals the optimal 224.
        let cost: u64 = [45u64, 16, 13, 12, 9, 5]
            .iter()
            .zip(&lens)
            .map(|(w, l)| w * *l as u64)
            .sum();
        assert_eq!(cost, 224);
    }

    #[test]
    fn two_words_and_one_word() {
        let h = Huffman::new(&[3, 1]);
        assert_eq!(h.code(0).len(), 1);
        assert_ne!(h.code(0), h.code(1));
        let one = Huffman::new(&[7]);
        assert_eq!(one.code(0), [0]);
        assert_eq!(one.points(0), [0]);
    }
}
