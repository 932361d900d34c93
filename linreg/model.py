"""The linear model y_hat = X @ w + b: the `model` config group, and its predictions.

    linear     from scratch: w (d, 1) and b (1,), the loss's analytic gradient (train.py)
    nn_linear  the framework way: torch.nn.Linear, autograd and the nn losses (framework.py)

Both are the same model and record the same shapes: metrics.json's w is a list of d floats
(nn.Linear's weight, (1, d), is w transposed), b one float.

Its exact fit (least squares, ridge, standard errors) is the run's reference, computed in
float64 by linreg/reference/ (wired into a run by linreg/exact.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class ModelConfig:
    name: str = field(default="linear", metadata={"one_of": ("linear", "nn_linear")})
    # false: y_hat = X @ w, b stays 0 and is not trained (the references and figures agree)
    intercept: bool = True


SCHEMAS = {"linear": ModelConfig, "nn_linear": ModelConfig}


def predict(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, d) @ (d, 1) + (1,) -> (n, 1). Shapes are checked: no silent (n,) vs (n, 1)."""
    if X.ndim != 2 or w.shape != (X.shape[1], 1) or b.shape != (1,):
        raise ValueError(f"shape mismatch: X {tuple(X.shape)}, w {tuple(w.shape)}, "
                         f"b {tuple(b.shape)}; expected (n, d), (d, 1), (1,)")
    return X @ w + b


def r2(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: torch.Tensor,
       intercept: bool = True) -> float:
    """Coefficient of determination, 1 - SS_res / SS_tot, on (X, y); SS_tot about the mean,
    or about 0 for a model without an intercept (as linreg.reference and NIST count it)."""
    r = predict(X, w, b) - y
    total = ((y - y.mean()) ** 2).sum() if intercept else (y * y).sum()
    return float(1 - (r * r).sum() / total) if total > 0 else float("nan")
