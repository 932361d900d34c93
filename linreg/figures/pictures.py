"""What each figure of a run shows, as plain numbers: computed here with torch from the run's
data and history, drawn by the other modules of figures/ without it.

Everything is in the units a reader knows: fit.png in the data's original units, the
trajectory in the units training saw (standardized x when the run standardized).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch

from linreg.data.prepare import Prepared, Standardizer
from linreg.data.table import Data
from linreg.exact import LeastSquares
from linreg.figures.fit import FIT_FILE, CurveFit, LineFit, PredictedFit
from linreg.figures.loss_curves import LOSS_FILE, LossCurves
from linreg.figures.style import Line, spread
from linreg.figures.trajectory import TRAJECTORY_FILE, PathPicture, epoch_marks
from linreg.loss import MSE, Loss
from linreg.model import predict
from linreg.train import History

MAX_TRACED_STEPS = 20_000  # beyond this the path is drawn per epoch: a line of 20k points is dense
GRID = 121  # grid points per axis for the contours
CURVE_POINTS = 401  # points of the loss curve over w, without an intercept

log = logging.getLogger(__name__)


def of_run(settings: Any, prepared: Prepared, history: History, reference: LeastSquares,
           loss_fn: Loss, ridge: LeastSquares | None, steps_per_epoch: int) -> dict[str, Any]:
    """{file name: picture} for a run of `settings` (config.RunConfig, not imported: the
    config is above the figures); trajectory.png only with one feature, drawn
    step by step when history.path was traced, else epoch by epoch. A long history is drawn
    from a selection of its epochs and steps (style.spread): a figure needs no more."""
    data = prepared.train
    epochs = spread(history.epochs_run)

    def pick(values: list[float]) -> list[float]:
        return [values[i] for i in epochs] if values else []

    pictures: dict[str, Any] = {
        FIT_FILE: fit_picture(data, history, reference, val=prepared.val,
                              scaler=prepared.scaler),
        LOSS_FILE: LossCurves(pick(history.train_loss), pick(history.full_mse), reference.mse,
                              settings.loss.name, pick(history.val_loss), history.status,
                              epochs=[i + 1 for i in epochs], lr=pick(history.lr),
                              best_epoch=history.best_epoch
                              if history.stop_reason == "early_stopping"
                              or history.restored_best else None,
                              restored=history.restored_best),
    }
    if data.n_features == 1:
        per_epoch = steps_per_epoch if history.path else 1
        steps, points = _route(history, per_epoch)
        if not any(math.isfinite(w) and math.isfinite(b) for w, b in points):
            log.warning("%s not drawn: no point of the path is finite (it starts at w = %s, "
                        "b = %s)", TRAJECTORY_FILE, history.w_start[0], history.b_start)
            return pictures
        opt, train = settings.optimizer, settings.train
        subtitle = (f"{opt.name}, lr {opt.lr:g}, batch {train.batch_size}, {settings.loss.name}"
                    + (f", momentum {opt.momentum:g}" if getattr(opt, "momentum", 0) else "")
                    + (" (nesterov)" if getattr(opt, "nesterov", False) else "")
                    + (f", weight decay {opt.weight_decay:g}" if opt.weight_decay else "")
                    + (" (w only)" if opt.weight_decay and not opt.decay_bias else "")
                    + (f", {settings.scheduler.name} schedule"
                       if settings.scheduler.name != "none" else "")
                    + ("" if settings.model.intercept else ", no intercept (b = 0)"))
        pictures[TRAJECTORY_FILE] = path_picture(
            data, loss_fn, points, reference, ridge=ridge, scaler=prepared.scaler,
            steps_per_epoch=per_epoch, subtitle=subtitle, steps=steps,
            intercept=settings.model.intercept)
    return pictures


def path_record(data: Data, picture: PathPicture) -> dict[str, Any]:
    """What path.json keeps of trajectory.png (records/path.py): the path drawn, and the five
    means that give the training rows' MSE at any (w, b)."""
    x, y = data.X[:, 0].double(), data.y[:, 0].double()
    return {"loss": picture.loss_name, "standardized": picture.standardized,
            "steps_per_epoch": picture.steps_per_epoch, "step": picture.step_numbers(),
            "w": [w for w, _ in picture.route], "b": [b for _, b in picture.route],
            "ols": list(picture.ols), "true": None if picture.true_wb is None
            else list(picture.true_wb),
            "mse_moments": [float(t.mean()) for t in (x * x, x, x * y, y, y * y)]}


def _route(history: History, per_epoch: int) -> tuple[list[int], list[list[float]]]:
    """The steps drawn (style.spread, keeping those the figure marks) and [w, b] after each:
    of the traced path, or else the start and the parameters after each epoch."""
    n = len(history.path) if history.path else history.epochs_run + 1
    steps = spread(n, keep=[e * per_epoch for e in epoch_marks((n - 1) // per_epoch)])
    if history.path:
        return steps, [history.path[i] for i in steps]
    return steps, [[*history.w[i - 1], history.b[i - 1]] if i else
                   [*history.w_start, history.b_start] for i in steps]


def last_finite_epoch(history: History) -> int | None:
    """Index of the last epoch whose parameters are all finite (a diverged run ends in NaN);
    the best epoch's when the run restored it (train.early_stopping.restore_best)."""
    if history.restored_best:
        return history.final
    for i in range(history.epochs_run - 1, -1, -1):
        if all(math.isfinite(v) for v in [*history.w[i], history.b[i]]):
            return i
    return None


def fit_picture(data: Data, history: History, reference: LeastSquares, *,
                val: Data | None = None, scaler: Standardizer | None = None
                ) -> LineFit | PredictedFit:
    """`data` (and `val`) as trained on; with a `scaler`, drawn back in the original units."""
    epoch = last_finite_epoch(history)
    dtype = data.X.dtype
    drawn = None if epoch is None else (
        torch.tensor(history.w[epoch], dtype=dtype).reshape(-1, 1),
        torch.tensor([history.b[epoch]], dtype=dtype))
    # the epoch's number, from 1 as loss.png counts them
    last_finite = epoch + 1 if epoch is not None and epoch != history.epochs_run - 1 \
        and not history.restored_best else None
    if data.poly_degree > 1 or data.true_poly is not None:  # a curve: x, x^2, ... or the truth
        return _curve_picture(data, drawn, reference, last_finite, val, scaler)
    if data.n_features > 1:
        return PredictedFit(
            y=_numpy(data.y),
            ols_pred=_numpy(predict(data.X, reference.w.to(dtype), reference.b.to(dtype))),
            fit_pred=None if drawn is None else _numpy(predict(data.X, *drawn)),
            n_features=data.n_features, last_finite=last_finite,
            y_val=None if val is None or drawn is None else _numpy(val.y),
            val_pred=None if val is None or drawn is None else _numpy(predict(val.X, *drawn)))

    def raw(X: torch.Tensor) -> np.ndarray:  # a standardized x means nothing to the reader
        return _numpy(X if scaler is None else scaler.invert(X))

    def line(w: torch.Tensor, b: torch.Tensor) -> Line:
        if scaler is not None:
            w, b = scaler.to_original(w, b)
        return float(w), float(b)

    true = None
    if data.w_true is not None and data.b_true is not None:
        true = (data.w_true[0], data.b_true)
    return LineFit(x=raw(data.X), y=_numpy(data.y), ols=line(reference.w, reference.b),
                   fit=None if drawn is None else line(*drawn), last_finite=last_finite,
                   x_val=None if val is None else raw(val.X),
                   y_val=None if val is None else _numpy(val.y), true=true,
                   xlabel=data.feature_name(0) if data.feature_names else None)


def _curve_picture(data: Data, drawn: tuple[torch.Tensor, torch.Tensor] | None,
                   reference: LeastSquares, last_finite: int | None, val: Data | None,
                   scaler: Standardizer | None) -> CurveFit:
    """fit.png of polynomial features: each curve's values on a grid of x, from the powers
    of the grid put through the run's own standardization."""
    def x_of(rows: Data) -> torch.Tensor:  # the first column is x itself, in raw units
        return (rows.X if scaler is None else scaler.invert(rows.X))[:, 0].double()

    xs = [x_of(data)] + ([] if val is None else [x_of(val)])
    grid = torch.linspace(min(float(x.min()) for x in xs), max(float(x.max()) for x in xs),
                          400, dtype=torch.float64)
    powers = torch.stack([grid ** k for k in range(1, data.poly_degree + 1)], dim=1)
    design = powers if scaler is None else (powers - scaler.mean) / scaler.std

    def curve(w: torch.Tensor, b: torch.Tensor) -> np.ndarray:
        return _numpy(design @ w.double() + b.double())

    true = None
    if data.true_poly is not None and data.b_true is not None:
        true = _numpy(sum(c * grid ** (k + 1) for k, c in enumerate(data.true_poly))
                      + data.b_true)
    return CurveFit(x=_numpy(xs[0]), y=_numpy(data.y), degree=data.poly_degree,
                    grid=_numpy(grid), ols=curve(reference.w, reference.b),
                    fit=None if drawn is None else curve(*drawn), last_finite=last_finite,
                    x_val=None if val is None else _numpy(xs[1]),
                    y_val=None if val is None else _numpy(val.y), true=true,
                    xlabel=data.feature_name(0))


def path_picture(data: Data, loss_fn: Loss, points: list[list[float]], reference: LeastSquares, *,
                 ridge: LeastSquares | None = None, scaler: Standardizer | None = None,
                 steps_per_epoch: int = 1, subtitle: str = "",
                 steps: list[int] | None = None, intercept: bool = True) -> PathPicture:
    """`points`: [w, b] at the start and after each step (steps_per_epoch of them an epoch)
    or after each epoch (steps_per_epoch 1), in the units training saw; `steps`: the step of
    each point, when they are a selection. Without an intercept (b = 0 throughout), the loss
    is a curve over w."""
    ols = (float(reference.w), float(reference.b))
    ridge_wb = None if ridge is None else (float(ridge.w), float(ridge.b))
    true_wb = None
    if data.w_true is not None and data.b_true is not None:
        w_true, b_true = torch.tensor([[data.w_true[0]]]), torch.tensor([data.b_true])
        if scaler is not None:
            w_true, b_true = scaler.from_original(w_true, b_true)
        true_wb = (float(w_true), float(b_true))
    route = [(p[0], p[1]) for p in points]
    marked = [ols] + [m for m in (ridge_wb, true_wb) if m is not None]
    shown = route + marked if intercept else [(w, 0.0) for w, _ in route + marked]
    (cw, cb), half = _square_view(shown, keep_near=ols)
    name, standardized = type(loss_fn).__name__.lower(), scaler is not None
    if not intercept:  # b = 0 throughout: the loss is a curve over w
        w_axis = np.linspace(cw - half, cw + half, CURVE_POINTS)

        def at(ws: list[float]) -> list[float]:
            w = torch.tensor(ws, dtype=torch.float64).reshape(-1, 1)
            return loss_surface(data, loss_fn, w, torch.zeros_like(w)).reshape(-1).tolist()

        return PathPicture(w_axis=w_axis, b_axis=None, loss=np.array(at(w_axis.tolist())),
                           loss_name=name, route=route, steps_per_epoch=steps_per_epoch,
                           ols=ols, ridge=ridge_wb, true_wb=true_wb, subtitle=subtitle,
                           standardized=standardized, steps=steps or [],
                           route_loss=at([w for w, _ in route]), ols_loss=at([ols[0]])[0],
                           ridge_loss=math.nan if ridge_wb is None else at([ridge_wb[0]])[0])
    w_axis = torch.linspace(cw - half, cw + half, GRID, dtype=torch.float64)
    b_axis = torch.linspace(cb - half, cb + half, GRID, dtype=torch.float64)
    W, B = torch.meshgrid(w_axis, b_axis, indexing="ij")
    return PathPicture(w_axis=w_axis.numpy(), b_axis=b_axis.numpy(),
                       loss=loss_surface(data, loss_fn, W, B).numpy(), loss_name=name,
                       route=route, steps_per_epoch=steps_per_epoch, ols=ols, ridge=ridge_wb,
                       true_wb=true_wb, subtitle=subtitle, standardized=standardized,
                       steps=steps or [])


def loss_surface(data: Data, loss: Loss, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The mean loss at every (w[i], b[j]); one feature only."""
    x, y = data.X[:, 0].double(), data.y[:, 0].double()
    if isinstance(loss, MSE):  # exact from five means, however many rows
        mean = [float(t.mean()) for t in (x * x, x, x * y, y, y * y)]
        return (w * w * mean[0] + 2 * w * b * mean[1] + b * b - 2 * w * mean[2]
                - 2 * b * mean[3] + mean[4])
    per_point = torch.vmap(loss)  # each loss is a mean over its rows: vmap keeps one per (w, b)
    rows = [per_point(w[i, :, None] * x + b[i, :, None] - y) for i in range(w.shape[0])]
    return torch.stack(rows)


def _square_view(points: list[Line], keep_near: Line) -> tuple[Line, float]:
    """Centre and half-width of a square view holding the path and the marked points.

    A diverging path runs off to infinity: only points within a few times the start's
    distance from `keep_near` set the view, and the rest of the path leaves the frame.
    Points that are not finite never do; nor does `keep_near`, if it is not (an overflow).
    """
    near = [p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])] or [(0.0, 0.0)]
    if math.isfinite(keep_near[0]) and math.isfinite(keep_near[1]):
        reach = max(math.dist(near[0], keep_near), 1e-6)
        near = [p for p in near if math.dist(p, keep_near) <= 3 * reach]
    else:
        keep_near = near[0]
    cw, cb = keep_near
    ws, bs = [p[0] for p in near], [p[1] for p in near]
    centre = ((min(ws) + max(ws)) / 2, (min(bs) + max(bs)) / 2)
    half = max(max(ws) - min(ws), max(bs) - min(bs), 1e-3 * max(abs(cw), abs(cb), 1)) / 2
    return centre, 1.2 * half


def _numpy(t: torch.Tensor) -> np.ndarray:
    """A column (n, 1) or vector as a 1-D float array: matplotlib's input."""
    return t.detach().reshape(-1).numpy()
