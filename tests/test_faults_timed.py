"""The fault table's timed half (the other is tests/test_faults.py): faults injected for real
into the real command: a disk that fills up, a drawing process that hangs, signals at chosen
moments. Each row names the fault, how it is injected, and what the
command must do: its exit status, its one line, how fast it leaves after the fault, and what
it leaves on disk.

The timed rows run one after another: on a machine of two cores, runs side by side would
measure each other.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CLI_TIMEOUT_S, cli_command, cli_env
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

STOP_S = 2.0  # the issue: a stop is a stop within two seconds, whatever the run
HUNG_DRAWING_S = 10.0  # ... and within ten when the drawing process hangs


@dataclass
class Row:
    name: str
    args: list[str]
    inject: Callable[[subprocess.Popen, Path], None]  # the fault, once the command runs
    status: int
    says: str  # in the one line on stderr ("" for none)
    within_s: float  # from the fault to the command's end
    check: Callable[[Path], None]  # what the folder holds after
    setup: Callable[[Path], None] = lambda cwd: None


def after(seconds: float, signum: int) -> Callable[[subprocess.Popen, Path], None]:
    def inject(process: subprocess.Popen, cwd: Path) -> None:
        time.sleep(seconds)
        process.send_signal(signum)
    return inject


def training(signum: int, seconds: float = 3.0) -> Callable[[subprocess.Popen, Path], None]:
    """`signum` once the run has trained for `seconds`."""
    def inject(process: subprocess.Popen, cwd: Path) -> None:
        wait_for_log(cwd, "train_loss")
        time.sleep(seconds)
        process.send_signal(signum)
    return inject


def wait_for_log(cwd: Path, text: str) -> None:
    deadline = time.monotonic() + CLI_TIMEOUT_S
    while time.monotonic() < deadline:
        for log in cwd.glob("outputs/runs/*/*/train.log"):
            if text in log.read_text(errors="replace"):
                return
        time.sleep(0.05)
    pytest.fail(f"no train.log under {cwd} says {text!r}")


def stop_drawing_then(signum: int) -> Callable[[subprocess.Popen, Path], None]:
    """SIGSTOP the drawing process (and its helper) while the run trains, then `signum`."""
    def inject(process: subprocess.Popen, cwd: Path) -> None:
        wait_for_log(cwd, "train_loss")
        for task in Path(f"/proc/{process.pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                os.killpg(int(child), signal.SIGSTOP)  # its own session: the group is its own
        time.sleep(1.0)
        process.send_signal(signum)
    return inject


def interrupted_run(by: str) -> Callable[[Path], None]:
    """One run folder, whose metrics.json says interrupted and whose events can be read."""
    def check(cwd: Path) -> None:
        (folder,) = cwd.glob("outputs/runs/*/*")
        m = json.loads((folder / "metrics.json").read_text())
        assert m["status"] == "interrupted" and m["interrupted_by"] == by
        assert m["epochs_run"] > 0 and len(m["history"]["train_loss"]) == m["epochs_run"]
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0}).Reload()
        assert events.Scalars("loss/train")[-1].step == m["epochs_run"]
        assert events.Scalars("final/full_mse")[-1].value == pytest.approx(
            m["loss"]["full_mse"])
        assert not list(folder.glob(".linreg-*"))  # no file left half-written
    return check


def nothing_left(cwd: Path) -> None:
    assert not (cwd / "outputs").exists()


def big_csv(cwd: Path) -> None:
    """1,000,000 rows of 11 numbers (105 MB): a second of reading, or more."""
    import io

    import numpy as np

    rng = np.random.default_rng(0)
    block = io.StringIO()
    np.savetxt(block, rng.normal(size=(10_000, 11)), delimiter=",", fmt="%.6f")
    with open(cwd / "big.csv", "w") as f:
        f.write(",".join(f"x{i}" for i in range(11)) + "\n")
        f.write(block.getvalue() * 100)


def reading(name: str, signum: int) -> Callable[[subprocess.Popen, Path], None]:
    """`signum` once the command has read half the file `name`: the numbers are being read."""
    def inject(process: subprocess.Popen, cwd: Path) -> None:
        target, deadline = str(cwd / name), time.monotonic() + CLI_TIMEOUT_S
        past = (cwd / name).stat().st_size // 2
        while time.monotonic() < deadline and process.poll() is None:
            if read_so_far(process.pid, target) >= past:
                process.send_signal(signum)
                return
            time.sleep(0.001)
        pytest.fail(f"the command never read {past} bytes of {target}")
    return inject


def read_so_far(pid: int, target: str) -> int:
    """How far process `pid` has read into the file `target` (-1 if it has it not open)."""
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if os.readlink(fd) == target:
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                return int(info.split("pos:")[1].split()[0])
    except (OSError, IndexError):  # a descriptor closed since it was listed, the end
        pass
    return -1


# a 532 KB tmpfs, mounted at cwd/tiny, that one run fills (it takes 500 KB there, leaving
# 32 KB: its three figures, about 230 KB, are there twice, as PNG files and as TensorBoard
# images)
TINY = "tiny"


def tiny_disk(cwd: Path) -> None:
    (cwd / TINY).mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=532k", "tmpfs",
                              str(cwd / TINY)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    (cwd / TINY / "mine.txt").write_text("the user's\n")
    first = subprocess.run(cli_command(f"hydra.run.dir={TINY}/first", "train.epochs=3"),
                           cwd=cwd, env=cli_env(), capture_output=True, text=True,
                           timeout=CLI_TIMEOUT_S)
    assert first.returncode == 0, first.stderr


def disk_holds_what_it_held(cwd: Path) -> None:
    try:
        assert sorted(p.name for p in (cwd / TINY).iterdir()) == ["first", "mine.txt"]
        assert json.loads((cwd / TINY / "first" / "metrics.json").read_text())["status"] == "ok"
    finally:
        subprocess.run(["umount", str(cwd / TINY)], check=False)


LONG = "train.epochs=100000000"
ROWS = [
    Row("SIGTERM after seconds of a 10^8-epoch run", [LONG], training(signal.SIGTERM), 143,
        "linreg: interrupted by SIGTERM: stopped after", STOP_S, interrupted_run("SIGTERM")),
    Row("SIGINT after seconds of a 10^8-epoch run", [LONG], training(signal.SIGINT), 130,
        "linreg: interrupted by SIGINT: stopped after", STOP_S, interrupted_run("SIGINT")),
    Row("SIGHUP: a closed terminal", [LONG], training(signal.SIGHUP, 1.0), 129,
        "linreg: interrupted by SIGHUP: stopped after", STOP_S, interrupted_run("SIGHUP")),
    Row("a hung (SIGSTOPped) drawing process, then SIGTERM", [LONG],
        stop_drawing_then(signal.SIGTERM), 143, "linreg: interrupted by SIGTERM: stopped after",
        HUNG_DRAWING_S, interrupted_run("SIGTERM")),
    Row("SIGINT while a large CSV is read", ["dataset=csv", "dataset.path=big.csv"],
        reading("big.csv", signal.SIGINT), 130,
        "linreg: interrupted by SIGINT: nothing was recorded",
        1.0, nothing_left, setup=big_csv),
    Row("SIGINT while linreg starts", [], after(0.15, signal.SIGINT), 130,
        "linreg: interrupted by SIGINT: stopped at once; nothing was recorded", 1.0,
        nothing_left),
    Row("a disk that fills up under a run", [f"hydra.run.dir={TINY}/run"],
        lambda process, cwd: None, 2, "/tiny/run: no space left on the device", CLI_TIMEOUT_S,
        disk_holds_what_it_held, setup=tiny_disk),
    Row("a disk that fills up under a sweep", ["-m", f"hydra.sweep.dir={TINY}/sweep",
                                               "seed=0,1"],
        lambda process, cwd: None, 2, "/tiny/sweep", CLI_TIMEOUT_S,
        disk_holds_what_it_held, setup=tiny_disk),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_a_fault_is_one_line_and_the_record_is_whole_or_absent(row, tmp_path):
    row.setup(tmp_path)
    process = subprocess.Popen(cli_command(*row.args), cwd=tmp_path, env=cli_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        row.inject(process, tmp_path)
        injected = time.monotonic()
        _, err = process.communicate(timeout=CLI_TIMEOUT_S)
        took = time.monotonic() - injected
    finally:
        if process.poll() is None:
            process.kill()
    try:
        assert process.returncode == row.status, err
        assert "Traceback" not in err and "Warning" not in err, err
        (line,) = err.splitlines()
        assert row.says in line
        assert took < row.within_s, f"{took:.2f} s after the fault"
    finally:
        row.check(tmp_path)
    shutil.rmtree(tmp_path / "outputs", ignore_errors=True)
