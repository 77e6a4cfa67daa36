//! Where a run stands between two steps, besides its weights and optimizer state: the step, this
//! epoch's order of the training sequences, how far into it the run is, and the generator that
//! shuffles the sequences and seeds the masks. Saved in every checkpoint, so a resumed run
//! picks the very batches an uninterrupted one would.

use common::Rng;
use serde::{Deserialize, Serialize};

/// The data position and generator state of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Optimizer steps done.
    pub step: u64,
    /// State of the generator that shuffles the sequences and draws the mask seeds
    /// ([`Rng::state`]).
    pub rng: u64,
    /// This epoch's order of the training sequences.
    pub order: Vec<u32>,
    /// Position in `order` of the next sequence to train on (`order.len()`: reshuffle first).
    pub cursor: usize,
    /// Steps skipped because their loss or gradient was not finite (`train.skip_nonfinite`).
    #[serde(default)]
    pub skipped_steps: u64,
}

impl Position {
    /// A run that has not started: step 0, the generator of `seed`, and a position at the end
    /// of an epoch so that the first batch shuffles the `sequences` training sequences.
    pub fn start(seed: u64, sequences: usize) -> Self {
        Position {
            step: 0,
            rng: Rng::new(seed).state(),
            order: (0..sequences as u32).collect(),
            cursor: sequences,
            skipped_steps: 0,
        }
    }

    /// Checks that `order` is a permutation of `0..order.len()` (a damaged one would index
    /// past the sequences or train some twice an epoch); says where it is not.
    pub fn check_order(&self) -> Result<(), String> {
        let n = self.order.len();
        let mut seen = vec![false; n];
        for (k, &i) in self.order.iter().enumerate() {
            if i as usize >= n || std::mem::replace(&mut seen[i as usize], true) {
                return Err(format!("order[{k}] = {i} repeats or is not below {n}"));
            }
        }
        Ok(())
    }

    /// The next micro-batch of `batch_size` sequences of `train` (all of them when there are
    /// fewer), reshuffling (Fisher-Yates) at each epoch's end, and the seed of its masks.
    pub fn next_batch<'t>(
        &mut self,
        train: &'t [Vec<u32>],
        batch_size: usize,
    ) -> (Vec<&'t Vec<u32>>, u64) {
        let mut rng = Rng::from_state(self.rng);
        let mut picked = Vec::with_capacity(batch_size);
        while picked.len() < batch_size.min(train.len()) {
            if self.cursor >= self.order.len() {
                for i in (1..self.order.len()).rev() {
                    self.order.swap(i, rng.below(i as u32 + 1) as usize);
                }
                self.cursor = 0;
            }
            picked.push(&train[self.order[self.cursor] as usize]);
            self.cursor += 1;
        }
        let seed = rng.next_u64();
        self.rng = rng.state();
        (picked, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sequence_comes_once_an_epoch_and_a_saved_position_goes_on_the_same() {
        let train: Vec<Vec<u32>> = (0..5).map(|i| vec![i]).collect();
        let mut position = Position::start(7, train.len());
        let mut seen = Vec::new();
        for _ in 0..5 {
            let (batch, _) = position.next_batch(&train, 2);
            seen.extend(batch.iter().map(|s| s[0]));
        }
        let (mut first, mut second) = (seen[..5].to_vec(), seen[5..10].to_vec());
        first.sort();
        second.sort();
        assert_eq!((first, second), ((0..5).collect(), (0..5).collect()));
        let mut copy = position.clone();
        assert_eq!(position.next_batch(&train, 3), copy.next_batch(&train, 3));
    }
}
