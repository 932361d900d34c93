"""Least squares and ridge in float64: a preconditioned QR and Bjorck's refinement (the method
is explained in linreg/reference/__init__.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg  # LAPACK's QR and triangular solves; numpy has no triangular solve

from linreg.reference.twofold import LARGEST, accurate_sum, cols_residual, rows_residual

EPS = float(np.finfo(np.float64).eps)  # 2^-52
MAX_REFINEMENT_STEPS = 20
SE_REFINE_KAPPA = 1e4  # refine the standard errors when kappa(centred, scaled design) is above


@dataclass(frozen=True)
class Fit:
    """A fitted model y ~ X @ coef + intercept, and how well it fits. All float64.

    rss = sum of squared residuals over the n rows (for ridge: the data term only),
    mse = rss / n (the quantity linreg's training loss estimates),
    r2 = 1 - rss / tss, with tss = sum((y - mean(y))^2) when the model has an intercept and
        sum(y^2) without one (NIST's convention for its no-intercept datasets); NaN when
        tss = 0 (a constant target: there is no variance to explain; linreg.model.r2 says NaN
        too, scikit-learn's r2_score 1.0 for a perfect fit and 0.0 otherwise),
    resid_sd = sqrt(rss / dof) with dof = n - rank; NaN when dof = 0,
    se_coef, se_intercept: standard errors, resid_sd * sqrt(diag((A^T A)^-1)) with
        A = [X, 1]; NaN when rank < n_params or dof = 0; None for ridge, and se_intercept is
        None without an intercept.
    """

    coef: np.ndarray  # w, shape (d,)
    intercept: float  # b; 0.0 when the model has no intercept
    se_coef: np.ndarray | None
    se_intercept: float | None
    rss: float
    mse: float
    r2: float
    resid_sd: float
    rank: int  # numerical rank of the design [X, 1] (or X without intercept)
    dof: int  # residual degrees of freedom, n - rank


@dataclass(frozen=True)
class _Problem:
    """min |b - A theta| in the original coordinates, with B = A @ T, well conditioned and
    computed as accurately as possible, factored as B = Q R."""

    A: np.ndarray  # (m, p) the design in the original coordinates
    T: np.ndarray  # (p, p) theta = T @ phi
    Q: np.ndarray  # (m, p)
    R: np.ndarray  # (p, p) upper triangular


def _solve_augmented(P: _Problem, f: np.ndarray, g: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The correction (dr, dtheta) with dr + A dtheta = f, A^T dr = g, through B = A T = Q R:
    B^T dr = T^T g gives Q^T dr = h with R^T h = T^T g; then R dphi = Q^T f - h."""
    h = linalg.solve_triangular(P.R, P.T.T @ g, trans="T")
    d = P.Q.T @ f - h
    dphi = linalg.solve_triangular(P.R, d)
    return f - P.Q @ d, P.T @ dphi


def _refined(P: _Problem, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(theta, r) solving r + A theta = b, A^T r = c (columns are right-hand sides): the QR
    solution, then corrections from accurately computed residuals while they shrink (largest
    relative change of a component), until they fall below float64's resolution.

    r is refined with theta: it is the least squares residual b - A theta* of the exact
    solution, to float64 accuracy, even where rounding theta* to float64 moves A theta."""
    r = np.zeros_like(b)
    theta = np.zeros((P.A.shape[1], b.shape[1]))
    f, g = b, c
    previous = math.inf
    for _ in range(MAX_REFINEMENT_STEPS):
        dr, dtheta = _solve_augmented(P, f, g)
        size = np.abs(theta + dtheta)
        change = float(np.max(np.abs(dtheta) / np.where(size > 0, size, 1.0), initial=0.0))
        if change >= previous:  # no longer converging: keep the last iterate
            break
        r, theta = r + dr, theta + dtheta
        if change <= EPS:
            break
        previous = change
        f, g = rows_residual(P.A, theta, b, r), cols_residual(P.A, r, c)
    return theta, r


def _as_problem(X, y, intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {X.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
    if X.shape[0] == 0:
        raise ValueError("no rows")
    if not intercept and X.shape[1] == 0:
        raise ValueError("a model with no intercept and no columns has nothing to fit")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite (no NaN or inf)")
    if max(np.max(np.abs(X), initial=0.0), np.max(np.abs(y))) > LARGEST:
        raise ValueError(f"values beyond {LARGEST:g}: rescale X and y (the accurate products "
                         "would overflow)")
    return X, y


def design(X: np.ndarray, intercept: bool) -> np.ndarray:
    return np.column_stack([X, np.ones(X.shape[0])]) if intercept else X


def _preconditioned(X: np.ndarray, intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """(B, T): the centred (with an intercept) and scaled design B = [X, 1] @ T, and T."""
    n, d = X.shape
    mean = accurate_sum(X) / n if intercept else np.zeros(d)
    centred = X - mean  # exact where the values are within a factor 2 of their mean
    scale = np.linalg.norm(centred, axis=0)
    scale[scale == 0] = 1.0
    T = np.diag(1.0 / scale)
    B = centred / scale
    if intercept:
        # [X, 1] @ T = [(X - mean) / scale, 1 / sqrt(n)]
        T = np.block([[T, np.zeros((d, 1))], [-(mean / scale)[None, :], np.full((1, 1), n**-0.5)]])
        B = np.column_stack([B, np.full(n, n**-0.5)])
    return B, T


def numerical_rank(singular_values: np.ndarray, n_params: int) -> int:
    """How many singular values are above n_params * 2^-52 times the largest. On the centred,
    scaled design an exact dependence (a constant or repeated column) leaves about 1e-16 of
    the largest, while refinement still reaches full accuracy at a condition number of 3e13
    (a degree-14 polynomial on [-9, -3]); beyond 1 / (n_params 2^-52), the design is
    treated as rank-deficient."""
    if singular_values.size == 0 or singular_values[0] == 0:
        return 0
    return int(np.sum(singular_values > n_params * EPS * singular_values[0]))


def _statistics(resid: np.ndarray, y: np.ndarray, intercept: bool, rank: int) -> dict:
    """rss, mse, r2, resid_sd, rank, dof of a fit with these residuals."""
    n = y.shape[0]
    rss = float(accurate_sum(resid * resid))
    centre = float(accurate_sum(y)) / n if intercept else 0.0
    tss = float(accurate_sum((y - centre) ** 2))
    dof = n - rank
    return {
        "rss": rss,
        "mse": rss / n,
        "r2": 1.0 - rss / tss if tss > 0 else math.nan,
        "resid_sd": math.sqrt(rss / dof) if dof > 0 else math.nan,
        "rank": rank,
        "dof": dof,
    }


def _unpack(theta: np.ndarray, intercept: bool) -> tuple[np.ndarray, float]:
    return (theta[:-1].copy(), float(theta[-1])) if intercept else (theta.copy(), 0.0)


def _minimum_norm(B: np.ndarray, T: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """The minimum-|theta| least squares solution of a rank-deficient problem (truncated SVD of
    B, no refinement), and the rank."""
    U, s, Vt = np.linalg.svd(B, full_matrices=B.shape[0] < B.shape[1])  # all of V if wide
    rank = numerical_rank(s, B.shape[1])
    phi = Vt[:rank].T @ ((U[:, :rank].T @ y) / s[:rank])
    theta = T @ phi
    null = T @ Vt[rank:].T  # A @ null = B @ Vt[rank:].T = 0: the directions the data leave free
    if null.shape[1]:
        q, _ = np.linalg.qr(null)
        theta = theta - q @ (q.T @ theta)
    return theta, rank


def least_squares(X, y, intercept: bool = True) -> Fit:
    """The least squares fit of y (n,) on X (n, d), with an intercept unless intercept=False.

    Full rank: QR of the centred, scaled design, then refinement to float64 accuracy.
    Rank-deficient: the minimum-norm solution, rank < n_params, standard errors NaN.
    """
    X, y = _as_problem(X, y, intercept)
    A = design(X, intercept)
    B, T = _preconditioned(X, intercept)
    n, p = A.shape
    rank, kappa = 0, math.inf
    if n >= p:
        Q, R = linalg.qr(B, mode="economic")
        sv = linalg.svdvals(R)
        rank = numerical_rank(sv, p)
        kappa = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    if rank < p:
        theta, rank = _minimum_norm(B, T, y)
        coef, b = _unpack(theta, intercept)
        return Fit(coef=coef, intercept=b, se_coef=np.full(X.shape[1], math.nan),
                   se_intercept=math.nan if intercept else None,
                   **_statistics(rows_residual(A, theta[:, None], y[:, None],
                                                np.zeros((n, 1)))[:, 0], y, intercept, rank))

    problem = _Problem(A=A, T=T, Q=Q, R=R)
    theta, resid = _refined(problem, y[:, None], np.zeros((p, 1)))
    theta = theta[:, 0]
    stats = _statistics(resid[:, 0], y, intercept, rank)
    se = np.full(p, math.nan)
    if stats["dof"] > 0:
        se = stats["resid_sd"] * np.sqrt(_inverse_gram_diagonal(problem, kappa))
    coef, b = _unpack(theta, intercept)
    return Fit(coef=coef, intercept=b, se_coef=se[: X.shape[1]],
               se_intercept=float(se[-1]) if intercept else None, **stats)


def _inverse_gram_diagonal(P: _Problem, kappa: float) -> np.ndarray:
    """diag((A^T A)^-1) = diag(T R^-1 R^-T T^T): the squared column norms of R^-T T^T, good to
    about kappa(B) * 2^-52 relative. When that is worse than SE_REFINE_KAPPA * 2^-52, refined:
    the augmented system r + A x = 0, A^T r = e_j has x = -(A^T A)^-1 e_j, and the first step
    of `_refined` is exactly the unrefined value (costly: n_params right-hand sides)."""
    if kappa <= SE_REFINE_KAPPA:
        M = linalg.solve_triangular(P.R, P.T.T, trans="T")
        return np.sum(M * M, axis=0)
    m, p = P.A.shape
    return np.maximum(-np.diag(_refined(P, np.zeros((m, p)), np.eye(p))[0]), 0.0)


def weight_decay_penalty(weight_decay: float, n_rows: int) -> float:
    """The ridge `penalty` of SGD with torch's weight_decay on the loss mean(r^2) over n_rows.

    SGD's fixed point solves grad mean(r^2) + weight_decay * theta = 0, i.e. it minimises
    mean(r^2) + (weight_decay / 2) |theta|^2, which is rss + (n * weight_decay / 2) |theta|^2
    divided by n.
    """
    return n_rows * weight_decay / 2.0


def ridge(X, y, penalty: float, intercept: bool = True, decay_bias: bool = True) -> Fit:
    """The minimiser of rss + penalty * (|w|^2 + b^2), or + penalty * |w|^2 with
    decay_bias=False (the bias unpenalised), i.e. (A^T A + penalty D) theta = A^T y with
    A = [X, 1] and D = I (or I without its last 1). For linreg's SGD with weight decay,
    penalty = weight_decay_penalty(weight_decay, n).

    Solved as least squares on the augmented system [A; sqrt(penalty) D] theta ~ [y; 0] (QR of
    its preconditioned form, then refinement; the normal equations are never formed).
    se_coef and se_intercept are None; rss and mse are the data term alone; r2 and resid_sd
    use the least squares formulas (resid_sd with n - n_params degrees of freedom, NaN when
    n <= n_params). penalty = 0 is least_squares (with its standard errors).
    """
    if not (math.isfinite(penalty) and penalty >= 0):
        raise ValueError(f"penalty must be finite and >= 0, got {penalty}")
    if penalty == 0:
        return least_squares(X, y, intercept)
    X, y = _as_problem(X, y, intercept)
    A = design(X, intercept)
    B, T = _preconditioned(X, intercept)
    n, p = A.shape
    D = np.eye(p)
    if intercept and not decay_bias:
        D[-1, -1] = 0.0
    root = math.sqrt(penalty)
    B_aug = np.vstack([B, root * (D @ T)])
    scale = np.linalg.norm(B_aug, axis=0)
    scale[scale == 0] = 1.0
    T, B_aug = T / scale, B_aug / scale
    Q, R = linalg.qr(B_aug, mode="economic")
    problem = _Problem(A=np.vstack([A, root * D]), T=T, Q=Q, R=R)
    y_aug = np.concatenate([y, np.zeros(p)])
    theta, resid = _refined(problem, y_aug[:, None], np.zeros((p, 1)))
    theta = theta[:, 0]
    stats = _statistics(resid[:n, 0], y, intercept, rank=p)
    stats["dof"] = n - p
    stats["resid_sd"] = math.sqrt(stats["rss"] / (n - p)) if n > p else math.nan
    coef, b = _unpack(theta, intercept)
    return Fit(coef=coef, intercept=b, se_coef=None, se_intercept=None, **stats)


def polynomial(x, degree: int) -> np.ndarray:
    """The design (n, degree) with columns x, x^2, ..., x^degree (no constant column: the
    intercept is the model's), for polynomial models such as NIST's Wampler and Filip sets."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if not (isinstance(degree, int | np.integer) and degree >= 1):
        raise ValueError(f"degree must be an integer >= 1, got {degree!r}")
    return x[:, None] ** np.arange(1, degree + 1)
