"""Datasets: the `dataset` config group. Each option turns its config into a `Data`."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SyntheticConfig:
    """scikit-learn's make_regression; the defaults are the tutorial's exact settings."""

    name: str = "synthetic"
    n_samples: int = field(default=120, metadata={"ge": 2})
    n_features: int = field(default=1, metadata={"ge": 1})
    noise: float = field(default=15.0, metadata={"ge": 0})
    bias: float = 12.0
    random_state: int = 42


@dataclass
class Data:
    """Features X (n, d) and targets y (n, 1), float32, with the true coefficients if known."""

    X: torch.Tensor
    y: torch.Tensor
    w_true: list[float] | None = None
    b_true: float | None = None

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.ndim != 2 or self.y.shape != (n, 1):
            raise ValueError(f"expected X (n, d) and y (n, 1), got {tuple(self.X.shape)} "
                             f"and {tuple(self.y.shape)}")

    @property
    def n_features(self) -> int:
        return self.X.shape[1]


def load_synthetic(cfg: SyntheticConfig) -> Data:
    # imported here: scikit-learn (and scipy behind it) costs a second of start-up
    from sklearn.datasets import make_regression

    X, y, coef = make_regression(
        n_samples=cfg.n_samples, n_features=cfg.n_features, noise=cfg.noise,
        bias=cfg.bias, coef=True, random_state=cfg.random_state,
    )
    return Data(
        X=torch.as_tensor(X, dtype=torch.float32),
        y=torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1),
        w_true=[float(c) for c in coef.reshape(-1)],
        b_true=float(cfg.bias),
    )


SCHEMAS = {"synthetic": SyntheticConfig}
LOADERS = {"synthetic": load_synthetic}


def load(cfg) -> Data:
    """Build the dataset chosen by `cfg.name`."""
    return LOADERS[cfg.name](cfg)
