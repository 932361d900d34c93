"""Bad input through the real CLI: one line on stderr, exit 2, no traceback, no run folder."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

CASES = [
    # (overrides, the key the message names, words it must also contain)
    (["train.epoch=3"], "train.epoch", ["unknown key"]),
    (["optimizer=lbfgs"], "optimizer", ["lbfgs", "manual_sgd", "adam"]),
    (["optimizer.lr=abc"], "optimizer.lr", ["abc"]),
    (["loss=huber", "loss.delta=0"], "loss.delta", ["> 0"]),
    (["train.batch_size=121"], "train.batch_size", ["121", "120"]),  # more than the 120 rows
]


@pytest.fixture(scope="module")
def results(tmp_path_factory, run_cli) -> dict[str, tuple[subprocess.CompletedProcess, list]]:
    """Every case run at once (each in its own folder): start-up dominates, not work."""
    # folders made here, not in the threads: tmp_path_factory is not thread-safe
    folders = [tmp_path_factory.mktemp("cli_error") for _ in CASES]

    def one(case):
        overrides, cwd = case
        return run_cli(cwd, *overrides), list(cwd.glob("outputs/runs/*/*"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        names = [" ".join(overrides) for overrides, _, _ in CASES]
        cases = zip([c[0] for c in CASES], folders, strict=True)
        return dict(zip(names, pool.map(one, cases), strict=True))


@pytest.mark.parametrize(("overrides", "key", "words"), CASES,
                         ids=[" ".join(c[0]) for c in CASES])
def test_bad_config_fails_cleanly(results, overrides, key, words):
    result, run_folders = results[" ".join(overrides)]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("linreg: error: "), lines[0]
    for word in [key, *words]:
        assert word in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    # no folder that looks like a result (the empty date folder above it may stay)
    assert run_folders == []
