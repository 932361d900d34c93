"""Compare finished runs: one table (summary.csv), one figure (summary.png), a ranking printed.

A sweep draws these for its jobs when it ends (linreg/sweep.py); `linreg-compare` (or
`python -m linreg.compare`) draws them for any run or sweep folders, made on any day:

    linreg-compare outputs/sweeps/2025-01-01/10-00-00-000000 outputs/runs/2025-01-02

Everything is read back from the folders (metrics.json and Hydra's .hydra/), never from a
launcher's return values, which launchers in other processes drop. Only the standard library
is imported at the top: this module is loaded by every `linreg` command.
"""

from __future__ import annotations

import argparse
import csv
import enum
import json
import math
import os
import statistics
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from linreg.errors import LinregError

CSV_FILE, PNG_FILE = "summary.csv", "summary.png"


class Metric(enum.Enum):
    """What a sweep is ranked by (config key `summary.rank_by`) and what optuna optimises."""

    full_mse = "final full-data MSE"
    train_loss = "final training loss"
    r2 = "R^2 on all rows"
    dist_ols = "distance of (w, b) from least squares"
    val_loss = "final loss on the held-out rows"
    w_error = "distance of w from the true w"
    wall_s = "wall time in seconds"


HIGHER_IS_BETTER = {"r2"}


@dataclass
class Job:
    """One finished (or failed) run, as read back from its folder."""

    folder: Path
    metrics: dict[str, Any]
    overrides: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # flattened: {"optimizer.lr": 0.01}
    num: int | None = None  # hydra.job.num, for a job of a sweep

    @property
    def status(self) -> str:
        return self.metrics.get("status", "failed")

    def metric(self, name: str) -> float | None:
        m = self.metrics
        if self.status == "failed":
            return None
        if name == "dist_ols":
            ref = m["reference"]
            if m["b"] is None or None in m["w"]:
                return None
            pairs = [*zip(m["w"], ref["w_ols"], strict=True), (m["b"], ref["b_ols"])]
            return math.sqrt(sum((v - v_ols) ** 2 for v, v_ols in pairs))
        value = {"full_mse": m["loss"]["full_mse"], "train_loss": m["loss"]["train"],
                 "r2": m["r2"], "wall_s": m["wall_s"], "val_loss": m["loss"].get("val"),
                 "w_error": (m.get("param_error") or {}).get("w")}[name]
        return None if value is None or not math.isfinite(value) else value

    def value(self, key: str) -> Any:
        """The value this run used for `key`: a config value, or a group's chosen option."""
        for candidate in (key, f"{key}.name"):
            if candidate in self.config:
                return self.config[candidate]
        return dict(split_override(o) for o in self.overrides).get(key)


def find_runs(paths: list[Path]) -> list[Path]:
    """Every run folder (one holding metrics.json or .hydra/) at or below each of `paths`."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise LinregError(f"{path}: no such folder")
        before = len(found)
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .hydra, .submitit
            if "metrics.json" in files or Path(root, ".hydra", "config.yaml").is_file():
                found.append(Path(root))
                dirs.clear()
        if len(found) == before:
            raise LinregError(f"{path}: no run folders in it (none holds metrics.json or .hydra/)")
    return found


def load(folder: Path) -> Job:
    try:
        metrics = json.loads((folder / "metrics.json").read_text())
    except FileNotFoundError:
        metrics = {"status": "failed", "error": "no metrics.json: the job stopped before "
                                                "recording a result (see its train.log)"}
    except json.JSONDecodeError as exc:
        metrics = {"status": "failed", "error": f"metrics.json is not valid JSON: {exc}"}
    hydra_dir = folder / ".hydra"
    overrides = _yaml(hydra_dir / "overrides.yaml") or []
    config = _flatten(_yaml(hydra_dir / "config.yaml") or {})
    job = (_yaml(hydra_dir / "hydra.yaml") or {}).get("hydra", {})
    num = job.get("job", {}).get("num") if job.get("mode") == "MULTIRUN" else None
    return Job(folder.resolve(), metrics, [str(o) for o in overrides], config, num)


def swept_keys(jobs: list[Job], known: list[str] = ()) -> list[str]:
    """The `known` swept keys, then every other overridden key whose value differs across jobs."""
    keys = list(known)
    for job in jobs:
        keys += [k for k, _ in map(split_override, job.overrides) if k not in keys]
    return [k for k in keys if k in known or len({repr(j.value(k)) for j in jobs}) > 1]


def short_names(keys: list[str]) -> dict[str, str]:
    """`optimizer.lr` -> `lr`, unless two keys end alike; for labels and job folder names."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: s if last.count(s) == 1 else k for k, s in zip(keys, last, strict=True)}


def rank(jobs: list[Job], metric: str) -> list[Job]:
    """Best first: finished runs by `metric`, then diverged ones, then failed ones."""
    sign = -1 if metric in HIGHER_IS_BETTER else 1

    def key(job: Job) -> tuple:
        value = job.metric(metric)
        order = {"ok": 0, "diverged": 1}.get(job.status, 2)
        return order, value is None, sign * value if value is not None else 0, _num(job)

    return sorted(jobs, key=key)


def summarise(jobs: list[Job], out_dir: Path, metric: str, keys: list[str] = ()) -> str:
    """Write summary.csv and summary.png into `out_dir`; return the ranking as text."""
    jobs = sorted(jobs, key=_num)
    keys = swept_keys(jobs, list(keys))
    ranked = rank(jobs, metric)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(out_dir / CSV_FILE, jobs, ranked, keys)
    draw(out_dir / PNG_FILE, jobs, keys, metric)
    return ranking_text(ranked, keys, metric)


def write_csv(path: Path, jobs: list[Job], ranked: list[Job], keys: list[str]) -> None:
    root = _common_root(jobs)
    fields = ["job", "folder", "overrides", *keys, "status", "rank", "epochs_run", "train_loss",
              "full_mse", "mse_ols", "r2", "w", "b", "w_ols", "b_ols", "dist_ols", "wall_s",
              "error"]
    with open(path, "w", newline="") as f:
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
    counts = {s: sum(j.status == s for j in ranked) for s in ("ok", "diverged", "failed")}
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
                     *(_fmt(job.value(k)) for k in keys), job.status,
                     *("" if failed else _fmt(job.metric(name)) for name in shown)])
        # a failure's reason goes last, so one long message does not widen every column
        tail = job.folder.relative_to(root).as_posix() if many_places else ""
        tails.append(f"{tail}  {job.metrics.get('error', '')}" if failed else tail)
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    for row, tail in zip(rows, tails, strict=True):
        cells = [cell.rjust(w) if c < 2 else cell.ljust(w)
                 for c, (cell, w) in enumerate(zip(row, widths, strict=True))]
        lines.append(("  " + "  ".join(cells) + "  " + tail).rstrip())
    return "\n".join(lines)


def draw(path: Path, jobs: list[Job], keys: list[str], metric: str) -> None:
    """Every run's full-data MSE per epoch, overlaid; for one swept key, `metric` against it."""
    from matplotlib.figure import Figure

    one_key = len(keys) == 1
    columns = 1 + len(jobs) // 30  # of the legend; each one widens the figure
    width = (12.8 if one_key else 8.0) + 2.4 * (columns - 1)
    fig = Figure(figsize=(width, 5.2), layout="constrained")
    colours = _colours(len(jobs))
    names = short_names(keys)
    labels = [(" ".join(f"{names[k]}={_fmt(job.value(k))}" for k in keys) or job.folder.name)
              + ("" if job.status == "ok" else f" ({job.status})") for job in jobs]
    _draw_curves(fig.add_subplot(1, 2 if one_key else 1, 1), jobs, labels, colours)
    if one_key:
        _draw_against(fig.add_subplot(1, 2, 2), jobs, keys[0], names[keys[0]], metric, colours)
    fig.legend(loc="outside right upper", fontsize="small" if len(jobs) <= 20 else "x-small",
               ncols=columns)
    fig.savefig(path, dpi=110)


def _draw_curves(ax, jobs: list[Job], labels: list[str], colours: list) -> None:
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    finished, starts = [], []  # the y range comes from runs that did not diverge
    for job, label, colour in zip(jobs, labels, colours, strict=True):
        history = job.metrics.get("history", {}).get("full_mse") or []
        points = [(e, v) for e, v in enumerate(history, 1) if v is not None and math.isfinite(v)]
        ax.plot(*zip(*points, strict=True) if points else ([], []), color=colour, lw=1.5,
                label=label)  # a failed run has no curve, but its name stays in the legend
        if job.status == "diverged":  # where it blew up, on the top edge
            ax.plot(len(history), 0.98, "x", color=colour, ms=9, mew=2, transform=top,
                    clip_on=False)
        elif points:
            finished += [v for _, v in points]
            starts.append(points[0][1])
    mse_ols = {round(j.metrics["reference"]["mse_ols"], 6) for j in jobs
               if "reference" in j.metrics}
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
    ax.set(xlabel="epoch", ylabel="full-data MSE (log scale)",
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
    flatten all the others); plain tick labels within two decades. Returns the top."""
    from matplotlib.ticker import ScalarFormatter

    low, high = min(values) / 1.2, min(max(values), 5 * typical) * 1.5
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    if high / low < 100:  # 200, not 2 x 10^2
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
    return high


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


def split_override(override: str) -> tuple[str, str | None]:
    """`+optimizer.lr=0.1` -> ("optimizer.lr", "0.1"); `~seed` -> ("seed", None)."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value if _ else None


def _num(job: Job) -> tuple:
    return (job.num is None, job.num or 0, str(job.folder))


def _common_root(jobs: list[Job]) -> Path:
    parents = {job.folder.resolve().parent for job in jobs}
    return Path(os.path.commonpath(list(parents))) if parents else Path(".")


def _yaml(path: Path) -> Any:
    import yaml  # PyYAML comes with OmegaConf

    try:
        return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        return None


def _flatten(node: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in node.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _vector(values: list | None) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else json.dumps(values)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _colours(n: int) -> list:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    return [colormaps["viridis"](i / (n - 1)) for i in range(n)]


if __name__ == "__main__":
    main()
