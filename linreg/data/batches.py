"""An epoch's minibatches: `train.loader`, linreg's own batching or torch's DataLoader.

Both draw the epoch's order the same way: one `torch.randperm(n_rows, generator=g)` per
epoch from a generator seeded with the run's `seed`, so for the same seed they give the same
batches, row for row (tests/test_framework.py).

`linreg` gathers the shuffled rows a chunk of whole batches at a time into buffers made once
(a shuffled copy of all of X would double the memory of a large dataset) and yields views.

`dataloader` is the framework way: torch.utils.data.DataLoader over a TensorDataset. Its
sampler is `EpochShuffle`, torch's RandomSampler without one draw: RandomSampler calls
randperm twice an epoch (the second time for `num_samples % n` rows, even when that is 0),
and DataLoader(shuffle=True, generator=g) also draws its workers' base seed from g before
each epoch, so either would take the generator off linreg's sequence (epoch 1 already, for
the second). The DataLoader gets a generator of its own for that base seed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch.utils.data import DataLoader, Sampler, SequentialSampler, TensorDataset

CHUNK_ROWS = 1 << 16  # rows gathered at a time: small next to a large X, large enough to be fast

Batches = Callable[[], Iterator[tuple[torch.Tensor, torch.Tensor]]]  # one epoch's, per call


def batches_per_epoch(n_rows: int, batch_size: int, drop_last: bool) -> int:
    return n_rows // batch_size if drop_last else -(-n_rows // batch_size)


def own_batches(X: torch.Tensor, y: torch.Tensor, batch_size: int, drop_last: bool,
                shuffle: bool, generator: torch.Generator) -> Batches:
    n_rows, size = X.shape[0], batch_size
    n_batches = batches_per_epoch(n_rows, size, drop_last)
    chunk_batches = max(1, CHUNK_ROWS // size)
    buffers = (torch.empty(min(chunk_batches * size, n_rows), X.shape[1], dtype=X.dtype),
               torch.empty(min(chunk_batches * size, n_rows), 1, dtype=y.dtype))

    def epoch() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = torch.randperm(n_rows, generator=generator) if shuffle else None
        for first in range(0, n_batches, chunk_batches):
            X_chunk, y_chunk = _rows(X, y, order, first * size,
                                     min((first + chunk_batches) * size, n_rows), buffers)
            for i in range(min(chunk_batches, n_batches - first)):
                yield X_chunk[i * size:(i + 1) * size], y_chunk[i * size:(i + 1) * size]

    return epoch


def _rows(X: torch.Tensor, y: torch.Tensor, order: torch.Tensor | None, lo: int, hi: int,
          buffers: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows lo:hi of this epoch's order, as contiguous tensors (views when not shuffled)."""
    if order is None:
        return X[lo:hi], y[lo:hi]
    X_buf, y_buf = buffers[0][:hi - lo], buffers[1][:hi - lo]
    return (torch.index_select(X, 0, order[lo:hi], out=X_buf),
            torch.index_select(y, 0, order[lo:hi], out=y_buf))


class EpochShuffle(Sampler[int]):
    """A new order of range(n) every epoch: one torch.randperm from `generator`."""

    def __init__(self, n: int, generator: torch.Generator) -> None:
        self.n, self.generator = n, generator

    def __iter__(self) -> Iterator[int]:
        yield from torch.randperm(self.n, generator=self.generator).tolist()

    def __len__(self) -> int:
        return self.n


def dataloader(X: torch.Tensor, y: torch.Tensor, batch_size: int, drop_last: bool,
               shuffle: bool, generator: torch.Generator, seed: int) -> DataLoader:
    dataset = TensorDataset(X, y)
    sampler = EpochShuffle(len(dataset), generator) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=drop_last,
                      generator=torch.Generator().manual_seed(seed))


def epoch_batches(loader: str, X: torch.Tensor, y: torch.Tensor, batch_size: int,
                  drop_last: bool, shuffle: bool, seed: int) -> Batches:
    """The chosen loader's epochs, shuffled by a generator seeded with `seed`."""
    generator = torch.Generator().manual_seed(seed)
    if loader == "dataloader":
        return dataloader(X, y, batch_size, drop_last, shuffle, generator, seed).__iter__
    return own_batches(X, y, batch_size, drop_last, shuffle, generator)
