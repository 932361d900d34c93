"""The maths of full-batch gradient descent on a quadratic loss (the mean squared error, with
or without weight decay), for a run's design."""

from __future__ import annotations

import numpy as np

from linreg.reference.least_squares import design, numerical_rank

FULL_SPECTRUM_MAX = 20  # `diagnostics` lists every eigenvalue when there are this few

def diagnostics(X, intercept: bool = True, momentum: float = 0.0, weight_decay: float = 0.0,
                decay_bias: bool = True, curvature: float = 2.0) -> dict:
    """What full-batch gradient descent on loss = mean(r^2) can do on the design X (n, d).

    The loss is a quadratic with Hessian H = (2/n) A^T A, A = [X, 1] (X alone without an
    intercept), in the coordinates training uses (X as given: standardise it first if training
    does). Weight decay (torch's: weight_decay * p added to the gradient) adds weight_decay *
    D, D the identity (or without its bias entry when `decay_bias` is false): with the bias
    decayed too, every eigenvalue moves up by weight_decay exactly. The eigenvalues are the
    squared singular values of [sqrt(2/n) A; sqrt(weight_decay) D], computed from that stacked
    matrix, never from A^T A. `curvature` replaces the 2 of 2/n: 1 for the Huber loss where
    every residual is within delta. Gradient descent theta <- theta - lr * grad multiplies the
    error along eigenvector i by (1 - lr * lambda_i) per step, so:

    - lr_max = 2 / lambda_max: converges below, diverges above. With heavy-ball momentum beta
      (torch's SGD momentum, no dampening) the limit is 2 (1 + beta) / lambda_max.
    - lr_best = 2 / (lambda_min + lambda_max) (plain GD) makes the two extreme factors equal,
      |error| shrinks by at least rate_best = (kappa - 1) / (kappa + 1) per step, with
      kappa = lambda_max / lambda_min the condition number.

    When H is singular (rank < n_params), lambda_min = 0, condition_number is None and
    lr_best, rate_best use the smallest non-zero eigenvalue (GD does not move along flat
    directions, and they do not change the loss). Returns JSON-ready values (floats, ints,
    lists, None); `eigenvalues` (ascending) is None when n_params > 20.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be 2-D (n, d) with n >= 1, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite (no NaN or inf)")
    if not (0.0 <= momentum < 1.0):
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if not (weight_decay >= 0.0 and np.isfinite(weight_decay)):
        raise ValueError(f"weight_decay must be finite and >= 0, got {weight_decay}")
    A = design(X, intercept)
    n, p = A.shape
    every = intercept is False or decay_bias  # weight decay on every parameter
    B = A if every else np.vstack([np.sqrt(curvature / n) * A, _decay_rows(p, weight_decay)])
    s = np.zeros(p)
    s[: min(B.shape[0], p)] = np.linalg.svd(B, compute_uv=False)
    rank = numerical_rank(s, p)
    if every:  # the shift is exact: added after, not rounded into the singular values
        eig = np.sort(curvature * s**2 / n) + weight_decay
        rank = p if weight_decay > 0 else rank
    else:
        eig = np.sort(s**2)
    eig_max = float(eig[-1])
    positive = eig[p - rank :]
    result = {
        "n_rows": n,
        "n_params": p,
        "momentum": float(momentum),
        "weight_decay": float(weight_decay),
        "decay_bias": bool(decay_bias) if intercept else None,
        "rank": rank,
        "eig_min": float(eig[0]) if rank == p else 0.0,
        "eig_max": eig_max,
        "eigenvalues": [float(v) for v in eig] if p <= FULL_SPECTRUM_MAX else None,
        "condition_number": eig_max / float(eig[0]) if rank == p else None,
        "lr_max": 2.0 * (1.0 + momentum) / eig_max if eig_max > 0 else None,
        "lr_best": None,
        "rate_best": None,
    }
    if rank > 0:
        low = float(positive[0])
        kappa = eig_max / low
        result["lr_best"] = 2.0 / (low + eig_max)
        result["rate_best"] = (kappa - 1.0) / (kappa + 1.0)
    if rank < p and result["eigenvalues"] is not None:
        result["eigenvalues"][: p - rank] = [0.0] * (p - rank)
    return result


def _decay_rows(p: int, weight_decay: float) -> np.ndarray:
    """sqrt(weight_decay) D: the rows that add weight_decay to the Hessian's weights only."""
    rows = np.zeros((p, p))
    rows[np.arange(p - 1), np.arange(p - 1)] = np.sqrt(weight_decay)
    return rows
