"""Training, in-process: determinism, reaching least squares, the epoch loss, divergence."""

from __future__ import annotations

import json
import math

import pytest
import torch

from linreg.data.synthetic import SyntheticConfig, load_synthetic
from linreg.loss import MSE
from linreg.model import predict
from linreg.optim import ManualSGD
from linreg.records import metrics
from linreg.runner import run
from linreg.train import TrainConfig, train

TIMES = ("wall_s", "train_s")


def without_times(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in TIMES}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, compose_config) -> dict:
    """The default run's metrics.json, as written."""
    run_dir = tmp_path_factory.mktemp("default_run")
    run(compose_config([]), run_dir)
    return metrics.read(run_dir)


def run_metrics(compose_config, overrides, run_dir) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    run(compose_config(overrides), run_dir)
    return metrics.read(run_dir)


def test_same_config_same_numbers(default_run, compose_config, tmp_path):
    again = run_metrics(compose_config, [], tmp_path / "again")
    assert without_times(again) == without_times(default_run)
    assert set(default_run) - set(without_times(default_run)) == set(TIMES)


def test_same_config_same_numbers_random_init_and_momentum(compose_config, tmp_path):
    overrides = ["init=normal", "optimizer.momentum=0.5", "dataset.n_features=3",
                 "train.epochs=5", "seed=7"]
    first = run_metrics(compose_config, overrides, tmp_path / "first")
    second = run_metrics(compose_config, overrides, tmp_path / "second")
    assert without_times(first) == without_times(second)


def test_default_run_reaches_least_squares(default_run):
    ref = default_run["reference"]
    # the tutorial's numbers for its data (make_regression, random_state 42)
    assert ref["w_ols"] == [pytest.approx(24.045, abs=1e-3)]
    assert ref["b_ols"] == pytest.approx(15.615, abs=1e-3)
    assert ref["mse_ols"] == pytest.approx(196.13, abs=1e-2)
    assert ref["w_true"] == [pytest.approx(23.764, abs=1e-3)]
    assert ref["b_true"] == 12.0
    assert default_run["status"] == "ok" and default_run["epochs_run"] == 50
    assert ref["mse_ols"] <= default_run["loss"]["full_mse"] <= 1.01 * ref["mse_ols"]
    assert default_run["history"]["full_mse"][-1] == default_run["loss"]["full_mse"]
    assert default_run["w"][0] == pytest.approx(ref["w_ols"][0], abs=0.5)
    assert default_run["b"] == pytest.approx(ref["b_ols"], abs=0.5)
    assert default_run["r2"] == pytest.approx(0.7145, abs=1e-3)


def test_epoch_loss_is_sample_weighted_mean_of_batch_losses():
    """Checked against an independent loop (autograd, torch.optim.SGD) with a partial batch."""
    data = load_synthetic(SyntheticConfig()).cast(torch.float32)  # as training sees it
    cfg = TrainConfig(epochs=2, batch_size=16, shuffle=False, drop_last=False)
    w, b = torch.full((1, 1), 0.5), torch.zeros(1)
    history = train(data, w, b, MSE(), ManualSGD([w, b], lr=0.01), cfg, seed=0)

    w_, b_ = torch.full((1, 1), 0.5, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w_, b_], lr=0.01)
    for epoch in range(2):
        weighted, means, rows = 0.0, [], 0
        for start in range(0, 120, 16):  # 7 batches of 16, then one of 8
            xb, yb = data.X[start:start + 16], data.y[start:start + 16]
            opt.zero_grad()
            batch_loss = ((predict(xb, w_, b_) - yb) ** 2).mean()
            batch_loss.backward()
            opt.step()
            weighted += batch_loss.item() * len(xb)
            means.append(batch_loss.item())
            rows += len(xb)
        assert rows == 120
        assert history.train_loss[epoch] == pytest.approx(weighted / 120, rel=1e-5)
        # neither the plain mean of batch means nor the tutorial's sum of means / len(y)
        assert history.train_loss[epoch] != pytest.approx(sum(means) / len(means), rel=1e-4)
        assert history.train_loss[epoch] != pytest.approx(sum(means) / 120, rel=1e-2)
    assert history.steps == 16


@pytest.mark.parametrize(("drop_last", "per_epoch"), [(True, 7), (False, 8)])
def test_steps_are_epochs_times_batches(compose_config, tmp_path, drop_last, per_epoch):
    result = run_metrics(compose_config, ["train.epochs=3", f"train.drop_last={drop_last}"],
                         tmp_path)
    assert result["steps"] == 3 * per_epoch
    assert result["epochs_run"] == 3


def test_default_steps(default_run):
    assert default_run["steps"] == 50 * 7


def test_three_features_shapes(compose_config, tmp_path):
    result = run_metrics(compose_config, ["dataset.n_features=3", "train.epochs=30"], tmp_path)
    assert len(result["w"]) == 3 and isinstance(result["b"], float)
    assert len(result["reference"]["w_ols"]) == 3 and len(result["reference"]["w_true"]) == 3
    # noise 15 on three true coefficients: least squares recovers them roughly
    ref = result["reference"]
    for fitted, true in zip(ref["w_ols"], ref["w_true"], strict=True):
        assert abs(fitted - true) < 5
    assert result["loss"]["full_mse"] < 2 * result["reference"]["mse_ols"]


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_divergence_stops_and_still_records(compose_config, tmp_path):
    result = run(compose_config(["optimizer.lr=5"]), tmp_path)
    assert result["status"] == "diverged"
    written = strict_json((tmp_path / "metrics.json").read_text())
    assert written["status"] == "diverged"
    assert 1 <= written["epochs_run"] < 50
    assert written["steps"] == 7 * written["epochs_run"]
    for series in ("train_loss", "full_mse"):
        assert len(written["history"][series]) == written["epochs_run"]
    # the last epoch is not finite: written as null, never NaN or Infinity
    assert None in written["history"]["full_mse"] or None in written["w"] + [written["b"]]
    finite = [v for v in written["history"]["full_mse"] if v is not None]
    assert all(math.isfinite(v) for v in finite)
    assert (tmp_path / "fit.png").stat().st_size > 0
    assert (tmp_path / "loss.png").stat().st_size > 0
    events = sorted(p.name for p in tmp_path.glob("events.out.tfevents.*"))
    assert len(events) == 2 and events[1].endswith(".figures")  # the run's, its figures'


def test_shuffle_changes_the_numbers(compose_config, tmp_path):
    shuffled = run_metrics(compose_config, ["train.epochs=3"], tmp_path / "shuffled")
    ordered = run_metrics(compose_config, ["train.epochs=3", "train.shuffle=false"],
                          tmp_path / "ordered")
    assert shuffled["history"]["train_loss"] != ordered["history"]["train_loss"]
    assert shuffled["w"] != ordered["w"]


def test_seed_changes_the_numbers(compose_config, tmp_path):
    seed0 = run_metrics(compose_config, ["train.epochs=3"], tmp_path / "seed0")
    seed1 = run_metrics(compose_config, ["train.epochs=3", "seed=1"], tmp_path / "seed1")
    assert seed0["history"]["train_loss"] != seed1["history"]["train_loss"]
    assert seed0["w"] != seed1["w"]
    # the data and its least-squares fit do not depend on the seed
    assert seed0["reference"] == seed1["reference"]
