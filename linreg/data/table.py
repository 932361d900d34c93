"""A dataset as training sees it: `Data`, float32 tensors; and the schema every option shares.

Training computes in float32: data and settings beyond its largest number would overflow, so
the loaders (and config.validate, for settings) refuse them with FLOAT32_RANGE in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from omegaconf import MISSING

FLOAT32_MAX = float(torch.finfo(torch.float32).max)
FLOAT32_RANGE = "float32's range, ±3.4e+38 (training computes in float32)"


@dataclass
class DatasetConfig:
    name: str = MISSING
    # scale each feature to mean 0, std 1 with statistics of the training rows only
    standardize: bool = False



@dataclass
class Data:
    """Features X (n, d) and targets y (n, 1), float32, with the true coefficients if known."""

    X: torch.Tensor
    y: torch.Tensor
    w_true: list[float] | None = None
    b_true: float | None = None
    feature_names: list[str] | None = None
    source: str = ""  # how messages name the data: "synthetic", "diabetes", a file's path

    def __post_init__(self) -> None:
        n = self.X.shape[0]
        if self.X.ndim != 2 or self.y.shape != (n, 1):
            raise ValueError(f"expected X (n, d) and y (n, 1), got {tuple(self.X.shape)} "
                             f"and {tuple(self.y.shape)}")

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    def feature_name(self, j: int) -> str:
        return self.feature_names[j] if self.feature_names else f"x{j}"

