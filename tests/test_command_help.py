"""`linreg --help`, `linreg --version` and shell completion, run as the real command: the help
lists exactly what conf/ holds, the version needs no torch, and a TAB imports no torch or
matplotlib and offers what the full command (with the real schemas) offers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import CLI_TIMEOUT_S, cli_env

CONF = Path(__file__).resolve().parents[1] / "conf"
LINREG = Path(sys.executable).parent / "linreg"  # the console script, as a shell runs it
HEAVY = ("torch", "matplotlib", "sklearn", "tensorboard")


def command(*args: str, cwd: Path, env: dict | None = None, python_flags=()) -> \
        subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python_flags, "-m", "linreg", *args], cwd=cwd,
                          env=cli_env(**(env or {})), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)


def imported(stderr: str) -> set[str]:
    """The top-level modules `python -X importtime` reports."""
    return {m.group(1).split(".")[0]
            for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", stderr, re.M)}


def section(text: str, title: str) -> list[str]:
    """The indented lines of one `== title ... ==` section, wrapped lines joined."""
    start = text.index(f"== {title}")
    body = text[start:].split("\n", 1)[1].split("\n== ", 1)[0]
    rows: list[str] = []
    for line in body.splitlines():
        if re.match(r"^  \S", line) and not line.strip().startswith("linreg"):
            rows.append(line.strip())
        elif re.match(r"^ {4,}\S", line) and rows:  # a wrapped line of the row above
            rows[-1] += " " + line.strip()
    return rows


def conf_groups() -> dict[str, set[str]]:
    """Every folder of conf/ with YAML files but Hydra's own, read here independently."""
    found = {}
    for folder in CONF.rglob("*"):
        group = folder.relative_to(CONF).as_posix()
        options = {p.stem for p in folder.glob("*.yaml")}
        if folder.is_dir() and options and not group.startswith("hydra"):
            found[group] = options
    return found


def test_help_lists_exactly_the_groups_and_options_under_conf(tmp_path):
    result = command("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("linreg: linear regression")
    assert "schema" not in text and "powered by Hydra" not in text
    listed = {}
    for row in section(text, "Config groups"):
        group, options = row.split(None, 1)
        listed[group] = {o.strip().removesuffix(" (default)") for o in options.split(",")}
    assert listed == conf_groups()
    assert "manual_sgd (default)" in text and "synthetic (default)" in text
    lessons = {row.split(None, 1)[0] for row in section(text, "Lessons")}
    assert lessons == {p.stem for p in (CONF / "experiment").glob("*.yaml")}
    for needed in ("linreg -m ", "linreg-compare", "outputs/runs/", "outputs/sweeps/",
                   "+experiment=learning_rate", "hydra/launcher=joblib", "--version"):
        assert needed in text, needed
    assert not list(tmp_path.iterdir())  # help runs nothing


def test_version_names_linreg_torch_and_hydra_without_importing_them(tmp_path):
    result = command("--version", cwd=tmp_path, python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"linreg {version('linreg')} (torch {version('torch')}, "
                                     f"Hydra {version('hydra-core')})")
    assert not imported(result.stderr) & {"torch", "hydra", "matplotlib"}


COMPLETIONS = ["linreg opt", "linreg optimizer.", "linreg optimizer=", "linreg +experiment=",
               "linreg train.", "linreg dataset=csv dataset.", "linreg loss=huber loss.",
               "linreg hydra/launcher=", "linreg "]

FULL_SCHEMAS = ("import sys; import linreg.config; from linreg.cli import run_hydra; "
                "sys.argv = ['linreg', '-sc', 'query=bash']; run_hydra()")


@pytest.mark.parametrize("line", COMPLETIONS)
def test_completion_offers_what_the_full_command_offers(tmp_path, line):
    """The TAB path composes with stand-ins for the schemas; the same query with the real
    schemas registered (torch imported) must offer the very same words."""
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line))}
    fast = subprocess.run([str(LINREG), "-sc", "query=bash"], cwd=tmp_path,
                          env=cli_env(**env), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)
    full = subprocess.run([sys.executable, "-c", FULL_SCHEMAS], cwd=tmp_path,
                          env=cli_env(**env), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)
    assert fast.returncode == 0 and full.returncode == 0, fast.stderr + full.stderr
    # the one difference: a list-typed key whose YAML value is null is a plain value to the
    # stand-ins (offered as `key=`), a list to the schema (`key.`)
    expected = " ".join(KNOWN.get(word, word) for word in full.stdout.split())
    assert fast.stdout.split() and fast.stdout.strip() == expected, (fast.stdout, full.stdout)


KNOWN = {"dataset.features.": "dataset.features="}


def test_completion_imports_no_heavy_module_and_starts_no_drawing(tmp_path):
    line = "linreg optimizer."
    env = {"COMP_LINE": line, "COMP_POINT": str(len(line))}
    result = command("-sc", "query=bash", cwd=tmp_path, env=env,
                     python_flags=("-X", "importtime"))
    assert result.returncode == 0, result.stderr
    assert "optimizer.lr=" in result.stdout
    assert not imported(result.stderr) & set(HEAVY)
    started = time.perf_counter()
    subprocess.run([str(LINREG), "-sc", "query=bash"], cwd=tmp_path, env=cli_env(**env),
                   capture_output=True, timeout=CLI_TIMEOUT_S, check=True)
    # the time is printed (pytest -s), not asserted: the machine's cores are shared
    print(f"completion took {time.perf_counter() - started:.2f} s")
    assert not list(tmp_path.iterdir())
