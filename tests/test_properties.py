"""Invariants of batching, the optimizers and the gradients, checked on generated inputs."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_optimizer import assert_steps_identical

import linreg.data.batches
from linreg.data import Data
from linreg.loss import MAE, MSE, Huber
from linreg.train import TrainConfig, train


class RecordingLoss:
    """MSE that remembers which rows each batch held (row i has target -i and x = 0)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return (r * r).mean()

    def add_total(self, into: torch.Tensor, r: torch.Tensor) -> None:  # every batch's
        self.batches.append([round(v) for v in r[:, 0].tolist()])
        into.add_((r * r).sum())

    def grad(self, r: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(r)


class FrozenOptimizer:
    """Steps nothing, so residuals stay row ids and the batches can be read off them."""

    param_groups = [{"lr": 0.0}]

    def step(self) -> None:
        pass


def batches_of_one_run(n_rows: int, batch_size: int, drop_last: bool, epochs: int, seed: int,
                       chunk_rows: int = linreg.data.batches.CHUNK_ROWS, loader: str = "linreg"):
    data = Data(X=torch.zeros(n_rows, 1), y=-torch.arange(n_rows, dtype=torch.float32)[:, None])
    loss = RecordingLoss()
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, shuffle=True, drop_last=drop_last,
                      loader=loader)
    default, linreg.data.batches.CHUNK_ROWS = linreg.data.batches.CHUNK_ROWS, chunk_rows
    try:  # a small chunk makes the loop gather an epoch's rows in several pieces
        train(data, torch.zeros(1, 1), torch.zeros(1), loss, FrozenOptimizer(), cfg, seed)
    finally:
        linreg.data.batches.CHUNK_ROWS = default
    return loss.batches


sizes = st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n)))


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(1, 3), st.integers(0, 2**31 - 1), st.integers(1, 70))
def test_without_drop_last_every_row_is_seen_once_per_epoch(n_and_batch, epochs, seed, chunk):
    n_rows, batch_size = n_and_batch
    batches = batches_of_one_run(n_rows, batch_size, False, epochs, seed, chunk)
    per_epoch = -(-n_rows // batch_size)
    assert len(batches) == epochs * per_epoch
    for e in range(epochs):
        rows = [i for batch in batches[e * per_epoch:(e + 1) * per_epoch] for i in batch]
        assert sorted(rows) == list(range(n_rows))


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(0, 2**31 - 1), st.integers(1, 70))
def test_with_drop_last_only_full_batches(n_and_batch, seed, chunk):
    n_rows, batch_size = n_and_batch
    batches = batches_of_one_run(n_rows, batch_size, True, 1, seed, chunk)
    assert len(batches) == n_rows // batch_size
    assert all(len(b) == batch_size for b in batches)
    rows = [i for b in batches for i in b]
    assert len(set(rows)) == len(rows)  # no row twice


@settings(max_examples=60, deadline=None)
@given(sizes, st.integers(0, 2**31 - 1), st.integers(1, 70))
def test_same_seed_same_batches_whatever_the_chunk(n_and_batch, seed, chunk):
    n_rows, batch_size = n_and_batch
    assert batches_of_one_run(n_rows, batch_size, False, 2, seed) == \
        batches_of_one_run(n_rows, batch_size, False, 2, seed, chunk)


hyper = st.fixed_dictionaries({
    "lr": st.floats(1e-4, 1.0),
    "momentum": st.sampled_from([0.0]) | st.floats(0.0, 0.99),
    "dampening": st.sampled_from([0.0]) | st.floats(0.0, 1.0),
    "weight_decay": st.sampled_from([0.0]) | st.floats(0.0, 0.5),
    "nesterov": st.booleans(),
})


@settings(max_examples=80, deadline=None)
@given(hyper, st.integers(0, 2**31 - 1))
def test_manual_sgd_is_bit_identical_to_torch_sgd(h, seed):
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        h["nesterov"] = False  # torch.optim.SGD refuses this combination
    assert_steps_identical(h, seed, steps=25)


residuals = st.lists(st.floats(-1e3, 1e3, width=32) | st.just(0.0), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(residuals, st.floats(0.01, 100.0))
def test_analytic_gradients_equal_autograd(values, delta):
    for loss in (MSE(), MAE(), Huber(delta)):
        r = torch.tensor(values).reshape(-1, 1).requires_grad_()
        loss(r).backward()
        assert torch.allclose(loss.grad(r.detach()), r.grad, rtol=1e-5, atol=1e-7), type(loss)


@settings(max_examples=30, deadline=None)
@given(sizes, st.booleans(), st.integers(1, 3), st.integers(0, 2**31 - 1), st.integers(1, 70))
def test_the_dataloader_gives_the_same_batches_as_linregs_own(n_and_batch, drop_last, epochs,
                                                               seed, chunk):
    n, batch = n_and_batch
    assert (batches_of_one_run(n, batch, drop_last, epochs, seed, chunk, loader="dataloader")
            == batches_of_one_run(n, batch, drop_last, epochs, seed, chunk))
