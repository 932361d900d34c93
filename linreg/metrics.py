"""metrics.json: the contract that tests, sweeps and other tools read.

    {"status": "ok" | "diverged", "epochs_run": int, "steps": int,
     "w": [float, ...], "b": float,
     "loss": {"train": float, "full_mse": float},
     "r2": float,
     "reference": {"w_true": [...] or null, "b_true": float or null,
                   "w_ols": [...], "b_ols": float, "mse_ols": float},
     "history": {"train_loss": [one per epoch], "full_mse": [one per epoch]},
     "wall_s": float, "train_s": float}

Non-finite numbers (a diverged run) are written as null: JSON has no NaN or inf.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from linreg.dataset import Data
from linreg.model import LeastSquares, r2
from linreg.train import History

FILE = "metrics.json"


def finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def build(history: History, data: Data, reference: LeastSquares, wall_s: float) -> dict[str, Any]:
    """The run's results, from the final epoch of `history` (the parameters after training)."""
    import torch

    w, b = history.w[-1], history.b[-1]
    return {
        "status": history.status,
        "epochs_run": history.epochs_run,
        "steps": history.steps,
        "w": [finite_or_none(v) for v in w],
        "b": finite_or_none(b),
        "loss": {"train": finite_or_none(history.train_loss[-1]),
                 "full_mse": finite_or_none(history.full_mse[-1])},
        "r2": finite_or_none(r2(data.X, data.y, torch.tensor(w).reshape(-1, 1), torch.tensor([b]))),
        "reference": {
            "w_true": data.w_true, "b_true": data.b_true,
            "w_ols": reference.w.reshape(-1).tolist(), "b_ols": float(reference.b),
            "mse_ols": reference.mse,
        },
        "history": {"train_loss": [finite_or_none(v) for v in history.train_loss],
                    "full_mse": [finite_or_none(v) for v in history.full_mse]},
        "wall_s": wall_s,
        "train_s": history.train_s,
    }


def write(run_dir: Path, metrics: dict[str, Any]) -> Path:
    """Write atomically: a reader sees a complete metrics.json or none at all."""
    path = Path(run_dir) / FILE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".metrics-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(metrics, f, indent=2, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def read(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / FILE).read_text())
