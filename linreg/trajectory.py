"""trajectory.png: the loss over (w, b) for a one-feature run, and the path SGD took across it.

The surface is the run's own loss on its training rows (in the units training saw), so the
path crosses its contours as the optimizer did: at right angles for full-batch steps, with
jitter for small batches, overshooting for a large lr.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from linreg.dataset import Data
from linreg.loss import MSE
from linreg.model import LeastSquares
from linreg.plots import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRAJECTORY_FILE = "trajectory.png"
MAX_TRACED_STEPS = 20_000  # beyond this the path is drawn per epoch: a line of 20k points is dense
GRID = 121  # grid points per axis for the contours
LEVELS = 14


def loss_surface(data: Data, loss, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The mean loss at every (w[i], b[j]); one feature only."""
    x, y = data.X[:, 0].double(), data.y[:, 0].double()
    if isinstance(loss, MSE):  # exact from five means, however many rows
        mean = [float(t.mean()) for t in (x * x, x, x * y, y, y * y)]
        return (w * w * mean[0] + 2 * w * b * mean[1] + b * b - 2 * w * mean[2]
                - 2 * b * mean[3] + mean[4])
    per_point = torch.vmap(loss)  # each loss is a mean over its rows: vmap keeps one per (w, b)
    rows = [per_point(w[i, :, None] * x + b[i, :, None] - y) for i in range(w.shape[0])]
    return torch.stack(rows)


def _frame(points: list[tuple[float, float]], keep_near: tuple[float, float]
           ) -> tuple[tuple[float, float], float]:
    """Centre and half-width of a square view holding the path and the marked points.

    A diverging path runs off to infinity: only points within a few times the start's
    distance from `keep_near` set the view, and the rest of the path leaves the frame.
    """
    cw, cb = keep_near
    reach = max(math.dist(points[0], keep_near), 1e-6)
    near = [p for p in points if math.isfinite(p[0]) and math.isfinite(p[1])
            and math.dist(p, keep_near) <= 3 * reach]
    ws, bs = [p[0] for p in near], [p[1] for p in near]
    centre = ((min(ws) + max(ws)) / 2, (min(bs) + max(bs)) / 2)
    half = max(max(ws) - min(ws), max(bs) - min(bs), 1e-3 * max(abs(cw), abs(cb), 1)) / 2
    return centre, 1.2 * half


def _label_epochs(ax, route: list[tuple[float, float]], steps_per_epoch: int,
                  centre: tuple[float, float], half: float, word: str) -> None:
    """Small numbered dots after epochs 1, 2, 5, 10, 20, 50, ...: how far each epoch got."""
    epochs = (len(route) - 1) // steps_per_epoch
    marks = [m * 10**k for k in range(6) for m in (1, 2, 5) if m * 10**k <= epochs]
    first = True
    for epoch in marks:
        w, b = route[epoch * steps_per_epoch]
        if not (abs(w - centre[0]) < half and abs(b - centre[1]) < half):
            continue
        ax.plot(w, b, "o", color="black", ms=3.5, zorder=4, label=word if first else None)
        ax.annotate(str(epoch), (w, b), xytext=(4, -9), textcoords="offset points",
                    fontsize="x-small", color="black")
        first = False


def _wb(w: float, b: float) -> str:
    def num(v: float) -> str:
        return f"{v:.3f}" if abs(v) < 1e5 else f"{v:.3g}"

    return f"w = {num(w)}, b = {num(b)}"


def draw_trajectory(path: Path, data: Data, loss, points: list[list[float]],
                    reference: LeastSquares, *, ridge: LeastSquares | None = None,
                    true_wb: tuple[float, float] | None = None, steps_per_epoch: int = 1,
                    subtitle: str = "", standardized: bool = False, lang: str = "en") -> Figure:
    """`points`: [w, b] at the start and after each step (steps_per_epoch of them an epoch)
    or after each epoch (steps_per_epoch 1)."""
    from matplotlib.figure import Figure

    per_step = steps_per_epoch > 1
    ols = (float(reference.w), float(reference.b))
    marked = [ols] + ([(float(ridge.w), float(ridge.b))] if ridge is not None else [])
    if true_wb is not None:
        marked.append(true_wb)
    route = [(p[0], p[1]) for p in points]
    (cw, cb), half = _frame(route + marked, keep_near=ols)
    w_axis = torch.linspace(cw - half, cw + half, GRID, dtype=torch.float64)
    b_axis = torch.linspace(cb - half, cb + half, GRID, dtype=torch.float64)
    W, B = torch.meshgrid(w_axis, b_axis, indexing="ij")
    Z = loss_surface(data, loss, W, B)

    with style(lang) as text:
        fig = Figure(figsize=(7.2, 7.2), layout="constrained")
        ax = fig.add_subplot()
        # levels rising with the square of k: evenly spaced rings on a quadratic (the MSE)
        low, high = float(Z.min()), float(Z.max())
        levels = [low + (high - low) * (k / LEVELS) ** 2 for k in range(LEVELS + 1)]
        filled = ax.contourf(W, B, Z, levels=levels, cmap="Blues_r", alpha=0.85)
        ax.contour(W, B, Z, levels=levels, colors="white", linewidths=0.6, alpha=0.8)
        fig.colorbar(filled, ax=ax, shrink=0.85, format="%.4g",
                     label=f"{text['loss']} ({type(loss).__name__.lower()})")

        finite = [p for p in route if math.isfinite(p[0]) and math.isfinite(p[1])]
        ws, bs = [p[0] for p in finite], [p[1] for p in finite]
        steps = f" ({text['steps'].format(len(route) - 1)})" if per_step else ""
        ax.plot(ws, bs, "-", color="tab:orange", lw=1.0 if per_step else 1.5, alpha=0.9,
                marker="." if per_step else "o", ms=2.5 if per_step else 4,
                label=text["path"] + steps)
        _label_epochs(ax, route, steps_per_epoch, (cw, cb), half, text["after_epoch"])
        ax.plot(*finite[0], "o", color="tab:green", ms=9, mec="black", label=text["start"])
        ax.plot(*ols, "*", color="gold", ms=17, mec="black",
                label=f"{text['ols']}: {_wb(*ols)}")
        end = finite[-1]
        outside = max(abs(end[0] - cw), abs(end[1] - cb)) > half
        ax.plot(*end, "s", color="tab:red", ms=6, mec="black", zorder=5,
                label=f"{text['end']}: {_wb(*end)}" + (f" ({text['outside']})" if outside else ""))
        name = type(loss).__name__.lower()
        if name != "mse":  # least squares is the lowest MSE, not the lowest MAE or Huber loss
            i, j = divmod(int(Z.argmin()), GRID)
            ax.plot(float(W[i, j]), float(B[i, j]), "P", color="tab:pink", ms=10, mec="black",
                    label=f"{text['lowest'].format(name)}: {_wb(float(W[i, j]), float(B[i, j]))}")
        if ridge is not None:
            ax.plot(*marked[1], "X", color="tab:purple", ms=10, mec="black",
                    label=f"{text['ridge']}: {_wb(*marked[1])}")
        if true_wb is not None:
            ax.plot(*true_wb, "D", color="white", ms=7, mec="tab:green", mew=2,
                    label=f"{text['true_point']}: {_wb(*true_wb)}")

        ax.set_xlim(cw - half, cw + half)
        ax.set_ylim(cb - half, cb + half)
        ax.set_aspect("equal")  # equal units on both axes: the surface's true shape
        unit = f" ({text['standardized']} x)" if standardized else ""
        ax.set(xlabel=f"w{unit}", ylabel="b")
        ax.set_title(text["path_title"] + (f"\n{subtitle}" if subtitle else ""))
        # below the axes: inside, it would hide part of the path
        fig.legend(fontsize="small", loc="outside lower center", ncol=2)
        fig.savefig(path, dpi=120)
    return fig  # for a test to read its labels
