"""A stop asked by a signal (Ctrl-C, SIGTERM, SIGHUP): one object for the whole process.

cli.py's signal handler calls `STOP.ask`. Inside an `interruptible()` block (the training
loop's batches, reading a data file) the stop is raised there and then, as errors.Interrupted;
anywhere else it is only recorded, because an exception raised at a random point could break
an import under way (a C extension's) or a file half written. The code that writes a stopped
run's results reads `STOP.left` to keep within the time a stop allows (AFTER_STOP_S): a
scheduler sends SIGKILL some seconds after its SIGTERM.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from linreg.errors import Interrupted
from linreg.process.state import kept

AFTER_STOP_S = 1.0  # for a stopped run's figures; its metrics.json and events come first
SUMMARY_AFTER_STOP_S = 1.5  # for a stopped sweep's summary.png, drawn after its last job's


@dataclass
class StopRequest:
    signum: int | None = None  # the first signal that asked this process to stop
    at: float | None = None  # its time.monotonic()
    depth: int = 0  # > 0 inside interruptible()

    def ask(self, signum: int) -> None:
        """Record the stop; raise it at once inside an interruptible block."""
        if self.signum is None:
            self.signum, self.at = int(signum), time.monotonic()
        if self.depth:
            raise Interrupted(signum)

    def left(self, budget: float = AFTER_STOP_S) -> float | None:
        """Seconds left of `budget` since the stop; None when no stop was asked."""
        return None if self.at is None else budget - (time.monotonic() - self.at)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block that a stop may interrupt anywhere; a stop already asked raises at once."""
        if self.signum is not None:
            raise Interrupted(self.signum)
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    @contextmanager
    def held(self) -> Iterator[None]:
        """A block inside an interruptible one that a stop must not cut (an import of a C
        extension): a stop asked meanwhile is raised when it ends."""
        depth, self.depth = self.depth, 0
        try:
            yield
        finally:
            self.depth = depth
        if depth and self.signum is not None:
            raise Interrupted(self.signum)

    def reset(self) -> None:
        self.signum = self.at = None
        self.depth = 0


STOP = kept(StopRequest())  # this process's; reset for each command (process/state.py)
