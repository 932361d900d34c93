"""The console: linreg's messages on stdout (warnings on stderr), which nobody may be
reading any more.

Decision: the console is optional. Once stdout is gone (`linreg | head -1` closed the pipe,
`linreg > /dev/full` has no room), linreg stops writing to it and finishes the run, which is
recorded as always (train.log, metrics.json, figures); the exit status is the run's own (0 for
a run that went well) and nothing is said about the lost console: no "--- Logging error ---"
per message, no "Exception ignored" at exit.

How: the console handlers of conf/hydra/job_logging/linreg.yaml and
conf/hydra/hydra_logging/linreg.yaml are `Console`. At its first failed write, it turns itself
off and points the stream's file descriptor at /dev/null (the recipe of Python's documentation
for a broken pipe), so that every later write there succeeds unseen: Hydra's, a sweep's
ranking (print), and Python's last flush of sys.stdout at exit, which `_flush_at_exit` makes
first, so that one failing there too (print keeps a short text in the buffer) is discarded
the same way.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
from typing import TextIO


class Console(logging.StreamHandler):
    """A StreamHandler that lets its stream go, silently, once a write to it fails."""

    gone = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.gone:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        # StreamHandler.emit calls this inside its `except`: the error is the one being handled
        if isinstance(sys.exc_info()[1], OSError):  # BrokenPipeError, ENOSPC, EIO
            self.gone = True
            discard(self.stream)
        else:  # a bad format string, say: a bug to be shown as logging shows it
            super().handleError(record)


class BelowWarning(logging.Filter):
    """The stdout console's filter: warnings and errors go to the stderr console instead
    (conf/hydra/job_logging/linreg.yaml), so `linreg > results.txt` still shows them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def say(text: str) -> None:
    """print(text) for a command's results (a sweep's ranking): quietly lost if stdout is
    gone, as the log's messages are."""
    try:
        print(text, flush=True)
    except OSError:
        discard(sys.stdout)
        with contextlib.suppress(OSError):  # now into /dev/null: empties the buffer
            sys.stdout.flush()


def discard(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at /dev/null: what is written to it is lost, quietly."""
    try:
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (AttributeError, OSError, ValueError):  # no descriptor (a test's capture), or closed
        return
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _flush_at_exit() -> None:
    """Flush sys.stdout before Python's own last flush, which would print "Exception ignored"
    (and make the exit status 120) if stdout has gone."""
    stdout = sys.stdout
    if stdout is None:
        return
    try:
        stdout.flush()
    except OSError:
        discard(stdout)
        with contextlib.suppress(OSError):  # now into /dev/null: empties the buffer
            stdout.flush()
    except ValueError:  # closed
        pass


# once per process that logs to the console (the command's, a joblib worker's): the logging
# config imports this module to find `Console`
atexit.register(_flush_at_exit)
