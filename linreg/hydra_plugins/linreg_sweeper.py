"""linreg's sweeper (`linreg -m`): Hydra's basic sweeper, with each job's config composed once.

Before it launches a batch of jobs, the basic sweeper composes every job's config, so that a
bad override stops the sweep before any job runs; the launcher then composes each one again.
Composing linreg's config takes about 0.1 s, longer than training the default run, so this
sweeper keeps the configs its check composed and the basic launcher takes them from it. And
jobs that differ only in values (seed=0,...,11) share one composition: each job gets a copy
with its values set, as Hydra sets them, in a hundredth of the time.
Other launchers (joblib, submitit) compose in their own processes, as they always do.

Into the folder of an earlier run of the same sweep, it resumes (linreg/sweeps/resume.py):
every job is looked at before any runs, and only the jobs without a complete result are
launched, in runs of consecutive job numbers, so that each keeps its number and folder.

Installed as `hydra_plugins.linreg_sweeper` (pyproject.toml), where Hydra looks for plugins.
"""

from __future__ import annotations

import copy
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger(__name__)
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

    def sweep(self, arguments: list[str]) -> Any:
        """Hydra's BasicSweeper.sweep, launching only the jobs a resumed sweep still needs."""
        from linreg.sweeps import resume  # here: Hydra imports this module for every command
        from linreg.sweeps.callback import SWEEP

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        params = self._parse_config() + list(arguments)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        self.overrides = self.split_arguments(parser.parse_overrides(params), self.max_batch_size)
        jobs = self._look_at_jobs() if SWEEP.resuming else resume.Jobs()  # before any write
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        SWEEP.reused = len(jobs.reused)
        returns = []
        first = 0  # the number of the batch's first job
        while not self.is_done():
            batch = self.get_job_batch()
            for start, stop in _runs(first, len(batch), jobs.reused):
                part = batch[start - first:stop - first]
                tic = time.perf_counter()
                self.validate_batch_is_legal(part)
                log.debug("validated %d jobs in %.2f s", len(part), time.perf_counter() - tic)
                for num in range(start, stop):
                    if num in jobs.again:
                        resume.clear(jobs.again[num])
                results = self.launcher.launch(part, initial_job_idx=start)
                for r in results:
                    _ = r.return_value  # raises if the job raised, as Hydra's sweeper does
                returns.append(results)
            first += len(batch)
        return returns

    def _look_at_jobs(self) -> Any:
        """Every job of the sweep, composed and compared with its folder, before any runs."""
        from linreg.sweeps import resume

        assert self.overrides is not None and self.hydra_context is not None
        loader = _Composed(self.hydra_context.config_loader)
        jobs = resume.Jobs()
        num = 0
        for batch in self.overrides:
            for overrides in batch:
                if not resume.never_started(self.config, num, list(overrides)):
                    resume.look_at(num, loader.compose(self.config, list(overrides)), jobs)
                num += 1
        return jobs

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        if self.composed is None:
            return super().validate_batch_is_legal(batch)
        for overrides in batch:  # as Hydra's check does, keeping what it composes
            self.composed.keep(self.config, list(overrides))


def _runs(first: int, size: int, skipped: set[int]) -> list[tuple[int, int]]:
    """The runs [start, stop) of consecutive job numbers in first..first+size-1 not skipped."""
    runs: list[tuple[int, int]] = []
    for num in range(first, first + size):
        if num in skipped:
            continue
        if runs and runs[-1][1] == num:
            runs[-1] = (runs[-1][0], num + 1)
        else:
            runs.append((num, num + 1))
    return runs


class _Composed:
    """Hydra's config loader, except that a job's config composed by the sweeper's check is
    given to the launcher instead of being composed again, and that jobs which differ only
    in values share one composition of their config groups (`compose`)."""

    def __init__(self, loader: ConfigLoader) -> None:
        self.loader = loader
        self.kept: dict[tuple[str, ...], list[DictConfig]] = defaultdict(list)
        self.count = 0
        self.parser = OverridesParser.create()
        self.of_groups: dict[tuple[str, ...], DictConfig] = {}  # composed without the values

    def keep(self, master_config: DictConfig, sweep_overrides: list[str]) -> None:
        config = self.compose(master_config, sweep_overrides)
        if self.count < KEPT_AT_MOST:  # beyond, the launcher composes it again
            self.kept[tuple(sweep_overrides)].append(config)
            self.count += 1

    def load_sweep_config(self, master_config: DictConfig,
                          sweep_overrides: list[str]) -> DictConfig:
        kept = self.kept.get(tuple(sweep_overrides))
        if kept:  # each config once: the launcher's job changes it (hydra.job.id, ...)
            self.count -= 1
            return kept.pop(0)
        return self.compose(master_config, sweep_overrides)

    def compose(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        """Hydra's load_sweep_config. Hydra composes the config groups chosen, then sets the
        overrides that are values (seed=3, optimizer.lr=0.1); so the groups are composed once
        for every job that chooses the same ones, and each job gets a copy with its values set
        as Hydra sets them (a test compares the two). Anything Hydra would reject is composed
        by Hydra, which says what is wrong."""
        parsed = self.parser.parse_overrides(sweep_overrides)
        if (not isinstance(self.loader, ConfigLoaderImpl) or master_config.hydra.searchpath
                or any(o.key_or_group == "hydra.searchpath" for o in parsed)):
            # _is_value needs its repository, which knows no group from a search path
            return self.loader.load_sweep_config(master_config, sweep_overrides)
        is_value = [self._is_value(o) for o in parsed]  # each asks the repository: once
        values = [o for o, value in zip(parsed, is_value, strict=True) if value]
        groups = tuple(o.input_line for o, value in zip(parsed, is_value, strict=True)
                       if not value)
        try:
            if groups not in self.of_groups:
                composed = self.loader.load_sweep_config(master_config, list(groups))
                if not values:
                    return composed
                if len(self.of_groups) < KEPT_AT_MOST:
                    self.of_groups[groups] = composed
            else:
                composed = self.of_groups[groups]
            config = copy.deepcopy(composed)
            ConfigLoaderImpl._apply_overrides_to_config(values, config)
        except Exception:
            return self.loader.load_sweep_config(master_config, sweep_overrides)
        task = [o for o in parsed if not o.is_hydra_override()]
        config.hydra.overrides.task = [o.input_line for o in task]
        names = config.hydra.job.config.override_dirname
        config.hydra.job.override_dirname = get_overrides_dirname(
            overrides=task, exclude_keys=names.exclude_keys, item_sep=names.item_sep,
            kv_sep=names.kv_sep)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    def _is_value(self, override: Override) -> bool:
        """Whether Hydra sets it after composing (defaults_list.Overrides): not a config
        group, nor Hydra's own (some of which it sets after), nor a sweep (which Hydra rejects
        in a job)."""
        if (override.is_hydra_override() or override.key_or_group == "hydra"
                or override.is_sweep_override() or override.package):
            return False
        return (isinstance(override.value(), dict)
                or not self.loader.repository.group_exists(override.key_or_group))

    def __getattr__(self, name: str) -> Any:  # everything else, as the loader does it
        if name.startswith("__"):  # copy and pickle look for these before __init__ has run
            raise AttributeError(name)
        return getattr(self.loader, name)
