//! The GPU engine's kernel, in CubeCL: one plane (a warp, a subgroup) trains one sentence, its
//! lanes spread over the vector dimension, and the sentence's updates run in word2vec.c's order,
//! as the CPU engine's do. Planes run Hogwild against each other, as the CPU engine's threads
//! do: no locks, no atomics.
//!
//! Inside a plane nothing needs a barrier: lane `l` owns the elements `l, l + P, l + 2P, …` of
//! every vector it touches (also of its two scratch vectors in shared memory), and the one value
//! lanes share, a dot product, comes from `plane_sum`, which every lane receives. Where the device
//! has no plane operations (lavapipe, Mesa's software Vulkan, among others), a cube trains one
//! sentence and its lanes add their partial sums through shared memory between two barriers,
//! every lane in the same order, so every lane still sees the same dot product. Random numbers
//! come from a counter-based generator (PCG's step and output hash over a per-sentence state)
//! that every lane steps in lockstep, so all lanes draw the same window and negatives without
//! talking to each other.
//!
//! Each example (a skip-gram pair, a CBOW window) puts its input vector in the scratch `hidden`
//! (a copy of the context word's vector, or the context's sum or mean), collects its gradient in
//! the scratch `grad`, updates the output vectors as it goes and adds `grad` to the input
//! vector(s) at the end, as word2vec.c does. [`super::reference`] is the same algorithm in plain
//! Rust, which the tests hold the kernel to.

use cubecl::prelude::*;

/// σ is saturated beyond ±MAX_EXP, as in word2vec.c and the CPU engine.
pub(super) const MAX_EXP: f32 = 6.0;

/// Trains every sentence of a batch: plane `UNIT_POS_Y` of cube `CUBE_POS_X` takes sentence
/// `CUBE_POS_X * CUBE_DIM_Y + UNIT_POS_Y` and writes its summed loss and example count. The
/// comptime arguments are the model's shape, `width` (`CUBE_DIM_X`), `planes` (`CUBE_DIM_Y`)
/// and whether dot products use plane operations (else `planes` must be 1); a change of any of
/// them compiles another kernel.
// CubeCL kernels index their buffers: there are no iterators on the GPU side.
#[allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    clippy::collapsible_if
)]
#[cube(launch)]
pub(super) fn train_batch(
    tokens: &[u32],
    starts: &[u32],
    alphas: &[f32],
    alias_prob: &[u32],
    alias_word: &[u32],
    code_starts: &[u32],
    codes: &[u32],
    points: &[u32],
    input: &mut [f32],
    output_neg: &mut [f32],
    output_hs: &mut [f32],
    loss: &mut [f32],
    examples: &mut [u32],
    sentences: u32,
    vocab: u32,
    seed: u32,
    #[comptime] dim: usize,
    #[comptime] window: u32,
    #[comptime] negative: u32,
    #[comptime] hs: bool,
    #[comptime] cbow: bool,
    #[comptime] cbow_mean: bool,
    #[comptime] share_negatives: bool,
    #[comptime] width: u32,
    #[comptime] planes: u32,
    #[comptime] plane_ops: bool,
) {
    // Per plane: the gradient, the input vector, and one partial sum per lane.
    let per_plane = comptime!(2 * dim + width as usize);
    let mut scratch = Shared::<[f32]>::new_slice(comptime!(per_plane * planes as usize));
    let lane = UNIT_POS_X as usize;
    let grad = UNIT_POS_Y as usize * per_plane;
    let hidden = grad + dim;
    let partials = hidden + dim;
    let sentence = CUBE_POS_X * CUBE_DIM_Y + UNIT_POS_Y;
    if sentence < sentences {
        let start = starts[sentence as usize] as usize;
        let end = starts[sentence as usize + 1] as usize;
        let alpha = alphas[sentence as usize];
        let mut state = hash(seed ^ hash(sentence));
        let mut loss_sum = 0.0f32;
        let mut count = 0u32;
        for pos in start..end {
            let word = tokens[pos];
            state = step(state);
            let span = (window - output(state) % window) as usize;
            let lo = if pos - start > span {
                pos - span
            } else {
                start
            };
            let mut hi = pos + span;
            if hi > end - 1 {
                hi = end - 1;
            }
            // Shared negatives: every pair of this centre word redraws from the same state.
            let at_position = state;
            let mut pairs = hi - lo;
            if comptime!(cbow) {
                if pairs > 1 {
                    pairs = 1;
                }
            }
            for e in 0..pairs {
                let mut context = lo + e;
                if context >= pos {
                    context += 1;
                }
                load_input(
                    &mut scratch,
                    input,
                    tokens,
                    lo,
                    hi,
                    pos,
                    context,
                    grad,
                    dim,
                    width,
                    cbow,
                    cbow_mean,
                );
                // Hierarchical softmax: one logistic step per inner node on the word's path.
                if comptime!(hs) {
                    let first = code_starts[word as usize] as usize;
                    let last = code_starts[word as usize + 1] as usize;
                    for node in first..last {
                        let code = codes[node];
                        let row = points[node] as usize * dim;
                        let f = dot(
                            &mut scratch,
                            output_hs,
                            row,
                            hidden,
                            partials,
                            dim,
                            width,
                            plane_ops,
                        );
                        let mut x = f;
                        if code != 0 {
                            x = -f;
                        }
                        loss_sum += neg_log_sigmoid(x);
                        if f.abs() < MAX_EXP {
                            let g = (1.0f32 - f32::cast_from(code) - sigmoid(f)) * alpha;
                            update(&mut scratch, output_hs, row, g, grad, dim, width);
                        }
                    }
                }
                // Negative sampling: the word with label 1, then `negative` draws with label 0
                // (draws equal to the word are dropped, as in word2vec.c).
                if comptime!(negative > 0) {
                    let mut draw = state;
                    if comptime!(share_negatives && !cbow) {
                        draw = at_position;
                    }
                    #[unroll]
                    for d in 0..negative + 1 {
                        let mut target = word;
                        let mut label = 1.0f32;
                        if d > 0 {
                            draw = step(draw);
                            let slot = output(draw) % vocab;
                            draw = step(draw);
                            target = alias_word[slot as usize];
                            if output(draw) < alias_prob[slot as usize] {
                                target = slot;
                            }
                            label = 0.0;
                        }
                        if d == 0 || target != word {
                            let row = target as usize * dim;
                            let f = dot(
                                &mut scratch,
                                output_neg,
                                row,
                                hidden,
                                partials,
                                dim,
                                width,
                                plane_ops,
                            );
                            let mut g = (label - sigmoid(f)) * alpha;
                            if f > MAX_EXP {
                                g = (label - 1.0) * alpha;
                            } else if f < -MAX_EXP {
                                g = label * alpha;
                            }
                            let mut x = f;
                            if d > 0 {
                                x = -f;
                            }
                            loss_sum += neg_log_sigmoid(x);
                            update(&mut scratch, output_neg, row, g, grad, dim, width);
                        }
                    }
                    state = draw;
                }
                count += 1;
                apply_gradient(
                    &scratch, input, tokens, lo, hi, pos, context, grad, dim, width, cbow,
                );
            }
        }
        if lane == 0 {
            loss[sentence as usize] = loss_sum;
            examples[sentence as usize] = count;
        }
    }
}

/// Zeroes the example's gradient (`scratch[grad..]`) and puts its input vector after it: the
/// vector of the context word at `context` (skip-gram), or the sum or mean of those at
/// `lo..=hi` but `pos` (CBOW).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[cube]
fn load_input(
    scratch: &mut Shared<[f32]>,
    input: &mut [f32],
    tokens: &[u32],
    lo: usize,
    hi: usize,
    pos: usize,
    context: usize,
    grad: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
    #[comptime] cbow: bool,
    #[comptime] cbow_mean: bool,
) {
    let lane = UNIT_POS_X as usize;
    let lanes = comptime!(width as usize);
    let per_lane = comptime!(dim.div_ceil(width as usize));
    let hidden = grad + dim;
    #[unroll]
    for k in 0..per_lane {
        let i = lane + k * lanes;
        if i < dim {
            scratch[grad + i] = 0.0;
            scratch[hidden + i] = 0.0;
        }
    }
    if comptime!(cbow) {
        for c in lo..hi + 1 {
            if c != pos {
                add_row(scratch, hidden, input, tokens[c] as usize * dim, dim, width);
            }
        }
        if comptime!(cbow_mean) {
            let inv = 1.0f32 / f32::cast_from((hi - lo) as u32);
            #[unroll]
            for k in 0..per_lane {
                let i = lane + k * lanes;
                if i < dim {
                    scratch[hidden + i] *= inv;
                }
            }
        }
    } else {
        // Onto zeros: a copy.
        add_row(
            scratch,
            hidden,
            input,
            tokens[context] as usize * dim,
            dim,
            width,
        );
    }
}

/// `scratch[at..at + dim] += source[row..row + dim]`, this lane's elements.
#[cube]
fn add_row(
    scratch: &mut Shared<[f32]>,
    at: usize,
    source: &mut [f32],
    row: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
) {
    let lane = UNIT_POS_X as usize;
    #[unroll]
    for k in 0..comptime!(dim.div_ceil(width as usize)) {
        let i = lane + k * comptime!(width as usize);
        if i < dim {
            scratch[at + i] += source[row + i];
        }
    }
}

/// `target[row..row + dim] += scratch[at..at + dim]`, this lane's elements.
#[cube]
fn add_to_row(
    target: &mut [f32],
    row: usize,
    scratch: &Shared<[f32]>,
    at: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
) {
    let lane = UNIT_POS_X as usize;
    #[unroll]
    for k in 0..comptime!(dim.div_ceil(width as usize)) {
        let i = lane + k * comptime!(width as usize);
        if i < dim {
            target[row + i] += scratch[at + i];
        }
    }
}

/// Adds the example's gradient to its input vector(s): the context word's (skip-gram), or every
/// context word's (CBOW, the whole gradient to each, as word2vec.c does).
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
#[cube]
fn apply_gradient(
    scratch: &Shared<[f32]>,
    input: &mut [f32],
    tokens: &[u32],
    lo: usize,
    hi: usize,
    pos: usize,
    context: usize,
    grad: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
    #[comptime] cbow: bool,
) {
    if comptime!(cbow) {
        for c in lo..hi + 1 {
            if c != pos {
                add_to_row(input, tokens[c] as usize * dim, scratch, grad, dim, width);
            }
        }
    } else {
        add_to_row(
            input,
            tokens[context] as usize * dim,
            scratch,
            grad,
            dim,
            width,
        );
    }
}

/// The dot product of the example's input vector (`scratch[grad + dim..]`) with row `row` of
/// `output`, the same value in every lane: a plane sum, or partial sums added through
/// `scratch[partials..]` between two barriers, every lane in the same order.
#[allow(clippy::too_many_arguments)]
#[cube]
fn dot(
    scratch: &mut Shared<[f32]>,
    // Read only; `&mut` because CubeCL does not lend a mutable buffer as a shared one.
    output: &mut [f32],
    row: usize,
    hidden: usize,
    partials: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
    #[comptime] plane_ops: bool,
) -> f32 {
    let lane = UNIT_POS_X as usize;
    let lanes = comptime!(width as usize);
    let mut partial = 0.0f32;
    #[unroll]
    for k in 0..comptime!(dim.div_ceil(width as usize)) {
        let i = lane + k * lanes;
        if i < dim {
            partial += scratch[hidden + i] * output[row + i];
        }
    }
    let mut f = 0.0f32;
    if comptime!(plane_ops) {
        f = plane_sum(partial);
    } else {
        scratch[partials + lane] = partial;
        sync_cube();
        #[unroll]
        for j in 0..lanes {
            f += scratch[partials + j];
        }
        sync_cube();
    }
    f
}

/// One output's SGD step on this lane's elements: the example's gradient collects `g·out`,
/// then `out` moves by `g·input` (the input vector follows the gradient at `grad + dim`).
#[cube]
fn update(
    scratch: &mut Shared<[f32]>,
    output: &mut [f32],
    row: usize,
    g: f32,
    grad: usize,
    #[comptime] dim: usize,
    #[comptime] width: u32,
) {
    let lane = UNIT_POS_X as usize;
    let lanes = comptime!(width as usize);
    #[unroll]
    for k in 0..comptime!(dim.div_ceil(width as usize)) {
        let i = lane + k * lanes;
        if i < dim {
            scratch[grad + i] += g * output[row + i];
            output[row + i] += g * scratch[grad + dim + i];
        }
    }
}

/// PCG's state step (a 32-bit LCG).
#[cube]
fn step(state: u32) -> u32 {
    state * 747_796_405u32 + 2_891_336_453u32
}

/// PCG's output permutation (RXS-M-XS) of a state: the random number.
#[cube]
fn output(state: u32) -> u32 {
    let word = ((state >> ((state >> 28u32) + 4u32)) ^ state) * 277_803_737u32;
    (word >> 22u32) ^ word
}

/// A well-mixed function of `x`: seeds a sentence's stream from its index.
#[cube]
fn hash(x: u32) -> u32 {
    output(step(x))
}

/// σ(x).
#[cube]
fn sigmoid(x: f32) -> f32 {
    1.0f32 / (1.0f32 + (-x).exp())
}

/// `-ln σ(x)`, taken as 0 and `-x` beyond ±MAX_EXP as the CPU engine's table does.
#[cube]
fn neg_log_sigmoid(x: f32) -> f32 {
    let mut l = (1.0f32 + (-x).exp()).ln();
    if x >= MAX_EXP {
        l = 0.0;
    } else if x <= -MAX_EXP {
        l = -x;
    }
    l
}
