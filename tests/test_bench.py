"""Smoke test of scripts/bench.py at tiny sizes: it runs end to end and its numbers mean what
the table says. No timing is asserted (speed is only measured, by the bench itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
ROWS, FEATURES, SWEEP_JOBS = 3000, 3, 2


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--rows", str(ROWS), "--features", str(FEATURES),
         "--repeat", "1", "--warmup", "0", "--budget", "0", "--sweep-jobs", str(SWEEP_JOBS),
         "--api-calls", "2", "--data-rows", "5000", "--data-repeat", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_loop_is_measured_or_skipped_with_a_reason(bench):
    result, _ = bench
    for section, rows in (("tutorial", 120), ("large", ROWS)):
        loops = result[section]
        assert (loops["rows"], loops["epochs"]) == (rows, 50 if section == "tutorial" else 1)
        for key, cells in loops["cells"].items():
            assert set(cells) == {"16", "256", "4096", "full"}, key
            for batch, cell in cells.items():
                too_big = batch != "full" and int(batch) > rows
                batch_free = key == "closed_form" and batch != "full"
                if too_big or batch_free:
                    assert "s" not in cell and cell["skipped"], (key, batch)
                else:
                    assert cell["s"] > 0 and cell["runs"] >= 1, (key, batch)


def test_the_loops_do_the_same_training(bench):
    cells = bench[0]["tutorial"]["cells"]
    ols = cells["closed_form"]["full"]["mse"]
    assert 196.0 < ols < 196.2  # TUTORIAL.md: least squares MSE 196.13 on the tutorial's data
    for key in ("tutorial", "dataloader", "linreg_manual_sgd", "linreg_torch_sgd", "sklearn",
                "floor", "linreg_nn_linear", "linreg_nn_dataloader"):
        assert cells[key]["16"]["mse"] < 1.01 * ols, key  # 50 epochs at batch 16 converge
    # same seed, same arithmetic: linreg's two optimizers and the floor agree to the bit
    manual = cells["linreg_manual_sgd"]["16"]
    for key in ("linreg_torch_sgd", "floor", "linreg_nn_linear", "linreg_nn_dataloader"):
        assert (cells[key]["16"]["w"], cells[key]["16"]["b"]) == (manual["w"], manual["b"]), key


def test_whole_process_sweep_and_memory_are_recorded(bench):
    result, table = bench
    proc = result["process"]
    assert len(proc["tutorial_s"]) == len(proc["linreg_s"]) == 1
    assert proc["ratio"] == pytest.approx(proc["linreg_s"][0] / proc["tutorial_s"][0])
    assert proc["linreg_cpu_s"][0] > 0 and proc["tutorial_cpu_s"][0] > 0
    sweep = proc["sweep"]
    assert sweep["measured"], sweep.get("reason")
    assert sweep["jobs"] == SWEEP_JOBS and sweep["ratio_to_one_run"] > 0
    mem = result["memory"]
    assert mem["dataset_mib"] == pytest.approx(ROWS * (FEATURES + 1) * 4 / 2**20)
    assert mem["train_mib"] >= mem["baseline_mib"] > 0
    assert mem["limit_mib"] == pytest.approx(mem["baseline_mib"] + 2 * mem["dataset_mib"])
    assert [t["target"] for t in result["targets"]] == ["1", "2", "3a", "3b", "3c", "4"]
    assert all(t["met"] in (True, False) for t in result["targets"])


def test_the_table_shows_the_machine_and_the_targets(bench):
    result, table = bench
    assert f"{result['machine']['cores']} cores" in table
    assert f"torch {result['machine']['torch']}" in table
    after = table.split("Targets of issue 6\n")[1]
    verdicts = {line.split()[0]: line for line in after.split("\n\n")[0].splitlines()}
    for t in result["targets"]:
        assert verdicts[t["target"]].endswith(" met" if t["met"] else " NOT MET"), t


def test_the_api_section_times_warm_calls_after_the_first(bench):
    result, table = bench
    api = result["api"]
    assert len(api["warm_s"]) == 2
    assert api["warm_median_s"] == pytest.approx(sum(api["warm_s"]) / 2)
    assert round(api["full_mse"], 3) == 196.129  # the default run, every call
    assert "warm call, median" in table and f"{api['warm_median_s']:.3f} s" in table


def test_the_data_section_measures_issue_15s_three_ratios(bench):
    result, table = bench
    data = result["data"]
    assert (data["rows"], data["columns"]) == (5000, 10) and data["file_mib"] > 0
    load = data["load"]
    assert len(load["linreg_s"]) == len(load["pandas_s"]) == 2
    assert load["ratio"] == pytest.approx(
        sum(a / b for a, b in zip(load["linreg_s"], load["pandas_s"], strict=True)) / 2)
    mem = data["memory"]
    assert mem["arrays_mib"] == pytest.approx(5000 * 10 * 8 / 2**20)
    for reader in ("linreg", "pandas"):
        assert mem[reader]["read_mib"] > mem[reader]["baseline_mib"] > 0
    dtype = data["dtype"]
    assert (dtype["rows"], dtype["features"]) == (ROWS, FEATURES) and dtype["ratio"] > 0
    assert [t["met"] in (True, False) for t in data["targets"]] == [True] * 3
    assert "Targets of issue 15" in table and "pandas.read_csv(path)" in table
