"""The linear model y_hat = X @ w + b, and its closed-form least-squares fit."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, d) @ (d, 1) + (1,) -> (n, 1). Shapes are checked: no silent (n,) vs (n, 1)."""
    if X.ndim != 2 or w.shape != (X.shape[1], 1) or b.shape != (1,):
        raise ValueError(f"shape mismatch: X {tuple(X.shape)}, w {tuple(w.shape)}, "
                         f"b {tuple(b.shape)}; expected (n, d), (d, 1), (1,)")
    return X @ w + b


def mse(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    r = predict(X, w, b) - y
    return float((r * r).mean())


def r2(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot, on (X, y)."""
    r = predict(X, w, b) - y
    total = ((y - y.mean()) ** 2).sum()
    return float(1 - (r * r).sum() / total) if total > 0 else float("nan")


@dataclass
class LeastSquares:
    """The exact minimiser of the mean squared error, solved in float64."""

    w: torch.Tensor  # (d, 1) float32
    b: torch.Tensor  # (1,) float32
    mse: float


def least_squares(X: torch.Tensor, y: torch.Tensor) -> LeastSquares:
    X64 = torch.cat([X.double(), torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
    solution = torch.linalg.lstsq(X64, y.double(), driver="gelsd").solution  # (d + 1, 1)
    w, b = solution[:-1].float(), solution[-1].float()
    residual = X64 @ solution - y.double()
    return LeastSquares(w=w, b=b, mse=float((residual**2).mean()))


def ridge(X: torch.Tensor, y: torch.Tensor, weight_decay: float) -> LeastSquares:
    """The point SGD with torch's `weight_decay` converges to under the mean squared error.

    torch.optim.SGD adds weight_decay * p to the gradient of every parameter, the bias
    included, so SGD's fixed point theta = (w, b) solves grad mean(r^2) + weight_decay * theta
    = 0: it minimises mean(r^2) + (weight_decay / 2) * (|w|^2 + b^2). With A = [X, 1] that is
    (2 / n) A^T (A theta - y) + weight_decay * theta = 0, i.e.
    (A^T A + (n * weight_decay / 2) I) theta = A^T y. Unlike textbook ridge, the bias shrinks
    too. `mse` is the data term alone, mean(r^2), comparable with least squares'.
    """
    n = X.shape[0]
    A = torch.cat([X.double(), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    gram = A.T @ A + (n * weight_decay / 2) * torch.eye(A.shape[1], dtype=torch.float64)
    solution = torch.linalg.solve(gram, A.T @ y.double())
    residual = A @ solution - y.double()
    return LeastSquares(w=solution[:-1].float(), b=solution[-1].float(),
                        mse=float((residual**2).mean()))


def standard_errors(X: torch.Tensor, y: torch.Tensor, fit: LeastSquares
                    ) -> tuple[list[float], float] | None:
    """Textbook standard errors of the least-squares w and b: how far they typically sit from
    the true values when the noise is independent with one variance. None when the rows
    cannot estimate that variance (n <= d + 1).

    Covariance s^2 (A^T A)^-1 with A = [X, 1] and s^2 = sum(r^2) / (n - d - 1).
    """
    n, d = X.shape
    if n <= d + 1:
        return None
    A = torch.cat([X.double(), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    s2 = fit.mse * n / (n - d - 1)
    se = torch.sqrt(s2 * torch.linalg.pinv(A.T @ A).diagonal())
    return se[:-1].tolist(), float(se[-1])
