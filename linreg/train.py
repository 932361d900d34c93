"""The training loop: the `train` config group.

Minibatch SGD on y_hat = X @ w + b with the loss's analytic gradient (no autograd graph), and
no host synchronisation inside an epoch: losses are summed on the tensor side and read once
per epoch, when the epoch's full-data numbers are taken.

A stop (Ctrl-C, SIGTERM, SIGHUP; process/stopping.py) is raised inside an epoch's batches,
and the loop catches it: the history keeps the whole epochs done, with status "interrupted".
The end of an epoch (its numbers, `on_epoch`: the console, the events file) is not
interrupted halfway; a stop asked there is raised as the next epoch starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from linreg.data import batches
from linreg.data.table import Data
from linreg.errors import ConfigError
from linreg.model import predict
from linreg.process.stopping import STOP
from linreg.train_stop import EarlyStoppingConfig, Stopper


@dataclass
class TrainConfig:
    epochs: int = field(default=50, metadata={"ge": 1})
    batch_size: int = field(default=16, metadata={"ge": 1})
    shuffle: bool = True
    drop_last: bool = True  # the tutorial drops the last partial batch
    # rows held out for validation, chosen by `seed`; 0 trains on every row
    val_fraction: float = field(default=0.0, metadata={"ge": 0, "lt": 1})
    # what the data, the parameters and the optimizer compute in (the reference: float64)
    dtype: str = field(default="float32", metadata={"one_of": ("float32", "float64")})
    # linreg's own batching, or torch.utils.data.DataLoader (the same order: data/batches.py)
    loader: str = field(default="linreg", metadata={"one_of": ("linreg", "dataloader")})
    # stopping before `epochs` (train_stop.py)
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    tol_rel: float = field(default=0.001, metadata={"gt": 0})  # epochs_to_tol: within 0.1%
    stop_at_tol: bool = False  # stop at epochs_to_tol


@dataclass
class History:
    """One entry per epoch run; non-finite values are kept as they were (NaN, inf)."""

    train_loss: list[float] = field(default_factory=list)  # sample-weighted mean of batch losses
    full_mse: list[float] = field(default_factory=list)  # MSE on all training rows after it
    val_loss: list[float] = field(default_factory=list)  # the loss on validation rows, if any
    grad_norm: list[float] = field(default_factory=list)  # full-data gradient norm after it
    w: list[list[float]] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    # [*w, b] at the start and after every step, when traced (for trajectory.png)
    path: list[list[float]] = field(default_factory=list)
    status: str = "ok"  # "ok", "diverged" or "interrupted"
    # "epochs", "early_stopping", "tolerance", or the status when not "ok" (train_stop.py)
    stop_reason: str = "epochs"
    best_epoch: int | None = None  # the last epoch that improved the watched loss (from 1)
    epochs_to_tol: int | None = None  # the first epoch within tol_rel of least squares
    restored_best: bool = False  # w and b are best_epoch's, not the last epoch's
    interrupted_by: str | None = None  # "SIGINT" or "SIGTERM" when stopped by a signal
    w_start: list[float] = field(default_factory=list)  # the parameters before the first step
    b_start: float = 0.0
    steps: int = 0
    train_s: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)

    @property
    def final(self) -> int:
        """The index of the epoch whose parameters the run ends with (-1: none yet)."""
        return self.best_epoch - 1 if self.restored_best else self.epochs_run - 1


def batches_per_epoch(n_rows: int, cfg: TrainConfig) -> int:
    if cfg.batch_size > n_rows:
        raise ConfigError(f"train.batch_size: {cfg.batch_size} is larger than the "
                          f"{n_rows} training rows")
    return batches.batches_per_epoch(n_rows, cfg.batch_size, cfg.drop_last)


Step = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], None]  # (xb, yb, loss_sum)


def analytic_step(w: torch.Tensor, b: torch.Tensor, loss, optimizer, intercept: bool) -> Step:
    """One step of the from-scratch model: the loss's analytic gradient, written into w.grad
    and b.grad, then the optimizer's step. The batch's summed loss is added to loss_sum."""
    w.grad, b.grad = torch.zeros_like(w), torch.zeros_like(b)

    def step(xb: torch.Tensor, yb: torch.Tensor, loss_sum: torch.Tensor) -> None:
        r = torch.addmm(b, xb, w).sub_(yb)
        loss.add_total(loss_sum, r)
        dr = loss.grad(r)
        torch.mm(xb.T, dr, out=w.grad)
        if intercept:
            torch.sum(dr, dim=0, out=b.grad)
        optimizer.step()

    return step


@torch.no_grad()  # gradients are analytic: no autograd graph, and one no_grad block, not a step's
def train(data: Data, w: torch.Tensor, b: torch.Tensor, loss, optimizer, cfg: TrainConfig,
          seed: int, on_epoch: Callable[[int, History], None] | None = None, *,
          val: Data | None = None, trace_steps: bool = False, intercept: bool = True,
          target_mse: float | None = None, step: Step | None = None,
          schedule=None) -> History:
    """Train w (d, 1) and b (1,) in place; `optimizer` steps them from their .grad.

    With `val`, each epoch also records the loss on those rows; with `trace_steps`, the
    parameters after every step go to history.path. Without `intercept`, b is left as it is
    (0: the optimizer is not given it) and its gradient is neither computed nor counted.
    Training computes in w's dtype: `data` and `val` are cast to it (no copy if they are).
    `target_mse` is least squares' MSE on these rows (for epochs_to_tol); `step` replaces the
    from-scratch step (framework.py's autograd step over an nn.Linear, whose parameters w
    and b then are views of).
    `schedule` (optim/schedules.py) sets the optimizer's lr before each epoch or step.
    """
    data = data.cast(w.dtype)
    val = None if val is None else val.cast(w.dtype)
    X, y = data.X, data.y
    n_rows = X.shape[0]
    n_batches = batches_per_epoch(n_rows, cfg)
    rows_seen = min(n_batches * cfg.batch_size, n_rows)
    epoch_batches = batches.epoch_batches(cfg.loader, X, y, cfg.batch_size, cfg.drop_last,
                                          cfg.shuffle, seed)
    step = step or analytic_step(w, b, loss, optimizer, intercept)
    stopper = Stopper(cfg.early_stopping, cfg.tol_rel, cfg.stop_at_tol, target_mse)
    history = History()
    start_params = torch.cat([w.reshape(-1), b]).tolist()
    history.w_start, history.b_start = start_params[:-1], start_params[-1]
    if trace_steps:
        history.path.append([*history.w_start, history.b_start])
    trace = [] if trace_steps else None
    predict(X[:1], w, b)  # checks the shapes once; the step computes X @ w + b - y itself
    start = time.perf_counter()
    try:
        for epoch in range(1, cfg.epochs + 1):
            loss_sum = torch.zeros(1, 1, dtype=X.dtype)
            if schedule is not None:
                schedule.before_epoch(epoch - 1)  # counts epochs from 0, as torch's do
            with STOP.interruptible():
                for i, (xb, yb) in enumerate(epoch_batches()):
                    if schedule is not None:
                        schedule.before_step(history.steps + i)
                    step(xb, yb, loss_sum)
                    if trace is not None:
                        trace.append(torch.cat([w.reshape(-1), b]))
            history.steps += n_batches
            if trace is not None:  # one host transfer per epoch
                history.path.extend(torch.stack(trace).tolist())
                trace.clear()
            _end_of_epoch(history, data, w, b, loss, optimizer, loss_sum / rows_seen, val,
                          intercept)
            # --- stopping rules (train_stop.py): watched loss, full_mse against least squares
            reason = stopper.after_epoch(epoch, (history.val_loss or history.train_loss)[-1],
                                         history.full_mse[-1])
            history.best_epoch, history.epochs_to_tol = stopper.best_epoch, stopper.epochs_to_tol
            if on_epoch is not None:
                on_epoch(epoch, history)
            if history.status == "diverged":
                break
            if reason is not None:
                history.stop_reason = reason
                break
    except KeyboardInterrupt as stop:  # a signal (errors.Interrupted)
        _keep_whole_epochs(history, n_batches, val is not None)
        history.interrupted_by = getattr(stop, "signal_name", "SIGINT")
        if history.status == "ok":  # a run whose last whole epoch diverged stays diverged
            history.status = "interrupted"
    if history.status != "ok":
        history.stop_reason = history.status
    early = cfg.early_stopping  # restore_best is part of early stopping: off without patience
    if early.patience and early.restore_best and (history.best_epoch or 0) - 1 in range(
            history.epochs_run):  # an interrupt drops a part-run epoch: best is a whole one
        _restore(history, w, b)
    history.train_s = time.perf_counter() - start
    return history


def _restore(history: History, w: torch.Tensor, b: torch.Tensor) -> None:
    """w and b back to the best epoch's (its recorded floats are the tensors' values)."""
    history.restored_best = True
    best = history.best_epoch - 1
    w.copy_(torch.tensor(history.w[best], dtype=w.dtype).reshape(w.shape))
    b.copy_(torch.tensor([history.b[best]], dtype=b.dtype))


def _keep_whole_epochs(history: History, n_batches: int, has_val: bool) -> None:
    """Drop what an interrupt left of the epoch it landed in, appends included: the record is
    then the state after the last whole epoch (w and b themselves may be a few steps on)."""
    series = [history.train_loss, history.full_mse, history.grad_norm, history.w, history.b,
              history.lr] + ([history.val_loss] if has_val else [])
    epochs = min(map(len, series))
    for values in series:
        del values[epochs:]
    history.steps = epochs * n_batches
    del history.path[1 + epochs * n_batches:]


def _end_of_epoch(history: History, data: Data, w: torch.Tensor, b: torch.Tensor, loss,
                  optimizer, train_loss: torch.Tensor, val: Data | None = None,
                  intercept: bool = True) -> None:
    """Append the epoch's numbers, read from the tensors in a single host transfer."""
    r = predict(data.X, w, b) - data.y
    dr = loss.grad(r)
    grad_b = dr.sum().square() if intercept else 0.0
    grad_norm = torch.sqrt((data.X.T @ dr).square().sum() + grad_b)
    parts = [train_loss.reshape(1), (r * r).mean().reshape(1), grad_norm.reshape(1), b,
             w.reshape(-1)]
    if val is not None:
        parts.append(loss(predict(val.X, w, b) - val.y).reshape(1))
    numbers = torch.cat(parts).tolist()
    history.train_loss.append(numbers[0])
    history.full_mse.append(numbers[1])
    history.grad_norm.append(numbers[2])
    history.b.append(numbers[3])
    history.w.append(numbers[4:4 + w.numel()])
    if val is not None:
        history.val_loss.append(numbers[-1])
    history.lr.append(optimizer.param_groups[0]["lr"])  # the rate of the epoch's last step
    if not torch.isfinite(torch.tensor(numbers[:2] + numbers[3:])).all():
        history.status = "diverged"
