"""Figures of runs at the edges: losses of 0, infinities, NaN, a single epoch or none, numbers
at float32's limit, and histories of a million epochs. Each figure is drawn (without a warning)
or skipped with a note in the log; never a crash. And figure files are written atomically."""

from __future__ import annotations

import io
import json
import logging
import math
import time
import warnings

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.image import imread

from linreg.config import validate
from linreg.data import Data
from linreg.data.prepare import Prepared
from linreg.exact import LeastSquares, least_squares
from linreg.figures import drawing, loss_curves, pictures, style
from linreg.figures.summary import SummaryPicture
from linreg.figures.summary import draw as draw_summary
from linreg.loss import MAE, MSE
from linreg.records import metrics
from linreg.records.runs import Job
from linreg.train import History

inf, nan = math.inf, math.nan


def history(losses, ws, bs, status="ok", start=(0.5, 0.0), d: int = 1) -> History:
    return History(train_loss=list(losses), full_mse=list(losses), w=[[w] * d for w in ws],
                   b=list(bs), status=status, w_start=[start[0]] * d, b_start=start[1])


def one_feature(y_of_x=lambda x: 2 * x + 1, scale: float = 1.0) -> Data:
    x = torch.randn(30, 1, generator=torch.Generator().manual_seed(0)) * scale
    return Data(X=x, y=y_of_x(x), w_true=[2.0], b_true=1.0)


EDGES = {
    "losses reaching 0": (history([5, 0.5, 0, 0], [1, 1.9, 2, 2], [0, 0.9, 1, 1]), 0.0),
    "every loss 0": (history([0, 0], [2, 2], [1, 1], start=(2, 1)), 0.0),
    "ends in inf": (history([5, inf], [1, inf], [0, inf], "diverged"), None),
    "ends in NaN": (history([5, nan], [1, nan], [0, nan], "diverged"), None),
    "no finite epoch": (history([inf], [inf], [nan], "diverged"), None),
    "a single finite epoch": (history([3.0], [1.0], [0.5]), None),
    "no epoch at all": (History(w_start=[0.5], b_start=0.0, status="interrupted"), None),
    "float32's limit": (history([3e38, inf], [3e38, -3e38], [3e38, 1e38], "diverged",
                                start=(3e38, -3e38)), None),
    "a least-squares MSE that overflowed": (history([5, 1], [1, 2], [0, 1]), inf),
}


@pytest.fixture(scope="module")
def settings(compose_config):
    return {loss: validate(compose_config([f"loss={loss}"])) for loss in ("mse", "mae")}


def draw_run(settings, data: Data, h: History, ols_mse: float | None, loss, folder) -> dict:
    reference = least_squares(data.X, data.y)
    if ols_mse is not None:
        reference = LeastSquares(reference.w, reference.b, ols_mse)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's and numpy's complaints count as failures
        figures = pictures.of_run(settings, Prepared(data, None, None), h, reference, loss,
                                  None, steps_per_epoch=1)
        drawing.draw_all(folder, figures, "en")
    return figures


@pytest.mark.parametrize("loss", ["mse", "mae"])
@pytest.mark.parametrize("edge", EDGES, ids=list(EDGES))
def test_every_figure_of_an_edge_run_is_drawn(settings, tmp_path, edge, loss):
    h, ols_mse = EDGES[edge]
    figures = draw_run(settings[loss], one_feature(), h, ols_mse,
                       MSE() if loss == "mse" else MAE(), tmp_path)
    assert set(figures) == {"fit.png", "loss.png", "trajectory.png"}
    for name in figures:
        assert imread(tmp_path / name).shape[0] > 400, name


def test_several_features_with_overflowing_predictions_draw_their_fit(settings, tmp_path):
    gen = torch.Generator().manual_seed(1)
    data = Data(X=torch.randn(30, 3, generator=gen), y=torch.randn(30, 1, generator=gen))
    h = history([5.0, inf], [3e38, inf], [0.0, inf], "diverged", d=3)
    draw_run(settings["mse"], data, h, None, MSE(), tmp_path)
    assert imread(tmp_path / "fit.png").shape[0] > 400


def test_a_path_with_no_finite_point_is_not_drawn_and_the_log_says_so(settings, tmp_path,
                                                                       caplog):
    h = history([inf], [inf], [inf], "diverged", start=(inf, 0.0))
    with caplog.at_level(logging.WARNING, logger="linreg.figures.pictures"):
        figures = draw_run(settings["mse"], one_feature(), h, None, MSE(), tmp_path)
    assert "trajectory.png" not in figures and not (tmp_path / "trajectory.png").exists()
    assert "trajectory.png not drawn: no point of the path is finite" in caplog.text


def test_constant_huge_targets_are_framed(settings, tmp_path):
    data = one_feature(lambda x: torch.full_like(x, 3e38))
    draw_run(settings["mse"], data, history([inf], [inf], [inf], "diverged"), None, MSE(),
             tmp_path)
    assert imread(tmp_path / "fit.png").shape[0] > 400


def test_losses_of_0_on_a_log_axis_are_named_in_the_title(tmp_path):
    curves = loss_curves.LossCurves([5.0, 0.5, 0.0], [4.0, 0.4, 0.0], 0.0, "mse")
    ax = loss_curves.draw_loss(tmp_path / "loss.png", curves).axes[0]
    assert ax.get_yscale() == "log" and "loss 0 at epoch 3" in ax.get_title()
    low, high = ax.get_ylim()
    assert 0 < low < 0.4 and high > 5.0
    # nothing above 0 to put on a log axis: a linear one, the zeros in view
    ax = loss_curves.draw_loss(tmp_path / "zero.png",
                         loss_curves.LossCurves([0.0, 0.0], [0.0, 0.0], 6e-30, "mse")).axes[0]
    assert ax.get_yscale() == "linear" and ax.get_ylim()[0] < 0 < ax.get_ylim()[1]


def test_a_summary_of_edge_runs_is_drawn(tmp_path):
    def job(i: int, status: str, full_mse: list, mse_ols) -> Job:
        record = {"status": status, "history": {"full_mse": full_mse},
                  "loss": {"full_mse": full_mse[-1] if full_mse else None},
                  "reference": {"mse_ols": mse_ols}}
        return Job(tmp_path / str(i), record, config={"optimizer.lr": 10.0**-i})

    long = [1 / (e + 1) for e in range(100_000)]
    jobs = [job(0, "ok", [5.0, 0.0, 0.0], 0.0), job(1, "diverged", [5.0, None], None),
            job(2, "ok", long, 0.0), job(3, "failed", [], None), job(4, "ok", [0.0, 0.0], 0.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_summary(tmp_path / "summary.png",
                     SummaryPicture(jobs, ["optimizer.lr"], "full_mse"))
        draw_summary(tmp_path / "zeros.png", SummaryPicture(jobs[-1:], ["seed"], "full_mse"))
    assert imread(tmp_path / "summary.png").shape[0] == 572


# --- long histories --------------------------------------------------------------------------


def test_spread_keeps_the_ends_and_the_marked_points_and_few_others():
    assert style.spread(5) == [0, 1, 2, 3, 4]
    chosen = style.spread(10**6, keep=[123_457, 999_998])
    assert chosen[0] == 0 and chosen[-1] == 10**6 - 1 and {123_457, 999_998} <= set(chosen)
    assert chosen == sorted(set(chosen)) and len(chosen) <= style.MAX_POINTS + 2
    assert chosen[:10] == list(range(10))  # the start, where a loss falls fastest, densely
    assert max(np.diff(chosen)) < 2 * 10**6 / style.MAX_POINTS  # and the whole run, evenly


def test_a_million_epochs_become_pictures_in_well_under_a_tenth_of_a_second(settings):
    n = 10**6
    losses = [100.0 / (e + 1) for e in range(n)]
    ws = [2.0 - 1.5 / (e + 1) for e in range(n)]
    h = history(losses, ws, [1.0 - 1 / (e + 1) for e in range(n)])
    data = one_feature()
    reference = least_squares(data.X, data.y)

    def make() -> dict:
        return pictures.of_run(settings["mse"], Prepared(data, None, None), h, reference,
                               MSE(), None, steps_per_epoch=1)

    seconds = min(_timed(make) for _ in range(3))  # the best of three: the machine is shared
    assert seconds < 0.05
    figures = make()
    curves, path = figures["loss.png"], figures["trajectory.png"]
    assert len(curves.train_loss) <= style.MAX_POINTS and len(path.route) <= style.MAX_POINTS + 20
    assert curves.epochs[0] == 1 and curves.epochs[-1] == n and curves.train_loss[-1] == losses[-1]
    assert path.route[0] == (0.5, 0.0) and path.route[-1] == (ws[-1], h.b[-1])
    assert path.steps[-1] == n and n in path.steps and 100_000 in path.steps  # epochs marked


def _timed(make) -> float:
    start = time.perf_counter()
    make()
    return time.perf_counter() - start


# --- atomic files ------------------------------------------------------------------------------


def small_figure() -> Figure:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    return fig


def test_a_figure_is_saved_whole_or_not_at_all(tmp_path, monkeypatch):
    target = tmp_path / "fit.png"
    style.save(small_figure(), target)
    before = target.read_bytes()
    assert before.startswith(b"\x89PNG") and [p.name for p in tmp_path.iterdir()] == ["fit.png"]

    def killed_halfway(self, fname, **kwargs):
        fname.write(b"\x89PNG half")  # style.save hands savefig the file being written
        raise KeyboardInterrupt  # as a Ctrl-C mid-write

    monkeypatch.setattr(Figure, "savefig", killed_halfway)
    with pytest.raises(KeyboardInterrupt):
        style.save(small_figure(), target)
    assert target.read_bytes() == before  # the old picture, whole
    assert [p.name for p in tmp_path.iterdir()] == ["fit.png"]  # no temporary file left


def test_a_figure_into_a_missing_folder_names_the_figure_and_leaves_nothing(tmp_path):
    target = tmp_path / "gone" / "loss.png"
    with pytest.raises(FileNotFoundError) as raised:
        style.save(small_figure(), target)
    assert raised.value.filename == str(target)  # not its temporary name


def test_a_figure_still_saves_into_a_binary_stream():
    stream = io.BytesIO()
    style.save(small_figure(), stream)
    assert stream.getvalue().startswith(b"\x89PNG")


def test_every_non_finite_number_in_metrics_json_is_null(tmp_path):
    record = {"status": "ok", "reference": {"ridge": {"w": [inf, 1.0], "b": nan},
                                             "se_ols": {"w": [nan], "b": -inf}},
              "history": {"full_mse": [1.0, inf, nan]}, "steps": 3}
    metrics.write(tmp_path, record)

    def refuse(constant: str):
        raise ValueError(constant)

    written = json.loads((tmp_path / "metrics.json").read_text(), parse_constant=refuse)
    assert written == {"status": "ok", "reference": {"ridge": {"w": [None, 1.0], "b": None},
                                                     "se_ols": {"w": [None], "b": None}},
                       "history": {"full_mse": [1.0, None, None]}, "steps": 3}
