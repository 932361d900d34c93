"""A dataset: `Data`, tensors X and y with what is known about them; the schema every option
shares; and the dtypes training can compute in.

The loaders keep the data's own float64 values (the exact reference and standardization are
computed from them); training then computes in `train.dtype`. Data and settings beyond that
dtype's largest number would overflow, so the loaders (and config.validate, for settings)
refuse them with `range_text(dtype)` in the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from omegaconf import MISSING

DTYPES = {"float32": torch.float32, "float64": torch.float64}  # train.dtype's values
FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def dtype_max(dtype: str) -> float:
    return float(torch.finfo(DTYPES[dtype]).max)


def range_text(dtype: str) -> str:
    """"float32's range, ±3.4e+38 (training computes in float32)"."""
    return f"{dtype}'s range, ±{dtype_max(dtype):.2g} (training computes in {dtype})"


def wider_hint(dtype: str) -> str:
    """What to do about a value beyond `dtype`'s range: a wider dtype, if there is one."""
    return "; train.dtype=float64 holds up to ±1.8e+308" if dtype == "float32" else ""


FLOAT32_RANGE = range_text("float32")


@dataclass
class DatasetConfig:
    name: str = MISSING
    # scale each feature to mean 0, std 1 with statistics of the training rows only
    standardize: bool = False
    # x, x^2, ..., x^k of a one-feature dataset (poly.py); 1: the feature itself
    poly_degree: int = field(default=1, metadata={"ge": 1, "le": 30})


@dataclass
class Data:
    """Features X (n, d) and targets y (n, 1), with the true coefficients if known. As loaded
    (and prepared) float64; `cast` gives the copy training computes with."""

    X: torch.Tensor
    y: torch.Tensor
    w_true: list[float] | None = None
    b_true: float | None = None
    feature_names: list[str] | None = None
    source: str = ""  # how messages name the data: "synthetic", "diabetes", a file's path
    poly_degree: int = 1  # X holds x, x^2, ..., x^poly_degree of one feature x (poly.py)
    # the true coefficients of x, x^2, ... of a one-feature truth, whatever the model's degree
    true_poly: list[float] | None = None

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

    def cast(self, dtype: torch.dtype) -> Data:
        """The same data in `dtype` (itself if it is already)."""
        if self.X.dtype == dtype and self.y.dtype == dtype:
            return self
        return replace(self, X=self.X.to(dtype), y=self.y.to(dtype))
