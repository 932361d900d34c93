"""linreg's optuna search (`hydra/sweeper=sgd_search`): hydra-optuna-sweeper 1.3's sweeper,
resumable from its storage (linreg/sweeps/search.py).

Hydra imports every module of hydra_plugins when it looks for plugins, for every command: so
this one imports neither optuna nor the optuna sweeper until a search is made.
"""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class ResumableOptunaSweeper(Sweeper):
    """The keys of hydra-optuna-sweeper's `optuna` sweeper (conf/hydra/sweeper/sgd_search.yaml)."""

    def __init__(self, **options: Any) -> None:
        from linreg.sweeps.search import ResumableSearch

        self.sweeper = ResumableSearch(**options)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.sweeper.setup(hydra_context=hydra_context, task_function=task_function,
                           config=config)

    def sweep(self, arguments: list[str]) -> None:
        return self.sweeper.sweep(arguments)
