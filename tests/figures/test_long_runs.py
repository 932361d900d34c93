"""Figures of long runs stay readable: loss.png draws lines without a dot per epoch, and
trajectory.png labels the epochs where they do not sit on top of each other."""

from __future__ import annotations

import math

import torch

from linreg.data import Data
from linreg.exact import least_squares
from linreg.figures import loss_curves, pictures, trajectory
from linreg.loss import MSE


def test_loss_png_marks_each_epoch_only_on_short_runs(tmp_path):
    def markers(epochs: int) -> set[str]:
        values = [1.0 + 1 / (e + 1) for e in range(epochs)]
        curves = loss_curves.LossCurves(values, values, 1.0, "mse")
        fig = loss_curves.draw_loss(tmp_path / "loss.png", curves)
        return {line.get_marker() for line in fig.axes[0].get_lines()[:2]}

    assert markers(50) == {"."}
    assert markers(2000) == {"None"}


def test_trajectory_epoch_labels_do_not_pile_up_near_the_minimum(tmp_path):
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 1, generator=gen)
    data = Data(X=X, y=3 * X + 1)
    ref = least_squares(data.X, data.y)
    # 2000 epochs closing in on (3, 1): the late marks 100, 200, ..., 2000 all lie at the end
    points = [[3 - 3 * 0.9**e, 1 - 0.9**e] for e in range(2001)]
    picture = pictures.path_picture(data, MSE(), points, ref)
    fig = trajectory.draw_trajectory(tmp_path / "t.png", picture)
    ax = fig.axes[0]
    labels = [(text.get_text(), text.xy) for text in ax.texts]
    assert [name for name, _ in labels][:4] == ["1", "2", "5", "10"]
    assert len(labels) < 10  # of the 16 marks from 1 to 2000
    half = float(picture.w_axis[-1] - picture.w_axis[0]) / 2
    for i, (_, a) in enumerate(labels):
        for _, b in labels[:i]:
            assert math.dist(a, b) >= 0.06 * half
