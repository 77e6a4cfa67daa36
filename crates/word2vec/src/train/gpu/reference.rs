//! The kernel's algorithm in plain Rust, sentence after sentence: what one plane does, without
//! the lanes. The tests hold the GPU to it (with one sentence in flight, the GPU must compute
//! these very updates, up to the order of f32 sums).

use super::batch::Batch;
use super::kernel::MAX_EXP;
use super::tables::HostTables;

/// The weights as the kernel sees them (row-major, `dim` wide).
pub(super) struct RefWeights {
    pub(super) input: Vec<f32>,
    pub(super) output_neg: Vec<f32>,
    pub(super) output_hs: Vec<f32>,
}

/// The kernel's generator, step for step.
fn step(state: u32) -> u32 {
    state.wrapping_mul(747_796_405).wrapping_add(2_891_336_453)
}

fn output(state: u32) -> u32 {
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

fn hash(x: u32) -> u32 {
    output(step(x))
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

fn neg_log_sigmoid(x: f32) -> f32 {
    if x >= MAX_EXP {
        0.0
    } else if x <= -MAX_EXP {
        -x
    } else {
        (1.0 + (-x).exp()).ln()
    }
}

/// One output's update: `grad += g·out`, then `out += g·hidden`, element by element.
fn step_output(g: f32, hidden: &[f32], out: &mut [f32], grad: &mut [f32]) {
    for ((o, h), d) in out.iter_mut().zip(hidden).zip(grad) {
        *d += g * *o;
        *o += g * h;
    }
}

/// What the kernel is compiled for.
pub(super) struct RefShape {
    pub(super) dim: usize,
    pub(super) window: u32,
    pub(super) negative: u32,
    pub(super) hs: bool,
    pub(super) cbow: bool,
    pub(super) cbow_mean: bool,
    pub(super) share_negatives: bool,
}

/// Trains `batch` on `w` as the kernel does; returns the summed loss and examples per sentence.
pub(super) fn train_batch(
    batch: &Batch,
    tables: &HostTables,
    w: &mut RefWeights,
    seed: u32,
    s: &RefShape,
) -> Vec<(f32, u32)> {
    (0..batch.sentences())
        .map(|n| {
            let tokens = &batch.tokens[batch.starts[n] as usize..batch.starts[n + 1] as usize];
            let state = hash(seed ^ hash(n as u32));
            train_sentence(tokens, batch.alphas[n], state, tables, w, s)
        })
        .collect()
}

/// One plane's sentence: its summed loss and its examples.
fn train_sentence(
    tokens: &[u32],
    alpha: f32,
    mut state: u32,
    tables: &HostTables,
    w: &mut RefWeights,
    s: &RefShape,
) -> (f32, u32) {
    let mut ex = Example {
        grad: vec![0f32; s.dim],
        hidden: vec![0f32; s.dim],
        alpha,
        loss: 0.0,
    };
    let mut count = 0;
    for pos in 0..tokens.len() {
        state = step(state);
        let span = (s.window - output(state) % s.window) as usize;
        let (lo, hi) = (pos.saturating_sub(span), (pos + span).min(tokens.len() - 1));
        let at_position = state;
        let pairs = if s.cbow { (hi - lo).min(1) } else { hi - lo };
        for e in 0..pairs {
            let inputs: Vec<usize> = if s.cbow {
                (lo..=hi).filter(|&c| c != pos).collect()
            } else if lo + e >= pos {
                vec![lo + e + 1]
            } else {
                vec![lo + e]
            };
            ex.load(&inputs, tokens, w, s);
            if s.hs {
                ex.hierarchical(tokens[pos], tables, w);
            }
            if s.negative > 0 {
                let from = if s.share_negatives && !s.cbow {
                    at_position
                } else {
                    state
                };
                state = ex.negatives(tokens[pos], from, tables, w, s.negative);
            }
            count += 1;
            for c in inputs {
                let row = tokens[c] as usize * s.dim;
                for (x, d) in w.input[row..row + s.dim].iter_mut().zip(&ex.grad) {
                    *x += d;
                }
            }
        }
    }
    (ex.loss, count)
}

/// One example being trained: its input vector, its gradient, its learning rate, and the
/// sentence's loss so far.
struct Example {
    grad: Vec<f32>,
    hidden: Vec<f32>,
    alpha: f32,
    loss: f32,
}

impl Example {
    /// The input vector of context positions `inputs` (one in skip-gram; their sum or mean in
    /// CBOW), with the gradient zeroed.
    fn load(&mut self, inputs: &[usize], tokens: &[u32], w: &RefWeights, s: &RefShape) {
        self.grad.fill(0.0);
        self.hidden.fill(0.0);
        for &c in inputs {
            let row = tokens[c] as usize * s.dim;
            for (h, x) in self.hidden.iter_mut().zip(&w.input[row..row + s.dim]) {
                *h += x;
            }
        }
        if s.cbow && s.cbow_mean {
            let inv = 1.0 / inputs.len() as f32;
            self.hidden.iter_mut().for_each(|h| *h *= inv);
        }
    }

    /// Hierarchical softmax along `word`'s path.
    fn hierarchical(&mut self, word: u32, tables: &HostTables, w: &mut RefWeights) {
        let dim = self.hidden.len();
        let nodes = tables.code_starts[word as usize] as usize
            ..tables.code_starts[word as usize + 1] as usize;
        for k in nodes {
            let code = tables.codes[k];
            let row = tables.points[k] as usize * dim;
            let out = &mut w.output_hs[row..row + dim];
            let f: f32 = self.hidden.iter().zip(out.iter()).map(|(a, b)| a * b).sum();
            self.loss += neg_log_sigmoid(if code != 0 { -f } else { f });
            if f.abs() < MAX_EXP {
                let g = (1.0 - code as f32 - sigmoid(f)) * self.alpha;
                step_output(g, &self.hidden, out, &mut self.grad);
            }
        }
    }

    /// Negative sampling: `word`, then `negative` draws from the generator at `draw`; returns
    /// the generator's state after the draws.
    fn negatives(
        &mut self,
        word: u32,
        mut draw: u32,
        tables: &HostTables,
        w: &mut RefWeights,
        negative: u32,
    ) -> u32 {
        let dim = self.hidden.len();
        let vocab = tables.alias_prob.len() as u32;
        for d in 0..=negative {
            let (mut target, mut label) = (word, 1.0f32);
            if d > 0 {
                draw = step(draw);
                let slot = output(draw) % vocab;
                draw = step(draw);
                target = tables.alias_word[slot as usize];
                if output(draw) < tables.alias_prob[slot as usize] {
                    target = slot;
                }
                label = 0.0;
            }
            if d > 0 && target == word {
                continue;
            }
            let row = target as usize * dim;
            let out = &mut w.output_neg[row..row + dim];
            let f: f32 = self.hidden.iter().zip(out.iter()).map(|(a, b)| a * b).sum();
            let g = if f > MAX_EXP {
                (label - 1.0) * self.alpha
            } else if f < -MAX_EXP {
                label * self.alpha
            } else {
                (label - sigmoid(f)) * self.alpha
            };
            self.loss += neg_log_sigmoid(if d > 0 { -f } else { f });
            step_output(g, &self.hidden, out, &mut self.grad);
        }
        draw
    }
}
