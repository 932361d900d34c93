"""The lessons in conf/experiment/: every preset composes, every job of every sweep is a valid
config, every preset runs from the command line (few epochs), and what each lesson tells a
student (README-lessons) is what its settings really show."""

from __future__ import annotations

import importlib.resources
import itertools
import json
import math
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from linreg.config import validate
from linreg.exact import least_squares
from linreg.optim import ManualSGD
from linreg.runner import flat_hparams, run

CONF = importlib.resources.files("linreg.conf")  # conf/, as the installed package ships it
# preset -> number of jobs (1: a single run, no -m)
PRESETS = {"tutorial": 1, "tutorial_manual": 2, "learning_rate": 7, "batch_size": 5, "init": 3,
           "robust_loss": 3, "data_size": 7, "momentum": 4, "standardization": 4,
           "weight_decay": 6, "optimizers": 6, "schedules": 7,
           "capacity": 4, "early_stopping": 3, "framework": 4}


def preset_jobs(name: str) -> list[list[str]]:
    """Each job's overrides, expanded from the preset's hydra.sweeper.params as the basic
    sweeper does (the cartesian product, in the order written)."""
    with initialize_config_module(version_base="1.3", config_module="linreg.conf"):
        cfg = compose("config", overrides=[f"+experiment={name}"], return_hydra_config=True)
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    parsed = OverridesParser.create().parse_overrides([f"{k}={v}" for k, v in params.items()])
    choices = [[f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()] for o in parsed]
    return [list(job) for job in itertools.product(*choices)]


def run_job(compose_config, tmp_path: Path, name: str, *overrides: str) -> dict:
    folder = tmp_path / "_".join([name, *overrides]).replace("/", "-")
    return run(compose_config([f"+experiment={name}", *overrides]), folder)


def test_the_presets_are_the_yaml_files_of_conf_experiment():
    names = {p.name for p in (CONF / "experiment").iterdir()}
    assert {n.removesuffix(".yaml") for n in names if n.endswith(".yaml")} == set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_every_job_of_every_preset_is_a_valid_and_distinct_config(compose_config, name):
    jobs = preset_jobs(name)
    assert len(jobs) == PRESETS[name]
    configs = [flat_hparams(validate(compose_config([f"+experiment={name}", *job])))
               for job in jobs]
    assert len({json.dumps(c, sort_keys=True, default=str) for c in configs}) == len(jobs)


def test_the_tutorial_preset_is_the_tutorials_program(compose_config):
    settings = validate(compose_config(["+experiment=tutorial"]))
    assert settings.optimizer.name == "torch_sgd" and settings.optimizer.lr == 0.01
    assert (settings.train.epochs, settings.train.batch_size) == (50, 16)
    assert (settings.init.w, settings.init.b) == (0.5, 0.0)
    assert settings.dataset.n_samples == 120 and settings.loss.name == "mse"
    assert settings.plot.lang == "zh"


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_runs_from_the_command_line(run_cli, tmp_path, name):
    sweep = PRESETS[name] > 1
    done = run_cli(tmp_path, *(["-m"] if sweep else []), f"+experiment={name}",
                   "train.epochs=2")
    assert done.returncode == 0, done.stderr[-2000:]
    found = sorted(tmp_path.glob("outputs/sweeps/*/*/**/metrics.json" if sweep
                                 else "outputs/runs/*/*/metrics.json"))
    assert len(found) == PRESETS[name], found
    if sweep:  # each job's epochs go to its train.log, not the console
        assert "epoch 1/2" not in done.stdout
        assert all("epoch 1/2" in (p.parent / "train.log").read_text() for p in found)
    for path in found:
        result = json.loads(path.read_text())
        assert result["epochs_run"] <= 2 and result["status"] in ("ok", "diverged")
        assert (path.parent / "fit.png").is_file() and (path.parent / "loss.png").is_file()
        one_feature = len(result["w"]) == 1
        assert (path.parent / "trajectory.png").is_file() == one_feature


def test_a_sweep_preset_without_multirun_says_to_add_it(run_cli, tmp_path):
    done = run_cli(tmp_path, "+experiment=learning_rate", "train.epochs=1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "this config sweeps optimizer.lr: add -m" in done.stdout + done.stderr
    assert len(list(tmp_path.glob("outputs/runs/*/*/metrics.json"))) == 1


# --- what each lesson shows, with the preset's own settings -----------------------------------


def test_tutorial_manual_step_learns_batch_size_times_slower(compose_config, tmp_path):
    slow = run_job(compose_config, tmp_path, "tutorial_manual",
                   "optimizer.divide_by_batch_size=true")
    fixed = run_job(compose_config, tmp_path, "tutorial_manual",
                    "optimizer.divide_by_batch_size=false")
    ols = fixed["reference"]["mse_ols"]
    assert fixed["loss"]["full_mse"] < 1.01 * ols
    assert slow["loss"]["full_mse"] > 2 * ols


def test_learning_rate_too_small_is_slow_too_large_diverges(compose_config, tmp_path):
    small = run_job(compose_config, tmp_path, "learning_rate", "optimizer.lr=0.001")
    good = run_job(compose_config, tmp_path, "learning_rate", "optimizer.lr=0.1")
    large = run_job(compose_config, tmp_path, "learning_rate", "optimizer.lr=1.5")
    ols = good["reference"]["mse_ols"]
    assert small["status"] == "ok" and small["loss"]["full_mse"] > 1.5 * ols
    assert good["loss"]["full_mse"] < 1.01 * ols
    assert large["status"] == "diverged" and large["epochs_run"] < 50


def test_every_start_ends_at_least_squares(compose_config, tmp_path):
    for start in ("zeros", "tutorial", "far"):
        result = run_job(compose_config, tmp_path, "init", f"+experiment/init={start}")
        assert math.dist(result["w"] + [result["b"]],
                         result["reference"]["w_ols"] + [result["reference"]["b_ols"]]) < 0.2


def test_outliers_drag_mse_but_not_mae_or_huber(compose_config, tmp_path):
    fits = {loss: run_job(compose_config, tmp_path, "robust_loss", f"loss={loss}")
            for loss in ("mse", "mae", "huber")}
    b_true = fits["mse"]["reference"]["b_true"]
    off = {loss: abs(fit["b"] - b_true) for loss, fit in fits.items()}
    assert off["mse"] > 15  # pulled up by the 12 outliers
    assert off["mae"] < 8 and off["huber"] < 8


def test_more_data_smaller_standard_error_and_parameter_error(compose_config, tmp_path):
    results = [run_job(compose_config, tmp_path, "data_size", f"dataset.n_samples={n}")
               for n in (10, 1000, 10000)]
    se = [r["reference"]["se_ols"]["w"][0] for r in results]
    assert se[0] > 5 * se[1] > 15 * se[2]
    errors = [r["param_error"]["w"] for r in results]
    assert errors[2] < errors[0]
    for r in results:  # full batch to convergence: SGD is least squares, the error is the data's
        assert r["param_error"]["w"] == pytest.approx(r["param_error"]["w_ols"], abs=1e-3)


def test_momentum_gets_closer_in_the_same_number_of_steps(compose_config, tmp_path):
    distance = {}
    for variant in ("plain", "momentum_05", "momentum_09", "nesterov_09"):
        r = run_job(compose_config, tmp_path, "momentum", f"+experiment/momentum={variant}")
        distance[variant] = math.dist(r["w"] + [r["b"]],
                                      r["reference"]["w_ols"] + [r["reference"]["b_ols"]])
    assert (distance["plain"] > distance["momentum_05"] > distance["momentum_09"]
            > distance["nesterov_09"])


def test_standardization_makes_diabetes_trainable(compose_config, tmp_path):
    raw = run_job(compose_config, tmp_path, "standardization", "dataset.standardize=false",
                  "optimizer.lr=0.01")
    crawl = run_job(compose_config, tmp_path, "standardization", "dataset.standardize=false",
                    "optimizer.lr=0.00001")
    scaled = run_job(compose_config, tmp_path, "standardization", "dataset.standardize=true",
                     "optimizer.lr=0.01")
    assert raw["status"] == "diverged" and raw["epochs_run"] == 1
    # the bias barely moves from 0, far from where least squares has it
    assert crawl["status"] == "ok" and abs(crawl["b"]) < 1
    assert abs(crawl["reference"]["b_ols"]) > 100
    assert scaled["loss"]["full_mse"] < 1.02 * scaled["reference"]["mse_ols"]
    assert crawl["loss"]["full_mse"] > 1.15 * crawl["reference"]["mse_ols"]
    assert scaled["r2_val"] > crawl["r2_val"] + 0.05


def test_weight_decay_validation_loss_falls_then_rises(compose_config, tmp_path):
    val = {}
    for decay in (0.0, 0.1, 1.0):
        r = run_job(compose_config, tmp_path, "weight_decay", f"optimizer.weight_decay={decay}")
        val[decay] = r["loss"]["val"]
        if decay > 0:  # minibatch SGD ends near the exact ridge point, not at least squares
            ridge = r["reference"]["ridge"]
            assert r["loss"]["full_mse"] == pytest.approx(ridge["mse"], rel=0.01)
            assert ridge["mse"] > r["reference"]["mse_ols"]
    assert val[0.1] < val[0.0] < val[1.0]


# --- the ridge reference is where SGD with weight decay converges ---------------------------


@pytest.mark.parametrize(("optimizer", "effective_decay"), [
    (["optimizer=torch_sgd", "optimizer.lr=0.05", "optimizer.weight_decay=0.5"], 0.5),
    (["optimizer.lr=0.05", "optimizer.weight_decay=0.5", "optimizer.momentum=0.9",
      "optimizer.nesterov=true"], 0.5),
    # the tutorial's step divides the gradient by the batch size but not the decay
    (["optimizer.lr=1.0", "optimizer.weight_decay=0.02", "optimizer.divide_by_batch_size=true"],
     0.02 * 40),
])
def test_full_batch_sgd_converges_to_the_ridge_reference(compose_config, tmp_path, optimizer,
                                                         effective_decay):
    result = run(compose_config([*optimizer, "dataset.n_features=3", "dataset.n_samples=40",
                                 "train.batch_size=40", "train.epochs=3000"]), tmp_path)
    ridge = result["reference"]["ridge"]
    assert ridge["weight_decay"] == pytest.approx(effective_decay)
    assert result["w"] == pytest.approx(ridge["w"], abs=1e-4)
    assert result["b"] == pytest.approx(ridge["b"], abs=1e-4)
    assert math.dist(ridge["w"], result["reference"]["w_ols"]) > 1  # a different point


def test_ridge_is_the_stationary_point_of_torchs_weight_decay():
    # grad of mean((Xw + b - y)^2) + weight_decay * (w, b) vanishes at the ridge solution
    from linreg.exact import ridge

    gen = torch.Generator().manual_seed(0)
    X, y = torch.randn(30, 2, generator=gen), torch.randn(30, 1, generator=gen)
    X, y = X.double(), y.double()  # the fit is float64 (linreg.reference): checked in float64
    fit = ridge(X, y, weight_decay=0.3)
    w, b = fit.w.clone().requires_grad_(), fit.b.clone().requires_grad_()
    ((X @ w + b - y) ** 2).mean().backward()
    opt = ManualSGD([w, b], lr=1.0, weight_decay=0.3)
    for p in (w, b):  # the step SGD would take from there: nothing
        assert torch.allclose(p.grad + 0.3 * p.detach(), torch.zeros_like(p), atol=1e-12)
    before = [p.detach().clone() for p in (w, b)]
    opt.step()
    for p, q in zip((w, b), before, strict=True):
        assert torch.allclose(p.detach(), q, atol=1e-12)
    assert not torch.allclose(least_squares(X, y).w, fit.w, atol=1e-3)
