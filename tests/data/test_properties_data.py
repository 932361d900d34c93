"""Invariant of data preparation, on generated data: standardization statistics come from the
training split alone (linreg/data/prepare.py), so nothing of the validation rows leaks into
training."""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from linreg.data import Data
from linreg.data.prepare import prepare, split


def tagged_data(n_rows: int, n_features: int, seed: int) -> Data:
    """Random features; y holds each row's number, so a split tells which rows went where."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n_rows, n_features, generator=g) * 10 + 3
    return Data(X=X, y=torch.arange(n_rows, dtype=torch.float32)[:, None], source="generated")


@settings(max_examples=60, deadline=None)
@given(n_rows=st.integers(4, 60), n_features=st.integers(1, 4),
       val_fraction=st.floats(0.05, 0.5), seed=st.integers(0, 2**31 - 1),
       data_seed=st.integers(0, 2**31 - 1), scale=st.floats(-1e4, 1e4))
def test_standardization_statistics_come_from_the_training_rows_only(
        n_rows, n_features, val_fraction, seed, data_seed, scale):
    data = tagged_data(n_rows, n_features, data_seed)
    assume(n_rows - math.ceil(val_fraction * n_rows) >= 2)
    prepared = prepare(data, val_fraction, standardize=True, seed=seed, batch_size=1)

    # the statistics are exactly the training rows' own (as `split` chose them)
    train, val = split(data, val_fraction, seed)
    X = train.X.double()
    assert torch.equal(prepared.scaler.mean, X.mean(dim=0, keepdim=True))
    assert torch.equal(prepared.scaler.std, X.std(dim=0, keepdim=True, correction=0))
    assert torch.equal(prepared.train.y, train.y) and torch.equal(prepared.val.y, val.y)

    # changing every validation row changes nothing that training sees
    held_out = val.y[:, 0].long()
    X_changed = data.X.clone()
    X_changed[held_out] = X_changed[held_out] * scale + scale
    changed = prepare(replace(data, X=X_changed), val_fraction, standardize=True, seed=seed,
                      batch_size=1)
    assert torch.equal(changed.scaler.mean, prepared.scaler.mean)
    assert torch.equal(changed.scaler.std, prepared.scaler.std)
    assert torch.equal(changed.train.X, prepared.train.X)
    # ... while the validation rows are scaled with the training rows' statistics
    expected_val = ((X_changed[held_out].double() - changed.scaler.mean) / changed.scaler.std)
    assert torch.equal(changed.val.X, expected_val.float())
