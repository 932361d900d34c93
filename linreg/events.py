"""TensorBoard events, written into the run folder itself (one run per folder in TensorBoard).

Per epoch: loss/train, loss/full_mse, param/w (param/w_0, ... for a few features, param/w_norm
for many), param/b, grad/norm, opt/lr. The run's hyperparameters go to the HParams tab with
its final metrics, through this writer's own file: SummaryWriter.add_hparams would put them in
a new timestamped sub-folder, which TensorBoard shows as a second run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from linreg.train import History

MAX_FEATURES_SHOWN = 8  # beyond this, one norm says more than a wall of curves


def weight_scalars(w: list[float]) -> dict[str, float]:
    if len(w) == 1:
        return {"param/w": w[0]}
    if len(w) <= MAX_FEATURES_SHOWN:
        return {f"param/w_{i}": v for i, v in enumerate(w)}
    return {"param/w_norm": math.sqrt(sum(v * v for v in w))}


def write(run_dir: Path, history: History, hparams: dict[str, Any],
          final: dict[str, float]) -> None:
    """Write every epoch of `history`, then `hparams` with the `final` metrics."""
    # imported here: the writer costs over a second of start-up
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    writer = SummaryWriter(log_dir=str(run_dir))
    try:
        for i in range(history.epochs_run):
            scalars = {"loss/train": history.train_loss[i], "loss/full_mse": history.full_mse[i],
                       **weight_scalars(history.w[i]), "param/b": history.b[i],
                       "grad/norm": history.grad_norm[i], "opt/lr": history.lr[i]}
            for tag, value in scalars.items():
                writer.add_scalar(tag, value, global_step=i + 1)
        for summary in hparams_summaries(hparams, final):
            writer.file_writer.add_summary(summary)
        for tag, value in final.items():
            writer.add_scalar(tag, value, global_step=history.epochs_run)
    finally:
        writer.close()
