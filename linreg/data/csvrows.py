"""The slow pass over a CSV file: Python's csv module and float(), row by row.

It is the authority on what a CSV file holds: it reads the header, and it reads the data only
when the fast pass (csvfast.py) gave up, to name the line and column at fault; or, where the
file holds something the fast pass does not read but float() does ('1_000'), to read it.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np

from linreg.data.table import range_text, wider_hint
from linreg.errors import DataError

Row = tuple[int, list[str]]  # (the line it ends on, its fields)


@contextmanager
def text_of(raw: BinaryIO) -> Iterator[io.TextIOWrapper]:
    """`raw` from its start as text, handed back open when done (the fast pass reads it too)."""
    raw.seek(0)
    # utf-8-sig: spreadsheet programs often start the file with a byte-order mark
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    try:
        yield text
    finally:
        text.detach()


def rows(file: Path, text: io.TextIOWrapper, delimiter: str) -> Iterator[Row]:
    """(line number, fields) for every row that is not blank."""
    reader = csv.reader(text, delimiter=delimiter)
    try:
        for row in reader:
            if any(v.strip() for v in row):
                yield reader.line_num, row
    except UnicodeDecodeError:
        raise DataError(f"{file}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise DataError(f"{file}: not readable as CSV ({exc})") from None
    except OSError as exc:
        raise DataError(f"{file}: cannot be read ({exc.strerror}) (dataset.path)") from None


def first_row(file: Path, raw: BinaryIO, delimiter: str) -> Row | None:
    """The first row that is not blank (a header, or the first data row), or None."""
    with text_of(raw) as text:
        return next(rows(file, text, delimiter), None)


def read_slowly(file: Path, raw: BinaryIO, delimiter: str, header: bool, names: list[str],
                features: list[int], target: int, dtype: str, limit: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """X and y as csvfast.read_numbers gives them, or the DataError for the first row, in file
    order, with a wrong number of fields or a value that is not a number training can use."""
    width, used = len(names), [*features, target]
    values = array("d")  # 8 bytes a number: no list of rows of strings in memory
    with text_of(raw) as text:
        data = rows(file, text, delimiter)
        if header:
            next(data)
        for line, row in data:
            if len(row) != width:
                raise DataError(f"{file}, line {line}: {len(row)} fields, expected {width} "
                                f"(dataset.delimiter is {delimiter!r})")
            values.extend(number(file, line, names[j], row[j], limit, dtype) for j in used)
    table = np.frombuffer(values, dtype=np.float64).reshape(-1, len(used))
    return table[:, :-1].copy(), table[:, -1].copy()


def number(file: Path, line: int, column: str, text: str, limit: float, dtype: str) -> float:
    text = text.strip()
    where = f"{file}, line {line}, column '{column}'"
    if not text:
        raise DataError(f"{where}: empty value")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: '{text}' is not a finite number")
    if abs(value) > limit:
        raise DataError(f"{where}: '{text}' is beyond {range_text(dtype)}{wider_hint(dtype)}")
    return value
