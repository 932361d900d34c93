"""sweep.json, the sweep's plan: which keys are swept and how many jobs, written before the
first job (sweeps/callback.py) and read to name job folders (sweeps/folders.py) and to
summarise the sweep.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from linreg.outputs import SWEEP_FILES

PLAN_FILE = SWEEP_FILES[0]


def sweep_plan(config: DictConfig) -> dict[str, Any]:
    """The swept keys (from the command line and hydra.sweeper.params) and the number of jobs
    (None when the sweeper decides it as it goes)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params = OmegaConf.select(config, "hydra.sweeper.params") or {}
    args = [f"{key}={value}" for key, value in params.items()]
    args += list(config.hydra.overrides.task)
    sizes: dict[str, int | None] = {}
    for override in OverridesParser.create().parse_overrides(args):
        if override.is_sweep_override():
            try:
                sizes[override.key_or_group] = len(list(override.sweep_string_iterator()))
            except Exception:  # interval() and glob() have no size of their own
                sizes[override.key_or_group] = None
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    jobs = None
    if sweeper.endswith(("BasicSweeper", "ComposeOnceSweeper")) and None not in sizes.values():
        jobs = math.prod(sizes.values())
    elif "optuna" in sweeper:
        jobs = OmegaConf.select(config, "hydra.sweeper.n_trials")
    return {"swept": list(sizes), "jobs": jobs, "command_line": args}


def read_plan(sweep_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((sweep_dir / PLAN_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
