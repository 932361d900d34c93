"""What every optimizer shares: the config keys all of them have, the parameter groups that
keep the bias out of weight decay, and `ManualOptimizer`, the from-scratch optimizers' base.

A from-scratch optimizer is one method, `update(p, grad, state, group)`: the rule for one
tensor, written with the same torch operations in the same order as torch.optim's
single-tensor code (`foreach=False`), so that both give bit-identical parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class OptimizerConfig:
    """The keys of every option of the `optimizer` group."""

    name: str = "???"
    lr: float = field(default=0.01, metadata={"gt": 0})
    weight_decay: float = field(default=0.0, metadata={"ge": 0})
    # false: weight decay on the weights only, the bias left alone (d2l's concise weight decay,
    # nanoGPT's rule: tensors of 2 or more dimensions decay, 1-D ones -- biases -- do not)
    decay_bias: bool = True


def param_groups(params: Iterable[torch.Tensor], decay_bias: bool = True) -> list[dict]:
    """torch's parameter groups for `params`: one group, or with decay_bias=False a second
    group of the 1-D tensors (b, nn.Linear's bias) with weight_decay 0."""
    params = list(params)
    if decay_bias:
        return [{"params": params}]
    weights = [p for p in params if p.dim() >= 2]
    biases = [p for p in params if p.dim() < 2]
    return [{"params": weights}] + ([{"params": biases, "weight_decay": 0.0}] if biases else [])


class ManualOptimizer:
    """The interface of torch.optim.Optimizer that training uses: `param_groups` (dicts with
    "params", "lr" and the other hyperparameters, which a schedule may change) and `step()`,
    which reads each p.grad. `state[p]` is a parameter's own state (its moment estimates)."""

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], defaults: dict
                 ) -> None:
        groups = list(params)
        if not groups or not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups = [{**defaults, **g, "params": list(g["params"])} for g in groups]
        self.state: dict[torch.Tensor, dict[str, Any]] = {}

    def step(self) -> None:
        # In place on the parameters, so never recorded by autograd. train() runs its whole
        # loop in one no_grad block: entering another at every step cost a tenth of a step.
        if torch.is_grad_enabled():
            with torch.no_grad():
                self._step()
        else:
            self._step()

    def _step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad, self.state.setdefault(p, {}), group)

    def update(self, p: torch.Tensor, grad: torch.Tensor, state: dict[str, Any],
               group: dict) -> None:
        raise NotImplementedError
