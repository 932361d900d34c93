"""linreg's sweeper (`linreg -m`): Hydra's basic sweeper, with each job's config composed once.

Before it launches a batch of jobs, the basic sweeper composes every job's config, so that a
bad override stops the sweep before any job runs; the launcher then composes each one again.
Composing linreg's config takes about 0.15 s, as long as training the default run, so this
sweeper keeps the configs its check composed and the basic launcher takes them from it.
Other launchers (joblib, submitit) compose in their own processes, as they always do.

Installed as `hydra_plugins.linreg_sweeper` (pyproject.toml), where Hydra looks for plugins.
"""

from __future__ import annotations

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
        if isinstance(self.launcher, BasicLauncher):  # it runs the jobs here, in this process
            self.hydra_context = self.launcher.hydra_context = HydraContext(
                config_loader=_ComposeOnce(hydra_context.config_loader),  # type: ignore[arg-type]
                callbacks=hydra_context.callbacks)


class _ComposeOnce:
    """Hydra's config loader, except that it keeps the job configs it composes and gives each
    out once more."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        self.kept: dict[tuple[str, ...], DictConfig] = {}

    def load_sweep_config(self, master_config: DictConfig,
                          sweep_overrides: list[str]) -> DictConfig:
        key = tuple(sweep_overrides)
        if key in self.kept:  # the launcher, after the sweeper's check
            return self.kept.pop(key)
        config = self.loader.load_sweep_config(master_config, sweep_overrides)
        if len(self.kept) < KEPT_AT_MOST:
            self.kept[key] = config
        return config

    def __getattr__(self, name: str) -> Any:  # everything else, as the loader does it
        return getattr(self.loader, name)
