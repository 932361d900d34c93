"""summary.png: every run's full-data MSE per epoch overlaid, and for a one-key sweep the final
metric against that key. Drawn for a sweep when it ends and by `linreg-compare` (sweeps/compare.py).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path

from linreg.figures.style import plain_log_ticks, save, spread
from linreg.keys import format_value, short_names
from linreg.records.runs import Job

HEIGHT_IN = 5.2
# margins in inches: tick labels and axis label left of each panel, below it, the title above
LEFT_IN, GAP_IN, BOTTOM_IN, TOP_IN = 0.85, 0.95, 0.6, 0.4
LEGEND_GAP_IN, MIN_PANEL_IN = 0.15, 4.0


@dataclass
class SummaryPicture:
    """What summary.png shows: the jobs as read from their folders, the swept keys, and the
    metric they are ranked by."""

    jobs: list[Job]
    keys: list[str]
    metric: str


def draw(path: Path, picture: SummaryPicture) -> None:
    """Every run's full-data MSE per epoch, overlaid; for one swept key, `metric` against it."""
    from matplotlib.figure import Figure

    jobs, keys, metric = picture.jobs, picture.keys, picture.metric
    one_key = len(keys) == 1
    columns = 1 + len(jobs) // 30  # of the legend; each one widens the figure
    width = (12.8 if one_key else 8.0) + 2.4 * (columns - 1)
    fig = Figure(figsize=(width, HEIGHT_IN))
    colours = _colours(len(jobs))
    names = short_names(keys)
    labels = [(" ".join(f"{names[k]}={format_value(job.value(k))}" for k in keys)
               or job.folder.name) + ("" if job.status == "ok" else f" ({job.status})")
              for job in jobs]
    _draw_curves(fig.add_subplot(1, 2 if one_key else 1, 1), jobs, labels, colours)
    if one_key:
        _draw_against(fig.add_subplot(1, 2, 2), jobs, keys[0], names[keys[0]], metric, colours)
    legend = fig.legend(loc="upper right", bbox_to_anchor=(1, 1), ncols=columns,
                        fontsize="small" if len(jobs) <= 20 else "x-small")
    _place_axes(fig, legend, width, panels=2 if one_key else 1)
    save(fig, path, dpi=110)


def _place_axes(fig, legend, width: float, panels: int) -> None:
    """Fixed margins for the tick labels, axis labels and titles, and the legend measured:
    constrained layout would measure every tick label, half the time of this figure. A legend
    of long names widens the figure rather than squeeze the panels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    legend_in = legend.get_window_extent(FigureCanvasAgg(fig).get_renderer()).width / fig.dpi
    panel = (width - LEFT_IN - GAP_IN * (panels - 1) - legend_in - LEGEND_GAP_IN) / panels
    if panel < MIN_PANEL_IN:
        width += (MIN_PANEL_IN - panel) * panels
        fig.set_size_inches(width, HEIGHT_IN)
        panel = MIN_PANEL_IN
    left, right = LEFT_IN / width, 1 - (legend_in + LEGEND_GAP_IN) / width
    fig.subplots_adjust(left=left, right=right, bottom=BOTTOM_IN / HEIGHT_IN,
                        top=1 - TOP_IN / HEIGHT_IN, wspace=GAP_IN / panel)


def _draw_curves(ax, jobs: list[Job], labels: list[str], colours: list) -> None:
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    finished, starts = [], []  # the y range comes from runs that did not diverge
    for job, label, colour in zip(jobs, labels, colours, strict=True):
        history = job.metrics.get("history", {}).get("full_mse") or []
        points = [(i + 1, history[i]) for i in spread(len(history))
                  if history[i] is not None and math.isfinite(history[i])]
        ax.plot(*zip(*points, strict=True) if points else ([], []), color=colour, lw=1.5,
                label=label)  # a failed run has no curve, but its name stays in the legend
        if job.status == "diverged":  # where it blew up, on the top edge
            ax.plot(len(history), 0.98, "x", color=colour, ms=9, mew=2, transform=top,
                    clip_on=False)
        elif points:
            finished += [v for _, v in points]
            starts.append(points[0][1])
    mse_ols = {round(value, 6) for j in jobs
               if (value := (j.metrics.get("reference") or {}).get("mse_ols")) is not None}
    if len(mse_ols) == 1:
        (value,) = mse_ols
        ax.axhline(value, color="k", ls="--", lw=1, label=f"least squares {value:.4g}")
        finished.append(value)
    ax.set_yscale("log")
    if finished:
        # runs that start far above the typical start leave through the top
        _log_limits(ax, finished, statistics.median(starts) if starts else math.inf)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    failed = sum(job.status == "failed" for job in jobs)
    log = " (log scale)" if ax.get_yscale() == "log" else ""  # linear when every MSE is 0
    ax.set(xlabel="epoch", ylabel=f"full-data MSE{log}",
           title=f"Full-data MSE per epoch, {len(jobs)} runs"
           + (f" ({failed} failed: no curve)" if failed else ""))


def _draw_against(ax, jobs: list[Job], key: str, name: str, metric: str, colours: list) -> None:
    """The final `metric` of each run against the one swept value; log x across decades."""
    from matplotlib.transforms import blended_transform_factory

    shown = [(job, colour) for job, colour in zip(jobs, colours, strict=True)
             if job.status != "failed"]
    values = [job.value(key) for job, _ in shown]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    categories = sorted(set(map(str, values)))
    xs = values if numeric else [categories.index(str(v)) for v in values]
    top = blended_transform_factory(ax.transData, ax.transAxes)
    ys = [job.metric(metric) for job, _ in shown]
    done = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    high = math.inf
    if metric in ("full_mse", "train_loss") and done and min(y for _, y in done) > 0:
        # a loss: log scale, and losses far above the typical one marked on the top edge
        finals = [y for _, y in done]
        high = _log_limits(ax, finals, statistics.median(finals))
    for (_, colour), x, y in zip(shown, xs, ys, strict=True):
        if y is None:  # diverged: no value
            ax.plot(x, 0.97, "x", color=colour, ms=9, mew=2, transform=top)
        elif y > high:  # off the scale
            ax.plot(x, 0.97, "^", color=colour, ms=9, transform=top)
        else:
            ax.plot(x, y, "o", color=colour, ms=8)
    if numeric and len(done) > 1:
        ax.plot(*zip(*sorted(done), strict=True), color="0.6", lw=1, zorder=0)
    if numeric and values and min(values) > 0 and max(values) / min(values) >= 10:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    marks = [text for text, shown_here in (
        ("x: diverged", any(job.status == "diverged" for job, _ in shown)),
        ("^: off the scale", any(y > high for _, y in done))) if shown_here]
    ax.set(xlabel=key, ylabel=f"final {metric}", title=f"Final {metric} against {name}"
           + (f" ({', '.join(marks)})" if marks else ""))


def _log_limits(ax, values: list[float], typical: float) -> float:
    """Log y from the smallest value to a few times the `typical` one (a few wild runs would
    flatten all the others); plain tick labels within two decades. Returns the top. A loss
    of 0 lies below a log axis: with nothing above 0 the axis is linear."""
    positive = [v for v in values if v > 0]
    if not positive:
        ax.set_yscale("linear")
        return math.inf
    low = min(positive) / 1.2
    high = max(min(max(positive), 5 * typical) * 1.5, min(positive) * 1.5)
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    plain_log_ticks(ax, low, high)
    return high


def _colours(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]
