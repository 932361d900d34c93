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

from linreg.data.table import Data
from linreg.errors import ConfigError
from linreg.model import predict
from linreg.process.stopping import STOP


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
    interrupted_by: str | None = None  # "SIGINT" or "SIGTERM" when stopped by a signal
    w_start: list[float] = field(default_factory=list)  # the parameters before the first step
    b_start: float = 0.0
    steps: int = 0
    train_s: float = 0.0

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)


CHUNK_ROWS = 1 << 16  # rows gathered at a time: small next to a large X, large enough to be fast


def batches_per_epoch(n_rows: int, cfg: TrainConfig) -> int:
    if cfg.batch_size > n_rows:
        raise ConfigError(f"train.batch_size: {cfg.batch_size} is larger than the "
                          f"{n_rows} training rows")
    return n_rows // cfg.batch_size if cfg.drop_last else -(-n_rows // cfg.batch_size)


@torch.no_grad()  # gradients are analytic: no autograd graph, and one no_grad block, not a step's
def train(data: Data, w: torch.Tensor, b: torch.Tensor, loss, optimizer, cfg: TrainConfig,
          seed: int, on_epoch: Callable[[int, History], None] | None = None, *,
          val: Data | None = None, trace_steps: bool = False, intercept: bool = True,
          schedule=None) -> History:
    """Train w (d, 1) and b (1,) in place; `optimizer` steps them from their .grad.

    With `val`, each epoch also records the loss on those rows; with `trace_steps`, the
    parameters after every step go to history.path. Without `intercept`, b is left as it is
    (0: the optimizer is not given it) and its gradient is neither computed nor counted.
    Training computes in w's dtype: `data` and `val` are cast to it (no copy if they are).
    `schedule` (optim/schedules.py) sets the optimizer's lr before each epoch or step.
    """
    data = data.cast(w.dtype)
    val = None if val is None else val.cast(w.dtype)
    X, y = data.X, data.y
    n_rows, size = X.shape[0], cfg.batch_size
    n_batches = batches_per_epoch(n_rows, cfg)
    rows_seen = min(n_batches * size, n_rows)
    generator = torch.Generator().manual_seed(seed)
    w.grad, b.grad = torch.zeros_like(w), torch.zeros_like(b)
    history = History()
    start_params = torch.cat([w.reshape(-1), b]).tolist()
    history.w_start, history.b_start = start_params[:-1], start_params[-1]
    if trace_steps:
        history.path.append([*history.w_start, history.b_start])
    trace = [] if trace_steps else None
    predict(X[:1], w, b)  # checks the shapes once; the loop below computes X @ w + b - y itself
    # shuffled rows are gathered a chunk of whole batches at a time into buffers made once:
    # a shuffled copy of all of X would double the memory of a large dataset
    chunk_batches = max(1, CHUNK_ROWS // size)
    buffers = (torch.empty(min(chunk_batches * size, n_rows), X.shape[1], dtype=X.dtype),
               torch.empty(min(chunk_batches * size, n_rows), 1, dtype=y.dtype))
    start = time.perf_counter()
    try:
        for epoch in range(cfg.epochs):
            order = torch.randperm(n_rows, generator=generator) if cfg.shuffle else None
            loss_sum = torch.zeros(1, 1, dtype=X.dtype)
            if schedule is not None:
                schedule.before_epoch(epoch)
            with STOP.interruptible():
                for first in range(0, n_batches, chunk_batches):
                    X_chunk, y_chunk = _rows(X, y, order, first * size,
                                             min((first + chunk_batches) * size, n_rows),
                                             buffers)
                    for i in range(min(chunk_batches, n_batches - first)):
                        xb = X_chunk[i * size:(i + 1) * size]
                        r = torch.addmm(b, xb, w).sub_(y_chunk[i * size:(i + 1) * size])
                        loss.add_total(loss_sum, r)
                        dr = loss.grad(r)
                        torch.mm(xb.T, dr, out=w.grad)
                        if intercept:
                            torch.sum(dr, dim=0, out=b.grad)
                        if schedule is not None:
                            schedule.before_step(history.steps + first + i)
                        optimizer.step()
                        if trace is not None:
                            trace.append(torch.cat([w.reshape(-1), b]))
            history.steps += n_batches
            if trace is not None:  # one host transfer per epoch
                history.path.extend(torch.stack(trace).tolist())
                trace.clear()
            _end_of_epoch(history, data, w, b, loss, optimizer, loss_sum / rows_seen, val,
                          intercept)
            if on_epoch is not None:
                on_epoch(epoch + 1, history)
            if history.status == "diverged":
                break
    except KeyboardInterrupt as stop:  # a signal (errors.Interrupted)
        _keep_whole_epochs(history, n_batches, val is not None)
        history.interrupted_by = getattr(stop, "signal_name", "SIGINT")
        if history.status == "ok":  # a run whose last whole epoch diverged stays diverged
            history.status = "interrupted"
    history.train_s = time.perf_counter() - start
    return history


def _rows(X: torch.Tensor, y: torch.Tensor, order: torch.Tensor | None, lo: int, hi: int,
          buffers: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows lo:hi of this epoch's order, as contiguous tensors (views when not shuffled)."""
    if order is None:
        return X[lo:hi], y[lo:hi]
    X_buf, y_buf = buffers[0][:hi - lo], buffers[1][:hi - lo]
    return (torch.index_select(X, 0, order[lo:hi], out=X_buf),
            torch.index_select(y, 0, order[lo:hi], out=y_buf))


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
