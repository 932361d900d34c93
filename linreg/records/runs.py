"""A finished run read back from its folder (metrics.json and Hydra's .hydra/): `Job`, and
the metrics runs are ranked by.

Read back, never taken from a launcher's return values, which launchers in other processes
drop: a sweep's summary (sweeps/) and `linreg-compare` read every run this way, and
summary.png (figures/summary.py) is drawn from what is read. The standard library only (PyYAML
when a folder is read): this module is loaded by every `linreg` command.
"""

from __future__ import annotations

import enum
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linreg.errors import LinregError
from linreg.keys import flatten, split_override
from linreg.outputs import METRICS_FILE


class Metric(enum.Enum):
    """What a sweep is ranked by (config key `summary.rank_by`) and what optuna optimises."""

    full_mse = "final full-data MSE"
    train_loss = "final training loss"
    r2 = "R^2 on all rows"
    dist_ols = "distance of (w, b) from least squares"
    val_loss = "final loss on the held-out rows"
    r2_val = "R^2 on the held-out rows"
    w_error = "distance of w from the true w"
    wb_error = "distance of (w, b) from the true (w, b)"
    wall_s = "wall time in seconds"


HIGHER_IS_BETTER = {"r2", "r2_val"}


@dataclass
class Job:
    """One finished (or failed) run, as read back from its folder."""

    folder: Path
    metrics: dict[str, Any]
    overrides: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # flattened: {"optimizer.lr": 0.01}
    num: int | None = None  # hydra.job.num, for a job of a sweep

    @property
    def status(self) -> str:
        return self.metrics.get("status", "failed")

    def metric(self, name: str) -> float | None:
        m = self.metrics
        if self.status == "failed":
            return None
        if name == "dist_ols":
            ref = m.get("reference")
            if ref is None or m.get("b") is None or None in m.get("w", [None]):
                return None
            pairs = [*zip(m["w"], ref["w_ols"], strict=True), (m["b"], ref["b_ols"])]
            return math.sqrt(sum((v - v_ols) ** 2 for v, v_ols in pairs))
        if name == "wb_error":  # in the data's own units (metrics.json param_error)
            error = m.get("param_error") or {}
            if error.get("w") is None or error.get("b") is None:
                return None
            value = math.hypot(error["w"], error["b"])
            return value if math.isfinite(value) else None
        losses = m.get("loss", {})
        value = {"full_mse": losses.get("full_mse"), "train_loss": losses.get("train"),
                 "r2": m.get("r2"), "wall_s": m.get("wall_s"), "val_loss": losses.get("val"),
                 "r2_val": m.get("r2_val"), "w_error": (m.get("param_error") or {}).get("w")}[name]
        return None if value is None or not math.isfinite(value) else value

    @property
    def group(self) -> str:
        """The seed group: the run's overrides without `seed`, so runs whose configs differ
        only in seed share it ("optimizer.lr=0.1"; "" when only the seed was changed). One
        rule for summary_groups.csv, summary.png, the ranking and TensorBoard's HParams."""
        return " ".join(sorted(o for o in self.overrides if split_override(o)[0] != "seed"))

    @property
    def same_but_seed(self) -> str:
        """What runs of one seed group share: the config read back without `seed` (and
        without plot.* and summary.*, which change no number), so that `optimizer.lr=0.01`
        said on one command line and left to its default on another are one group; the
        `group` name when there is no config to read. records/groups.py groups by this."""
        if not self.config:
            return self.group
        return repr(sorted((k, repr(v)) for k, v in self.config.items()
                           if k != "seed" and not k.startswith(("plot.", "summary."))))

    def value(self, key: str) -> Any:
        """The value this run used for `key`: a config value, or a group's chosen option."""
        for candidate in (key, f"{key}.name"):
            if candidate in self.config:
                return self.config[candidate]
        return dict(split_override(o) for o in self.overrides).get(key)


def find_runs(paths: list[Path]) -> list[Path]:
    """Every run folder (one holding metrics.json or .hydra/) at or below each of `paths`."""
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise LinregError(f"{path}: no such folder")
        before = len(found)
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # .hydra, .submitit
            if METRICS_FILE in files or Path(root, ".hydra", "config.yaml").is_file():
                found.append(Path(root))
                dirs.clear()
        if len(found) == before:
            raise LinregError(f"{path}: no run folders in it (none holds metrics.json or .hydra/)")
    return found


def load(folder: Path) -> Job:
    try:
        metrics = json.loads((folder / METRICS_FILE).read_text())
    except FileNotFoundError:
        metrics = {"status": "failed", "error": "no metrics.json: the job stopped before "
                                                "recording a result (see its train.log)"}
    except json.JSONDecodeError as exc:
        metrics = {"status": "failed", "error": f"metrics.json is not valid JSON: {exc}"}
    hydra_dir = folder / ".hydra"
    overrides = _yaml(hydra_dir / "overrides.yaml") or []
    config = flatten(_yaml(hydra_dir / "config.yaml") or {})
    job = (_yaml(hydra_dir / "hydra.yaml") or {}).get("hydra", {})
    num = job.get("job", {}).get("num") if job.get("mode") == "MULTIRUN" else None
    if not job and (folder.parent / "sweep.json").is_file():  # a job killed before Hydra wrote
        num = _leading_number(folder.name)  # hydra.yaml: its folder's name starts with it
    return Job(folder.resolve(), metrics, [str(o) for o in overrides], config, num)


def _leading_number(name: str) -> int | None:
    digits = name.split("_", 1)[0]
    return int(digits) if digits.isdigit() else None


def _yaml(path: Path) -> Any:
    import yaml  # PyYAML comes with OmegaConf

    try:
        return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        return None
