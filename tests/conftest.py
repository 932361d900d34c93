"""Shared helpers: compose a config the way the CLI does, run the real CLI, find a run's folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

import linreg.config  # noqa: F401  (registers the schemas that conf/ names)

CLI_TIMEOUT_S = 300  # generous: the machine's two cores are shared with other work

# The tests press Ctrl-C as a user at a terminal does. A script that starts them in the
# background (`bash .ci/run &`) hands them SIGINT ignored, which every CLI they start would
# inherit, and linreg keeps an ignored signal ignored, as `nohup` asks: give it back its default
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def compose_overrides(overrides: Sequence[str] = ()) -> DictConfig:
    """The composed config (without the `hydra` node) for these command-line overrides."""
    with initialize_config_module(version_base="1.3", config_module="linreg.conf"):
        return compose("config", overrides=list(overrides))


def cli_env(**extra: str) -> dict[str, str]:
    """The environment a user has: no debug switches that change how errors are printed."""
    env = {k: v for k, v in os.environ.items() if k not in ("LINREG_DEBUG", "HYDRA_FULL_ERROR")}
    env.update(extra)
    return env


def cli_command(*overrides: str) -> list[str]:
    return [sys.executable, "-m", "linreg", *overrides]


def run_cli_in(cwd: Path, *overrides: str, command: Sequence[str] | None = None,
               extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m linreg *overrides` in `cwd` (or `command *overrides`), output as text."""
    args = [*(command or cli_command()), *overrides]
    return subprocess.run(args, cwd=cwd, env=cli_env(**(extra_env or {})), capture_output=True,
                          text=True, timeout=CLI_TIMEOUT_S)


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).glob("outputs/runs/*/*") if p.is_dir())


def single_run_folder(root: Path) -> Path:
    """The one run folder a single CLI run made under `root`/outputs/runs/<date>/<time>."""
    folders = run_folders(root)
    assert len(folders) == 1, f"expected one run folder under {root}, found {folders}"
    return folders[0]


@pytest.fixture(scope="session")
def compose_config() -> Callable[[Sequence[str]], DictConfig]:
    """compose_config(["optimizer=torch_sgd"]) -> the composed DictConfig."""
    return compose_overrides


@pytest.fixture(scope="session")
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """run_cli(cwd, "train.epochs=3") runs `python -m linreg train.epochs=3` in cwd.

    command=[...] replaces `python -m linreg`; extra_env={...} adds to the user's environment.
    """
    return run_cli_in


@pytest.fixture(scope="session")
def run_folder() -> Callable[[Path], Path]:
    """run_folder(root) -> the single run folder under root/outputs/runs/*/*."""
    return single_run_folder
