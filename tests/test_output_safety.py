"""linreg removes or overwrites only what it made itself: the table of folders a user already
has, the command run over them, and what must be left.

Each row lays out a folder with the user's own files (and maybe earlier results), runs the real
command in it, and checks the exit status, the one line, and that every file that was there
before is still there with the same bytes and modification time. All rows run at once.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import run_cli_in

THESIS = {"results/thesis.txt": "four years of work\n"}


@dataclass
class Row:
    name: str
    args: list[str]
    says: str  # in the one line on stderr; {cwd} is the folder the command ran in
    files: dict[str, str] = field(default_factory=dict)  # laid out before the command
    first: list[str] | None = None  # a command run before, whose results must survive
    status: int = 2
    left: set[str] | None = None  # exactly what the folder holds after (else: what was there)


LR = "optimizer.lr=-1"
MISSING_CSV = ["dataset=csv", "dataset.path=missing.csv"]
BAD_CSV = ["dataset=csv", "dataset.path=bad.csv"]
CSV = {"bad.csv": "x,y\n1,abc\n"}
ROWS = [
    Row("bad value into a folder of the user's", ["hydra.run.dir=results", LR],
        "optimizer.lr: must be > 0", THESIS),
    Row("bad data into a folder of the user's", ["hydra.run.dir=results", *BAD_CSV],
        "bad.csv, line 2, column 'y': 'abc' is not a number", {**THESIS, **CSV}),
    Row("bad value into outputs/, beside earlier runs", ["hydra.run.dir=outputs", LR],
        "optimizer.lr: must be > 0", first=["train.epochs=2"]),
    Row("bad data into the working directory", ["hydra.run.dir=.", *MISSING_CSV],
        "{cwd}/missing.csv: no such file (dataset.path)", {"notes.txt": "mine\n"}),
    Row("bad data into the working directory, with chdir",
        ["hydra.run.dir=.", "hydra.job.chdir=true", *MISSING_CSV],
        "{cwd}/missing.csv: no such file (dataset.path)", {"notes.txt": "mine\n"}),
    Row("bad data deep below a folder of the user's", ["hydra.run.dir=results/a/b", *BAD_CSV],
        "'abc' is not a number", {**THESIS, **CSV}),
    Row("a run into a folder that holds a run", ["hydra.run.dir=results", "train.epochs=2"],
        "{cwd}/results: already holds a linreg run (.hydra, events.out.tfevents.",
        first=["hydra.run.dir=results", "train.epochs=2"]),
    Row("a sweep stopped by bad input, into a folder of the user's",
        ["-m", "hydra.sweep.dir=results", "train.batch_size=8,abc"],
        "train.batch_size", THESIS),
    Row("a sweep into a folder that holds another sweep",
        ["-m", "hydra.sweep.dir=results", "seed=0,1", "train.epochs=2"],
        "{cwd}/results: already holds a different linreg sweep ('seed=0 train.epochs=2', now "
        "'seed=0,1 train.epochs=2')",
        first=["-m", "hydra.sweep.dir=results", "seed=0", "train.epochs=2"]),
    Row("a run into a folder of the user's is fine", ["hydra.run.dir=results", "train.epochs=2"],
        "", THESIS, status=0,
        left={"thesis.txt", ".hydra", "train.log", "metrics.json", "fit.png", "loss.png",
              "trajectory.png", "path.json", "events"}),
]


@dataclass
class Outcome:
    cwd: Path
    before: dict[str, tuple[bytes, int]]  # every file under cwd: its bytes and mtime
    result: subprocess.CompletedProcess


def snapshot(cwd: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(cwd)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(cwd.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    # folders made here, not in the threads: tmp_path_factory is not thread-safe
    folders = {row.name: tmp_path_factory.mktemp("safety") for row in ROWS}

    def one(row: Row) -> Outcome:
        cwd = folders[row.name]
        for name, text in row.files.items():
            (cwd / name).parent.mkdir(parents=True, exist_ok=True)
            (cwd / name).write_text(text)
        if row.first is not None:
            done = run_cli_in(cwd, *row.first)
            assert done.returncode == 0, done.stderr
        before = snapshot(cwd)
        return Outcome(cwd, before, run_cli_in(cwd, *row.args))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(folders, pool.map(one, ROWS), strict=True))


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_what_the_user_had_is_still_there(outcomes, row):
    outcome = outcomes[row.name]
    result = outcome.result
    assert result.returncode == row.status, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if row.status == 2:
        (line,) = result.stderr.splitlines()
        assert line.startswith("linreg: error: ")
        assert row.says.format(cwd=outcome.cwd.resolve()) in line
    after = snapshot(outcome.cwd)
    for name, (data, mtime) in outcome.before.items():  # same bytes, never rewritten
        assert name in after, f"{name} was removed"
        assert after[name] == (data, mtime), f"{name} was rewritten"
    if row.left is not None:
        held = {"events" if p.name.startswith("events.") else p.name
                for p in (outcome.cwd / "results").iterdir()}
        assert held == row.left
    elif row.status == 2:  # bad input: nothing new is left anywhere
        new = set(after) - set(outcome.before)
        made = {str(p.relative_to(outcome.cwd)) for p in outcome.cwd.rglob("*")} - {
            str(Path(n)) for n in outcome.before} - {
            str(parent) for n in outcome.before for parent in Path(n).parents}
        assert not new and not made, made
