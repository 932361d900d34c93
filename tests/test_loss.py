"""Each loss's analytic gradient against autograd, and the training loop's gradients for w and b."""

from __future__ import annotations

import pytest
import torch

from linreg import loss
from linreg.data import Data
from linreg.data.synthetic import SyntheticConfig, load_synthetic
from linreg.model import predict
from linreg.train import TrainConfig, train

DELTA = 5.0
LOSSES = {"mse": loss.MSE(), "mae": loss.MAE(), "huber": loss.Huber(DELTA)}


def residuals() -> torch.Tensor:
    """(n, 1) residuals with exact zeros, values at +-delta and far beyond it."""
    r = torch.randn(40, 1, generator=torch.Generator().manual_seed(0)) * 10
    r[:4, 0] = torch.tensor([0.0, 0.0, DELTA, -DELTA])
    r[4:6, 0] = torch.tensor([3 * DELTA, -50.0])
    return r


def autograd_grad(fn, r: torch.Tensor) -> torch.Tensor:
    r = r.clone().requires_grad_(True)
    fn(r).backward()
    return r.grad


@pytest.mark.parametrize("name", LOSSES)
def test_analytic_grad_equals_autograd(name):
    fn, r = LOSSES[name], residuals()
    assert ((r.abs() > DELTA).sum() >= 10) and ((r.abs() < DELTA).sum() >= 10)
    assert torch.allclose(fn.grad(r), autograd_grad(fn, r), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", LOSSES)
def test_the_total_the_loop_sums_is_the_mean_times_the_rows(name):
    fn, r = LOSSES[name], residuals()
    total = torch.full((1, 1), 5.0)
    fn.add_total(total, r)
    assert torch.allclose(total, 5.0 + fn(r) * r.shape[0], rtol=1e-6)


def test_loss_values():
    r = residuals()
    assert torch.allclose(LOSSES["mse"](r), (r**2).mean(), rtol=1e-6)
    assert torch.allclose(LOSSES["mae"](r), r.abs().mean(), rtol=1e-6)
    zeros = torch.zeros_like(r)
    assert torch.allclose(LOSSES["huber"](r), torch.nn.functional.huber_loss(r, zeros, delta=DELTA),
                          rtol=1e-6)
    # the piecewise definition, written out: r^2 / 2 inside delta, delta * (|r| - delta / 2) beyond
    pieces = torch.where(r.abs() <= DELTA, r**2 / 2, DELTA * (r.abs() - DELTA / 2))
    assert torch.allclose(LOSSES["huber"](r), pieces.mean(), rtol=1e-6)


class Recorder:
    """An optimizer that never moves the parameters and keeps each step's gradients."""

    def __init__(self, w: torch.Tensor, b: torch.Tensor) -> None:
        self.w, self.b, self.grads = w, b, []
        self.param_groups = [{"lr": 0.0}]

    def step(self) -> None:
        self.grads.append((self.w.grad.clone(), self.b.grad.clone()))


@pytest.mark.parametrize("n_features", [1, 3])
@pytest.mark.parametrize("name", LOSSES)
def test_training_loop_gradients_equal_autograd(name, n_features):
    data: Data = load_synthetic(SyntheticConfig(n_features=n_features)).cast(torch.float32)
    gen = torch.Generator().manual_seed(n_features)
    w, b = torch.randn(n_features, 1, generator=gen), torch.randn(1, generator=gen)
    recorder = Recorder(w, b)
    cfg = TrainConfig(epochs=1, batch_size=16, shuffle=False, drop_last=False)
    train(data, w, b, LOSSES[name], recorder, cfg, seed=0)
    assert len(recorder.grads) == 8  # 7 full batches and one of 8 rows
    for i, (w_grad, b_grad) in enumerate(recorder.grads):
        xb, yb = data.X[i * 16:(i + 1) * 16], data.y[i * 16:(i + 1) * 16]
        w_ = w.clone().requires_grad_(True)
        b_ = b.clone().requires_grad_(True)
        LOSSES[name](predict(xb, w_, b_) - yb).backward()
        assert w_grad.shape == (n_features, 1) and b_grad.shape == (1,)
        assert torch.allclose(w_grad, w_.grad, rtol=1e-5, atol=1e-5), (i, w_grad, w_.grad)
        assert torch.allclose(b_grad, b_.grad, rtol=1e-5, atol=1e-5), (i, b_grad, b_.grad)
