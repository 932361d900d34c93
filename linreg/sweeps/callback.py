"""Sweeps (`linreg -m ...`): the Hydra callback around the jobs, a failed job kept as a
result, and a summary of the whole sweep when it ends.

Hydra runs the jobs: the basic launcher one after another in this process; joblib, submitit
and optuna's trials possibly in other processes, which drop return values. So everything goes
through the sweep folder:
- `SweepSummary`, a Hydra callback (hydra.callbacks in conf/config.yaml), writes sweep.json
  (sweeps/plan.py) before the first job, and after the last reads every job's metrics.json
  back, writes summary.csv and summary.png and prints the ranking (sweeps/compare.py); if any
  job failed, `raise_if_jobs_failed` (called by cli.py once Hydra returns: Hydra turns an
  exception in a callback into a warning) ends the command with one line;
- job folders are named by their swept values (sweeps/folders.py, the `linreg_job` resolver
  registered here);
- `record_failure` and `objective` serve the task function in cli.py.
The sweep's process state is `SWEEP`, reset for each command (process/state.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from linreg.errors import ConfigError, Fatal, LinregError, unwritable_folder
from linreg.outputs import LEDGER, SWEEP_FILES, outputs_in, refusal, written_whole
from linreg.process.console import say
from linreg.process.state import kept
from linreg.process.stopping import AFTER_STOP_S, STOP
from linreg.records import event_files
from linreg.records.runs import HIGHER_IS_BETTER, Job, Metric, find_runs, load
from linreg.sweeps import compare, elsewhere, folders, resume
from linreg.sweeps.plan import PLAN_FILE, read_plan, sweep_plan

log = logging.getLogger(__name__)


@dataclass
class SummaryConfig:
    """The `summary` config section: the metric a sweep is ranked by and optuna optimises."""

    rank_by: Metric = Metric.full_mse


class SweepFailed(LinregError):
    """Some jobs of a sweep failed; the others ran and are summarised."""

    exit_status = 1  # not 2: the command line was fine, some jobs were not


def in_sweep() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def record_failure(run_dir: Path, exc: Exception, started: float) -> str:
    """Record a job that raised as status "failed" with its one-line reason; the sweep goes on.

    Returns "job failed: <reason>", the job's return value: not a number, so optuna counts the
    trial as failed and logs the reason."""
    from linreg.records import metrics

    if not isinstance(exc, LinregError):  # a bug, not bad input: keep the traceback in train.log
        log.debug("the job raised", exc_info=exc)
    record = metrics.failure(exc, time.perf_counter() - started)
    # a job's result, as `diverged` is, on stdout and in train.log: the command's one line on
    # stderr names the failed jobs at the end (raise_if_jobs_failed)
    log.info("job failed: %s", record["error"])
    metrics.write(run_dir, record)
    return f"job failed: {record['error']}"


def objective(result: dict[str, Any], metric: Metric) -> float:
    """The number optuna optimises; a diverged run gets the worst value there is."""
    value = Job(Path(), result).metric(metric.name)
    if value is None:
        return -math.inf if metric.name in HIGHER_IS_BETTER else math.inf
    return value


@dataclass
class SweepState:
    """What this process knows of its sweeps."""

    started: list[Path] = field(default_factory=list)  # sweep folders made, for `discard_empty`
    failure: LinregError | None = None  # set when the sweep ends with failed jobs
    running: DictConfig | None = None  # the sweep under way, for `summarise_so_far`
    resuming: bool = False  # its folder holds an earlier run of it (sweeps/resume.py)
    reused: int = 0  # jobs whose earlier results it keeps
    told: int = 0  # job processes told of a stop (sweeps/elsewhere.py)

    def reset(self) -> None:
        self.started.clear()
        self.failure = self.running = None
        self.resuming, self.reused, self.told = False, 0, 0


SWEEP = kept(SweepState())


class SweepSummary(Callback):
    """Plan before the first job, summary after the last (the basic launcher and all others)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        SWEEP.failure = None  # a sweep before this one, in this process, is not ours
        SWEEP.resuming, SWEEP.reused = False, 0
        sweep_dir = LEDGER.claim(config.hydra.sweep.dir).folder
        plan = sweep_plan(config)
        if earlier := outputs_in(sweep_dir, SWEEP_FILES):
            # raised through Hydra, which turns an Exception in a callback into a warning
            if not _can_resume(config):
                raise Fatal(ConfigError(refusal(sweep_dir, earlier, "sweep", "hydra.sweep.dir")
                                        + _how_to_resume(config)))
            try:
                resume.check_same(sweep_dir, plan, earlier)
            except ConfigError as exc:
                raise Fatal(exc) from None
            SWEEP.resuming = True
        SWEEP.running = config
        elsewhere.mark()  # the job processes a launcher starts, told of a stop
        try:
            sweep_dir.mkdir(parents=True, exist_ok=True)
            SWEEP.started.append(sweep_dir)
            if not SWEEP.resuming:  # the same plan is there already: its file stays as it is
                with written_whole(sweep_dir / PLAN_FILE) as f:
                    f.write(json.dumps(plan, indent=2) + "\n")
        except OSError as exc:  # a folder that cannot be made, a full disk
            raise Fatal(unwritable_folder(exc, "hydra.sweep.dir", folder=sweep_dir)) from None

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """The summary; a failure to write it (a full disk) ends the command with one line,
        not with Hydra's warning."""
        try:
            self._summarise(config)
        except Exception as exc:
            SWEEP.running = None
            sweep_dir = Path(config.hydra.sweep.dir).resolve()
            SWEEP.failure = unwritable_folder(exc, "hydra.sweep.dir", folder=sweep_dir)
            if SWEEP.failure is None:
                raise

    def _summarise(self, config: DictConfig) -> None:
        from linreg.figures import drawing

        drawing.finish()  # the last jobs' figures, and so their metrics.json
        sweep_dir = Path(config.hydra.sweep.dir).resolve()
        metric = config.summary.rank_by
        metric = metric.name if isinstance(metric, Metric) else str(metric)
        jobs = [load(folder) for folder in find_runs([sweep_dir])]
        say(compare.summarise(jobs, sweep_dir, metric, read_plan(sweep_dir).get("swept", [])))
        event_files.log_sweep_figures(sweep_dir)  # the same PNG bytes, in TensorBoard
        if SWEEP.resuming:
            say(f"resumed: {SWEEP.reused} of {len(jobs)} jobs reused from earlier runs of "
                f"this sweep, {len(jobs) - SWEEP.reused} run now")
        say(f"summary: {sweep_dir / compare.CSV_FILE}, {sweep_dir / compare.PNG_FILE}")
        failed = sorted((job for job in jobs if job.status == "failed"), key=lambda j: j.num)
        if failed:
            first = failed[0]
            SWEEP.failure = SweepFailed(
                f"{len(failed)} of {len(jobs)} jobs failed (first: job {first.num}, "
                f"{' '.join(first.overrides)}: {first.metrics.get('error')}); "
                f"see {sweep_dir / compare.CSV_FILE}")
        SWEEP.running = None


def _can_resume(config: DictConfig) -> bool:
    """linreg's sweeper resumes a sweep; optuna's search resumes from its storage only."""
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if sweeper.endswith("ComposeOnceSweeper"):
        return True
    return "optuna" in sweeper and bool(OmegaConf.select(config, "hydra.sweeper.storage"))


def _how_to_resume(config: DictConfig) -> str:
    sweeper = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
    if "optuna" in sweeper:
        return (" (an optuna search continues only from its storage, e.g. "
                "hydra.sweeper.storage=sqlite:///<sweep folder>/optuna.db)")
    return ""


def summarise_so_far() -> Path | None:
    """After Ctrl-C or SIGTERM ended a sweep early (Hydra then skips on_multirun_end): the
    summary of the jobs run so far. Returns the sweep folder, or None if no sweep was under
    way or no job in it recorded anything (its folder is then removed)."""
    config = SWEEP.running
    if config is None:
        return None
    discard_empty()
    if not Path(config.hydra.sweep.dir).is_dir():
        return None
    SweepSummary().on_multirun_end(config)
    return Path(config.hydra.sweep.dir).resolve()


def stop_jobs_elsewhere(signum: int) -> None:
    """After a signal (cli.py), in the sweep's process: the stop recorded; the jobs running in
    other processes told, and given part of the stop's time to record their results
    (sweeps/elsewhere.py)."""
    STOP.ask(signum)
    if (config := SWEEP.running) is not None:
        SWEEP.told = elsewhere.stop_jobs(signum, Path(config.hydra.sweep.dir).resolve(),
                                         STOP.left(elsewhere.WAIT_S) or 0.0)


def stop_job_elsewhere(signum: int) -> None:
    """cli.py's signal handler, in a job's own process (a joblib worker, a submitit job): the
    first signal stops the run, leaving no time for figures after it (the sweep waits for
    metrics.json); a second, the sweep passing on a Ctrl-C the job already had, changes
    nothing: the job ends with its parent (sweeps/watchdog.py)."""
    if STOP.signum is not None:
        return
    try:
        STOP.ask(signum)  # raises inside training
    finally:
        STOP.at = (STOP.at or 0.0) - AFTER_STOP_S


def leave_now(status: int) -> None:
    """End this process at once, the summary written: the jobs it told have recorded their
    stop, and waiting on joblib's or submitit's clean-up would outlast the stop's time."""
    from linreg.figures import drawing

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    drawing.stop(wait=False)
    os._exit(status)


def raise_if_jobs_failed() -> None:
    if SWEEP.failure is not None:
        raise SWEEP.failure


def discard_empty() -> None:
    """Remove what this process made for sweeps that no job reached (the sweep stopped on bad
    input): the folder if it made it, else only its plan files (linreg/outputs.py)."""
    for sweep_dir in SWEEP.started:
        claim = LEDGER.claims.get(sweep_dir)
        before = claim.before if claim is not None else frozenset()
        made = [p.name for p in sweep_dir.iterdir() if p.name not in before] \
            if sweep_dir.is_dir() else []
        if all(name in SWEEP_FILES for name in made):
            LEDGER.discard(sweep_dir)


def _direction(metric: Any) -> str:
    """optuna's direction for a metric: `linreg_direction` in conf/hydra/sweeper/sgd_search.yaml."""
    name = metric.name if isinstance(metric, Metric) else str(metric)
    return "maximize" if name in HIGHER_IS_BETTER else "minimize"


for _name, _resolver in (("linreg_job", folders.job_folder), ("linreg_direction", _direction)):
    if not OmegaConf.has_resolver(_name):
        OmegaConf.register_new_resolver(_name, _resolver)
