"""The bench's sections `process` (whole-process wall time of `python -m linreg` against the
tutorial's program, and a sweep against one run) and `memory` (a child's peak RSS)."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_loops import linreg_loop, synthetic_data

HERE = Path(__file__).resolve().parent
BENCH = HERE / "bench.py"  # runs `child` as `bench.py --child ...`
TUTORIAL_PROGRAM = HERE / "tutorial_program.py"
MEMORY_BATCH = 256


class BenchError(Exception):
    pass


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(cmd: list[str], label: str,
                check: Callable[[Path], None] | None = None) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one whole process, in a fresh temporary cwd.

    CPU time is the cross-check on a shared machine: other load stretches wall time more."""
    env = {k: v for k, v in os.environ.items() if k != "LINREG_DEBUG"}
    with tempfile.TemporaryDirectory(prefix="linreg-bench-") as cwd:
        start, cpu_start = time.perf_counter(), _children_cpu_s()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds, cpu = time.perf_counter() - start, _children_cpu_s() - cpu_start
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BenchError(f"{label} exited {proc.returncode}: {last}")
        if check is not None:
            check(Path(cwd))
    return seconds, cpu


def measure_process(repeat: int, warmup: int, sweep_jobs: int) -> dict:
    linreg_cmd = [sys.executable, "-m", "linreg"]
    tutorial_cmd = [sys.executable, str(TUTORIAL_PROGRAM)]
    for _ in range(warmup):  # page cache, .pyc files, matplotlib's font cache
        run_process(linreg_cmd, "linreg")
        run_process(tutorial_cmd, "tutorial program")
    tutorial, linreg = [], []  # (wall, cpu) pairs
    for _ in range(repeat):  # interleaved, so drift in machine load hits both alike
        tutorial.append(run_process(tutorial_cmd, "tutorial program"))
        linreg.append(run_process(linreg_cmd, "linreg"))
        print(f"  process: tutorial {tutorial[-1][0]:.2f} s, linreg {linreg[-1][0]:.2f} s",
              file=sys.stderr)
    result = {"tutorial_s": [t for t, _ in tutorial], "linreg_s": [t for t, _ in linreg],
              "tutorial_cpu_s": [c for _, c in tutorial], "linreg_cpu_s": [c for _, c in linreg],
              "tutorial_median_s": statistics.median(t for t, _ in tutorial),
              "linreg_median_s": statistics.median(t for t, _ in linreg),
              "tutorial_median_cpu_s": statistics.median(c for _, c in tutorial),
              "linreg_median_cpu_s": statistics.median(c for _, c in linreg),
              "ratio": statistics.median(lr[0] / tu[0] for lr, tu in zip(linreg, tutorial,
                                                                          strict=True)),
              "cpu_ratio": statistics.median(lr[1] / tu[1] for lr, tu in zip(linreg, tutorial,
                                                                              strict=True))}
    seeds = ",".join(str(i) for i in range(sweep_jobs))

    def all_jobs_wrote_metrics(cwd: Path) -> None:
        found = len(list(cwd.glob("outputs/**/metrics.json")))
        if found != sweep_jobs:
            raise BenchError(f"sweep wrote {found} metrics.json, expected {sweep_jobs}")

    try:
        sweeps = [run_process([*linreg_cmd, "-m", f"seed={seeds}"], "sweep",
                              all_jobs_wrote_metrics) for _ in range(repeat)]
    except BenchError as exc:
        result["sweep"] = {"jobs": sweep_jobs, "measured": False, "reason": str(exc)}
    else:
        median = statistics.median(t for t, _ in sweeps)
        median_cpu = statistics.median(c for _, c in sweeps)
        result["sweep"] = {"jobs": sweep_jobs, "measured": True, "s": [t for t, _ in sweeps],
                           "cpu_s": [c for _, c in sweeps], "median_s": median,
                           "median_cpu_s": median_cpu,
                           "ratio_to_one_run": median / result["linreg_median_s"],
                           "cpu_ratio_to_one_run": median_cpu / result["linreg_median_cpu_s"]}
    return result


# ---- section: peak memory -----------------------------------------------------------------

def child(mode: str, rows: int, features: int) -> None:
    """Runs in a child process: print its own peak RSS after importing (and maybe training).

    The peak is VmHWM, the high-water mark of this process's own memory map. ru_maxrss is not
    used: Linux carries the parent's high-water mark over fork and exec into the child's
    ru_maxrss (a child of this 1.5 GB bench would report 1.5 GB for `import torch`).
    """
    if mode == "train":
        X, y = synthetic_data(rows, features)
        linreg_loop("manual_sgd")(X, y, MEMORY_BATCH, 1)
    status = Path("/proc/self/status").read_text()
    peak_kib = int(next(line for line in status.splitlines() if line.startswith("VmHWM:"))
                   .split()[1])
    print(json.dumps({"peak_kib": peak_kib}))


def measure_memory(rows: int, features: int) -> dict:
    def peak_mib(mode: str) -> float:
        out = subprocess.run([sys.executable, str(BENCH), "--child", mode, "--rows", str(rows),
                              "--features", str(features)],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["peak_kib"] / 1024

    baseline, trained = peak_mib("baseline"), peak_mib("train")
    dataset = rows * (features + 1) * 4 / 2**20
    return {"rows": rows, "features": features, "batch": MEMORY_BATCH,
            "baseline_mib": baseline, "train_mib": trained, "dataset_mib": dataset,
            "limit_mib": baseline + 2 * dataset}
