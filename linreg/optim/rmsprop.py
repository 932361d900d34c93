"""RMSprop (Hinton's lecture 6e, 2012): `optimizer=rmsprop`, from scratch, and its twin
`optimizer=torch_rmsprop`, torch.optim.RMSprop. Adagrad's sum of squared gradients becomes a
moving average, so old gradients are forgotten and the steps need not shrink forever.

    g = grad + weight_decay * p
    v = alpha * v + (1 - alpha) * g * g           (v starts at 0)
    centered: m = alpha * m + (1 - alpha) * g     (lerp; m starts at 0)
              s = sqrt(v - m * m) + eps           (the gradient's standard deviation)
    else:     s = sqrt(v) + eps
    momentum: buf = momentum * buf + g / s        (buf starts at 0)
              p = p - lr * buf
    else:     p = p - lr * g / s

In torch.optim.RMSprop's order of operations (its single-tensor code): bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from linreg.optim.base import ManualOptimizer, OptimizerConfig


@dataclass
class TorchRMSpropConfig(OptimizerConfig):
    """torch.optim.RMSprop, with its defaults."""

    name: str = "torch_rmsprop"
    lr: float = field(default=0.01, metadata={"gt": 0})
    alpha: float = field(default=0.99, metadata={"ge": 0, "le": 1})
    eps: float = field(default=1e-8, metadata={"ge": 0})
    momentum: float = field(default=0.0, metadata={"ge": 0})
    centered: bool = False


@dataclass
class RMSpropConfig(TorchRMSpropConfig):
    name: str = "rmsprop"


class RMSprop(ManualOptimizer):
    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.01,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["square_avg"] = torch.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        if group["weight_decay"] != 0:
            grad = grad.add(p, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.addcdiv_(grad, avg, value=-group["lr"])
