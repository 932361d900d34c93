"""The real command line, in a subprocess, as a user runs it."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from linreg.records import metrics

CONSOLE_SCRIPT = Path(sys.executable).parent / "linreg"
# a backend that cannot load: a run that used pyplot or any window backend would fail with it
TRAP_BACKEND = "module://linreg_tests_no_such_backend"


@pytest.mark.parametrize("command", [None, [str(CONSOLE_SCRIPT)]], ids=["python-m", "script"])
def test_cli_runs_and_reports(tmp_path, run_cli, run_folder, command):
    if command is not None:
        assert CONSOLE_SCRIPT.exists(), "the venv has no `linreg` console script"
    result = run_cli(tmp_path, "train.epochs=3", command=command,
                     extra_env={"MPLBACKEND": TRAP_BACKEND, "DISPLAY": ""})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    folder = run_folder(tmp_path)
    m = metrics.read(folder)
    assert m["epochs_run"] == 3 and m["steps"] == 21
    out = result.stdout
    assert f"w = [{m['w'][0]:.4f}], b = {m['b']:.4f}" in out
    assert f"full-data MSE {m['loss']['full_mse']:.4f}" in out
    assert f"train loss {m['loss']['train']:.4f}" in out
    assert f"run folder: {folder.resolve()}" in out.splitlines()[-1]
    assert "epoch 3/3" in out  # plain progress lines when not on a terminal
    assert (folder / "fit.png").stat().st_size > 0 and (folder / "loss.png").stat().st_size > 0


def test_a_diverged_run_says_so_without_nan_or_digit_walls(tmp_path, run_cli):
    result = run_cli(tmp_path, "optimizer.lr=10", "train.epochs=5")
    assert result.returncode == 0, result.stderr  # diverging is a result, not an error
    summary = "\n".join(result.stdout.splitlines()[-3:])
    assert "full-data MSE not finite" in summary and "status diverged" in summary
    assert "nan" not in summary and "e+" in summary  # huge w, b in scientific notation


def test_the_backend_trap_works(tmp_path, run_cli):
    """What test_cli_runs_and_reports relies on: pyplot does fail with the trap backend."""
    check = run_cli(tmp_path, command=[sys.executable, "-c",
                                       "import matplotlib.pyplot as p; p.figure()"],
                    extra_env={"MPLBACKEND": TRAP_BACKEND})
    assert check.returncode != 0 and "linreg_tests_no_such_backend" in check.stderr


def test_issue_override_line(tmp_path, run_cli, run_folder):
    line = ("optimizer=torch_sgd optimizer.lr=0.05 train.epochs=100 init=zeros "
            "loss=huber loss.delta=5")
    result = run_cli(tmp_path, *line.split())
    assert result.returncode == 0, result.stderr
    folder = run_folder(tmp_path)
    config = OmegaConf.load(folder / ".hydra" / "config.yaml")
    assert config.optimizer.name == "torch_sgd" and config.optimizer.lr == 0.05
    assert config.train.epochs == 100
    assert config.init.name == "zeros"
    assert config.loss.name == "huber" and config.loss.delta == 5.0
    assert OmegaConf.load(folder / ".hydra" / "overrides.yaml") == line.split()
    m = metrics.read(folder)
    assert m["status"] == "ok" and m["epochs_run"] == 100 and m["steps"] == 700


def test_two_runs_started_together_get_their_own_folders(tmp_path, run_cli):
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda i: run_cli(tmp_path, "train.epochs=2", f"seed={i}"),
                                range(2)))
    for result in results:
        assert result.returncode == 0, result.stderr
    folders = sorted(p for p in tmp_path.glob("outputs/runs/*/*") if p.is_dir())
    assert len(folders) == 2
    seeds = sorted(OmegaConf.load(f / ".hydra" / "config.yaml").seed for f in folders)
    assert seeds == [0, 1]
    for folder in folders:
        assert metrics.read(folder)["epochs_run"] == 2
