//! Evaluation on the held-out sequences with fixed masks: each held-out sequence always gets the
//! masks of its own seed, so eval losses are comparable between steps.

use burn::nn::loss::CrossEntropyLossConfig;
use common::Rng;
use rayon::prelude::*;

use crate::data::batch::Masker;
use crate::model::MlmModel;

/// Loss and accuracy on the held-out sequences.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The step after which it was measured.
    pub step: u64,
    /// Mean cross-entropy over all masked held-out tokens.
    pub loss: f64,
    /// exp(loss).
    pub perplexity: f64,
    /// Share of masked tokens predicted exactly.
    pub accuracy: f64,
}

/// Loss, perplexity and accuracy on `valid` in batches of `batch_size`, with fixed masks
/// (sequence `i` always masked with the generator seeded by the run's `seed` and `i`). `model`
/// should be in its inference form ([`Module::valid`]): batches run on rayon's threads, where dropout would draw from
/// unseeded per-thread generators.
pub fn evaluate(
    model: &MlmModel,
    valid: &[Vec<u32>],
    masker: &Masker,
    batch_size: usize,
    seed: u64,
    step: u64,
) -> EvalReport {
    let device = model.device();
    let ce = CrossEntropyLossConfig::new().init(&device);
    // Batches are independent: rayon runs them on all threads (the elementwise operations of
    // burn's CPU backend use one thread each), and the sums are taken in batch order.
    let per_batch: Vec<(f64, usize, usize)> = valid
        .par_chunks(batch_size.max(1))
        .enumerate()
        .map(|(chunk_index, chunk)| {
            let refs: Vec<&Vec<u32>> = chunk.iter().collect();
            let base = chunk_index * batch_size.max(1);
            let batch = masker.batch(
                &refs,
                &mut |row| Rng::new(seed.wrapping_mul(0x9E37_79B9) ^ (base + row) as u64 ^ 0xE7A1),
                &device,
            );
            if batch.masked == 0 {
                return (0.0, 0, 0);
            }
            let logits = model.masked_logits(batch.ids, None, &batch.rows);
            let predicted = logits.clone().argmax(1).reshape([batch.masked]);
            let hits = predicted.equal(batch.targets.clone());
            let correct = hits.int().sum().into_scalar::<i64>() as usize;
            let loss = ce.forward(logits, batch.targets).into_scalar::<f32>() as f64;
            (loss * batch.masked as f64, correct, batch.masked)
        })
        .collect();
    let (mut loss_sum, mut correct, mut count) = (0.0, 0usize, 0usize);
    for (l, c, n) in per_batch {
        loss_sum += l;
        correct += c;
        count += n;
    }
    let loss = if count > 0 {
        loss_sum / count as f64
    } else {
        f64::NAN
    };
    EvalReport {
        step,
        loss,
        perplexity: loss.exp(),
        accuracy: if count > 0 {
            correct as f64 / count as f64
        } else {
            0.0
        },
    }
}
