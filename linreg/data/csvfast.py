"""The fast pass over a CSV file: Apache Arrow's C++ reader, block by block, into float64.

It accepts only what the slow pass (csvrows.py, Python's csv module and float()) would read
to the same numbers, and gives up (`CannotRead`) on anything else: a ragged row, a field that
is not a plain number, NaN, infinity, a value beyond the training dtype, bytes that are not
UTF-8. The slow pass then reads the file again and says which line and column is at fault.
Arrow rather than pandas: pandas reads "True" as 1.0 in a float column and, given a column
selection, fills or drops the fields of a ragged row without a word; Arrow refuses both.

Blocks keep memory near the float64 arrays themselves (no whole-file table, no concatenation),
and a stop (Ctrl-C) is taken between two blocks, a few milliseconds apart.
"""

from __future__ import annotations

import os
from typing import BinaryIO

import numpy as np

from linreg.process.stopping import STOP

BLOCK_BYTES = 1 << 20  # Arrow's default: ~10,000 rows of ten numbers per block
# one thread: as much CPU as Arrow's readahead threads, and on a busy machine less wall time
# (8.3 s against 15.6 s, in turns, with eight other processes on two cores)
THREADS = False


class CannotRead(Exception):
    """Something the fast pass does not read as the slow pass would: let the slow pass say."""


def read_numbers(raw: BinaryIO, delimiter: str, skip_lines: int, width: int,
                 features: list[int], target: int, limit: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """X (n, len(features)) and y (n,), float64, from the columns numbered `features` and
    `target` of every data row.

    `raw` is the file, at its start; its first `skip_lines` lines (a header, blank lines
    before it) are skipped; every row must have `width` fields, every value used must be a
    finite number of at most `limit` in size. Empty lines are skipped, as the slow pass does.
    """
    used = [*features, target]
    with STOP.held():  # here, not at import: only a CSV run needs Arrow; whole, not cut
        import pyarrow as pa
        import pyarrow.csv as pcsv

    names = [f"c{j}" for j in range(width)]
    # unused columns are read as text: Arrow still checks each row's width and the UTF-8
    types = {name: (pa.float64() if j in used else pa.string()) for j, name in enumerate(names)}
    try:
        reader = pcsv.open_csv(
            raw,
            read_options=pcsv.ReadOptions(column_names=names, skip_rows=skip_lines,
                                          block_size=BLOCK_BYTES, encoding="utf8",
                                          use_threads=THREADS),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"',
                                            double_quote=True, escape_char=False,
                                            newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pcsv.ConvertOptions(column_types=types,
                                                include_columns=[names[j] for j in range(width)],
                                                null_values=[], strings_can_be_null=False,
                                                quoted_strings_can_be_null=False))
        return _gather(reader, [names[j] for j in used], limit, _size(raw))
    except (pa.ArrowException, OSError) as exc:
        raise CannotRead(str(exc)) from None


def _gather(reader, used: list[str], limit: float, size: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """The used columns of every block (the target last), copied into X and y; their size is
    guessed from the first block's rows, and grown if that was too few."""
    X = y = None
    n = 0
    for batch in reader:
        block = np.asarray(batch.select(used).to_tensor(row_major=True))  # (m, k) float64
        m = block.shape[0]
        if m == 0:
            continue
        # max/min carry a NaN through; inf and values beyond float32 exceed `limit`
        if not (block.max() <= limit and block.min() >= -limit):
            raise CannotRead("a value that is not finite or beyond the training dtype")
        if X is None:
            # rows ~ size / bytes per row, with a margin; rows never written take no memory
            X, y = _empty(int(size / BLOCK_BYTES * m * 1.1) + m, len(used) - 1)
        elif n + m > len(y):  # later rows shorter than the first block's: grow
            X, y = _grown(X, y, n, int(len(y) * 1.5) + m)
        X[n:n + m] = block[:, :-1]
        y[n:n + m] = block[:, -1]
        n += m
    if X is None:
        return _empty(0, len(used) - 1)
    return X[:n], y[:n]


def _empty(rows: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    return np.empty((rows, d)), np.empty(rows)


def _grown(X: np.ndarray, y: np.ndarray, n: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    bigger_X, bigger_y = _empty(rows, X.shape[1])
    bigger_X[:n], bigger_y[:n] = X[:n], y[:n]
    return bigger_X, bigger_y


def _size(raw: BinaryIO) -> int:
    return max(os.fstat(raw.fileno()).st_size, 1)
