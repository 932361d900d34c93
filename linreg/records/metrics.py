"""metrics.json: the contract that tests, sweeps and other tools read.

    {"status": "ok" | "diverged" | "interrupted", "epochs_run": int, "steps": int,
     "w": [float, ...], "b": float,
     "loss": {"train": float, "full_mse": float},
     "r2": float,
     "reference": {"w_true": [...] or null, "b_true": float or null,
                   "w_ols": [...], "b_ols": float, "mse_ols": float,
                   "mse_ols_val": float or null},  (least squares on the validation rows)
     "history": {"train_loss": [one per epoch], "full_mse": [one per epoch]},
     "wall_s": float, "train_s": float}

Added for course experiments (train.val_fraction, dataset.standardize, weight decay):
    "loss": {..., "val": float or null}, "r2_val": float or null,
    "history": {..., "val_loss": [one per epoch, empty without validation rows]},
    "reference": {..., "se_ols": {"w", "b"} or null,   (standard errors of w_ols, b_ols)
                  "ridge": {"weight_decay", "w", "b", "mse"} or null},
Added by the optimization chapter (issue 19): "reference": {..., "ridge": {..., "decay_bias"},
    "ridge_note": why "ridge" is null despite weight decay (AdamW's decoupled decay) or null},
Added by the exact reference (issue 15; every reference number is linreg.reference's, float64):
    "reference": {..., "r2", "resid_sd", "intercept",
                  "se_ols_raw": {"w", "b"} or null},  (standard errors in raw units)
    "diagnostics": {...} or null   (the loss's Hessian's, weight decay included:
                                    exact.diagnostics; "kind" and "why" say what applies)
    "original_units": {"w", "b", "w_ols", "b_ols"}    (equal to w, b... unless standardized),
    "param_error": {"w", "b", "w_ols", "b_ols"} or null   (distance to the true values),
    "data": {"source", "features", "n_train", "n_val", "standardize", "mean", "std"}
Everything about training (w, b, loss, r2, reference) is in the units training saw, on the
training rows; original_units and param_error are in the data's own units.

Added by the stopping rules (linreg/train_stop.py):
    "stop_reason": "epochs" | "early_stopping" | "tolerance" | "diverged" | "interrupted"
                   (the status itself when that is not "ok"),
    "best_epoch": int or null   (the last epoch that improved the watched loss: val_loss with
                                 validation rows, else train_loss; from 1),
    "restored_best": bool       (w, b, loss and r2 are best_epoch's; history stays whole),
    "epochs_to_tol": int or null (the first epoch with full_mse <= mse_ols * (1 + tol_rel))

Every non-finite number, wherever it is (a diverged run's w, a reference that overflowed), is
written as null: JSON has no NaN or inf.

A run stopped by Ctrl-C or SIGTERM has status "interrupted", "interrupted_by": "SIGINT" or
"SIGTERM", and everything above for the whole epochs it ran; stopped before its first epoch
ended, it has epochs_run 0, the initial w and b, and null losses and r2.

In a sweep, a job that raised writes {"status": "failed", "error": "<one-line reason>",
"wall_s": float} instead (`failure`), so the sweep's summary can list it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linreg.outputs import METRICS_FILE, written_whole

if TYPE_CHECKING:  # at run time this module imports no torch: the drawing process writes too
    from linreg.data.prepare import Standardizer
    from linreg.data.table import Data
    from linreg.exact import Reference
    from linreg.train import History

FILE = METRICS_FILE
LONG_HISTORY = 10_000  # epochs


def finite_or_null(value: Any) -> Any:
    """`value` with every non-finite float in it, however deeply nested, replaced by None:
    JSON has no NaN or inf. The one rule for metrics.json."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(v) for v in value]
    return value


def build(history: History, data: Data, ref: Reference, wall_s: float, *,
          val: Data | None = None, weight_decay: float = 0.0,
          scaler: Standardizer | None = None, intercept: bool = True) -> dict[str, Any]:
    """The run's results, from the final epoch of `history` (the parameters after training).

    `data` are the training rows, `val` the validation rows, both as training saw them (in
    its dtype); `ref` the exact answers (exact.of_run).
    """
    import torch

    from linreg.model import r2

    trained = history.epochs_run > 0  # not so only when interrupted in the first epoch
    end = history.final  # the last epoch, or the best one restored (train.early_stopping)
    w, b = (history.w[end], history.b[end]) if trained else (history.w_start, history.b_start)
    w_t = torch.tensor(w, dtype=data.X.dtype).reshape(-1, 1)
    b_t = torch.tensor([b], dtype=data.X.dtype)

    def last(values: list[float]) -> float | None:
        return values[end] if values else None

    reference, ridge = ref.ols, ref.ridge
    raw_w, raw_b = _original(w_t, b_t, scaler)
    raw_w_ols, raw_b_ols = ref.raw.w.reshape(-1).tolist(), float(ref.raw.b)
    # as metrics.json will hold it, so that the caller sees the same numbers
    return finite_or_null({
        "status": history.status,
        "epochs_run": history.epochs_run,
        "steps": history.steps,
        "stop_reason": history.stop_reason,
        "best_epoch": history.best_epoch,
        "restored_best": history.restored_best,
        "epochs_to_tol": history.epochs_to_tol,
        "w": w,
        "b": b,
        "loss": {"train": last(history.train_loss), "full_mse": last(history.full_mse),
                 "val": last(history.val_loss)},
        "r2": r2(data.X, data.y, w_t, b_t, intercept) if trained else None,
        "r2_val": r2(val.X, val.y, w_t, b_t, intercept) if val is not None and trained else None,
        "reference": {
            "w_true": data.w_true, "b_true": data.b_true,
            "w_ols": reference.w.reshape(-1).tolist(), "b_ols": float(reference.b),
            "mse_ols": reference.mse,
            # least squares' MSE on the validation rows: what the exact fit generalizes to
            "mse_ols_val": None if val is None else _mse(val, reference.w, reference.b),
            "se_ols": reference.se, "se_ols_raw": ref.raw.se,
            # the same in any units: from the raw rows, the data's own values
            "r2": ref.raw.r2, "resid_sd": ref.raw.resid_sd, "intercept": intercept,
            "ridge": None if ridge is None else {
                "weight_decay": weight_decay, "decay_bias": ref.decay_bias,
                "w": ridge.w.reshape(-1).tolist(), "b": float(ridge.b), "mse": ridge.mse},
            "ridge_note": ref.ridge_note,
        },
        "diagnostics": ref.diagnostics,
        "original_units": {"w": raw_w, "b": raw_b, "w_ols": raw_w_ols, "b_ols": raw_b_ols},
        "param_error": _param_error(data, raw_w, raw_b, raw_w_ols, raw_b_ols),
        "data": {
            "source": data.source,
            "features": [data.feature_name(j) for j in range(data.n_features)],
            "n_train": data.X.shape[0], "n_val": 0 if val is None else val.X.shape[0],
            "standardize": scaler is not None,
            "mean": None if scaler is None else scaler.mean.reshape(-1).tolist(),
            "std": None if scaler is None else scaler.std.reshape(-1).tolist(),
        },
        "history": {"train_loss": history.train_loss, "full_mse": history.full_mse,
                    "val_loss": history.val_loss},
        "wall_s": wall_s,
        "train_s": history.train_s,
        **({"interrupted_by": history.interrupted_by} if history.interrupted_by else {}),
    })


def _mse(rows: Data, w, b) -> float:
    """mean((X w + b - y)^2) in float64, from the rows' values."""
    r = rows.X.double() @ w.double() + b.double() - rows.y.double()
    return float((r * r).mean())


def _original(w, b, scaler: Standardizer | None) -> tuple[list[float], float]:
    if scaler is not None:
        w, b = scaler.to_original(w, b)
    return w.reshape(-1).tolist(), float(b)


def _param_error(data: Data, w, b, w_ols, b_ols) -> dict[str, float] | None:
    """Euclidean distance of w (and |b - b_true|) from the data's true values, if known."""
    if data.w_true is None or data.b_true is None:
        return None

    def dist(v: list[float]) -> float:  # d * d, not d ** 2: inf, not OverflowError, when huge
        return math.sqrt(sum(d * d for d in (x - t for x, t in zip(v, data.w_true, strict=True))))

    return {"w": dist(w), "b": abs(b - data.b_true),
            "w_ols": dist(w_ols), "b_ols": abs(b_ols - data.b_true)}


def failure(exc: BaseException, wall_s: float) -> dict[str, Any]:
    """The record of a sweep's job that raised."""
    return {"status": "failed", "error": failure_reason(exc), "wall_s": wall_s}


def failure_reason(exc: BaseException) -> str:
    """The one-line reason, with the error's type when it is a bug rather than bad input."""
    from linreg.errors import LinregError, one_line

    reason = one_line(exc)
    return reason if isinstance(exc, LinregError) else f"{type(exc).__name__}: {reason}"


def write(run_dir: Path, metrics: dict[str, Any]) -> Path:
    """Write whole (outputs.written_whole): a reader sees a complete metrics.json or none.
    Indented for a reader, unless its histories are long: the C encoder is three times faster,
    and a stopped 10^5-epoch run has no time to spare."""
    path = Path(run_dir) / FILE
    long = len(metrics.get("history", {}).get("train_loss", ())) > LONG_HISTORY
    with written_whole(path) as f:
        json.dump(finite_or_null(metrics), f, indent=None if long else 2, allow_nan=False)
        f.write("\n")
    return path


def read(run_dir: Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / FILE).read_text())
