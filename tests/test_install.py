"""A non-editable install runs from any directory: the YAML ships inside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from linreg.records import metrics

REPO = Path(__file__).parents[1]
# what a source distribution holds; the build's own droppings (build/, *.egg-info) stay out
SOURCES = ["pyproject.toml", "README.md", "linreg", "conf"]


def build_isolation() -> list[str]:
    """Build with this environment's setuptools when it can build wheels (fast, offline).

    A fresh venv's bundled setuptools (65.5 on Python 3.11, as in .ci/run) has no bdist_wheel
    and is older than pyproject's setuptools>=68: there, let pip fetch one as `pip install .` does.
    """
    try:
        major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return []
    return ["--no-build-isolation"] if (major, minor) >= (70, 1) else []


def test_non_editable_install_runs_from_another_directory(tmp_path, run_cli, run_folder):
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, source / name)
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", *build_isolation(),
                          "--no-input", "--disable-pip-version-check",
                          "--target", str(site), str(source)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "linreg" / "conf" / "config.yaml").exists(), "the YAML did not ship"
    assert list((site / "linreg" / "conf" / "optimizer").glob("*.yaml"))
    # linreg's sweeper, where Hydra looks for plugins
    assert (site / "hydra_plugins" / "linreg_sweeper.py").exists(), "the sweeper did not ship"
    assert not (site / "hydra_plugins" / "__init__.py").exists()  # a namespace shared by plugins

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site)}
    where = run_cli(elsewhere, command=[sys.executable, "-c",
                                        "import linreg; print(linreg.__file__)"],
                    extra_env=env)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout

    result = run_cli(elsewhere, "train.epochs=2", extra_env=env)
    assert result.returncode == 0, result.stderr
    folder = run_folder(elsewhere)
    assert metrics.read(folder)["epochs_run"] == 2
    assert (folder / ".hydra" / "config.yaml").exists()

    # pip --target puts the console script in <site>/bin
    script = site / "bin" / "linreg"
    assert script.exists()
    shutil.rmtree(elsewhere / "outputs")
    result = run_cli(elsewhere, "train.epochs=2", command=[str(script)], extra_env=env)
    assert result.returncode == 0, result.stderr
    assert metrics.read(run_folder(elsewhere))["steps"] == 14

    sweep = run_cli(elsewhere, "-m", "seed=0,1", "train.epochs=2", command=[str(script)],
                    extra_env=env)
    assert sweep.returncode == 0, sweep.stderr
    jobs = sorted(elsewhere.glob("outputs/sweeps/*/*/*/metrics.json"))
    assert [path.parent.name for path in jobs] == ["0_seed=0", "1_seed=1"]
