//! Masked-language-model masking, as BERT (and HF's `DataCollatorForLanguageModeling`) does it:
//! each non-special token is chosen with probability `mask_prob`; a chosen token is replaced by
//! `[MASK]` 80% of the time, by a random token 10% of the time, and left unchanged 10% of the
//! time; the loss is computed on chosen positions only.
//!
//! The caller owns the random generator, so training can draw new masks every epoch while
//! evaluation seeds one generator per held-out sequence and gets the same masks at every
//! evaluation (eval losses stay comparable between steps).

use common::Rng;

use super::tokenizer::SpecialIds;

/// Label of a position that is not predicted (PyTorch's `ignore_index` convention).
pub const IGNORE: i64 = -100;

/// What masking needs to know about the vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskingConfig {
    /// Probability that a non-special token is chosen for prediction (BERT: 0.15).
    pub mask_prob: f64,
    /// Id of `[MASK]`.
    pub mask_id: u32,
    /// Random replacements are drawn uniformly from `first_regular_id..vocab_size`, so they
    /// never inject a special token (special tokens come first in our vocabularies).
    pub first_regular_id: u32,
    /// Vocabulary size.
    pub vocab_size: u32,
}

impl MaskingConfig {
    /// Masking with probability `mask_prob` for a tokenizer of `vocab_size` tokens whose special
    /// ids are `special`.
    pub fn new(mask_prob: f64, special: &SpecialIds, vocab_size: usize) -> Self {
        MaskingConfig {
            mask_prob,
            mask_id: special.mask,
            first_regular_id: special.first_regular(),
            vocab_size: vocab_size as u32,
        }
    }
}

/// A masked sequence: the model's input and, per position, the id to predict or [`IGNORE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// Input ids with chosen positions replaced.
    pub input: Vec<u32>,
    /// Original id at chosen positions, [`IGNORE`] elsewhere.
    pub labels: Vec<i64>,
}

/// Masks `ids`; positions where `is_special` holds are never chosen.
pub fn mask_tokens(
    ids: &[u32],
    is_special: impl Fn(u32) -> bool,
    config: &MaskingConfig,
    rng: &mut Rng,
) -> Masked {
    // Compared in 32 bits, like the subsampling of the word2vec crate.
    let threshold = (config.mask_prob.clamp(0.0, 1.0) * u32::MAX as f64) as u32;
    let regular = config
        .vocab_size
        .saturating_sub(config.first_regular_id)
        .max(1);
    let mut input = ids.to_vec();
    let mut labels = vec![IGNORE; ids.len()];
    for (i, &id) in ids.iter().enumerate() {
        if is_special(id) || ((rng.next_u64() >> 32) as u32) >= threshold {
            continue;
        }
        labels[i] = i64::from(id);
        let action = rng.below(10);
        input[i] = match action {
            0..=7 => config.mask_id,
            8 => config.first_regular_id + rng.below(regular),
            _ => id,
        };
    }
    Masked { input, labels }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAD: u32 = 0;
    const CLS: u32 = 2;
    const SEP: u32 = 3;
    const MASK: u32 = 4;

    fn config() -> MaskingConfig {
        MaskingConfig {
            mask_prob: 0.15,
            mask_id: MASK,
            first_regular_id: 5,
            vocab_size: 1000,
        }
    }

    /// 200 sequences of `[CLS] 100 tokens [SEP] [PAD] [PAD]`.
    fn sequences() -> Vec<Vec<u32>> {
        let mut rng = Rng::new(99);
        (0..200)
            .map(|_| {
                let mut s = vec![CLS];
                s.extend((0..100).map(|_| 5 + rng.below(995)));
                s.extend([SEP, PAD, PAD]);
                s
            })
            .collect()
    }

    #[test]
    fn fifteen_percent_chosen_split_80_10_10_and_specials_never_chosen() {
        let special = |id: u32| id < 5;
        let mut rng = Rng::new(1);
        let (mut regular, mut chosen, mut masked, mut random, mut kept) = (0, 0, 0, 0, 0);
        for ids in sequences() {
            let m = mask_tokens(&ids, special, &config(), &mut rng);
            for (i, &id) in ids.iter().enumerate() {
                if special(id) {
                    assert_eq!(m.labels[i], IGNORE, "special token chosen");
                    assert_eq!(m.input[i], id);
                    continue;
                }
                regular += 1;
                if m.labels[i] == IGNORE {
                    assert_eq!(m.input[i], id, "unchosen token changed");
                    continue;
                }
                assert_eq!(m.labels[i], i64::from(id));
                chosen += 1;
                match m.input[i] {
                    MASK => masked += 1,
                    x if x == id => kept += 1,
                    x => {
                        assert!((5..1000).contains(&x), "random replacement {x} is special");
                        random += 1;
                    }
                }
            }
        }
        let rate = chosen as f64 / regular as f64;
        assert!((rate - 0.15).abs() < 0.01, "chosen {rate}");
        let frac = |n: i32| n as f64 / chosen as f64;
        assert!((frac(masked) - 0.8).abs() < 0.03, "mask {}", frac(masked));
        // A random draw equal to the original counts as kept (probability 1/995).
        assert!((frac(random) - 0.1).abs() < 0.02, "random {}", frac(random));
        assert!((frac(kept) - 0.1).abs() < 0.02, "kept {}", frac(kept));
    }

    #[test]
    fn the_same_seed_gives_the_same_masks_and_another_seed_others() {
        let ids = &sequences()[0];
        let special = |id: u32| id < 5;
        let a = mask_tokens(ids, special, &config(), &mut Rng::new(7));
        let b = mask_tokens(ids, special, &config(), &mut Rng::new(7));
        let c = mask_tokens(ids, special, &config(), &mut Rng::new(8));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
