"""Bad input, tried as a new user would: the table of inputs and the one line each must give.

Every row ends with exit status 2, exactly one line on stderr (`linreg: error: ...`) naming the
key, file, column or row at fault, no traceback, and nothing left in outputs/: not the run
folder, nor an empty outputs/runs/<date>/ above it.

Rows marked `elsewhere` are checked here in-process (same message, from the same code) because
another test file already runs that input through the command line; every other row runs the
real command, several at once (each start costs seconds of imports, not work).
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from linreg.errors import LinregError, one_line
from linreg.runner import run

FOLDER = object()  # as a row's `csv`: data.csv is a folder, not a file
FIFO = object()  # as a row's `csv`: data.csv is a FIFO (named pipe), with no writer


@dataclass
class Row:
    name: str
    args: list[str]
    says: str  # the line must contain this; {cwd} is the folder the command ran in
    csv: str | bytes | object | None = None  # the content of {cwd}/data.csv, if any
    elsewhere: str = ""  # the test file that already runs this input through the CLI


CSV = ["dataset=csv", "dataset.path=data.csv"]
ROWS = [
    Row("unknown key", ["train.epoch=3"],
        "train.epoch: unknown key (valid keys: batch_size, drop_last, dtype, early_stopping,",
        elsewhere="test_cli_errors.py"),
    Row("wrong type", ["optimizer.lr=abc"],
        "optimizer.lr: Value 'abc' of type 'str' could not be converted to Float",
        elsewhere="test_cli_errors.py"),
    Row("unknown group option", ["optimizer=lbfgs"],
        "optimizer: unknown option 'lbfgs' (choose from adagrad, adam, adamw, manual_sgd, rmsprop, "
        "torch_adagrad, torch_adam, torch_adamw, torch_rmsprop, torch_sgd)",
        elsewhere="test_cli_errors.py"),
    Row("lr out of range", ["optimizer.lr=0"], "optimizer.lr: must be > 0, got 0.0"),
    Row("epochs out of range", ["train.epochs=0"], "train.epochs: must be >= 1, got 0"),
    Row("batch_size out of range", ["train.batch_size=0"],
        "train.batch_size: must be >= 1, got 0"),
    Row("noise out of range", ["dataset.noise=-1"], "dataset.noise: must be >= 0, got -1.0"),
    Row("delta out of range", ["loss=huber", "loss.delta=0"], "loss.delta: must be > 0, got 0.0",
        elsewhere="test_cli_errors.py"),
    Row("val_fraction out of range", ["train.val_fraction=1"],
        "train.val_fraction: must be < 1, got 1.0"),
    Row("batch_size larger than the training rows", ["train.batch_size=121"],
        "synthetic: 120 training rows are fewer than train.batch_size=121",
        elsewhere="test_cli_errors.py"),
    Row("n_features 0", ["dataset.n_features=0"], "dataset.n_features: must be >= 1, got 0"),
    Row("missing CSV", ["dataset=csv", "dataset.path=missing.csv"],
        "{cwd}/missing.csv: no such file (dataset.path)"),
    Row("empty CSV", CSV, "{cwd}/data.csv: the file is empty", csv=""),
    Row("header-only CSV", CSV, "{cwd}/data.csv: a header but no data rows", csv="x,y\n"),
    Row("a folder as the CSV", CSV, "{cwd}/data.csv: a folder, not a CSV file (dataset.path)",
        csv=FOLDER),
    Row("CSV not UTF-8", CSV, "{cwd}/data.csv: not a UTF-8 text file",
        csv=b"x,y\n1,2\n\xff\xfe,3\n"),
    Row("missing target column", [*CSV, "dataset.target=price"],
        "{cwd}/data.csv: no column 'price' (columns: x, y)", csv="x,y\n1,2\n3,4\n"),
    Row("text in a numeric column", CSV,
        "{cwd}/data.csv, line 3, column 'y': 'oops' is not a number", csv="x,y\n1,2\n3,oops\n",
        elsewhere="test_datasets.py"),
    Row("NaN in a numeric column", CSV,
        "{cwd}/data.csv, line 3, column 'x': 'NaN' is not a finite number",
        csv="x,y\n1,2\nNaN,4\n"),
    Row("inf in a numeric column", CSV,
        "{cwd}/data.csv, line 4, column 'y': '-inf' is not a finite number",
        csv="x,y\n1,2\n3,4\n5,-inf\n"),
    Row("a single row", CSV, "{cwd}/data.csv: a single training row; a fit needs at least 2",
        csv="x,y\n1,2\n"),
    Row("a constant feature under standardization", [*CSV, "train.batch_size=2"],
        "{cwd}/data.csv: feature 'c' is constant (1) on the 3 training rows",
        csv="x,c,y\n1,1,2\n2,1,4\n3,1,7\n", elsewhere="test_datasets.py"),
    Row("a preset that does not exist", ["+experiment=nope"],
        "experiment: unknown option 'nope' (choose from batch_size, capacity, data_size,"),
    # every float setting: finite and within float32's range, the dtype training computes in
    Row("lr beyond float32", ["optimizer.lr=1e308"], "optimizer.lr: must be within float32's "
        "range, ±3.4e+38 (training computes in float32), got 1e+308; train.dtype=float64 holds"),
    Row("lr just beyond float32", ["optimizer.lr=3.5e38"],
        "optimizer.lr: must be within float32's range, ±3.4e+38 (training computes in float32)"
        ", got 3.5e+38"),
    Row("weight_decay beyond float32", ["optimizer.weight_decay=1e39"],
        "optimizer.weight_decay: must be within float32's range, ±3.4e+38"),
    Row("init.w beyond float32", ["init.w=1e39"], "init.w: must be within float32's range"),
    Row("weight_decay inf", ["optimizer.weight_decay=inf"],
        "optimizer.weight_decay: must be finite, got inf"),
    Row("init.w nan", ["init.w=nan"], "init.w: must be finite, got nan"),
    Row("init.b inf", ["init.b=inf"], "init.b: must be finite, got inf"),
    Row("init.std inf", ["init=normal", "init.std=inf"], "init.std: must be finite, got inf"),
    Row("noise inf", ["dataset.noise=inf"], "dataset.noise: must be finite, got inf"),
    Row("bias nan", ["dataset.bias=nan"], "dataset.bias: must be finite, got nan"),
    Row("bias beyond float32", ["dataset.bias=1e39"],
        "dataset.bias: must be within float32's range, ±3.4e+38 (training computes in float32)"
        ", got 1e+39"),
    Row("outlier_shift inf", ["dataset.outliers=0.1", "dataset.outlier_shift=inf"],
        "dataset.outlier_shift: must be finite, got inf"),
    # seeds: torch.Generator's range for `seed`, numpy RandomState's for random_state
    Row("seed too large", ["seed=1180591620717411303424"],
        "seed: must be <= 18446744073709551615, got 1180591620717411303424"),
    Row("seed too small", ["seed=-9223372036854775809"],
        "seed: must be >= -9223372036854775808, got -9223372036854775809"),
    Row("random_state negative", ["dataset.random_state=-1"],
        "dataset.random_state: must be >= 0, got -1"),
    Row("random_state too large", ["dataset.random_state=4294967296"],
        "dataset.random_state: must be <= 4294967295, got 4294967296"),
    # settings in range that make numbers float32 cannot hold: the setting is named
    Row("normal start beyond float32", ["init=normal", "init.mean=3e38", "init.std=1e38"],
        "init.std: 1e+38 around init.mean 3e+38 draws a start beyond float32's range"),
    Row("noise drawing targets beyond float32", ["dataset.noise=2e38"],
        "dataset.noise: 2e+38 draws targets as large as 5.47e+38, beyond float32's range"),
    Row("outliers pushed beyond float32", ["dataset.outliers=0.1", "dataset.outlier_shift=1e38"],
        "dataset.outlier_shift: 1e+38 pushes targets as far as 3.85e+39, beyond float32's"),
    Row("more data than memory", ["dataset.n_samples=100000000000"],
        "dataset.n_samples: 100000000000 rows of 1 feature need at least 2,235 GiB of memory; "
        "this machine has "),
    Row("a feature beyond float32", [*CSV, "dataset.standardize=false"],
        "{cwd}/data.csv, line 3, column 'x': '1e300' is beyond float32's range, ±3.4e+38 "
        "(training computes in float32); train.dtype=float64 holds up to ±1.8e+308",
        csv="x,y\n1,2\n1e300,3\n3,4\n"),
    Row("a dtype training cannot compute in", ["train.dtype=float16"],
        "train.dtype: must be one of float32, float64, got float16"),

    Row("a target of order 1e300", CSV,
        "{cwd}/data.csv, line 2, column 'y': '2e300' is beyond float32's range",
        csv="x,y\n1,2e300\n2,4e300\n3,6e300\n"),
    # dataset.path itself: said as such, not as an output folder that cannot be written
    Row("a data path too long", ["dataset=csv", f"dataset.path={'a' * 300}.csv"],
        "{cwd}/" + "a" * 300 + ".csv: cannot be opened (File name too long) (dataset.path)"),
    Row("/dev/null as the CSV", ["dataset=csv", "dataset.path=/dev/null"],
        "/dev/null: a character device, not a CSV file (dataset.path)"),
    Row("a FIFO as the CSV (read without blocking)", CSV,
        "{cwd}/data.csv: a FIFO (named pipe), not a CSV file (dataset.path)", csv=FIFO),
    Row("an output folder that cannot be made", ["hydra.run.dir=afile/run"],
        "{cwd}/afile/run: cannot write the output folder (Not a directory); "
        "choose another with hydra.run.dir=..."),
]
CLI_ROWS = [row for row in ROWS if not row.elsewhere]


def prepare_folder(cwd: Path, row: Row) -> Path:
    (cwd / "afile").write_text("a file, where a row asks for a folder under it\n")
    if row.csv is FOLDER:
        (cwd / "data.csv").mkdir()
    elif row.csv is FIFO:
        os.mkfifo(cwd / "data.csv")
    elif isinstance(row.csv, bytes):
        (cwd / "data.csv").write_bytes(row.csv)
    elif row.csv is not None:
        (cwd / "data.csv").write_text(row.csv)
    return cwd


@dataclass
class Outcome:
    cwd: Path
    result: subprocess.CompletedProcess
    left: list[Path] = field(default_factory=list)  # whatever is in outputs/ afterwards


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, run_cli) -> dict[str, Outcome]:
    """Every CLI row at once, each in a folder of its own (two at a time: two cores)."""
    # made here, not in the threads: tmp_path_factory is not thread-safe (it raced in CI)
    folders = {row.name: tmp_path_factory.mktemp("bad_input") for row in CLI_ROWS}

    def one(row: Row) -> Outcome:
        cwd = prepare_folder(folders[row.name], row)
        result = run_cli(cwd, *row.args)
        return Outcome(cwd, result, sorted((cwd / "outputs").rglob("*")))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([r.name for r in CLI_ROWS], pool.map(one, CLI_ROWS), strict=True))


@pytest.mark.parametrize("row", CLI_ROWS, ids=[r.name for r in CLI_ROWS])
def test_bad_input_on_the_command_line_is_one_line_and_exit_2(outcomes, row):
    outcome = outcomes[row.name]
    result = outcome.result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("linreg: error: ")
    assert row.says.format(cwd=outcome.cwd) in line
    assert not (outcome.cwd / "outputs").exists(), outcome.left  # not even empty folders


@pytest.mark.parametrize("row", [r for r in ROWS if r.elsewhere],
                         ids=[r.name for r in ROWS if r.elsewhere])
def test_bad_input_checked_in_process_gives_the_same_line(compose_config, tmp_path,
                                                          monkeypatch, row):
    monkeypatch.chdir(prepare_folder(tmp_path, row))  # CSV paths resolve against the cwd
    with pytest.raises((LinregError, HydraException, OmegaConfBaseException)) as caught:
        run(compose_config(row.args), tmp_path / "run")
    line = one_line(caught.value)
    assert "\n" not in line
    assert row.says.format(cwd=tmp_path) in line
    assert not (tmp_path / "run").exists()  # stopped before anything was written

