//! The positions the MLM head scores, arranged so that the last encoder layer computes only them.
//!
//! Only the masked positions reach the loss, and in the last layer a position's output depends on
//! the other positions only through their keys and values. So the last layer needs its queries,
//! attention output, residuals, LayerNorms and feed-forward block at the masked positions alone
//! (15% of them), and keys and values everywhere: the same numbers for the rows that count, and
//! about a sixth less arithmetic for a 4-layer model. HF's `BertForMaskedLM` computes the last
//! layer at every position.
//!
//! Sequences hold different numbers of masked positions, and attention runs sequence by sequence,
//! so each sequence gets the same number of query rows (the most any of them has), the spare
//! ones repeating one of its positions; their outputs are never picked, so they get no gradient.

use burn::prelude::*;

/// Masked positions of a `[batch, seq]` input as query rows for the last layer, and where each
/// masked position's output is among them.
#[derive(Debug, Clone)]
pub struct MaskedRows {
    /// `[batch * per_row]` flattened positions (`row * seq + position`): sequence `b`'s masked
    /// positions in order, then repeats of one of its positions up to `per_row`.
    pub(crate) queries: Tensor<1, Int>,
    /// Query rows per sequence: the most masked positions any sequence has (at least 1).
    pub(crate) per_row: usize,
    /// For each masked position, in the order of `at`, its index among the query rows.
    pub(crate) pick: Tensor<1, Int>,
    /// The `[batch, seq]` input these rows are for.
    pub(crate) dims: [usize; 2],
}

impl MaskedRows {
    /// The rows for the flattened masked positions `at` (`row * seq + position`, each below
    /// `batch * seq`; callers pass the positions they drew, never user input) of a
    /// `batch × seq` input.
    pub fn new(at: &[i64], batch: usize, seq: usize, device: &Device) -> Self {
        let dims = [batch, seq];
        let seq = seq.max(1);
        let row_of = |flat: i64| {
            let row = usize::try_from(flat).map_or(0, |f| f / seq);
            row.min(batch.saturating_sub(1))
        };
        debug_assert!(at.iter().all(|&f| (0..(batch * seq) as i64).contains(&f)));
        let mut rows: Vec<Vec<i64>> = vec![Vec::new(); batch];
        // Each masked position's sequence and its rank among that sequence's masked positions.
        let mut place = Vec::with_capacity(at.len());
        for &flat in at {
            let row = row_of(flat);
            place.push((row, rows[row].len()));
            rows[row].push(flat);
        }
        let per_row = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut queries = Vec::with_capacity(batch * per_row);
        for (b, row) in rows.iter().enumerate() {
            let spare = row.first().copied().unwrap_or((b * seq) as i64);
            queries.extend(row.iter().copied());
            queries.extend(std::iter::repeat_n(spare, per_row - row.len()));
        }
        let pick: Vec<i64> = place
            .iter()
            .map(|&(row, k)| (row * per_row + k) as i64)
            .collect();
        MaskedRows {
            queries: Tensor::<1, Int>::from_ints(queries.as_slice(), device),
            per_row,
            pick: Tensor::<1, Int>::from_ints(pick.as_slice(), device),
            dims,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(t: Tensor<1, Int>) -> Vec<i64> {
        t.into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .unwrap()
    }

    #[test]
    fn rows_are_padded_per_sequence_and_pick_finds_each_masked_position() {
        let device = Device::flex();
        // 3 sequences of 5: two masked in the first, none in the second, three in the third.
        let at = [1, 3, 10, 12, 14];
        let rows = MaskedRows::new(&at, 3, 5, &device);
        assert_eq!(rows.per_row, 3);
        let queries = ints(rows.queries);
        assert_eq!(queries, [1, 3, 1, 5, 5, 5, 10, 12, 14]);
        let pick = ints(rows.pick);
        let picked: Vec<i64> = pick.iter().map(|&i| queries[i as usize]).collect();
        assert_eq!(picked, at);

        // Any order of `at`: pick follows it.
        let shuffled = [12, 1, 14, 3, 10];
        let rows = MaskedRows::new(&shuffled, 3, 5, &device);
        let queries = ints(rows.queries);
        let picked: Vec<i64> = ints(rows.pick)
            .iter()
            .map(|&i| queries[i as usize])
            .collect();
        assert_eq!(picked, shuffled);
    }
}
