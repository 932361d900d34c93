"""Compare finished runs: one table (summary.csv), one figure (summary.png), a ranking printed.

A sweep draws these for its jobs when it ends (sweeps/callback.py); `linreg-compare` (or
`python -m linreg.sweeps.compare`) draws them for any run or sweep folders, made on any day:

    linreg-compare outputs/sweeps/2025-01-01/10-00-00-000000 outputs/runs/2025-01-02

Every run is read back from its folder (records/runs.py). Only the standard library is
imported at the top: this module is loaded by every `linreg` command.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from linreg.errors import LinregError
from linreg.keys import format_value, short_names, split_override
from linreg.outputs import written_whole
from linreg.records.groups import groups_of, has_repeats, rank_groups
from linreg.records.runs import HIGHER_IS_BETTER, Job, Metric, find_runs, load
from linreg.sweeps.grouped import GROUPS_FILE, group_ranking_text, write_groups_csv

CSV_FILE, PNG_FILE = "summary.csv", "summary.png"


def swept_keys(jobs: list[Job], known: list[str] = ()) -> list[str]:
    """The `known` swept keys, then every other overridden key whose value differs across jobs."""
    keys = list(known)
    for job in jobs:
        keys += [k for k, _ in map(split_override, job.overrides) if k not in keys]
    return [k for k in keys if k in known or len({repr(j.value(k)) for j in jobs}) > 1]


def rank(jobs: list[Job], metric: str) -> list[Job]:
    """Best first: finished runs by `metric`, then diverged, interrupted and failed ones."""
    sign = -1 if metric in HIGHER_IS_BETTER else 1

    def key(job: Job) -> tuple:
        value = job.metric(metric)
        order = {"ok": 0, "diverged": 1, "interrupted": 2}.get(job.status, 3)
        return order, value is None, sign * value if value is not None else 0, _num(job)

    return sorted(jobs, key=key)


def summarise(jobs: list[Job], out_dir: Path, metric: str, keys: list[str] = ()) -> str:
    """Write summary.csv and summary.png into `out_dir` (and summary_groups.csv when some
    runs differ only in seed); return the ranking as text: of the seed groups by their mean
    when there are such groups, else of the runs. A one-feature sweep on shared data and MSE
    also gets paths.png (figures/landscape.py)."""
    jobs = sorted(jobs, key=_num)
    keys = swept_keys(jobs, list(keys))
    ranked = rank(jobs, metric)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / CSV_FILE, jobs, ranked, keys)
    groups = groups_of(jobs)
    repeats = has_repeats(groups)
    group_keys = [k for k in keys if k != "seed"]
    if repeats:
        ranked_groups = rank_groups(groups, metric)
        write_groups_csv(out_dir / GROUPS_FILE, ranked_groups, group_keys)
    from linreg.figures import drawing  # by the drawing process of a sweep, which has matplotlib
    from linreg.figures.summary import SummaryPicture
    from linreg.process.stopping import SUMMARY_AFTER_STOP_S

    langs = {job.config.get("plot.lang", "en") for job in jobs}
    lang = langs.pop() if len(langs) == 1 else "en"  # the runs' own labels, if they agree
    pictures = {PNG_FILE: SummaryPicture(jobs, keys, metric, lang=lang)}
    from linreg.figures.landscape import ANIMATION_FILE, LANDSCAPE_FILE, landscape_of

    if (landscape := landscape_of(jobs, keys, lang)) is not None:
        pictures[LANDSCAPE_FILE] = landscape
        if any(job.config.get("plot.animate") for job in jobs):  # opt-in: a few seconds
            pictures[ANIMATION_FILE] = dataclasses.replace(landscape, animate=True)
    drawing.draw(out_dir, pictures, lang, after_stop_s=SUMMARY_AFTER_STOP_S)
    text = group_ranking_text(ranked_groups, group_keys, metric) if repeats \
        else ranking_text(ranked, keys, metric)
    if landscape is not None:
        text += f"\n  ({LANDSCAPE_FILE}: every run's path on one loss surface)"
    return text


def write_csv(path: Path, jobs: list[Job], ranked: list[Job], keys: list[str]) -> None:
    root = _common_root(jobs)
    fields = ["job", "folder", "overrides", *keys, "status", "rank", "epochs_run", "train_loss",
              "full_mse", "mse_ols", "r2", "w", "b", "w_ols", "b_ols", "dist_ols", "wall_s",
              "error"]
    with written_whole(path, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for job in jobs:
            m, ref = job.metrics, job.metrics.get("reference", {})
            writer.writerow({
                "job": job.num, "folder": job.folder.relative_to(root).as_posix(),
                "overrides": " ".join(job.overrides), **{k: job.value(k) for k in keys},
                "status": job.status, "rank": ranked.index(job) + 1,
                "epochs_run": m.get("epochs_run"), "train_loss": job.metric("train_loss"),
                "full_mse": job.metric("full_mse"), "mse_ols": ref.get("mse_ols"),
                "r2": job.metric("r2"), "w": _vector(m.get("w")), "b": m.get("b"),
                "w_ols": _vector(ref.get("w_ols")), "b_ols": ref.get("b_ols"),
                "dist_ols": job.metric("dist_ols"), "wall_s": m.get("wall_s"),
                "error": m.get("error"),
            })


def ranking_text(ranked: list[Job], keys: list[str], metric: str) -> str:
    counts = {s: sum(j.status == s for j in ranked)
              for s in ("ok", "diverged", "interrupted", "failed")}
    if not counts["interrupted"]:  # only a stopped sweep has them
        del counts["interrupted"]
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    lines = [f"{len(ranked)} runs ({', '.join(f'{n} {s}' for s, n in counts.items())}), "
             f"ranked by {metric} ({better} is better):"]
    shown = list(dict.fromkeys([metric, "full_mse", "r2", "dist_ols", "wall_s"]))
    many_places = len({j.folder.parent for j in ranked}) > 1  # not one sweep: name the folders
    root = _common_root(ranked)
    header = ["rank", "job", *short_names(keys).values(), "status", *shown]
    rows, tails = [header], [""]
    for i, job in enumerate(ranked, 1):
        failed = job.status == "failed"
        rows.append([str(i), "" if job.num is None else str(job.num),
                     *(format_value(job.value(k)) for k in keys), job.status,
                     *("" if failed else format_value(job.metric(name)) for name in shown)])
        # a failure's reason goes last, so one long message does not widen every column
        tail = job.folder.relative_to(root).as_posix() if many_places else ""
        tails.append(f"{tail}  {job.metrics.get('error', '')}" if failed else tail)
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for row, tail in zip(rows, tails, strict=True):
        cells = [cell.rjust(w) if c < 2 else cell.ljust(w)
                 for c, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append(("  " + "  ".join(cells) + "  " + tail).rstrip())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="linreg-compare",
        description="Rank finished linreg runs and sweeps, and write summary.csv and "
                    "summary.png for them.")
    parser.add_argument("folders", nargs="+", type=Path, metavar="RUN_OR_SWEEP_DIR",
                        help="run folders, sweep folders, or folders holding them")
    parser.add_argument("--rank-by", default=Metric.full_mse.name, choices=[m.name for m in Metric],
                        help="the metric to rank by (default: full_mse)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for summary.csv and summary.png "
                             "(default: outputs/compare/<date>/<time>)")
    args = parser.parse_args(argv)
    out = args.out or Path("outputs/compare", datetime.now().strftime("%Y-%m-%d/%H-%M-%S-%f"))
    try:
        jobs = [load(folder) for folder in find_runs(args.folders)]
        print(summarise(jobs, out, args.rank_by))
    except LinregError as exc:
        print(f"linreg-compare: error: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"summary: {(out / CSV_FILE).resolve()}, {(out / PNG_FILE).resolve()}")


def _num(job: Job) -> tuple:
    return (job.num is None, job.num or 0, str(job.folder))


def _common_root(jobs: list[Job]) -> Path:
    parents = {job.folder.resolve().parent for job in jobs}
    return Path(os.path.commonpath(list(parents))) if parents else Path(".")


def _vector(values: list | None) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else json.dumps(values)


if __name__ == "__main__":
    main()
