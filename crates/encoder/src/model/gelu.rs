//! GELU, the exact (erf) form x·Φ(x), as an operation of our own on burn's flex CPU backend,
//! with its own backward.
//!
//! burn flex computes GELU and its gradient element by element with libm's scalar `erf`: 9% of a
//! training step of the benchmark model went to `erff`. Here `erf` is a rational function of our
//! own fit (`scripts/fit_erf.py`: largest relative error 6.5e-8 in exact arithmetic, 3.8e-7,
//! about 3 f32 ulps, as evaluated in f32), branch-free, so the loops vectorise ([`super::cpu_op`]
//! says how, and why this is our own code).

use burn::prelude::*;

use super::cpu_op::{Op, Saved, exp_nonpositive, vectorised};

/// GELU(x) = x·Φ(x) = x/2·(1 + erf(x/√2)), elementwise: our vectorised kernels on the flex CPU
/// backend (with or without autodiff), burn's GELU elsewhere. The backward reads the input:
/// dGELU/dx = Φ(x) + x·φ(x).
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Op {
        forward: gelu_kernel,
        backward: gelu_backward_kernel,
        saved: Saved::Input,
        fallback: burn::tensor::activation::gelu,
    }
    .apply(x)
}

vectorised! {
    /// `out = gelu(x)`.
    gelu_kernel = |x, out, _row| {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = v * cdf(v);
        }
    }
}

vectorised! {
    /// `grad ← grad · (Φ(x) + x·φ(x))`, the gradient of GELU, in place.
    gelu_backward_kernel = |x, grad, _row| {
        for (g, &v) in grad.iter_mut().zip(x) {
            *g *= cdf(v) + v * density(v);
        }
    }
}

/// erf(z) ≈ z·P(z²)/Q(z²) on |z| ≤ 4 (`scripts/fit_erf.py`); beyond, f32's erf is ±1 and the
/// clamped argument gives it within 3 ulps.
#[inline(always)]
fn erf(z: f32) -> f32 {
    // The leading coefficient is 2/√π (erf's slope at 0), to f32's precision.
    const P: [f32; 7] = [
        std::f32::consts::FRAC_2_SQRT_PI,
        2.071_252_5e-1,
        5.152_488e-2,
        3.990_575_7e-3,
        1.472_868_9e-4,
        -1.942_322_8e-6,
        1.911_104_2e-8,
    ];
    const Q: [f32; 5] = [
        1.0,
        5.168_912_4e-1,
        1.179_707_4e-1,
        1.495_807_15e-2,
        1.021_114_5e-3,
    ];
    let z = z.clamp(-4.0, 4.0);
    let u = z * z;
    let p = P[..6].iter().rev().fold(P[6], |acc, &c| acc * u + c);
    let q = Q[..4].iter().rev().fold(Q[4], |acc, &c| acc * u + c);
    z * p / q
}

/// Φ(x), the standard normal distribution function: (1 + erf(x/√2)) / 2.
#[inline(always)]
fn cdf(x: f32) -> f32 {
    0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// φ(x), the standard normal density: exp(−x²/2) / √(2π).
#[inline(always)]
fn density(x: f32) -> f32 {
    const INV_SQRT_2PI: f32 = 0.398_942_3;
    INV_SQRT_2PI * exp_nonpositive(-0.5 * x * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// −10 to 10 in steps of 0.005: the tails, where Φ is 0 or 1, and the curved middle.
    fn grid() -> Vec<f32> {
        (0..=4000).map(|i| -10.0 + i as f32 * 0.005).collect()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    fn assert_close(xs: &[f32], ours: &[f32], burns: &[f32], scale: impl Fn(usize) -> f32) {
        assert_eq!(ours.len(), burns.len());
        for (i, (&a, &b)) in ours.iter().zip(burns).enumerate() {
            let tolerance = 1e-6 * scale(i);
            assert!(
                (a - b).abs() <= tolerance,
                "x = {}: ours {a}, burn's {b}",
                xs[i]
            );
        }
    }

    #[test]
    fn gelu_equals_burns_scalar_erf_gelu_within_f32_rounding() {
        let device = Device::flex();
        let xs = grid();
        let x = Tensor::<1>::from_floats(xs.as_slice(), &device);
        let ours = values(gelu(x.clone()));
        let burns = values(burn::tensor::activation::gelu(x));
        assert_close(&xs, &ours, &burns, |i| xs[i].abs().max(1.0));
    }

    #[test]
    fn its_gradient_equals_burns_and_the_forward_is_the_same_under_autodiff() {
        let device = Device::flex().autodiff();
        let xs = grid();
        // An uneven incoming gradient, so the backward must multiply by it.
        let upstream: Vec<f32> = (0..xs.len()).map(|i| 0.5 + (i % 7) as f32).collect();
        let run = |f: fn(Tensor<1>) -> Tensor<1>| {
            let x = Tensor::<1>::from_floats(xs.as_slice(), &device).require_grad();
            let y = f(x.clone());
            let w = Tensor::<1>::from_floats(upstream.as_slice(), &device);
            let grads = (y.clone() * w).sum().backward();
            (values(y.inner()), values(x.grad(&grads).unwrap()))
        };
        let (ours_y, ours_dx) = run(gelu);
        let (burns_y, burns_dx) = run(burn::tensor::activation::gelu);
        assert_close(&xs, &ours_y, &burns_y, |i| xs[i].abs().max(1.0));
        assert_close(&xs, &ours_dx, &burns_dx, |i| {
            upstream[i] * xs[i].abs().max(1.0)
        });
    }

    #[test]
    fn a_transposed_input_keeps_its_values_and_shape() {
        let device = Device::flex();
        let xs = grid();
        let x = Tensor::<1>::from_floats(&xs[..4000], &device)
            .reshape([40, 100])
            .transpose();
        let ours = gelu(x.clone());
        assert_eq!(ours.dims(), [100, 40]);
        let burns = burn::tensor::activation::gelu(x.clone());
        let inputs = values(x);
        assert_close(&inputs, &values(ours), &values(burns), |i| {
            inputs[i].abs().max(1.0)
        });
    }

    #[test]
    fn erf_is_odd_and_holds_its_accuracy_at_known_values() {
        for &z in &[0.0f32, 0.3, 1.0, 2.5, 3.9] {
            assert_eq!(erf(-z), -erf(z));
        }
        assert!((erf(1.0) - 0.842_700_8).abs() < 4e-7);
        assert!((erf(10.0) - 1.0).abs() < 4e-7);
    }
}
