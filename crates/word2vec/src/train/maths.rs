//! The arithmetic of the hot loop: σ and the loss from tables, and the gradient of one output
//! (the vector kernels are in `kernels.rs`).
//!
//! For a training example with input vector `v` (a context word's vector in skip-gram, the mean
//! of the context vectors in CBOW) and an output vector `u` with label `l` (1 for the target
//! word, 0 for a negative sample; `1 - code` for an inner node of hierarchical softmax), the
//! loss is the logistic one, `-ln σ(v·u)` for `l = 1` and `-ln σ(-v·u)` for `l = 0`. Its
//! derivative with respect to `v·u` is `σ(v·u) - l`, so one SGD step with learning rate α moves
//! `v·u` by `g = (l - σ(v·u))·α` along each of the two vectors: `u += g·v`, and `v` collects
//! `g·u` (applied after all outputs of the example, as word2vec.c does).

/// σ is tabulated over [-MAX_EXP, MAX_EXP], as in word2vec.c; beyond it σ is taken as 0 or 1,
/// so the gradient is ±α or 0.
pub(super) const MAX_EXP: f32 = 6.0;
/// Resolution of the tables (word2vec.c's EXP_TABLE_SIZE).
const EXP_TABLE_SIZE: usize = 1000;

/// σ(x) and `-ln σ(x)` on a grid over [-MAX_EXP, MAX_EXP]: a lookup instead of `exp` per output
/// (exact `ln`/`exp` for the loss report alone cost a quarter of the run time).
pub(super) struct SigmoidTables {
    sigmoid: Vec<f32>,
    neg_log_sigmoid: Vec<f32>,
}

impl SigmoidTables {
    /// Fills both tables (σ at the grid points as word2vec.c does, the loss at the midpoints).
    pub(super) fn new() -> Self {
        let sigmoid = (0..EXP_TABLE_SIZE)
            .map(|i| {
                let x = (i as f32 / EXP_TABLE_SIZE as f32 * 2.0 - 1.0) * MAX_EXP;
                let e = x.exp();
                e / (e + 1.0)
            })
            .collect();
        let neg_log_sigmoid = (0..EXP_TABLE_SIZE)
            .map(|i| {
                let x = (i as f32 + 0.5) / EXP_TABLE_SIZE as f32 * 2.0 * MAX_EXP - MAX_EXP;
                neg_log_sigmoid(x) as f32
            })
            .collect();
        SigmoidTables {
            sigmoid,
            neg_log_sigmoid,
        }
    }

    /// σ(f) for |f| < MAX_EXP (the table's end cell beyond).
    #[inline(always)]
    pub(super) fn sigmoid(&self, f: f32) -> f32 {
        self.sigmoid[grid_index(f)]
    }

    /// `-ln σ(x)`; beyond ±MAX_EXP it is ~0 or ~-x.
    ///
    /// Written without branches on `x` (the table is read in every case, the answer selected),
    /// like [`Self::node_step`] and [`Self::gradient`]: which outputs saturate is unpredictable,
    /// and the mispredicted branches cost hierarchical softmax more than the lookups.
    #[inline(always)]
    pub(super) fn loss(&self, x: f32) -> f64 {
        // A NaN `x` makes `x · 0` NaN, which keeps the fault visible in the loss the run checks
        // (for ±∞ it is NaN too, but one of the selects below replaces it).
        let inside = self.neg_log_sigmoid[grid_index(x)] + x * 0.0;
        let beyond = if x <= -MAX_EXP { -x } else { inside };
        (if x >= MAX_EXP { 0.0 } else { beyond }) as f64
    }

    /// Hierarchical softmax at an inner node with Huffman `code`, where the input's dot product
    /// with the node's vector is `f`: the loss, and the step `g = (1 - code - σ(f))·α`, none when
    /// |f| ≥ MAX_EXP (word2vec.c skips saturated nodes). A NaN `f` keeps a finite step from the
    /// table's first cell, as before the lookups lost their branches (the loss shows the fault).
    #[inline(always)]
    pub(super) fn node_step(&self, f: f32, code: u8, alpha: f32) -> (f64, Option<f32>) {
        let loss = self.loss(if code == 0 { f } else { -f });
        let label = 1.0 - code as f32;
        let step = (label - self.sigmoid(f)) * alpha;
        (loss, (f.abs() < MAX_EXP || f.is_nan()).then_some(step))
    }

    /// Negative sampling for an output with `label` (1 for the word, 0 for a negative), where
    /// the input's dot product with it is `f`: the loss and the step `g` ([`Self::gradient`]).
    #[inline(always)]
    pub(super) fn sample_step(&self, f: f32, label: f32, alpha: f32) -> (f64, f32) {
        let loss = self.loss(if label > 0.0 { f } else { -f });
        (loss, self.gradient(f, label, alpha))
    }

    /// The scaled gradient `g = (label - σ(f))·α` of negative sampling, with σ saturated to 0 or
    /// 1 beyond ±MAX_EXP.
    #[inline(always)]
    pub(super) fn gradient(&self, f: f32, label: f32, alpha: f32) -> f32 {
        let inside = self.sigmoid(f);
        let low = if f < -MAX_EXP { 0.0 } else { inside };
        let sigma = if f > MAX_EXP { 1.0 } else { low };
        (label - sigma) * alpha
    }
}

/// The table cell of `x` in [-MAX_EXP, MAX_EXP]; the end cells beyond, cell 0 for NaN.
#[inline(always)]
fn grid_index(x: f32) -> usize {
    let i = ((x + MAX_EXP) * (EXP_TABLE_SIZE as f32 / MAX_EXP / 2.0)) as usize;
    i.min(EXP_TABLE_SIZE - 1)
}

/// `-ln σ(x)`, exactly (used to fill the loss table).
fn neg_log_sigmoid(x: f32) -> f64 {
    let x = x as f64;
    if x > 0.0 {
        (-x).exp().ln_1p()
    } else {
        -x + x.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_formula() {
        assert!((neg_log_sigmoid(0.0) - 2f64.ln()).abs() < 1e-12);
        assert!((neg_log_sigmoid(-30.0) - 30.0).abs() < 1e-9);
        assert!(neg_log_sigmoid(30.0) < 1e-12);
    }

    #[test]
    fn tables_follow_sigmoid_and_saturate() {
        let t = SigmoidTables::new();
        assert!((t.sigmoid(0.0) - 0.5).abs() < 0.01);
        assert!((t.loss(0.0) - 2f64.ln()).abs() < 0.01);
        assert_eq!(t.loss(7.0), 0.0);
        assert_eq!(t.loss(-7.0), 7.0);
        assert!(t.loss(f32::NAN).is_nan());
        assert_eq!(t.loss(f32::NEG_INFINITY), f64::INFINITY);
        assert_eq!(t.gradient(7.0, 1.0, 0.5), 0.0);
        assert_eq!(t.gradient(-7.0, 1.0, 0.5), 0.5);
        assert!((t.gradient(0.0, 0.0, 1.0) + 0.5).abs() < 0.01);
    }
}
