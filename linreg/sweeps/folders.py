"""A sweep job's folder name, `3_lr=0.1_batch_size=8`: the `linreg_job` resolver behind
hydra.sweep.subdir (conf/config.yaml), registered by sweeps/callback.py. No commas or
colons, which `tensorboard --logdir` would parse.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from linreg.keys import short_names, split_override
from linreg.sweeps.plan import read_plan

NAME_LIMIT = 120  # characters of a job folder's name; the job number first keeps it unique


def job_folder(sweep_dir: str, num: int, overrides: list[str]) -> str:
    """`3_lr=0.1_batch_size=8`: the job number (zero-padded when the job count is known, so
    the folders sort), then the swept values, with short keys; every override if the plan is
    unknown."""
    plan = read_plan(Path(sweep_dir))
    pairs = [split_override(o) for o in overrides]
    if "swept" in plan:
        pairs = [(key, value) for key, value in pairs if key in plan["swept"]]
    names = short_names([key for key, _ in pairs])
    width = len(str(plan["jobs"] - 1)) if plan.get("jobs") else 1
    parts = [f"{int(num):0{width}d}", *(f"{_safe(names[k])}={_safe(v)}" for k, v in pairs)]
    return "_".join(parts)[:NAME_LIMIT]


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
