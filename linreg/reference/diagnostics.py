"""The maths of full-batch gradient descent on the mean squared error, for a run's design."""

from __future__ import annotations

import numpy as np

from linreg.reference.least_squares import design, numerical_rank

FULL_SPECTRUM_MAX = 20  # `diagnostics` lists every eigenvalue when there are this few

def diagnostics(X, intercept: bool = True, momentum: float = 0.0) -> dict:
    """What full-batch gradient descent on loss = mean(r^2) can do on the design X (n, d).

    The loss is a quadratic with Hessian H = (2/n) A^T A, A = [X, 1] (X alone without an
    intercept), in the coordinates training uses (X as given: standardise it first if training
    does). Its eigenvalues are 2 s_i^2 / n for the singular values s_i of A (computed from A,
    never from A^T A). Gradient descent theta <- theta - lr * grad multiplies the error along
    eigenvector i by (1 - lr * lambda_i) per step, so:

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
    A = design(X, intercept)
    n, p = A.shape
    s = np.zeros(p)
    s[: min(n, p)] = np.linalg.svd(A, compute_uv=False)
    rank = numerical_rank(s, p)
    eig = np.sort(2.0 * s**2 / n)
    eig_max = float(eig[-1])
    positive = eig[p - rank :]
    result = {
        "n_rows": n,
        "n_params": p,
        "momentum": float(momentum),
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
