"""`model=nn_linear`: the same model the framework way, as the tutorial's sequel writes it.

    model = nn.Linear(d, 1)                    # weight (1, d), bias (1,)
    loss = nn.MSELoss()(model(xb), yb)         # or nn.L1Loss, nn.HuberLoss(delta)
    model.zero_grad(); loss.backward(); optimizer.step()

The module starts from the run's initial w and b, and train.py records it through views of
its parameters: w = weight.T (d, 1) and b = bias share their memory, so the record (and
metrics.json) has the same shapes as the from-scratch model's.

Where the arithmetic is the same, the parameters are bit-identical to model=linear's for the
same seed (tests/test_framework.py): nn.Linear's forward is the same addmm, and the nn losses'
backward the same elementwise gradient (MSE's 2 r / n, L1's sign(r) / n; Huber's r / n is
there computed as r * (1 / n), the same bits when n is a power of two). The weight's gradient
is grad_out.T @ x, (1, n) @ (n, d), where the from-scratch step computes x.T @ dr, (d, n) @
(n, 1): the same sums of the same products, which this machine's BLAS adds in the same order.
The epoch's train_loss is the sum of the batches' mean losses times their rows, not the
from-scratch sum of squares: it may differ in the last bits.
"""

from __future__ import annotations

import torch
from torch import nn

from linreg.train import Step


def linear(w: torch.Tensor, b: torch.Tensor, intercept: bool) -> nn.Linear:
    """An nn.Linear starting from w (d, 1) and b (1,), in their dtype."""
    module = nn.Linear(w.shape[0], 1, bias=intercept, dtype=w.dtype)
    with torch.no_grad():
        module.weight.copy_(w.T)
        if intercept:
            module.bias.copy_(b)
    return module


def views(module: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """w (d, 1) and b (1,) sharing the module's memory (b: a zero of its own without bias)."""
    w = module.weight.detach().T
    b = module.bias.detach() if module.bias is not None else torch.zeros(1, dtype=w.dtype)
    return w, b


def criterion(cfg) -> nn.Module:
    """The nn loss for loss=mse / mae / huber."""
    if cfg.name == "huber":
        return nn.HuberLoss(delta=cfg.delta)
    return {"mse": nn.MSELoss, "mae": nn.L1Loss}[cfg.name]()


def autograd_step(module: nn.Linear, loss_fn: nn.Module, optimizer) -> Step:
    """One step the framework way; the batch's mean loss times its rows goes to loss_sum."""
    def step(xb: torch.Tensor, yb: torch.Tensor, loss_sum: torch.Tensor) -> None:
        module.zero_grad()  # grads to None: backward then writes them afresh
        with torch.enable_grad():  # train() runs under no_grad
            batch_loss = loss_fn(module(xb), yb)
            batch_loss.backward()
        loss_sum.add_(batch_loss.detach(), alpha=xb.shape[0])
        optimizer.step()

    return step
