"""The bench's section `data` (scripts/bench.py), the targets of issue 15 on reading data at
scale, each a ratio measured in this one run:

  load     linreg's CSV reader (linreg.data.csvfile.read_csv: Arrow's reader into float64)
           against pandas.read_csv(path) on the same file ("%.6f" numbers, a header), the two
           timed in turn, again and again; wall and CPU seconds (user + sys, every thread);
  memory   peak RSS (VmHWM, see bench_process.child) of a child that reads the file with
           linreg, less that of a child that imports the same modules and reads nothing,
           against the float64 arrays X and y themselves (rows x columns x 8 bytes). VmHWM
           counts every page the process touched at its peak, whoever allocated it (Arrow's
           memory pool, numpy, Python), which tracemalloc would not see;
  dtype    one training epoch of linreg's loop (manual_sgd, batch 256) on --rows x --features
           in float64 against the same epoch in float32, timed in turn, on one torch thread:
           on a shared machine torch's threads wait for each other (spinning), which swamps
           the difference of arithmetic this measures (12 to 83 s an epoch, seen here).
"""

from __future__ import annotations

import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

LOAD_LIMIT, MEMORY_LIMIT, DTYPE_LIMIT = 1.5, 2.0, 2.2  # issue 15's goals
DTYPE_BATCH, DTYPE_THREADS = 256, 1
HERE = Path(__file__).resolve().parent


def write_csv(path: Path, rows: int, columns: int) -> None:
    """Seeded N(0, 1) numbers as "%.6f", with a header x0,...,y; written a block at a time."""
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write(",".join([*(f"x{j}" for j in range(columns - 1)), "y"]) + "\n")
        for start in range(0, rows, 100_000):
            block = io.StringIO()
            np.savetxt(block, rng.normal(size=(min(100_000, rows - start), columns)),
                       fmt="%.6f", delimiter=",")
            f.write(block.getvalue())


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(fn) -> tuple[float, float]:
    start, cpu = time.perf_counter(), _cpu_s()
    fn()
    return time.perf_counter() - start, _cpu_s() - cpu


def read_with_linreg(path: Path):
    from linreg.data.csvfile import read_csv

    return read_csv(str(path), None, None, ",", True, "float64")


def read_with_pandas(path: Path):
    import pandas

    return pandas.read_csv(path)


def _pairs(a, b, repeat: int, label: str) -> dict:
    """`a` and `b` timed in turn `repeat` times (after one untimed call of each)."""
    a(), b()
    runs = []
    for _ in range(repeat):
        runs.append((_timed(a), _timed(b)))
        print(f"  data: {label} {runs[-1][0][0]:.3f} s / {runs[-1][1][0]:.3f} s", file=sys.stderr)
    return {"a_s": [x[0] for x, _ in runs], "b_s": [y[0] for _, y in runs],
            "a_cpu_s": [x[1] for x, _ in runs], "b_cpu_s": [y[1] for _, y in runs],
            "ratio": statistics.median(x[0] / y[0] for x, y in runs),
            "ratio_of_min": min(x[0] for x, _ in runs) / min(y[0] for _, y in runs),
            "cpu_ratio": statistics.median(x[1] / y[1] for x, y in runs)}


def measure_load(path: Path, repeat: int) -> dict:
    runs = _pairs(lambda: read_with_linreg(path), lambda: read_with_pandas(path), repeat,
                  "linreg / pandas read")
    return {"linreg_s": runs["a_s"], "pandas_s": runs["b_s"], "linreg_cpu_s": runs["a_cpu_s"],
            "pandas_cpu_s": runs["b_cpu_s"], "ratio": runs["ratio"],
            "ratio_of_min": runs["ratio_of_min"], "cpu_ratio": runs["cpu_ratio"]}


def data_child(reader: str, path: str) -> None:
    """In a child process: import what `reader` (linreg, pandas) needs, read `path` with it
    unless it is "" (the baseline), and print this process's VmHWM."""
    if reader == "linreg":
        import pyarrow.csv  # noqa: F401  (imported by the reader itself, on its first call)

        import linreg.data.csvfile  # noqa: F401
    else:
        import pandas  # noqa: F401
    if path:
        (read_with_linreg if reader == "linreg" else read_with_pandas)(Path(path))
    status = Path("/proc/self/status").read_text()
    print(json.dumps({"peak_kib": int(next(line for line in status.splitlines()
                                           if line.startswith("VmHWM:")).split()[1])}))


def measure_memory(path: Path, rows: int, columns: int) -> dict:
    def peak_mib(reader: str, file: str) -> float:
        out = subprocess.run([sys.executable, str(HERE / "bench.py"), "--data-child", reader,
                              "--data-file", file],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["peak_kib"] / 1024

    arrays = rows * columns * 8 / 2**20
    result = {"arrays_mib": arrays}
    for reader in ("linreg", "pandas"):
        baseline, read = peak_mib(reader, ""), peak_mib(reader, str(path))
        result[reader] = {"baseline_mib": baseline, "read_mib": read,
                          "ratio": (read - baseline) / arrays}
    result["ratio"] = result["linreg"]["ratio"]
    return result


def measure_dtype(rows: int, features: int, repeat: int) -> dict:
    from bench_loops import LR, SEED, synthetic_data

    from linreg import loss, optim
    from linreg.data import Data
    from linreg.init import TutorialInit, initial_params
    from linreg.train import TrainConfig, train

    X32, y32 = synthetic_data(rows, features)
    X64, y64 = X32.double(), y32.double()
    threads = torch.get_num_threads()
    torch.set_num_threads(DTYPE_THREADS)

    def epoch(X, y) -> None:
        w, b = initial_params(TutorialInit(), features, SEED, X.dtype)
        opt = optim.build(optim.SCHEMAS["manual_sgd"](lr=LR), [w, b], DTYPE_BATCH)
        train(Data(X=X, y=y), w, b, loss.build(loss.MSEConfig()), opt,
              TrainConfig(epochs=1, batch_size=DTYPE_BATCH), SEED)

    try:
        runs = _pairs(lambda: epoch(X64, y64), lambda: epoch(X32, y32), repeat,
                      "float64 / float32 epoch")
    finally:
        torch.set_num_threads(threads)
    return {"rows": rows, "features": features, "batch": DTYPE_BATCH,
            "float64_s": runs["a_s"], "float32_s": runs["b_s"], "ratio": runs["ratio"],
            "ratio_of_min": runs["ratio_of_min"], "cpu_ratio": runs["cpu_ratio"],
            "threads": DTYPE_THREADS}


def measure_data(rows: int, columns: int, train_rows: int, features: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="linreg-bench-data-") as folder:
        path = Path(folder) / "data.csv"
        write_csv(path, rows, columns)
        result = {"rows": rows, "columns": columns, "file_mib": path.stat().st_size / 2**20,
                  "repeat": repeat}
        print(f"  data: {rows:,} x {columns} CSV written", file=sys.stderr)
        result["load"] = measure_load(path, repeat)
        result["memory"] = measure_memory(path, rows, columns)
    result["dtype"] = measure_dtype(train_rows, features, repeat)
    result["targets"] = [
        {"what": "load: linreg's reader / pandas.read_csv (median of pairs)",
         "limit": LOAD_LIMIT, "value": result["load"]["ratio"]},
        {"what": "peak memory of the read / float64 arrays", "limit": MEMORY_LIMIT,
         "value": result["memory"]["ratio"]},
        {"what": f"float64 / float32 training epoch, batch {DTYPE_BATCH}",
         "limit": DTYPE_LIMIT, "value": result["dtype"]["ratio"]}]
    for t in result["targets"]:
        t["met"] = t["value"] <= t["limit"]
    return result


def format_data(data: dict) -> list[str]:
    load, mem, dt = data["load"], data["memory"], data["dtype"]
    n = len(load["linreg_s"])
    lines = ["", f"Reading a CSV of {data['rows']:,} x {data['columns']} "
             f"({data['file_mib']:.0f} MiB), {n} runs each in turn: min / median wall "
             "seconds, median CPU seconds",
             f"  linreg read_csv (Arrow, float64)   {min(load['linreg_s']):.3f} / "
             f"{statistics.median(load['linreg_s']):.3f} s   cpu "
             f"{statistics.median(load['linreg_cpu_s']):.3f} s",
             f"  pandas.read_csv(path)              {min(load['pandas_s']):.3f} / "
             f"{statistics.median(load['pandas_s']):.3f} s   cpu "
             f"{statistics.median(load['pandas_cpu_s']):.3f} s",
             f"  ratio: median of pairs {load['ratio']:.2f}, of the minima "
             f"{load['ratio_of_min']:.2f}, of CPU {load['cpu_ratio']:.2f}",
             "Peak memory: VmHWM of a child that reads, less that of one that only imports; "
             f"the float64 arrays are {mem['arrays_mib']:.0f} MiB",
             *(f"  {name:<34} +{m['read_mib'] - m['baseline_mib']:.0f} MiB over "
               f"{m['baseline_mib']:.0f} MiB ({m['ratio']:.2f}x the arrays)"
               for name, m in (("linreg read_csv", mem["linreg"]),
                               ("pandas.read_csv(path)", mem["pandas"]))),
             f"One training epoch, {dt['rows']:,} x {dt['features']}, batch {dt['batch']}, "
             f"{dt['threads']} torch thread: "
             f"float64 {min(dt['float64_s']):.3f} s, float32 {min(dt['float32_s']):.3f} s "
             f"(minima); ratio: median of pairs {dt['ratio']:.2f}, of the minima "
             f"{dt['ratio_of_min']:.2f}, of CPU {dt['cpu_ratio']:.2f}",
             "", "Targets of issue 15"]
    for t in data["targets"]:
        lines.append(f"  {t['what']:<66} {t['value']:>7.3f} <= {t['limit']:<4} "
                     f"{'met' if t['met'] else 'NOT MET'}")
    return lines
