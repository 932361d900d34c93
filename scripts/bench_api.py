"""The bench's section `api`: `linreg.run()` called again and again in one process, as a
notebook does. The first call pays for the imports and the drawing process's start; the target
(issue 18) is the median of the warm calls after it: at most 0.3 s for the default run.

Run on its own (`python scripts/bench_api.py --calls 10`) it prints its numbers as JSON; the
bench runs it so, in a fresh process and a temporary folder (`measure_api`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.3  # a warm default run, at most


def calls(n: int) -> dict:
    import linreg

    started = time.perf_counter()
    first = linreg.run()
    first_s = time.perf_counter() - started
    warm = []
    for _ in range(n):
        started = time.perf_counter()
        result = linreg.run()
        warm.append(time.perf_counter() - started)
        if result.metrics["loss"] != first.metrics["loss"]:  # same numbers every call
            raise SystemExit("bench_api: a warm run's losses differ from the first's")
    return {"first_s": first_s, "warm_s": warm, "warm_median_s": statistics.median(warm),
            "target_s": TARGET_S, "full_mse": first.metrics["loss"]["full_mse"]}


def measure_api(n: int) -> dict:
    """`calls(n)` in a child process (fresh imports) in a temporary working folder."""
    env = {k: v for k, v in os.environ.items() if k != "LINREG_DEBUG"}
    with tempfile.TemporaryDirectory(prefix="linreg-bench-api-") as cwd:
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--calls", str(n)],
                             cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def format_api(api: dict) -> list[str]:
    met = "met" if api["warm_median_s"] <= api["target_s"] else "NOT met"
    return ["", f"Python API, one process: linreg.run() (the default run), "
            f"{len(api['warm_s'])} warm calls after the first",
            f"  first call (imports, drawing process)   {api['first_s']:.2f} s",
            f"  warm call, median                       {api['warm_median_s']:.3f} s "
            f"(min {min(api['warm_s']):.3f}, max {max(api['warm_s']):.3f}); target <= "
            f"{api['target_s']} s: {met}"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="warm calls after the first")
    print(json.dumps(calls(parser.parse_args().calls)))
