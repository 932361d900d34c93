"""linreg's sweeper (`linreg -m`): Hydra's basic sweeper, with each job's config composed once.

Before it launches a batch of jobs, the basic sweeper composes every job's config, so that a
bad override stops the sweep before any job runs; the launcher then composes each one again.
Composing linreg's config takes about 0.13 s, longer than training the default run, so this
sweeper keeps the configs its check composed and the basic launcher takes them from it.
Other launchers (joblib, submitit) compose in their own processes, as they always do.

Installed as `hydra_plugins.linreg_sweeper` (pyproject.toml), where Hydra looks for plugins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_loader import ConfigLoader
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

KEPT_AT_MOST = 256  # configs of about 0.2 MB each, between the check and the launch


class ComposeOnceSweeper(BasicSweeper):
    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.composed: _Composed | None = None
        if isinstance(self.launcher, BasicLauncher):  # it runs the jobs here, in this process
            self.composed = _Composed(hydra_context.config_loader)
            self.launcher.hydra_context = HydraContext(config_loader=self.composed,  # type: ignore[arg-type]
                                                       callbacks=hydra_context.callbacks)

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        if self.composed is None:
            return super().validate_batch_is_legal(batch)
        for overrides in batch:  # as Hydra's check does, keeping what it composes
            self.composed.keep(self.config, list(overrides))


class _Composed:
    """Hydra's config loader, except that a job's config composed by the sweeper's check is
    given to the launcher instead of being composed again."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        self.kept: dict[tuple[str, ...], list[DictConfig]] = defaultdict(list)
        self.count = 0

    def keep(self, master_config: DictConfig, sweep_overrides: list[str]) -> None:
        config = self.loader.load_sweep_config(master_config, sweep_overrides)
        if self.count < KEPT_AT_MOST:  # beyond, the launcher composes it again
            self.kept[tuple(sweep_overrides)].append(config)
            self.count += 1

    def load_sweep_config(self, master_config: DictConfig,
                          sweep_overrides: list[str]) -> DictConfig:
        kept = self.kept.get(tuple(sweep_overrides))
        if kept:  # each config once: the launcher's job changes it (hydra.job.id, ...)
            self.count -= 1
            return kept.pop(0)
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def __getattr__(self, name: str) -> Any:  # everything else, as the loader does it
        if name.startswith("__"):  # copy and pickle look for these before __init__ has run
            raise AttributeError(name)
        return getattr(self.loader, name)
