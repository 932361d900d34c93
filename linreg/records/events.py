"""TensorBoard events, written into the run folder itself (one run per folder in TensorBoard),
as training goes.

Per epoch: loss/train, loss/full_mse, loss/val (with validation rows), param/w (param/w_0, ...
for a few features, param/w_norm for many), param/b, grad/norm, opt/lr. The run's
hyperparameters go to the HParams tab (records/hparams.py: what is written, and why) through
this writer's own file: SummaryWriter.add_hparams would put them in a new timestamped
sub-folder, which TensorBoard shows as a second run, and writes flags as numbers. The run's
figures reach TensorBoard later, in a second file of the same folder (records/event_files.py).
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linreg.records import hparams as hp

if TYPE_CHECKING:
    from linreg.train import History

MAX_FEATURES_SHOWN = 8  # beyond this, one norm says more than a wall of curves
MAX_EPOCHS_LOGGED = 10_000


def weight_scalars(w: list[float]) -> dict[str, float]:
    if len(w) == 1:
        return {"param/w": w[0]}
    if len(w) <= MAX_FEATURES_SHOWN:
        return {f"param/w_{i}": v for i, v in enumerate(w)}
    return {"param/w_norm": math.sqrt(sum(v * v for v in w))}


class EventLog:
    """A run's events file, written as training goes (`epoch`), so that a run stopped at any
    moment has its curves on disk (and its config, written first); `close` adds its status
    and final metrics.

    One event per epoch holds all that epoch's scalars (about 0.03 ms, against 0.2 ms for one
    add_scalar per tag). A run of more than MAX_EPOCHS_LOGGED epochs logs every k-th epoch,
    k = ceil(epochs / MAX_EPOCHS_LOGGED), and its last: TensorBoard shows 1,000 points of a
    curve anyway, and a million events would cost more than the training."""

    def __init__(self, run_dir: Path, epochs: int, hparams: dict[str, Any],
                 types: dict[str, str]) -> None:
        """`hparams`: the flat config ({"optimizer.lr": 0.01}); `types`: every column's type
        (hparams.column_types)."""
        # imported here: the writer costs over a second of start-up
        from torch.utils.tensorboard import SummaryWriter

        _quiet_writer_thread()
        # a queue of 10 (the default) makes this thread wait on the writer's thread
        # flushed every second by the writer's thread: a run killed outright (SIGKILL, power
        # loss) keeps its curves up to about then
        self._writer = SummaryWriter(log_dir=str(run_dir), max_queue=1000, flush_secs=1)
        self._every = -(-epochs // MAX_EPOCHS_LOGGED)
        self._logged = 0  # the last epoch written
        group = hp.group_name(overrides_of(run_dir))
        self._writer.file_writer.add_summary(hp.session_start(hparams, types, group))

    def epoch(self, epoch: int, history: History) -> None:
        """Log epoch `epoch` (from 1) of `history`, if it is one that is logged."""
        if epoch % self._every == 0 or epoch == 1:
            self._log(epoch, history)

    def _log(self, epoch: int, history: History) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        i = epoch - 1
        # every per-epoch scalar (a new one: a tag here, its values kept in History)
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

    def close(self, history: History, result: dict[str, Any]) -> None:
        """The last epoch (if not logged yet), the final metrics of `result` (the run's
        metrics.json) as `final/...` scalars and the run's status; then flush and close.
        Raises what the writer's thread met (a full disk)."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        try:
            if history.epochs_run > self._logged:
                self._log(history.epochs_run, history)
            final = Summary(value=[Summary.Value(tag=tag, simple_value=value)
                                   for tag, value in hp.final_metrics(result).items()])
            self._writer.file_writer.add_event(Event(summary=final, step=history.epochs_run,
                                                     wall_time=time.time()))
            self._writer.file_writer.add_summary(hp.session_end(result["status"]))
        finally:
            self._writer.close()


class _NoLog:
    """A run that writes nothing (linreg.run(..., save=False)) logs no events."""

    def epoch(self, epoch: int, history: History) -> None:
        pass

    def close(self, history: History, result: dict[str, Any]) -> None:
        pass


NO_LOG = _NoLog()


def overrides_of(run_dir: Path) -> list[str]:
    """The run's overrides, from Hydra's record in its folder (.hydra/overrides.yaml, written
    before the run starts), as records/runs.py reads them back: one source for the seed group."""
    import yaml  # PyYAML comes with OmegaConf

    try:
        overrides = yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return []
    return [str(o) for o in overrides or []]


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
