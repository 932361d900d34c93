"""Optimizers: the `optimizer` config group. Both options are SGD (sgd.py): `manual_sgd`,
written from scratch, and `torch_sgd`, torch.optim.SGD itself; the schedules to come live here.
"""

from __future__ import annotations

import torch

from linreg.errors import ConfigError
from linreg.optim.sgd import ManualSGD, ManualSGDConfig, TorchSGDConfig

__all__ = ["SCHEMAS", "ManualSGD", "build", "check"]

SCHEMAS = {"manual_sgd": ManualSGDConfig, "torch_sgd": TorchSGDConfig}


def check(cfg) -> None:
    """Combinations torch.optim.SGD refuses, caught before any work is done."""
    prefix = "optimizer"
    if cfg.nesterov and (cfg.momentum <= 0 or cfg.dampening != 0):
        raise ConfigError(f"{prefix}.nesterov: needs momentum > 0 and dampening = 0 "
                          f"(got momentum={cfg.momentum}, dampening={cfg.dampening})")


def build(cfg, params: list[torch.Tensor], batch_size: int):
    """Build the optimizer chosen by `cfg.name` over `params`."""
    hyper = dict(lr=cfg.lr, momentum=cfg.momentum, dampening=cfg.dampening,
                 weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    if cfg.name == "torch_sgd":
        # imported here: torch.optim's first use pulls in torch._dynamo, about a second
        from torch.optim import SGD

        return SGD(params, **hyper)
    divisor = batch_size if cfg.divide_by_batch_size else 1
    return ManualSGD(params, grad_divisor=divisor, **hyper)
