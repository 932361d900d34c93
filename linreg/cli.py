"""The `linreg` command (and `python -m linreg`): Hydra parses the overrides, `run` does the work.

Bad input, or an output folder that cannot be written: one line on stderr naming the key or
folder, exit status 2, no traceback (LINREG_DEBUG=1 shows it). A sweep's job that raises is
recorded as "failed", the others run, and the command ends with one line and exit status 1.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops training where it is; the run records what it has
(status "interrupted"), and the command ends with one line and exit status 130, 143 or 129,
within two seconds (process/stopping.py). A sweep tells its jobs in other processes, starts no
further job and summarises the jobs run so far. A second signal while the results are being
written leaves at once; one while linreg is still starting, too (nothing is recorded yet).
Bad input or a fault removes only what this process made (linreg/outputs.py).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from linreg.errors import Fatal, Interrupted, LinregError, one_line, unwritable_folder
from linreg.outputs import LEDGER, METRICS_FILE, TMP_PREFIX
from linreg.process import state
from linreg.process.stopping import STOP

if TYPE_CHECKING:
    from omegaconf import DictConfig

log = logging.getLogger("linreg")

USAGE_ERROR = 2

# Hydra's flags that print and exit without running anything
HELP_FLAGS = {"--help", "-h", "--hydra-help", "--cfg", "-c", "--info", "-i", "--shell-completion",
              "-sc", "--version"}

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # each a stop (process/stopping.py)


@dataclass
class Command:
    """What the signal handler and the error paths need to know about this command."""

    run_dir: Path | None = None  # the run (or sweep job) under way, once its task has begun

    def reset(self) -> None:
        self.run_dir = None


COMMAND = state.kept(Command())  # reset for each command (process/state.py)

# flags that need conf/'s files but not the schemas' types: stand-ins spare torch's import
LIGHT_FLAGS = {"-sc", "--shell-completion", "--help", "-h"}


def main() -> None:
    # first: the imports below take seconds, Hydra's included (this module imports none)
    previous = _catch_signals()
    if "--version" in sys.argv[1:]:  # before Hydra parses, without importing torch or Hydra
        print(version())
        return
    debug = os.environ.get("LINREG_DEBUG") == "1"
    # Hydra's own errors (unknown key, unknown option, wrong type) reach us un-printed,
    # whatever the user's environment says (with HYDRA_FULL_ERROR=0 Hydra prints them itself)
    os.environ["HYDRA_FULL_ERROR"] = "1"
    # a console that is gone, or a full disk under train.log, is not worth a page of
    # "--- Logging error ---" per line: the run goes on, and its results say what failed
    logging.raiseExceptions = False
    # At exit Python collects garbage over every object torch made (about 0.5 s): frozen,
    # they are left to the operating system, which frees the memory at once.
    atexit.register(gc.freeze)
    if not HELP_FLAGS.intersection(sys.argv[1:]):
        from linreg.figures import drawing

        drawing.start()  # it imports matplotlib while this process imports torch
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError  # a config file that does not parse: one line too

    if LIGHT_FLAGS.intersection(sys.argv[1:]):  # each TAB: no torch, no drawing
        from linreg import conf_tree

        conf_tree.stand_in_schemas()
        run_hydra()
        return
    from linreg import config  # noqa: F401  (config registers the schemas)
    from linreg.sweeps import callback as sweep

    state.reset()  # a stop, claims or a sweep of an earlier call in this process are not ours
    try:
        run_hydra()
        if STOP.signum is not None:  # it came while a sweep's summary was being written
            raise Interrupted(STOP.signum)
        sweep.raise_if_jobs_failed()
    except Fatal as exc:  # from a callback: refused before any work
        _discard_unfinished()
        _fail(exc.error)
    except KeyboardInterrupt as exc:  # a signal (errors.Interrupted), or Ctrl-C before ours
        if debug:
            raise
        _stop(exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT))
    except (LinregError, HydraException, OmegaConfBaseException, YAMLError) as exc:
        if debug:
            raise
        _discard_unfinished()  # a sweep stopped by bad input leaves no folder behind
        _fail(exc)
    except Exception as exc:
        # Hydra could not make the run folder, a file in it could not be written, a full disk
        multirun = any(arg in ("-m", "--multirun") for arg in sys.argv[1:])
        error = unwritable_folder(exc, "hydra.sweep.dir" if multirun else "hydra.run.dir",
                                  folder=COMMAND.run_dir or LEDGER.run_folder)
        if debug or error is None:
            raise
        _discard_unfinished()  # nothing half-written stays
        _fail(error)
    for signum, handler in previous.items():  # for a caller in this process
        signal.signal(signum, handler)


def version() -> str:
    """`linreg --version`: linreg's, torch's and Hydra's, from the installed metadata."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    def of(name: str) -> str:
        try:
            return installed(name)
        except PackageNotFoundError:
            return "not installed"

    return f"linreg {of('linreg')} (torch {of('torch')}, Hydra {of('hydra-core')})"


def run_hydra() -> None:
    """Hydra parses sys.argv and calls `_task`, once or for each job of a sweep."""
    import hydra

    hydra.main(version_base="1.3", config_path="pkg://linreg.conf",
               config_name="config")(_task)()


def _task(cfg: DictConfig) -> dict | float | str:
    """One run, or one job of a sweep: what hydra.main calls with the composed config."""
    from hydra.core.hydra_config import HydraConfig

    from linreg import board
    from linreg.runner import report, run  # after parsing: `linreg --help` stays quick
    from linreg.sweeps import callback as sweep
    from linreg.sweeps import scheduler, watchdog

    watchdog.watch_parent()  # a joblib worker ends soon after the command that started it
    scheduler.catch_signals(_on_signal)  # a submitit job: SIGTERM stops it as it stops linreg
    hydra_cfg = HydraConfig.get()
    run_dir = COMMAND.run_dir = Path(hydra_cfg.runtime.output_dir)
    if (swept := hydra_cfg.sweeper.get("params")) and not sweep.in_sweep():  # a preset that sweeps
        log.warning("this config sweeps %s: add -m to run every job; running one job with "
                    "the base settings", ", ".join(swept))
    if elsewhere := sweep.in_sweep() and sweep.SWEEP.running is None:  # joblib's, submitit's
        _catch_signals()  # jobs: stopped as a run is, the result says so (sweeps/elsewhere.py)
    if sweep.in_sweep():
        LEDGER.claim_job(run_dir)
        board.job_started(Path(hydra_cfg.sweep.dir), cfg.summary.rank_by)  # TensorBoard's
    started = time.perf_counter()
    try:
        # a sweep's job leaves its figures to be drawn while the next job runs
        result = run(cfg, run_dir, quiet=sweep.in_sweep(), wait=not sweep.in_sweep())
    except Exception as exc:
        if os.environ.get("LINREG_DEBUG") == "1":
            raise
        key = "hydra.sweep.dir" if sweep.in_sweep() else "hydra.run.dir"
        unwritable = unwritable_folder(exc, key, folder=run_dir)  # a full disk, say
        if sweep.in_sweep():
            if unwritable is not None:  # every later job would fail too
                LEDGER.discard(run_dir)
                raise Fatal(unwritable) from None
            # one job of a sweep that raises is a result (status failed); the others still run
            board.job_failed(run_dir, cfg)
            return sweep.record_failure(run_dir, exc, started)
        if unwritable is None and not isinstance(exc, LinregError):
            raise
        # nothing was recorded: leave no folder that looks like a result, nor half of one
        LEDGER.discard(run_dir)
        _fail(unwritable or exc)
    if STOP.signum is not None and not elsewhere:  # results written: stop, and the sweep
        raise Interrupted(STOP.signum)
    if STOP.signum is not None and scheduler.in_job() and (  # a cancelled Slurm job: failed
            cancelled := scheduler.stopped(run_dir, STOP.signum)):
        return cancelled
    report(result, run_dir)
    if sweep.in_sweep():
        return sweep.objective(result, cfg.summary.rank_by)  # what optuna optimises
    return result


def _catch_signals() -> dict:
    """Send Ctrl-C, SIGTERM and SIGHUP to `_on_signal`; returns the handlers they had."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set handlers, and only it runs them
    previous = {}
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # `nohup` or `&` ignore some
            previous[signum] = signal.signal(signum, _on_signal)
    return previous


def _on_signal(signum: int, frame) -> None:
    """The first signal stops the run (STOP.ask raises errors.Interrupted inside training or
    reading data; elsewhere the run notices it and writes its results within the stop's time).
    Before any run began, or a second time, leave at once with one line: os._exit, because an
    exception could land in an import under way and break it (torch's, matplotlib's)."""
    sweep = sys.modules.get("linreg.sweeps.callback")
    again = STOP.signum is not None
    if sweep is not None and sweep.in_sweep() and sweep.SWEEP.running is None:
        return sweep.stop_job_elsewhere(signum)  # a job in a process of its own
    if not again:
        if COMMAND.run_dir is not None:
            STOP.ask(signum)
            return
        if sweep is not None and sweep.SWEEP.running is not None:  # jobs elsewhere (joblib,
            sweep.stop_jobs_elsewhere(signum)  # submitit): told, given time, not waited for
            raise Interrupted(signum)
    name = signal.Signals(signum).name
    _say(f"linreg: interrupted {'again ' if again else ''}by {name}: stopped at once; "
         f"{_where()}")
    # os._exit runs no atexit handler; the module may be half imported, with no process yet
    if (stop := getattr(sys.modules.get("linreg.figures.drawing"), "stop", None)) is not None:
        stop(wait=False)
    os._exit(128 + signum)


def _stop(stop: Interrupted) -> None:
    """After a signal: the run (or the sweep's jobs so far) recorded, one line."""
    from linreg.sweeps import callback as sweep

    sweep_dir = sweep.summarise_so_far()
    if sweep_dir is None and COMMAND.run_dir is not None \
            and not (COMMAND.run_dir / METRICS_FILE).exists():
        _discard_unfinished()  # stopped before training began: nothing to keep
    what = (f"the sweep stopped; summary of the jobs run so far in {sweep_dir}"
            if sweep_dir is not None else _where())
    _say(f"linreg: interrupted by {stop.signal_name}: {what}")
    if sweep.SWEEP.told:  # not a minute of joblib's or submitit's clean-up (sweeps/elsewhere.py)
        sweep.leave_now(stop.exit_status)
    sys.exit(stop.exit_status)


def _where() -> str:
    """What the run under way has recorded, and where."""
    folder = COMMAND.run_dir
    if folder is None or not folder.exists():
        return "nothing was recorded"
    for tmp in folder.glob(f"{TMP_PREFIX}*"):  # files cut short by os._exit
        tmp.unlink(missing_ok=True)
    try:
        result = json.loads((folder / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return f"{folder} is incomplete (no metrics.json)"
    return (f"stopped after {result['epochs_run']} epochs (status {result['status']}); "
            f"results in {folder}")


def _discard_unfinished() -> None:
    """Remove what this process made that holds no result: a single run's folder without
    metrics.json, sweep folders that no job reached (linreg/outputs.py)."""
    sweep = sys.modules.get("linreg.sweeps.callback")
    if sweep is not None:
        sweep.discard_empty()
    folder = LEDGER.run_folder
    if folder is not None and not (folder / METRICS_FILE).exists():
        LEDGER.discard(folder)


def _say(line: str) -> None:
    """Print one line on stderr; a closed terminal (SIGHUP) is not an error of its own."""
    with contextlib.suppress(OSError):
        print(line, file=sys.stderr, flush=True)


def _fail(exc: BaseException) -> None:
    # a raise inside Hydra's job would be printed with "Error executing job"; exit directly
    _say(f"linreg: error: {one_line(exc)}")
    sys.exit(getattr(exc, "exit_status", USAGE_ERROR))
