"""Values that pass validation and give a result, through the real command: exit status 0, a
metrics.json in strict JSON (no NaN or inf anywhere), and every figure drawn or a note in
train.log saying why not. The values refused instead are rows of tests/test_bad_input.py.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

EXACT = "x,y\n" + "".join(f"{x},{2 * x + 1}\n" for x in range(8))  # y = 2x + 1, exactly
CONSTANT = "x,y\n" + "".join(f"{x},5\n" for x in range(8))
HUGE_TARGET = "x,y\n" + "".join(f"{x},{x * 1e30:g}\n" for x in range(1, 9))
FROM_CSV = ["dataset=csv", "dataset.path=data.csv", "train.batch_size=8"]


@dataclass
class Case:
    name: str
    args: list[str]
    status: str
    csv: str | None = None  # the content of {cwd}/data.csv, if any


CASES = [
    Case("lr 1e30 diverges before the first epoch ends", ["optimizer.lr=1e30"], "diverged"),
    Case("a huge finite weight decay diverges", ["optimizer.weight_decay=1e30"], "diverged"),
    Case("a decay beyond float32 once multiplied by the batch size",
         ["optimizer.weight_decay=3e38", "optimizer.divide_by_batch_size=true"], "diverged"),
    Case("lr at float32's edge", ["optimizer=torch_sgd", "optimizer.lr=3e38"], "diverged"),
    Case("a start at float32's edge", ["init.w=3e38"], "diverged"),
    Case("a bias at float32's edge", ["dataset.bias=3e38"], "diverged"),
    Case("seeds at the ends of their ranges",
         ["seed=-9223372036854775808", "dataset.random_state=4294967295", "dataset.outliers=0.2",
          "init=normal"], "ok"),
    Case("an exact fit: the loss is exactly 0", [*FROM_CSV, "dataset.standardize=false",
                                                 "init.w=2", "init.b=1"], "ok", csv=EXACT),
    Case("a constant target", FROM_CSV, "ok", csv=CONSTANT),
    Case("a constant target, from its exact fit",
         [*FROM_CSV, "dataset.standardize=false", "init.w=0", "init.b=5"], "ok", csv=CONSTANT),
    Case("targets of order 1e30", FROM_CSV, "diverged", csv=HUGE_TARGET),
    # beyond float32, refused there (tests/test_bad_input.py); float64 trains on them
    Case("lr 1e308 in float64", ["train.dtype=float64", "optimizer.lr=1e308"], "diverged"),
    Case("a feature of 1e300 in float64, standardized", [*FROM_CSV, "train.dtype=float64"], "ok",
         csv="x,y\n" + "".join(f"{x}e300,{x}\n" for x in range(1, 9))),
]
FIGURES = ("fit.png", "loss.png", "trajectory.png")


def strict_json(text: str) -> dict:
    def refuse(constant: str):
        raise ValueError(f"{constant} in metrics.json")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, run_cli) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Every case at once, each in a folder of its own (two at a time: two cores)."""
    folders = {case.name: tmp_path_factory.mktemp("accepted") for case in CASES}

    def one(case: Case) -> tuple[Path, subprocess.CompletedProcess]:
        cwd = folders[case.name]
        if case.csv is not None:
            (cwd / "data.csv").write_text(case.csv)
        return cwd, run_cli(cwd, *case.args, "train.epochs=3")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([c.name for c in CASES], pool.map(one, CASES), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_an_accepted_value_gives_a_result(outcomes, run_folder, case):
    cwd, result = outcomes[case.name]
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    folder = run_folder(cwd)
    metrics = strict_json((folder / "metrics.json").read_text())
    assert metrics["status"] == case.status
    log = (folder / "train.log").read_text()
    for figure in FIGURES:
        assert (folder / figure).is_file() or f"{figure} not drawn" in log, figure
    if case.status == "diverged":
        assert metrics["epochs_run"] == 1 and metrics["loss"]["full_mse"] is None


def test_divergence_in_the_first_epoch_keeps_its_figures(outcomes, run_folder):
    cwd, _ = outcomes["lr 1e30 diverges before the first epoch ends"]
    folder = run_folder(cwd)
    assert all((folder / figure).is_file() for figure in FIGURES)
    assert strict_json((folder / "metrics.json").read_text())["history"]["train_loss"] == [None]


def test_an_exact_fit_records_a_loss_of_0(outcomes, run_folder):
    cwd, _ = outcomes["an exact fit: the loss is exactly 0"]
    metrics = strict_json((run_folder(cwd) / "metrics.json").read_text())
    assert metrics["loss"] == {"train": 0.0, "full_mse": 0.0, "val": None}
    assert metrics["history"]["full_mse"] == [0.0, 0.0, 0.0]
    assert metrics["w"] == [2.0] and metrics["b"] == 1.0 and metrics["r2"] == 1.0


def test_a_constant_target_has_no_r2(outcomes, run_folder):
    cwd, _ = outcomes["a constant target"]
    metrics = strict_json((run_folder(cwd) / "metrics.json").read_text())
    assert metrics["r2"] is None  # 1 - SS_res / 0: not a number, written as null


def test_weight_decay_beyond_float32_in_the_reference_is_recorded(outcomes, run_folder):
    cwd, _ = outcomes["a decay beyond float32 once multiplied by the batch size"]
    metrics = strict_json((run_folder(cwd) / "metrics.json").read_text())
    ridge = metrics["reference"]["ridge"]
    assert ridge["weight_decay"] == pytest.approx(16 * 3e38)  # float64: no overflow
    assert all(v is not None for v in [*ridge["w"], ridge["b"]])
