"""One run, start to end: validated config -> built parts -> training -> what is recorded.

Nothing here reads Hydra's global state: the caller passes the composed config and the folder
to write into, so tests and sweeps can call `run` directly.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from linreg import data as dataset
from linreg import exact, loss, optim
from linreg.config import GROUPS, RunConfig, validate
from linreg.data import prepare
from linreg.figures import drawing, pictures
from linreg.figures.requests import render
from linreg.figures.trajectory import TRAJECTORY_FILE
from linreg.init import initial_params
from linreg.keys import flatten
from linreg.optim import schedules
from linreg.process.state import kept
from linreg.process.stopping import STOP
from linreg.records import events, hparams, metrics
from linreg.records import path as run_path
from linreg.train import History, batches_per_epoch, train

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def run(cfg: DictConfig, run_dir: Path | None, quiet: bool = False, wait: bool = True, *,
        png: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Train the configured model and write metrics.json, events and figures into `run_dir`;
    `quiet` keeps the per-epoch lines out of the console (they still go to train.log).

    `wait=False` (a sweep's job): with a drawing process, return before the figures are
    drawn; that process writes metrics.json after them (figures/drawing.py).
    `run_dir=None` writes nothing (linreg.run(..., save=False)): the figures are drawn into
    `png` ({file name: PNG bytes}), if given."""
    start = time.perf_counter()
    settings = validate(cfg)
    # the validation split and standardization fail (bad data, too few rows) before any output;
    # a stop while a large file is read ends the run at once (nothing is recorded)
    dtype, intercept = dataset.DTYPES[settings.train.dtype], settings.model.intercept
    with STOP.interruptible():
        data = _load_data(settings.dataset, settings.train.dtype)
    # float64 to here: the split, standardization and the exact reference use the data's own
    # values; training computes in train.dtype, from these rows cast
    prepared = prepare.prepare(data, settings.train.val_fraction, settings.dataset.standardize,
                               settings.seed, settings.train.batch_size, intercept)
    data = prepared.train.cast(dtype)
    val = None if prepared.val is None else prepared.val.cast(dtype)
    steps = settings.train.epochs * batches_per_epoch(data.X.shape[0], settings.train)
    w, b = initial_params(settings.init, data.n_features, settings.seed, dtype, intercept)
    loss_fn = loss.build(settings.loss)
    params, step = [w, b] if intercept else [w], None
    if settings.model.name == "nn_linear":  # the framework way: w and b become its views
        from linreg import framework

        module = framework.linear(w, b, intercept)
        params, (w, b) = list(module.parameters()), framework.views(module)
    opt = optim.build(settings.optimizer, params, settings.train.batch_size)
    if settings.model.name == "nn_linear":
        step = framework.autograd_step(module, framework.criterion(settings.loss), opt)
    schedule = schedules.build(settings.scheduler, opt, settings.train.epochs,
                               steps // settings.train.epochs)
    decay = effective_weight_decay(settings)
    ref = _reference(prepared, settings, decay)
    exact.warn_before_training(ref, prepared, settings)
    trace = data.n_features == 1 and steps <= pictures.MAX_TRACED_STEPS

    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    event_log = (events.EventLog(run_dir, settings.train.epochs, flat_hparams(settings),
                                 hparams.column_types(RunConfig, GROUPS))
                 if run_dir else events.NO_LOG)
    with _progress(settings.train.epochs, quiet) as show:
        def on_epoch(epoch: int, history: History) -> None:
            event_log.epoch(epoch, history)
            show(epoch, history)

        history = train(data, w, b, loss_fn, opt, settings.train, settings.seed, on_epoch,
                        val=val, trace_steps=trace, intercept=intercept,
                        target_mse=ref.ols.mse, step=step, schedule=schedule)
    if history.status == "diverged":
        log.warning("diverged at epoch %d: the loss or the parameters are no longer finite "
                    "(lower optimizer.lr)", history.epochs_run)
    if history.interrupted_by:  # train.log only: the command says it in one line (cli.py)
        log.debug("interrupted by %s after %d of %d epochs; writing the results so far",
                  history.interrupted_by, history.epochs_run, settings.train.epochs)
    if val is not None and history.val_loss:
        log.info("validation loss %.4f on %d held-out rows%s", history.val_loss[history.final],
                 val.X.shape[0], f" (epoch {history.best_epoch}, the best, restored)"
                 if history.restored_best else "")
    if history.stop_reason in ("early_stopping", "tolerance"):
        log.info("stopped by %s after epoch %d of %d", history.stop_reason.replace("_", " "),
                 history.epochs_run, settings.train.epochs)
    result = metrics.build(history, data, ref, wall_s=time.perf_counter() - start,
                           val=val, weight_decay=decay, scaler=prepared.scaler,
                           intercept=intercept)
    event_log.close(history, result)  # its final metrics are metrics.json's
    figures = pictures.of_run(settings, prepared, history, ref.ols, loss_fn, ref.ridge,
                              steps_per_epoch=steps // settings.train.epochs)
    if run_dir is not None and TRAJECTORY_FILE in figures:  # for a sweep's paths.png
        run_path.write(run_dir, pictures.path_record(prepared.train, figures[TRAJECTORY_FILE]))
    if run_dir is None:
        if png is not None:
            png.update(render(figures, settings.plot.lang))
        return result
    # metrics.json last, after the figures: a complete metrics.json means a complete run
    drawing.draw(run_dir, figures, settings.plot.lang, then_write=result, wait=wait)
    return result


@dataclass
class RunCache:
    """The previous run's data and least-squares fit in this process: the basic launcher runs
    every job of a sweep here, one after another, and most sweeps keep the dataset."""

    data_key: str | None = None  # the dataset's config and its files' sizes and times
    data: dataset.Data | None = None
    # X, y, intercept and their fit (in float64, the units training sees)
    ols: tuple[torch.Tensor, torch.Tensor, bool, exact.LeastSquares] | None = None

    def reset(self) -> None:
        self.data_key = self.data = self.ols = None


CACHE = kept(RunCache())  # reset for each command (process/state.py)


def _load_data(cfg, dtype: str) -> dataset.Data:
    """dataset.load, or the previous run's data if its config and files are unchanged
    (nothing in a run writes to a Data's tensors)."""
    files = [(v, os.stat(v).st_mtime_ns, os.stat(v).st_size) for v in vars(cfg).values()
             if isinstance(v, str) and os.path.isfile(v)]
    key = repr(cfg) + dtype + repr(files)
    if CACHE.data_key != key:
        CACHE.reset()
        CACHE.data, CACHE.data_key = dataset.load(cfg, dtype), key
    return CACHE.data


def _reference(prepared: prepare.Prepared, settings: RunConfig, decay: float
               ) -> exact.Reference:
    """exact.of_run, with the previous run's least squares fit if these are the very same
    training rows and model."""
    data, intercept = prepared.train, settings.model.intercept
    X, y, same_model, fit = CACHE.ols or (None, None, None, None)
    if X is not data.X or y is not data.y or same_model != intercept:
        fit = None
    opt = settings.optimizer
    divisor = settings.train.batch_size if getattr(opt, "divide_by_batch_size", False) else 1
    ref = exact.of_run(prepared, intercept, decay, opt, settings.loss.name, divisor, ols=fit)
    CACHE.ols = data.X, data.y, intercept, ref.ols
    return ref


def effective_weight_decay(settings: RunConfig) -> float:
    """The decay in SGD's fixed point grad + decay * p = 0 (see exact.ridge).

    The tutorial's step divides the gradient, not the decay, by the batch size, so relative
    to the gradient its decay is batch_size times stronger.
    """
    opt = settings.optimizer
    scale = settings.train.batch_size if getattr(opt, "divide_by_batch_size", False) else 1
    return opt.weight_decay * scale


def flat_hparams(settings: RunConfig) -> dict[str, Any]:
    """The config as one flat dict of scalars ("optimizer.lr": 0.01), for the HParams tab."""
    return flatten(dataclasses.asdict(settings))


def _epoch_line(epoch: int, epochs: int, history: History) -> str:
    line = (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train_loss {history.train_loss[-1]:.4f}"
            f"  full_mse {history.full_mse[-1]:.4f}")
    return line + (f"  val_loss {history.val_loss[-1]:.4f}" if history.val_loss else "")


@contextmanager
def _progress(epochs: int, quiet: bool) -> Iterator[Callable[[int, History], None]]:
    """A progress bar on a terminal; plain log lines otherwise (and always in train.log).
    `quiet` (a job of a sweep): train.log only, so fifty jobs do not flood the console."""
    if quiet or not sys.stderr.isatty():
        level = logging.DEBUG if quiet else logging.INFO
        yield lambda epoch, history: log.log(level, _epoch_line(epoch, epochs, history))
        return
    from tqdm import tqdm

    with tqdm(total=epochs, unit="epoch", dynamic_ncols=True) as bar:
        def on_epoch(epoch: int, history: History) -> None:
            bar.update()
            bar.set_postfix(train_loss=f"{history.train_loss[-1]:.4g}",
                            full_mse=f"{history.full_mse[-1]:.4g}")
            log.debug(_epoch_line(epoch, epochs, history))  # train.log only

        yield on_epoch


def report(result: dict, run_dir: Path) -> None:
    """The run's results, on the console and in train.log (cli.py, once no stop came)."""
    log.info("w = %s, b = %s", _fmt(result["w"]), _fmt(result["b"]))
    log.info("train loss %s, full-data MSE %s (least squares %.4f), R^2 %s",
             _fmt(result["loss"]["train"]), _fmt(result["loss"]["full_mse"]),
             result["reference"]["mse_ols"], _fmt(result["r2"]))
    log.info("status %s; run folder: %s", result["status"], run_dir.resolve())


def _fmt(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if value is None:  # metrics.json holds null for inf and NaN
        return "not finite"
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"
