"""summary.png: every run's MSE per epoch overlaid, and for a one-key sweep the final metric
against that key. Drawn for a sweep when it ends and by `linreg-compare` (sweeps/compare.py).

Runs on different data (diabetes and synthetic, two CSV files) get a row of panels each: their
losses share no scale. Runs that differ only in seed are one seed group (records/groups.py),
drawn as their mean with a band of ±1 standard error. Each curve is labelled by the keys whose
values differ within its row, without empty ones; the panels are drawn in
figures/summary_panels.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from linreg.figures.style import save, style
from linreg.figures.summary_panels import Entry, draw_against, draw_curves, label_names
from linreg.keys import format_value
from linreg.records.groups import groups_of, has_repeats
from linreg.records.runs import Job

if TYPE_CHECKING:
    from matplotlib.figure import Figure

HEIGHT_IN = 5.2  # of a row of panels
# margins in inches: tick labels and axis label left of each panel, below it, the title above
LEFT_IN, GAP_IN, BOTTOM_IN, TOP_IN = 0.85, 0.95, 0.6, 0.45
LEGEND_GAP_IN, PANEL_IN = 0.15, 4.4
PER_COLUMN = 22  # legend entries in one column of a row's legend


@dataclass
class SummaryPicture:
    """What summary.png shows: the jobs as read from their folders, the swept keys, the metric
    they are ranked by, and the language of the labels (the runs' plot.lang)."""

    jobs: list[Job]
    keys: list[str]
    metric: str
    lang: str = "en"


def data_name(job: Job) -> str:
    """Which data a run trained on: the source and its features, so that runs on diabetes,
    on synthetic data and on two CSV files each get their own panels."""
    data = job.metrics.get("data") or {}
    source = data.get("source") or job.value("dataset") or "?"
    features = data.get("features") or []
    return source if len(features) <= 1 else f"{source} ({len(features)} features)"


def rows_of(jobs: list[Job]) -> list[tuple[str, list[Job]]]:
    """The jobs by the data they trained on, in order of first appearance; a failed job
    (which recorded no data) joins the first row."""
    rows: dict[str, list[Job]] = {}
    for job in jobs:
        if job.status != "failed":
            rows.setdefault(data_name(job), []).append(job)
    failed = [job for job in jobs if job.status == "failed"]
    if not rows:
        return [("", failed)]
    first = next(iter(rows))
    rows[first] = sorted(rows[first] + failed, key=jobs.index)
    return list(rows.items())


def entries_of(jobs: list[Job], keys: list[str], seeds: str) -> list[Entry]:
    """One legend entry per seed group of `jobs`, labelled by the keys whose values differ
    among them (no key whose value is empty for this run); the folder's name where labels
    would coincide."""
    groups = groups_of(jobs)
    grouped = has_repeats(groups)
    # a key some runs lack (loss.delta beside mse runs) is shown where its values differ,
    # not because one option has it
    least = 1 if len(groups) == 1 else 2  # a row of one: all its values
    shown = [k for k in keys if not (grouped and k == "seed")
             and len({format_value(g.jobs[0].value(k)) for g in groups} - {""}) >= least]
    names = label_names(shown)
    labels = []
    for group in groups:
        job = group.jobs[0]
        label = " ".join(f"{names[k]}={format_value(v)}" for k in shown
                         if (v := job.value(k)) is not None and format_value(v) != "")
        labels.append(label)
    entries = []
    for group, label in zip(groups, labels, strict=True):
        if not label or labels.count(label) > 1:
            label = (f"{label} " if label else "") + group.jobs[0].folder.name
        bad = [j.status for j in group.jobs if j.status != "ok"]
        if len(group.jobs) == 1:
            label += f" ({bad[0]})" if bad else ""
        else:  # "lr=1.5 (3 seeds, 3 diverged)"
            parts = [seeds.format(len(group.jobs))]
            parts += [f"{bad.count(s)} {s}" for s in dict.fromkeys(bad)]
            label += f" ({', '.join(parts)})"
        entries.append(Entry(group, label))
    return entries


def draw(path: Path, picture: SummaryPicture, lang: str | None = None) -> Figure:
    """A row per data set: its runs' MSE per epoch; for one swept key (seed aside), the final
    `metric` against it beside them. Each row's legend is right of it."""
    from matplotlib.figure import Figure

    jobs, metric = picture.jobs, picture.metric
    grouped = has_repeats(groups_of(jobs))
    against = [k for k in picture.keys if not (grouped and k == "seed")]
    one_key = len(against) == 1
    panels = 2 if one_key else 1
    rows = rows_of(jobs)
    with style(lang or picture.lang) as text:
        fig = Figure(figsize=(LEFT_IN + panels * PANEL_IN + GAP_IN * (panels - 1) + 3,
                              HEIGHT_IN * len(rows)))
        legends, all_axes = [], []
        for r, (name, row_jobs) in enumerate(rows):
            entries = entries_of(row_jobs, picture.keys, text["seeds"])
            curves = fig.add_subplot(len(rows), panels, r * panels + 1)
            title = f"{name}: " if len(rows) > 1 else ""
            draw_curves(curves, entries, text, title)
            axes = [curves]
            if one_key:
                axes.append(fig.add_subplot(len(rows), panels, r * panels + 2))
                draw_against(axes[-1], entries, against[0], label_names(against)[against[0]],
                             metric, text, title)
            handles, labels = curves.get_legend_handles_labels()
            columns = 1 + (len(handles) - 1) // PER_COLUMN
            legends.append(axes[-1].legend(
                handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1), ncols=columns,
                fontsize="small" if len(handles) <= PER_COLUMN else "x-small",
                borderaxespad=0))
            all_axes.append(axes)
        _place_axes(fig, legends, all_axes, panels)
        save(fig, path, dpi=110)
    return fig  # for a test to read its labels


def _place_axes(fig, legends: list, rows: list[list], panels: int) -> None:
    """Fixed margins for the tick labels, axis labels and titles, and the widest legend
    measured: constrained layout would measure every tick label, half the time of this
    figure. The panels keep their width; a long legend widens the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    legend_in = max(legend.get_window_extent(renderer).width for legend in legends) / fig.dpi
    width = LEFT_IN + panels * PANEL_IN + GAP_IN * (panels - 1) + legend_in + 2 * LEGEND_GAP_IN
    height = HEIGHT_IN * len(rows)
    fig.set_size_inches(width, height)
    for r, axes in enumerate(rows):
        bottom = height - (r + 1) * HEIGHT_IN + BOTTOM_IN
        for p, ax in enumerate(axes):
            left = LEFT_IN + p * (PANEL_IN + GAP_IN)
            ax.set_position((left / width, bottom / height, PANEL_IN / width,
                             (HEIGHT_IN - BOTTOM_IN - TOP_IN) / height))
