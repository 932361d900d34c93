"""The bench's report (scripts/bench.py): the targets of issue 6 met or not, the machine, the
code's version, and the table printed."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import torch
from bench_loops import BATCHES, LOOPS

HERE = Path(__file__).resolve().parent


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
