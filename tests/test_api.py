"""linreg from Python: the command's overrides as arguments, the command's numbers and folders,
its one-line errors as LinregError, and many calls in one process."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli_in, single_run_folder
from hydra.core.global_hydra import GlobalHydra

import linreg


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def numbers(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in ("wall_s", "train_s")}


def test_a_run_gives_the_command_s_numbers_and_folder(in_tmp):
    args = ("optimizer.lr=0.05", "train.epochs=5")
    result = linreg.run(*args)
    assert result.run_dir.parent.parent == (in_tmp / "outputs" / "runs").resolve()
    on_disk = json.loads((result.run_dir / "metrics.json").read_text())
    assert numbers(on_disk) == numbers(result.metrics)
    assert result.history["full_mse"] == result.metrics["history"]["full_mse"]
    assert sorted(result.figures) == ["fit.png", "loss.png", "trajectory.png"]
    assert all(png.startswith(b"\x89PNG") for png in result.figures.values())
    cli = in_tmp / "cli"
    cli.mkdir()
    assert run_cli_in(cli, *args).returncode == 0
    command = json.loads((single_run_folder(cli) / "metrics.json").read_text())
    assert numbers(command) == numbers(result.metrics)
    assert not GlobalHydra.instance().is_initialized()  # no Hydra state left behind


def test_many_calls_in_one_process_each_get_their_own_folder_and_the_same_numbers(in_tmp):
    results = [linreg.run("train.epochs=3") for _ in range(3)]
    assert len({r.run_dir for r in results}) == 3
    assert len({json.dumps(numbers(r.metrics)) for r in results}) == 1


def test_in_memory_writes_nothing(in_tmp):
    result = linreg.run("train.epochs=3", save=False)
    assert result.run_dir is None and result.metrics["epochs_run"] == 3
    assert sorted(result.figures) == ["fit.png", "loss.png", "trajectory.png"]
    assert list(in_tmp.iterdir()) == []


def test_bad_input_raises_the_command_s_one_line(in_tmp):
    with pytest.raises(linreg.LinregError, match=r"^optimizer\.lr: must be > 0, got -1\.0$"):
        linreg.run("optimizer.lr=-1")
    with pytest.raises(linreg.LinregError, match="optimizer: unknown option 'lbfgs'"):
        linreg.compose("optimizer=lbfgs")
    assert list(in_tmp.iterdir()) == []  # nothing made


def test_a_result_shows_itself_in_a_notebook(in_tmp):
    html = linreg.run("train.epochs=3")._repr_html_()
    assert html.count("<img src=\"data:image/png;base64,") == 3 and "full_mse" in html


def test_a_sweep_gives_every_job_and_the_summary(in_tmp):
    runs = linreg.sweep("optimizer.lr=0.01,0.1", "train.epochs=3")
    assert [r.metrics["status"] for r in runs.jobs] == ["ok", "ok"]
    assert [row["optimizer.lr"] for row in runs.table] == ["0.01", "0.1"]
    assert (runs.sweep_dir / "summary.png").exists()
    assert "<table>" in runs._repr_html_()
