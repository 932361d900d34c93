"""The notebooks in notebooks/, executed end to end in a real Jupyter kernel (nbclient and
ipykernel) in a temporary folder: the numbers their cells print, each figure displayed exactly
once (and no other image, no pyplot, so no window), and committed without outputs."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbclient  # the dev extra's `notebook` part: a missing one is a failure, not a skip
import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHECK = "import sys; print('pyplot imported:', 'matplotlib.pyplot' in sys.modules)"


def execute(name: str, folder: Path):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK))  # not in the file: the test's own
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def printed(nb) -> str:
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs if out.output_type == "stream")


def images(nb) -> list[bytes]:
    """Every image the cells displayed: image/png outputs and <img> tags in text/html."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                found.append(base64.b64decode(data["image/png"]))
            for src in re.findall(r'src="data:image/png;base64,([^"]+)"',
                                  data.get("text/html", "")):
                found.append(base64.b64decode(src))
    return found


def assert_each_once(shown: list[bytes], expected: dict[str, bytes]) -> None:
    assert len(set(expected.values())) == len(expected)  # distinct figures
    names = [next((n for n, png in expected.items() if png == image), "other") for image in shown]
    assert sorted(names) == sorted(expected), names


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, name


def test_the_notebooks_are_the_tutorial_and_the_learning_rate_lesson():
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} >= {"tutorial.ipynb",
                                                            "learning_rate.ipynb"}


def test_tutorial_notebook_runs_the_default_run_and_shows_its_three_figures(tmp_path):
    nb = execute("tutorial.ipynb", tmp_path)
    text = printed(nb)
    assert "w = 24.036, b = 15.638" in text
    assert "full-data MSE 196.129 (least squares: 196.128)" in text
    assert "pyplot imported: False" in text
    (run_dir,) = (tmp_path / "outputs" / "runs").glob("*/*")
    expected = {name: (run_dir / name).read_bytes()
                for name in ("fit.png", "loss.png", "trajectory.png")}
    assert_each_once(images(nb), expected)


def test_learning_rate_notebook_sweeps_the_lesson_s_values(tmp_path):
    nb = execute("learning_rate.ipynb", tmp_path)
    text = printed(nb)
    for line in ("lr 0.001: ok       full-data MSE 402.0", "lr  0.01: ok       full-data MSE 196.1",
                 "lr   0.1: ok       full-data MSE 196.1", "lr   0.5: ok       full-data MSE 221.3",
                 "lr   1.0: ok       full-data MSE 243.7", "lr   1.2: diverged at epoch 19",
                 "lr   1.5: diverged at epoch 9", "pyplot imported: False"):
        assert line in text, line
    (sweep_dir,) = (tmp_path / "outputs" / "sweeps").glob("*/*")
    assert len(list(sweep_dir.glob("*_lr=*"))) == 7
    expected = {"summary.png": (sweep_dir / "summary.png").read_bytes()}
    for lr in ("0.1", "1.2"):
        (job,) = sweep_dir.glob(f"*_lr={lr}")
        expected[f"trajectory {lr}"] = (job / "trajectory.png").read_bytes()
    assert_each_once(images(nb), expected)
