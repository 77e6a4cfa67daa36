//! Sampling tables: subsampling of frequent words, the unigram^0.75 negative distribution, and
//! the keep test of the hot loop. The generator is [`common::Rng`], shared with the encoder.

pub use common::Rng;

/// Exponent of the unigram distribution negatives are drawn from (word2vec.c's `power`).
pub const NEGATIVE_POWER: f64 = 0.75;

/// For each word, the probability (scaled to `u32`) of keeping an occurrence, by word2vec.c's
/// formula `(sqrt(f / (sample·total)) + 1) · (sample·total) / f`, precomputed once so the hot
/// loop compares one random number instead of taking a square root per token.
pub fn keep_thresholds(counts: &[u64], total: u64, sample: f64) -> Vec<u32> {
    counts
        .iter()
        .map(|&c| {
            if sample <= 0.0 || c == 0 {
                return u32::MAX;
            }
            let threshold = sample * total as f64;
            let p = ((c as f64 / threshold).sqrt() + 1.0) * threshold / c as f64;
            if p >= 1.0 {
                u32::MAX
            } else {
                (p * u32::MAX as f64) as u32
            }
        })
        .collect()
}

/// Whether to keep an occurrence of a word whose threshold is `threshold`.
#[inline(always)]
pub fn keep(threshold: u32, rng: &mut Rng) -> bool {
    threshold == u32::MAX || ((rng.next_u64() >> 32) as u32) < threshold
}

/// Draws word ids from counts^0.75 in constant time with Walker's alias method. word2vec.c uses
/// a table of 1e8 ids (400 MB, a cache miss per draw); this table has two `u32` per word (about
/// 0.6 MB for a 70k-word vocabulary) and stays in cache.
#[derive(Debug, Clone)]
pub struct NegativeTable {
    /// Per slot: the probability (scaled to u32) of taking the slot's own word, and the alias.
    slots: Vec<(u32, u32)>,
}

impl NegativeTable {
    /// Builds the table for word counts `counts` (Vose's linear-time construction).
    pub fn new(counts: &[u64]) -> Self {
        let n = counts.len();
        let weights: Vec<f64> = counts
            .iter()
            .map(|&c| (c as f64).powf(NEGATIVE_POWER))
            .collect();
        let sum: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / sum).collect();
        let mut slots = vec![(u32::MAX, 0u32); n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            slots[s] = ((scaled[s] * u32::MAX as f64) as u32, l as u32);
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What remains has probability one (up to rounding).
        for i in small.into_iter().chain(large) {
            slots[i] = (u32::MAX, i as u32);
        }
        NegativeTable { slots }
    }

    /// Per slot: the probability (scaled to u32) of taking the slot's own word, and the alias
    /// taken otherwise (for engines that draw elsewhere, such as the GPU's).
    pub fn slots(&self) -> &[(u32, u32)] {
        &self.slots
    }

    /// One word id drawn from counts^0.75.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Rng) -> u32 {
        let r = rng.next_u64();
        let slot = (((r >> 32) * self.slots.len() as u64) >> 32) as usize;
        let (p, alias) = self.slots[slot];
        if (r as u32) < p { slot as u32 } else { alias }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generator_rebuilt_from_its_state_continues_the_same_stream() {
        let mut a = Rng::new(7);
        a.next_u64();
        let mut b = Rng::from_state(a.state());
        let (x, y): (Vec<u64>, Vec<u64>) = (0..5).map(|_| (a.next_u64(), b.next_u64())).unzip();
        assert_eq!(x, y);
        assert_ne!(x[0], x[1]);
    }

    #[test]
    fn negative_frequencies_follow_unigram_to_the_three_quarters() {
        let counts = [1000u64, 300, 100, 30, 10, 3, 1];
        let table = NegativeTable::new(&counts);
        let mut rng = Rng::new(7);
        let draws = 2_000_000;
        let mut seen = [0u64; 7];
        for _ in 0..draws {
            seen[table.sample(&mut rng) as usize] += 1;
        }
        let z: f64 = counts.iter().map(|&c| (c as f64).powf(0.75)).sum();
        for (i, &c) in counts.iter().enumerate() {
            let expected = (c as f64).powf(0.75) / z;
            let got = seen[i] as f64 / draws as f64;
            assert!(
                (got - expected).abs() < 0.003 + 0.02 * expected,
                "word {i}: expected {expected:.4}, got {got:.4}"
            );
        }
    }

    #[test]
    fn negative_table_is_exact_on_a_large_zipf_vocabulary() {
        // 60,000 words with Zipf counts, like a real vocabulary: the alias table's probability
        // of each word, read off the table itself, must equal count^0.75 / Z.
        let counts: Vec<u64> = (1..=60_000u64).map(|r| 1 + 10_000_000 / r).collect();
        let table = NegativeTable::new(&counts);
        let n = counts.len() as f64;
        let mut mass = vec![0f64; counts.len()];
        for (slot, &(p, alias)) in table.slots.iter().enumerate() {
            let own = p as f64 / u32::MAX as f64;
            mass[slot] += own / n;
            mass[alias as usize] += (1.0 - own) / n;
        }
        let z: f64 = counts.iter().map(|&c| (c as f64).powf(0.75)).sum();
        for (i, &c) in counts.iter().enumerate() {
            let expected = (c as f64).powf(0.75) / z;
            assert!(
                (mass[i] - expected).abs() <= 1e-9 + 1e-6 * expected,
                "word {i}: {} vs {expected}",
                mass[i]
            );
        }
    }

    #[test]
    fn subsampling_matches_word2vec_formula() {
        // total 1e6, sample 1e-3: threshold 1000. A word seen 1000 times keeps
        // (sqrt(1)+1)*1000/1000 = 2 -> always; 10,000 times: (sqrt(10)+1)/10 = 0.4162.
        let t = keep_thresholds(&[1000, 10_000, 100_000], 1_000_000, 1e-3);
        assert_eq!(t[0], u32::MAX);
        let p1 = t[1] as f64 / u32::MAX as f64;
        assert!((p1 - (10f64.sqrt() + 1.0) / 10.0).abs() < 1e-6, "{p1}");
        let p2 = t[2] as f64 / u32::MAX as f64;
        assert!((p2 - (100f64.sqrt() + 1.0) / 100.0).abs() < 1e-6, "{p2}");
        let mut rng = Rng::new(1);
        let kept = (0..200_000).filter(|_| keep(t[1], &mut rng)).count() as f64 / 200_000.0;
        assert!((kept - p1).abs() < 0.005, "kept {kept}, expected {p1}");
        assert!(keep_thresholds(&[5], 5, 0.0).iter().all(|&x| x == u32::MAX));
    }

    #[test]
    fn rng_below_is_in_range_and_uniform_enough() {
        let mut rng = Rng::new(3);
        let mut hist = [0u32; 5];
        for _ in 0..50_000 {
            hist[rng.below(5) as usize] += 1;
        }
        assert!(
            hist.iter().all(|&h| (9_500..10_500).contains(&h)),
            "{hist:?}"
        );
    }
}
