"""`dataset.poly_degree`: polynomial features x, x^2, ..., x^k of a one-feature dataset, for
the model-capacity lesson. Applied as the data are loaded, in float64, before the validation
split and standardization (prepare.py): the exact reference is then least squares on the
expanded design, and standardization scales each power on the training rows.

Without standardization the powers differ hugely in size (x^10 against x), and SGD can only
take steps the largest allows; the note before training says so (exact.py).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from linreg.data.table import Data, dtype_max, range_text, wider_hint
from linreg.errors import ConfigError


def expand(data: Data, degree: int, dtype: str = "float32", standardize: bool = False) -> Data:
    """`data` with its one column x replaced by x, x^2, ..., x^degree (itself for degree 1);
    w_true padded with zeros to the new width, or None if the truth has more powers than
    the model (a cubic truth seen through a line: the true curve is kept in `true_poly`)."""
    true = data.true_poly or data.w_true
    if degree > 1 and data.n_features != 1:
        raise ConfigError(f"dataset.poly_degree: {degree} needs a dataset of one feature; "
                          f"{data.source} has {data.n_features}")
    w_true = None
    if true is not None and len(true) <= max(degree, data.n_features):
        w_true = true + [0.0] * (max(degree, data.n_features) - len(true))
    if degree == 1:
        return replace(data, w_true=w_true) if data.true_poly else data
    x = data.X[:, :1].double()
    X = torch.cat([x ** k for k in range(1, degree + 1)], dim=1)
    peak = float(X.abs().max())
    if not standardize and peak > dtype_max(dtype):  # standardized, the powers are scaled
        raise ConfigError(f"dataset.poly_degree: {degree} makes features as large as "
                          f"{peak:.3g}, beyond {range_text(dtype)}{wider_hint(dtype)}; "
                          f"or set dataset.standardize=true")
    name = data.feature_names[0] if data.feature_names else "x"
    names = [name] + [f"{name}^{k}" for k in range(2, degree + 1)]
    return replace(data, X=X, w_true=w_true, feature_names=names, poly_degree=degree,
                   true_poly=true if data.n_features == 1 else None)
