"""Arithmetic in twice float64's precision, vectorised (error-free transformations): each
product and sum is kept as a float64 plus its exact rounding error (Knuth's TwoSum, Dekker's
TwoProduct). The least-squares refinement computes its residuals with these.
"""

from __future__ import annotations

import numpy as np

# (inputs above LARGEST are refused).

_SPLITTER = 2.0**27 + 1.0
LARGEST = 1e150  # inputs above this are refused: Dekker's split would overflow
_CHUNK = 1 << 18  # elements per block of the accurate products: bounds the memory they take


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a = hi + lo exactly, each half with at most 26 significant bits (Dekker)."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """a * b = p + e exactly (Dekker's TwoProduct), elementwise with broadcasting."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _sum2(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sum over axis 0 as s + err, as if in twice float64's precision: pairwise TwoSum
    keeps every rounding error, and the (tiny) errors are added in float64."""
    err = np.zeros(t.shape[1:])
    while t.shape[0] > 1:
        half = t.shape[0] // 2
        s, e = _two_sum(t[:half], t[half : 2 * half])
        err += e.sum(axis=0)
        t = np.concatenate([s, t[2 * half :]]) if t.shape[0] % 2 else s
    return (t[0] if t.shape[0] else np.zeros(t.shape[1:])), err


def accurate_sum(t: np.ndarray) -> np.ndarray:
    """Sum over axis 0, as if in twice float64's precision."""
    s, err = _sum2(np.asarray(t, dtype=np.float64))
    return s + err


def rows_residual(A: np.ndarray, theta: np.ndarray, b: np.ndarray, r: np.ndarray
                   ) -> np.ndarray:
    """b - r - A @ theta for a block of right-hand sides (columns), accurately."""
    m, p = A.shape
    out = np.empty_like(b)
    step = max(1, _CHUNK // (2 * p + 2))
    for i in range(0, m, step):
        a = np.ascontiguousarray(A[i : i + step].T)  # (p, rows)
        for k in range(b.shape[1]):
            prod, err = _two_prod(a, -theta[:, k : k + 1])
            s, e = _sum2(np.concatenate([b[None, i : i + step, k], -r[None, i : i + step, k],
                                         prod, err]))
            out[i : i + step, k] = s + e
    return out


def cols_residual(A: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """c - A^T @ r for a block of right-hand sides (columns), accurately."""
    m, p = A.shape
    step = max(1, _CHUNK // (2 * p * c.shape[1]))
    parts, errs = [c], []
    for i in range(0, m, step):
        prod, err = _two_prod(A[i : i + step, :, None], -r[i : i + step, None, :])
        s, e = _sum2(np.concatenate([prod, err]))  # (p, K)
        parts.append(s)
        errs.append(e)
    s, e = _sum2(np.stack(parts))
    return s + (e + np.sum(errs, axis=0))
