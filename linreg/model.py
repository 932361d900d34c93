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
