"""SGD: the options of the `optimizer` group (`manual_sgd`, `torch_sgd`) and their schemas.

`ManualSGD` is stochastic gradient descent written from scratch with torch.optim.SGD's exact
update rule, in the same order of floating-point operations, so that for the same gradients
both give bit-identical parameters (tests/test_optimizer.py proves it):

    g = grad + weight_decay * p
    buf = g                                      (first step)
    buf = momentum * buf + (1 - dampening) * g   (later steps)
    g = g + momentum * buf if nesterov else buf  (when momentum != 0)
    p = p - lr * g
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from linreg.optim.base import ManualOptimizer, OptimizerConfig


@dataclass
class TorchSGDConfig(OptimizerConfig):
    """torch.optim.SGD."""

    name: str = "torch_sgd"
    momentum: float = field(default=0.0, metadata={"ge": 0})
    dampening: float = field(default=0.0, metadata={"ge": 0, "le": 1})
    nesterov: bool = False


@dataclass
class ManualSGDConfig(TorchSGDConfig):
    """SGD from scratch; `divide_by_batch_size` is the tutorial's extra division."""

    name: str = "manual_sgd"
    divide_by_batch_size: bool = False


class ManualSGD(ManualOptimizer):
    """SGD from scratch, with the interface of torch.optim.SGD: step() reads each p.grad."""

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float,
                 momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, grad_divisor: float = 1.0) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))
        self.grad_divisor = grad_divisor

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict, group: dict) -> None:
        g = grad
        if self.grad_divisor != 1:
            g = g / self.grad_divisor
        if group["weight_decay"] != 0:
            g = g.add(p, alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.detach().clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1 - group["dampening"])
            g = g.add(buf, alpha=momentum) if group["nesterov"] else buf
        p.add_(g, alpha=-group["lr"])
