"""Benchmark for issue 6: linreg against the course tutorial, measured side by side in one run.

A benchmark, not a test. It prints one table (times and ratios, the machine, the targets of
issue 6 marked met / not met) and writes the same numbers as JSON. Four sections:

  loops    training loops on the same data, hyperparameters (lr 0.01, w = 0.5, b = 0, MSE)
           and epochs: the tutorial's data (120 x 1, 50 epochs) and synthetic 1,000,000 x 20
           (one epoch), at batch 16, 256, 4096 and the full batch;
  process  whole-process wall time of `python -m linreg` against the tutorial's program
           (scripts/tutorial_program.py), each in a fresh temporary working directory, and a
           12-job sequential sweep `linreg -m seed=0,...,11` against one run;
  memory   peak RSS (VmHWM, see `child`) of a child that trains linreg on 1,000,000 x 20,
           batch 256, one epoch, against a child that only imports torch and linreg.
  api      linreg.run() called again and again in one process, as in a notebook: the
           median of the warm calls (bench_api.py; issue 18's target: at most 0.3 s)
  data     issue 15's: a large CSV read by linreg against pandas.read_csv, its peak memory
           against the float64 arrays, a float64 epoch against a float32 one (bench_data.py)

Loop times exclude one-off import costs: everything (torch.optim's first step included) is
warmed up before the first timed run; whole-process times are where start-up is measured.
A cell is timed again while its runs add up to less than --budget seconds; the median counts.

    python scripts/bench.py                 # everything, several minutes
    python scripts/bench.py --quick         # skips the slowest 1M-row cells (see QUICK_SKIP)

Its sections live beside this file: bench_loops.py (QUICK_SKIP there), bench_process.py (the
process and memory sections) and bench_report.py (targets, machine, table).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench_api import format_api, measure_api
from bench_data import data_child, format_data, measure_data
from bench_loops import measure_loops, synthetic_data, tutorial_data, warm_up
from bench_process import BenchError, child, measure_memory, measure_process
from bench_report import code_version, format_table, machine, targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/bench.json"))
    parser.add_argument("--repeat", type=int, default=5, help="whole-process repeats (median)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed whole-process runs first")
    parser.add_argument("--quick", action="store_true", help="skip the slowest 1M-row cells")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="re-time a loop cell while its runs add up to less than this (s)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large data")
    parser.add_argument("--features", type=int, default=20, help="features of the large data")
    parser.add_argument("--sweep-jobs", type=int, default=12)
    parser.add_argument("--sections", default="loops,process,memory,api,data",
                        help="comma-separated subset of loops,process,memory,api,data")
    parser.add_argument("--api-calls", type=int, default=10,
                        help="warm linreg.run() calls of the api section (median)")
    parser.add_argument("--data-rows", type=int, default=2_000_000,
                        help="rows of the CSV file of the data section")
    parser.add_argument("--data-columns", type=int, default=10, help="its columns")
    parser.add_argument("--data-repeat", type=int, default=5,
                        help="timed runs of each reader and dtype, in turn")
    parser.add_argument("--child", choices=["baseline", "train"], help=argparse.SUPPRESS)
    parser.add_argument("--data-child", choices=["linreg", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data-file", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.rows, args.features)
        return 0
    if args.data_child:
        data_child(args.data_child, args.data_file)
        return 0
    sections = set(args.sections.split(","))
    result: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "code": code_version(),
                    "machine": machine(),
                    "command": " ".join(["python", "scripts/bench.py", *sys.argv[1:]])}
    try:
        if "loops" in sections:
            warm_up()
            result["tutorial"] = measure_loops("tutorial", *tutorial_data(), 50, args.quick,
                                               args.budget)
            X, y = synthetic_data(args.rows, args.features)
            result["large"] = measure_loops("large", X, y, 1, args.quick, args.budget)
            del X, y
        if "process" in sections:
            result["process"] = measure_process(args.repeat, args.warmup, args.sweep_jobs)
        if "memory" in sections:
            result["memory"] = measure_memory(args.rows, args.features)
        if "api" in sections:
            result["api"] = measure_api(args.api_calls)
        if "data" in sections:
            result["data"] = measure_data(args.data_rows, args.data_columns, args.rows,
                                          args.features, args.data_repeat)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    result["machine"]["load_avg_end"] = os.getloadavg()[0]
    result["targets"] = targets(result)
    print("\n".join([format_table(result),
                     *(format_api(result["api"]) if "api" in result else []),
                     *(format_data(result["data"]) if "data" in result else [])]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
