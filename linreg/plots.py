"""Figures: fit.png (the data and the lines through it) and loss.png (loss per epoch).

Drawn on matplotlib's Figure directly, never pyplot, so no window can open and no global
state is shared between runs of one sweep.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from linreg.dataset import Data
from linreg.model import LeastSquares, predict
from linreg.train import History

FIT_FILE, LOSS_FILE = "fit.png", "loss.png"


def last_finite_epoch(history: History) -> int | None:
    """Index of the last epoch whose parameters are all finite (a diverged run ends in NaN)."""
    for i in range(history.epochs_run - 1, -1, -1):
        if all(math.isfinite(v) for v in [*history.w[i], history.b[i]]):
            return i
    return None


def draw_fit(path: Path, data: Data, history: History, reference: LeastSquares) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    epoch = last_finite_epoch(history)
    w = torch.tensor(history.w[epoch]).reshape(-1, 1) if epoch is not None else None
    b = torch.tensor([history.b[epoch]]) if epoch is not None else None
    label = "linreg fit" if epoch == history.epochs_run - 1 else f"last finite fit (epoch {epoch})"
    if data.n_features == 1:
        x = data.X[:, 0]
        grid = torch.linspace(float(x.min()), float(x.max()), 2).reshape(-1, 1)
        ax.scatter(x, data.y[:, 0], s=14, alpha=0.6, color="tab:blue", label="data")
        if w is not None:
            ax.plot(grid[:, 0], predict(grid, w, b)[:, 0], color="tab:red", lw=2,
                    label=f"{label}: y = {float(w):.3f} x + {float(b):.3f}")
        if data.w_true is not None and data.b_true is not None:
            true = grid * data.w_true[0] + data.b_true
            ax.plot(grid[:, 0], true[:, 0], color="tab:green", lw=1.5,
                    label=f"true: y = {data.w_true[0]:.3f} x + {data.b_true:.3f}")
        ax.plot(grid[:, 0], predict(grid, reference.w, reference.b)[:, 0], "k--", lw=1,
                label=f"least squares: y = {float(reference.w):.3f} x + {float(reference.b):.3f}")
        ax.set(xlabel="x", ylabel="y", title="Linear regression fit")
    else:
        y = data.y[:, 0]
        ax.scatter(y, predict(data.X, reference.w, reference.b)[:, 0], s=14, marker="x",
                   color="0.4", label="least squares")
        if w is not None:
            ax.scatter(y, predict(data.X, w, b)[:, 0], s=14, alpha=0.6, color="tab:red",
                       label=label)
        lo, hi = float(y.min()), float(y.max())
        ax.plot([lo, hi], [lo, hi], "k:", lw=1, label="predicted = actual")
        ax.set(xlabel="actual y", ylabel="predicted y",
               title=f"Predicted against actual ({data.n_features} features)")
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)


def draw_loss(path: Path, history: History, reference: LeastSquares, loss_name: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    epochs = range(1, history.epochs_run + 1)
    for values, label in ((history.train_loss, f"train loss ({loss_name}, batch mean)"),
                          (history.full_mse, "full-data MSE")):
        finite = [(e, v) for e, v in zip(epochs, values, strict=True) if math.isfinite(v)]
        if finite:
            ax.plot(*zip(*finite, strict=True), marker=".", label=label)
    ax.axhline(reference.mse, color="k", ls="--", lw=1,
               label=f"least-squares MSE {reference.mse:.2f}")
    ax.set_yscale("log")
    title = "Loss per epoch"
    if history.status == "diverged":
        title += f" (diverged at epoch {history.epochs_run})"
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    ax.legend(fontsize="small")
    fig.savefig(path, dpi=120)
