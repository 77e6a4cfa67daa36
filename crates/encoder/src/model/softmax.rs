//! Softmax over the last dimension as one operation of our own on burn's flex CPU backend, with
//! its own backward: yᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x), and dxᵢ = yᵢ·(dyᵢ − Σⱼ dyⱼ·yⱼ).
//!
//! Under autodiff burn decomposes softmax into max, subtract, exp, sum and divide, each a pass
//! with its own buffer and its own backward, and its `exp` is libm's scalar `expf` (6% of a
//! training step of the benchmark model). Here each row is three vectorised passes forward and
//! two backward ([`super::cpu_op`] says how, and why this is our own code). The attention's
//! masked scores (−10⁹) get exactly 0, as they do with burn's.

use burn::prelude::*;

use super::cpu_op::{Op, Saved, exp_nonpositive, vectorised};

/// Lanes of the partial maxima and sums: a multiple of every vector width, so that the
/// reductions vectorise (f32 addition is not associative, so LLVM keeps a single running sum in
/// order unless the code already holds separate lanes).
const LANES: usize = 16;

/// Softmax over the last dimension of `x`: ours on the flex CPU backend (the backward reads
/// the output), burn's elsewhere.
pub fn softmax_last<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Op {
        forward: softmax_kernel,
        backward: softmax_backward_kernel,
        saved: Saved::Output,
        fallback: |x| burn::tensor::activation::softmax(x, D - 1),
    }
    .apply(x)
}

vectorised! {
    /// Each row of `x` (rows of `n`) into `out`, softmaxed.
    softmax_kernel = |x, out, n| {
        for (xs, ys) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
            let max = reduce(xs, f32::NEG_INFINITY, f32::max);
            for (y, &v) in ys.iter_mut().zip(xs) {
                *y = exp_nonpositive(v - max);
            }
            let inverse = 1.0 / reduce(ys, 0.0, |a, b| a + b);
            for y in ys.iter_mut() {
                *y *= inverse;
            }
        }
    }
}

vectorised! {
    /// `dy ← y·(dy − Σ dy·y)` row by row, in place: the gradient of softmax from its output `y`.
    softmax_backward_kernel = |y, dy, n| {
        for (ys, gs) in y.chunks_exact(n).zip(dy.chunks_exact_mut(n)) {
            let mut lanes = [0.0f32; LANES];
            let (whole, tail) = (ys.len() / LANES * LANES, ys.len() % LANES);
            for (yc, gc) in ys[..whole].chunks_exact(LANES).zip(gs[..whole].chunks_exact(LANES)) {
                for k in 0..LANES {
                    lanes[k] += yc[k] * gc[k];
                }
            }
            let mut dot = lanes.iter().sum::<f32>();
            for k in whole..whole + tail {
                dot += ys[k] * gs[k];
            }
            for (g, &v) in gs.iter_mut().zip(ys) {
                *g = v * (*g - dot);
            }
        }
    }
}

/// `values` folded by `f` (associative and commutative, such as max or +) from `start`, in
/// [`LANES`] independent lanes and then across them.
#[inline(always)]
fn reduce(values: &[f32], start: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut lanes = [start; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for k in 0..LANES {
            lanes[k] = f(lanes[k], chunk[k]);
        }
    }
    let across = lanes.iter().fold(start, |a, &b| f(a, b));
    tail.iter().fold(across, |a, &b| f(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// Scores `[2, 3, 37]` (a row length that is not a multiple of the lanes), spread over
    /// ±20, with a few masked (−10⁹) as the attention sets them.
    fn scores() -> Vec<f32> {
        (0..2 * 3 * 37)
            .map(|i| match i % 11 {
                3 => -1.0e9,
                _ => ((i * 37 % 101) as f32 - 50.0) * 0.4,
            })
            .collect()
    }

    fn assert_close(ours: &[f32], burns: &[f32], tolerance: f32) {
        assert_eq!(ours.len(), burns.len());
        for (i, (&a, &b)) in ours.iter().zip(burns).enumerate() {
            assert!(
                (a - b).abs() <= tolerance,
                "element {i}: ours {a}, burn's {b}"
            );
        }
    }

    #[test]
    fn softmax_equals_burns_and_masked_scores_get_exactly_zero() {
        let x = Tensor::<3>::from_data(TensorData::new(scores(), [2, 3, 37]), &Device::flex());
        let ours = values(softmax_last(x.clone()));
        let burns = values(burn::tensor::activation::softmax(x, 2));
        assert_close(&ours, &burns, 1e-6);
        for (y, s) in ours.iter().zip(scores()) {
            if s == -1.0e9 {
                assert_eq!(*y, 0.0);
            }
        }
        for row in ours.chunks(37) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn its_gradient_equals_burns() {
        let device = Device::flex().autodiff();
        let upstream: Vec<f32> = (0..2 * 3 * 37).map(|i| (i % 5) as f32 - 2.0).collect();
        let run = |f: fn(Tensor<3>) -> Tensor<3>| {
            let x = Tensor::<3>::from_data(TensorData::new(scores(), [2, 3, 37]), &device)
                .require_grad();
            let w = Tensor::<3>::from_data(TensorData::new(upstream.clone(), [2, 3, 37]), &device);
            let y = f(x.clone());
            let grads = (y.clone() * w).sum().backward();
            (values(y.inner()), values(x.grad(&grads).unwrap()))
        };
        let (ours_y, ours_dx) = run(softmax_last);
        let (burns_y, burns_dx) = run(|x| burn::tensor::activation::softmax(x, 2));
        assert_close(&ours_y, &burns_y, 1e-6);
        assert_close(&ours_dx, &burns_dx, 1e-5);
    }
}
