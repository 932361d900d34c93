"""The drawing process: it draws what a run sends it, reports a failure as one, and when it
is gone the run draws its own figures."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import signal
from pathlib import Path

import numpy as np
import pytest
from test_figures import is_picture

from linreg.config import validate
from linreg.data import load
from linreg.exact import least_squares
from linreg.figures import drawing, loss_curves, pictures, requests, style
from linreg.figures import fit as fit_figure
from linreg.loss import MSE
from linreg.runner import run
from linreg.train import History

FIGURES = ("fit.png", "loss.png", "trajectory.png")


class TwoArgumentError(Exception):  # pickles, but cannot be unpickled
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


@pytest.fixture
def process():
    drawing.start()
    yield drawing.DRAWER.popen
    drawing.stop()


@pytest.fixture
def figures(compose_config) -> dict:
    data = load(validate(compose_config([])).dataset)
    reference = least_squares(data.X, data.y)
    history = History(train_loss=[300.0, 200.0], full_mse=[290.0, 197.0], w=[[10.0], [20.0]],
                      b=[5.0, 12.0], w_start=[0.5], b_start=0.0)
    points = [[0.5, 0.0], [10.0, 5.0], [20.0, 12.0]]
    return {"fit.png": pictures.fit_picture(data, history, reference),
            "loss.png": loss_curves.LossCurves(history.train_loss, history.full_mse, reference.mse,
                                         "mse"),
            "trajectory.png": pictures.path_picture(data, MSE(), points, reference)}


def test_the_process_draws_every_figure(process, figures, tmp_path, monkeypatch):
    def here(*args, **kwargs):
        raise AssertionError("drawn in the test's process")

    monkeypatch.setattr(fit_figure, "draw_fit", here)
    monkeypatch.setattr(loss_curves, "draw_loss", here)
    drawing.draw(tmp_path, figures, "en")
    assert all(is_picture(tmp_path / name) for name in figures)
    assert process.poll() is None  # and it waits for the next run's figures


def test_a_failure_in_the_process_is_raised_here(process, figures, tmp_path):
    with pytest.raises(FileNotFoundError, match="fit.png") as raised:  # cli: a one-line error
        drawing.draw(tmp_path / "missing" / "folder", figures, "en")
    assert isinstance(raised.value.__cause__, drawing.RemoteError)
    assert "in save" in str(raised.value.__cause__)  # its traceback, for LINREG_DEBUG=1
    # the trajectory is drawn by the process's helper: its failure comes back too
    broken = dict(figures, **{"trajectory.png": dataclasses.replace(
        figures["trajectory.png"], loss=np.zeros((2, 2)))})
    with pytest.raises(TypeError, match="[Ss]hape") as raised:
        drawing.draw(tmp_path, broken, "en")
    assert "contour" in str(raised.value.__cause__)
    drawing.draw(tmp_path, figures, "en")  # the process goes on with the next run
    assert all(is_picture(tmp_path / name) for name in figures)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the helper is forked")
def test_without_its_helper_the_process_draws_every_figure_itself(process, figures, tmp_path):
    drawing.draw(tmp_path, figures, "en")  # the helper is forked once the process is warm
    (helper,) = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    os.kill(int(helper), signal.SIGKILL)
    drawing.draw(tmp_path, figures, "en")
    assert all(is_picture(tmp_path / name) for name in figures)
    assert process.poll() is None


@pytest.mark.parametrize("when", ["before sending", "while drawing"])
def test_without_the_process_the_run_draws_its_own(process, figures, tmp_path, when):
    if when == "before sending":
        process.kill()
        process.wait()
    drawing.draw(tmp_path, figures, "en", wait=when == "before sending")
    if when == "while drawing":
        process.kill()
        drawing.finish()
    assert all(is_picture(tmp_path / name) for name in figures)
    assert drawing.DRAWER.popen is None


def test_its_warnings_are_said_here(process, figures, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        drawing.draw(tmp_path, figures, "zh")
        drawing.draw(tmp_path, figures, "zh")  # said once, as in a single process
    said = [r.getMessage() for r in caplog.records if r.name == "linreg.figures.style"]
    assert len(said) == (0 if style.cjk_font() else 1)
    assert all("no font with Chinese characters" in message for message in said)


# ------------------------------------------- a sweep's job: its figures drawn while the next runs

def test_a_run_that_does_not_wait_gets_its_metrics_json_after_its_figures(
        process, compose_config, tmp_path):
    cfg = compose_config(["train.epochs=2"])
    first, second = tmp_path / "0", tmp_path / "1"
    run(cfg, first, quiet=True, wait=False)
    assert len(drawing.DRAWER.pending) == 1  # returned with its figures still to be drawn
    run(cfg, second, quiet=True, wait=False)  # it read the first's reply before sending
    assert (first / "metrics.json").exists() and len(drawing.DRAWER.pending) == 1
    drawing.finish()
    assert not drawing.DRAWER.pending
    for folder in (first, second):
        assert all(is_picture(folder / name) for name in FIGURES)
        written = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
        assert written["metrics.json"] == max(written.values())  # last, as in every run


def test_without_the_process_a_run_that_does_not_wait_is_done_at_once(compose_config,
                                                                      tmp_path):
    assert drawing.DRAWER.popen is None
    run(compose_config(["train.epochs=2"]), tmp_path, quiet=True, wait=False)
    assert (tmp_path / "metrics.json").exists() and not drawing.DRAWER.pending


def test_a_job_whose_figures_fail_after_it_returned_is_recorded_as_failed(
        process, compose_config, tmp_path, caplog):
    (tmp_path / "fit.png").mkdir()  # so fit.png cannot be written
    run(compose_config(["train.epochs=2"]), tmp_path, quiet=True, wait=False)  # no error here
    with caplog.at_level(logging.INFO):
        drawing.finish()
    recorded = json.loads((tmp_path / "metrics.json").read_text())
    assert recorded["status"] == "failed"
    assert "fit.png" in recorded["error"]
    assert any("job failed" in r.getMessage() and str(tmp_path) in r.getMessage()
               for r in caplog.records)


def test_what_was_sent_is_still_drawn_and_recorded_when_the_run_exits(
        process, compose_config, tmp_path):
    run(compose_config(["train.epochs=2"]), tmp_path, quiet=True, wait=False)
    drawing.stop()  # as at exit: the process finishes what it was sent, then ends
    assert all(is_picture(tmp_path / name) for name in FIGURES)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "ok"
    assert process.poll() is not None


def test_an_error_that_cannot_cross_the_pipe_is_said_in_one_that_can():
    try:
        raise TwoArgumentError("fit.png", "no room")
    except TwoArgumentError as exc:
        error, remote = requests.error_to_send(exc)
    assert isinstance(error, RuntimeError) and str(error) == "TwoArgumentError: fit.png: no room"
    assert pickle.loads(pickle.dumps(error)).args == error.args
    assert "raise TwoArgumentError" in remote


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the helper is forked")
def test_without_a_fork_the_process_has_no_helper_and_leaks_no_pipe(monkeypatch):
    from linreg.figures import drawing_process

    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd"))
    drawing_process._start_helper(not_its=())
    assert drawing_process._helper is None
    assert len(os.listdir("/proc/self/fd")) == before
