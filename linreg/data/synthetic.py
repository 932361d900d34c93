"""`dataset=synthetic`: scikit-learn's make_regression (the tutorial's data), optionally with
outliers; drawn by an exact copy of it, which spares the default run scikit-learn's import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from linreg.data.table import Data, DatasetConfig, range_text, wider_hint
from linreg.errors import ConfigError


@dataclass
class SyntheticConfig(DatasetConfig):
    """scikit-learn's make_regression; the defaults are the tutorial's exact settings."""

    name: str = "synthetic"
    n_samples: int = field(default=120, metadata={"ge": 2})
    n_features: int = field(default=1, metadata={"ge": 1})
    # features with a nonzero true weight; capped at n_features (scikit-learn's default, 10)
    n_informative: int = field(default=10, metadata={"ge": 0})
    noise: float = field(default=15.0, metadata={"ge": 0})
    bias: float = 12.0
    random_state: int = field(default=42, metadata={"ge": 0, "le": 2**32 - 1})  # numpy's range
    # fraction of targets pushed far off (up, by outlier_shift standard deviations of y)
    outliers: float = field(default=0.0, metadata={"ge": 0, "le": 0.5})
    outlier_shift: float = 5.0
    # linear: make_regression; cubic: y = bias + 1.2 x - 1.7 x^2 + 0.9333 x^3 + noise with
    # x uniform on [-2, 2] (d2l's polynomial, 5 + 1.2 x - 3.4 x^2 / 2! + 5.6 x^3 / 3!)
    truth: str = field(default="linear", metadata={"one_of": ("linear", "cubic")})


def make_regression(n_samples: int, n_features: int, n_informative: int, noise: float,
                    bias: float, random_state: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's make_regression(..., coef=True), with its defaults (one target, shuffled).

    The same draws from the same numpy RandomState in the same order, so every number is
    identical (tests/data/test_datasets.py compares the two). Written out because importing
    scikit-learn, and scipy behind it, costs over a second of a run that takes two.
    """
    rng = np.random.RandomState(random_state)
    n_informative = min(n_features, n_informative)
    X = rng.standard_normal(size=(n_samples, n_features))
    coef = np.zeros((n_features, 1))
    coef[:n_informative, :] = 100 * rng.uniform(size=(n_informative, 1))
    y = np.dot(X, coef) + bias
    if noise > 0.0:
        y += rng.normal(scale=noise, size=y.shape)
    rows = np.arange(n_samples)
    rng.shuffle(rows)
    X, y = X[rows], y[rows]
    columns = np.arange(n_features)
    rng.shuffle(columns)
    X[:, :] = X[:, columns]
    return X, np.squeeze(y), np.squeeze(coef[columns])


CUBIC = [1.2, -1.7, 5.6 / 6]  # the cubic truth's coefficients of x, x^2, x^3


def cubic(n_samples: int, noise: float, bias: float, random_state: int
          ) -> tuple[np.ndarray, np.ndarray]:
    """x uniform on [-2, 2], y = bias + 1.2 x - 1.7 x^2 + 0.9333 x^3 + N(0, noise^2)."""
    rng = np.random.RandomState(random_state)
    x = rng.uniform(-2, 2, size=n_samples)
    y = bias + sum(c * x ** (k + 1) for k, c in enumerate(CUBIC))
    return x.reshape(-1, 1), y + rng.normal(scale=noise, size=n_samples) if noise else y


def load_synthetic(cfg: SyntheticConfig, dtype: str = "float32") -> Data:
    _check_memory(cfg.n_samples, cfg.n_features)
    if cfg.truth == "cubic":
        if cfg.n_features != 1:
            raise ConfigError(f"dataset.truth: cubic draws one feature x (got "
                              f"dataset.n_features={cfg.n_features}); for x^2, x^3, ... set "
                              f"dataset.poly_degree")
        x, y = cubic(cfg.n_samples, cfg.noise, cfg.bias, cfg.random_state)
        return Data(X=torch.as_tensor(x, dtype=torch.float64),
                    y=torch.as_tensor(y, dtype=torch.float64).reshape(-1, 1),
                    true_poly=list(CUBIC), b_true=float(cfg.bias), feature_names=["x"],
                    source="synthetic (cubic)")
    X, y, coef = make_regression(cfg.n_samples, cfg.n_features, cfg.n_informative, cfg.noise,
                                 cfg.bias, cfg.random_state)
    # X is standard normal and |bias| within the dtype's range (config.validate), so only
    # the noise, then the outliers, can carry a target beyond it
    beyond = f"beyond {range_text(dtype)}{wider_hint(dtype)}"
    with np.errstate(over="ignore"):  # an overflow to inf is what is looked for
        if (peak := _beyond(y, dtype)) is not None:
            raise ConfigError(f"dataset.noise: {cfg.noise} draws targets as large as "
                              f"{peak:.3g}, {beyond}")
        if cfg.outliers > 0:
            y = push_outliers(y, cfg.outliers, cfg.outlier_shift, cfg.random_state)
            if (peak := _beyond(y, dtype)) is not None:
                raise ConfigError(f"dataset.outlier_shift: {cfg.outlier_shift} pushes targets "
                                  f"as far as {peak:.3g}, {beyond}")
    return Data(  # float64, as drawn: training casts to its dtype after standardizing
        X=torch.as_tensor(X, dtype=torch.float64),
        y=torch.as_tensor(y, dtype=torch.float64).reshape(-1, 1),
        w_true=[float(c) for c in coef.reshape(-1)],
        b_true=float(cfg.bias),
        source="synthetic",
    )


def _check_memory(n_samples: int, n_features: int) -> None:
    """Refuse, before numpy asks for it, data larger than the machine's memory."""
    # at least: X and y in float64 as drawn, and in float32 as trained, at the same time
    need = 12 * n_samples * (n_features + 1)
    try:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not known here (Windows): numpy will say
        return
    if need > have:
        key = "dataset.n_features" if n_features > n_samples else "dataset.n_samples"
        features = f"{n_features} feature" + ("s" if n_features > 1 else "")
        raise ConfigError(f"{key}: {n_samples} rows of {features} need at least "
                          f"{need / 2**30:,.0f} GiB of memory; this machine has "
                          f"{have / 2**30:,.0f} GiB")


def _beyond(y: np.ndarray, dtype: str) -> float | None:
    """The largest |y| if `dtype` cannot hold every value of y (it would be inf), else None."""
    if np.isfinite(y.astype(np.dtype(dtype))).all():
        return None
    return float(np.abs(y).max())


def push_outliers(y: np.ndarray, fraction: float, shift: float, seed: int) -> np.ndarray:
    """Move round(fraction * n) targets, chosen by `seed`, up by 0.5 to 1.5 x shift std(y)."""
    # a generator of its own: the clean data stay exactly make_regression's
    rng = np.random.default_rng(seed)
    n = len(y)
    rows = rng.choice(n, size=round(fraction * n), replace=False)
    y = y.copy()
    y[rows] += shift * y.std() * rng.uniform(0.5, 1.5, size=len(rows))
    return y

