"""Jobs in other processes (joblib's workers, submitit's local jobs), stopped with their sweep.

A SIGTERM reaches the `linreg` command, not the processes its launcher started (a terminal's
Ctrl-C reaches them all: the process group gets it). So the command passes its signal on to
its child processes that run this sweep's jobs, and waits, within the stop's time, for the
jobs under way to record what they have: each handles the signal as a single run does
(cli.py), with status "interrupted" in its metrics.json. A job still starting when the signal
comes, or one that does not answer in time, is listed as failed, with no metrics.json.

The job processes are the children whose environment holds MARKER with this process's id: set
(`mark`) before the launcher starts any, it is inherited by loky's workers and submitit's local
jobs, and not by the drawing process, started earlier. Linux only (/proc); elsewhere the jobs
are not told, as before.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from linreg.outputs import METRICS_FILE

MARKER = "LINREG_SWEEP_PID"
POLL_S = 0.02
# a job's metrics.json comes before its figures, which get a second after the stop
# (process/stopping.py): time enough for it; the sweep's summary.csv then, well within 2 s
WAIT_S = 1.3


def mark() -> None:
    """Mark the job processes this process's launcher will start."""
    os.environ[MARKER] = str(os.getpid())


def job_processes() -> list[int]:
    """The ids of this process's children that run jobs of its sweeps."""
    me = os.getpid()
    marker = f"{MARKER}={me}".encode()
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    found = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            stat = Path("/proc", name, "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != me:  # field 4: the parent's id
                continue
            if marker in Path("/proc", name, "environ").read_bytes().split(b"\0"):
                found.append(int(name))
        except (OSError, ValueError, IndexError):  # gone meanwhile, or not ours to read
            continue
    return found


def stop_jobs(signum: int, sweep_dir: Path, budget: float) -> int:
    """Pass `signum` on to the job processes; wait at most `budget` seconds for the jobs
    under way in `sweep_dir` to record their results. Returns how many were told."""
    pids = job_processes()
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)
    if pids:
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline and under_way(sweep_dir):
            time.sleep(POLL_S)
    return len(pids)


def under_way(sweep_dir: Path) -> list[Path]:
    """Job folders that Hydra has made (.hydra/) and that hold no result yet."""
    try:
        entries = list(os.scandir(sweep_dir))
    except OSError:
        return []
    return [Path(e.path) for e in entries if e.is_dir() and not e.name.startswith(".")
            and Path(e.path, ".hydra").is_dir() and not Path(e.path, METRICS_FILE).exists()]
