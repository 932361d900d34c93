"""The exact reference through a run's metrics.json (issue 15): NIST's StRD files as CSV runs,
a model without an intercept, float64 training, and the diagnostics' lr_max against training."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from linreg.records import metrics
from linreg.reference import strd
from linreg.runner import run

STRD = Path(__file__).parents[1].parent / "shared" / "reference" / "strd"  # as test_reference
NEEDS = {"coef": 9, "se": 6, "r2": 9, "resid_sd": 9}  # significant digits (strd.digits)


def write_csv(path: Path, X: np.ndarray, y: np.ndarray) -> Path:
    """repr: every float64 written so that it reads back as the very same value."""
    names = [f"x{j + 1}" for j in range(X.shape[1])]
    rows = [",".join([*names, "y"])]
    rows += [",".join(repr(float(v)) for v in [*x, t]) for x, t in zip(X, y, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


def csv_run(compose_config, tmp_path: Path, X, y, *overrides: str) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_csv(tmp_path / "data.csv", np.asarray(X), np.asarray(y))
    run_dir = tmp_path / "run"
    run(compose_config(["dataset=csv", f"dataset.path={path}", *overrides]), run_dir,
        quiet=True)
    return metrics.read(run_dir)


@pytest.mark.parametrize("standardize", ["true", "false"])
@pytest.mark.parametrize("name", ["Norris", "Longley", "Wampler1"])
def test_a_run_on_strd_data_records_the_certified_values(compose_config, tmp_path, name,
                                                         standardize):
    if not (STRD / f"{name}.dat").is_file():  # as tests/test_reference.py: skipped if absent
        pytest.skip(f"{STRD}/{name}.dat is not here")
    data = strd.read(STRD / f"{name}.dat")
    X = data.design()  # Wampler1: x, x^2, ..., x^5 as columns of the CSV
    result = csv_run(compose_config, tmp_path, X, data.y, f"dataset.standardize={standardize}",
                     "train.epochs=1", f"train.batch_size={min(16, len(data.y))}")
    assert result["data"]["standardize"] is (standardize == "true")
    raw, ref = result["original_units"], result["reference"]
    se = ref["se_ols_raw"]
    found = {
        "coef": [strd.digits(q, c) for q, c in zip(raw["w_ols"], data.coef, strict=True)]
        + [strd.digits(raw["b_ols"], data.coef_intercept)],
        "se": [strd.digits(q, c) for q, c in zip(se["w"], data.se_coef, strict=True)]
        + [strd.digits(se["b"], data.se_intercept)],
        "r2": [strd.digits(ref["r2"], data.r2)],
        "resid_sd": [strd.digits(ref["resid_sd"], data.resid_sd)],
    }
    for what, need in NEEDS.items():
        assert min(found[what]) >= need, (what, found[what])
    if standardize == "false":  # the units training sees are the raw ones
        assert ref["w_ols"] == raw["w_ols"] and ref["se_ols"] == se


def test_no_intercept_trains_no_bias_and_fits_through_the_origin(compose_config, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 5, size=(40, 2))
    y = X @ np.array([2.0, -1.0]) + 3.0 + rng.normal(0, 0.1, 40)  # an intercept it may not use
    want, *_ = np.linalg.lstsq(X, y, rcond=None)
    for standardize in ("false", "true"):
        common = ["model.intercept=false", f"dataset.standardize={standardize}",
                  "train.batch_size=40", "init=normal"]
        first = csv_run(compose_config, tmp_path / standardize, X, y, *common, "train.epochs=1")
        lr = first["diagnostics"]["lr_best"]  # full-batch descent's best constant step
        result = csv_run(compose_config, tmp_path / standardize, X, y, *common,
                         "train.epochs=2000", f"optimizer.lr={lr}")
        ref, raw = result["reference"], result["original_units"]
        assert result["status"] == "ok" and ref["intercept"] is False
        assert result["b"] == 0.0 and raw["b"] == 0.0 and ref["b_ols"] == 0.0
        assert raw["b_ols"] == 0.0 and ref["se_ols"]["b"] is None
        assert np.allclose(raw["w_ols"], want, rtol=1e-12)
        assert result["diagnostics"]["n_params"] == 2
        # R^2 about 0, as the reference counts it without an intercept
        rss = float(np.sum((y - X @ want) ** 2))
        assert ref["r2"] == pytest.approx(1 - rss / float(np.sum(y * y)), rel=1e-12)
        assert result["loss"]["full_mse"] == pytest.approx(ref["mse_ols"], rel=1e-3)
    assert result["data"]["mean"] == [0.0, 0.0]  # scaled, not centred: no intercept hidden


def test_init_normal_can_keep_the_bias_at_zero(compose_config):
    import torch

    from linreg.config import validate
    from linreg.init import initial_params

    def start(*overrides: str) -> tuple[torch.Tensor, torch.Tensor]:
        return initial_params(validate(compose_config(["init=normal", *overrides])).init, 3, 5)

    (w, b), (w0, b0) = start(), start("init.zero_bias=true")
    assert torch.equal(w, w0) and float(b) != 0 and float(b0) == 0  # the same w drawn
    _, b64 = initial_params(validate(compose_config(["init=normal"])).init, 3, 5,
                            torch.float64, intercept=False)
    assert b64.dtype == torch.float64 and float(b64) == 0  # no intercept: b = 0 whatever init


def test_float64_training_reaches_least_squares_beyond_float32(compose_config, tmp_path):
    common = ["dataset.n_features=3", "dataset.standardize=true", "train.batch_size=120",
              "train.epochs=400", "init=zeros"]
    result = {}
    for dtype in ("float32", "float64"):
        ref = run(compose_config([*common, "train.epochs=1"]), None)["diagnostics"]
        result[dtype] = run(compose_config([*common, f"train.dtype={dtype}",
                                            f"optimizer.lr={ref['lr_best']}"]), None)

    def error(r):  # relative distance to the exact least squares point
        theta = np.array([*r["w"], r["b"]])
        ols = np.array([*r["reference"]["w_ols"], r["reference"]["b_ols"]])
        return np.linalg.norm(theta - ols) / np.linalg.norm(ols)

    assert result["float64"]["reference"] == result["float32"]["reference"]
    assert error(result["float64"]) < 1e-13 < 1e-8 < error(result["float32"])


def test_lr_max_separates_convergence_from_divergence_on_the_tutorial_data(compose_config,
                                                                           caplog):
    full_batch = ["train.batch_size=120", "train.drop_last=true", "train.epochs=3000"]
    diag = run(compose_config(["train.epochs=1"]), None)["diagnostics"]
    lr_max = diag["lr_max"]
    assert lr_max == pytest.approx(2 / diag["eig_max"])
    below = run(compose_config([*full_batch, f"optimizer.lr={0.99 * lr_max}"]), None)
    assert below["status"] == "ok"
    assert below["loss"]["full_mse"] == pytest.approx(below["reference"]["mse_ols"], rel=1e-5)
    with caplog.at_level(logging.WARNING, logger="linreg.exact"):
        above = run(compose_config([*full_batch, f"optimizer.lr={1.01 * lr_max}"]), None)
    assert above["status"] == "diverged" or \
        above["history"]["full_mse"][-1] > 1e6 * above["history"]["full_mse"][0]
    assert f"optimizer.lr={1.01 * lr_max:g} is above 2/λ_max = {lr_max:.3g}" in caplog.text


def test_momentum_raises_the_limit_by_one_plus_beta(compose_config):
    plain = run(compose_config(["train.epochs=1"]), None)["diagnostics"]
    heavy = run(compose_config(["train.epochs=1", "optimizer.momentum=0.5"]), None)
    assert heavy["diagnostics"]["lr_max"] == pytest.approx(1.5 * plain["lr_max"])


def test_the_default_runs_reference_is_the_float64_datas_least_squares(compose_config):
    from linreg import data as dataset
    from linreg.config import validate

    result = run(compose_config(["train.epochs=1"]), None)
    data = dataset.load(validate(compose_config([])).dataset)
    A = np.column_stack([data.X.numpy(), np.ones(120)])
    theta, *_ = np.linalg.lstsq(A, data.y.numpy()[:, 0], rcond=None)
    ref = result["reference"]
    assert ref["w_ols"][0] == pytest.approx(theta[0], rel=1e-13)
    assert ref["b_ols"] == pytest.approx(theta[1], rel=1e-13)
    diag = result["diagnostics"]
    assert diag["eigenvalues"] == pytest.approx(
        sorted(np.linalg.eigvalsh(2 * A.T @ A / 120)), rel=1e-12)


FULL_BATCH = ["train.batch_size=120", "train.drop_last=true", "train.epochs=3000"]


def test_lr_max_honours_weight_decay(compose_config, caplog):
    """torch's weight decay adds its value to every eigenvalue (the bias is decayed too): the
    limit moves from 2/λ_max to 2/(λ_max + weight_decay), and it still separates the runs."""
    decay = ["optimizer.weight_decay=1.0"]
    plain = run(compose_config(["train.epochs=1"]), None)["diagnostics"]
    diag = run(compose_config(["train.epochs=1", *decay]), None)["diagnostics"]
    assert diag["eigenvalues"] == [v + 1.0 for v in plain["eigenvalues"]]
    lr_max = diag["lr_max"]
    assert lr_max == pytest.approx(2 / (plain["eig_max"] + 1.0)) and lr_max < plain["lr_max"]
    below = run(compose_config([*FULL_BATCH, *decay, f"optimizer.lr={0.99 * lr_max}"]), None)
    assert below["status"] == "ok"
    assert below["loss"]["full_mse"] == pytest.approx(below["reference"]["ridge"]["mse"],
                                                      rel=1e-5)
    with caplog.at_level(logging.WARNING, logger="linreg.exact"):
        above = run(compose_config([*FULL_BATCH, *decay, f"optimizer.lr={1.01 * lr_max}"]),
                    None)
    assert above["status"] == "diverged" or \
        above["history"]["full_mse"][-1] > 1e6 * above["history"]["full_mse"][0]
    assert f"is above 2/λ_max = {lr_max:.3g}" in caplog.text


def test_huber_and_mae_diagnostics_say_what_applies(compose_config):
    mse = run(compose_config(["train.epochs=1"]), None)["diagnostics"]
    huber = run(compose_config(["train.epochs=1", "loss=huber"]), None)["diagnostics"]
    assert (mse["kind"], huber["kind"]) == ("exact", "bound") and "delta" in huber["why"]
    # curvature 1 per row within delta, 2 for the MSE: half the eigenvalues, twice the limit
    assert huber["eigenvalues"] == pytest.approx([v / 2 for v in mse["eigenvalues"]])
    assert huber["lr_max"] == pytest.approx(2 * mse["lr_max"])
    assert huber["lr_best"] is None and huber["rate_best"] is None
    for factor in (0.99, 10.0):  # a sufficient bound: the tutorial's noise puts most rows
        result = run(compose_config([*FULL_BATCH, "loss=huber",  # beyond delta = 1
                                     f"optimizer.lr={factor * huber['lr_max']}"]), None)
        losses = result["history"]["train_loss"]
        assert result["status"] == "ok" and losses[-1] == pytest.approx(losses[-2], rel=1e-6)
    heavy = run(compose_config(["train.epochs=1", "loss=huber", "optimizer.momentum=0.5"]),
                None)["diagnostics"]
    assert heavy["lr_max"] is None and "momentum" in heavy["why"]
    mae = run(compose_config(["train.epochs=1", "loss=mae"]), None)["diagnostics"]
    assert mae["kind"] == "none" and "piecewise linear" in mae["why"]
    assert mae["lr_max"] is None and mae["eigenvalues"] is None and mae["n_rows"] == 120
