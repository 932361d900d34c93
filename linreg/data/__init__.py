"""Datasets: the `dataset` config group. Each option turns its config into a `Data`.

    synthetic  scikit-learn's make_regression (the tutorial's data), optionally with outliers
               (synthetic.py)
    diabetes   scikit-learn's bundled diabetes data, 442 rows x 10 features, in raw units
               (diabetes.py)
    csv        a CSV file of numbers (csvfile.py)

Every option has `standardize` and `poly_degree` (x, x^2, ..., x^k of one feature: poly.py,
applied as the data are loaded); the split into training and validation rows and the
standardization itself happen after loading (prepare.py), the same for every option.
"""

from __future__ import annotations

from linreg.data import poly
from linreg.data.csvfile import CSVConfig, load_csv
from linreg.data.diabetes import DiabetesConfig, load_diabetes
from linreg.data.synthetic import SyntheticConfig, load_synthetic
from linreg.data.table import DTYPES, Data

__all__ = ["DTYPES", "SCHEMAS", "Data", "load"]

SCHEMAS = {"synthetic": SyntheticConfig, "diabetes": DiabetesConfig, "csv": CSVConfig}
LOADERS = {"synthetic": load_synthetic, "diabetes": load_diabetes, "csv": load_csv}


def load(cfg, dtype: str = "float32") -> Data:
    """Build the dataset chosen by `cfg.name`, in float64; its values must fit `dtype`, the
    one training computes in (train.dtype)."""
    data = LOADERS[cfg.name](cfg, dtype)
    return poly.expand(data, cfg.poly_degree, dtype, cfg.standardize)
