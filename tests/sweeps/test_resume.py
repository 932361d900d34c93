"""Sweeps that survive (issue 17): an interrupted sweep resumed, as a user does it.

`linreg -m <values> hydra.sweep.dir=s` stopped by SIGTERM after its 5th job, then the same
command again: the jobs with complete results stay as they are (bytes and times), the others
run again in their folders, and the 12 results equal those of a sweep that ran through; with
the basic, joblib and submitit_local launchers, and an optuna search kept in sqlite. Jobs in
other processes record their stop; a sweep that differs is refused before anything runs.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep import TIMEOUT_S, linreg, numbers, read_csv

SEEDS = "seed=" + ",".join(str(seed) for seed in range(12))
SWEEP = [SEEDS, "train.epochs=300"]  # a few tenths of a second a job: stopped half-way
SEARCH = ["hydra/sweeper=sgd_search", "hydra.sweeper.n_trials=12", "hydra.sweeper.n_jobs=1",
          "hydra.sweeper.storage=sqlite:///s/optuna.db", "train.epochs=300"]
LAUNCHERS = {"basic": [], "joblib": ["hydra/launcher=joblib"],
             # four at a time: submitit's local executor would start all twelve at once
             "submitit": ["hydra/launcher=submitit_local", "hydra.sweeper.max_batch_size=4"]}
STOP_S = 2.0


def results(folder: Path) -> dict[int, dict]:
    """Each job's metrics.json (timings left out), by job number (its folder's name starts
    with it)."""
    return {int(job.name.split("_")[0]): numbers(json.loads((job / "metrics.json").read_text()))
            for job in folder.glob("[0-9]*_*") if (job / "metrics.json").is_file()}


def complete(folder: Path) -> list[Path]:
    found = []
    for job in sorted(folder.glob("[0-9]*_*")):
        try:
            if json.loads((job / "metrics.json").read_text())["status"] in ("ok", "diverged"):
                found.append(job)
        except (OSError, ValueError):
            pass
    return found


def snapshot(folders: list[Path]) -> dict[str, tuple[bytes | None, int]]:
    """Every file and folder in `folders`: its bytes and its modification time."""
    seen = {}
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            seen[str(path)] = (path.read_bytes() if path.is_file() else None,
                               path.stat().st_mtime_ns)
    return seen


def interrupted(cwd: Path, after: int, *args: str, when=None) -> tuple[subprocess.Popen, float]:
    """Start `linreg -m *args hydra.sweep.dir=s`, send SIGTERM once `after` jobs are complete
    (and `when(folder)` holds); returns the finished process and its seconds after the signal."""
    exe = Path(sys.executable).parent / "linreg"
    process = subprocess.Popen([str(exe), "-m", *args, "hydra.sweep.dir=s"], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + TIMEOUT_S
    while len(complete(cwd / "s")) < after or (when is not None and not when(cwd / "s")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=TIMEOUT_S)
    return process, time.monotonic() - signalled


@pytest.fixture(scope="module")
def through(tmp_path_factory) -> dict[int, dict]:
    """The same sweep, never interrupted."""
    cwd = tmp_path_factory.mktemp("through")
    result = linreg(cwd, "-m", *SWEEP, "hydra.sweep.dir=s")
    assert result.returncode == 0, result.stderr
    return results(cwd / "s")


@pytest.mark.parametrize("launcher", list(LAUNCHERS))
def test_an_interrupted_sweep_resumed_keeps_its_jobs_and_equals_one_run_through(
        tmp_path, through, launcher):
    args = [*LAUNCHERS[launcher], *SWEEP]
    process, _ = interrupted(tmp_path, 5, *args)
    assert process.returncode == 143
    sweep = tmp_path / "s"
    kept = complete(sweep)
    assert 5 <= len(kept) < 12
    before = snapshot(kept)
    again = sorted(set(sweep.glob("[0-9]*_*")) - set(kept))
    if again:  # a file of the user's, in a job folder linreg runs again: it stays
        (again[0] / "notes.txt").write_text("mine")

    resumed = linreg(tmp_path, "-m", *args, "hydra.sweep.dir=s")

    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(kept) == before  # the same bytes, the same times
    assert results(sweep) == through
    rows = read_csv(sweep / "summary.csv")
    assert sorted(int(r["job"]) for r in rows) == list(range(12))
    assert {r["status"] for r in rows} == {"ok"}
    assert f"resumed: {len(kept)} of 12 jobs reused" in resumed.stdout
    for folder in again:  # nothing of the stopped run is left beside the new one: one events
        events = [p.name for p in folder.glob("events.out.tfevents.*")]  # file of scalars and
        assert len([n for n in events if not n.endswith(".figures")]) == 1, events  # at most
        assert len([n for n in events if n.endswith(".figures")]) <= 1, events  # one of figures
    if again:
        assert (again[0] / "notes.txt").read_text() == "mine"


def test_an_interrupted_search_resumed_from_its_storage_asks_the_same_trials(tmp_path):
    through_cwd = tmp_path / "through"
    through_cwd.mkdir()
    result = linreg(through_cwd, "-m", *SEARCH, "hydra.sweep.dir=s")
    assert result.returncode == 0, result.stderr
    cwd = tmp_path / "stopped"
    cwd.mkdir()
    process, _ = interrupted(cwd, 5, *SEARCH)
    assert process.returncode == 143
    kept = complete(cwd / "s")
    assert 5 <= len(kept) < 12
    before = snapshot(kept)

    resumed = linreg(cwd, "-m", *SEARCH, "hydra.sweep.dir=s")

    assert resumed.returncode == 0, resumed.stderr
    assert snapshot(kept) == before
    assert results(cwd / "s") == results(through_cwd / "s")  # trials, numbers and folders
    assert sorted(p.name for p in (cwd / "s").glob("[0-9]*_*")) == \
        sorted(p.name for p in (through_cwd / "s").glob("[0-9]*_*"))
    assert len(read_csv(cwd / "s" / "summary.csv")) == 12
    assert f"resumed: {len(kept)} of 12 jobs reused" in resumed.stdout


def under_way_training(sweep: Path) -> bool:
    """A job folder without a result whose job has trained some epochs."""
    for job in sweep.glob("[0-9]*_*"):
        log = job / "train.log"
        if not (job / "metrics.json").exists() and log.is_file() and \
                log.read_text().count(" epoch ") >= 5:
            return True
    return False


def test_a_joblib_sweep_stopped_records_its_running_jobs_as_interrupted(tmp_path):
    process, took = interrupted(tmp_path, 2, "hydra/launcher=joblib", "seed=0,1,2,3,4,5",
                                "train.epochs=5000", when=under_way_training)
    assert process.returncode == 143
    assert took < STOP_S
    rows = read_csv(tmp_path / "s" / "summary.csv")
    assert all(row["job"] != "" for row in rows)
    stopped = [r for r in rows if r["status"] == "interrupted"]
    assert stopped, rows
    for row in stopped:
        metrics = json.loads((tmp_path / "s" / row["folder"] / "metrics.json").read_text())
        assert metrics["interrupted_by"] == "SIGTERM" and 0 < metrics["epochs_run"] < 5000


def test_a_different_sweep_or_a_changed_job_is_refused_before_anything_runs(tmp_path):
    first = linreg(tmp_path, "-m", "seed=0,1,2", "train.epochs=2", "hydra.sweep.dir=s")
    assert first.returncode == 0, first.stderr
    sweep = tmp_path / "s"
    other = linreg(tmp_path, "-m", "seed=0,1,3", "train.epochs=2", "hydra.sweep.dir=s")
    assert other.returncode == 2
    assert other.stderr.strip().count("\n") == 0
    assert "already holds a different linreg sweep ('seed=0,1,2 train.epochs=2'" in other.stderr

    config = sweep / "1_seed=1" / ".hydra" / "config.yaml"
    config.write_text(config.read_text().replace("  epochs: 2\n", "  epochs: 2\n  old: 1\n"))
    before = snapshot([sweep])
    changed = linreg(tmp_path, "-m", "seed=0,1,2", "train.epochs=2", "hydra.sweep.dir=s")
    assert changed.returncode == 2
    assert changed.stderr.strip().count("\n") == 0
    assert "job 1 (" in changed.stderr and "at train.old (recorded" in changed.stderr
    assert snapshot([sweep]) == before  # nothing ran, nothing was written


def test_an_optuna_search_without_storage_is_not_resumed_into_its_folder(tmp_path):
    args = ["hydra/sweeper=sgd_search", "hydra.sweeper.n_trials=1", "train.epochs=2",
            "hydra.sweep.dir=s"]
    assert linreg(tmp_path, "-m", *args).returncode == 0
    again = linreg(tmp_path, "-m", *args)
    assert again.returncode == 2
    assert "continues only from its storage" in again.stderr


def test_a_job_killed_before_hydra_recorded_it_keeps_its_number_in_the_summary(tmp_path):
    from linreg.records.runs import load

    (tmp_path / "sweep.json").write_text('{"swept": ["seed"], "jobs": 12}')
    job = tmp_path / "07_seed=7"
    job.mkdir()
    (job / "train.log").write_text("")  # as Hydra leaves it before writing .hydra/hydra.yaml
    assert load(job).num == 7
    alone = tmp_path / "elsewhere" / "07_seed=7"  # not in a sweep's folder: no number
    alone.mkdir(parents=True)
    assert load(alone).num is None
