"""A sweep in TensorBoard, beyond each job's own events file (records/events.py): the sweep's
experiment, written before its first job, and a failed job's session; cli.py calls these
for each job, in the job's process (with joblib or submitit, a worker).

The experiment goes into the sweep's own run (`SWEEP_RUN`, beside the jobs; its summary
figures join it at the end, sweeps/callback.py): every column with its type, the swept keys
first with their values (records/hparams.py). It needs the schema (config.py) and the plan
(sweeps/plan.py), hence this module, above both.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from linreg.config import GROUPS, RunConfig
from linreg.keys import flatten
from linreg.outputs import EVENTS_PREFIX, SWEEP_RUN
from linreg.records import event_files, hparams
from linreg.records.events import overrides_of
from linreg.sweeps.plan import read_plan

log = logging.getLogger(__name__)

EXPERIMENT = "experiment"  # the end of its events file's name


def job_started(sweep_dir: Path, rank_by: Any) -> None:
    """The sweep's experiment, if no job has written it yet (two jobs that start together in
    two workers may both write it: the same columns, each file whole)."""
    run = Path(sweep_dir) / SWEEP_RUN
    if any(run.glob(f"{EVENTS_PREFIX}*.{EXPERIMENT}")):
        return
    plan = read_plan(Path(sweep_dir))
    swept = swept_values(plan.get("command_line", []), plan.get("swept", []))
    rank_by = getattr(rank_by, "name", str(rank_by))
    summary = hparams.experiment(hparams.column_types(RunConfig, GROUPS), swept, rank_by)
    with contextlib.suppress(OSError):  # a full disk: the job itself then says so
        run.mkdir(exist_ok=True)
        event_files.write(run, [summary], 0, EXPERIMENT)


def swept_values(command_line: list[str], swept: list[str]) -> dict[str, list[str] | None]:
    """{column: its values as the command line gives them}, for each swept key (a config
    group's column is `<group>.name`); None where the sweeper picks them (optuna's
    interval())."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    values: dict[str, list[str] | None] = {}
    try:
        overrides = OverridesParser.create().parse_overrides(command_line)
    except Exception:  # Hydra parsed them once already; if not, the swept keys, unordered
        return dict.fromkeys(f"{k}.name" if k in GROUPS else k for k in swept)
    for override in overrides:
        key = override.key_or_group
        if key not in swept or not override.is_sweep_override():
            continue
        column = f"{key}.name" if key in GROUPS else key
        try:
            values[column] = [str(v) for v in override.sweep_string_iterator()]
        except Exception:  # interval() and glob() have no values of their own
            values[column] = None
    return values


def job_failed(run_dir: Path, cfg: DictConfig) -> None:
    """A job that raised (a value refused, a bug): its config and status `failed` in an
    events file of its folder, so that the HParams tab lists it, as a failure."""
    try:
        config = flatten(OmegaConf.to_container(cfg, resolve=True))
    except Exception:  # a value that cannot even be resolved: the columns stay empty
        config = {}
    types = hparams.column_types(RunConfig, GROUPS)
    group = hparams.group_name(overrides_of(run_dir))
    with contextlib.suppress(OSError):  # metrics.json records the failure all the same
        event_files.write(run_dir, [hparams.session_start(config, types, group),
                                    hparams.session_end("failed")], 0, "failed")
