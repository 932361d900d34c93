"""`dataset=diabetes`: scikit-learn's bundled diabetes data, 442 rows x 10 features, raw units."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from linreg.data.table import Data, DatasetConfig


@dataclass
class DiabetesConfig(DatasetConfig):
    """scikit-learn's bundled diabetes data (no download), in its raw units."""

    name: str = "diabetes"
    standardize: bool = True


def load_diabetes(cfg: DiabetesConfig, dtype: str = "float32") -> Data:
    from sklearn.datasets import load_diabetes as sklearn_diabetes

    # scaled=False: the raw units (age in years, bmi, blood pressure, ...); scikit-learn's
    # default pre-scales every column, which would hide the standardization lesson
    bunch = sklearn_diabetes(scaled=False)
    return Data(
        X=torch.as_tensor(bunch.data, dtype=torch.float64),  # every value fits float32
        y=torch.as_tensor(bunch.target, dtype=torch.float64).reshape(-1, 1),
        feature_names=list(bunch.feature_names),
        source="diabetes",
    )

