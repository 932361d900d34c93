"""When training stops before `train.epochs`: early stopping and the tolerance stop.

Early stopping (`train.early_stopping`) watches the validation loss, or the training loss when
no rows are held out. An epoch improves on the best so far when its loss is lower than the
best by more than `min_delta`; after `patience` epochs in a row without an improvement,
training stops (Keras' and Lightning's rule). `best_epoch` is the last improving epoch; with
`restore_best` the run ends with that epoch's parameters.

The tolerance stop compares each epoch's full_mse with the exact least-squares MSE of the same
training rows, computed in float64 before training (linreg/exact.py): the first epoch with
full_mse <= mse_ols * (1 + tol_rel) is `epochs_to_tol`, recorded in every run (null if never
reached) so that optimizers can be compared on it; `stop_at_tol` also stops there.

Why a run stopped is `History.stop_reason`: "epochs" (all were run), "early_stopping",
"tolerance", or the run's status when that is not "ok" ("diverged", "interrupted").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class EarlyStoppingConfig:
    # epochs without improvement before stopping; 0 or null: never stop early
    patience: int | None = field(default=None, metadata={"ge": 0})
    min_delta: float = field(default=0.0, metadata={"ge": 0})  # less is not an improvement
    # end with the best epoch's parameters, not the last's (with patience only: to train
    # every epoch and keep the best, set patience to train.epochs)
    restore_best: bool = False


class Stopper:
    """Follows the epochs' losses; `after_epoch` says why to stop now, or None."""

    def __init__(self, early: EarlyStoppingConfig, tol_rel: float, stop_at_tol: bool,
                 target_mse: float | None) -> None:
        self.early, self.stop_at_tol = early, stop_at_tol
        # the full_mse to reach; None (no reference, or it is not finite): never reached
        finite = target_mse is not None and math.isfinite(target_mse)
        self.tol_mse = target_mse * (1 + tol_rel) if finite else None
        self.best = math.inf
        self.best_epoch: int | None = None
        self.waited = 0
        self.epochs_to_tol: int | None = None

    def after_epoch(self, epoch: int, watched: float, full_mse: float) -> str | None:
        """`epoch` counts from 1; `watched` is its validation (or training) loss."""
        if watched < self.best - self.early.min_delta:  # NaN is never an improvement
            self.best, self.best_epoch, self.waited = watched, epoch, 0
        else:
            self.waited += 1
        if self.epochs_to_tol is None and self.tol_mse is not None and full_mse <= self.tol_mse:
            self.epochs_to_tol = epoch
            if self.stop_at_tol:
                return "tolerance"
        if self.early.patience and self.waited >= self.early.patience:
            return "early_stopping"
        return None
