"""trajectory.png: the loss over (w, b) for a one-feature run, and the path SGD took across it.

The surface is the run's own loss on its training rows (in the units training saw), so the
path crosses its contours as the optimizer did: at right angles for full-batch steps, with
jitter for small batches, overshooting for a large lr. Without an intercept there is only w:
the loss is a curve over w, and the path runs along it (a step too large jumps across the
valley, from one side to the other). figures/pictures.py computes it; this module only draws,
without torch, as every figure module does (figures/style.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from linreg.figures.style import Line, number_text, save, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRAJECTORY_FILE = "trajectory.png"
LEVELS = 14


@dataclass
class PathPicture:
    """trajectory.png in numbers: the loss on a square grid over (w, b), the path across it
    and the points worth marking. Without an intercept, b_axis is None and the loss is the
    curve over w_axis, with the loss at each point of the route and at the marked points."""

    w_axis: np.ndarray  # (k,): the grid's w values, evenly spaced
    b_axis: np.ndarray | None  # (k,), spanning as much as w_axis: the view is square
    loss: np.ndarray  # (k, k): loss[i, j] at (w_axis[i], b_axis[j]); (k,) without b_axis
    loss_name: str  # "mse", "mae" or "huber"
    route: list[Line]  # the start, then after every step (or every epoch)
    steps_per_epoch: int  # 1: route is per epoch
    ols: Line
    ridge: Line | None = None
    true_wb: Line | None = None
    subtitle: str = ""
    standardized: bool = False
    # the step (or epoch) after which each route point was taken, when a long route is a
    # selection (style.spread); empty: 0, 1, 2, ...
    steps: list[int] = field(default_factory=list)
    # without an intercept: the loss at each route point, at ols and at ridge
    route_loss: list[float] = field(default_factory=list)
    ols_loss: float = math.nan
    ridge_loss: float = math.nan

    def step_numbers(self) -> list[int]:
        return self.steps or list(range(len(self.route)))


def epoch_marks(epochs: int) -> list[int]:
    """The epochs marked on the path: 1, 2, 5, 10, 20, 50, ... up to `epochs`."""
    return [m * 10**k for k in range(6) for m in (1, 2, 5) if m * 10**k <= epochs]


def _label_epochs(ax, p: PathPicture, centre: Line, half: float, word: str) -> None:
    """Small numbered dots after epochs 1, 2, 5, 10, 20, 50, ...: how far each epoch got."""
    at = dict(zip(p.step_numbers(), p.route, strict=True))
    first, labelled = True, []
    for epoch in epoch_marks(max(at) // p.steps_per_epoch):
        w, b = at.get(epoch * p.steps_per_epoch, (math.nan, math.nan))
        if not (abs(w - centre[0]) < half and abs(b - centre[1]) < half):  # False for NaN
            continue
        # a long run's later marks sit on top of each other near the minimum: one label there
        if any(math.dist((w, b), q) < 0.06 * half for q in labelled):
            continue
        labelled.append((w, b))
        ax.plot(w, b, "o", color="black", ms=3.5, zorder=4, label=word if first else None)
        ax.annotate(str(epoch), (w, b), xytext=(4, -9), textcoords="offset points",
                    fontsize="x-small", color="black")
        first = False


def _wb(w: float, b: float) -> str:
    return f"w = {number_text(w)}, b = {number_text(b)}"


def _draw_surface(fig, ax, colorbar_box, W, B, Z, label: str) -> None:
    """Filled contours of Z and their colour bar; what is not finite in Z is left blank."""
    finite = Z[np.isfinite(Z)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    # levels rising with the square of k: evenly spaced rings on a quadratic (the MSE)
    levels = np.unique([low + (high - low) * (k / LEVELS) ** 2 for k in range(LEVELS + 1)])
    if len(levels) < 2:  # flat to float precision: one band (contourf needs two levels)
        levels = np.array([low, low + max(abs(low), 1.0)])
    Z = np.ma.masked_invalid(Z)
    filled = ax.contourf(W, B, Z, levels=levels, cmap="Blues_r", alpha=0.85)
    ax.contour(W, B, Z, levels=levels, colors="white", linewidths=0.6, alpha=0.8)
    fig.colorbar(filled, cax=colorbar_box, format="%.4g", label=label)


def draw_trajectory(path: Path, picture: PathPicture, lang: str = "en") -> Figure:
    if picture.b_axis is None:
        return draw_curve(path, picture, lang)
    from matplotlib.figure import Figure

    p = picture
    per_step = p.steps_per_epoch > 1
    cw, cb = float(p.w_axis[0] + p.w_axis[-1]) / 2, float(p.b_axis[0] + p.b_axis[-1]) / 2
    half = float(p.w_axis[-1] - p.w_axis[0]) / 2
    W, B = np.meshgrid(p.w_axis, p.b_axis, indexing="ij")
    Z, route, ols = p.loss, p.route, p.ols

    with style(lang) as text:
        # fixed boxes, not constrained layout (a third of this figure's time): a square axes,
        # the colorbar right of it, the legend below (at most four rows of two)
        fig = Figure(figsize=(7.2, 7.2))
        ax = fig.add_axes((0.09, 0.19, 0.70, 0.70))
        colorbar_box = fig.add_axes((0.82, 0.19 + 0.70 * 0.075, 0.03, 0.70 * 0.85))
        _draw_surface(fig, ax, colorbar_box, W, B, Z, f"{text['loss']} ({p.loss_name})")

        finite = [(w, b) for w, b in route if math.isfinite(w) and math.isfinite(b)]
        if finite:  # else nothing of the path can be drawn; the rest of the picture can
            ws, bs = [w for w, _ in finite], [b for _, b in finite]
            steps = f" ({text['steps'].format(p.step_numbers()[-1])})" if per_step else ""
            ax.plot(ws, bs, "-", color="tab:orange", lw=1.0 if per_step else 1.5, alpha=0.9,
                    marker="." if per_step else "o", ms=2.5 if per_step else 4,
                    label=text["path"] + steps)
            _label_epochs(ax, p, (cw, cb), half, text["after_epoch"])
            ax.plot(*finite[0], "o", color="tab:green", ms=9, mec="black",
                    label=text["start"])
        ax.plot(*ols, "*", color="gold", ms=17, mec="black",
                label=f"{text['ols']}: {_wb(*ols)}")
        if finite:
            end = finite[-1]
            outside = max(abs(end[0] - cw), abs(end[1] - cb)) > half
            ax.plot(*end, "s", color="tab:red", ms=6, mec="black", zorder=5,
                    label=f"{text['end']}: {_wb(*end)}"
                    + (f" ({text['outside']})" if outside else ""))
        # least squares is the lowest MSE, not the lowest MAE or Huber
        if p.loss_name != "mse" and np.isfinite(Z).any():
            i, j = np.unravel_index(int(np.where(np.isfinite(Z), Z, np.inf).argmin()), Z.shape)
            lowest = (float(W[i, j]), float(B[i, j]))
            ax.plot(*lowest, "P", color="tab:pink", ms=10, mec="black",
                    label=f"{text['lowest'].format(p.loss_name)}: {_wb(*lowest)}")
        if p.ridge is not None:
            ax.plot(*p.ridge, "X", color="tab:purple", ms=10, mec="black",
                    label=f"{text['ridge']}: {_wb(*p.ridge)}")
        if p.true_wb is not None:
            ax.plot(*p.true_wb, "D", color="white", ms=7, mec="tab:green", mew=2,
                    label=f"{text['true_point']}: {_wb(*p.true_wb)}")

        if math.isfinite(cw) and math.isfinite(cb) and half > 0:  # else matplotlib's limits
            ax.set_xlim(cw - half, cw + half)
            ax.set_ylim(cb - half, cb + half)
        ax.set_aspect("equal")  # equal units on both axes: the surface's true shape
        unit = f" ({text['standardized']} x)" if p.standardized else ""
        ax.set(xlabel=f"w{unit}", ylabel="b")
        _titles(ax, text["path_title"], p.subtitle)
        # below the axes: inside, it would hide part of the path
        fig.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 0.01), ncol=2)
        save(fig, path)
    return fig  # for a test to read its labels


def draw_curve(path: Path, p: PathPicture, lang: str = "en") -> Figure:
    """trajectory.png without an intercept: the loss over w, and the path of w along it."""
    from matplotlib.figure import Figure

    low, high = float(p.w_axis[0]), float(p.w_axis[-1])
    curve = np.where(np.isfinite(p.loss), p.loss, np.nan)
    with style(lang) as text:
        fig = Figure(figsize=(7.2, 6.0))
        ax = fig.add_axes((0.12, 0.30, 0.83, 0.60))
        ax.plot(p.w_axis, curve, "-", color="tab:blue", lw=2,
                label=f"{text['loss']} ({p.loss_name})")
        at = dict(zip(p.step_numbers(), zip(p.route, p.route_loss, strict=True), strict=True))
        finite = [(w, z) for (w, _), z in at.values() if math.isfinite(w) and math.isfinite(z)]
        if finite:
            per_step = p.steps_per_epoch > 1
            steps = f" ({text['steps'].format(p.step_numbers()[-1])})" if per_step else ""
            ax.plot(*zip(*finite, strict=True), "-", color="tab:orange", alpha=0.9,
                    lw=1.0 if per_step else 1.5, marker="." if per_step else "o",
                    ms=2.5 if per_step else 4, label=text["path"] + steps)
            first = True
            for epoch in epoch_marks(max(at) // p.steps_per_epoch):
                (w, _), z = at.get(epoch * p.steps_per_epoch, ((math.nan, 0.0), math.nan))
                if low <= w <= high and math.isfinite(z):  # False for NaN
                    ax.plot(w, z, "o", color="black", ms=3.5, zorder=4,
                            label=text["after_epoch"] if first else None)
                    ax.annotate(str(epoch), (w, z), xytext=(4, 4), textcoords="offset points",
                                fontsize="x-small")
                    first = False
            ax.plot(*finite[0], "o", color="tab:green", ms=9, mec="black", label=text["start"])
            end = finite[-1]
            outside = not low <= end[0] <= high
            ax.plot(*end, "s", color="tab:red", ms=6, mec="black", zorder=5,
                    label=f"{text['end']}: w = {number_text(end[0])}"
                    + (f" ({text['outside']})" if outside else ""))
        ax.plot(p.ols[0], p.ols_loss, "*", color="gold", ms=17, mec="black", zorder=4,
                label=f"{text['ols']}: w = {number_text(p.ols[0])}")
        if p.loss_name != "mse" and np.isfinite(curve).any():
            i = int(np.nanargmin(curve))
            ax.plot(p.w_axis[i], curve[i], "P", color="tab:pink", ms=10, mec="black", zorder=5,
                    label=f"{text['lowest'].format(p.loss_name)}: w = "
                    f"{number_text(float(p.w_axis[i]))}")
        if p.ridge is not None:
            ax.plot(p.ridge[0], p.ridge_loss, "X", color="tab:purple", ms=10, mec="black",
                    label=f"{text['ridge']}: w = {number_text(p.ridge[0])}")
        if p.true_wb is not None:
            ax.axvline(p.true_wb[0], color="tab:green", ls=":", lw=1.5,
                       label=f"{text['true_point']} w = {number_text(p.true_wb[0])}")
        if np.isfinite(curve).any():  # the frame is the curve's: a diverging path leaves it
            top, bottom = float(np.nanmax(curve)), float(np.nanmin(curve))
            margin = 0.05 * (top - bottom or max(abs(top), 1.0))
            ax.set_ylim(bottom - margin, top + margin)
        ax.set_xlim(low, high)
        unit = f" ({text['standardized']} x)" if p.standardized else ""
        ax.set(xlabel=f"w{unit}", ylabel=f"{text['loss']} ({p.loss_name})")
        _titles(ax, text["curve_title"], p.subtitle)
        fig.legend(fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 0.01), ncol=2)
        save(fig, path)
    return fig


def _titles(ax, title: str, subtitle: str) -> None:
    """The title, and the subtitle a size smaller below it: with momentum, weight decay and a
    schedule it runs long."""
    ax.set_title(title, fontsize="large", pad=18 if subtitle else 6)
    if subtitle:
        ax.text(0.5, 1.01, subtitle, transform=ax.transAxes, ha="center", va="bottom",
                fontsize="medium")
