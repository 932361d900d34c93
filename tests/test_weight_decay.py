"""Weight decay on the weights only (optimizer.decay_bias=false) and the exact points the
optimizers stop at: ridge's for every optimizer that adds the decay to the gradient, none for
AdamW's decoupled decay."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from linreg.api import run
from linreg.exact import ridge

FULL_BATCH = ["train.batch_size=120", "train.dtype=float64", "train.epochs=400",
              "optimizer.weight_decay=0.5"]


def test_ridge_without_the_bias_is_textbook_ridge():
    """decay_bias=False: b is unpenalised, so the fit goes through the means (b = mean(y) -
    mean(X) w) and w is ridge on the centred data, (Xc^T Xc + n wd / 2 I) w = Xc^T yc."""
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(50, 3, generator=gen, dtype=torch.float64) * 2 + 1
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 4
    y += torch.randn(50, 1, generator=gen, dtype=torch.float64)
    fit = ridge(X, y, weight_decay=0.3, decay_bias=False)
    Xc, yc = (X - X.mean(0)).numpy(), (y - y.mean()).numpy()
    w = np.linalg.solve(Xc.T @ Xc + 50 * 0.3 / 2 * np.eye(3), Xc.T @ yc)
    assert np.allclose(fit.w.numpy(), w, rtol=1e-12, atol=0)
    assert float(fit.b) == pytest.approx(float(y.mean() - X.mean(0) @ fit.w), rel=1e-12)
    assert float(ridge(X, y, 0.3).b) < float(fit.b) - 0.1  # decaying b too shrinks it


@pytest.mark.parametrize("decay_bias", ["true", "false"])
def test_full_batch_sgd_stops_at_the_ridge_point_of_its_choice(decay_bias):
    m = run(*FULL_BATCH, "optimizer.lr=0.5", f"optimizer.decay_bias={decay_bias}",
            save=False).metrics
    point = m["reference"]["ridge"]
    assert point["decay_bias"] is (decay_bias == "true") and m["reference"]["ridge_note"] is None
    assert m["w"] == pytest.approx(point["w"], rel=1e-12)
    assert m["b"] == pytest.approx(point["b"], rel=1e-12)


@pytest.mark.parametrize("overrides", [
    ["optimizer=adam", "optimizer.lr=1.0", "scheduler=cosine"],
    ["optimizer=rmsprop", "optimizer.lr=0.3", "scheduler=cosine"],
    ["optimizer=adagrad", "optimizer.lr=10"],
], ids=["adam", "rmsprop", "adagrad"])
def test_adaptive_optimizers_with_l2_stop_at_ridge_too(overrides):
    m = run(*FULL_BATCH, *overrides, "optimizer.decay_bias=false", save=False).metrics
    point = m["reference"]["ridge"]
    assert m["w"] == pytest.approx(point["w"], rel=1e-7)
    assert m["b"] == pytest.approx(point["b"], rel=1e-7)


def test_adamw_has_no_ridge_reference_and_ends_at_its_box():
    m = run(*FULL_BATCH, "optimizer=adamw", "optimizer.lr=1.0", "scheduler=cosine",
            "optimizer.decay_bias=false", save=False).metrics
    assert m["reference"]["ridge"] is None
    assert "not at ridge's point" in m["reference"]["ridge_note"]
    # least squares wants w = 24.04; AdamW stops at the edge |w| = 1 / weight_decay = 2
    assert m["w"][0] == pytest.approx(2.0, abs=0.01)
    without = run(*FULL_BATCH, "optimizer=adamw", "optimizer.weight_decay=0", "optimizer.lr=1",
                  "scheduler=cosine", save=False).metrics
    assert without["reference"]["ridge_note"] is None
