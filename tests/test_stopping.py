"""Early stopping and the tolerance stop (linreg/train_stop.py), checked against a run of the
same config without stopping: a run is deterministic, so its per-epoch losses are the stopped
run's up to where it stopped, and the expected epochs are worked out from them here."""

from __future__ import annotations

import math

import pytest

from linreg.config import validate
from linreg.errors import ConfigError
from linreg.runner import run

NOISY = ["train.val_fraction=0.25", "optimizer.lr=0.3", "train.epochs=60"]


def expected_stop(losses: list[float], patience: int, min_delta: float) -> tuple[int, int]:
    """(stop epoch, best epoch), from 1: the first epoch that ends `patience` epochs in a row
    none of which went below the lowest loss before it by more than min_delta."""
    best, improved = math.inf, []  # best: the loss of the last improvement
    for v in losses:
        improved.append(v < best - min_delta)
        best = v if improved[-1] else best
    for epoch in range(patience, len(losses) + 1):
        if not any(improved[epoch - patience:epoch]):
            last = max(i for i in range(epoch) if improved[i])
            return epoch, last + 1
    raise AssertionError("never stops")


@pytest.fixture(scope="module")
def full(compose_config) -> dict:
    return run(compose_config(NOISY), None)


@pytest.mark.parametrize("patience,min_delta", [(3, 0.0), (5, 0.0), (4, 5.0)])
def test_early_stopping_stops_at_the_right_epoch(compose_config, full, patience, min_delta):
    stopped = run(compose_config([*NOISY, f"train.early_stopping.patience={patience}",
                                  f"train.early_stopping.min_delta={min_delta}"]), None)
    epoch, best = expected_stop(full["history"]["val_loss"], patience, min_delta)
    assert epoch < 60  # the lesson's point: it stops early
    assert stopped["stop_reason"] == "early_stopping" and stopped["status"] == "ok"
    assert (stopped["epochs_run"], stopped["best_epoch"]) == (epoch, best)
    assert stopped["history"]["val_loss"] == full["history"]["val_loss"][:epoch]
    assert not stopped["restored_best"]  # the last epoch's parameters, as without stopping
    assert stopped["loss"]["val"] == full["history"]["val_loss"][epoch - 1]


def test_restore_best_gives_the_best_epochs_parameters(compose_config, full):
    stopped = run(compose_config([*NOISY, "train.early_stopping.patience=5",
                                  "train.early_stopping.restore_best=true"]), None)
    best = stopped["best_epoch"]
    val = full["history"]["val_loss"]
    assert val[best - 1] == min(val[:stopped["epochs_run"]])
    assert stopped["restored_best"] and best < stopped["epochs_run"]
    # the full run's record of that epoch: w, b (as floats, exact) and its losses
    probe = run(compose_config([*NOISY, f"train.epochs={best}"]), None)
    assert (stopped["w"], stopped["b"]) == (probe["w"], probe["b"])
    assert stopped["loss"] == probe["loss"] and stopped["r2_val"] == probe["r2_val"]
    assert len(stopped["history"]["val_loss"]) == stopped["epochs_run"]  # history stays whole


def test_without_validation_rows_the_training_loss_is_watched(compose_config):
    overrides = ["optimizer.lr=0.3", "train.epochs=60"]
    full = run(compose_config(overrides), None)
    stopped = run(compose_config([*overrides, "train.early_stopping.patience=4"]), None)
    epoch, best = expected_stop(full["history"]["train_loss"], 4, 0.0)
    assert (stopped["epochs_run"], stopped["best_epoch"]) == (epoch, best)


def test_no_patience_runs_every_epoch_and_still_records_the_best(full):
    assert full["stop_reason"] == "epochs" and full["epochs_run"] == 60
    val = full["history"]["val_loss"]
    assert full["best_epoch"] == val.index(min(val)) + 1


def test_epochs_to_tol_is_recorded_and_stop_at_tol_stops_there(compose_config, full):
    mse_ols, history = full["reference"]["mse_ols"], full["history"]["full_mse"]
    for tol in (0.001, 0.05):
        expected = next((i + 1 for i, v in enumerate(history) if v <= mse_ols * (1 + tol)),
                        None)
        measured = run(compose_config([*NOISY, f"train.tol_rel={tol}"]), None)
        assert measured["epochs_to_tol"] == expected and measured["epochs_run"] == 60
    default = run(compose_config(["train.epochs=60"]), None)
    mse_ols, history = default["reference"]["mse_ols"], default["history"]["full_mse"]
    expected = next(i + 1 for i, v in enumerate(history) if v <= mse_ols * 1.001)
    assert 1 < expected < 60 and default["epochs_to_tol"] == expected
    stopped = run(compose_config(["train.epochs=60", "train.stop_at_tol=true"]), None)
    assert stopped["stop_reason"] == "tolerance" and stopped["epochs_run"] == expected
    assert stopped["history"]["full_mse"] == history[:expected]


def test_a_diverged_run_says_so_as_its_stop_reason(compose_config):
    result = run(compose_config(["optimizer.lr=5", "train.early_stopping.patience=100"]), None)
    assert result["status"] == result["stop_reason"] == "diverged"
    assert result["epochs_to_tol"] is None


@pytest.mark.parametrize("override,message", [
    ("train.early_stopping.patience=-1", "train.early_stopping.patience: must be >= 0"),
    ("train.early_stopping.min_delta=-0.5", "train.early_stopping.min_delta: must be >= 0"),
    ("train.tol_rel=0", "train.tol_rel: must be > 0"),
])
def test_bad_stopping_settings_are_refused_by_key(compose_config, override, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_config([override]))


def test_restore_best_puts_the_best_parameters_back_into_the_tensors():
    import torch

    from linreg.data.synthetic import SyntheticConfig, load_synthetic
    from linreg.loss import MSE
    from linreg.optim import ManualSGD
    from linreg.train import TrainConfig, train
    from linreg.train_stop import EarlyStoppingConfig

    data = load_synthetic(SyntheticConfig())
    cfg = TrainConfig(epochs=60, early_stopping=EarlyStoppingConfig(patience=4, restore_best=True))
    w, b = torch.full((1, 1), 0.5), torch.zeros(1)
    history = train(data, w, b, MSE(), ManualSGD([w, b], lr=0.3), cfg, seed=0)
    best = history.best_epoch
    assert history.restored_best and best < history.epochs_run
    assert (w.reshape(-1).tolist(), b.tolist()) == (history.w[best - 1], [history.b[best - 1]])
    assert history.w[best - 1] != history.w[-1]


def test_restore_best_without_patience_keeps_the_last_epoch(compose_config, full):
    kept = run(compose_config([*NOISY, "train.early_stopping.restore_best=true"]), None)
    assert not kept["restored_best"] and kept["w"] == full["w"] and kept["epochs_run"] == 60


def test_an_interrupted_run_says_so_and_restores_a_whole_epoch():
    import torch

    from linreg.data.synthetic import SyntheticConfig, load_synthetic
    from linreg.loss import MSE
    from linreg.optim import ManualSGD
    from linreg.train import TrainConfig, train
    from linreg.train_stop import EarlyStoppingConfig

    class StopsAtStep(ManualSGD):
        steps = 0

        def step(self) -> None:
            self.steps += 1
            if self.steps == 7 * 12 + 3:  # in epoch 13 (7 batches an epoch)
                raise KeyboardInterrupt
            super().step()

    data = load_synthetic(SyntheticConfig())
    cfg = TrainConfig(epochs=60, early_stopping=EarlyStoppingConfig(patience=50,
                                                                    restore_best=True))
    w, b = torch.full((1, 1), 0.5), torch.zeros(1)
    history = train(data, w, b, MSE(), StopsAtStep([w, b], lr=0.3), cfg, seed=0)
    assert history.status == history.stop_reason == "interrupted"
    assert history.epochs_run == 12 and history.restored_best
    best = history.train_loss.index(min(history.train_loss))
    assert history.best_epoch == best + 1 and w.reshape(-1).tolist() == history.w[best]
