"""TensorBoard events, written into the run folder itself (one run per folder in TensorBoard).

Per epoch: loss/train, loss/full_mse, loss/val (with validation rows), param/w (param/w_0, ...
for a few features, param/w_norm for many), param/b, grad/norm, opt/lr. The run's
hyperparameters go to the HParams tab with its final metrics, through this writer's own file:
SummaryWriter.add_hparams would put them in a new timestamped sub-folder, which TensorBoard
shows as a second run. Every run writes the same HParams keys (`same_columns`), so the runs
of a sweep line up in one table.
"""

from __future__ import annotations

import dataclasses
import enum
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


def same_columns(hparams: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`hparams` completed with the keys of every option of every config group, and each
    group's options (the domain of its `name` column).

    TensorBoard builds the HParams columns from one run's keys and drops the rest, so every run
    of a sweep must have the same keys: an option not chosen gets a placeholder of its field's
    type (NaN for numbers and flags, "-" for text). Values become scalars or strings.
    """
    from linreg.config import GROUPS

    full: dict[str, Any] = {}
    domains: dict[str, list[str]] = {}
    for group, module in GROUPS.items():
        domains[f"{group}.name"] = sorted(module.SCHEMAS)
        for schema in module.SCHEMAS.values():
            for f in dataclasses.fields(schema):
                full[f"{group}.{f.name}"] = "-" if "str" in str(f.type) else math.nan
    for key, value in hparams.items():
        if isinstance(value, enum.Enum):
            value = value.name
        elif isinstance(value, list | tuple | dict):
            value = str(value)
        full[key] = full.get(key, "-") if value is None else value
    return full, {k: v for k, v in domains.items() if isinstance(full.get(k), str)}


def write(run_dir: Path, history: History, hparams: dict[str, Any],
          final: dict[str, float]) -> None:
    """Write every epoch of `history`, then `hparams` with the `final` metrics."""
    # imported here: the writer costs over a second of start-up
    from torch.utils.tensorboard import SummaryWriter
    from torch.utils.tensorboard.summary import hparams as hparams_summaries

    # a queue of 10 (the default) makes this thread wait on the writer's thread at every
    # event: three times the CPU of the default run's 300 events
    writer = SummaryWriter(log_dir=str(run_dir), max_queue=1000)
    try:
        for i in range(history.epochs_run):
            scalars = {"loss/train": history.train_loss[i], "loss/full_mse": history.full_mse[i],
                       **weight_scalars(history.w[i]), "param/b": history.b[i],
                       "grad/norm": history.grad_norm[i], "opt/lr": history.lr[i]}
            if history.val_loss:  # train.val_fraction > 0
                scalars["loss/val"] = history.val_loss[i]
            for tag, value in scalars.items():
                writer.add_scalar(tag, value, global_step=i + 1)
        columns, domains = same_columns(hparams)
        for summary in hparams_summaries(columns, final, hparam_domain_discrete=domains):
            writer.file_writer.add_summary(summary)
        for tag, value in final.items():
            writer.add_scalar(tag, value, global_step=history.epochs_run)
    finally:
        writer.close()
