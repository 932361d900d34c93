"""The `linreg` command (and `python -m linreg`): Hydra parses the overrides, `run` does the work.

Bad input ends with one line on stderr naming the key at fault and exit status 2, with no
traceback; set LINREG_DEBUG=1 to see the traceback. In a sweep (`linreg -m ...`) a job that
raises is recorded as status "failed" and the other jobs still run; the command then ends with
one line saying how many failed, and exit status 1 (linreg/sweep.py).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from linreg import config, sweep  # noqa: F401  (config registers the schemas that conf/ names)
from linreg.errors import LinregError, one_line

log = logging.getLogger("linreg")

USAGE_ERROR = 2


def main() -> None:
    debug = os.environ.get("LINREG_DEBUG") == "1"
    # Let Hydra's own errors (unknown key, unknown option, wrong type) reach us un-printed.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    try:
        _hydra_main()
        sweep.raise_if_jobs_failed()
    except (LinregError, HydraException, OmegaConfBaseException) as exc:
        if debug:
            raise
        if not isinstance(exc, sweep.SweepFailed):
            sweep.discard_empty()  # a sweep stopped by bad input leaves no folder behind
        _fail(exc)


@hydra.main(version_base="1.3", config_path="pkg://linreg.conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> dict | float | str:
    from linreg.run import run  # after argument parsing: `linreg --help` stays quick

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    started = time.perf_counter()
    try:
        result = run(cfg, run_dir)
    except Exception as exc:
        debug = os.environ.get("LINREG_DEBUG") == "1"
        if sweep.in_sweep() and not debug:
            # one job of a sweep that raises is a result (status failed); the others still run
            return sweep.record_failure(run_dir, exc, started)
        if debug or not isinstance(exc, LinregError):
            raise
        # nothing was trained: leave no folder that looks like a result
        shutil.rmtree(run_dir, ignore_errors=True)
        _fail(exc)
    log.info("w = %s, b = %s", _fmt(result["w"]), _fmt(result["b"]))
    log.info("train loss %s, full-data MSE %s (least squares %.4f), R^2 %s",
             _fmt(result["loss"]["train"]), _fmt(result["loss"]["full_mse"]),
             result["reference"]["mse_ols"], _fmt(result["r2"]))
    log.info("status %s; run folder: %s", result["status"], run_dir.resolve())
    if sweep.in_sweep():
        return sweep.objective(result, cfg.summary.rank_by)  # what optuna optimises
    return result


def _fail(exc: BaseException) -> None:
    # a raise inside Hydra's job would be printed with "Error executing job"; exit directly
    print(f"linreg: error: {one_line(exc)}", file=sys.stderr)
    sys.exit(getattr(exc, "exit_status", USAGE_ERROR))


def _fmt(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return "nan" if value is None else f"{value:.4f}"
