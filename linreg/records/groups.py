"""Seed groups: runs whose configs differ only in `seed` (Job.group, records/runs.py), and each
group's mean, standard deviation and standard error of a metric or of a curve.

A group's numbers come from its finished runs (status ok): a diverged run has no final loss,
and one wild value would make the mean say nothing. `n` counts every run of the group, `n_ok`
the finished ones, so a group where some runs diverged says so. The standard library only:
this module is loaded by every `linreg` command (sweeps/compare.py) and by the drawing
process (figures/summary.py).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from linreg.records.runs import HIGHER_IS_BETTER, Job

# the final metrics summary_groups.csv gives the mean, sd and se of (records/runs.py Metric)
GROUP_METRICS = ("train_loss", "full_mse", "val_loss", "r2", "dist_ols", "w_error",
                 "wb_error", "wall_s")


@dataclass(frozen=True)
class Spread:
    """n values, their mean, sample standard deviation (n - 1) and standard error sd/sqrt(n);
    sd and se are None for fewer than two values, and everything is None for none."""

    n: int
    mean: float | None
    sd: float | None
    se: float | None


def spread_of(values: list[float]) -> Spread:
    if not values:
        return Spread(0, None, None, None)
    mean = math.fsum(values) / len(values)
    if len(values) < 2:
        return Spread(1, mean, None, None)
    sd = statistics.stdev(values)
    return Spread(len(values), mean, sd, sd / math.sqrt(len(values)))


@dataclass
class Group:
    """The runs of one seed group, in job order; `key` is its first run's Job.group."""

    key: str
    jobs: list[Job]

    @property
    def finished(self) -> list[Job]:
        return [job for job in self.jobs if job.status == "ok"]

    @property
    def seeds(self) -> list:
        return [job.value("seed") for job in self.jobs]

    def metric(self, name: str) -> Spread:
        return spread_of([v for job in self.finished if (v := job.metric(name)) is not None])

    def curve(self, name: str = "full_mse") -> list[tuple[int, Spread]]:
        """(epoch, Spread) of history[name] over the finished runs, for the epochs they all
        ran (a group's runs share their config but the seed, so they ran the same epochs)."""
        histories = [job.metrics.get("history", {}).get(name) or [] for job in self.finished]
        if not histories:
            return []
        epochs = min(map(len, histories))
        return [(i + 1, spread_of([h[i] for h in histories if h[i] is not None
                                   and math.isfinite(h[i])])) for i in range(epochs)]


def groups_of(jobs: list[Job]) -> list[Group]:
    """The seed groups of `jobs`, in the order of their first run."""
    by_key: dict[str, Group] = {}
    for job in jobs:
        by_key.setdefault(job.same_but_seed, Group(job.group, [])).jobs.append(job)
    return list(by_key.values())


def has_repeats(groups: list[Group]) -> bool:
    """Whether any group holds runs of more than one seed: only then is there a spread to
    show. The same config run twice (a sweep's job and a single run, compared) is a repeat of
    one number, not a spread: each run is then listed on its own."""
    return any(len({repr(s) for s in group.seeds}) > 1 for group in groups)


def rank_groups(groups: list[Group], metric: str) -> list[Group]:
    """Best first: groups whose runs all finished by their mean `metric`, then groups with a
    diverged or failed run by theirs, then groups without a value."""
    sign = -1 if metric in HIGHER_IS_BETTER else 1

    def key(group: Group) -> tuple:
        mean = group.metric(metric).mean
        return (len(group.finished) < len(group.jobs), mean is None,
                sign * mean if mean is not None else 0.0)

    return sorted(groups, key=key)
