"""Benchmark for issue 6: linreg against the course tutorial, measured side by side in one run.

A benchmark, not a test. It prints one table (times and ratios, the machine, the targets of
issue 6 marked met / not met) and writes the same numbers as JSON. Three sections:

  loops    training loops on the same data, hyperparameters (lr 0.01, w = 0.5, b = 0, MSE)
           and epochs: the tutorial's data (120 x 1, 50 epochs) and synthetic 1,000,000 x 20
           (one epoch), at batch 16, 256, 4096 and the full batch;
  process  whole-process wall time of `python -m linreg` against the tutorial's program
           (scripts/tutorial_program.py), each in a fresh temporary working directory, and a
           12-job sequential sweep `linreg -m seed=0,...,11` against one run;
  memory   peak RSS (VmHWM, see `child`) of a child that trains linreg on 1,000,000 x 20,
           batch 256, one epoch, against a child that only imports torch and linreg.

Loop times exclude one-off import costs: everything (torch.optim's first step included) is
warmed up before the first timed run; whole-process times are where start-up is measured.
A cell is timed again while its runs add up to less than --budget seconds; the median counts.

    python scripts/bench.py                 # everything, several minutes
    python scripts/bench.py --quick         # skips the slowest 1M-row cells (listed in QUICK_SKIP)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from linreg import loss
from linreg import optim as optimizer
from linreg.data import Data
from linreg.init import TutorialInit, initial_params
from linreg.model import least_squares
from linreg.train import TrainConfig, train

HERE = Path(__file__).resolve().parent
TUTORIAL_PROGRAM = HERE / "tutorial_program.py"
LR, SEED = 0.01, 0
BATCHES = (16, 256, 4096, "full")
# (loop, batch) cells on the large data that --quick skips: each takes 10-25 s here
QUICK_SKIP = {("tutorial", 16), ("dataloader", 16), ("dataloader", 4096),
              ("dataloader", "full"), ("sklearn", 16)}
MEMORY_BATCH = 256
Loop = Callable[[torch.Tensor, torch.Tensor, int, int], tuple[torch.Tensor, torch.Tensor]]


class BenchError(Exception):
    pass


# ---- data ---------------------------------------------------------------------------------

def tutorial_data() -> tuple[torch.Tensor, torch.Tensor]:
    from tutorial_program import create_dataset

    x, y, _ = create_dataset()
    return x, y


def synthetic_data(rows: int, features: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded float32 data from torch itself: X ~ N(0, 1), y = X @ w + 3 + N(0, 0.5^2)."""
    g = torch.Generator().manual_seed(SEED)
    X = torch.randn(rows, features, generator=g)
    w = torch.randn(features, 1, generator=g)
    return X, X @ w + 3.0 + 0.5 * torch.randn(rows, 1, generator=g)


# ---- the training loops; each returns the trained w (d, 1) and b (1,) -----------------------

def _tutorial_params(d: int):
    # the tutorial's scalar parameters and model w * x + b; with several features w is (d, 1)
    w = torch.full((d, 1) if d > 1 else (), 0.5, requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)

    def linear_regression(x: torch.Tensor) -> torch.Tensor:
        return x @ w + b if d > 1 else w * x + b

    return w, b, linear_regression


def _tutorial_epochs(batches: Callable, X, y, epochs: int):
    """The tutorial's train(): autograd, torch.optim.SGD, one .item() per step."""
    from tutorial_program import square_loss

    w, b, linear_regression = _tutorial_params(X.shape[1])
    opt = torch.optim.SGD([w, b], lr=LR)
    epoch_loss, sink = [], open(os.devnull, "w")  # noqa: SIM115  (the tutorial prints per epoch)
    for epoch in range(epochs):
        total_loss = 0.0
        for batch_x, batch_y in batches():
            loss_ = square_loss(linear_regression(batch_x), batch_y)
            total_loss += loss_.item()
            opt.zero_grad()
            loss_.backward()
            opt.step()
        epoch_loss.append(total_loss / len(y))
        print(f"epoch {epoch + 1}, mean loss: {epoch_loss[-1]:.4f}", file=sink)
    sink.close()
    return w.detach().reshape(-1, 1), b.detach().reshape(1)


def tutorial_loop(X, y, batch: int, epochs: int):
    """(a) The tutorial's own data_loader: list(range(n)), random.shuffle, x[list]."""
    from tutorial_program import data_loader

    random.seed(SEED)  # the tutorial leaves it unseeded; seeding costs nothing per step
    return _tutorial_epochs(lambda: data_loader(X, y, batch), X, y, epochs)


def dataloader_loop(X, y, batch: int, epochs: int):
    """(b) The tutorial's loop with torch's DataLoader over a TensorDataset instead."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(SEED))
    return _tutorial_epochs(lambda: loader, X, y, epochs)


def linreg_loop(optimizer_name: str) -> Loop:
    """(c) linreg.train.train through the public builders, as linreg.run calls it."""
    def loop(X, y, batch: int, epochs: int):
        data = Data(X=X, y=y)
        w, b = initial_params(TutorialInit(), data.n_features, SEED)
        opt = optimizer.build(optimizer.SCHEMAS[optimizer_name](lr=LR), [w, b], batch)
        train(data, w, b, loss.build(loss.MSEConfig()), opt,
              TrainConfig(epochs=epochs, batch_size=batch), SEED)
        return w, b

    return loop


def sklearn_loop(X, y, batch: int, epochs: int):
    """(d) SGDRegressor, one epoch = partial_fit over the batches of a seeded permutation.

    scikit-learn's SGD is per-sample (eta0 = lr, constant): the batch only sets how many rows
    each partial_fit call gets. It starts from zeros (partial_fit takes no initial values).
    """
    from sklearn.linear_model import SGDRegressor

    Xn, yn = X.numpy(), y.numpy().reshape(-1)
    model = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant",
                         eta0=LR, shuffle=False)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        order = torch.randperm(len(yn), generator=g).numpy()
        Xe, ye = Xn[order], yn[order]
        for i in range(len(yn) // batch):
            model.partial_fit(Xe[i * batch:(i + 1) * batch], ye[i * batch:(i + 1) * batch])
    return (torch.tensor(model.coef_, dtype=torch.float32).reshape(-1, 1),
            torch.tensor(model.intercept_, dtype=torch.float32).reshape(1))


def closed_form(X, y, batch: int, epochs: int):
    """(e) linreg.model.least_squares (float64 lstsq); batch and epochs play no part."""
    fit = least_squares(X, y)
    return fit.w, fit.b


def floor_loop(X, y, batch: int, epochs: int):
    """(f) The floor: seeded randperm, gather into a preallocated buffer, contiguous slices,
    analytic MSE gradient, in-place update. No loss bookkeeping, no per-epoch evaluation."""
    n, d = X.shape
    g = torch.Generator().manual_seed(SEED)
    w, b = torch.full((d, 1), 0.5), torch.zeros(1)
    X_epoch, y_epoch = torch.empty_like(X), torch.empty_like(y)
    r, grad_w, grad_b = torch.empty(batch, 1), torch.empty(d, 1), torch.empty(1)
    step = -LR * 2.0 / batch
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        torch.index_select(X, 0, order, out=X_epoch)
        torch.index_select(y, 0, order, out=y_epoch)
        for i in range(n // batch):
            xb, yb = X_epoch[i * batch:(i + 1) * batch], y_epoch[i * batch:(i + 1) * batch]
            torch.addmm(b, xb, w, out=r).sub_(yb)
            torch.mm(xb.T, r, out=grad_w)
            torch.sum(r, dim=0, out=grad_b)
            w.add_(grad_w, alpha=step)
            b.add_(grad_b, alpha=step)
    return w, b


LOOPS: dict[str, tuple[str, Loop]] = {
    "tutorial": ("(a) tutorial: list shuffle, x[list], autograd", tutorial_loop),
    "dataloader": ("(b) DataLoader(TensorDataset), autograd", dataloader_loop),
    "linreg_manual_sgd": ("(c) linreg train, manual_sgd (default)", linreg_loop("manual_sgd")),
    "linreg_torch_sgd": ("(c) linreg train, torch_sgd", linreg_loop("torch_sgd")),
    "sklearn": ("(d) sklearn SGDRegressor.partial_fit", sklearn_loop),
    "closed_form": ("(e) closed form, least_squares", closed_form),
    "floor": ("(f) floor: gather, slices, analytic grad", floor_loop),
}


# ---- section: loops -----------------------------------------------------------------------

def warm_up() -> None:
    """Pay every one-off import before timing (torch.optim's first step imports torch._dynamo)."""
    import sklearn.linear_model  # noqa: F401
    import tutorial_program  # noqa: F401  (sklearn.datasets, matplotlib)

    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.step()


def timed(fn: Callable, budget: float) -> tuple[float, int, object]:
    times, result = [], None
    while not times or (sum(times) < budget and len(times) < 20):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times), result


def measure_loops(name: str, X, y, epochs: int, quick: bool, budget: float) -> dict:
    n = X.shape[0]
    cells: dict[str, dict[str, dict]] = {key: {} for key in LOOPS}
    for batch in BATCHES:
        size = n if batch == "full" else batch
        for key, (_, loop) in LOOPS.items():
            if key == "closed_form" and batch != "full":
                cell = {"skipped": "batch-independent: see the full column"}
            elif size > n:
                cell = {"skipped": f"batch {size} > {n} rows"}
            elif quick and n >= 100_000 and (key, batch) in QUICK_SKIP:
                cell = {"skipped": "--quick"}
            else:
                seconds, runs, (w, b) = timed(lambda lp=loop, s=size: lp(X, y, s, epochs), budget)
                mse = float(((X @ w + b - y) ** 2).mean())
                cell = {"s": seconds, "runs": runs, "mse": mse,
                        "w": w.reshape(-1).tolist(), "b": float(b)}
            cells[key][str(batch)] = cell
            if "s" in cell:
                print(f"  {name} {key} batch {batch}: {cell['s']:.4f} s", file=sys.stderr)
    return {"rows": n, "features": X.shape[1], "epochs": epochs, "lr": LR, "cells": cells}


# ---- section: whole process ---------------------------------------------------------------

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
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--rows", str(rows),
                              "--features", str(features)],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])["peak_kib"] / 1024

    baseline, trained = peak_mib("baseline"), peak_mib("train")
    dataset = rows * (features + 1) * 4 / 2**20
    return {"rows": rows, "features": features, "batch": MEMORY_BATCH,
            "baseline_mib": baseline, "train_mib": trained, "dataset_mib": dataset,
            "limit_mib": baseline + 2 * dataset}


# ---- targets, machine, table ---------------------------------------------------------------

def _cell_s(loops: dict | None, key: str, batch) -> float | None:
    return (loops or {}).get("cells", {}).get(key, {}).get(str(batch), {}).get("s")


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(result: dict) -> list[dict]:
    big, proc, mem = result.get("large"), result.get("process"), result.get("memory")
    size = f"{big['rows']:,} x {big['features']}" if big else "1,000,000 x 20"
    linreg_256 = _cell_s(big, "linreg_manual_sgd", 256)
    sweep = (proc or {}).get("sweep", {})
    rows = [
        ("1", "default linreg run / tutorial program, whole process", 0.5,
         (proc or {}).get("ratio")),
        ("2", f"{sweep.get('jobs', 12)}-job sweep / one linreg run, whole process", 2.5,
         sweep.get("ratio_to_one_run")),
        ("3a", f"linreg / tutorial loop, {size}, batch 256", 0.1,
         _ratio(linreg_256, _cell_s(big, "tutorial", 256))),
        ("3b", f"linreg / floor, {size}, batch 256", 1.5,
         _ratio(linreg_256, _cell_s(big, "floor", 256))),
        ("3c", f"linreg / floor, {size}, full batch (one step)", 2.0,
         _ratio(_cell_s(big, "linreg_manual_sgd", "full"), _cell_s(big, "floor", "full"))),
        ("4", "peak RSS / (import baseline + 2 x dataset), batch 256", 1.0,
         _ratio((mem or {}).get("train_mib"), (mem or {}).get("limit_mib"))),
    ]
    return [{"target": t, "what": what, "limit": limit, "value": value,
             "met": None if value is None else value <= limit}
            for t, what, limit, value in rows]


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "python": platform.python_version(),
            "load_avg_start": os.getloadavg()[0]}


def code_version() -> str:
    """The commit measured, with "+dirty" when linreg/ or conf/ has uncommitted changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True,
                              text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "linreg", "conf") else "")


def _row(label: str, value: str, note: str = "") -> str:
    return f"  {label:<50}{value:>14}   {note}".rstrip()


def format_table(result: dict) -> str:
    m = result["machine"]
    lines = [f"linreg bench, {result['date']}, code {result['code']}: {result['command']}",
             f"machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['threads']} "
             f"threads), python {m['python']}, load average {m['load_avg_start']:.2f} at start"]
    for section in ("tutorial", "large"):
        loops = result.get(section)
        if not loops:
            continue
        n = loops["rows"]
        lines += ["", f"Training loops on {n:,} x {loops['features']}, {loops['epochs']} "
                  f"epoch(s), lr {loops['lr']}: seconds per training run (x floor)",
                  f"  {'loop':<46}" + "".join(f"{'batch ' + str(b if b != 'full' else n):>21}"
                                              for b in BATCHES)]
        for key, (label, _) in LOOPS.items():
            row = f"  {label:<46}"
            for batch in BATCHES:
                cell = loops["cells"][key][str(batch)]
                floor = _cell_s(loops, "floor", batch)
                if "s" in cell:
                    ratio = f" ({cell['s'] / floor:.3g}x)" if floor else ""
                    row += f"{cell['s']:.3g} s{ratio}".rjust(21)
                else:
                    row += ("-" if cell["skipped"].startswith("batch") else "skipped").rjust(21)
            lines.append(row)
    proc = result.get("process")
    if proc:
        sweep = proc["sweep"]
        lines += ["", f"Whole process, median of {len(proc['linreg_s'])} (fresh temp cwd each):"
                  " wall seconds, and CPU seconds (user + sys) as the load-robust cross-check",
                  _row("tutorial program (scripts/tutorial_program.py)",
                       f"{proc['tutorial_median_s']:.2f} s",
                       f"cpu {proc['tutorial_median_cpu_s']:.2f} s"),
                  _row("linreg default run (python -m linreg)", f"{proc['linreg_median_s']:.2f} s",
                       f"cpu {proc['linreg_median_cpu_s']:.2f} s   ratio to tutorial: wall "
                       f"{proc['ratio']:.2f} (median of pairs), cpu {proc['cpu_ratio']:.2f}")]
        label = f"{sweep['jobs']}-job sweep (linreg -m seed=0..{sweep['jobs'] - 1})"
        if sweep["measured"]:
            lines.append(_row(label, f"{sweep['median_s']:.2f} s",
                              f"cpu {sweep['median_cpu_s']:.2f} s   ratio to one run: wall "
                              f"{sweep['ratio_to_one_run']:.2f}, "
                              f"cpu {sweep['cpu_ratio_to_one_run']:.2f}"))
        else:
            lines.append(_row(label, "not measured", sweep["reason"]))
    mem = result.get("memory")
    if mem:
        lines += ["", f"Peak memory (VmHWM of a child), {mem['rows']:,} x {mem['features']}",
                  _row("import torch + linreg only", f"{mem['baseline_mib']:.0f} MiB"),
                  _row("dataset, float32 X and y", f"{mem['dataset_mib']:.1f} MiB"),
                  _row(f"linreg train, batch {mem['batch']}, one epoch",
                       f"{mem['train_mib']:.0f} MiB",
                       f"limit (baseline + 2 x dataset) {mem['limit_mib']:.0f} MiB")]
    lines += ["", "Targets of issue 6"]
    for t in result["targets"]:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[t["met"]]
        value = "-" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"  {t['target']:<3} {t['what']:<62} {value:>7} <= {t['limit']:<4} "
                     f"{verdict}")
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------------

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
    parser.add_argument("--sections", default="loops,process,memory",
                        help="comma-separated subset of loops,process,memory")
    parser.add_argument("--child", choices=["baseline", "train"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.rows, args.features)
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
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    result["machine"]["load_avg_end"] = os.getloadavg()[0]
    result["targets"] = targets(result)
    print(format_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
