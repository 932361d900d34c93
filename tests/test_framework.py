"""The framework way (model=nn_linear, train.loader=dataloader) against the from-scratch
path: the same batches, and bit-identical parameters wherever the arithmetic is the same."""

from __future__ import annotations

import pytest
import torch

from linreg.data import batches
from linreg.runner import run

FRAMEWORK = ["model=nn_linear", "train.loader=dataloader", "optimizer=torch_sgd"]
DIABETES = ["dataset=diabetes", "dataset.standardize=true"]
SAME_ARITHMETIC = [
    [],
    DIABETES,  # 10 features: nn.Linear's weight gradient (1, n) @ (n, d) against (d, n) @ (n, 1)
    ["loss=mae"],
    ["loss=huber", "loss.delta=20", *DIABETES],  # batch 16: 1 / n is exact
    ["train.batch_size=7", "train.drop_last=false"],  # a partial last batch
    ["optimizer.momentum=0.9", "optimizer.nesterov=true", "optimizer.weight_decay=0.1"],
    ["train.dtype=float64", "init=normal", "dataset.n_features=5"],
    ["model.intercept=false", "train.shuffle=false"],
]


def params_by_epoch(result: dict) -> list:
    return result["history"]["full_mse"], result["w"], result["b"]


@pytest.mark.parametrize("overrides", SAME_ARITHMETIC, ids=lambda o: " ".join(o) or "default")
def test_the_framework_path_is_bit_identical_to_the_from_scratch_one(compose_config, overrides):
    base = ["train.epochs=8", *overrides]
    scratch = run(compose_config(base), None)
    framework = run(compose_config([*base, *FRAMEWORK]), None)
    assert framework["status"] == "ok"
    assert params_by_epoch(framework) == params_by_epoch(scratch)
    assert len(framework["w"]) == len(scratch["w"]) == len(framework["data"]["features"])
    # the epoch's mean loss is added up differently (mean x rows, not a sum of squares)
    assert framework["history"]["train_loss"] == pytest.approx(scratch["history"]["train_loss"],
                                                               rel=1e-5)


@pytest.mark.parametrize("piece", [["model=nn_linear"], ["train.loader=dataloader"]])
def test_each_piece_alone_is_bit_identical_too(compose_config, piece):
    base = ["train.epochs=8", *DIABETES]
    assert (params_by_epoch(run(compose_config([*base, *piece]), None))
            == params_by_epoch(run(compose_config(base), None)))


def test_huber_with_a_batch_not_a_power_of_two_differs_in_the_last_bits(compose_config):
    """nn.HuberLoss's backward computes r * (1 / n), the from-scratch gradient r / n."""
    base = ["train.epochs=8", *DIABETES, "loss=huber", "loss.delta=20", "train.batch_size=12"]
    scratch = run(compose_config(base), None)
    framework = run(compose_config([*base, *FRAMEWORK]), None)
    assert framework["w"] != scratch["w"]
    assert framework["w"] == pytest.approx(scratch["w"], rel=1e-5, abs=1e-5)


def test_the_dataloader_gives_linregs_batches_row_for_row():
    X = torch.arange(23.0).reshape(-1, 1)
    y = -X
    for drop_last in (True, False):
        own = batches.epoch_batches("linreg", X, y, 5, drop_last, True, seed=3)
        loader = batches.epoch_batches("dataloader", X, y, 5, drop_last, True, seed=3)
        for _ in range(3):  # epochs: each draws its own order
            ours, theirs = list(own()), list(loader())
            assert len(ours) == len(theirs) == (4 if drop_last else 5)
            for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
                assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_torchs_random_sampler_would_draw_another_order(tmp_path):
    """Why data/batches.py has EpochShuffle: RandomSampler draws two permutations an epoch."""
    from torch.utils.data import RandomSampler

    sampler = RandomSampler(range(10), generator=torch.Generator().manual_seed(0))
    reference = torch.Generator().manual_seed(0)
    perms = [torch.randperm(10, generator=reference).tolist() for _ in range(4)]
    assert list(sampler) == perms[0] and list(sampler) == perms[2] != perms[1]
