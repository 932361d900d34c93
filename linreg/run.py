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
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from linreg import dataset, events, loss, metrics, optimizer, plots
from linreg.config import RunConfig, validate
from linreg.init import initial_params
from linreg.model import LeastSquares, least_squares
from linreg.train import History, batches_per_epoch, train

log = logging.getLogger(__name__)


def run(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train the configured model and write metrics.json, events and figures into `run_dir`."""
    start = time.perf_counter()
    settings = validate(cfg)
    data = _load_data(settings.dataset)
    batches_per_epoch(data.X.shape[0], settings.train)  # a bad batch size fails before any output
    w, b = initial_params(settings.init, data.n_features, settings.seed)
    loss_fn = loss.build(settings.loss)
    opt = optimizer.build(settings.optimizer, [w, b], settings.train.batch_size)
    reference = _least_squares(data)

    with _progress(settings.train.epochs) as on_epoch:
        history = train(data, w, b, loss_fn, opt, settings.train, settings.seed, on_epoch)
    if history.status == "diverged":
        log.warning("diverged at epoch %d: the loss or the parameters are no longer finite "
                    "(lower optimizer.lr)", history.epochs_run)

    run_dir = Path(run_dir)
    events.write(run_dir, history, hparams=flat_hparams(settings), final=_final(history))
    plots.draw_fit(run_dir / plots.FIT_FILE, data, history, reference)
    plots.draw_loss(run_dir / plots.LOSS_FILE, history, reference, settings.loss.name)
    result = metrics.build(history, data, reference, wall_s=time.perf_counter() - start)
    metrics.write(run_dir, result)  # last, so a complete metrics.json means a complete run
    return result


# The previous run's data and least-squares fit in this process: the basic launcher runs every
# job of a sweep here, one after another, and most sweeps keep the dataset.
_previous: dict[str, Any] = {}


def _load_data(cfg) -> dataset.Data:
    """dataset.load, or the previous run's data if its config and files are unchanged
    (nothing in a run writes to a Data's tensors)."""
    files = [(v, os.stat(v).st_mtime_ns, os.stat(v).st_size) for v in vars(cfg).values()
             if isinstance(v, str) and os.path.isfile(v)]
    key = repr(cfg) + repr(files)
    if _previous.get("data_key") != key:
        _previous.clear()
        _previous.update(data_key=key, data=dataset.load(cfg))
    return _previous["data"]


def _least_squares(data: dataset.Data) -> LeastSquares:
    """least_squares, or the previous run's fit if these are the very same training rows."""
    X, y, fit = _previous.get("ols", (None, None, None))
    if X is not data.X or y is not data.y:
        fit = least_squares(data.X, data.y)
        _previous["ols"] = data.X, data.y, fit
    return fit


def flat_hparams(settings: RunConfig) -> dict[str, Any]:
    """The config as one flat dict of scalars ("optimizer.lr": 0.01), for the HParams tab."""
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = value

    walk(dataclasses.asdict(settings), "")
    return flat


def _final(history: History) -> dict[str, float]:
    return {"final/train_loss": history.train_loss[-1], "final/full_mse": history.full_mse[-1]}


def _epoch_line(epoch: int, epochs: int, history: History) -> str:
    return (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  train_loss {history.train_loss[-1]:.4f}"
            f"  full_mse {history.full_mse[-1]:.4f}")


@contextmanager
def _progress(epochs: int) -> Iterator[Callable[[int, History], None]]:
    """A progress bar on a terminal; plain log lines otherwise (and always in train.log)."""
    if not sys.stderr.isatty():
        yield lambda epoch, history: log.info(_epoch_line(epoch, epochs, history))
        return
    from tqdm import tqdm

    with tqdm(total=epochs, unit="epoch", dynamic_ncols=True) as bar:
        def on_epoch(epoch: int, history: History) -> None:
            bar.update()
            bar.set_postfix(train_loss=f"{history.train_loss[-1]:.4g}",
                            full_mse=f"{history.full_mse[-1]:.4g}")
            log.debug(_epoch_line(epoch, epochs, history))  # train.log only

        yield on_epoch
