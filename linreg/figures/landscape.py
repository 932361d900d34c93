"""paths.png: every job's optimizer path on one loss surface, for a sweep of one-feature runs
that share their data and their loss (the learning-rate, batch-size, init and momentum lessons).

Each run leaves its path in path.json (records/path.py) with the five means that give its
training rows' MSE at any (w, b), so the surface is exact and needs no data: runs share the
surface when those means are equal. MAE and Huber need the rows themselves, so a sweep over
them (or over the data) gets no paths.png; its runs' own trajectory.png show their surfaces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from linreg.figures.style import number_text, save, style
from linreg.figures.summary_panels import label_names
from linreg.keys import format_value
from linreg.records import path as run_path
from linreg.records.groups import groups_of, has_repeats
from linreg.records.runs import Job

LANDSCAPE_FILE = "paths.png"
MAX_PATHS = 20  # beyond this many paths one picture is a tangle
GRID, LEVELS = 161, 14


@dataclass
class Route:
    label: str
    w: list[float]
    b: list[float]
    status: str
    colour: int  # of its seed group


@dataclass
class LandscapePicture:
    routes: list[Route]
    moments: list[float]  # mean x^2, x, x y, y, y^2 (records/path.py)
    ols: tuple[float, float]
    true_wb: tuple[float, float] | None
    standardized: bool
    lang: str = "en"


def landscape_of(jobs: list[Job], keys: list[str], lang: str = "en") -> LandscapePicture | None:
    """paths.png's picture for these jobs, or None if they do not share one MSE surface: some
    ran with several features, another loss or other data, or there are too few or too many."""
    records = [(job, run_path.read(job.folder)) for job in jobs if job.status != "failed"]
    if not 2 <= len(records) <= MAX_PATHS or any(r is None for _, r in records):
        return None
    first = records[0][1]
    for _, record in records:
        if record["loss"] != "mse" or record["standardized"] != first["standardized"] \
                or None in record["mse_moments"] \
                or not np.allclose(record["mse_moments"], first["mse_moments"], rtol=1e-9):
            return None
    # a seed group's runs share a colour and one legend entry: "lr=0.1 (5 seeds)"
    record_of = {id(job): record for job, record in records}
    groups = groups_of([job for job, _ in records])
    grouped = has_repeats(groups)
    names = label_names([k for k in keys if not (grouped and k == "seed")])
    routes = []
    for colour, group in enumerate(groups):
        job = group.jobs[0]
        label = " ".join(f"{names[k]}={format_value(job.value(k))}" for k in names
                         if job.value(k) is not None) or job.folder.name
        if len(group.jobs) > 1:
            label += f" ({len(group.jobs)} seeds)"
        for i, job in enumerate(group.jobs):
            record = record_of[id(job)]
            # one point per epoch: every step of many runs is a tangle (each run's
            # trajectory.png has them all)
            k = record["steps_per_epoch"]
            at = [i for i, step in enumerate(record["step"]) if step % k == 0]
            record = {**record, "w": [record["w"][i] for i in at],
                      "b": [record["b"][i] for i in at]}
            routes.append(Route(
                (label + ("" if job.status == "ok" else f" ({job.status})")) if i == 0 else "",
                [math.nan if v is None else v for v in record["w"]],
                [math.nan if v is None else v for v in record["b"]],
                job.status, colour))
    return LandscapePicture(routes, first["mse_moments"], tuple(first["ols"]),
                            tuple(first["true"]) if first["true"] else None,
                            first["standardized"], lang)


def view(picture: LandscapePicture) -> tuple[float, float, float]:
    """(w centre, b centre, half width) of a square view holding the starts, least squares,
    the true (w, b) and the points of paths that did not diverge within 1.2 times the farthest
    start's distance from least squares: a diverging path, or a wild one, leaves it."""
    ols = picture.ols

    def finite(w: float, b: float) -> bool:
        return math.isfinite(w) and math.isfinite(b)

    starts = [(r.w[0], r.b[0]) for r in picture.routes if finite(r.w[0], r.b[0])]
    reach = max([math.dist(s, ols) for s in starts] + [1e-6])
    near = [(w, b) for r in picture.routes if r.status != "diverged"
            for w, b in zip(r.w, r.b, strict=True)
            if finite(w, b) and math.dist((w, b), ols) <= 1.2 * reach]
    near += [*starts, ols] + ([picture.true_wb] if picture.true_wb is not None else [])
    ws, bs = [p[0] for p in near], [p[1] for p in near]
    half = max(max(ws) - min(ws), max(bs) - min(bs), 1e-3 * max(abs(ols[0]), abs(ols[1]), 1))
    return (min(ws) + max(ws)) / 2, (min(bs) + max(bs)) / 2, 0.55 * half


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
    n = 1 + max(r.colour for r in picture.routes)
    colours = [colormaps["tab10"](i) for i in range(n)] if n <= 10 else \
        [colormaps["plasma"](0.9 * i / (n - 1)) for i in range(n)]
    with style(picture.lang) as text:
        # fixed boxes: a square axes (SIDE inches), the colour bar right of it, the title
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
        for route in picture.routes:
            colour = colours[route.colour]
            ok = [(w, b) for w, b in zip(route.w, route.b, strict=True)
                  if math.isfinite(w) and math.isfinite(b)]
            if not ok:
                continue
            ws, bs = zip(*ok, strict=True)
            diverged = route.status == "diverged"  # under the others: it only leaves
            ax.plot(ws, bs, "-", color=colour, lw=1.0 if diverged else 1.6,
                    alpha=0.6 if diverged else 0.95, zorder=2 if diverged else 3,
                    marker="." if len(ok) <= 80 else None, ms=4,
                    label=route.label or None)
            ax.plot(ws[0], bs[0], "o", color=colour, ms=8, mec="black", zorder=5)
            if route.status != "diverged":
                ax.plot(ws[-1], bs[-1], "s", color=colour, ms=7, mec="black", zorder=6)
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
        ax.set_title(text["paths_title"].format(len(picture.routes)), fontsize="large")
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=2, fontsize="small")
        save(fig, target, dpi=110)
    return fig  # for a test to read its labels
