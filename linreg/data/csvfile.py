"""`dataset=csv`: a CSV file of numbers.

The header is read with Python's csv module; the numbers by Arrow's C++ reader (csvfast.py),
about a hundred times faster than row by row. Where that fast pass gives up, the slow pass
(csvrows.py) reads the file again and stops with a DataError naming the file, and the line and
column where there is one, so a student can open the file at that spot.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import MISSING

from linreg.data.csvfast import CannotRead, read_numbers
from linreg.data.csvrows import first_row, read_slowly
from linreg.data.table import Data, DatasetConfig, dtype_max
from linreg.errors import ConfigError, DataError

DELIMITER_NAMES = {"\\t": "\t", "tab": "\t"}  # a tab is awkward to type on a command line


@dataclass
class CSVConfig(DatasetConfig):
    """A CSV file of numbers; `path` is relative to the directory linreg was started from."""

    name: str = "csv"
    path: str = MISSING
    target: str | None = None  # column name (or number, from 0, without a header); None: last
    features: list[str] | None = None  # None: every column but the target
    delimiter: str = ","
    header: bool = True
    standardize: bool = True



def load_csv(cfg: CSVConfig, dtype: str = "float32") -> Data:
    """The file's values in float64; each must fit `dtype`, the one training computes in."""
    path, names, X, y = read_csv(cfg.path, cfg.target, cfg.features, cfg.delimiter, cfg.header,
                                 dtype)
    return Data(X=torch.as_tensor(X, dtype=torch.float64),
                y=torch.as_tensor(y, dtype=torch.float64).reshape(-1, 1),
                feature_names=names, source=str(path))


def resolve(path: str) -> Path:
    """`path` against the directory linreg was started from, not Hydra's run folder."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    try:
        from hydra.utils import get_original_cwd

        start = Path(get_original_cwd())
    except ValueError:  # Hydra is not running (a test, a script): the cwd is the start
        start = Path(os.getcwd())
    return start / path


def read_csv(path: str, target: str | None, features: list[str] | None, delimiter: str,
             header: bool, dtype: str = "float32"
             ) -> tuple[Path, list[str], np.ndarray, np.ndarray]:
    """Return the resolved path, the feature names, X (n, d) and y (n,) as float64; a value
    beyond `dtype`'s range is refused."""
    delimiter = DELIMITER_NAMES.get(delimiter, delimiter)
    if len(delimiter) != 1:
        raise ConfigError(f"dataset.delimiter: must be one character (or tab), got {delimiter!r}")
    file = resolve(path)
    with open(_open(file), "rb") as raw:
        first = first_row(file, raw, delimiter)
        if first is None:
            raise DataError(f"{file}: the file is empty")
        header_line, names = first
        if header:
            names = [name.strip() for name in names]
            _check_names(file, names, header_line)
        else:
            names = [str(j) for j in range(len(names))]
        target_col = _column(file, names, target) if target is not None else len(names) - 1
        if features is None:
            feature_cols = [j for j in range(len(names)) if j != target_col]
        else:
            feature_cols = [_column(file, names, str(name)) for name in features]
        if not feature_cols:
            raise DataError(f"{file}: no feature columns besides the target "
                            f"'{names[target_col]}'")
        if target_col in feature_cols:
            raise DataError(f"{file}: column '{names[target_col]}' is both the target and a "
                            "feature")
        limit = dtype_max(dtype)
        try:  # the fast pass; the slow one only if it gives up, to say why
            raw.seek(0)
            X, y = read_numbers(raw, delimiter, header_line if header else 0, len(names),
                                feature_cols, target_col, limit)
        except CannotRead:
            X, y = read_slowly(file, raw, delimiter, header, names, feature_cols, target_col,
                               dtype, limit)
    if not len(y):
        raise DataError(f"{file}: a header but no data rows")
    return file, [names[j] for j in feature_cols], X, y


def _open(file: Path) -> int:
    """A descriptor of `file` opened for reading, if it is a regular file; else a DataError
    saying what is wrong with dataset.path."""
    try:
        # O_NONBLOCK: opening a FIFO would otherwise wait for a writer, forever
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise DataError(f"{file}: no such file (dataset.path)") from None
    except OSError as exc:  # no permission, a name too long, a loop of links...
        raise DataError(f"{file}: cannot be opened ({exc.strerror}) (dataset.path)") from None
    mode = os.fstat(fd).st_mode  # of what was opened: no race with a file replaced since
    if stat.S_ISREG(mode):
        return fd
    os.close(fd)
    kind = _KINDS.get(stat.S_IFMT(mode), "special file")
    raise DataError(f"{file}: a {kind}, not a CSV file (dataset.path)")


_KINDS = {stat.S_IFDIR: "folder", stat.S_IFIFO: "FIFO (named pipe)",
          stat.S_IFCHR: "character device", stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}


def _check_names(file: Path, names: list[str], line: int) -> None:
    seen: set[str] = set()
    for j, name in enumerate(names):
        if not name:
            raise DataError(f"{file}, line {line}: column {j} has no name in the header")
        if name in seen:
            raise DataError(f"{file}, line {line}: column name '{name}' appears twice")
        seen.add(name)


def _column(file: Path, names: list[str], name: str) -> int:
    if name in names:
        return names.index(name)
    raise DataError(f"{file}: no column '{name}' (columns: {', '.join(names)})")
