"""Seed groups in a summary: summary_groups.csv (each group's n, mean, sd and se of every final
metric) and the ranking of groups by their mean, printed at a sweep's end (sweeps/compare.py).

Written only when some group holds more than one run (`linreg -m optimizer.lr=0.01,0.1
'seed=range(5)'`): without repeated seeds every group is one run, and summary.csv says it all.
"""

from __future__ import annotations

import csv
from pathlib import Path

from linreg.keys import format_value, short_names
from linreg.outputs import written_whole
from linreg.records.groups import GROUP_METRICS, Group, Spread
from linreg.records.runs import HIGHER_IS_BETTER

GROUPS_FILE = "summary_groups.csv"


def write_groups_csv(path: Path, ranked: list[Group], keys: list[str]) -> None:
    """One row per group, best first: its rank, values, run counts and seeds, then for every
    metric in GROUP_METRICS its mean, sd and se over the group's finished runs."""
    stats = [f"{name}_{part}" for name in GROUP_METRICS for part in ("mean", "sd", "se")]
    fields = ["rank", "group", *keys, "n", "n_ok", "seeds", "jobs", *stats]
    with written_whole(path, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for i, group in enumerate(ranked, 1):
            first = group.jobs[0]
            row = {"rank": i, "group": group.key, **{k: first.value(k) for k in keys},
                   "n": len(group.jobs), "n_ok": len(group.finished),
                   "seeds": " ".join(map(str, group.seeds)),
                   "jobs": " ".join("" if j.num is None else str(j.num) for j in group.jobs)}
            for name in GROUP_METRICS:
                spread = group.metric(name)
                row |= {f"{name}_mean": spread.mean, f"{name}_sd": spread.sd,
                        f"{name}_se": spread.se}
            writer.writerow(row)


def group_ranking_text(ranked: list[Group], keys: list[str], metric: str) -> str:
    """The groups best first, each metric as mean ± standard error over its finished runs."""
    n_runs = sum(len(g.jobs) for g in ranked)
    counts = {s: sum(j.status == s for g in ranked for j in g.jobs)
              for s in ("ok", "diverged", "interrupted", "failed")}
    if not counts["interrupted"]:
        del counts["interrupted"]
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    lines = [f"{n_runs} runs in {len(ranked)} groups that differ only in seed "
             f"({', '.join(f'{n} {s}' for s, n in counts.items())}), ranked by the mean "
             f"{metric} ({better} is better; mean ± standard error over a group's ok runs):"]
    shown = list(dict.fromkeys([metric, "full_mse", "r2", "dist_ols"]))
    header = ["rank", *short_names(keys).values(), "runs", "ok", *shown]
    rows = [header]
    for i, group in enumerate(ranked, 1):
        first = group.jobs[0]
        rows.append([str(i), *(format_value(first.value(k)) for k in keys),
                     str(len(group.jobs)), str(len(group.finished)),
                     *(_mean_se(group.metric(name)) for name in shown)])
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for row in rows:
        cells = [cell.rjust(w) if c == 0 else cell.ljust(w)
                 for c, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append(("  " + "  ".join(cells)).rstrip())
    lines.append(f"  (every run, ranked by {metric}: summary.csv; the groups: {GROUPS_FILE})")
    return "\n".join(lines)


def _mean_se(spread: Spread) -> str:
    if spread.mean is None:
        return ""
    return format_value(spread.mean) + ("" if spread.se is None
                                        else f" ± {format_value(spread.se)}")
