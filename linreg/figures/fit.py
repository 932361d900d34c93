"""fit.png: the data and the lines through them (one feature), or predicted against actual y
(several features). Drawn from plain numbers (figures/pictures.py computes them), no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from linreg.figures.style import Line, number_text, one_axes_figure, save, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FIT_FILE = "fit.png"


@dataclass
class LineFit:
    """fit.png for one feature, in the original units: the rows and the lines through them."""

    x: np.ndarray
    y: np.ndarray
    ols: Line
    fit: Line | None  # the last epoch with finite parameters; None if there was none
    last_finite: int | None = None  # that epoch (from 1), when the run ended in non-finite ones
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    true: Line | None = None
    xlabel: str | None = None  # the feature's name


@dataclass
class CurveFit:
    """fit.png for polynomial features x, x^2, ..., x^k (dataset.poly_degree): the rows
    against x and the curves through them, each as its values on `grid`, in original units."""

    x: np.ndarray
    y: np.ndarray
    degree: int
    grid: np.ndarray
    ols: np.ndarray
    fit: np.ndarray | None  # as LineFit.fit
    last_finite: int | None = None
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    true: np.ndarray | None = None  # the true curve, if known
    xlabel: str | None = None


@dataclass
class PredictedFit:
    """fit.png for several features: predicted against actual y."""

    y: np.ndarray
    ols_pred: np.ndarray
    fit_pred: np.ndarray | None  # as LineFit.fit
    n_features: int
    last_finite: int | None = None
    y_val: np.ndarray | None = None
    val_pred: np.ndarray | None = None


def draw_fit(path: Path, picture: LineFit | CurveFit | PredictedFit, lang: str = "en"
             ) -> Figure:
    with style(lang) as text:
        fig = one_axes_figure()
        ax = fig.add_subplot()
        label = (text["fit"] if picture.last_finite is None
                 else text["last_finite"].format(picture.last_finite))
        if isinstance(picture, LineFit):
            _draw_line_fit(ax, text, label, picture)
        elif isinstance(picture, CurveFit):
            _draw_curve_fit(ax, text, label, picture)
        else:
            _draw_predicted_actual(ax, text, label, picture)
        ax.legend(fontsize="small")
        save(fig, path)
    return fig  # for a test to read its labels


def _draw_line_fit(ax, text: dict[str, str], label: str, p: LineFit) -> None:
    xs = [p.x] if p.x_val is None else [p.x, p.x_val]
    grid = np.array([min(float(x.min()) for x in xs), max(float(x.max()) for x in xs)])
    ax.scatter(p.x, p.y, s=14, alpha=0.6, color="tab:blue", label=text["data"])
    if p.x_val is not None:
        ax.scatter(p.x_val, p.y_val, s=18, facecolors="none", edgecolors="tab:orange",
                   label=text["val"])
    if p.fit is not None:
        w, b = p.fit
        ax.plot(grid, w * grid + b, color="tab:red", lw=2,
                label=f"{label}: y = {number_text(w)} x + {number_text(b)}")
    if p.true is not None:
        w, b = p.true
        ax.plot(grid, w * grid + b, color="tab:green", lw=1.5,
                label=f"{text['true']}: y = {number_text(w)} x + {number_text(b)}")
    w, b = p.ols
    ax.plot(grid, w * grid + b, "k--", lw=1,
            label=f"{text['ols']}: y = {number_text(w)} x + {number_text(b)}")
    ax.set(xlabel=p.xlabel or text["x"], ylabel=text["y"], title=text["fit_title"])
    # the data set the frame: a line that ran off (a diverged run) leaves it, not squash it
    ys = [p.y] if p.y_val is None else [p.y, p.y_val]
    _frame(ax, min(float(y.min()) for y in ys), max(float(y.max()) for y in ys))


def _draw_curve_fit(ax, text: dict[str, str], label: str, p: CurveFit) -> None:
    ax.scatter(p.x, p.y, s=14, alpha=0.6, color="tab:blue", label=text["data"])
    if p.x_val is not None:
        ax.scatter(p.x_val, p.y_val, s=18, facecolors="none", edgecolors="tab:orange",
                   label=text["val"])
    degree = f"{text['degree']} {p.degree}"
    if p.fit is not None:
        ax.plot(p.grid, p.fit, color="tab:red", lw=2, label=f"{label} ({degree})")
    if p.true is not None:
        ax.plot(p.grid, p.true, color="tab:green", lw=1.5, label=text["true_curve"])
    ax.plot(p.grid, p.ols, "k--", lw=1, label=f"{text['ols']} ({degree})")
    ax.set(xlabel=p.xlabel or text["x"], ylabel=text["y"], title=text["fit_title"])
    # the data set the frame: a degree-10 curve shoots off between and beyond the rows
    ys = [p.y] if p.y_val is None else [p.y, p.y_val]
    _frame(ax, min(float(y.min()) for y in ys), max(float(y.max()) for y in ys))


def _draw_predicted_actual(ax, text: dict[str, str], label: str, p: PredictedFit) -> None:
    ax.scatter(p.y, p.ols_pred, s=14, marker="x", color="0.4", label=text["ols"])
    if p.fit_pred is not None:
        ax.scatter(p.y, p.fit_pred, s=14, alpha=0.6, color="tab:red", label=label)
        if p.y_val is not None:
            ax.scatter(p.y_val, p.val_pred, s=18, facecolors="none", edgecolors="tab:orange",
                       label=f"{label}, {text['val']}")
    lo, hi = float(p.y.min()), float(p.y.max())
    ax.plot([lo, hi], [lo, hi], "k:", lw=1, label=text["diagonal"])
    _frame(ax, lo, hi)
    ax.set(xlabel=text["actual"], ylabel=text["predicted"],
           title=text["many_title"].format(p.n_features))


def _frame(ax, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return  # matplotlib's own limits
    # all y equal: a margin relative to them (1.0 would vanish next to 1e30)
    margin = 0.08 * (hi - lo) or 0.08 * abs(hi) or 1.0
    ax.set_ylim(lo - margin, hi + margin)
