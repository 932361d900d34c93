"""`hydra/launcher=slurm` sweeps on a real Slurm cluster: the single node that
scripts/slurm_up.sh starts on this machine (Debian's slurmctld, slurmd, slurmdbd with MariaDB,
munge; KillWait=5). .ci/run starts it before the tests and stops it after them; without it these
tests are skipped, saying how to start it (LINREG_REQUIRE_SLURM=1, as in CI, fails them instead).

Everything is the real thing: linreg's launcher (linreg/hydra_plugins/linreg_slurm.py) over
hydra-submitit-launcher, sbatch, the job array, slurmd running each task under srun, sacct
telling submitit (and the job) how each ended, scancel, and the time limit's SIGTERM then SIGKILL.
"""

from __future__ import annotations

import csv
import getpass
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import cli_env

STATE = Path(os.environ.get("LINREG_SLURM_STATE") or Path(tempfile.gettempdir(), "linreg-slurm"))
SWEEP_TIMEOUT_S = 240
# each job on one CPU and little memory: the node is this machine; a short default run
SMALL = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1"]
LONG = "train.epochs=1000000"  # about 1000 epochs a second: trains until stopped


def _cluster_env() -> dict[str, str] | None:
    """The environment that reaches the cluster of scripts/slurm_up.sh, if it answers."""
    try:
        lines = (STATE / "env").read_text().splitlines()
    except OSError:
        return None
    env = cli_env()
    for line in lines:
        if line.startswith("export "):
            key, _, value = line.removeprefix("export ").partition("=")
            env[key] = value
    try:
        idle = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return env if idle.returncode == 0 and idle.stdout.strip() else None


@pytest.fixture(scope="module")
def slurm() -> dict[str, str]:
    env = _cluster_env()
    if env is None:
        reason = (f"no Slurm cluster answers (state folder {STATE}): start one with "
                  "`sudo scripts/slurm_up.sh`, stop it with `sudo scripts/slurm_down.sh`")
        if os.environ.get("LINREG_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return env


@pytest.fixture(autouse=True)
def _nothing_left_running(request: pytest.FixtureRequest):
    """After each test, whatever it left on the cluster is cancelled: a test that fails half
    way must not leave a job training for the rest of the suite's CPU time."""
    yield
    if "slurm" in request.fixturenames and (env := _cluster_env()) is not None:
        subprocess.run(["scancel", "--user", getpass.getuser()], env=env,
                       capture_output=True, timeout=30)


def _sh(env: dict[str, str], *args: str) -> str:
    return subprocess.run(args, env=env, capture_output=True, text=True, check=True,
                          timeout=30).stdout


def _start(tmp_path: Path, env: dict[str, str], *overrides: str) -> subprocess.Popen:
    """`linreg -m hydra/launcher=slurm ... hydra.sweep.dir=<tmp_path>/sweep` in the background."""
    linreg = str(Path(sys.executable).parent / "linreg")
    return subprocess.Popen([linreg, "-m", *SMALL, f"hydra.sweep.dir={tmp_path / 'sweep'}",
                             *overrides], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(sweep: subprocess.Popen) -> tuple[int, str, str]:
    out, err = sweep.communicate(timeout=SWEEP_TIMEOUT_S)
    return sweep.returncode, out, err


def _rows(tmp_path: Path) -> list[dict[str, str]]:
    with open(tmp_path / "sweep" / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def _states(env: dict[str, str], array: str, tasks: int = 1) -> dict[str, str]:
    """sacct's verdict on each of the `tasks` tasks of a job array once they have all ended:
    {"12_0": "COMPLETED", ...}. (A task's result comes back as soon as it is written, a moment
    before its process and Slurm's step have ended; and slurmdbd, which sacct asks, may lag
    behind slurmctld: at first it can list the array as one job.)"""
    until = time.monotonic() + 30
    while True:
        out = _sh(env, "sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", array)
        states = dict(line.split("|") for line in out.splitlines())
        ended = not {"RUNNING", "COMPLETING", "PENDING"} & set(states.values())
        if time.monotonic() > until or (ended and len(states) == tasks):
            return states
        time.sleep(0.5)


def _array_id(tmp_path: Path) -> str:
    """The Slurm job array of the sweep in `tmp_path` (its latest, once resumed)."""
    scripts = (tmp_path / "sweep" / ".submitit").glob("*/*_submission.sh")
    return max((script.parent.name for script in scripts), key=int)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _wait_for_training(folder: Path, timeout: float = 120) -> None:
    """Until the job in `folder` has trained some epochs (its handlers are in place)."""
    log = folder / "train.log"
    until = time.monotonic() + timeout
    while not (log.is_file() and log.read_text().count("epoch ") > 100):
        assert time.monotonic() < until, f"no training in {folder}"
        time.sleep(0.2)


def test_a_job_array_runs_on_the_cluster_and_is_summarised(slurm, tmp_path):
    status, out, err = _finish(_start(tmp_path, slurm, "optimizer.lr=0.05,0.1", "train.epochs=2"))
    assert status == 0, err
    rows = _rows(tmp_path)
    assert [(r["folder"], r["status"], r["epochs_run"]) for r in rows] == \
        [("0_lr=0.05", "ok", "2"), ("1_lr=0.1", "ok", "2")]
    array = _array_id(tmp_path)
    assert _states(slurm, array, tasks=2) == {f"{array}_0": "COMPLETED",
                                              f"{array}_1": "COMPLETED"}
    script = (tmp_path / "sweep" / ".submitit" / array / f"{array}_submission.sh").read_text()
    for line in ("#SBATCH --array=0-1%2", "#SBATCH --time=20", "#SBATCH --cpus-per-task=1",
                 "#SBATCH --mem=1GB", "#SBATCH --job-name=linreg"):
        assert line in script.splitlines()
    # the tasks ran this same environment's Python, so the nodes must see it at this path
    (command,) = [line for line in script.splitlines() if " -m submitit.core._submit " in line]
    words = command.split()
    assert words[words.index("-u") - 1].startswith(f"{Path(sys.executable).parent}/python")
    for row in rows:
        job = tmp_path / "sweep" / row["folder"]
        assert {"metrics.json", "fit.png", "loss.png", "trajectory.png"} <= \
            {p.name for p in job.iterdir()}


def test_jobs_cancelled_with_scancel_are_failed_jobs_with_the_reason(slurm, tmp_path):
    # each job takes every CPU of the node: job 1 waits in the queue while job 0 trains
    cpus = _sh(slurm, "sinfo", "-h", "-o", "%c").split()[0]
    sweep = _start(tmp_path, slurm, "optimizer.lr=0.05,0.1", LONG,
                   f"hydra.launcher.cpus_per_task={cpus}")
    _wait_for_training(tmp_path / "sweep" / "0_lr=0.05")
    array = _array_id(tmp_path)
    assert f"{array}_1 PENDING" in _sh(slurm, "squeue", "-h", "-j", array, "-o", "%i %T")
    cancelled = time.monotonic()
    _sh(slurm, "scancel", array)  # both: one training, one queued
    status, out, err = _finish(sweep)
    # not a hang (submitit gives a job without result 15 s), not a traceback: one line
    assert time.monotonic() - cancelled < 60
    assert status == 1, err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("linreg: error:")]
    assert line.startswith("linreg: error: 2 of 2 jobs failed (first: job 0, optimizer.lr=0.05")
    assert "cancelled by the scheduler (CANCELLED by 0) after " in line
    rows = {r["job"]: r for r in _rows(tmp_path)}
    assert rows["0"]["status"] == rows["1"]["status"] == "failed"
    assert rows["1"]["error"].startswith(
        "cancelled by the scheduler (CANCELLED by 0) before it recorded a result")
    # the job that was training recorded itself within KillWait: its epochs, its events
    trained = json.loads((tmp_path / "sweep" / "0_lr=0.05" / "metrics.json").read_text())
    assert trained["epochs_run"] > 100 and trained["interrupted_by"] == "SIGTERM"
    assert list((tmp_path / "sweep" / "0_lr=0.05").glob("events.out.tfevents.*"))
    assert set(_states(slurm, array, tasks=2).values()) == {"CANCELLED by 0"}
    assert not _sh(slurm, "squeue", "-h", "-j", array).strip()  # nothing left running


def test_a_job_at_its_time_limit_records_itself_as_interrupted(slurm, tmp_path):
    # Slurm's smallest limit, one minute: it sends SIGTERM at the limit (checked every 30 s),
    # then SIGKILL KillWait (5 s) later; submitit's own SIGUSR2 comes before, and is harmless
    status, out, err = _finish(_start(tmp_path, slurm, LONG, "hydra.launcher.timeout_min=1"))
    assert status == 0, err
    ((array, state),) = _states(slurm, _array_id(tmp_path)).items()
    assert state == "TIMEOUT"
    job = tmp_path / "sweep" / "0"
    record = json.loads((job / "metrics.json").read_text())
    assert record["status"] == "interrupted" and record["interrupted_by"] == "SIGTERM"
    assert record["epochs_run"] == len(record["history"]["train_loss"]) > 1000
    assert [r["status"] for r in _rows(tmp_path)] == ["interrupted"]
    assert list(job.glob("events.out.tfevents.*"))
    log = (job / "train.log").read_text()
    for figure in ("fit.png", "loss.png", "trajectory.png"):  # drawn in the second they get
        assert (job / figure).is_file() or f"{figure} not drawn in {job}: the stop left" in log
    assert "time limit is near (SIGUSR2)" in log and "job state: TIMEOUT" in log


@pytest.mark.skipif(importlib.util.find_spec("linreg.sweeps.resume") is None,
                    reason="needs sweep resume (issue 17, branch resume), not merged here yet")
def test_a_cancelled_sweep_resumes_on_the_cluster(slurm, tmp_path):
    # two jobs at a time: job 1 is cancelled while it trains, job 2 while it waits its turn
    sweep = ["optimizer.lr=0.05,0.1,0.2", "train.epochs=4000", "hydra.launcher.array_parallelism=2"]
    first = _start(tmp_path, slurm, *sweep)
    _wait_for_training(tmp_path / "sweep" / "1_lr=0.1")
    array = _array_id(tmp_path)
    _sh(slurm, "scancel", f"{array}_2", f"{array}_1")
    status, out, err = _finish(first)
    assert status == 1, err
    assert [r["status"] for r in _rows(tmp_path)] == ["ok", "failed", "failed"]
    kept = tmp_path / "sweep" / "0_lr=0.05"
    before = _snapshot(kept)
    # the same command again into the same folder: job 0 is reused, jobs 1 and 2 run again
    status, out, err = _finish(_start(tmp_path, slurm, *sweep))
    assert status == 0, err
    assert "resumed: 1 of 3 jobs reused" in out
    rows = _rows(tmp_path)
    assert [(r["job"], r["status"], r["epochs_run"]) for r in rows] == \
        [("0", "ok", "4000"), ("1", "ok", "4000"), ("2", "ok", "4000")]
    assert _snapshot(kept) == before
    array = _array_id(tmp_path)
    # only the two ran again
    assert sorted(_states(slurm, array, tasks=2)) == [f"{array}_0", f"{array}_1"]
