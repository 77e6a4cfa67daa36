//! The vector kernels of the hot loop (`dot`, `axpy`, and `add_weighted_rows` for the window
//! batches) for each instruction set the worker is compiled for, and a prefetch hint.
//!
//! Our own code, not a BLAS: the vectors are one row (dim ~100) long, so a library call's
//! dispatch would cost more than the arithmetic. The worker's loop is generic over [`Kernels`];
//! [`dispatch`] runs it with [`Avx512`], else [`Avx2`], else [`Portable`], compiled for the
//! instruction set it detected. The x86 kernels are private to this file, so no other code can
//! run them on a CPU without their instructions. The x86
//! ones are written with intrinsics because LLVM turned the portable eight-accumulator `dot`
//! into 4-wide loads and shuffles (perf put half the skip-gram run on them). Their fused
//! multiply-adds round once, so their results differ from [`Portable`]'s, and from each other's,
//! in the last bits; each is deterministic on its own.

/// The kernels, on `f32` slices of equal length.
pub(super) trait Kernels {
    /// `a·b`.
    fn dot(a: &[f32], b: &[f32]) -> f32;
    /// `y += a·x`.
    fn axpy(a: f32, x: &[f32], y: &mut [f32]);
    /// `y += Σ a[i]·rows[i]`, `rows` holding `a.len()` rows of `y.len()` values one after the
    /// other (the vector versions load and store `y` once instead of once per row).
    fn add_weighted_rows(a: &[f32], rows: &[f32], y: &mut [f32]);
    /// `y = x`, in the same pieces the other kernels load (a load that matches an earlier store
    /// takes its data from the store buffer; one that straddles two stores, as after `memcpy`'s
    /// overlapping ones, waits for them to reach the cache).
    fn copy(x: &[f32], y: &mut [f32]);
}

/// Code generic over the kernels: the worker's loop.
pub(super) trait UsesKernels {
    /// What the code returns.
    type Output;
    /// Runs the code with kernels `K`; `#[inline(always)]` in the implementation, so that it
    /// compiles into [`dispatch`]'s functions for each instruction set.
    fn run<K: Kernels>(self) -> Self::Output;
}

/// Runs `code` with the fastest kernels this CPU supports, the whole loop compiled for their
/// instruction set.
pub(super) fn dispatch<C: UsesKernels>(code: C) -> C::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature the function is compiled for.
            return unsafe { run_avx512(code) };
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { run_avx2(code) };
        }
    }
    code.run::<Portable>()
}

/// `code` compiled for AVX-512, with its kernels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn run_avx512<C: UsesKernels>(code: C) -> C::Output {
    code.run::<Avx512>()
}

/// `code` compiled for AVX2 with FMA, with their kernels.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2<C: UsesKernels>(code: C) -> C::Output {
    code.run::<Avx2>()
}

/// Plain Rust that the compiler vectorises for whatever the target guarantees.
pub(super) struct Portable;

impl Kernels for Portable {
    /// Eight independent accumulators, so the compiler may vectorise (a single running sum is a
    /// dependency chain it may not reorder). The summation order is part of the output: one-thread
    /// runs are reproducible byte for byte only while it stays the same.
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (a, b) = (&a[..n], &b[..n]);
        let mut acc = [0f32; 8];
        let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for k in 0..8 {
                acc[k] += x[k] * y[k];
            }
        }
        let mut sum =
            ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        for (x, y) in ra.iter().zip(rb) {
            sum += x * y;
        }
        sum
    }

    #[inline(always)]
    fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
        for (y, x) in y.iter_mut().zip(x) {
            *y += a * x;
        }
    }

    #[inline(always)]
    fn add_weighted_rows(a: &[f32], rows: &[f32], y: &mut [f32]) {
        for (&a, row) in a.iter().zip(rows.chunks_exact(y.len().max(1))) {
            Self::axpy(a, row, y);
        }
    }

    #[inline(always)]
    fn copy(x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        y[..n].copy_from_slice(&x[..n]);
    }
}

/// AVX2 with FMA: 8 lanes (see [`Lanes`]).
///
/// Only for code compiled with `#[target_feature(enable = "avx2,fma")]` on a CPU that has both
/// ([`dispatch`] checks): its functions inline into such code and must not run elsewhere, which
/// is why the type is private to this file.
#[cfg(target_arch = "x86_64")]
struct Avx2;

/// AVX-512: 16 lanes (a row of 100 is 6 full vectors and 4 scalars, against 12 and 4 with AVX2).
///
/// Only for code compiled with `#[target_feature(enable = "avx512f")]` on a CPU that has it
/// ([`dispatch`] checks): its functions inline into such code and must not run elsewhere, which
/// is why the type is private to this file.
#[cfg(target_arch = "x86_64")]
struct Avx512;

/// One x86 vector register of `f32`s and the few operations the kernels need, so that one
/// implementation of each kernel ([`lanes`]) serves AVX2 and AVX-512.
///
/// # Safety
/// Every function may only run where the CPU has the type's instruction set.
#[cfg(target_arch = "x86_64")]
trait Lanes {
    /// The register.
    type V: Copy;
    /// Floats in a register.
    const WIDTH: usize;
    /// All zeros.
    unsafe fn zero() -> Self::V;
    /// `x` in every lane.
    unsafe fn splat(x: f32) -> Self::V;
    /// `WIDTH` floats from `p`, unaligned.
    unsafe fn load(p: *const f32) -> Self::V;
    /// `WIDTH` floats to `p`, unaligned.
    unsafe fn store(p: *mut f32, v: Self::V);
    /// `a·b + c`, rounded once.
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V;
    /// The lanes summed four by four into one SSE register (lane `l` holds the lanes `≡ l`
    /// mod 4), so that a vector tail of four can join before the last horizontal sum.
    unsafe fn fold4(v: Self::V) -> std::arch::x86_64::__m128;
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    type V = std::arch::x86_64::__m256;
    const WIDTH: usize = 8;
    #[inline(always)]
    unsafe fn zero() -> Self::V {
        unsafe { std::arch::x86_64::_mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        unsafe { std::arch::x86_64::_mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        unsafe { std::arch::x86_64::_mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        unsafe { std::arch::x86_64::_mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        unsafe { std::arch::x86_64::_mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        unsafe { std::arch::x86_64::_mm256_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn fold4(v: Self::V) -> std::arch::x86_64::__m128 {
        use std::arch::x86_64::*;
        unsafe { _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)) }
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx512 {
    type V = std::arch::x86_64::__m512;
    const WIDTH: usize = 16;
    #[inline(always)]
    unsafe fn zero() -> Self::V {
        unsafe { std::arch::x86_64::_mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn splat(x: f32) -> Self::V {
        unsafe { std::arch::x86_64::_mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self::V {
        unsafe { std::arch::x86_64::_mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(p: *mut f32, v: Self::V) {
        unsafe { std::arch::x86_64::_mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn fmadd(a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        unsafe { std::arch::x86_64::_mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn add(a: Self::V, b: Self::V) -> Self::V {
        unsafe { std::arch::x86_64::_mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn fold4(v: Self::V) -> std::arch::x86_64::__m128 {
        use std::arch::x86_64::*;
        unsafe {
            let half = _mm256_add_ps(
                _mm512_castps512_ps256(v),
                _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)),
            );
            _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1))
        }
    }
}

/// The kernels for any [`Lanes`]: two accumulators over `2·WIDTH` floats at a time in `dot`; the
/// tails in vectors of 8 and 4 lanes (a row of 100 is 6·16 + 4), then scalars.
#[cfg(target_arch = "x86_64")]
impl<L: Lanes> Kernels for L {
    #[inline(always)]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        let w = L::WIDTH;
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        // SAFETY: every vector load reads lanes below `n` of both slices, the tail's loads too
        // (see `tail_dot`); the instruction set is present (see `Lanes`).
        unsafe {
            let mut acc0 = L::zero();
            let mut acc1 = L::zero();
            let mut i = 0;
            while i + 2 * w <= n {
                acc0 = L::fmadd(L::load(pa.add(i)), L::load(pb.add(i)), acc0);
                acc1 = L::fmadd(L::load(pa.add(i + w)), L::load(pb.add(i + w)), acc1);
                i += 2 * w;
            }
            if i + w <= n {
                acc0 = L::fmadd(L::load(pa.add(i)), L::load(pb.add(i)), acc0);
                i += w;
            }
            let (tail, rest) = tail_dot(&a[..n], &b[..n], i);
            sum4(x86::_mm_add_ps(L::fold4(L::add(acc0, acc1)), tail)) + rest
        }
    }

    #[inline(always)]
    fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
        let w = L::WIDTH;
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        // SAFETY: as in `dot`; `y` is a distinct, exclusively borrowed slice.
        unsafe {
            let va = L::splat(a);
            let mut i = 0;
            while i + w <= n {
                L::store(
                    py.add(i),
                    L::fmadd(va, L::load(px.add(i)), L::load(py.add(i))),
                );
                i += w;
            }
            tail_weighted_rows(&[a], &x[..n], i, &mut y[..n]);
        }
    }

    #[inline(always)]
    fn add_weighted_rows(a: &[f32], rows: &[f32], y: &mut [f32]) {
        let w = L::WIDTH;
        let n = y.len();
        let k = a.len().min(rows.len() / n.max(1));
        let (pr, py) = (rows.as_ptr(), y.as_mut_ptr());
        // SAFETY: row j's lanes i..i+WIDTH lie below (j + 1)·n ≤ rows.len() (j < k); `y` is
        // exclusively borrowed; the instruction set is present.
        unsafe {
            let mut i = 0;
            while i + w <= n {
                let mut acc = L::load(py.add(i));
                for (j, &aj) in a[..k].iter().enumerate() {
                    acc = L::fmadd(L::splat(aj), L::load(pr.add(j * n + i)), acc);
                }
                L::store(py.add(i), acc);
                i += w;
            }
            tail_weighted_rows(&a[..k], &rows[..k * n], i, y);
        }
    }

    #[inline(always)]
    fn copy(x: &[f32], y: &mut [f32]) {
        let w = L::WIDTH;
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let mut i = 0;
        // SAFETY: lanes below `n` of both slices; `y` is exclusively borrowed; AVX2 is present.
        unsafe {
            while i + w <= n {
                L::store(py.add(i), L::load(px.add(i)));
                i += w;
            }
            if i + 8 <= n {
                x86::_mm256_storeu_ps(py.add(i), x86::_mm256_loadu_ps(px.add(i)));
                i += 8;
            }
            if i + 4 <= n {
                x86::_mm_storeu_ps(py.add(i), x86::_mm_loadu_ps(px.add(i)));
                i += 4;
            }
        }
        y[i..n].copy_from_slice(&x[i..n]);
    }
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64 as x86;

/// The sum of the four lanes of `v`.
///
/// # Safety
/// Only where the CPU has SSE3 (every caller's AVX2 or AVX-512 implies it).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sum4(v: x86::__m128) -> f32 {
    // SAFETY: SSE3 is present (see above).
    unsafe {
        let pair = x86::_mm_add_ps(v, x86::_mm_movehl_ps(v, v));
        x86::_mm_cvtss_f32(x86::_mm_add_ss(pair, x86::_mm_movehdup_ps(pair)))
    }
}

/// The tail of a vector `dot` from index `from` (fewer than 16 left): a chunk of 8 and one of 4
/// in vector registers, summed four by four, and the last 0 to 3 products as a scalar.
///
/// # Safety
/// Only where the CPU has AVX2 and FMA; `a` and `b` have the same length.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tail_dot(a: &[f32], b: &[f32], from: usize) -> (x86::__m128, f32) {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut i = from;
    // SAFETY: every load reads indices below `n`; AVX2 and FMA are present (see above).
    unsafe {
        let mut acc = x86::_mm_setzero_ps();
        if i + 8 <= n {
            let p = x86::_mm256_mul_ps(
                x86::_mm256_loadu_ps(pa.add(i)),
                x86::_mm256_loadu_ps(pb.add(i)),
            );
            acc = x86::_mm_add_ps(
                x86::_mm256_castps256_ps128(p),
                x86::_mm256_extractf128_ps(p, 1),
            );
            i += 8;
        }
        if i + 4 <= n {
            acc = x86::_mm_fmadd_ps(
                x86::_mm_loadu_ps(pa.add(i)),
                x86::_mm_loadu_ps(pb.add(i)),
                acc,
            );
            i += 4;
        }
        let rest = a[i..n].iter().zip(&b[i..n]).map(|(x, y)| x * y).sum();
        (acc, rest)
    }
}

/// The tail of a vector `add_weighted_rows`: columns `from..` of `y` (rows of `y.len()`), fewer
/// than 16. A chunk of 8 and one of 4 in vector registers, `y`'s lanes loaded and stored once
/// each, then the last 0 to 3 columns one by one (row by row, every row's update of the tail
/// waited on the store of the previous one: perf put ~8% of hierarchical softmax there). The
/// sums are the same, in the same order, as row by row.
///
/// # Safety
/// Only where the CPU has AVX2 and FMA. Panics if `rows` holds fewer than `a.len()` rows.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn tail_weighted_rows(a: &[f32], rows: &[f32], from: usize, y: &mut [f32]) {
    let n = y.len();
    let k = a.len();
    // A bounds check, not a division: `axpy` runs this once per call.
    let rows = &rows[..k * n];
    let (pr, py) = (rows.as_ptr(), y.as_mut_ptr());
    let mut i = from;
    // SAFETY: row j's lanes i..i+8 (or i+4) lie below (j + 1)·n ≤ rows.len() (j < k); `y` is
    // exclusively borrowed; AVX2 and FMA are present (see above).
    unsafe {
        if i + 8 <= n {
            let mut acc = x86::_mm256_loadu_ps(py.add(i));
            for (j, &aj) in a[..k].iter().enumerate() {
                let row = x86::_mm256_loadu_ps(pr.add(j * n + i));
                acc = x86::_mm256_fmadd_ps(x86::_mm256_set1_ps(aj), row, acc);
            }
            x86::_mm256_storeu_ps(py.add(i), acc);
            i += 8;
        }
        if i + 4 <= n {
            let mut acc = x86::_mm_loadu_ps(py.add(i));
            for (j, &aj) in a[..k].iter().enumerate() {
                let row = x86::_mm_loadu_ps(pr.add(j * n + i));
                acc = x86::_mm_fmadd_ps(x86::_mm_set1_ps(aj), row, acc);
            }
            x86::_mm_storeu_ps(py.add(i), acc);
            i += 4;
        }
    }
    for (c, y) in y.iter_mut().enumerate().skip(i) {
        let mut acc = *y;
        for (&aj, row) in a[..k].iter().zip(rows.chunks_exact(n)) {
            acc += aj * row[c];
        }
        *y = acc;
    }
}

/// Asks the CPU to bring `row` into its cache ahead of use, so that a random row read later
/// (the next window's outputs and entering context) does not stall the loop; a hint, with no
/// effect on the results. A no-op on other architectures.
#[inline(always)]
pub(super) fn prefetch(row: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // One request per 64-byte cache line (16 floats).
        for line in row.chunks(16) {
            // SAFETY: prefetching is a hint that never faults; SSE is part of x86_64.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inlined into the `#[target_feature]` callers below, as the worker's loop is.
    #[inline(always)]
    fn check<K: Kernels>() {
        for n in [
            0, 1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 19, 20, 24, 28, 31, 32, 33, 48, 50, 100, 300,
        ] {
            let a: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
            let b: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.1).collect();
            let expected: f64 = a.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
            let tolerance = 1e-5 * (1.0 + expected.abs());
            assert!(
                (K::dot(&a, &b) as f64 - expected).abs() < tolerance,
                "n={n}"
            );
            let mut y = b.clone();
            y.push(42.0); // one past `x`: must stay untouched
            K::axpy(2.0, &a, &mut y[..n]);
            assert!(
                y.iter()
                    .zip(&a)
                    .zip(&b)
                    .all(|((y, a), b)| (y - (b + 2.0 * a)).abs() < 1e-5),
                "n={n}"
            );
            assert_eq!(y[n], 42.0);
            let mut copied = vec![-1.0; n + 1];
            K::copy(&a, &mut copied[..n]);
            assert_eq!(&copied[..n], &a[..], "n={n}");
            assert_eq!(copied[n], -1.0);
            let rows: Vec<f32> = (0..3 * n).map(|i| (i % 7) as f32 - 3.0).collect();
            let weights = [0.5, -1.0, 2.0];
            for k in 0..=3 {
                let mut y = b.clone();
                K::add_weighted_rows(&weights[..k], &rows[..k * n], &mut y);
                for (i, (&y, &b)) in y.iter().zip(&b).enumerate() {
                    let sum: f32 = (0..k).map(|j| weights[j] * rows[j * n + i]).sum();
                    assert!((y - (b + sum)).abs() < 1e-5, "n={n} k={k} i={i}");
                }
            }
        }
    }

    #[test]
    fn portable_kernels_match_the_definitions() {
        check::<Portable>();
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_kernels_match_the_definitions_on_every_length() {
        if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
            eprintln!("skipped: this CPU has no AVX2 with FMA");
            return;
        }
        #[target_feature(enable = "avx2,fma")]
        fn run() {
            check::<Avx2>();
        }
        // SAFETY: the features were just detected.
        unsafe { run() }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_kernels_match_the_definitions_on_every_length() {
        if !is_x86_feature_detected!("avx512f") {
            eprintln!("skipped: this CPU has no AVX-512");
            return;
        }
        #[target_feature(enable = "avx512f")]
        fn run() {
            check::<Avx512>();
        }
        // SAFETY: the feature was just detected.
        unsafe { run() }
    }
}
