"""The two panels of a row of summary.png (figures/summary.py): the MSE per epoch of each seed
group (one run's curve, or a group's mean with a ±1 SE band), and the final metric against
the one swept key (a group's mean with ±1 SE bars, its runs as small dots).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from linreg.figures.style import plain_log_ticks, spread
from linreg.keys import format_value, short_names
from linreg.records.groups import Group

LR_KEYS = ("optimizer.lr",)  # the swept key whose stability limit (diagnostics.lr_max) is drawn


@dataclass
class Entry:
    """A seed group and its label in the legend."""

    group: Group
    label: str


def label_names(keys: list[str]) -> dict[str, str]:
    """keys.short_names, and a config group's last part: `momentum` for
    `experiment/momentum` (unless two keys end alike)."""
    names = short_names(keys)
    last = {k: n.rsplit("/", 1)[-1] for k, n in names.items()}
    return {k: s if list(last.values()).count(s) == 1 else names[k] for k, s in last.items()}


def colours(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]


def _curve(entry: Entry, name: str) -> list[tuple[int, float, float]]:
    """(epoch, value, se) to draw: one run's history, or the mean of a group's finished runs;
    a long history thinned to style.spread's points."""
    jobs = entry.group.jobs
    if len(jobs) == 1:
        history = jobs[0].metrics.get("history", {}).get(name) or []
        points = [(i + 1, history[i], 0.0) for i in range(len(history))]
    else:
        points = [(e, s.mean, s.se or 0.0) for e, s in entry.group.curve(name)
                  if s.mean is not None]
    points = [p for p in points if p[1] is not None and math.isfinite(p[1])]
    return [points[i] for i in spread(len(points))]


def draw_curves(ax, entries: list[Entry], text: dict, title_prefix: str = "") -> None:
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    finished, starts = [], []  # the y range comes from runs that did not diverge
    any_val = False
    for entry, colour in zip(entries, colours(len(entries)), strict=True):
        points = _curve(entry, "full_mse")
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.plot(xs, ys, color=colour, lw=1.5, label=entry.label)  # a failed run: legend only
        if len(entry.group.jobs) > 1 and points:
            ax.fill_between(xs, [y - p[2] for y, p in zip(ys, points, strict=True)],
                            [y + p[2] for y, p in zip(ys, points, strict=True)],
                            color=colour, alpha=0.25, lw=0)
        val = _curve(entry, "val_loss")
        if val:
            any_val = True
            ax.plot([p[0] for p in val], [p[1] for p in val], color=colour, lw=1.2, ls="--")
            finished += [p[1] for p in val]
        for job in entry.group.jobs:
            if job.status == "diverged":  # where it blew up, on the top edge
                epochs = len(job.metrics.get("history", {}).get("full_mse") or [])
                ax.plot(epochs, 0.98, "x", color=colour, ms=9, mew=2, transform=top,
                        clip_on=False)
        if points and any(j.status != "diverged" for j in entry.group.jobs):
            finished += ys
            starts.append(ys[0])
    jobs = [job for entry in entries for job in entry.group.jobs]
    mse_ols = {round(value, 6) for j in jobs
               if (value := (j.metrics.get("reference") or {}).get("mse_ols")) is not None}
    if len(mse_ols) == 1:
        (value,) = mse_ols
        ax.axhline(value, color="k", ls="--", lw=1, label=f"{text['ols']} {value:.4g}")
        finished.append(value)
    if any(len(e.group.jobs) > 1 for e in entries):
        ax.fill_between([], [], [], color="0.6", alpha=0.35, label=text["mean_se"])
    ax.set_yscale("log")
    if finished:
        # runs that start far above the typical start leave through the top
        log_limits(ax, finished, statistics.median(starts) if starts else math.inf)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    failed = sum(job.status == "failed" for job in jobs)
    log = text["log_scale"] if ax.get_yscale() == "log" else ""  # linear when every MSE is 0
    runs = text["one_run"] if len(jobs) == 1 else text["n_runs"].format(len(jobs))
    title = text["curves_title_val" if any_val else "curves_title"].format(runs)
    ax.set(xlabel=text["epoch"], ylabel=f"MSE{log}",
           title=title_prefix + title + (text["no_curve"].format(failed) if failed else ""))


def _positions(entries: list[Entry], key: str) -> tuple[list, bool, list[str]]:
    """Each entry's x: its value when every value is a number, else its category's index, the
    categories in the order the runs were made (the sweep's own order: plain before nesterov)."""
    values = [e.group.jobs[0].value(key) for e in entries]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    categories = list(dict.fromkeys(map(str, values)))
    return (values if numeric else [categories.index(str(v)) for v in values], numeric,
            categories)


def draw_against(ax, entries: list[Entry], key: str, name: str, metric: str, text: dict,
                 title_prefix: str = "") -> None:
    """The final `metric` of each group against the one swept value: log x across decades,
    symlog when 0 is one of them (weight decay 0, 0.01, 0.03, ...)."""
    from matplotlib.transforms import blended_transform_factory

    pairs = [(e, c) for e, c in zip(entries, colours(len(entries)), strict=True)
             if any(j.status != "failed" for j in e.group.jobs)]
    xs, numeric, categories = _positions([e for e, _ in pairs], key)
    spreads = [e.group.metric(metric) for e, _ in pairs]
    top = blended_transform_factory(ax.transData, ax.transAxes)
    done = [(x, s.mean) for x, s in zip(xs, spreads, strict=True) if s.mean is not None]
    high = math.inf
    if metric in ("full_mse", "train_loss", "val_loss") and done and min(y for _, y in done) > 0:
        # a loss: log scale, and losses far above the typical one marked on the top edge
        finals = [y for _, y in done]
        high = log_limits(ax, finals, statistics.median(finals))
    for (entry, colour), x, s in zip(pairs, xs, spreads, strict=True):
        if s.mean is None:  # diverged: no value
            ax.plot(x, 0.97, "x", color=colour, ms=9, mew=2, transform=top)
        elif s.mean > high:  # off the scale
            ax.plot(x, 0.97, "^", color=colour, ms=9, transform=top)
        else:
            if len(entry.group.jobs) > 1:  # each run faintly, the mean ± SE on top
                runs = [v for j in entry.group.finished if (v := j.metric(metric)) is not None]
                ax.plot([x] * len(runs), runs, ".", color=colour, ms=4, alpha=0.5)
            ax.errorbar(x, s.mean, yerr=s.se or 0.0, fmt="o", color=colour, ms=8, capsize=4)
    if numeric and len(done) > 1:
        ax.plot(*zip(*sorted(done), strict=True), color="0.6", lw=1, zorder=0)
    positive = sorted({x for x in xs if x > 0}) if numeric else []
    if numeric and positive and max(positive) / positive[0] >= 10:
        if min(xs) > 0:
            ax.set_xscale("log")
        elif min(xs) == 0:  # a log axis has no 0: linear up to the smallest value, log after
            ax.set_xscale("symlog", linthresh=positive[0], linscale=0.5)
            ax.set_xticks(sorted(set(xs)), [format_value(v) for v in sorted(set(xs))])
    if not numeric:
        ax.set_xticks(range(len(categories)), categories)
    if key in LR_KEYS and numeric and xs:
        _mark_lr_max(ax, [j for e, _ in pairs for j in e.group.jobs], (min(xs), max(xs)), text)
    marks = [text[mark] for mark, shown_here in (
        ("x_diverged", any(s.mean is None for s in spreads)),
        ("off_scale", any(y > high for _, y in done))) if shown_here]
    ax.set(xlabel=key, ylabel=text["final"].format(metric),
           title=title_prefix + text["against"].format(metric, name)
           + (f" ({', '.join(marks)})" if marks else ""))


def _mark_lr_max(ax, jobs: list, swept: tuple[float, float], text: dict) -> None:
    """The learning rate above which full-batch gradient descent diverges on these runs'
    data (metrics.json diagnostics.lr_max), when they share one and it lies among the swept
    values (beyond them it would only squeeze them together)."""
    limits = {round(lr, 9) for j in jobs
              if (lr := (j.metrics.get("diagnostics") or {}).get("lr_max")) is not None}
    if len(limits) == 1 and swept[0] <= next(iter(limits)) <= swept[1]:
        (lr_max,) = limits
        ax.axvline(lr_max, color="tab:red", ls=":", lw=1.5)
        ax.text(lr_max, 0.72, " " + text["lr_max"].format(f"{lr_max:.3g}"), rotation=90,
                transform=ax.get_xaxis_transform(), color="tab:red", ha="right", va="center",
                fontsize="small")


def log_limits(ax, values: list[float], typical: float) -> float:
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
