"""An optuna search that survives (`hydra/sweeper=sgd_search`): hydra-optuna-sweeper 1.3's.

With a storage (`hydra.sweeper.storage=sqlite:///<sweep folder>/optuna.db`) optuna keeps the
study, and the same search run again into its folder continues it (optuna's own
create_study(load_if_exists=True) does not: it would run n_trials more, numbered from 0 again,
into the folders of the first trials):
- the trials finished before (complete, failed, pruned) count toward n_trials;
- a trial that an interruption left running is looked at in its job folder: with a complete
  result (ok or diverged) optuna is told its value; else it goes back into optuna's queue
  (same number, same parameters) and its job runs again in its folder, emptied of what linreg
  wrote there (sweeps/resume.py);
- a trial's job number is its trial number (`_ByTrialNumber`), so numbers continue;
- with a sampler seed, each draw is seeded by (seed, trial number, parameter) (`_PerTrial`):
  a search interrupted and resumed asks the same trials as one that ran through.
Needs the `search` extra, and SQLAlchemy 1.4 (optuna 2.10's RDB storage fails with 2.x).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl
from omegaconf import OmegaConf
from optuna.samplers import BaseSampler
from optuna.trial import TrialState

from linreg.records.runs import Metric, find_runs, load
from linreg.sweeps import resume
from linreg.sweeps.callback import SWEEP, objective


class ResumableSearch(OptunaSweeperImpl):
    def setup(self, **kwargs: Any) -> None:
        super().setup(**kwargs)
        self.numbers: list[int] = []  # the trial numbers of the batch being launched
        self.launcher = _ByTrialNumber(self.launcher, self)

    def sweep(self, arguments: list[str]) -> None:
        seed = OmegaConf.select(self.config, "hydra.sweeper.sampler.seed")
        if seed is not None and isinstance(self.sampler, BaseSampler):
            self.sampler = _PerTrial(self.sampler, int(seed))
        if self.storage:
            done = self._resume()
            SWEEP.reused = done
            self.n_trials = max(self.n_trials - done, 0)
        return super().sweep(arguments)

    def _configure_trials(self, trials: list, *args: Any) -> Any:
        self.numbers = [trial.number for trial in trials]
        return super()._configure_trials(trials, *args)

    def _resume(self) -> int:
        """Settle the trials an interruption left running; the number finished."""
        storage = optuna.storages.get_storage(self.storage)
        try:
            study_id = storage.get_study_id_from_name(self.study_name)
        except KeyError:
            return 0  # a new study
        jobs = {job.num: job for job in _jobs(Path(self.config.hydra.sweep.dir))}
        metric = self.config.summary.rank_by
        metric = metric if isinstance(metric, Metric) else Metric[str(metric)]
        done = 0
        for trial in storage.get_all_trials(study_id, deepcopy=False):
            if trial.state == TrialState.RUNNING:
                job = jobs.get(trial.number)
                if job is not None and job.status in resume.COMPLETE:
                    storage.set_trial_values(trial._trial_id, [objective(job.metrics, metric)])
                    storage.set_trial_state(trial._trial_id, TrialState.COMPLETE)
                else:
                    if job is not None:
                        resume.clear(job.folder)
                    storage.set_trial_state(trial._trial_id, TrialState.WAITING)
                    continue
            done += trial.state != TrialState.WAITING
        return done


def _jobs(sweep_dir: Path) -> list:
    try:
        return [load(folder) for folder in find_runs([sweep_dir])]
    except Exception:  # no job folders yet
        return []


class _ByTrialNumber:
    """The launcher, numbering each job by its trial: a batch of trials whose numbers are not
    consecutive (one asked again, then new ones) is launched in runs of consecutive ones."""

    def __init__(self, launcher: Any, search: ResumableSearch) -> None:
        self.launcher, self.search = launcher, search

    def launch(self, job_overrides: Any, initial_job_idx: int) -> list:
        numbers = self.search.numbers or list(range(initial_job_idx,
                                                    initial_job_idx + len(job_overrides)))
        returns: list = []
        start = 0
        for i in range(1, len(numbers) + 1):
            if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
                returns += self.launcher.launch(job_overrides[start:i],
                                                initial_job_idx=numbers[start])
                start = i
        return returns

    def __getattr__(self, name: str) -> Any:
        return getattr(self.launcher, name)


class _PerTrial(BaseSampler):
    """A seeded sampler (TPE, random) whose random draws for a trial's parameter depend only
    on the seed, the trial number and the parameter, not on how many draws came before."""

    def __init__(self, sampler: BaseSampler, seed: int) -> None:
        self.sampler, self.seed = sampler, seed

    def infer_relative_search_space(self, study: Any, trial: Any) -> Any:
        return self.sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Any, trial: Any, search_space: Any) -> Any:
        self._seed(trial.number, "")
        return self.sampler.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Any, trial: Any, name: str, distribution: Any) -> Any:
        self._seed(trial.number, name)
        return self.sampler.sample_independent(study, trial, name, distribution)

    def after_trial(self, *args: Any) -> None:
        self.sampler.after_trial(*args)

    def reseed_rng(self) -> None:
        self.sampler.reseed_rng()

    def _seed(self, number: int, name: str) -> None:
        seeds = np.random.RandomState([self.seed, number, zlib.crc32(name.encode())])
        for sampler in (self.sampler, getattr(self.sampler, "_random_sampler", None)):
            if sampler is not None and hasattr(sampler, "_rng"):  # optuna 2.10's TPE, random
                sampler._rng = np.random.RandomState(seeds.randint(2**31))
