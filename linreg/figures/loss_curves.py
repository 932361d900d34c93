"""loss.png: the losses per epoch, on a log axis when they allow one, and least squares' MSE;
with a learning-rate schedule, a small panel below of the lr each epoch ended with.
Drawn from plain numbers (figures/pictures.py computes them), no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from linreg.figures.style import one_axes_figure, plain_log_ticks, save, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LOSS_FILE = "loss.png"


@dataclass
class LossCurves:
    """loss.png: the per-epoch losses (non-finite ones are left out) and least squares' MSE."""

    train_loss: list[float]
    full_mse: list[float]
    ols_mse: float
    loss_name: str
    val_loss: list[float] = field(default_factory=list)
    status: str = "ok"
    # the epoch of each value, when a long run's are a selection (`spread`); empty: 1, 2, ...
    epochs: list[int] = field(default_factory=list)
    # the lr of each epoch's last step, drawn below the losses when a schedule changes it
    lr: list[float] = field(default_factory=list)
    # early stopping's best epoch, marked; `restored`: the run ends with its parameters
    best_epoch: int | None = None
    restored: bool = False

    def epoch_numbers(self) -> list[int]:
        return self.epochs or list(range(1, len(self.train_loss) + 1))


def draw_loss(path: Path | BinaryIO, curves: LossCurves, lang: str = "en") -> Figure:
    from matplotlib.ticker import MaxNLocator

    with style(lang) as text:
        fig = one_axes_figure()
        scheduled = len(set(curves.lr)) > 1
        if scheduled:
            grid = fig.add_gridspec(2, 1, height_ratios=[3, 1], hspace=0.08)
            ax, lr_ax = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
        else:
            ax = fig.add_subplot()
        # with rows held out, "full" means every training row
        full = text["train_mse"] if curves.val_loss else text["full_mse"]
        lines = [(curves.train_loss, text["train_loss"].format(curves.loss_name)),
                 (curves.full_mse, full)]
        if curves.val_loss:
            lines.append((curves.val_loss, text["val_loss"].format(curves.loss_name)))
        epochs = curves.epoch_numbers()
        drawn: list[float] = []  # every finite loss drawn
        for values, label in lines:
            finite = [(e, v) for e, v in zip(epochs, values, strict=False) if math.isfinite(v)]
            if finite:
                # a dot per epoch shows where each epoch ended; on a long run they merge into
                # a thick smear that hides the line
                ax.plot(*zip(*finite, strict=True), marker="." if len(finite) <= 100 else None,
                        label=label)
                drawn += [v for _, v in finite]
        ols = [curves.ols_mse] if math.isfinite(curves.ols_mse) else []
        for value in ols:
            shown = f"{value:.2f}" if value == 0 or 0.01 <= value < 1e5 else f"{value:.3g}"
            ax.axhline(value, color="k", ls="--", lw=1, label=text["ols_mse"].format(shown))
        if curves.best_epoch is not None:
            label = text["best_epoch"].format(curves.best_epoch)
            ax.axvline(curves.best_epoch, color="0.4", ls=":", lw=1.5,
                       label=label + (text["restored"] if curves.restored else ""))
        title = text["loss_title"]
        if curves.status in ("diverged", "interrupted"):
            title += text[curves.status].format(epochs[-1] if epochs else 0)
        if any(v > 0 for v in drawn):  # else every loss is 0 (or none finite): a linear axis
            _log_axis(ax, [v for v in drawn + ols if v > 0])
            zeros = [e for values, _ in lines
                     for e, v in zip(epochs, values, strict=False) if v == 0]
            title += text["zero"].format(min(zeros)) if zeros else ""
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set(xlabel=text["epoch"], ylabel=text["loss"], title=title)
        if scheduled:
            _lr_panel(ax, lr_ax, epochs, curves.lr, text)
        if drawn or ols:  # else nothing is drawn, and matplotlib warns of an empty legend
            ax.legend(fontsize="small")
        save(fig, path)
    return fig  # for a test to read its labels


def _lr_panel(ax, lr_ax, epochs: list[int], lr: list[float], text: dict) -> None:
    """The lr per epoch under the losses, on the same epochs (the losses' axis loses its
    x label and tick labels to it)."""
    from matplotlib.ticker import MaxNLocator

    lr_ax.plot(epochs[:len(lr)], lr, color="tab:gray", marker=".", markersize=3)
    lr_ax.sharex(ax)
    lr_ax.set_ylim(bottom=0)
    lr_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lr_ax.yaxis.set_major_locator(MaxNLocator(3))
    lr_ax.set(xlabel=text["epoch"], ylabel=text["lr"])
    ax.set_xlabel("")
    ax.tick_params(labelbottom=False)


def _log_axis(ax, values: list[float]) -> None:
    """A log y axis over `values` (all > 0): the least-squares line stays in view."""
    ax.set_yscale("log")
    low, high = min(values), max(values)
    ax.set_ylim(low / 1.2, high * 1.2)
    plain_log_ticks(ax, low, high)
