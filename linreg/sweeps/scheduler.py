"""A sweep's job run by submitit (hydra/launcher=slurm, submitit_local) in a process of its own.

There linreg's `main` never ran, so the signal handlers are submitit's: its worker logs and
ignores SIGTERM ("Bypassing signal SIGTERM"; submitit/core/job_environment.py), and a job
stopped by Slurm -- scancel, or its time limit -- trained on until the SIGKILL that comes
KillWait seconds later (30 s by default), leaving no metrics.json. So the job puts back
linreg's own handler (cli.py's): SIGTERM stops training and the run records what it has
(metrics.json first, then its events and figures, process/stopping.py), well inside KillWait.

submitit also handles SIGUSR2, which it asks Slurm to send `signal_delay_s` before the time
limit: it checkpoints and requeues the job or, as with Hydra's max_num_timeout 0, raises
UncompletedJobError wherever the job is -- in the middle of a training step. A linreg run has
no checkpoint to go on from, and a requeued run would start again from its first epoch, so
the job only logs SIGUSR2 and trains on until the limit's SIGTERM.

Why the job was stopped is the scheduler's to say, through sacct: CANCELLED (scancel, an
administrator) is recorded as status "failed" with that reason, as a job that raised is, and
the sweep ends with one line and exit status 1; TIMEOUT (its time limit) stays "interrupted",
as a run stopped by SIGTERM is. Either way the job returns normally, so that submitit hands its
result back to the sweep rather than "has not produced any output".
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from linreg.process.stopping import STOP

log = logging.getLogger(__name__)

STATE_WAIT_S = 2.0  # how long a stopped job waits for sacct to say why
SACCT_S = 2.0  # at most this long asking sacct why the job was stopped, within KillWait


def in_job() -> bool:
    """True in the process where submitit runs a job (it sets SUBMITIT_FOLDER there)."""
    return "SUBMITIT_FOLDER" in os.environ and "submitit" in sys.modules


def catch_signals(on_stop: Callable) -> None:
    """In a submitit job: the first SIGTERM goes to `on_stop` (cli.py's handler), which stops
    the run; a second one does not cut its recording short (the scheduler's SIGKILL ends
    the job if it takes too long). SIGUSR2 is only logged."""
    if not in_job() or threading.current_thread() is not threading.main_thread():
        return

    def on_sigterm(signum: int, frame) -> None:
        if STOP.signum is None:
            on_stop(signum, frame)
        else:  # at a time limit the job gets two at once, from slurmstepd and from srun
            log.info("SIGTERM again: ignored, the run is being recorded")

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGUSR2, _near_limit)


def _near_limit(signum: int, frame) -> None:
    log.info("the scheduler says the time limit is near (SIGUSR2): training on until its "
             "SIGTERM")


def stopped(run_dir: Path, signum: int) -> str | None:
    """After a stop, the run's results written. Outside a submitit job, raise the stop
    (errors.Interrupted: the command ends). In one, return instead: None if the job stays
    "interrupted", or "job failed: <reason>" (what cli.py's task returns for a failed job) when
    the scheduler cancelled it, recorded so in its metrics.json."""
    from linreg.errors import Interrupted
    from linreg.records import metrics

    if not in_job():
        raise Interrupted(signum)
    state = job_state()
    # slurmctld records a cancel or a time limit before it signals, but sacct asks slurmdbd,
    # which may lag by a moment: ask again while the job still reads as running, within a
    # part of KillWait (5 s here; 30 s by default) so that the record is kept
    until = time.monotonic() + STATE_WAIT_S
    while state in ("", "RUNNING") and _on_slurm() and time.monotonic() < until:
        time.sleep(0.25)
        state = job_state()
    log.info("stopped by %s; the scheduler's job state: %s", signal.Signals(signum).name,
             state or "unknown")
    if not state.startswith("CANCELLED"):
        return None  # TIMEOUT, or someone's own SIGTERM: the run stays "interrupted"
    try:
        record = metrics.read(run_dir)
    except (OSError, ValueError):  # nothing recorded (stopped before training began)
        record = {"epochs_run": 0}
    reason = f"cancelled by the scheduler ({state}) after {record.get('epochs_run', 0)} epochs"
    record.update(status="failed", error=reason)
    metrics.write(run_dir, record)
    return f"job failed: {reason}"


def job_state() -> str:
    """This Slurm job's state as sacct reports it ("CANCELLED by 0", "TIMEOUT"), or ""."""
    import submitit

    if not _on_slurm():  # submitit_local: no scheduler to ask
        return ""
    try:
        job_id = submitit.JobEnvironment().job_id  # "12_3" for a task of an array
        out = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j", job_id],
                             capture_output=True, text=True, timeout=SACCT_S).stdout
    except (OSError, RuntimeError, subprocess.SubprocessError):  # no sacct, not a Slurm job
        return ""
    return out.strip().splitlines()[0].strip() if out.strip() else ""


def _on_slurm() -> bool:
    """A submitit job that Slurm runs (submitit_local's have no scheduler to ask)."""
    return os.environ.get("SUBMITIT_EXECUTOR") == "slurm"
