"""What linreg writes into a run folder, and the rule that it removes only what it made.

A run's folder (hydra.run.dir, or a sweep's job folder) holds the names in RUN_FILES and
TensorBoard's events files. Before Hydra makes a folder, `LEDGER.claim` records what was
already there; when bad input or a fault ends a run that has no result, `LEDGER.discard`
removes what this process made and nothing else:
- a folder that did not exist: removed, with the parents this process made for it that are
  left empty (never the folder the parents started from, never the working directory);
- a folder that existed (`hydra.run.dir=.`, `hydra.run.dir=results`): only the entries of
  RUN_FILES that were not there before; the user's own files stay.
A folder that already holds a linreg result is refused before any work (`refuse_result`):
linreg never mixes two runs' files, nor writes over a result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from linreg.process.state import kept

METRICS_FILE = "metrics.json"
LOG_FILE = "train.log"
EVENTS_PREFIX = "events.out.tfevents."
# what a run writes into its folder (Hydra's record, linreg's log, results and figures)
RUN_FILES = (".hydra", LOG_FILE, METRICS_FILE, "fit.png", "loss.png", "trajectory.png",
             "path.json")
SWEEP_RUN = "sweep"  # a sweep's own TensorBoard run (its experiment, its figures)
# what a sweep writes into its own folder, beside the job folders
SWEEP_FILES = ("sweep.json", "multirun.yaml", "summary.csv", "summary.png",
               "summary_groups.csv", "paths.png", "paths.gif", SWEEP_RUN)


TMP_PREFIX = ".linreg-"  # a file being written, renamed to its name once whole


def is_output(name: str, names: tuple[str, ...] = RUN_FILES) -> bool:
    """Whether a file name is one linreg writes (a temporary file of its own included)."""
    return name in names or name.startswith((EVENTS_PREFIX, TMP_PREFIX))


@contextmanager
def written_whole(path: Path, mode: str = "w", staged_as: str | None = None,
                  **options: Any) -> Iterator[IO]:
    """A file to write `path` through: a temporary file beside it, renamed to `path` once
    closed, so that a reader (or a crash, or a full disk) sees the whole file or none.
    `staged_as`: the temporary file's name part, instead of `path`'s name (TensorBoard reads
    any file whose name holds "tfevents", a temporary one too)."""
    prefix = f"{TMP_PREFIX}{staged_as or path.name}-"
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    except OSError as exc:  # a missing folder, say: named by the file wanted, not the temporary
        exc.filename = str(path)
        raise
    try:
        with os.fdopen(fd, mode, **options) as f:
            yield f
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException as exc:  # an error, or Ctrl-C: no half-written file stays behind
        with contextlib.suppress(FileNotFoundError):  # already renamed when it struck
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename == tmp:
            exc.filename = str(path)
        raise


def outputs_in(folder: Path, names: tuple[str, ...] = RUN_FILES) -> list[str]:
    """The names in `folder` that a linreg run (or sweep, with SWEEP_FILES) writes."""
    try:
        return sorted(entry.name for entry in os.scandir(folder) if is_output(entry.name, names))
    except (FileNotFoundError, NotADirectoryError):
        return []


def refusal(folder: Path, found: list[str], what: str, key: str) -> str:
    """The one line for a folder that already holds a linreg run or sweep (`what`)."""
    shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
    return (f"{folder}: already holds a linreg {what} ({shown}); linreg never writes over "
            f"one: choose another folder with {key}=...")


@dataclass
class Claim:
    """A folder as it was before this process wrote into it."""

    folder: Path  # absolute
    cwd: Path  # the working directory then (Hydra may change it: hydra.job.chdir)
    existed: bool
    base: Path  # the nearest ancestor that existed: never removed
    before: frozenset[str] = frozenset()  # its entries, if it existed


@dataclass
class Ledger:
    """The folders this process has claimed, by absolute path."""

    claims: dict[Path, Claim] = field(default_factory=dict)
    run_folder: Path | None = None  # a single run's folder, claimed by config.ClaimRunFolder

    def claim(self, folder: str | Path) -> Claim:
        """Record `folder` as it is now, before anything is written into it."""
        cwd = Path.cwd()
        folder = Path(os.path.abspath(cwd / folder))
        if folder in self.claims:
            return self.claims[folder]
        base = folder
        while not base.exists() and base != base.parent:
            base = base.parent
        existed = base == folder
        before = frozenset(os.listdir(folder)) if existed and folder.is_dir() else frozenset()
        claim = self.claims[folder] = Claim(folder, cwd, existed, base, before)
        return claim

    def claim_job(self, folder: str | Path) -> None:
        """A sweep's job folder, which Hydra has just made inside a sweep folder claimed by
        this process: it is this process's own if the sweep folder did not hold it before."""
        folder = Path(os.path.abspath(folder))
        sweep = self.claims.get(folder.parent)
        if sweep is not None and folder.name not in sweep.before:
            self.claims[folder] = Claim(folder, sweep.cwd, existed=False, base=folder.parent)

    def discard(self, folder: str | Path) -> None:
        """Remove what this process made for `folder` (see the module's docstring)."""
        folder = Path(os.path.abspath(folder))
        claim = self.claims.pop(folder, None)
        if claim is None:
            return  # not claimed: not ours to remove
        if Path.cwd() != claim.cwd and (folder == Path.cwd() or folder in Path.cwd().parents):
            os.chdir(claim.cwd)  # hydra.job.chdir: leave the folder before removing it
        if claim.existed:
            for name in outputs_in(folder, RUN_FILES + SWEEP_FILES):
                if name not in claim.before:
                    remove(folder / name)
            return
        remove(folder)
        for parent in folder.parents:
            if parent == claim.base or parent in claim.cwd.parents or parent == claim.cwd:
                break
            try:
                parent.rmdir()
            except OSError:  # not empty: another run's folder is in it
                break

    def reset(self) -> None:
        self.claims.clear()
        self.run_folder = None


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):  # gone already, or never made (a path under a file)
            path.unlink()


LEDGER = kept(Ledger())  # this process's claims; reset for each command (process/state.py)

