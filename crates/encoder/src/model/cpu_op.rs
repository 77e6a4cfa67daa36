//! What our own operations on burn's flex CPU backend ([`super::gelu`], [`super::softmax`])
//! share: which tensors they take, how they read and write flex tensors, the macro that compiles
//! their loops for the CPU's vector extensions, and eᵗ.
//!
//! burn flex runs GELU's `erf` and softmax's `exp` one scalar libm call at a time, and softmax
//! under autodiff as five separate operations, each with its own buffer; our kernels are
//! branch-free loops that LLVM vectorises (16 lanes with AVX-512, 8 with AVX2, 4 with SSE2,
//! chosen at run time). Our own code, because it is what makes the encoder faster; vectorised
//! GELU and a fused softmax would belong upstream in burn. Tensors on other backends (wgpu) take
//! burn's operations, which fuse there.

use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::NoCheckpointing};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::{Autodiff, Flex};
use burn::prelude::*;
use burn::tensor::{Bytes, DType};

/// An elementwise or row-wise operation of our own: its kernels, what its backward reads, and
/// burn's operation for the tensors ours does not take.
pub(super) struct Op<const D: usize> {
    /// `(x, y, row length)`: writes the output `y` from the input `x`.
    pub(super) forward: Kernel,
    /// `(saved, dy, row length)`: turns the output's gradient into the input's, in place.
    pub(super) backward: Kernel,
    /// Which tensor the backward reads.
    pub(super) saved: Saved,
    /// burn's operation, for other backends and dtypes.
    pub(super) fallback: fn(Tensor<D>) -> Tensor<D>,
}

/// The tensor an [`Op`]'s backward reads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Saved {
    /// The operation's input (GELU's derivative is a function of x).
    Input,
    /// The operation's output (softmax's gradient is a function of y).
    Output,
}

impl<const D: usize> Op<D> {
    /// The operation applied to `x`: ours on flex (with our backward under autodiff), burn's
    /// elsewhere.
    pub(super) fn apply(&self, x: Tensor<D>) -> Tensor<D> {
        match route(&x) {
            Route::Tracked(t) => Tensor::from_primitive::<Autodiff<Flex>>(self.tracked(t)),
            Route::Plain(t) => Tensor::from_primitive::<Flex>(forward(&t, self.forward)),
            Route::Burn => (self.fallback)(x),
        }
    }

    /// The autodiff form: the forward registers a backward step that runs `self.backward` on
    /// the saved tensor.
    fn tracked(&self, x: TrackedTensor) -> TrackedTensor {
        #[derive(Debug)]
        struct Step(Kernel);

        impl Backward<Flex, 1> for Step {
            type State = FlexTensor;

            fn backward(
                self,
                ops: Ops<FlexTensor, 1>,
                grads: &mut Gradients,
                _: &mut Checkpointer,
            ) {
                let [parent] = ops.parents;
                let grad = grads.consume::<Flex>(&ops.node);
                if let Some(parent) = parent {
                    grads.register::<Flex>(parent.id, backward(&ops.state, grad, self.0));
                }
            }
        }

        match Step(self.backward)
            .prepare::<NoCheckpointing>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let output = forward(x.primitive(), self.forward);
                let saved = match self.saved {
                    Saved::Input => x.primitive().clone(),
                    Saved::Output => output.clone(),
                };
                prep.finish(saved, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(x.primitive(), self.forward)),
        }
    }
}

/// A float tensor of flex under autodiff.
type TrackedTensor = <Autodiff<Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive;

/// Which implementation a tensor gets.
enum Route {
    /// f32 on flex with autodiff: ours, with our backward.
    Tracked(TrackedTensor),
    /// f32 on flex: ours.
    Plain(FlexTensor),
    /// Anything else: burn's.
    Burn,
}

/// The [`Route`] of `x`.
fn route<const D: usize>(x: &Tensor<D>) -> Route {
    if x.dtype() != DType::F32 {
        return Route::Burn;
    }
    if let Ok(t) = x.clone().try_into_primitive::<Autodiff<Flex>>() {
        return Route::Tracked(t);
    }
    match x.clone().try_into_primitive::<Flex>() {
        Ok(t) => Route::Plain(t),
        Err(_) => Route::Burn,
    }
}

/// A loop over a tensor's elements: `(input, output, row length)`, the row being the last
/// dimension.
pub(super) type Kernel = fn(&[f32], &mut [f32], usize);

/// A new tensor of `x`'s shape, written by `kernel` from `x`.
fn forward(x: &FlexTensor, kernel: Kernel) -> FlexTensor {
    let x = x.to_contiguous();
    let xs = elements(&x);
    let mut out = vec![0.0f32; xs.len()];
    kernel(xs, &mut out, row_length(&x));
    let shape = x.layout().shape().clone();
    FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(shape),
        DType::F32,
    )
}

/// `grad` (of `state`'s shape) rewritten in place by `kernel(state, grad)`, in its own buffer
/// when no other tensor shares it (the usual case for an incoming gradient), else in a copy.
fn backward(state: &FlexTensor, grad: FlexTensor, kernel: Kernel) -> FlexTensor {
    let state = state.to_contiguous();
    // `to_contiguous` shares the buffer (or copies it); dropping the original handle here
    // leaves the result unique, so that `try_storage_mut` can write in place.
    let mut grad = {
        let original = grad;
        original.to_contiguous()
    };
    let n = row_length(&state);
    let whole =
        grad.layout().start_offset() == 0 && grad.layout().num_elements() * 4 == grad.bytes().len();
    if whole && let Some(g) = grad.try_storage_mut::<f32>() {
        kernel(elements(&state), g, n);
        return grad;
    }
    let mut g = elements(&grad).to_vec();
    kernel(elements(&state), &mut g, n);
    let shape = state.layout().shape().clone();
    FlexTensor::new(Bytes::from_elems(g), Layout::contiguous(shape), DType::F32)
}

/// The elements of a contiguous f32 tensor, in order.
fn elements(t: &FlexTensor) -> &[f32] {
    let all: &[f32] = t.storage();
    let start = t.layout().start_offset();
    &all[start..start + t.layout().num_elements()]
}

/// The length of the last dimension (1 for a scalar).
fn row_length(t: &FlexTensor) -> usize {
    t.layout().shape().last().copied().unwrap_or(1).max(1)
}

/// Defines `fn $name(input, output, row length)` from a loop body, compiled three times (for
/// AVX-512, for AVX2 and for the baseline) and run in the best copy this CPU can execute.
macro_rules! vectorised {
    ($(#[$doc:meta])* $name:ident = |$x:ident, $y:ident, $n:ident| $body:block) => {
        $(#[$doc])*
        fn $name($x: &[f32], $y: &mut [f32], $n: usize) {
            #[inline(always)]
            fn body($x: &[f32], $y: &mut [f32], $n: usize) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($x: &[f32], $y: &mut [f32], $n: usize) {
                    body($x, $y, $n)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($x: &[f32], $y: &mut [f32], $n: usize) {
                    body($x, $y, $n)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: this CPU has AVX-512F, the only feature `avx512` was compiled with.
                    return unsafe { avx512($x, $y, $n) };
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: this CPU has AVX2, the only feature `avx2` was compiled with.
                    return unsafe { avx2($x, $y, $n) };
                }
            }
            body($x, $y, $n)
        }
    };
}
pub(super) use vectorised;

/// eᵗ for t ≤ 0, branch-free: t = k·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by its Taylor series to
/// r⁷ (relative error below 6e-9 in exact arithmetic), 2ᵏ built in the exponent bits. Exactly 0
/// below −87.33, where eᵗ leaves f32's normal range (as a masked attention score's must be);
/// NaN stays NaN, so a diverging run still shows it.
#[inline(always)]
pub(super) fn exp_nonpositive(t: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75; // ln 2's first 16 bits: k·LN2_HI is exact
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 × 2²³: adding it rounds to an integer
    const TAYLOR: [f32; 8] = [
        1.0,
        1.0,
        0.5,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
    ];
    const UNDERFLOW: f32 = -87.33; // e^UNDERFLOW is just above f32's smallest normal
    let clamped = t.max(UNDERFLOW);
    let k = (clamped * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = clamped - k * LN2_HI - k * LN2_LO;
    let e = TAYLOR[..7]
        .iter()
        .rev()
        .fold(TAYLOR[7], |acc, &c| acc * r + c);
    let value = e * f32::from_bits(((k as i32 + 127) as u32) << 23);
    if t < UNDERFLOW {
        0.0
    } else if t.is_nan() {
        t
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_holds_its_accuracy_and_underflows_to_zero() {
        for i in 0..=8733 {
            let t = -(i as f32) * 0.01;
            let exact = (t as f64).exp();
            let rel = (exp_nonpositive(t) as f64 - exact).abs() / exact;
            assert!(rel < 4e-7, "exp({t}): relative error {rel}");
        }
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-1.0e9), 0.0);
        assert_eq!(exp_nonpositive(-87.34), 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }

    #[test]
    fn flex_tensors_take_our_kernels_with_and_without_autodiff() {
        let x = Tensor::<1>::from_floats([1.0, -2.0], &Device::flex());
        assert!(matches!(route(&x), Route::Plain(_)));
        let x = Tensor::<1>::from_floats([1.0, -2.0], &Device::flex().autodiff()).require_grad();
        assert!(matches!(route(&x), Route::Tracked(_)));
    }
}
