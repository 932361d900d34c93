"""Optimizers: the `optimizer` config group, and the learning-rate schedules (schedules.py,
the `scheduler` group). Each optimizer is written from scratch (one module each: sgd.py,
adagrad.py, rmsprop.py, adam.py, adamw.py) and has a twin, `torch_<name>`, that is
torch.optim's own; for the same gradients both give bit-identical parameters
(tests/test_optimizer.py, tests/test_adaptive.py).
"""

from __future__ import annotations

import torch

from linreg.errors import ConfigError
from linreg.optim.adagrad import Adagrad, AdagradConfig, TorchAdagradConfig
from linreg.optim.adam import Adam, AdamConfig, TorchAdamConfig
from linreg.optim.adamw import AdamW, AdamWConfig, TorchAdamWConfig
from linreg.optim.base import OptimizerConfig, param_groups
from linreg.optim.rmsprop import RMSprop, RMSpropConfig, TorchRMSpropConfig
from linreg.optim.sgd import ManualSGD, ManualSGDConfig, TorchSGDConfig

__all__ = ["SCHEMAS", "Adagrad", "Adam", "AdamW", "ManualSGD", "OptimizerConfig", "RMSprop",
           "build", "check", "is_sgd", "ridge_note"]

SCHEMAS = {"manual_sgd": ManualSGDConfig, "torch_sgd": TorchSGDConfig,
           "adagrad": AdagradConfig, "torch_adagrad": TorchAdagradConfig,
           "rmsprop": RMSpropConfig, "torch_rmsprop": TorchRMSpropConfig,
           "adam": AdamConfig, "torch_adam": TorchAdamConfig,
           "adamw": AdamWConfig, "torch_adamw": TorchAdamWConfig}

# each option's from-scratch class and torch.optim's name for it (looked up when built:
# torch.optim's first use pulls in torch._dynamo, about a second)
_CLASSES = {"sgd": (ManualSGD, "SGD"), "adagrad": (Adagrad, "Adagrad"),
            "rmsprop": (RMSprop, "RMSprop"), "adam": (Adam, "Adam"), "adamw": (AdamW, "AdamW")}


def family(cfg: OptimizerConfig) -> str:
    """"sgd", "adagrad", "rmsprop", "adam" or "adamw", from scratch or torch's."""
    return cfg.name.removeprefix("torch_").removeprefix("manual_")


def is_sgd(cfg: OptimizerConfig) -> bool:
    """SGD, whose stable learning rates the Hessian gives (exact.diagnostics' lr_max)."""
    return family(cfg) == "sgd"


def ridge_note(cfg: OptimizerConfig) -> str | None:
    """Why a run with weight decay has no ridge reference, or None when it has one: every
    optimizer but AdamW adds weight_decay * p to the gradient, so where it stops the gradient
    of mean(r^2) + (weight_decay / 2) |p|^2 is 0 -- ridge's point."""
    if family(cfg) == "adamw" and cfg.weight_decay > 0:
        return ("adamw decays the parameters apart from the gradient (p *= 1 - lr * "
                "weight_decay), so where it stops weight_decay * p balances Adam's normalised "
                "step, about sign(gradient): near the loss's minimum within |p| <= "
                "1 / weight_decay, not at ridge's point")
    return None


def check(cfg: OptimizerConfig) -> None:
    """Combinations torch.optim refuses, caught before any work is done."""
    prefix = "optimizer"
    if is_sgd(cfg) and cfg.nesterov and (cfg.momentum <= 0 or cfg.dampening != 0):
        raise ConfigError(f"{prefix}.nesterov: needs momentum > 0 and dampening = 0 "
                          f"(got momentum={cfg.momentum}, dampening={cfg.dampening})")
    if family(cfg) in ("adam", "adamw"):
        betas = list(cfg.betas)
        if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
            raise ConfigError(f"{prefix}.betas: must be two numbers in [0, 1), got {betas}")


def hyperparameters(cfg: OptimizerConfig) -> dict:
    """The keyword arguments of the optimizer's class: its config without name, decay_bias
    and (manual_sgd's) divide_by_batch_size, which linreg handles itself."""
    skip = {"name", "decay_bias", "divide_by_batch_size"}
    hyper = {k: v for k, v in vars(cfg).items() if k not in skip}
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    return hyper


def build(cfg: OptimizerConfig, params: list[torch.Tensor], batch_size: int):
    """Build the optimizer chosen by `cfg.name` over `params` (with decay_bias false, the
    1-D ones in a parameter group of their own without weight decay)."""
    manual, torch_name = _CLASSES[family(cfg)]
    groups = param_groups(params, cfg.decay_bias)
    hyper = hyperparameters(cfg)
    if cfg.name.startswith("torch_"):
        import torch.optim

        # foreach=False: the single-tensor code, whose operations the from-scratch ones copy
        # (torch's default on the CPU anyway)
        return getattr(torch.optim, torch_name)(groups, **hyper, foreach=False)
    if cfg.name == "manual_sgd":
        divisor = batch_size if cfg.divide_by_batch_size else 1
        return ManualSGD(groups, grad_divisor=divisor, **hyper)
    return manual(groups, **hyper)
