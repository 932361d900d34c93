"""The optimization chapter's lessons (conf/experiment/optimizers.yaml, schedules.yaml): what
the README's Lessons table says a student sees."""

from __future__ import annotations

import pytest

from linreg.config import validate
from linreg.runner import run

OLS_MSE = 196.1283  # least squares on the tutorial's data (test_train)


def run_job(compose_config, tmp_path, name: str, *overrides: str) -> dict:
    folder = tmp_path / "_".join([name, *overrides]).replace("/", "-")
    return run(compose_config([f"+experiment={name}", *overrides]), folder)


def test_the_race_uses_each_optimizer_it_names(compose_config):
    names = {}
    for racer in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"):
        cfg = validate(compose_config(["+experiment=optimizers",
                                       f"+experiment/optimizers={racer}"]))
        names[racer] = (cfg.optimizer.name, cfg.optimizer.lr, cfg.train.batch_size)
    assert names == {"sgd": ("manual_sgd", 0.1, 120), "momentum": ("manual_sgd", 0.03, 120),
                     "nesterov": ("manual_sgd", 0.03, 120), "adagrad": ("adagrad", 3.0, 120),
                     "rmsprop": ("rmsprop", 0.3, 120), "adam": ("adam", 1.0, 120)}


def epochs_to_1_percent(result: dict) -> int | None:
    return next((i + 1 for i, v in enumerate(result["history"]["full_mse"])
                 if v < OLS_MSE * 1.01), None)


def test_the_race_on_a_round_bowl(compose_config, tmp_path):
    """50 full-batch steps: Nesterov first within 1% of least squares, SGD next; the adaptive
    ones arrive late (Adagrad's steps shrink) or, Adam, still circle the minimum."""
    found = {racer: run_job(compose_config, tmp_path, "optimizers",
                            f"+experiment/optimizers={racer}")
             for racer in ("sgd", "nesterov", "adagrad", "adam")}
    epochs = {racer: epochs_to_1_percent(r) for racer, r in found.items()}
    assert epochs == {"sgd": 17, "nesterov": 7, "adagrad": 47, "adam": None}
    assert found["adam"]["w"][0] > found["adam"]["reference"]["w_ols"][0] + 1  # overshot


def test_a_schedule_lets_minibatch_sgd_settle(compose_config, tmp_path):
    constant = run_job(compose_config, tmp_path, "schedules", "scheduler=none")
    cosine = run_job(compose_config, tmp_path, "schedules", "scheduler=cosine")
    assert constant["loss"]["full_mse"] > OLS_MSE + 3  # jittering around the minimum
    assert cosine["loss"]["full_mse"] == pytest.approx(OLS_MSE, abs=0.01)
    assert max(cosine["history"]["full_mse"][-10:]) < OLS_MSE + 0.1
    assert max(constant["history"]["full_mse"][-10:]) > OLS_MSE + 10
