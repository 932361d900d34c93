"""linreg from Python and in a notebook: the command's overrides, as arguments.

    import linreg
    result = linreg.run("optimizer.lr=0.1", "train.epochs=20")
    result.metrics["loss"]["full_mse"]      # metrics.json, as a dict
    result.history["full_mse"]              # one number per epoch
    result.run_dir                          # the same folder the command writes
    result                                  # in Jupyter: a short table and the figures
    linreg.run("optimizer.lr=0.1", save=False)   # in memory: writes nothing
    cfg = linreg.compose("optimizer=torch_sgd")  # composed and validated, not run
    runs = linreg.sweep("optimizer.lr=0.01,0.1", "seed=0,1")   # as `linreg -m ...`

A bad value raises linreg.LinregError carrying the one line the command prints. Each call
starts from a clean process state (reset_process_state) and leaves no Hydra state behind,
so many calls in one kernel give the command's numbers for the same overrides.
"""

from __future__ import annotations

import base64
import copy
import csv
import html
import logging
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from linreg.errors import Fatal, LinregError, one_line
from linreg.outputs import LEDGER, LOG_FILE, METRICS_FILE, outputs_in, refusal, written_whole

FIGURES = ("fit.png", "loss.png", "trajectory.png")
TABLE_KEYS = ("status", "epochs_run", "w", "b", "loss.full_mse", "reference.mse_ols", "r2")


@dataclass
class Result:
    """One run: its metrics.json as a dict, its folder (None in memory) and its figures."""

    metrics: dict[str, Any]
    run_dir: Path | None = None
    png: dict[str, bytes] = field(default_factory=dict)  # in memory; else read from run_dir

    @property
    def history(self) -> dict[str, list]:
        return self.metrics.get("history", {})

    @property
    def figures(self) -> dict[str, bytes]:
        """{file name: PNG bytes}, drawn once by the run and read back, never redrawn."""
        if self.png or self.run_dir is None:
            return self.png
        return {name: (self.run_dir / name).read_bytes() for name in FIGURES
                if (self.run_dir / name).exists()}

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{key}</th><td>{html.escape(_text(_get(self.metrics, key)))}"
                       f"</td></tr>" for key in TABLE_KEYS)
        where = html.escape(str(self.run_dir)) if self.run_dir else "in memory"
        images = "".join(_img(data, name, "max-width:32%") for name, data in self.figures.items())
        return f"<table>{rows}<tr><th>run</th><td>{where}</td></tr></table><div>{images}</div>"

    def __repr__(self) -> str:
        return (f"Result(status={self.metrics.get('status')!r}, full_mse="
                f"{_get(self.metrics, 'loss.full_mse')!r}, run_dir={self.run_dir})")


@dataclass
class Sweep:
    """A sweep: every job's result, in job order, and summary.csv's rows."""

    jobs: list[Result]
    table: list[dict[str, str]]
    sweep_dir: Path

    def _repr_html_(self) -> str:
        keys = list(self.table[0]) if self.table else []
        head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(row[k])}</td>" for k in keys)
                       + "</tr>" for row in self.table)
        summary = self.sweep_dir / "summary.png"
        image = _img(summary.read_bytes(), "summary.png") if summary.exists() else ""
        return f"<table><tr>{head}</tr>{body}</table>{image}"


def compose(*overrides: str) -> DictConfig:
    """The config the command would run for these overrides, validated, with its `hydra`
    node (hydra.run.dir, ...); raises LinregError with the command's one line."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module

    from linreg.config import validate

    if (cfg := _COMPOSED.get(overrides)) is None:
        try:
            with initialize_config_module(config_module="linreg.conf", version_base="1.3"):
                cfg = hydra_compose("config", overrides=list(overrides),
                                    return_hydra_config=True)
            validate(task_config(cfg))
        except LinregError:
            raise
        except Exception as exc:  # Hydra's and OmegaConf's errors, as the command says them
            raise LinregError(one_line(exc)) from exc
        _COMPOSED[overrides] = cfg
    cfg = copy.deepcopy(cfg)
    OmegaConf.clear_cache(cfg)  # ${now:} again: a folder of its own for each run
    return cfg


# Composing takes about 0.1 s, longer than the default run's training: a kernel that runs the
# same overrides again gets a copy of the first composition (the YAML files are the package's
# own, so they do not change under it).
_COMPOSED: dict[tuple[str, ...], DictConfig] = {}


def task_config(cfg: DictConfig) -> DictConfig:
    """`cfg` without its `hydra` node: what a run is given."""
    task = cfg.copy()
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    return task


def run(*overrides: str, save: bool = True) -> Result:
    """Run as `linreg *overrides` does, into the same folder layout (relative to the working
    directory); `save=False` writes nothing and keeps the figures in memory."""
    from linreg.figures import drawing
    from linreg.process.state import reset
    from linreg.runner import run as run_config

    reset()
    cfg = compose(*overrides)
    task = task_config(cfg)
    drawing.start()  # once: figures drawn beside the run, by a warm process
    if not save:
        png: dict[str, bytes] = {}
        return Result(run_config(task, None, quiet=True, png=png), None, png)
    claim = LEDGER.claim(OmegaConf.select(cfg, "hydra.run.dir"))
    folder = claim.folder
    if found := outputs_in(folder):
        raise LinregError(refusal(folder, found, "run", "hydra.run.dir"))
    try:
        (folder / ".hydra").mkdir(parents=True, exist_ok=True)
        for name, node in (("config.yaml", task), ("overrides.yaml", list(overrides))):
            with written_whole(folder / ".hydra" / name) as f:
                OmegaConf.save(OmegaConf.create(node), f)
        with _train_log(folder):
            metrics = run_config(task, folder, quiet=True)
    except BaseException:
        if not (folder / METRICS_FILE).exists():
            LEDGER.discard(folder)  # no result: nothing of it stays, as with the command
        raise
    return Result(metrics, folder)


def sweep(*overrides: str) -> Sweep:
    """Run as `linreg -m *overrides` does; every job's result and summary.csv's rows. A job
    that fails is a result (status failed), as in the command."""
    import os

    from hydra.core.global_hydra import GlobalHydra

    from linreg.cli import run_hydra
    from linreg.process.state import reset
    from linreg.records import runs

    reset()
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra's errors raised to us, as in the command
    # the folder, fixed here: the sweep is found by it afterwards
    given = [o.split("=", 1)[1] for o in overrides if o.startswith("hydra.sweep.dir=")]
    default = given[-1] if given else OmegaConf.select(compose(), "hydra.sweep.dir")
    sweep_dir = Path(default).resolve()
    argv = sys.argv
    # a notebook's cell shows the ranking, not every job's log lines (train.log has them)
    quiet = [f"++hydra.{part}_logging.handlers.console.level=WARNING" for part in ("job", "hydra")]
    sys.argv = ["linreg", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}", *quiet]
    try:
        with _restored_logging():
            run_hydra()
    except Fatal as exc:  # refused before any work, or a full disk
        raise exc.error from None
    except LinregError:
        raise
    except Exception as exc:
        raise LinregError(one_line(exc)) from exc
    finally:
        sys.argv = argv
        GlobalHydra.instance().clear()
    jobs = [Result(runs.load(folder).metrics, folder) for folder in runs.find_runs([sweep_dir])]
    with open(sweep_dir / "summary.csv", newline="") as f:
        table = list(csv.DictReader(f))
    return Sweep(jobs, table, sweep_dir)


@contextmanager
def _train_log(folder: Path):
    """train.log in the run's folder, as the command's job logging writes it."""
    handler = logging.FileHandler(folder / LOG_FILE)
    handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s][%(levelname)s] %(message)s"))
    logger = logging.getLogger("linreg")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


@contextmanager
def _restored_logging():
    """Hydra configures logging for its jobs; a kernel's own logging comes back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def _img(png: bytes, name: str, style: str = "") -> str:
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{name}" '
            f'style="{style}">')


def _get(metrics: dict, dotted: str) -> Any:
    value: Any = metrics
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return "null" if value is None else str(value)
