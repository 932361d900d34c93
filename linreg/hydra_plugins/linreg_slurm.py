"""hydra/launcher=slurm's launcher: hydra-submitit-launcher's, made to survive a job that ends
without a result.

The plugin (1.2.0) submits the sweep as one job array and then takes each job's result in
turn; a job that produced none -- cancelled while it waited in the queue, killed before it
could record anything, out of memory, its node lost -- raises submitit's UncompletedJobError
("has not produced any output (state: CANCELLED by 0)"), which ended the whole sweep with a
traceback: no summary, and the other jobs left running on the cluster. Here such a job is
recorded in its own folder as failed, with the scheduler's state, and the sweep goes on
waiting for the others, then ends as a sweep with failed jobs does: its summary, one line
naming the first failed job, exit status 1. (A job that the scheduler stops while it trains
records itself: linreg/sweeps/scheduler.py.)

When the sweep itself is stopped (Ctrl-C, SIGTERM) while it waits, the jobs of its array
still queued are cancelled and those running are sent SIGTERM, which stops and records each as
"interrupted": nothing of a stopped sweep goes on running, or writing, on the cluster.

Installed as `hydra_plugins.linreg_slurm` (pyproject.toml): Hydra instantiates launchers only
from the hydra_plugins package. conf/hydra/launcher/slurm.yaml names it as its `_target_`.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, _save_config, filter_overrides
from omegaconf import OmegaConf, open_dict

try:  # the `cluster` extra
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import (
        SlurmLauncher as SubmititSlurmLauncher,
    )
except ImportError:  # pragma: no cover - without the extra there is no slurm launcher at all
    SubmititSlurmLauncher = object  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)


class SlurmLauncher(SubmititSlurmLauncher):  # type: ignore[misc,valid-type]
    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        """The plugin's launch (the same executor, parameters and job array), waiting for
        every job whatever became of the others."""
        import submitit

        assert self.config is not None
        params = dict(self.params)
        executor = submitit.AutoExecutor(cluster="slurm", folder=params.pop("submitit_folder"),
                                         slurm_max_num_timeout=params.pop("max_num_timeout"))
        common = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in common else f"slurm_{k}": v
                                      for k, v in params.items()})
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        nums = range(initial_job_idx, initial_job_idx + len(job_overrides))
        for num, overrides in zip(nums, job_overrides, strict=True):
            log.info(f"\t#{num} : {' '.join(filter_overrides(overrides))}")
        state = Singleton.get_state()
        jobs = executor.map_array(self, [list(o) for o in job_overrides],
                                  ["hydra.sweep.dir"] * len(nums), list(nums),
                                  [f"job_id_for_{n}" for n in nums], [state] * len(nums))
        try:
            return [self._wait(job, list(overrides), num)
                    for job, overrides, num in zip(jobs, job_overrides, nums, strict=True)]
        except KeyboardInterrupt:  # the sweep is stopped (cli.py): so are its jobs
            _stop(jobs[0].job_id.split("_")[0])
            raise

    def _wait(self, job: Any, overrides: list[str], num: int) -> JobReturn:
        from submitit.core.utils import UncompletedJobError

        try:
            return job.results()[0]
        except UncompletedJobError:
            return self._record_lost(job, overrides, num)

    def _record_lost(self, job: Any, overrides: list[str], num: int) -> JobReturn:
        """A job that returned nothing: its folder gets what the job would have written first
        (.hydra/: its config, so the summary and a resumed sweep know it), and a metrics.json
        saying why it failed -- unless the job wrote them itself before it was killed."""
        from linreg.records import metrics

        assert self.hydra_context is not None and self.config is not None
        config = self.hydra_context.config_loader.load_sweep_config(self.config, overrides)
        with open_dict(config.hydra.job):
            config.hydra.job.num, config.hydra.job.id = num, job.job_id
        folder = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
        hydra_dir = folder / str(config.hydra.output_subdir)
        hydra_dir.mkdir(parents=True, exist_ok=True)
        task = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
        for name, part in (("config.yaml", task), ("hydra.yaml", {"hydra": config.hydra}),
                           ("overrides.yaml", config.hydra.overrides.task)):
            if not (hydra_dir / name).exists():
                _save_config(OmegaConf.create(part) if isinstance(part, dict) else part,
                             name, hydra_dir)
        state = job.state  # sacct's: "CANCELLED by 0", "OUT_OF_MEMORY", "NODE_FAIL", ...
        what = "cancelled by the scheduler" if state.startswith("CANCELLED") else \
            "ended by the scheduler"
        reason = (f"{what} ({state}) before it recorded a result (Slurm job {job.job_id}; "
                  f"its log: {job.paths.stderr})")
        if not (folder / metrics.FILE).exists():
            metrics.write(folder, {"status": "failed", "error": reason, "wall_s": 0.0})
        log.info(f"job {num} failed: {reason}")
        return JobReturn(overrides=overrides, cfg=task, hydra_cfg=config,
                         status=JobStatus.COMPLETED, _return_value=f"job failed: {reason}")


def _stop(array_id: str) -> None:
    """Cancel the array's queued jobs; SIGTERM its running ones (they record themselves)."""
    for args in (["--state=PENDING"], ["--state=RUNNING", "--signal=TERM"]):
        subprocess.run(["scancel", *args, array_id], capture_output=True, timeout=10)
