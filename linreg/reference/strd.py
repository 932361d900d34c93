"""NIST's Statistical Reference Datasets (StRD) for linear regression: read a .dat file.

Each file (Norris, Pontius, NoInt1, NoInt2, Filip, Longley, Wampler1-5) has a header that
names the lines holding the certified values and the data, a model line (y = B0 + B1*x + ...),
the certified estimates and their standard deviations (B0, B1, ...), the residual standard
deviation, R^2, and an analysis of variance table; the data are columns y, x1, x2, ... .
The model decides the design: one predictor with several slope parameters is a polynomial
(x, x^2, ..., x^k); a model without B0 has no intercept (NoInt1, NoInt2).

Agreement with a certified value c is counted as NIST does, by the log relative error
-log10(|q - c| / |c|) (log absolute error where c = 0), capped at 15: `digits`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["StrdDataset", "read", "digits"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][-+]?\d+)?"


@dataclass(frozen=True)
class StrdDataset:
    """One StRD linear regression dataset and its certified values (float64)."""

    name: str
    y: np.ndarray  # (n,)
    x: np.ndarray  # (n, k): the predictor columns as the file gives them
    intercept: bool  # the model has B0
    degree: int | None  # k for a polynomial in one predictor, else None
    coef: np.ndarray  # certified B1.. (the slopes), shape (d,)
    coef_intercept: float | None  # certified B0
    se_coef: np.ndarray  # their certified standard deviations
    se_intercept: float | None
    resid_sd: float
    r2: float
    rss: float  # residual sum of squares, from the analysis of variance table
    dof: int  # its degrees of freedom

    def design(self) -> np.ndarray:
        """X (n, d) for the certified model: the x columns, or x, x^2, ..., x^k."""
        if self.degree is None:
            return self.x
        return self.x[:, :1] ** np.arange(1, self.degree + 1)


def _float(text: str) -> float:
    return float(text.replace("D", "E").replace("d", "e"))


def read(path: str | Path) -> StrdDataset:
    """Parse a NIST StRD linear regression .dat file. Raises ValueError naming the file when
    it does not have the format."""
    path = Path(path)
    lines = path.read_text(encoding="ascii", errors="replace").splitlines()

    def fail(why: str) -> ValueError:
        return ValueError(f"{path}: not a NIST StRD linear regression file ({why})")

    header = "\n".join(lines[:30])
    found = {}
    for what in ("Certified Values", "Data"):
        m = re.search(rf"{what}\s*\(lines\s+(\d+)\s+to\s+(\d+)\)", header)
        if not m:
            raise fail(f"no '{what} (lines a to b)' in the header")
        found[what] = (int(m.group(1)) - 1, int(m.group(2)))
    certified = lines[slice(*found["Certified Values"])]
    data = lines[slice(*found["Data"])]

    estimates: dict[int, tuple[float, float]] = {}
    resid_sd = r2 = rss = None
    dof = None
    for line in certified:
        if m := re.match(rf"\s*B(\d+)\s+({_NUMBER})\s+({_NUMBER})\s*$", line):
            estimates[int(m.group(1))] = (_float(m.group(2)), _float(m.group(3)))
        elif m := re.search(rf"Standard Deviation\s+({_NUMBER})\s*$", line):
            resid_sd = _float(m.group(1))
        elif m := re.search(rf"R-Squared\s+({_NUMBER})\s*$", line):
            r2 = _float(m.group(1))
        elif m := re.match(rf"\s*Residual\s+(\d+)\s+({_NUMBER})\s+", line):
            dof, rss = int(m.group(1)), _float(m.group(2))
    if not estimates or resid_sd is None or r2 is None or rss is None or dof is None:
        raise fail("certified estimates, residual standard deviation, R-Squared or the "
                   "residual row of the analysis of variance table missing")

    rows = [[_float(v) for v in line.split()] for line in data if line.strip()]
    if not rows:
        raise fail("no data rows")
    try:
        table = np.array(rows, dtype=np.float64)
    except ValueError:
        raise fail("data rows of different lengths") from None
    if table.ndim != 2 or table.shape[1] < 2:
        raise fail("data need a y column and at least one x column")

    intercept = 0 in estimates
    slopes = sorted(k for k in estimates if k > 0)
    if slopes != list(range(1, len(slopes) + 1)):
        raise fail(f"parameters B{slopes} are not B1..Bd")
    x = table[:, 1:]
    if x.shape[1] == len(slopes):
        degree = None
    elif x.shape[1] == 1:
        degree = len(slopes)
    else:
        raise fail(f"{x.shape[1]} predictors for {len(slopes)} slope parameters")
    name = path.stem
    if m := re.search(r"Dataset Name:\s*(\S+)", header):
        name = m.group(1)
    return StrdDataset(
        name=name, y=table[:, 0].copy(), x=x.copy(), intercept=intercept, degree=degree,
        coef=np.array([estimates[k][0] for k in slopes]),
        coef_intercept=estimates[0][0] if intercept else None,
        se_coef=np.array([estimates[k][1] for k in slopes]),
        se_intercept=estimates[0][1] if intercept else None,
        resid_sd=resid_sd, r2=r2, rss=rss, dof=dof,
    )


def digits(q: float, c: float, cap: float = 15.0) -> float:
    """NIST's log relative error of q against the certified c: -log10(|q - c| / |c|), or
    -log10(|q - c|) when c = 0; between 0 and cap (NaN or inf q: 0)."""
    q, c = float(q), float(c)
    if not math.isfinite(q):
        return 0.0
    error = abs(q - c)
    if error == 0:
        return cap
    lre = -math.log10(error / abs(c)) if c != 0 else -math.log10(error)
    return min(max(lre, 0.0), cap)
