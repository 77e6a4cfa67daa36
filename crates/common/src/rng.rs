//! The project's one pseudo-random generator (SplitMix64).

/// Our own generator rather than `rand`: the hot loop draws several numbers per training pair,
/// and this one (SplitMix64, Steele et al. 2014) is a handful of instructions with its state in
/// a register, seedable per thread, and gives the same stream on every platform, which the
/// byte-for-byte reproducibility of one-thread runs relies on.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; different seeds give unrelated streams.
    pub fn new(seed: u64) -> Self {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        r.next_u64();
        r
    }

    /// The generator's whole state, to be saved in a checkpoint and given back to
    /// [`Rng::from_state`] so that a resumed run draws the same numbers.
    pub fn state(&self) -> u64 {
        self.0
    }

    /// The generator whose [`Rng::state`] was `state`.
    pub fn from_state(state: u64) -> Self {
        Rng(state)
    }

    /// The next 64 random bits.
    #[inline(always)]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for our `n`).
    #[inline(always)]
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}
