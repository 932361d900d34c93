"""dataset.poly_degree and dataset.truth=cubic: the expanded design, its exact reference, and
the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from linreg.config import validate
from linreg.data import load
from linreg.data.synthetic import CUBIC
from linreg.errors import ConfigError
from linreg.runner import run


def dataset(compose_config, *overrides: str):
    return load(validate(compose_config(list(overrides))).dataset)


def test_the_features_are_the_powers_of_x_in_float64(compose_config):
    plain = dataset(compose_config)
    expanded = dataset(compose_config, "dataset.poly_degree=4")
    x = plain.X[:, 0].numpy()
    assert str(expanded.X.dtype) == "torch.float64"
    np.testing.assert_allclose(expanded.X.numpy(), np.stack([x, x * x, x * x * x, x ** 4], 1),
                               rtol=1e-15, atol=0)
    assert expanded.feature_names == ["x", "x^2", "x^3", "x^4"]
    assert expanded.w_true == plain.w_true + [0.0, 0.0, 0.0]  # the truth is a line


def test_the_reference_is_least_squares_on_the_expanded_design(compose_config):
    result = run(compose_config(["dataset.poly_degree=3", "dataset.standardize=true",
                                 "train.epochs=1"]), None)
    data = dataset(compose_config)
    x, y = data.X[:, 0].numpy(), data.y[:, 0].numpy()
    design = np.stack([x, x ** 2, x ** 3, np.ones_like(x)], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    mse = float(np.mean((design @ coef - y) ** 2))
    assert result["reference"]["mse_ols"] == pytest.approx(mse, rel=1e-10)
    raw = result["original_units"]  # the fit turned back into coefficients of x, x^2, x^3
    assert raw["w_ols"] == pytest.approx(coef[:3].tolist(), rel=1e-8)
    assert raw["b_ols"] == pytest.approx(coef[3], rel=1e-8)


def test_a_noiseless_cubic_is_recovered_exactly_at_degree_3(compose_config):
    result = run(compose_config(["dataset.truth=cubic", "dataset.noise=0",
                                 "dataset.poly_degree=3", "dataset.standardize=true",
                                 "train.epochs=1"]), None)
    assert result["reference"]["w_true"] == CUBIC
    assert result["original_units"]["w_ols"] == pytest.approx(CUBIC, rel=1e-9)
    assert result["reference"]["mse_ols"] < 1e-20
    line = run(compose_config(["dataset.truth=cubic", "train.epochs=1"]), None)
    assert line["reference"]["w_true"] is None and line["param_error"] is None


@pytest.mark.parametrize("overrides,message", [
    (["dataset=diabetes", "dataset.poly_degree=2"],
     "dataset.poly_degree: 2 needs a dataset of one feature; diabetes has 10"),
    (["dataset.truth=cubic", "dataset.n_features=2"], "dataset.truth: cubic draws one feature"),
    (["dataset.poly_degree=0"], "dataset.poly_degree: must be >= 1"),
    (["dataset.truth=quartic"], "dataset.truth: must be one of linear, cubic"),
])
def test_bad_settings_are_refused_naming_the_key(compose_config, overrides, message):
    with pytest.raises(ConfigError, match=message):
        dataset(compose_config, *overrides)
