"""Adagrad (Duchi, Hazan and Singer, 2011): `optimizer=adagrad`, from scratch, and its twin
`optimizer=torch_adagrad`, torch.optim.Adagrad. Each coordinate's step is divided by the root
of the sum of all its squared gradients so far: coordinates with large gradients slow down,
and every step is smaller than the last, whether or not the minimum is near.

    t = t + 1
    g = grad + weight_decay * p
    lr_t = lr / (1 + (t - 1) * lr_decay)
    sum = sum + g * g                      (sum starts at initial_accumulator_value)
    p = p - lr_t * g / (sqrt(sum) + eps)

In torch.optim.Adagrad's order of operations (its single-tensor code): bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from linreg.optim.base import ManualOptimizer, OptimizerConfig


@dataclass
class TorchAdagradConfig(OptimizerConfig):
    """torch.optim.Adagrad, with its defaults."""

    name: str = "torch_adagrad"
    lr: float = field(default=0.01, metadata={"gt": 0})
    lr_decay: float = field(default=0.0, metadata={"ge": 0})
    initial_accumulator_value: float = field(default=0.0, metadata={"ge": 0})
    eps: float = field(default=1e-10, metadata={"ge": 0})


@dataclass
class AdagradConfig(TorchAdagradConfig):
    name: str = "adagrad"


class Adagrad(ManualOptimizer):
    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.01,
                 lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps))

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        if not state:
            state["step"] = 0.0  # torch counts in a float tensor; its value is what counts
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        step = state["step"]
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        state["sum"].addcmul_(grad, grad, value=1)
        std = state["sum"].sqrt().add_(group["eps"])
        p.addcdiv_(grad, std, value=-clr)
