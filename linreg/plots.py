"""Figures: fit.png (the data and the lines through it) and loss.png (loss per epoch).

They are drawn from plain numbers (linreg/pictures.py computes them from a run) and this
module imports neither torch nor anything that does: the figures are drawn in a second
process that must be ready before torch has finished importing (linreg/drawing.py).
Drawn on matplotlib's Figure directly, never pyplot, so no window can open and no global
state is shared between runs of one sweep. Labels are English, or with `plot.lang=zh` the
tutorial's Chinese, drawn with a CJK font found on the machine (trajectory.png, the lesson
figure, lives in linreg/trajectory.py).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from linreg.outputs import written_whole

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Line = tuple[float, float]  # (w, b): y = w x + b

log = logging.getLogger(__name__)

FIT_FILE, LOSS_FILE = "fit.png", "loss.png"
MAX_POINTS = 2000  # of a curve or path in a figure: beyond a few thousand no one sees more


def spread(n: int, keep: Iterable[int] = ()) -> list[int]:
    """Which of n points a figure draws: all of them up to MAX_POINTS, else evenly spaced ones
    (the shape), log-spaced ones (the start, where a loss falls fastest), the first and the
    last, and `keep`; in order. Fast: numpy, whatever n is."""
    if n <= MAX_POINTS:
        return list(range(n))
    even = np.linspace(0, n - 1, MAX_POINTS * 3 // 4)
    early = np.geomspace(1, n, MAX_POINTS // 4) - 1
    kept = np.fromiter(keep, dtype=np.float64)
    chosen = np.unique(np.concatenate([even, early, kept]).round().astype(np.int64))
    return chosen[(chosen >= 0) & (chosen < n)].tolist()


@dataclass
class PlotConfig:
    lang: str = field(default="en", metadata={"one_of": ("en", "zh")})  # labels of figures


LABELS = {
    "en": {"data": "data", "val": "validation rows", "fit": "linreg fit", "true": "true",
           "ols": "least squares", "fit_title": "Linear regression fit", "x": "x", "y": "y",
           "last_finite": "last finite fit (epoch {})", "actual": "actual y",
           "predicted": "predicted y", "diagonal": "predicted = actual",
           "many_title": "Predicted against actual ({} features)",
           "train_loss": "train loss ({}, batch mean)", "full_mse": "full-data MSE",
           "train_mse": "MSE on all training rows",
           "val_loss": "validation loss ({})", "ols_mse": "least-squares MSE {}",
           "loss_title": "Loss per epoch", "diverged": " (diverged at epoch {})",
           "interrupted": " (interrupted after epoch {})",
           "zero": " (loss 0 at epoch {}: below the log scale)",
           "epoch": "epoch", "loss": "loss", "path_title": "Loss surface and the path of SGD",
           "start": "start", "end": "end", "ridge": "ridge: SGD's limit with weight decay",
           "path": "SGD path", "outside": "outside the frame", "after_epoch": "after epoch N",
           "steps": "{} steps", "true_point": "true",
           "lowest": "lowest {} on the grid", "standardized": "standardized"},
    "zh": {"data": "数据点", "val": "验证数据", "fit": "拟合直线", "true": "真实直线",
           "ols": "最小二乘", "fit_title": "线性回归拟合", "x": "特征值 X", "y": "标签值 Y",
           "last_finite": "最后有限的拟合 (第 {} 轮)", "actual": "实际值",
           "predicted": "预测值", "diagonal": "预测 = 实际",
           "many_title": "预测值与实际值 ({} 个特征)",
           "train_loss": "训练损失 ({}, 批次平均)", "full_mse": "全部数据的 MSE",
           "train_mse": "全部训练数据的 MSE",
           "val_loss": "验证损失 ({})", "ols_mse": "最小二乘 MSE {}",
           "loss_title": "损失变化曲线", "diverged": " (第 {} 轮发散)",
           "interrupted": " (第 {} 轮后中断)",
           "zero": " (第 {} 轮损失为 0: 在对数坐标之下)",
           "epoch": "轮次", "loss": "损失", "path_title": "损失曲面与 SGD 的路径",
           "start": "起点", "end": "终点", "ridge": "岭回归解 (带权重衰减的 SGD 极限)",
           "path": "SGD 路径", "outside": "在图外", "after_epoch": "第 N 轮之后",
           "steps": "{} 步", "true_point": "真实参数",
           "lowest": "{} 的最低点 (网格上)", "standardized": "标准化"},
}

# Families that draw Chinese, most common on Linux first (Debian: fonts-noto-cjk,
# fonts-wqy-microhei), then the ones other systems ship.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
                "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN", "SimHei",
                "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC")
CJK_FILES = ("notosanscjk", "notoserifcjk", "sourcehan", "wqy", "droidsansfallback", "uming",
             "simhei", "msyh", "pingfang")


@functools.cache
def cjk_font() -> str | None:
    """The name of a font family with Chinese glyphs that matplotlib can use, or None."""
    from matplotlib import font_manager

    def first_known() -> str | None:
        # a cached entry can outlive its file (the font package was removed since)
        known = {font.name for font in font_manager.fontManager.ttflist
                 if Path(font.fname).is_file()}
        return next((family for family in CJK_FAMILIES if family in known), None)

    if (family := first_known()) is not None:
        return family
    # a font installed after matplotlib built its cache is on disk but not in the cache
    for file in font_manager.findSystemFonts():
        if any(hint in Path(file).name.lower().replace("-", "") for hint in CJK_FILES):
            try:
                font_manager.fontManager.addfont(file)
            except (OSError, RuntimeError):  # an unreadable font file: try the next one
                continue
    return first_known()


@functools.cache
def _resolve(lang: str) -> tuple[str, str | None]:
    """(the language drawn, the CJK font); warns once per process when falling back."""
    if lang != "zh":
        return lang, None
    family = cjk_font()
    if family is None:
        log.warning("plot.lang=zh: no font with Chinese characters found; figures use "
                    "English labels (install one, e.g. `sudo apt-get install fonts-noto-cjk`)")
        return "en", None
    return "zh", family


@contextmanager
def style(lang: str) -> Iterator[dict[str, str]]:
    """The labels to draw with; inside, figures use a CJK font when the labels need one."""
    import matplotlib

    drawn, family = _resolve(lang)
    # titles at the top of their axes: placed automatically, matplotlib measures every tick
    # label to clear ticks on top, which these figures lack (the same pixels, 13% faster)
    rc: dict = {"axes.titley": 1.0}
    if family is not None:
        # DejaVu Sans after it draws what the CJK font lacks; an ASCII hyphen for minus
        rc |= {"font.family": [family, "DejaVu Sans"], "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        yield LABELS[drawn]


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
class PredictedFit:
    """fit.png for several features: predicted against actual y."""

    y: np.ndarray
    ols_pred: np.ndarray
    fit_pred: np.ndarray | None  # as LineFit.fit
    n_features: int
    last_finite: int | None = None
    y_val: np.ndarray | None = None
    val_pred: np.ndarray | None = None


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

    def epoch_numbers(self) -> list[int]:
        return self.epochs or list(range(1, len(self.train_loss) + 1))


def draw_fit(path: Path, picture: LineFit | PredictedFit, lang: str = "en") -> Figure:
    with style(lang) as text:
        fig = _figure()
        ax = fig.add_subplot()
        label = (text["fit"] if picture.last_finite is None
                 else text["last_finite"].format(picture.last_finite))
        if isinstance(picture, LineFit):
            _draw_line_fit(ax, text, label, picture)
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


def _figure() -> Figure:
    """One axes with fixed margins: constrained layout would measure every label, about
    0.1 s a figure, which is a good share of a run."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.11, top=0.92)
    return fig


def save(fig: Figure, target: Path | BinaryIO, dpi: int = 120) -> None:
    """A figure as PNG. zlib level 1, not 6: the same pixels in files about a tenth larger,
    encoded in two thirds of the time (about 0.02 s of a run's three figures).

    A path is written whole (outputs.written_whole): a process killed while saving leaves no
    half-written PNG under the figure's name."""
    options = {"format": "png", "dpi": dpi, "pil_kwargs": {"compress_level": 1}}
    if not isinstance(target, str | os.PathLike):
        fig.savefig(target, **options)
        return
    with written_whole(Path(target), "wb") as f:
        fig.savefig(f, **options)


def number_text(value: float) -> str:
    """3 decimals, or 3 significant digits for the huge numbers of a diverging run."""
    return f"{value:.3f}" if abs(value) < 1e5 else f"{value:.3g}"


def _frame(ax, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return  # matplotlib's own limits
    # all y equal: a margin relative to them (1.0 would vanish next to 1e30)
    margin = 0.08 * (hi - lo) or 0.08 * abs(hi) or 1.0
    ax.set_ylim(lo - margin, hi + margin)


def draw_loss(path: Path | BinaryIO, curves: LossCurves, lang: str = "en") -> Figure:
    from matplotlib.ticker import MaxNLocator

    with style(lang) as text:
        fig = _figure()
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
                ax.plot(*zip(*finite, strict=True), marker=".", label=label)
                drawn += [v for _, v in finite]
        ols = [curves.ols_mse] if math.isfinite(curves.ols_mse) else []
        for value in ols:
            shown = f"{value:.2f}" if value == 0 or 0.01 <= value < 1e5 else f"{value:.3g}"
            ax.axhline(value, color="k", ls="--", lw=1, label=text["ols_mse"].format(shown))
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
        if drawn or ols:  # else nothing is drawn, and matplotlib warns of an empty legend
            ax.legend(fontsize="small")
        save(fig, path)
    return fig  # for a test to read its labels


def _log_axis(ax, values: list[float]) -> None:
    """A log y axis over `values` (all > 0): the least-squares line stays in view."""
    ax.set_yscale("log")
    low, high = min(values), max(values)
    ax.set_ylim(low / 1.2, high * 1.2)
    plain_log_ticks(ax, low, high)


def plain_log_ticks(ax, low: float, high: float) -> None:
    """On a log y axis showing low to high: 200, not 2 x 10^2, within two decades of everyday
    sizes; powers beyond (without them, 6e-30 would read as "6")."""
    from matplotlib.ticker import ScalarFormatter

    if high / low < 100 and low >= 1e-3 and high < 1e6:
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
