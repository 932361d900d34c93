"""The typed schema behind conf/, and the checks every config passes before any work.

Each group's option schemas live in the group's own module or package (data/, init.py,
optim/, optim/schedules.py for `scheduler`, loss.py; `train` in train.py, `plot` in
figures/style.py, `summary` in sweeps/callback.py) and are registered here in Hydra's ConfigStore as
`schema/<group>/<option>`, which each YAML file names in its defaults list. Hydra then rejects
unknown keys and wrong types at compose time; `validate` adds the range rules, declared as
field metadata next to each field (`{"gt": 0}` means "must be > 0"). Beyond those, every float
setting must be finite and within float32's range: training computes in float32, where a
larger number overflows.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.experimental.callback import Callback
from omegaconf import MISSING, DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import MissingMandatoryValue

from linreg import conf_tree, data, init, loss, model, optim
from linreg.data.table import dtype_max, range_text, wider_hint
from linreg.errors import ConfigError, Fatal, LinregError
from linreg.figures.style import PlotConfig
from linreg.optim import schedules
from linreg.outputs import LEDGER, outputs_in, refusal
from linreg.sweeps import folders
from linreg.sweeps.callback import SummaryConfig
from linreg.train import TrainConfig

# each config group and the module (or package) that holds its options' schemas, SCHEMAS
GROUPS = {"dataset": data, "init": init, "optimizer": optim, "scheduler": schedules,
          "loss": loss, "model": model}


@dataclass
class RunConfig:
    # torch.Generator.manual_seed's range (every seeded draw of a run is torch's)
    seed: int = field(default=0, metadata={"ge": -2**63, "le": 2**64 - 1})
    train: TrainConfig = field(default_factory=TrainConfig)
    plot: PlotConfig = field(default_factory=PlotConfig)
    summary: SummaryConfig = field(default_factory=SummaryConfig)
    dataset: Any = MISSING
    init: Any = MISSING
    optimizer: Any = MISSING
    scheduler: Any = MISSING
    loss: Any = MISSING
    model: Any = MISSING


def register() -> None:
    """The schemas, in Hydra's ConfigStore; and ${linreg_pid:}: hydra.run.dir holds the
    process id, so that runs started in the same microsecond (other cores, other machines
    sharing outputs/) still get folders of their own; then ${linreg_run:...}, its overrides."""
    conf_tree.register()  # ${linreg_groups:} and ${linreg_lessons:}, for `linreg --help`
    if not OmegaConf.has_resolver("linreg_pid"):
        OmegaConf.register_new_resolver("linreg_pid", os.getpid, use_cache=True)
    if not OmegaConf.has_resolver("linreg_run"):  # ..._lr=0.1: named by what it changed
        OmegaConf.register_new_resolver("linreg_run", folders.run_folder_end)
    store = ConfigStore.instance()
    store.store(name="linreg_schema", node=RunConfig)
    for group, module in GROUPS.items():
        for option, schema in module.SCHEMAS.items():
            store.store(group=f"schema/{group}", name=option, node=schema)


register()

_RULES = {"gt": (lambda v, x: v > x, "> {}"), "ge": (lambda v, x: v >= x, ">= {}"),
          "lt": (lambda v, x: v < x, "< {}"), "le": (lambda v, x: v <= x, "<= {}"),
          "one_of": (lambda v, x: v in x, "one of {}")}


def validate(cfg: DictConfig) -> RunConfig:
    """Turn a composed config into typed objects, or raise ConfigError naming the key."""
    try:
        run = OmegaConf.to_object(cfg)
    except MissingMandatoryValue as exc:  # a `???` in conf/, e.g. dataset=csv without a path
        raise ConfigError(f"{exc.full_key}: required, and no value given "
                          f"(add {exc.full_key}=... to the command)") from None
    # `+key=value` slips past Hydra's struct check, and to_object drops the key silently
    _check_keys(cfg, run, "")
    for name in ("train", "plot", "summary", *GROUPS):
        _check_keys(cfg[name], getattr(run, name), f"{name}.")
    _check_values(run.train, "train.", "float64")  # train.dtype itself first
    _check_values(run, "", run.train.dtype)
    optim.check(run.optimizer)
    per_epoch = run.scheduler.interval == "epoch"
    schedules.check(run.scheduler, run.train.epochs if per_epoch else None)
    return run


def _check_keys(node: DictConfig, schema: Any, prefix: str) -> None:
    known = {f.name for f in dataclasses.fields(schema)}
    for key in node:
        if key not in known:
            valid = ", ".join(sorted(known))
            raise ConfigError(f"{prefix}{key}: unknown key (valid keys: {valid})")


def _check_values(node: Any, prefix: str, dtype: str) -> None:
    """Every setting of `node` and of the dataclasses inside it against its field's rules;
    floats within `dtype`'s range."""
    for f in dataclasses.fields(node):
        key, value = f"{prefix}{f.name}", getattr(node, f.name)
        if dataclasses.is_dataclass(value):
            _check_values(value, f"{key}.", dtype)
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: must be finite, got {value}")
        if isinstance(value, float) and abs(value) > dtype_max(dtype):
            raise ConfigError(f"{key}: must be within {range_text(dtype)}, got {value}"
                              f"{wider_hint(dtype)}")
        for rule, bound in f.metadata.items() if value is not None else ():  # null: off
            holds, text = _RULES[rule]
            if not holds(value, bound):
                shown = ", ".join(map(str, bound)) if isinstance(bound, tuple) else bound
                raise ConfigError(f"{key}: must be {text.format(shown)}, got {value}")


class ClaimRunFolder(Callback):
    """A Hydra callback (hydra.callbacks in conf/config.yaml): before Hydra makes a single
    run's folder, check the config and the folder, and claim it."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        claim = LEDGER.claim(config.hydra.run.dir)
        LEDGER.run_folder = claim.folder
        try:
            if found := outputs_in(claim.folder):
                raise ConfigError(refusal(claim.folder, found, "run", "hydra.run.dir"))
            task = copy.deepcopy(config)  # validated before any folder is made
            with read_write(task), open_dict(task):
                del task["hydra"]
            validate(task)
        except LinregError as exc:
            raise Fatal(exc) from None  # Hydra turns an Exception in a callback into a warning
