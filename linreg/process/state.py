"""What this process keeps between runs: one object per subsystem, and the one reset.

Each subsystem keeps its process-wide state in one object, made at its module's import and
registered here with `kept`:

    STOP     process/stopping.py   the stop asked by a signal
    LEDGER   outputs.py            the folders this process claimed, to remove only its own
    DRAWER   figures/drawing.py    the drawing process and the requests it has not answered
    SWEEP    sweeps/callback.py    the sweep under way, its failure, the folders it made
    CACHE    runner.py             the previous run's data and least-squares fit
    COMMAND  cli.py                the run under way, for the signal handler

`reset()` readies every one of them for a new command or call: cli.main calls it first, and
so will an API that runs runs in one process. A subsystem not imported yet has nothing to
reset (its object is made fresh when it is), so this module imports none of them.
"""

from __future__ import annotations

from typing import Protocol, TypeVar


class Resettable(Protocol):
    def reset(self) -> None: ...


T = TypeVar("T", bound=Resettable)

KEPT: list[Resettable] = []  # in the order their modules were imported


def kept(state: T) -> T:
    """Register a subsystem's state object, to be reset with the others; returns it."""
    KEPT.append(state)
    return state


def reset() -> None:
    """Forget what an earlier command or call in this process left, in every subsystem."""
    for state in KEPT:
        state.reset()
