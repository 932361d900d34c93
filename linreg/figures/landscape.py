"""paths.png: every job's optimizer path on one loss surface, for a sweep of one-feature runs
that share their data and their loss (the learning-rate, batch-size, init and momentum lessons).

Each run leaves its path in path.json (records/path.py) with the five means that give its
training rows' MSE at any (w, b), so the surface is exact and needs no data: runs share the
surface when those means are equal. MAE and Huber need the rows themselves, so a sweep over
them (or over the data) gets no paths.png; its runs' own trajectory.png show their surfaces.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from linreg.figures.style import number_text, save, style
from linreg.figures.summary import entries_of
from linreg.outputs import written_whole
from linreg.records import path as run_path
from linreg.records.groups import groups_of
from linreg.records.runs import Job

LANDSCAPE_FILE, ANIMATION_FILE = "paths.png", "paths.gif"
GIF_FRAMES = 60
MAX_PATHS = 20  # beyond this many paths one picture is a tangle
GRID, LEVELS = 161, 14


@dataclass
class LandscapePicture:
    """paths.png in numbers: the runs (failed ones left out), their paths per epoch, and the
    shared surface's five means; the labels are made when drawn, in the figure's language."""

    jobs: list[Job]
    keys: list[str]
    paths: dict[str, tuple[list[float], list[float]]]  # by str(job.folder): w and b per epoch
    moments: list[float]  # mean x^2, x, x y, y, y^2 (records/path.py)
    ols: tuple[float, float]
    true_wb: tuple[float, float] | None
    standardized: bool
    lang: str = "en"
    animate: bool = False  # paths.gif (plot.animate=true): the paths growing epoch by epoch


def landscape_of(jobs: list[Job], keys: list[str], lang: str = "en") -> LandscapePicture | None:
    """paths.png's picture for these jobs, or None if they do not share one MSE surface (some
    ran with several features, another loss or other data), there are too few or too many,
    or they differ only in seed."""
    finished = [job for job in jobs if job.status != "failed"]
    # a sweep over seeds alone has nothing to label its paths by (and its summary.png says it)
    if not 2 <= len(finished) <= MAX_PATHS or len(groups_of(finished)) < 2:
        return None
    records = [(job, run_path.read(job.folder)) for job in finished]
    if any(r is None for _, r in records):
        return None
    first = records[0][1]
    for _, record in records:
        if record["loss"] != "mse" or record["standardized"] != first["standardized"] \
                or None in record["mse_moments"] \
                or not np.allclose(record["mse_moments"], first["mse_moments"], rtol=1e-9):
            return None
    paths = {}
    for job, record in records:
        # one point per epoch: every step of many runs is a tangle (each run's
        # trajectory.png has them all)
        k = record["steps_per_epoch"]
        at = [i for i, step in enumerate(record["step"]) if step % k == 0]
        paths[str(job.folder)] = tuple([math.nan if (v := record[c][i]) is None else v
                                        for i in at] for c in ("w", "b"))
    return LandscapePicture([job for job, _ in records], keys, paths, first["mse_moments"],
                            tuple(first["ols"]), tuple(first["true"]) if first["true"] else None,
                            first["standardized"], lang)


def view(picture: LandscapePicture) -> tuple[float, float, float]:
    """(w centre, b centre, half width) of a square view holding the starts, least squares,
    the true (w, b) and the points of paths that did not diverge within 1.2 times the farthest
    start's distance from least squares: a diverging path, or a wild one, leaves it."""
    ols = picture.ols

    def finite(w: float, b: float) -> bool:
        return math.isfinite(w) and math.isfinite(b)

    routes = [(picture.paths[str(job.folder)], job.status) for job in picture.jobs]
    starts = [(w[0], b[0]) for (w, b), _ in routes if finite(w[0], b[0])]
    reach = max([math.dist(s, ols) for s in starts] + [1e-6])
    near = [(x, y) for (w, b), status in routes if status != "diverged"
            for x, y in zip(w, b, strict=True)
            if finite(x, y) and math.dist((x, y), ols) <= 1.2 * reach]
    near += [*starts, ols] + ([picture.true_wb] if picture.true_wb is not None else [])
    ws, bs = [p[0] for p in near], [p[1] for p in near]
    half = max(max(ws) - min(ws), max(bs) - min(bs), 1e-3 * max(abs(ols[0]), abs(ols[1]), 1))
    return (min(ws) + max(ws)) / 2, (min(bs) + max(bs)) / 2, 0.55 * half


def _draw_path(ax, path: tuple[list[float], list[float]], diverged: bool, colour,
               label: str | None) -> None:
    """One run's path from its start (circle) to its end (square; none once diverged)."""
    ok = [(w, b) for w, b in zip(*path, strict=True) if math.isfinite(w) and math.isfinite(b)]
    if not ok:
        return None
    ws, bs = zip(*ok, strict=True)
    # a diverged path under the others, thinner: it only leaves the frame
    (line,) = ax.plot(ws, bs, "-", color=colour, lw=1.0 if diverged else 1.6,
                      alpha=0.6 if diverged else 0.95, zorder=2 if diverged else 3,
                      marker="." if len(ok) <= 80 else None, ms=4, label=label)
    ax.plot(ws[0], bs[0], "o", color=colour, ms=8, mec="black", zorder=5)
    end = None
    if not diverged:
        (end,) = ax.plot(ws[-1], bs[-1], "s", color=colour, ms=7, mec="black", zorder=6)
    return line, end, ws, bs


def _save_gif(fig, ax, drawn: list, target: Path | BinaryIO, epoch_word: str) -> None:
    """paths.gif: the same figure, every path growing epoch by epoch (at most GIF_FRAMES
    frames), the last frame held; through matplotlib's PillowWriter, no ffmpeg."""
    import tempfile

    from matplotlib.animation import PillowWriter

    epochs = max(len(ws) for _, _, ws, _ in drawn)
    frames = sorted({round(k) for k in np.linspace(0, epochs - 1, min(epochs, GIF_FRAMES))})
    title = ax.get_title()
    writer = PillowWriter(fps=10)
    scratch = tempfile.TemporaryDirectory()  # the writer wants a file name; ours is whole
    gif = Path(scratch.name) / ANIMATION_FILE
    with scratch:
        with writer.saving(fig, gif, dpi=80):
            for k in frames + [frames[-1]] * 15:  # 1.5 s on the last frame
                for line, end, ws, bs in drawn:
                    line.set_data(ws[:k + 1], bs[:k + 1])
                    if end is not None:
                        end.set_visible(k >= len(ws) - 1)
                ax.set_title(f"{title}, {epoch_word} {k}", fontsize="large")
                writer.grab_frame()
        data = gif.read_bytes()
    if isinstance(target, str | os.PathLike):
        with written_whole(Path(target), "wb") as f:
            f.write(data)
    else:
        target.write(data)


def mse(moments: list[float], w: np.ndarray, b: np.ndarray) -> np.ndarray:
    xx, x, xy, y, yy = moments
    return w * w * xx + 2 * w * b * x + b * b - 2 * w * xy - 2 * b * y + yy


def draw_landscape(target: Path | BinaryIO, picture: LandscapePicture):
    """Filled MSE contours, every path in its own colour from its start (circle) to its end
    (square), least squares (star) and the true (w, b) when known; the legend names each path
    by its swept values."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    cw, cb, half = view(picture)
    axis_w, axis_b = np.linspace(cw - half, cw + half, GRID), np.linspace(cb - half, cb + half,
                                                                          GRID)
    W, B = np.meshgrid(axis_w, axis_b, indexing="ij")
    Z = mse(picture.moments, W, B)
    with style(picture.lang) as text:
        # a seed group's runs share a colour and one legend entry: "lr=0.1 (5 seeds)"
        entries = entries_of(picture.jobs, picture.keys, text["seeds"])
        n = len(entries)
        colours = [colormaps["tab10"](i) for i in range(n)] if n <= 10 else \
            [colormaps["plasma"](0.9 * i / (n - 1)) for i in range(n)]
        # fixed boxes: a square axes (`side` inches), the colour bar right of it, the title
        # above, the legend below in two columns
        rows = math.ceil((n + 4) / 2)
        legend_in, side, width = 0.22 * rows + 0.25, 5.4, 7.9
        height = 0.5 + side + 0.6 + legend_in
        bottom = (0.6 + legend_in) / height
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0.8 / width, bottom, side / width, side / height))
        bar = fig.add_axes(((0.8 + side + 0.25) / width, bottom + 0.05 * side / height,
                            0.2 / width, 0.9 * side / height))
        low, high = float(Z.min()), float(Z.max())
        levels = np.unique([low + (high - low) * (k / LEVELS) ** 2 for k in range(LEVELS + 1)])
        filled = ax.contourf(W, B, Z, levels=levels, cmap="Greys_r", alpha=0.4)
        ax.contour(W, B, Z, levels=levels, colors="white", linewidths=0.6)
        fig.colorbar(filled, cax=bar, format="%.3g", label=f"{text['loss']} (mse)")
        drawn = [_draw_path(ax, picture.paths[str(job.folder)], job.status == "diverged",
                            colour, entry.label if i == 0 else None)
                 for entry, colour in zip(entries, colours, strict=True)
                 for i, job in enumerate(entry.group.jobs)]
        ax.plot(*picture.ols, "*", color="gold", ms=18, mec="black", zorder=7,
                label=f"{text['ols']}: w = {number_text(picture.ols[0])}, "
                      f"b = {number_text(picture.ols[1])}")
        if picture.true_wb is not None:
            ax.plot(*picture.true_wb, "D", color="white", ms=8, mec="tab:green", mew=2,
                    zorder=7, label=f"{text['true_point']}: w = {number_text(picture.true_wb[0])}, "
                                    f"b = {number_text(picture.true_wb[1])}")
        ax.plot([], [], "o", color="0.7", mec="black", label=text["start"])
        ax.plot([], [], "s", color="0.7", mec="black", label=text["end"])
        ax.set_xlim(cw - half, cw + half)
        ax.set_ylim(cb - half, cb + half)
        ax.set_aspect("equal")
        unit = f" ({text['standardized']} x)" if picture.standardized else ""
        ax.set(xlabel=f"w{unit}", ylabel="b")
        ax.set_title(text["paths_title"].format(len(picture.jobs)), fontsize="large")
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=2, fontsize="small")
        if picture.animate:
            _save_gif(fig, ax, [d for d in drawn if d is not None], target, text["epoch"])
        else:
            save(fig, target, dpi=110)
    return fig  # for a test to read its labels
