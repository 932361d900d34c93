"""path.json: a one-feature run's optimizer path, so that a sweep can draw every job's path
on one loss surface (paths.png, figures/landscape.py) long after the runs ended.

    {"loss": "mse", "standardized": false, "steps_per_epoch": 7,
     "step": [0, 1, ...], "w": [...], "b": [...],     (at most about 2,000 points: style.spread)
     "ols": [w, b], "true": [w, b] or null,
     "mse_moments": [mean x^2, mean x, mean x y, mean y, mean y^2]}

All in the units training saw, on the training rows: the MSE at any (w, b) is
w^2 m[0] + 2 w b m[1] + b^2 - 2 w m[2] - 2 b m[3] + m[4], exactly, so the surface needs no
data. Written by the run (runner.py) before its metrics.json; compact: one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from linreg.outputs import written_whole

PATH_FILE = "path.json"


def write(run_dir: Path, record: dict[str, Any]) -> None:
    from linreg.records.metrics import finite_or_null

    with written_whole(Path(run_dir) / PATH_FILE) as f:
        json.dump(finite_or_null(record), f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


def read(run_dir: Path) -> dict[str, Any] | None:
    """The run's path, or None if it has none (several features, an old or failed run)."""
    try:
        record = json.loads((Path(run_dir) / PATH_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None
