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
    let dim = s.dim;
    let vocab = tables.alias_prob.len() as u32;
    let mut sums = Vec::new();
    for sentence in 0..batch.sentences() {
        let (start, end) = (
            batch.starts[sentence] as usize,
            batch.starts[sentence + 1] as usize,
        );
        let tokens = &batch.tokens;
        let alpha = batch.alphas[sentence];
        let mut state = hash(seed ^ hash(sentence as u32));
        let (mut loss, mut count) = (0f32, 0u32);
        let mut grad = vec![0f32; dim];
        let mut hidden = vec![0f32; dim];
        for pos in start..end {
            let word = tokens[pos];
            state = step(state);
            let span = (s.window - output(state) % s.window) as usize;
            let lo = if pos - start > span {
                pos - span
            } else {
                start
            };
            let hi = (pos + span).min(end - 1);
            let at_position = state;
            let mut pairs = hi - lo;
            if s.cbow {
                pairs = pairs.min(1);
            }
            for e in 0..pairs {
                grad.fill(0.0);
                hidden.fill(0.0);
                let mut context = lo + e;
                if context >= pos {
                    context += 1;
                }
                let contexts = (lo..=hi).filter(|&c| c != pos);
                if s.cbow {
                    for c in contexts.clone() {
                        let row = tokens[c] as usize * dim;
                        for (h, x) in hidden.iter_mut().zip(&w.input[row..row + dim]) {
                            *h += x;
                        }
                    }
                    if s.cbow_mean {
                        let inv = 1.0 / (hi - lo) as f32;
                        hidden.iter_mut().for_each(|h| *h *= inv);
                    }
                } else {
                    let row = tokens[context] as usize * dim;
                    hidden.copy_from_slice(&w.input[row..row + dim]);
                }
                if s.hs {
                    let (first, last) = (
                        tables.code_starts[word as usize] as usize,
                        tables.code_starts[word as usize + 1] as usize,
                    );
                    for k in first..last {
                        let code = tables.codes[k];
                        let row = tables.points[k] as usize * dim;
                        let out = &mut w.output_hs[row..row + dim];
                        let f: f32 = hidden.iter().zip(out.iter()).map(|(a, b)| a * b).sum();
                        loss += neg_log_sigmoid(if code != 0 { -f } else { f });
                        if f.abs() < MAX_EXP {
                            let g = (1.0 - code as f32 - sigmoid(f)) * alpha;
                            step_output(g, &hidden, out, &mut grad);
                        }
                    }
                }
                if s.negative > 0 {
                    let mut draw = if s.share_negatives && !s.cbow {
                        at_position
                    } else {
                        state
                    };
                    for d in 0..=s.negative {
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
                        if d == 0 || target != word {
                            let row = target as usize * dim;
                            let out = &mut w.output_neg[row..row + dim];
                            let f: f32 = hidden.iter().zip(out.iter()).map(|(a, b)| a * b).sum();
                            let g = if f > MAX_EXP {
                                (label - 1.0) * alpha
                            } else if f < -MAX_EXP {
                                label * alpha
                            } else {
                                (label - sigmoid(f)) * alpha
                            };
                            loss += neg_log_sigmoid(if d > 0 { -f } else { f });
                            step_output(g, &hidden, out, &mut grad);
                        }
                    }
                    state = draw;
                }
                count += 1;
                let targets: Vec<usize> = if s.cbow {
                    contexts.collect()
                } else {
                    vec![context]
                };
                for c in targets {
                    let row = tokens[c] as usize * dim;
                    for (x, d) in w.input[row..row + dim].iter_mut().zip(&grad) {
                        *x += d;
                    }
                }
            }
        }
        sums.push((loss, count));
    }
    sums
}
