"""Faults of the machine, said in one line: the table of faults injected into the real command.

Each row runs `python -m linreg ...` in a folder of its own with one fault really injected
(stdout closed early or full, an unwritable home, a typo in a user's config file, a SIGKILL)
and states what must be seen: the exit status, stderr exactly (linreg's one line, or nothing),
how many runs were recorded (metrics.json, status ok) and that no process of the command is
left alive. To add a fault: write an injection (a function that runs the command with it and
returns an Outcome) if none of those below does it, and add a Row.

Rows run two at a time: each start costs seconds of imports, not work. A row with `known`
set is a fault not fixed yet: it is expected to fail, strictly (it says when it is fixed).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CLI_TIMEOUT_S, cli_command, cli_env

from linreg.records import metrics

pytestmark = pytest.mark.skipif(not (Path("/proc/self/cwd").exists() and Path("/dev/full")
                                     .exists()), reason="injects faults through Linux's /proc "
                                                        "and /dev/full")

GONE_S = 10.0  # after a SIGKILL of a sweep, every process of it must have ended by then


@dataclass
class Outcome:
    returncode: int
    stderr: str
    injected: bool = True  # the fault happened as intended (e.g. the text to wait for came)
    survivors: dict[int, str] = field(default_factory=dict)  # pid: command line, still alive


Inject = Callable[[list[str], Path, dict[str, str]], Outcome]  # (command, folder, environment)


def _start(command: list[str], cwd: Path, env: dict[str, str], stdout) -> subprocess.Popen:
    with open(cwd / "stderr.txt", "w") as stderr:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=stderr)


def _stderr(cwd: Path) -> str:
    return (cwd / "stderr.txt").read_text()


def stdout_read(command: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """No fault on stdout (the fault is in the environment or the files)."""
    with open(cwd / "stdout.txt", "w") as stdout:
        process = _start(command, cwd, env, stdout)
    return Outcome(process.wait(timeout=CLI_TIMEOUT_S), _stderr(cwd))


def stdout_closed_after(text: str) -> Inject:
    """stdout a pipe, closed by its reader once a line containing `text` has come ("": the
    first line), as `linreg | head -1` does."""

    def inject(command: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
        process = _start(command, cwd, env, subprocess.PIPE)
        injected = False
        for line in process.stdout:
            if text.encode() in line:
                injected = True
                break
        process.stdout.close()
        return Outcome(process.wait(timeout=CLI_TIMEOUT_S), _stderr(cwd), injected)

    return inject


def stdout_to_dev_full(command: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
    """stdout /dev/full: every write to it fails with ENOSPC, as `linreg > /dev/full`."""
    with open("/dev/full", "w") as stdout:
        process = _start(command, cwd, env, stdout)
    return Outcome(process.wait(timeout=CLI_TIMEOUT_S), _stderr(cwd))


def processes_in(cwd: Path) -> dict[int, str]:
    """The live processes working in `cwd`, from /proc: those of the command run there (and
    its orphans, whose parent is now init)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:  # a zombie, or a process that has just ended, has no cwd to read
            if Path(os.readlink(proc / "cwd")) == cwd:
                found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
    return {pid: line.decode(errors="replace").strip() for pid, line in found.items()}


def sigkill_when_training(jobs: int) -> Inject:
    """SIGKILL of the command once `jobs` jobs of its sweep train; then every process of it
    must be gone within GONE_S. Those still alive then are killed (they would train on)."""

    def inject(command: list[str], cwd: Path, env: dict[str, str]) -> Outcome:
        with open(cwd / "stdout.txt", "w") as stdout:
            process = _start(command, cwd, env, stdout)
        deadline = time.monotonic() + CLI_TIMEOUT_S
        while len(list(cwd.glob("outputs/sweeps/*/*/*/train.log"))) < jobs:
            if process.poll() is not None or time.monotonic() > deadline:
                return Outcome(process.wait(), _stderr(cwd), injected=False)
            time.sleep(0.05)
        process.kill()
        returncode = process.wait()
        killed = time.monotonic()
        while (alive := processes_in(cwd)) and time.monotonic() < killed + GONE_S:
            time.sleep(0.1)
        for pid in alive:  # all started by this row's command
            with contextlib.suppress(ProcessLookupError):  # it has just ended after all
                os.kill(pid, signal.SIGKILL)
        return Outcome(returncode, _stderr(cwd), survivors=alive)

    return inject


@dataclass
class Row:
    name: str
    args: list[str]
    inject: Inject = stdout_read
    env: dict[str, str | None] = field(default_factory=dict)  # set in (None: unset from) the
    # user's environment
    files: dict[str, str] = field(default_factory=dict)  # written under the folder first
    status: int = 0
    stderr: str = ""  # exactly; {cwd} is the command's folder
    tolerated: str = ""  # a regular expression: other lines of stderr allowed, and why
    recorded: int = 0  # metrics.json with status ok under outputs/ afterwards
    known: str = ""  # a fault not fixed yet: why, and where the fix belongs


BUFFERED = {"PYTHONUNBUFFERED": None}  # stdout flushed only when full, and at exit
UNBUFFERED = {"PYTHONUNBUFFERED": "1"}  # every print written at once (a container's habit)
SWEEP = ["-m", "seed=0,1", "train.epochs=3"]
JOBLIB_SWEEP = ["-m", "hydra/launcher=joblib", "seed=0,1", "train.epochs=3"]
BEFORE_RANKING = "1_seed=1"  # the last job's last line: the ranking (print) comes next
GLOBAL = "# @package _global_\n"
TYPO = {"myexp/experiment/x.yaml": GLOBAL + "optimizer: {lrr: 0.1}\n"}
USER_CONFIG = ["--config-dir", "myexp", "+experiment=x"]
ERROR = "linreg: error: "
TOP_KEYS = "dataset, init, loss, model, optimizer, plot, scheduler, seed, summary, train"
ROWS = [
    Row("stdout closed after the first line", [], stdout_closed_after(""), recorded=1),
    Row("stdout /dev/full", [], stdout_to_dev_full, recorded=1),
    Row("a sweep's stdout closed after the first line", SWEEP, stdout_closed_after(""),
        env=BUFFERED, recorded=2),
    Row("a sweep's stdout closed before its ranking, buffered", SWEEP,
        stdout_closed_after(BEFORE_RANKING), env=BUFFERED, recorded=2),
    Row("a sweep's stdout closed before its ranking, unbuffered", SWEEP,
        stdout_closed_after(BEFORE_RANKING), env=UNBUFFERED, recorded=2),
    Row("a sweep's stdout /dev/full", SWEEP, stdout_to_dev_full, recorded=2),
    Row("bad input with HOME=/dev/null", ["optimizer.lr=-1"], env={"HOME": "/dev/null"},
        status=2, stderr=ERROR + "optimizer.lr: must be > 0, got -1.0\n"),
    Row("a run with HOME=/dev/null", ["train.epochs=3"], env={"HOME": "/dev/null"},
        recorded=1),
    Row("a joblib sweep with HOME=/dev/null", JOBLIB_SWEEP,
        env={"HOME": "/dev/null"}, recorded=2),
    Row("a typo in a key of a user's config file", USER_CONFIG, files=TYPO, status=2,
        stderr=ERROR + "{cwd}/myexp/experiment/x.yaml, line 2: optimizer.lrr: unknown key "
                       "(valid keys: dampening, decay_bias, divide_by_batch_size, lr, momentum, "
                       "name, nesterov, weight_decay)\n"),
    Row("a bad top-level key in a user's config file", USER_CONFIG,
        files={"myexp/experiment/x.yaml": GLOBAL + "seed: 1\ntrainn: {epochs: 3}\n"}, status=2,
        stderr=ERROR + "{cwd}/myexp/experiment/x.yaml, line 3: trainn: unknown key "
                       f"(valid keys: {TOP_KEYS})\n"),
    Row("a wrong type in a user's config file", USER_CONFIG,
        files={"myexp/experiment/x.yaml": GLOBAL + "optimizer:\n  lr: fast\n"}, status=2,
        stderr=ERROR + "{cwd}/myexp/experiment/x.yaml, line 3: optimizer.lr: Value 'fast' of "
                       "type 'str' could not be converted to Float\n"),
    Row("a user's config file without its package line", USER_CONFIG,
        files={"myexp/experiment/x.yaml": "train: {epochs: 3}\n"}, status=2,
        stderr=ERROR + "{cwd}/myexp/experiment/x.yaml: experiment: not a key of the config: "
                       "this file's keys go under 'experiment' unless its first line is "
                       "'# @package _global_'\n"),
    Row("a YAML syntax error in a user's config file", USER_CONFIG,
        files={"myexp/experiment/x.yaml": GLOBAL + "optimizer:\n  lr: [0.1\n"}, status=2,
        stderr=ERROR + "{cwd}/myexp/experiment/x.yaml, line 4, column 1: expected ',' or ']', "
                       "but got '<stream end>' (while parsing a flow sequence on line 3)\n"),
    Row("HYDRA_FULL_ERROR=0", ["train.epoch=3"], env={"HYDRA_FULL_ERROR": "0"}, status=2,
        stderr=ERROR + "train.epoch: unknown key (valid keys: batch_size, drop_last, dtype, "
                       "early_stopping, epochs, loader, shuffle, stop_at_tol, tol_rel, "
                       "val_fraction)\n"),
    Row("hydra.job.chdir=true with bad input", ["hydra.job.chdir=true", "optimizer.lr=-1"],
        status=2, stderr=ERROR + "optimizer.lr: must be > 0, got -1.0\n"),
    Row("SIGKILL of a joblib sweep", ["-m", "hydra/launcher=joblib", "seed=0,1,2,3",
                                      "train.epochs=100000"], sigkill_when_training(jobs=2),
        status=-signal.SIGKILL,
        # loky's resource tracker, once the workers are gone, removes what the killed command
        # left (semaphores, memmapping folders) and warns about each kind: loky's, not ours
        tolerated=r".*/loky/backend/resource_tracker\.py:\d+: UserWarning: resource_tracker: "
                  r"There appear to be \d+ leaked \w+ objects to clean up at shutdown.*"
                  r"|  warnings\.warn\("),
]


def environment(row: Row, cwd: Path) -> dict[str, str]:
    env = cli_env(TMPDIR=str(cwd / "tmp"))  # a temporary folder of the row's own, checked
    for key, value in row.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(cwd=cwd)
    return env


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, tuple[Path, Outcome]]:
    """Every row selected (`-k` runs a few), two at a time, each in a folder of its own."""
    selected = {item.callspec.params["row"].name for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")}
    rows = [row for row in ROWS if row.name in selected]
    # made here, not in the threads: tmp_path_factory is not thread-safe
    folders = {row.name: tmp_path_factory.mktemp("fault").resolve() for row in rows}

    def one(row: Row) -> Outcome:
        cwd = folders[row.name]
        (cwd / "tmp").mkdir()
        for name, text in row.files.items():
            (cwd / name).parent.mkdir(parents=True, exist_ok=True)
            (cwd / name).write_text(text)
        return row.inject(cli_command(*row.args), cwd, environment(row, cwd))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return {row.name: (folders[row.name], outcome)
                for row, outcome in zip(rows, pool.map(one, rows), strict=True)}


def recorded(cwd: Path) -> int:
    found = [metrics.read(path.parent) for path in cwd.glob("outputs/**/metrics.json")]
    return sum(record["status"] == "ok" for record in found)


@pytest.mark.parametrize("row", [
    pytest.param(row, marks=pytest.mark.xfail(strict=True, reason=row.known) if row.known else ())
    for row in ROWS], ids=[row.name for row in ROWS])
def test_a_fault_gives_linreg_s_line_or_nothing_and_the_run_is_recorded(outcomes, row):
    cwd, outcome = outcomes[row.name]
    assert outcome.injected, f"the fault was not injected: {outcome}"
    said = [line for line in outcome.stderr.splitlines(keepends=True)
            if not (row.tolerated and re.fullmatch(row.tolerated, line.rstrip("\n")))]
    assert "".join(said) == row.stderr.format(cwd=cwd)
    assert outcome.returncode == row.status
    assert recorded(cwd) == row.recorded
    assert not outcome.survivors, f"alive {GONE_S} s after the kill: {outcome.survivors}"
    assert not (left := list((cwd / "tmp").iterdir())), f"left in the temporary folder: {left}"
