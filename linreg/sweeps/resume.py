"""Resume: the same sweep run again into its folder continues it (README, "Resuming a sweep").

`linreg -m <same values> hydra.sweep.dir=<that folder>`:
- the folder's sweep.json must hold the same plan (swept keys, job count, command line): a
  different sweep is refused (`check_same`), as any folder holding a sweep was before;
- every job is looked at before any runs (`look_at`): a folder with a complete result (status
  ok or diverged) made from the same config is reused, untouched; one that failed, was
  interrupted or never finished is run again, in the same folder, under the same number,
  after what linreg wrote there is removed (`clear`; a user's own files stay); a folder whose
  recorded config differs from the job's is an error naming the job and the first key;
- the summary covers every job and says how many were reused (sweeps/callback.py).
Configs are compared as Hydra records them (.hydra/config.yaml, interpolations unresolved), so
a timestamp or a process id in a folder name never makes two configs differ.

linreg's sweeper (hydra_plugins/linreg_sweeper.py) calls `look_at` and launches only the jobs
to run, in runs of consecutive numbers: a launcher numbers a batch's jobs from its
initial_job_idx, so this works with every launcher (basic, joblib, submitit, Slurm).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from linreg.errors import ConfigError
from linreg.keys import flatten
from linreg.outputs import METRICS_FILE, RUN_FILES, outputs_in, remove
from linreg.sweeps.folders import job_folder
from linreg.sweeps.plan import read_plan

COMPLETE = ("ok", "diverged")  # statuses of a result worth keeping
DEFAULT_SUBDIR = "${linreg_job:${hydra.sweep.dir},${hydra.job.num},${hydra.overrides.task}}"


def check_same(sweep_dir: Path, plan: dict[str, Any], found: list[str]) -> None:
    """Raise ConfigError unless the sweep recorded in `sweep_dir` is the one planned now."""
    earlier = read_plan(sweep_dir)
    if not earlier:
        raise ConfigError(
            f"{sweep_dir}: already holds a linreg sweep ({', '.join(found[:3])}) without a "
            "readable sweep.json, so it cannot be continued; choose another folder with "
            "hydra.sweep.dir=...")
    if {k: earlier.get(k) for k in plan} != plan:
        raise ConfigError(
            f"{sweep_dir}: already holds a different linreg sweep "
            f"({' '.join(earlier.get('command_line', []))!r}, now "
            f"{' '.join(plan['command_line'])!r}); to continue it run the same values, or "
            "choose another folder with hydra.sweep.dir=...")


@dataclass
class Jobs:
    """What `look_at` found: job numbers to reuse and job folders to run again."""

    reused: set[int] = field(default_factory=set)
    again: dict[int, Path] = field(default_factory=dict)  # cleared just before they run


def job_dir(config: DictConfig, num: int) -> Path:
    """The folder Hydra's run_job makes for job `num` of this composed config."""
    with read_write(config), open_dict(config):  # as the launcher sets them, before run_job
        config.hydra.job.num = config.hydra.job.id = num
    subdir = OmegaConf.select(config, "hydra.sweep.subdir")
    return (Path(str(config.hydra.sweep.dir)) / str(subdir)).absolute()


def look_at(num: int, config: DictConfig, jobs: Jobs) -> None:
    """Sort job `num` (its composed config) into `jobs`; ConfigError if its folder was made
    from another config."""
    folder = job_dir(config, num)
    if not outputs_in(folder):
        return  # never started: it runs as a new job
    recorded = _yaml(folder / ".hydra" / "config.yaml")
    if recorded is not None:
        # what Hydra's run_job writes as config.yaml (its to_yaml, read back), at a fifth of
        # the time of its deep copy
        now = OmegaConf.to_container(config, resolve=False, enum_to_str=True)
        del now["hydra"]
        if key := first_difference(recorded, now):
            raise ConfigError(
                f"job {num} ({folder}): its config differs from the one recorded in "
                f"{folder.name}/.hydra/config.yaml at {key}; resume only the same sweep, "
                "or choose another folder with hydra.sweep.dir=...")
        if _status(folder) in COMPLETE:
            jobs.reused.add(num)
            return
    jobs.again[num] = folder


def never_started(master: DictConfig, num: int, overrides: list[str]) -> bool:
    """Whether job `num` surely has no folder yet, told without composing its config: only
    for the default folder names (sweeps/folders.py), which need no more than its overrides."""
    sweep = OmegaConf.to_container(master.hydra.sweep, resolve=False)
    if sweep.get("subdir") != DEFAULT_SUBDIR:
        return False
    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    name = job_folder(str(master.hydra.sweep.dir), num, task)
    return not outputs_in(Path(str(master.hydra.sweep.dir)).absolute() / name)


def first_difference(recorded: Any, now: Any) -> str | None:
    """The first key (dotted) whose value differs, or that only one of the two has."""
    if not isinstance(recorded, dict) or not isinstance(now, dict):
        return None if recorded == now else "the top level"
    old, new = flatten(recorded), flatten(now)
    for key in [*new, *(k for k in old if k not in new)]:
        if key not in old:
            return f"{key} (not in the recorded config)"
        if key not in new:
            return f"{key} (recorded, not in today's config)"
        if old[key] != new[key]:
            return f"{key} ({old[key]!r} recorded, {new[key]!r} now)"
    return None


def clear(folder: Path) -> None:
    """Remove what linreg wrote into a job folder that is run again; nothing else."""
    for name in outputs_in(folder, RUN_FILES):
        remove(folder / name)


def _status(folder: Path) -> str | None:
    try:
        return json.loads((folder / METRICS_FILE).read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return None


def _yaml(path: Path) -> Any:
    try:
        return _yaml_text(path.read_text())
    except Exception:  # unreadable, or not YAML: not a record to keep, the job runs again
        return None


def _yaml_text(text: str) -> Any:
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
