"""A run's exact answers: linreg/reference/ (float64 numpy, certified against NIST's StRD) on
the data's own float64 values, whatever dtype training computes in.

    least_squares, ridge   one fit, as a `LeastSquares` of float64 tensors
    of_run                 a run's `Reference`: the least squares fit in the units training
                           sees and in raw units, the ridge point of SGD with weight decay,
                           the MSE Hessian's diagnostics, and the warnings they give
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import torch

from linreg import optim, reference
from linreg.data.prepare import Prepared

log = logging.getLogger(__name__)

SCALE_NOTE_RATIO = 100.0  # features this many times apart in scale get a note when raw


@dataclass
class LeastSquares:
    """A fitted line, w (d, 1) and b (1,) float64 tensors, and how well it fits (float64)."""

    w: torch.Tensor
    b: torch.Tensor
    mse: float
    se_w: list[float] | None = None  # standard errors (None for ridge)
    se_b: float | None = None  # None also without an intercept
    r2: float = math.nan
    resid_sd: float = math.nan

    @property
    def se(self) -> dict | None:
        """{"w": [...], "b": float or None}, as metrics.json holds it; None for ridge, and when
        the rows cannot estimate them (n <= n_params, a rank-deficient design: all NaN)."""
        if self.se_w is None or all(math.isnan(v) for v in self.se_w):
            return None
        return {"w": self.se_w, "b": self.se_b}


def _line(fit: reference.Fit) -> LeastSquares:
    return LeastSquares(
        w=torch.as_tensor(fit.coef, dtype=torch.float64).reshape(-1, 1),
        b=torch.tensor([fit.intercept], dtype=torch.float64), mse=fit.mse,
        se_w=None if fit.se_coef is None else [float(v) for v in fit.se_coef],
        se_b=fit.se_intercept, r2=fit.r2, resid_sd=fit.resid_sd)


def _nothing(d: int, why: str) -> LeastSquares:
    """A fit the reference refused (values beyond 1e150): NaN everywhere, null in JSON."""
    log.warning("no exact reference for these data: %s", why)
    nan = torch.full((d, 1), math.nan, dtype=torch.float64)
    return LeastSquares(nan, torch.tensor([math.nan], dtype=torch.float64), math.nan)


def _arrays(X: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    return X.double().numpy(), y.double().reshape(-1).numpy()


def least_squares(X: torch.Tensor, y: torch.Tensor, intercept: bool = True) -> LeastSquares:
    """The least squares fit of y (n, 1) on X (n, d), from X's and y's values as float64."""
    try:
        return _line(reference.least_squares(*_arrays(X, y), intercept=intercept))
    except ValueError as exc:
        return _nothing(X.shape[1], str(exc))


def ridge(X: torch.Tensor, y: torch.Tensor, weight_decay: float, intercept: bool = True,
          decay_bias: bool = True) -> LeastSquares:
    """The point SGD with torch's `weight_decay` converges to under the mean squared error.

    torch.optim.SGD adds weight_decay * p to the gradient of every parameter, the bias
    included, so SGD's fixed point minimises mean(r^2) + (weight_decay / 2) (|w|^2 + b^2):
    (A^T A + (n * weight_decay / 2) I) theta = A^T y with A = [X, 1]. Unlike textbook ridge,
    the bias shrinks too, unless `decay_bias` is false (optimizer.decay_bias: the penalty is
    then (weight_decay / 2) |w|^2, textbook ridge). Adagrad, RMSprop and Adam add the decay to
    the gradient too, so where they stop it is the same point. `mse` is the data term alone.
    """
    penalty = reference.weight_decay_penalty(weight_decay, X.shape[0])
    try:
        return _line(reference.ridge(*_arrays(X, y), penalty, intercept=intercept,
                                     decay_bias=decay_bias))
    except ValueError as exc:
        return _nothing(X.shape[1], str(exc))


@dataclass
class Reference:
    ols: LeastSquares  # least squares in the units training sees (standardized or not)
    raw: LeastSquares  # the same fit on the raw features (ols itself when not standardized)
    ridge: LeastSquares | None  # with weight decay and the MSE
    diagnostics: dict | None  # the loss's Hessian's (`diagnostics` here)
    decay_bias: bool = True  # whether ridge's penalty includes b (optimizer.decay_bias)
    ridge_note: str | None = None  # why there is no ridge point despite weight decay (AdamW)


def of_run(prepared: Prepared, intercept: bool, weight_decay: float, optimizer,
           loss_name: str, divisor: int = 1, ols: LeastSquares | None = None) -> Reference:
    """Everything exact about a run, from its float64 training rows (`ols`: the fit, if
    already known for these very rows; `divisor`: what the optimizer divides gradients by;
    `weight_decay`: the decay relative to the gradient, on the bias too unless
    optimizer.decay_bias is false)."""
    train = prepared.train
    ols = ols or least_squares(train.X, train.y, intercept)
    raw = ols
    if prepared.scaler is not None:
        raw = least_squares(prepared.raw.X, prepared.raw.y, intercept)
    fit = None
    if weight_decay > 0 and loss_name == "mse" and optim.ridge_note(optimizer) is None:
        fit = ridge(train.X, train.y, weight_decay, intercept, optimizer.decay_bias)
    note = optim.ridge_note(optimizer) if weight_decay > 0 else None
    return Reference(ols, raw, fit, diagnostics(train.X, intercept, optimizer, divisor,
                                                loss_name, weight_decay, optimizer.decay_bias),
                     optimizer.decay_bias, note)


# What the numbers of `diagnostics` are for each loss: (kind, why), written beside them
MEANING = {
    "mse": ("exact", "the loss is quadratic: these are its Hessian's eigenvalues everywhere"),
    "huber": ("bound", "the Hessian where every residual is within delta, (1/n) A^T A plus "
                       "the weight decay; rows beyond delta add no curvature, so it bounds the "
                       "Hessian everywhere and equals it at the optimum only if no training "
                       "row is beyond delta there. Below lr_max full-batch descent converges "
                       "(a convex loss with a gradient that is λ_max-Lipschitz); above it, "
                       "it may still. lr_best and rate_best are a quadratic's: none here"),
    "mae": ("none", "mean |r| is piecewise linear: its Hessian is 0 wherever it exists (the "
                    "weight decay's aside), so no step size follows from curvature; with a "
                    "constant lr, descent ends in a band around the optimum that shrinks with "
                    "lr rather than at it"),
}
MOMENTUM_NOT_BOUND = ("; with momentum no limit is known for a loss that is not quadratic "
                      "(heavy ball can cycle on one): lr_max is null")


def diagnostics(X: torch.Tensor, intercept: bool, optimizer, divisor: int = 1,
                loss_name: str = "mse", weight_decay: float = 0.0,
                decay_bias: bool = True) -> dict | None:
    """reference.diagnostics of the loss training minimises, mean(r^2) (whose gradient
    training computes as (2 / n) A^T r, loss.MSE.grad) plus torch's weight decay: its Hessian
    is (2 / n) A^T A + weight_decay D. `lr_max` is the limit for optimizer.lr itself:
    2 (1 + beta) / lambda_max for heavy-ball momentum beta, 2 (1 + beta) / ((1 + 2 beta)
    lambda_max) with nesterov, divided by (1 - dampening), times `divisor`
    (divide_by_batch_size divides the gradient by the batch size); None when momentum >= 1
    (no lr converges), and for the adaptive optimizers (Adagrad, RMSprop, Adam: they divide
    each step by a running size of the gradient, so no fixed lr limit applies). lr_best and
    rate_best are plain descent's. For the Huber loss and MAE,
    `kind` and `why` say what applies (MEANING); the numbers that do not are None."""
    X64 = X.double().numpy()
    if not np.all(np.isfinite(X64)):
        return None
    sgd = optim.is_sgd(optimizer)  # an adaptive optimizer's steps do not scale with lr alone
    beta = optimizer.momentum if sgd else 0.0
    kind, why = MEANING[loss_name]
    found = reference.diagnostics(X64, intercept=intercept, weight_decay=weight_decay,
                                  decay_bias=decay_bias,
                                  curvature=1.0 if loss_name == "huber" else 2.0)
    found.update(loss=loss_name, momentum=beta, kind=kind, why=why)
    if kind == "none":
        for key in ("rank", "eig_min", "eig_max", "eigenvalues", "condition_number", "lr_max",
                    "lr_best", "rate_best"):
            found[key] = None
        return found
    eig_max = found["eig_max"]
    found["lr_max"] = None  # no limit (a zero design) or no convergence (momentum >= 1)
    if kind == "bound":
        found["lr_best"] = found["rate_best"] = None
        if beta:
            found["why"] += MOMENTUM_NOT_BOUND
            return found
    if sgd and eig_max > 0 and beta < 1:
        limit = 2 * (1 + beta) / eig_max
        if optimizer.nesterov:
            limit /= 1 + 2 * beta
        if beta and optimizer.dampening:
            limit = limit / (1 - optimizer.dampening) if optimizer.dampening < 1 else math.inf
        found["lr_max"] = limit * divisor
    return found


def warn_before_training(ref: Reference, prepared: Prepared, settings) -> None:
    """One line when optimizer.lr is above the limit for these training rows, and a note when
    raw features differ in scale by more than SCALE_NOTE_RATIO."""
    opt, diag = settings.optimizer, ref.diagnostics
    if diag is not None and diag["lr_max"] is not None and settings.loss.name == "mse":
        limit = diag["lr_max"]
        if opt.lr > limit:
            what = "2/λ_max" if not opt.momentum else "the momentum's limit"
            log.warning("optimizer.lr=%g is above %s = %.3g for these training rows: full-batch "
                        "descent diverges; minibatches make it worse", opt.lr, what, limit)
    if prepared.scaler is None and prepared.train.n_features > 1:
        # the size the Hessian sees: the root mean square (a year column, 1947..1962, is large)
        scale = prepared.train.X.double().square().mean(dim=0).sqrt()
        low, high = float(scale.min()), float(scale.max())
        if low > 0 and high / low > SCALE_NOTE_RATIO:
            log.warning("note: the features differ in size by %.3gx (root mean squares %.3g to "
                        "%.3g) and are not standardized: one lr cannot suit them all "
                        "(dataset.standardize=true)", high / low, low, high)
