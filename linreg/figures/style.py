"""What every figure shares: the labels in English or Chinese (with a CJK font found on the
machine), the `plot` config section, how a figure is made, saved and how many points it draws.

The figures (fit.py, loss_curves.py, trajectory.py, summary.py) are drawn from plain numbers
(pictures.py computes a run's with torch), and no module of them imports torch nor anything
that does: they are drawn in a second process that must be ready before torch has finished
importing (drawing.py). Drawn on matplotlib's Figure directly, never pyplot, so no window can
open and no global state is shared between runs of one sweep.
"""

from __future__ import annotations

import functools
import logging
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
    animate: bool = False  # a sweep's paths.gif beside paths.png (figures/landscape.py)


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
           "epoch": "epoch", "loss": "loss", "lr": "lr",
           "path_title": "Loss surface and the optimizer's path",
           "start": "start", "end": "end", "ridge": "ridge: SGD's limit with weight decay",
           "path": "path", "outside": "outside the frame", "after_epoch": "after epoch N",
           "steps": "{} steps", "true_point": "true",
           "lowest": "lowest {} on the grid", "standardized": "standardized",
           "curve_title": "Loss over w (no intercept: b = 0) and the path of SGD",
           "degree": "degree", "true_curve": "true curve",
           "best_epoch": "best epoch {} (early stopping)", "restored": ", restored",
           "paths_title": "Every run's path on one loss surface ({} runs)",
           "curves_title": "Full-data MSE per epoch, {}",
           "curves_title_val": "MSE per epoch, {}: training rows (solid), held out (dashed)",
           "n_runs": "{} runs", "one_run": "1 run",
           "no_curve": " ({} failed: no curve)", "log_scale": " (log scale)",
           "final": "final {}", "against": "Final {} against {}", "x_diverged": "x: diverged",
           "off_scale": "^: off the scale", "seeds": "{} seeds", "mean_se": "mean ± 1 SE",
           "lr_max": "full-batch stability limit lr_max = {}", "some_diverged": "{} diverged"},
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
           "epoch": "轮次", "loss": "损失", "lr": "学习率", "path_title": "损失曲面与优化器的路径",
           "start": "起点", "end": "终点", "ridge": "岭回归解 (带权重衰减的 SGD 极限)",
           "path": "路径", "outside": "在图外", "after_epoch": "第 N 轮之后",
           "steps": "{} 步", "true_point": "真实参数",
           "lowest": "{} 的最低点 (网格上)", "standardized": "标准化",
           "curve_title": "损失随 w 的变化 (无截距: b = 0) 与 SGD 的路径",
           "degree": "次数", "true_curve": "真实曲线",
           "best_epoch": "最佳轮次 {} (早停)", "restored": ", 已恢复",
           "paths_title": "所有运行在同一损失曲面上的路径 ({} 次运行)",
           "curves_title": "全部数据的 MSE (每轮), {}",
           "curves_title_val": "每轮的 MSE, {}: 训练数据 (实线), 验证数据 (虚线)",
           "n_runs": "{} 次运行", "one_run": "1 次运行",
           "no_curve": " ({} 次失败: 无曲线)", "log_scale": " (对数坐标)",
           "final": "最终 {}", "against": "最终 {} 与 {} 的关系", "x_diverged": "x: 发散",
           "off_scale": "^: 超出范围", "seeds": "{} 个种子", "mean_se": "均值 ± 1 标准误",
           "lr_max": "全批量稳定上限 lr_max = {}", "some_diverged": "{} 次发散"},
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


def one_axes_figure() -> Figure:
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


def plain_log_ticks(ax, low: float, high: float) -> None:
    """On a log y axis showing low to high: 200, not 2 x 10^2, within two decades of everyday
    sizes; powers beyond (without them, 6e-30 would read as "6")."""
    from matplotlib.ticker import ScalarFormatter

    if high / low < 100 and low >= 1e-3 and high < 1e6:
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
