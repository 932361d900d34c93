"""The bench's section `loops` (scripts/bench.py): training loops on the same data,
hyperparameters (lr 0.01, w = 0.5, b = 0, MSE) and epochs, each timed at every batch size."""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable

import torch

from linreg import framework, loss
from linreg import optim as optimizer
from linreg.data import Data
from linreg.exact import least_squares
from linreg.init import TutorialInit, initial_params
from linreg.train import TrainConfig, train

LR, SEED = 0.01, 0
BATCHES = (16, 256, 4096, "full")
# (loop, batch) cells on the large data that --quick skips: each takes 10-25 s here
QUICK_SKIP = {("tutorial", 16), ("dataloader", 16), ("dataloader", 4096),
              ("dataloader", "full"), ("sklearn", 16), ("linreg_nn_linear", 16),
              ("linreg_nn_dataloader", 16), ("linreg_nn_dataloader", 4096),
              ("linreg_nn_dataloader", "full")}
Loop = Callable[[torch.Tensor, torch.Tensor, int, int], tuple[torch.Tensor, torch.Tensor]]


# ---- data ---------------------------------------------------------------------------------

def tutorial_data() -> tuple[torch.Tensor, torch.Tensor]:
    from tutorial_program import create_dataset

    x, y, _ = create_dataset()
    return x, y


def synthetic_data(rows: int, features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded float32 data from torch itself: X ~ N(0, 1), y = X @ w + 3 + N(0, 0.5^2)."""
    g = torch.Generator().manual_seed(SEED)
    X = torch.randn(rows, features, generator=g)
    w = torch.randn(features, 1, generator=g)
    return X, X @ w + 3.0 + 0.5 * torch.randn(rows, 1, generator=g)


# ---- the training loops; each returns the trained w (d, 1) and b (1,) -----------------------

def _tutorial_params(d: int):
    # the tutorial's scalar parameters and model w * x + b; with several features w is (d, 1)
    w = torch.full((d, 1) if d > 1 else (), 0.5, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)

    def linear_regression(x: torch.Tensor) -> torch.Tensor:
        return x @ w + b if d > 1 else w * x + b

    return w, b, linear_regression


def _tutorial_epochs(batches: Callable, X, y, epochs: int):
    """The tutorial's train(): autograd, torch.optim.SGD, one .item() per step."""
    from tutorial_program import square_loss

    w, b, linear_regression = _tutorial_params(X.shape[1])
    opt = torch.optim.SGD([w, b], lr=LR)
    epoch_loss, sink = [], open(os.devnull, "w")  # noqa: SIM115  (the tutorial prints per epoch)
    for epoch in range(epochs):
        total_loss = 0.0
        for batch_x, batch_y in batches():
            loss_ = square_loss(linear_regression(batch_x), batch_y)
            total_loss += loss_.item()
            opt.zero_grad()
            loss_.backward()
            opt.step()
        epoch_loss.append(total_loss / len(y))
        print(f"epoch {epoch + 1}, mean loss: {epoch_loss[-1]:.4f}", file=sink)
    sink.close()
    return w.detach().reshape(-1, 1), b.detach().reshape(1)


def tutorial_loop(X, y, batch: int, epochs: int):
    """(a) The tutorial's own data_loader: list(range(n)), random.shuffle, x[list]."""
    from tutorial_program import data_loader

    random.seed(SEED)  # the tutorial leaves it unseeded; seeding costs nothing per step
    return _tutorial_epochs(lambda: data_loader(X, y, batch), X, y, epochs)


def dataloader_loop(X, y, batch: int, epochs: int):
    """(b) The tutorial's loop with torch's DataLoader over a TensorDataset instead."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(SEED))
    return _tutorial_epochs(lambda: loader, X, y, epochs)


def linreg_loop(optimizer_name: str, model: str = "linear", loader: str = "linreg") -> Loop:
    """(c) linreg.train.train through the public builders, as linreg.run calls it; with
    model="nn_linear" the framework way (framework.py: nn.Linear, nn.MSELoss, backward()),
    with loader="dataloader" its batches from torch's DataLoader (data/batches.py)."""
    def loop(X, y, batch: int, epochs: int):
        data = Data(X=X, y=y)
        w, b = initial_params(TutorialInit(), data.n_features, SEED)
        params, module = [w, b], None
        if model == "nn_linear":
            module = framework.linear(w, b, intercept=True)
            params, (w, b) = list(module.parameters()), framework.views(module)
        opt = optimizer.build(optimizer.SCHEMAS[optimizer_name](lr=LR), params, batch)
        step = None if module is None else framework.autograd_step(
            module, framework.criterion(loss.MSEConfig()), opt)
        train(data, w, b, loss.build(loss.MSEConfig()), opt,
              TrainConfig(epochs=epochs, batch_size=batch, loader=loader), SEED, step=step)
        return w.clone(), b.clone()

    return loop


def sklearn_loop(X, y, batch: int, epochs: int):
    """(d) SGDRegressor, one epoch = partial_fit over the batches of a seeded permutation.

    scikit-learn's SGD is per-sample (eta0 = lr, constant): the batch only sets how many rows
    each partial_fit call gets. It starts from zeros (partial_fit takes no initial values).
    """
    from sklearn.linear_model import SGDRegressor

    Xn, yn = X.numpy(), y.numpy().reshape(-1)
    model = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant",
                         eta0=LR, shuffle=False)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        order = torch.randperm(len(yn), generator=g).numpy()
        Xe, ye = Xn[order], yn[order]
        for i in range(len(yn) // batch):
            model.partial_fit(Xe[i * batch:(i + 1) * batch], ye[i * batch:(i + 1) * batch])
    return (torch.tensor(model.coef_, dtype=torch.float32).reshape(-1, 1),
            torch.tensor(model.intercept_, dtype=torch.float32).reshape(1))


def closed_form(X, y, batch: int, epochs: int):
    """(e) linreg.exact.least_squares (float64, refined QR); batch and epochs play no part."""
    fit = least_squares(X, y)
    return fit.w.float(), fit.b.float()


def floor_loop(X, y, batch: int, epochs: int):
    """(f) The floor: seeded randperm, gather into a preallocated buffer, contiguous slices,
    analytic MSE gradient, in-place update. No loss bookkeeping, no per-epoch evaluation."""
    n, d = X.shape
    g = torch.Generator().manual_seed(SEED)
    w, b = torch.full((d, 1), 0.5), torch.zeros(1)
    X_epoch, y_epoch = torch.empty_like(X), torch.empty_like(y)
    r, grad_w, grad_b = torch.empty(batch, 1), torch.empty(d, 1), torch.empty(1)
    step = -LR * 2.0 / batch
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        torch.index_select(X, 0, order, out=X_epoch)
        torch.index_select(y, 0, order, out=y_epoch)
        for i in range(n // batch):
            xb, yb = X_epoch[i * batch:(i + 1) * batch], y_epoch[i * batch:(i + 1) * batch]
            torch.addmm(b, xb, w, out=r).sub_(yb)
            torch.mm(xb.T, r, out=grad_w)
            torch.sum(r, dim=0, out=grad_b)
            w.add_(grad_w, alpha=step)
            b.add_(grad_b, alpha=step)
    return w, b


LOOPS: dict[str, tuple[str, Loop]] = {
    "tutorial": ("(a) tutorial: list shuffle, x[list], autograd", tutorial_loop),
    "dataloader": ("(b) DataLoader(TensorDataset), autograd", dataloader_loop),
    "linreg_manual_sgd": ("(c) linreg train, manual_sgd (default)", linreg_loop("manual_sgd")),
    "linreg_torch_sgd": ("(c) linreg train, torch_sgd", linreg_loop("torch_sgd")),
    "linreg_nn_linear": ("(c) linreg, nn_linear + torch_sgd, autograd",
                         linreg_loop("torch_sgd", "nn_linear")),
    "linreg_nn_dataloader": ("(c) linreg, nn_linear + torch_sgd + dataloader",
                             linreg_loop("torch_sgd", "nn_linear", "dataloader")),
    "sklearn": ("(d) sklearn SGDRegressor.partial_fit", sklearn_loop),
    "closed_form": ("(e) closed form, least_squares", closed_form),
    "floor": ("(f) floor: gather, slices, analytic grad", floor_loop),
}


# ---- section: loops -----------------------------------------------------------------------

def warm_up() -> None:
    """Pay every one-off import before timing (torch.optim's first step imports torch._dynamo)."""
    import sklearn.linear_model  # noqa: F401
    import tutorial_program  # noqa: F401  (sklearn.datasets, matplotlib)

    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.step()


def timed(fn: Callable, budget: float) -> tuple[float, int, object]:
    times, result = [], None
    while not times or (sum(times) < budget and len(times) < 20):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times), result


def measure_loops(name: str, X, y, epochs: int, quick: bool, budget: float) -> dict:
    n = X.shape[0]
    cells: dict[str, dict[str, dict]] = {key: {} for key in LOOPS}
    for batch in BATCHES:
        size = n if batch == "full" else batch
        for key, (_, loop) in LOOPS.items():
            if key == "closed_form" and batch != "full":
                cell = {"skipped": "batch-independent: see the full column"}
            elif size > n:
                cell = {"skipped": f"batch {size} > {n} rows"}
            elif quick and n >= 100_000 and (key, batch) in QUICK_SKIP:
                cell = {"skipped": "--quick"}
            else:
                seconds, runs, (w, b) = timed(lambda lp=loop, s=size: lp(X, y, s, epochs), budget)
                mse = float(((X @ w + b - y) ** 2).mean())
                cell = {"s": seconds, "runs": runs, "mse": mse,
                        "w": w.reshape(-1).tolist(), "b": float(b)}
            cells[key][str(batch)] = cell
            if "s" in cell:
                print(f"  {name} {key} batch {batch}: {cell['s']:.4f} s", file=sys.stderr)
    return {"rows": n, "features": X.shape[1], "epochs": epochs, "lr": LR, "cells": cells}
