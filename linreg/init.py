"""Initial parameters: the `init` config group. Weights are (d, 1) and the bias (1,)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from linreg.data.table import range_text, wider_hint
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
    """Weights and bias drawn from N(mean, std^2), seeded from the run's seed; with
    `zero_bias`, b = 0 (as d2l initializes: w ~ N(0, 0.01^2), b = 0)."""

    name: str = "normal"
    mean: float = 0.0
    std: float = field(default=1.0, metadata={"ge": 0})
    zero_bias: bool = False


SCHEMAS = {"tutorial": TutorialInit, "zeros": ZerosInit, "normal": NormalInit}


def initial_params(cfg, n_features: int, seed: int, dtype: torch.dtype = torch.float32,
                   intercept: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Return fresh leaf tensors w (n_features, 1) and b (1,) in `dtype`; b is 0 without an
    intercept (the weights are drawn as with one: the same seed, the same w)."""
    if cfg.name == "tutorial":
        w = torch.full((n_features, 1), cfg.w, dtype=dtype)
        b = torch.full((1,), cfg.b, dtype=dtype)
    elif cfg.name == "zeros":
        w, b = torch.zeros(n_features, 1, dtype=dtype), torch.zeros(1, dtype=dtype)
    else:
        generator = torch.Generator().manual_seed(seed)
        w = torch.normal(cfg.mean, cfg.std, (n_features, 1), generator=generator, dtype=dtype)
        b = torch.zeros(1, dtype=dtype) if cfg.zero_bias else \
            torch.normal(cfg.mean, cfg.std, (1,), generator=generator, dtype=dtype)
        # mean and std are within the dtype's range (config.validate), mean + std * z may not be
        if not (torch.isfinite(w).all() and torch.isfinite(b)):
            name = str(dtype).removeprefix("torch.")
            raise ConfigError(f"init.std: {cfg.std} around init.mean {cfg.mean} draws a start "
                              f"beyond {range_text(name)}{wider_hint(name)}")
    if not intercept:
        b = torch.zeros(1, dtype=dtype)
    return w, b
