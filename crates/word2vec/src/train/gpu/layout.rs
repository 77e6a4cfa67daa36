//! How a model is laid out on a GPU: sentences per cube, the longest sentence a plane trains and
//! the largest batch; and the models a GPU cannot train, refused with one line naming the key
//! before any work.

use common::InvalidParam;

use crate::error::{Error, Result};
use crate::params::{Arch, ModelParams};

use super::device::Gpu;

/// Negatives the kernel draws at most: its loop over them is unrolled, once per negative.
pub(super) const MAX_NEGATIVE: usize = 64;

/// Longest sentence a plane trains, as word2vec.c cuts sentences at 1,000 words.
const MAX_SENTENCE: usize = 1000;

/// Cubes a launch may have along its one axis (wgpu's limit on every adapter).
const MAX_CUBES: usize = 65_535;

/// How batches are cut and launched on one GPU for one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Layout {
    /// Sentences per cube (planes in a cube).
    pub(super) planes: u32,
    /// Longest sentence a plane trains; longer ones are cut.
    pub(super) sentence_tokens: usize,
    /// Most sentences in one batch.
    pub(super) batch_sentences: usize,
}

/// Sentences per cube for `model` on `gpu`, or why the GPU cannot train it: as many planes as
/// make 128 lanes (a cube of one 32-lane warp leaves a GPU's schedulers idle), within a cube's
/// shared memory; one without plane operations (a cube's barriers would wait on planes that
/// train other sentences).
pub(super) fn planes(gpu: &Gpu, model: &ModelParams) -> Result<u32> {
    if model.negative > MAX_NEGATIVE {
        let allowed = format!("0..={MAX_NEGATIVE} on the GPU, more on \"cpu\"");
        let e = InvalidParam::new(
            "model.negative",
            model.negative,
            "is too many for the GPU engine",
            &allowed,
        );
        return Err(e.into());
    }
    let per_plane = (2 * model.dim + gpu.width as usize) * 4;
    let fit = (gpu.shared_bytes / per_plane) as u32;
    if fit == 0 {
        let most = (gpu.shared_bytes / 4 - gpu.width as usize) / 2;
        let problem = format!(
            "needs {per_plane} bytes of GPU shared memory; this GPU has {}",
            gpu.shared_bytes
        );
        let allowed = format!("1..={most} on this GPU, more on \"cpu\"");
        return Err(InvalidParam::new("model.dim", model.dim, &problem, &allowed).into());
    }
    if !gpu.plane_ops {
        return Ok(1);
    }
    Ok((128 / gpu.width).clamp(1, fit))
}

impl Layout {
    /// The layout of `model` on `gpu`, for a vocabulary of `words` whose longest Huffman path
    /// (0 without hierarchical softmax) is `path`; `rows` is the largest weight matrix's rows.
    pub(super) fn new(gpu: &Gpu, model: &ModelParams, path: usize, rows: usize) -> Result<Self> {
        let planes = planes(gpu, model)?;
        // The kernel indexes its buffers with 32-bit integers.
        if rows.saturating_mul(model.dim) > u32::MAX as usize {
            return Err(Error::Gpu(format!(
                "{rows} x {} weights are more than the GPU engine indexes (2^32 values); lower model.dim or data.max_vocab, or use train.device = \"cpu\"",
                model.dim
            )));
        }
        let sentence_tokens = match gpu.loop_limit {
            Some(limit) => Self::within_loop_limit(model, path, limit)?,
            None => MAX_SENTENCE,
        };
        // A sentence read last may add up to MAX_SENTENCE_TOKENS / sentence_tokens pieces past
        // the limit, so the limit leaves room for them.
        let pieces = crate::corpus::MAX_SENTENCE_TOKENS.div_ceil(sentence_tokens);
        let batch_sentences = (planes as usize * MAX_CUBES).saturating_sub(pieces).max(1);
        Ok(Layout {
            planes,
            sentence_tokens,
            batch_sentences,
        })
    }

    /// The longest sentence whose loop iterations stay within `limit` per kernel invocation.
    /// lavapipe (Mesa's llvmpipe) ends every loop of an invocation after 65,535 iterations in
    /// all, silently (`limit` keeps a margin below that), which would leave the end of long sentences untrained. The kernel unrolls
    /// its loops over the vector and the negatives; what remains per position is the loop over
    /// its pairs, CBOW's two loops over the context, and hierarchical softmax's over the path.
    fn within_loop_limit(model: &ModelParams, path: usize, limit: usize) -> Result<usize> {
        let per_pair = 1 + path;
        let per_position = match model.arch {
            Arch::SkipGram => 1 + 2 * model.window * per_pair,
            Arch::Cbow => 1 + 2 * (2 * model.window + 1) + per_pair,
        };
        if 2 * per_position > limit {
            return Err(InvalidParam::new(
                "model.window",
                model.window,
                "is too large for this software GPU's loop limit",
                "a smaller window, or train.device = \"cpu\"",
            )
            .into());
        }
        Ok((limit / per_position).min(MAX_SENTENCE))
    }
}
