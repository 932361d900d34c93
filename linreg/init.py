"""Initial parameters: the `init` config group. Weights are (d, 1) and the bias (1,)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from linreg.data.table import FLOAT32_RANGE
from linreg.errors import ConfigError


@dataclass
class TutorialInit:
    """The tutorial's start: every weight `w`, bias `b`."""

    name: str = "tutorial"
    w: float = 0.5
    b: float = 0.0


@dataclass
class ZerosInit:
    name: str = "zeros"


@dataclass
class NormalInit:
    """Weights and bias drawn from N(mean, std^2), seeded from the run's seed."""

    name: str = "normal"
    mean: float = 0.0
    std: float = field(default=1.0, metadata={"ge": 0})


SCHEMAS = {"tutorial": TutorialInit, "zeros": ZerosInit, "normal": NormalInit}


def initial_params(cfg, n_features: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return fresh leaf tensors w (n_features, 1) and b (1,)."""
    if cfg.name == "tutorial":
        w = torch.full((n_features, 1), cfg.w)
        b = torch.full((1,), cfg.b)
    elif cfg.name == "zeros":
        w, b = torch.zeros(n_features, 1), torch.zeros(1)
    else:
        generator = torch.Generator().manual_seed(seed)
        w = torch.normal(cfg.mean, cfg.std, (n_features, 1), generator=generator)
        b = torch.normal(cfg.mean, cfg.std, (1,), generator=generator)
        # mean and std are within float32's range (config.validate), mean + std * z may not be
        if not (torch.isfinite(w).all() and torch.isfinite(b)):
            raise ConfigError(f"init.std: {cfg.std} around init.mean {cfg.mean} draws a start "
                              f"beyond {FLOAT32_RANGE}")
    return w, b
