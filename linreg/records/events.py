"""TensorBoard events, written into the run folder itself (one run per folder in TensorBoard),
as training goes.

Per epoch: loss/train, loss/full_mse, loss/val (with validation rows), param/w (param/w_0, ...
for a few features, param/w_norm for many), param/b, grad/norm, opt/lr. The run's
hyperparameters go to the HParams tab with its final metrics, through this writer's own file:
SummaryWriter.add_hparams would put them in a new timestamped sub-folder, which TensorBoard
shows as a second run. Every run writes the same HParams keys (`same_columns`), so the runs
of a sweep line up in one table.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import threading
import time
from pathlib import Path
from typing import Any

from linreg.train import History

MAX_FEATURES_SHOWN = 8  # beyond this, one norm says more than a wall of curves
MAX_EPOCHS_LOGGED = 10_000


def weight_scalars(w: list[float]) -> dict[str, float]:
    if len(w) == 1:
        return {"param/w": w[0]}
    if len(w) <= MAX_FEATURES_SHOWN:
        return {f"param/w_{i}": v for i, v in enumerate(w)}
    return {"param/w_norm": math.sqrt(sum(v * v for v in w))}


def same_columns(hparams: dict[str, Any], groups: dict[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`hparams` completed with the keys of every option of every config group in `groups`
    ({group: its module, with SCHEMAS}: config.GROUPS), and each group's options (the domain
    of its `name` column).

    TensorBoard builds the HParams columns from one run's keys and drops the rest, so every run
    of a sweep must have the same keys: an option not chosen gets a placeholder of its field's
    type (NaN for numbers and flags, "-" for text). Values become scalars or strings.
    """
    full: dict[str, Any] = {}
    domains: dict[str, list[str]] = {}
    for group, module in groups.items():
        domains[f"{group}.name"] = sorted(module.SCHEMAS)
        for schema in module.SCHEMAS.values():
            for f in dataclasses.fields(schema):
                full[f"{group}.{f.name}"] = "-" if "str" in str(f.type) else math.nan
    for key, value in hparams.items():
        if isinstance(value, enum.Enum):
            value = value.name
        elif isinstance(value, list | tuple | dict):
            value = str(value)
        full[key] = full.get(key, "-") if value is None else value
    return full, {k: v for k, v in domains.items() if isinstance(full.get(k), str)}


class EventLog:
    """A run's events file, written as training goes (`epoch`), so that a run stopped at any
    moment has its curves on disk; `close` adds the hyperparameters and final metrics.

    One event per epoch holds all that epoch's scalars (about 0.03 ms, against 0.2 ms for one
    add_scalar per tag). A run of more than MAX_EPOCHS_LOGGED epochs logs every k-th epoch,
    k = ceil(epochs / MAX_EPOCHS_LOGGED), and its last: TensorBoard shows 1,000 points of a
    curve anyway, and a million events would cost more than the training."""

    def __init__(self, run_dir: Path, epochs: int) -> None:
        # imported here: the writer costs over a second of start-up
        from torch.utils.tensorboard import SummaryWriter

        _quiet_writer_thread()
        # a queue of 10 (the default) makes this thread wait on the writer's thread
        # flushed every second by the writer's thread: a run killed outright (SIGKILL, power
        # loss) keeps its curves up to about then
        self._writer = SummaryWriter(log_dir=str(run_dir), max_queue=1000, flush_secs=1)
        self._every = -(-epochs // MAX_EPOCHS_LOGGED)
        self._logged = 0  # the last epoch written

    def epoch(self, epoch: int, history: History) -> None:
        """Log epoch `epoch` (from 1) of `history`, if it is one that is logged."""
        if epoch % self._every == 0 or epoch == 1:
            self._log(epoch, history)

    def _log(self, epoch: int, history: History) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        i = epoch - 1
        scalars = {"loss/train": history.train_loss[i], "loss/full_mse": history.full_mse[i],
                   **weight_scalars(history.w[i]), "param/b": history.b[i],
                   "grad/norm": history.grad_norm[i], "opt/lr": history.lr[i]}
        if history.val_loss:  # train.val_fraction > 0
            scalars["loss/val"] = history.val_loss[i]
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)
                                 for tag, value in scalars.items()])
        self._writer.file_writer.add_event(Event(summary=summary, step=epoch,
                                                 wall_time=time.time()))
        self._logged = epoch

    def close(self, history: History, hparams: dict[str, Any], final: dict[str, float],
              groups: dict[str, Any]) -> None:
        """The last epoch (if not logged yet), `hparams` (completed from
        `groups`, see same_columns) with the `final` metrics; then
        flush and close. Raises what the writer's thread met (a full disk)."""
        from torch.utils.tensorboard.summary import hparams as hparams_summaries

        try:
            if history.epochs_run > self._logged:
                self._log(history.epochs_run, history)
            columns, domains = same_columns(hparams, groups)
            for summary in hparams_summaries(columns, final, hparam_domain_discrete=domains):
                self._writer.file_writer.add_summary(summary)
            for tag, value in final.items():
                self._writer.add_scalar(tag, value, global_step=history.epochs_run)
        finally:
            self._writer.close()


class _NoLog:
    """A run that writes nothing (linreg.run(..., save=False)) logs no events."""

    def epoch(self, epoch: int, history: History) -> None:
        pass

    def close(self, history: History, hparams: dict[str, Any], final: dict[str, float],
              groups: Any = None) -> None:
        pass


NO_LOG = _NoLog()


def _quiet_writer_thread() -> None:
    """An error in the writer's thread (a full disk) is raised again in this one, by the next
    write or by close(): keep the thread from printing its traceback as well."""
    hook = threading.excepthook
    if getattr(hook, "linreg", False):
        return

    def excepthook(args: threading.ExceptHookArgs) -> None:
        if not (isinstance(args.exc_value, OSError)
                and type(args.thread).__name__ == "_AsyncWriterThread"):
            hook(args)

    excepthook.linreg = True  # type: ignore[attr-defined]
    threading.excepthook = excepthook
