"""Losses: the `loss` config group.

Each loss is the mean of a pointwise function of the residual r = y_hat - y, and knows its
gradient with respect to r, so training needs no autograd graph. tests/test_loss.py checks
every gradient against autograd's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch


@dataclass
class MSEConfig:
    name: str = "mse"


@dataclass
class MAEConfig:
    name: str = "mae"


@dataclass
class HuberConfig:
    name: str = "huber"
    delta: float = field(default=1.0, metadata={"gt": 0})


SCHEMAS = {"mse": MSEConfig, "mae": MAEConfig, "huber": HuberConfig}


class MSE:
    """mean(r^2), the tutorial's loss."""

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return (r * r).mean()

    def add_total(self, into: torch.Tensor, r: torch.Tensor) -> None:
        """Add the loss summed over rows to `into`, a (1, 1) tensor: the training loop does
        this every step, so here it is one op."""
        into.addmm_(r.T, r)

    def grad(self, r: torch.Tensor) -> torch.Tensor:
        return r * _number(2.0 / r.numel(), r.dtype)


class MAE:
    """mean(|r|); its gradient at r = 0 is 0, as autograd's."""

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return r.abs().mean()

    def add_total(self, into: torch.Tensor, r: torch.Tensor) -> None:
        into.add_(r.abs().sum())

    def grad(self, r: torch.Tensor) -> torch.Tensor:
        return r.sign() / r.numel()


class Huber:
    """mean of r^2 / 2 where |r| <= delta, delta * (|r| - delta / 2) beyond."""

    def __init__(self, delta: float) -> None:
        self.delta = delta

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.huber_loss(r, torch.zeros_like(r), delta=self.delta)

    def add_total(self, into: torch.Tensor, r: torch.Tensor) -> None:
        into.add_(torch.nn.functional.huber_loss(r, torch.zeros_like(r), reduction="sum",
                                                 delta=self.delta))

    def grad(self, r: torch.Tensor) -> torch.Tensor:
        return r.clamp(-self.delta, self.delta) / r.numel()


@functools.cache
def _number(value: float, dtype: torch.dtype) -> torch.Tensor:
    """`value` as a 0-d tensor, made once: multiplying by a Python float wraps it anew each
    time, which takes longer than the multiply itself on a batch (the same result, bit for bit)."""
    return torch.tensor(value, dtype=dtype)


Loss = MSE | MAE | Huber


def build(cfg) -> Loss:
    """Build the loss chosen by `cfg.name`."""
    if cfg.name == "huber":
        return Huber(cfg.delta)
    return {"mse": MSE, "mae": MAE}[cfg.name]()
