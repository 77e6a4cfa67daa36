#!/usr/bin/env python3
"""Fits the rational approximation of erf that the encoder's GELU uses on the CPU
(crates/encoder/src/model/gelu.rs): erf(z) ~ z * P(z^2) / Q(z^2) on 0 <= z <= 4 (beyond 4,
erf(z) rounds to 1 in f32), P of degree 6, Q of degree 4 with Q(0) = 1, minimising the largest
relative error (Sanathanan-Koerner linearisation, then Lawson's reweighting towards minimax).
Prints the coefficients and the largest error of the f32 evaluation against math.erf.
Needs numpy:  python3 scripts/fit_erf.py"""
import math

import numpy as np

P_DEG, Q_DEG, Z_MAX = 6, 4, 4.0


def design(z, e, q_prev, w):
    """Rows of the linearised problem z P(u) - e (Q(u) - 1) = e, scaled by w / (e Q_prev)."""
    u = z * z
    cols = [z * u**k for k in range(P_DEG + 1)] + [-e * u**k for k in range(1, Q_DEG + 1)]
    a = np.stack(cols, axis=1)
    s = w / (e * q_prev)
    return a * s[:, None], e * s


def main():
    # Chebyshev-spaced points, denser near the interval's ends.
    n = 4000
    z = Z_MAX * 0.5 * (1 - np.cos(np.pi * (np.arange(1, n + 1) - 0.5) / n))
    e = np.array([math.erf(v) for v in z])
    q_prev, w = np.ones(n), np.ones(n)
    for it in range(400):
        a, b = design(z, e, q_prev, w)
        c, *_ = np.linalg.lstsq(a, b, rcond=None)
        p, q = c[: P_DEG + 1], np.concatenate([[1.0], c[P_DEG + 1 :]])
        u = z * z
        qv = np.polyval(q[::-1], u)
        rel = np.abs(z * np.polyval(p[::-1], u) / qv - e) / e
        if it < 20:
            q_prev = qv          # Sanathanan-Koerner: fix the denominator's weight
        else:
            w = w * (rel / rel.max()) ** 0.5 + 1e-12   # Lawson: push weight to the worst points
            w /= w.sum() / n
    # The f32 evaluation, Horner in u, as the Rust code does it.
    zs = np.linspace(0, Z_MAX, 2_000_001, dtype=np.float32)
    zs = zs[1:]
    u32 = zs * zs
    pv = np.float32(p[-1])
    for k in range(P_DEG - 1, -1, -1):
        pv = pv * u32 + np.float32(p[k])
    qv = np.float32(q[-1])
    for k in range(Q_DEG - 1, -1, -1):
        qv = qv * u32 + np.float32(q[k])
    approx = (zs * pv / qv).astype(np.float32)
    exact = np.array([math.erf(float(v)) for v in zs[::50]])
    err = np.abs(approx[::50].astype(np.float64) - exact) / exact
    print("P:", ", ".join(f"{v:.9e}" for v in p))
    print("Q:", ", ".join(f"{v:.9e}" for v in q))
    print(f"largest relative error: float64 fit {rel.max():.3e}, f32 evaluation {err.max():.3e}")
    print(f"(f32 epsilon is {np.finfo(np.float32).eps:.3e})")


if __name__ == "__main__":
    main()
