"""What a run promises whatever happens: Ctrl-C and SIGTERM, a kill, divergence, and many runs
started at the same moment. Real processes, real signals; every folder is read back.

The processes of each group run at the same time (their start-up, seconds of imports, is the
cost); a run that is to be interrupted trains for 100,000 epochs, so only a signal ends it.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import torch
from conftest import CLI_TIMEOUT_S, cli_command, cli_env
from matplotlib.image import imread
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from linreg import optim as optimizer
from linreg.data import Data
from linreg.errors import Interrupted
from linreg.loss import MSE
from linreg.outputs import SWEEP_RUN
from linreg.process.stopping import STOP
from linreg.records import events, metrics, runs
from linreg.runner import run
from linreg.train import TrainConfig, train

LONG = "train.epochs=100000"
STOP_S = 1.5  # the issue: training stops within a second (margin for a loaded machine)
EXIT_S = 8.0  # ... and the command ends once the results are written (imports, figures)


@dataclass
class Stopped:
    """A command stopped by signals, and what it left."""

    cwd: Path
    returncode: int
    stdout: str
    stderr: str
    stop_s: float | None  # from the signal to the run's "writing the results" line
    exit_s: float  # from the (last) signal to the end of the process
    raced: bool = False  # the process ended before a second signal could be sent


def start(cwd: Path, *args: str) -> subprocess.Popen:
    out, err = open(cwd / "stdout.txt", "w"), open(cwd / "stderr.txt", "w")  # noqa: SIM115
    return subprocess.Popen(cli_command(*args), cwd=cwd, env=cli_env(), stdout=out, stderr=err)


def wait_for(cwd: Path, pattern: str, text: str) -> Path:
    """The first file matching `pattern` under `cwd` that contains `text` (polled)."""
    deadline = time.monotonic() + CLI_TIMEOUT_S
    while time.monotonic() < deadline:
        for path in cwd.glob(pattern):
            if text in path.read_text(errors="replace"):
                return path
        time.sleep(0.02)
    pytest.fail(f"no {pattern} under {cwd} says {text!r}")


def logged_at(log: Path, text: str) -> float:
    """When train.log says `text` (its lines start with [YYYY-mm-dd HH:MM:SS,mmm])."""
    for line in log.read_text().splitlines():
        if text in line:
            stamp = re.match(r"\[([\d-]+ [\d:]+,\d+)\]", line).group(1)
            return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()
    pytest.fail(f"{log} never says {text!r}")


def interrupt(cwd: Path, signum: int, *args: str, logs: str = "outputs/runs/*/*/train.log",
              twice: bool = False) -> Stopped:
    """Start `linreg *args`, wait until it trains, send `signum` (and with `twice` a second
    Ctrl-C once it writes its results); what it did."""
    process = start(cwd, *args)
    log = wait_for(cwd, logs, "/100000  train_loss")  # an epoch of the long run is done
    time.sleep(0.3)
    sent = time.time()
    process.send_signal(signum)
    raced = False
    if twice:
        wait_for(cwd, logs, "writing the results so far")
        raced = process.poll() is not None
        sent = time.time()
        process.send_signal(signal.SIGINT)
    returncode = process.wait(timeout=CLI_TIMEOUT_S)
    exit_s = time.time() - sent
    stop_s = None if twice else logged_at(log, "writing the results so far") - sent
    return Stopped(cwd, returncode, (cwd / "stdout.txt").read_text(),
                   (cwd / "stderr.txt").read_text(), stop_s, exit_s, raced)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory) -> dict[str, Stopped]:
    cases = {
        "ctrl-c": (signal.SIGINT, [LONG], {}),
        "sigterm": (signal.SIGTERM, [LONG], {}),
        "sigterm-sweep": (signal.SIGTERM, ["-m", "train.epochs=3,100000,4"],
                          {"logs": "outputs/sweeps/*/*/*/train.log"}),
        "ctrl-c-twice": (signal.SIGINT, [LONG], {"twice": True}),
    }

    # folders made here, not in the threads: tmp_path_factory is not thread-safe
    folders = {name: tmp_path_factory.mktemp(name) for name in cases}

    def one(name: str) -> Stopped:
        signum, args, options = cases[name]
        return interrupt(folders[name], signum, *args, **options)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(cases, pool.map(one, cases), strict=True))


def the_one_line(result) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.splitlines()
    return line


def assert_png(path: Path) -> None:
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, path


def scalars(folder: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0}).Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


def assert_interrupted_record(folder: Path, by: str) -> dict:
    """metrics.json says interrupted with whole epochs; events and figures agree with it."""
    m = metrics.read(folder)
    assert m["status"] == "interrupted" and m["interrupted_by"] == by
    epochs = m["epochs_run"]
    assert epochs > 0 and m["steps"] == 7 * epochs
    assert [len(m["history"][k]) for k in ("train_loss", "full_mse")] == [epochs, epochs]
    assert m["loss"]["train"] == m["history"]["train_loss"][-1]
    loss_train = scalars(folder, "loss/train")
    # written as training went: epoch 1, every 10th of the 100,000 (events.MAX_EPOCHS_LOGGED),
    # and the last whole epoch
    every = 100_000 // events.MAX_EPOCHS_LOGGED
    assert [step for step, _ in loss_train] == sorted(
        {1, *range(every, epochs + 1, every), epochs})
    assert loss_train[-1][1] == pytest.approx(m["loss"]["train"], rel=1e-6)
    assert scalars(folder, "final/full_mse")[-1][1] == pytest.approx(m["loss"]["full_mse"])
    for figure in ("fit.png", "loss.png", "trajectory.png"):
        assert_png(folder / figure)
    assert not list(folder.glob(".linreg-*.tmp"))
    return m


# ---------------------------------------------------------------- Ctrl-C, SIGTERM, twice

@pytest.mark.parametrize(("case", "by", "status"), [("ctrl-c", "SIGINT", 130),
                                                  ("sigterm", "SIGTERM", 143)])
def test_a_signal_stops_training_the_run_records_what_it_has_and_exits(stopped, case, by,
                                                                       status):
    result = stopped[case]
    assert result.returncode == status, result.stderr
    (folder,) = result.cwd.glob("outputs/runs/*/*")
    m = assert_interrupted_record(folder, by)
    assert the_one_line(result) == (
        f"linreg: interrupted by {by}: stopped after {m['epochs_run']} epochs (status "
        f"interrupted); results in {folder.resolve()}")
    assert result.stop_s < STOP_S and result.exit_s < EXIT_S, result


def test_sigterm_ends_a_sweep_with_a_summary_of_the_jobs_so_far_and_exit_143(stopped):
    result = stopped["sigterm-sweep"]
    assert result.returncode == 143, result.stderr
    (sweep,) = result.cwd.glob("outputs/sweeps/*/*")
    assert the_one_line(result) == (
        f"linreg: interrupted by SIGTERM: the sweep stopped; summary of the jobs run so far "
        f"in {sweep.resolve()}")
    # job 0 finished, job 1 was stopped and recorded, job 2 never started
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir() and p.name != SWEEP_RUN) == [
        "0_epochs=3", "1_epochs=100000"]  # (SWEEP_RUN: the sweep's own TensorBoard run)
    assert metrics.read(sweep / "0_epochs=3")["status"] == "ok"
    m = assert_interrupted_record(sweep / "1_epochs=100000", "SIGTERM")
    rows = compare_rows(sweep / "summary.csv")
    assert [(r["job"], r["status"], r["epochs_run"]) for r in rows] == [
        ("0", "ok", "3"), ("1", "interrupted", str(m["epochs_run"]))]
    assert_png(sweep / "summary.png")
    assert result.stop_s < STOP_S and result.exit_s < EXIT_S, result


def compare_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="") as f:
        return sorted(csv.DictReader(f), key=lambda r: int(r["job"]))


def test_a_second_ctrl_c_while_results_are_written_leaves_at_once(stopped):
    result = stopped["ctrl-c-twice"]
    if result.raced:
        pytest.skip("the results were written before the second Ctrl-C could be sent")
    assert result.returncode == 130, result.stderr
    (folder,) = result.cwd.glob("outputs/runs/*/*")
    assert the_one_line(result) == (f"linreg: interrupted again by SIGINT: stopped at once; "
                                    f"{folder.resolve()} is incomplete (no metrics.json)")
    assert result.exit_s < STOP_S
    assert not (folder / "metrics.json").exists() and not list(folder.glob(".linreg-*.tmp"))
    # a reader sees a run that recorded no result, not a result
    assert runs.load(folder).status == "failed"


def children(pid: int) -> dict[int, str]:
    """{pid: state letter} of the processes whose parent is `pid`, read from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, IndexError):  # it ended meanwhile
            continue
        if int(parent) == pid:
            found[int(stat.parent.name)] = state
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_ctrl_c_while_linreg_starts_is_one_line_and_ends_its_drawing_process(tmp_path):
    process = subprocess.Popen(cli_command(), cwd=tmp_path, env=cli_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + CLI_TIMEOUT_S
    # the drawing process starts once linreg's handlers are in place, before Hydra and torch
    while not (drawing := children(process.pid)):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=CLI_TIMEOUT_S)
    assert process.returncode == 130, err
    assert err.strip() == "linreg: interrupted by SIGINT: stopped at once; nothing was recorded"
    assert not (tmp_path / "outputs").exists()
    (pid,) = drawing
    time.sleep(0.2)  # SIGKILL is delivered at once; a parentless zombie may wait to be reaped
    state = Path(f"/proc/{pid}/stat")
    assert not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] in "ZX"


# ---------------------------------------------------------------- kills and atomic writes

def test_a_run_killed_mid_training_leaves_no_result(tmp_path):
    process = start(tmp_path, LONG)
    log = wait_for(tmp_path, "outputs/runs/*/*/train.log", "/100000  train_loss")
    time.sleep(1.5)  # the events file is flushed every second (records/events.py)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=CLI_TIMEOUT_S) == -signal.SIGKILL
    folder = log.parent
    # the events written as training went stay readable; there is no result
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == ".hydra" and names[-1] == "train.log" and len(names) == 3
    assert scalars(folder, "loss/train")[0][0] == 1
    job = runs.load(folder)
    assert job.status == "failed" and "no metrics.json" in job.metrics["error"]


WRITER = """
import sys
from pathlib import Path
from linreg.records import metrics
folder, n = Path(sys.argv[1]), int(sys.argv[2])
record = {"status": "ok", "history": {"train_loss": [float(i) for i in range(n)]}}
while True:
    metrics.write(folder, record)
    (folder / "written").touch()
"""


def test_metrics_json_is_whole_or_absent_when_a_writer_is_killed(tmp_path):
    """A process rewrites a large metrics.json in a loop and is killed: most likely in the
    middle of a write. The file is still the whole record; a leftover temporary file is
    not taken for a result by the readers."""
    n = 200_000
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n)],
                              env=cli_env())
    wait_for_file(tmp_path / "written")
    time.sleep(0.3)  # several writes, each of a few megabytes
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=CLI_TIMEOUT_S)
    assert metrics.read(tmp_path)["history"]["train_loss"] == [float(i) for i in range(n)]
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("metrics.json", "written")]
    temporary = r"\.linreg-metrics\.json-\w+\.tmp"
    assert all(re.fullmatch(temporary, name) for name in leftovers), leftovers
    assert runs.find_runs([tmp_path]) == [tmp_path]  # a run folder: it has metrics.json
    assert runs.load(tmp_path).status == "ok"


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + CLI_TIMEOUT_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


# ---------------------------------------------------------------- interrupts, in-process

class StopsAt:
    """The real optimizer, but a Ctrl-C lands at its `at`-th step or at the `lr_read`-th
    reading of its learning rate (while an epoch's numbers are being appended)."""

    def __init__(self, real, at: int = 0, lr_read: int = 0) -> None:
        self.real, self.at, self.lr_read, self.steps, self.reads = real, at, lr_read, 0, 0

    def step(self) -> None:
        self.steps += 1
        if self.steps == self.at:
            raise KeyboardInterrupt
        self.real.step()

    @property
    def param_groups(self):
        self.reads += 1
        if self.reads == self.lr_read:
            raise Interrupted(signal.SIGTERM)
        return self.real.param_groups


def test_an_interrupt_in_the_first_epoch_records_the_initial_parameters(
        compose_config, tmp_path, monkeypatch):
    build = optimizer.build
    monkeypatch.setattr(optimizer, "build", lambda *a: StopsAt(build(*a), at=3))
    result = run(compose_config([]), tmp_path)
    assert result["status"] == "interrupted" and result["interrupted_by"] == "SIGINT"
    assert result["epochs_run"] == 0 and result["steps"] == 0
    assert result["w"] == [0.5] and result["b"] == 0.0  # the tutorial's initial parameters
    assert result["loss"] == {"train": None, "full_mse": None, "val": None}
    assert result["r2"] is None and result["history"]["train_loss"] == []
    assert json.loads((tmp_path / "metrics.json").read_text()) == result
    events = EventAccumulator(str(tmp_path)).Reload()
    assert "loss/train" not in events.Tags()["scalars"]
    for figure in ("fit.png", "loss.png", "trajectory.png"):
        assert_png(tmp_path / figure)


def test_an_interrupt_between_an_epochs_appends_keeps_whole_epochs():
    """The interrupt lands after epoch 3's losses and parameters were appended but before
    its learning rate: the history is cut back to two whole epochs, trace included."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 1, generator=g)
    data = Data(X=X, y=3 * X + 1)
    w, b = torch.zeros(1, 1), torch.zeros(1)
    real = optimizer.ManualSGD([w, b], lr=0.1)
    cfg = TrainConfig(epochs=10, batch_size=8)
    history = train(data, w, b, MSE(), StopsAt(real, lr_read=3), cfg, seed=0,
                    val=Data(X=X[:5], y=3 * X[:5] + 1), trace_steps=True)
    assert history.status == "interrupted" and history.interrupted_by == "SIGTERM"
    assert history.epochs_run == 2 and history.steps == 10
    series = ("train_loss", "full_mse", "val_loss", "grad_norm", "w", "b", "lr")
    assert [len(getattr(history, name)) for name in series] == [2] * len(series)
    assert len(history.path) == 1 + 10


def test_a_stop_asked_before_training_stops_it_at_the_start():
    data = Data(X=torch.arange(8.0)[:, None], y=torch.arange(8.0)[:, None])
    w, b = torch.full((1, 1), 0.5), torch.zeros(1)
    try:
        STOP.ask(signal.SIGTERM)  # outside the loop: kept for it, not raised here
        assert STOP.signum == signal.SIGTERM
        history = train(data, w, b, MSE(), optimizer.ManualSGD([w, b], lr=0.1),
                        TrainConfig(epochs=5, batch_size=4), seed=0)
    finally:
        STOP.reset()
    assert history.status == "interrupted" and history.interrupted_by == "SIGTERM"
    assert history.epochs_run == 0 and (history.w_start, history.b_start) == ([0.5], 0.0)


# ---------------------------------------------------------------- crowds and divergence

CROWD = 8


@pytest.fixture(scope="module")
def crowd(tmp_path_factory):
    """Eight runs and a parallel sweep, all started at the same moment in one folder; run 7
    diverges (lr 5)."""
    cwd = tmp_path_factory.mktemp("crowd")
    args = [["train.epochs=2", f"seed={i}"] for i in range(CROWD - 1)]
    args.append(["optimizer.lr=5", f"seed={CROWD - 1}"])
    args.append(["-m", "hydra/launcher=joblib", "train.epochs=2", "seed=0,1,2,3"])
    pipes = [dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)] * len(args)
    processes = [subprocess.Popen(cli_command(*a), cwd=cwd, env=cli_env(), **p)
                 for a, p in zip(args, pipes, strict=True)]
    outputs = [p.communicate(timeout=CLI_TIMEOUT_S) for p in processes]
    return cwd, args, processes, outputs


def test_runs_started_together_each_get_their_own_folder(crowd):
    cwd, args, processes, outputs = crowd
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    folders = sorted(p for p in cwd.glob("outputs/runs/*/*") if p.is_dir())
    assert len(folders) == CROWD
    # ...-HH-MM-SS-ffffff-p<pid>_epochs=2_seed=0
    by_pid = {int(re.match(r"[-0-9]+-p([0-9]+)", f.name)[1]): f for f in folders}
    for process, a, (out, _) in zip(processes[:CROWD], args[:CROWD], outputs[:CROWD],
                                    strict=True):
        folder = by_pid[process.pid]
        assert out.splitlines()[-1].endswith(f"run folder: {folder.resolve()}")
        assert OmegaConf.load(folder / ".hydra" / "overrides.yaml") == a
        # one writer (and its figures' file), one run
        assert len([p for p in folder.glob("events.out.tfevents.*")
                    if not p.name.endswith(".figures")]) == 1
        m = metrics.read(folder)
        assert m["status"] == ("diverged" if "optimizer.lr=5" in a else "ok")


def test_a_parallel_sweep_gives_every_job_its_own_folder(crowd):
    cwd, _, processes, outputs = crowd
    assert processes[-1].returncode == 0, outputs[-1][1]
    (sweep,) = cwd.glob("outputs/sweeps/*/*")
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and p.name != SWEEP_RUN)
    assert [j.name for j in jobs] == ["0_seed=0", "1_seed=1", "2_seed=2", "3_seed=3"]
    seeds = [OmegaConf.load(j / ".hydra" / "config.yaml").seed for j in jobs]
    assert seeds == [0, 1, 2, 3]
    assert [metrics.read(j)["epochs_run"] for j in jobs] == [2, 2, 2, 2]
    assert len({json.dumps(metrics.read(j)["history"]) for j in jobs}) == 4  # four runs
    assert len(compare_rows(sweep / "summary.csv")) == 4


def test_divergence_is_a_result_with_a_single_warning(crowd):
    cwd, args, processes, outputs = crowd
    out, err = outputs[CROWD - 1]
    assert processes[CROWD - 1].returncode == 0
    # its two warnings, on stderr (the lr above 2/λ_max, said before training, and the
    # divergence itself); no overflow, NaN or matplotlib warnings
    above, diverged = err.splitlines()
    assert above.startswith("optimizer.lr=5 is above 2/λ_max = ") and \
        diverged.startswith("diverged at epoch "), err
    lines = out.splitlines()
    assert not [line for line in lines if line.startswith("diverged at epoch ")]  # not stdout
    assert not [line for line in lines
                if re.search(r"warning|overflow|invalid value|encountered", line, re.I)]
    (folder,) = [f for f in cwd.glob("outputs/runs/*/*")
                 if OmegaConf.load(f / ".hydra" / "config.yaml").optimizer.lr == 5]
    log = (folder / "train.log").read_text()
    # the lr above 2/λ_max, said before training, and the divergence itself: nothing else
    assert log.count("[WARNING]") == 2 and "optimizer.lr=5 is above 2/λ_max" in log
    m = metrics.read(folder)
    assert m["status"] == "diverged" and m["history"]["full_mse"][0] is not None
    for figure in ("fit.png", "loss.png", "trajectory.png"):
        assert_png(folder / figure)
