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


@dataclass
class TorchSGDConfig:
    """torch.optim.SGD."""

    name: str = "torch_sgd"
    lr: float = field(default=0.01, metadata={"gt": 0})
    momentum: float = field(default=0.0, metadata={"ge": 0})
    dampening: float = field(default=0.0, metadata={"ge": 0, "le": 1})
    nesterov: bool = False
    weight_decay: float = field(default=0.0, metadata={"ge": 0})


@dataclass
class ManualSGDConfig(TorchSGDConfig):
    """SGD from scratch; `divide_by_batch_size` is the tutorial's extra division."""

    name: str = "manual_sgd"
    divide_by_batch_size: bool = False


class ManualSGD:
    """SGD from scratch, with the interface of torch.optim.SGD: step() reads each p.grad."""

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 grad_divisor: float = 1.0) -> None:
        self.params = list(params)
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.grad_divisor = grad_divisor
        self.momentum_buffers: list[torch.Tensor | None] = [None] * len(self.params)
        self.param_groups = [{"lr": lr}]  # read by the recorder, as for torch's optimizers

    def step(self) -> None:
        # In place on the parameters, so never recorded by autograd. train() runs its whole
        # loop in one no_grad block: entering another at every step cost a tenth of a step.
        if torch.is_grad_enabled():
            with torch.no_grad():
                self._step()
        else:
            self._step()

    def _step(self) -> None:
        for i, p in enumerate(self.params):
            g = p.grad
            if self.grad_divisor != 1:
                g = g / self.grad_divisor
            if self.weight_decay != 0:
                g = g.add(p, alpha=self.weight_decay)
            if self.momentum != 0:
                buf = self.momentum_buffers[i]
                if buf is None:
                    buf = self.momentum_buffers[i] = g.detach().clone()
                else:
                    buf.mul_(self.momentum).add_(g, alpha=1 - self.dampening)
                g = g.add(buf, alpha=self.momentum) if self.nesterov else buf
            p.add_(g, alpha=-self.lr)
