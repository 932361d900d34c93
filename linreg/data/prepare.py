"""From loaded data to what training sees: a seeded validation split, then standardization.

The statistics for standardization come from the training rows only (the validation rows
must not leak into training), and a fitted w and b can be turned back into the original
units. Everything here is float64, the data's own values: training casts to its dtype after.
With val_fraction 0 and standardize false the data pass through untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from linreg.data.table import Data
from linreg.errors import DataError


@dataclass
class Standardizer:
    """x -> (x - mean) / std, column by column; mean and std are (1, d) float64. A model
    without an intercept is standardized without centring (mean 0, std the root mean square):
    centring would add an intercept in the raw units."""

    mean: torch.Tensor
    std: torch.Tensor

    def apply(self, X: torch.Tensor) -> torch.Tensor:
        return ((X.double() - self.mean) / self.std).to(X.dtype)

    def invert(self, X: torch.Tensor) -> torch.Tensor:
        return (X.double() * self.std + self.mean).to(X.dtype)

    def to_original(self, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """w (d, 1), b (1,) on standardized features -> the same line on the raw features.

        y = w . (x - mean) / std + b = (w / std) . x + (b - w . mean / std)
        """
        w_raw = w.double() / self.std.T
        b_raw = b.double() - (self.mean @ w_raw).reshape(1)
        return w_raw, b_raw

    def from_original(self, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The inverse of to_original: a line on raw features -> on standardized ones."""
        w_std = w.double() * self.std.T
        return w_std, b.double() + (self.mean @ w.double()).reshape(1)


@dataclass
class Prepared:
    """The training and validation rows as training sees them (standardized if asked), in
    float64; `raw` is the training rows as loaded."""

    train: Data
    val: Data | None
    scaler: Standardizer | None
    raw: Data | None = None  # None: the training rows are not standardized, raw is train

    def __post_init__(self) -> None:
        if self.raw is None:
            self.raw = self.train


def prepare(data: Data, val_fraction: float, standardize: bool, seed: int,
            batch_size: int, intercept: bool = True) -> Prepared:
    """Split off `val_fraction` of the rows (seeded), then standardize if asked (centred only
    when the model has an intercept)."""
    train, val = split(data, val_fraction, seed)
    held = f" ({val.X.shape[0]} held out for validation)" if val is not None else ""
    if train.X.shape[0] < 2:  # a line fits one point exactly: nothing to learn or check
        raise DataError(f"{data.source}: a single training row{held}; a fit needs at least 2")
    if train.X.shape[0] < batch_size:
        raise DataError(f"{data.source}: {train.X.shape[0]} training rows{held} are fewer "
                        f"than train.batch_size={batch_size}")
    if not standardize:
        return Prepared(train, val, None, train)
    scaler = fit_standardizer(train, center=intercept)
    raw, train = train, replace(train, X=scaler.apply(train.X))
    if val is not None:
        val = replace(val, X=scaler.apply(val.X))
    return Prepared(train, val, scaler, raw)


def split(data: Data, val_fraction: float, seed: int) -> tuple[Data, Data | None]:
    """Training and validation rows; both keep the rows' original order."""
    if val_fraction == 0:
        return data, None
    n = data.X.shape[0]
    n_val = math.ceil(val_fraction * n)  # as scikit-learn's train_test_split rounds
    if n - n_val < 1:
        raise DataError(f"{data.source}: {n} rows are too few for train.val_fraction="
                        f"{val_fraction}: no training rows would be left")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    val_rows, train_rows = order[:n_val].sort().values, order[n_val:].sort().values
    return (replace(data, X=data.X[train_rows], y=data.y[train_rows]),
            replace(data, X=data.X[val_rows], y=data.y[val_rows]))


def fit_standardizer(train: Data, center: bool = True) -> Standardizer:
    """Mean and standard deviation of each training column, in float64 (without `center`:
    mean 0 and the root mean square)."""
    X = train.X.double()
    if center:
        mean, std = X.mean(dim=0, keepdim=True), X.std(dim=0, keepdim=True, correction=0)
    else:
        mean, std = torch.zeros(1, X.shape[1], dtype=torch.float64), X.square().mean(
            dim=0, keepdim=True).sqrt()
    for j in range(X.shape[1]):
        # a spread within float64's rounding of the mean is no spread at all
        if std[0, j] <= 1e-13 * abs(float(mean[0, j])) or std[0, j] == 0:
            raise DataError(f"{train.source}: feature '{train.feature_name(j)}' is constant "
                            f"({float(mean[0, j]):g}) on the {X.shape[0]} training rows, so it "
                            f"cannot be standardized (drop it, or set dataset.standardize=false)")
    return Standardizer(mean=mean, std=std)
