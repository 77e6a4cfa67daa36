//! A masked batch as tensors: the MLM masks of each sequence drawn from its own generator, the
//! ids `[batch, seq]`, and the flattened positions and ids to predict.

use burn::prelude::*;
use common::Rng;

use super::masking::{IGNORE, MaskingConfig, mask_tokens};
use super::tokenizer::SpecialIds;
use crate::model::MaskedRows;

/// One batch ready for the model: ids `[batch, seq]`, the masked positions and their targets.
pub struct Batch {
    /// Input ids `[batch, seq]`, masked.
    pub ids: Tensor<2, Int>,
    /// The original ids at those positions.
    pub targets: Tensor<1, Int>,
    /// How many positions are masked.
    pub masked: usize,
    /// The masked positions (flattened, `row * seq + position`) as the last layer's query rows
    /// ([`crate::model::MlmModel::masked_logits`]).
    pub rows: MaskedRows,
}

/// What masking a batch needs: the masking settings and the special ids never masked.
#[derive(Debug, Clone, PartialEq)]
pub struct Masker {
    /// Probability, `[MASK]` id and the range random replacements come from.
    pub masking: MaskingConfig,
    /// `[CLS]`, `[SEP]` and `[PAD]` are never masked.
    pub special: SpecialIds,
}

impl Masker {
    /// Masks `sequences` (all of one length), row `r` with the generator `rngs(r)`, and puts
    /// them on `device`.
    pub fn batch(
        &self,
        sequences: &[&Vec<u32>],
        rngs: &mut dyn FnMut(usize) -> Rng,
        device: &Device,
    ) -> Batch {
        let (masking, special) = (&self.masking, &self.special);
        let seq = sequences[0].len();
        let mut ids = Vec::with_capacity(sequences.len() * seq);
        let (mut at, mut targets) = (Vec::new(), Vec::new());
        for (row, s) in sequences.iter().enumerate() {
            let m = mask_tokens(s, |id| special.is_structural(id), masking, &mut rngs(row));
            for (pos, (&input, &label)) in m.input.iter().zip(&m.labels).enumerate() {
                ids.push(input as i64);
                if label != IGNORE {
                    at.push((row * seq + pos) as i64);
                    targets.push(label);
                }
            }
        }
        let masked = at.len();
        let rows = MaskedRows::new(&at, sequences.len(), seq, device);
        Batch {
            ids: Tensor::<1, Int>::from_ints(ids.as_slice(), device)
                .reshape([sequences.len(), seq]),
            targets: Tensor::<1, Int>::from_ints(targets.as_slice(), device),
            masked,
            rows,
        }
    }
}
