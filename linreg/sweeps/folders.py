"""Run folders named by what they changed: a sweep job's `3_lr=0.1_batch_size=8` (the
`linreg_job` resolver behind hydra.sweep.subdir in conf/config.yaml, registered by
sweeps/callback.py), and a single run's `..._lr=0.1_loss=huber` (`linreg_run`, at the end of
hydra.run.dir, registered by config.py). One rule for both (`changed`): short keys, and no
commas or colons, which `tensorboard --logdir` would parse.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from linreg.keys import short_names, split_override
from linreg.sweeps.plan import read_plan

NAME_LIMIT = 120  # characters of a job folder's name; the job number first keeps it unique
RUN_END_LIMIT = 90  # of a single run's, after its time and process id (about 30)


def job_folder(sweep_dir: str, num: int, overrides: list[str]) -> str:
    """`3_lr=0.1_batch_size=8`: the job number (zero-padded when the job count is known, so
    the folders sort), then the swept values, with short keys; every override if the plan is
    unknown."""
    plan = read_plan(Path(sweep_dir))
    width = len(str(plan["jobs"] - 1)) if plan.get("jobs") else 1
    return "_".join([f"{int(num):0{width}d}", *changed(overrides, plan.get("swept"))])[:NAME_LIMIT]


def run_folder_end(overrides: list[str]) -> str:
    """`_lr=0.1_loss=huber`, what a single run's folder name ends in: every override (the
    seed too); "" for a run of the defaults."""
    return "".join(f"_{part}" for part in changed(overrides))[:RUN_END_LIMIT]


def changed(overrides: list[str], keys: list[str] | None = None) -> list[str]:
    """["lr=0.1", "loss=huber"]: the overrides (only those of `keys`, if given), with short
    keys and values safe in a folder name."""
    pairs = [split_override(o) for o in overrides]
    if keys is not None:
        pairs = [(key, value) for key, value in pairs if key in keys]
    names = short_names([key for key, _ in pairs])
    return [f"{_safe(names[k])}={_safe(v)}" for k, v in pairs]


def _safe(value: str | None) -> str:
    """A value as a folder-name part: letters, digits and . _ + - only; long floats shortened."""
    if value is None:  # ~key removes a key
        return "removed"
    try:
        number = float(value)
        if len(value) > 8 and math.isfinite(number) and number != int(number):
            value = f"{number:.4g}"
    except ValueError:
        pass
    return re.sub(r"[^A-Za-z0-9._+-]", "-", value)
