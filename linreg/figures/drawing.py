"""The figures (a run's, and a sweep's summary.png), drawn by a second process started at
launch, or else by this one; then the run's metrics.json, last.

Importing matplotlib and drawing three figures takes about as long as importing torch. So
`linreg` starts a drawing process first thing (cli.main; figures/drawing_process.py): it
imports matplotlib, draws a throwaway figure of each kind and forks a helper (which draws
each run's slowest figure beside it) while the run imports torch and trains. The run then
sends it its pictures (plain numbers, figures/pictures.py) and its metrics; the process draws
the figures, then writes metrics.json, so a complete metrics.json still means a complete run.
A single run waits for that. A sweep's job does not: the process draws it while the next job
runs, and that job reads the reply before sending its own. Without that process (a test
calling run(), a sweep job in a joblib or submitit worker, a process that died) the figures
are drawn here, by the same functions.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import os
import pickle
import select
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from linreg.figures.requests import REPLY_LENGTH, Picture, RemoteError, draw_all, draw_and_write
from linreg.process.state import kept
from linreg.process.stopping import AFTER_STOP_S, STOP
from linreg.records import metrics

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 60  # at exit, for it to finish what it was sent
HANG_S = 60  # a drawing process that takes nor gives a byte for this long is taken for hung



class _Late(Exception):
    """The drawing process did not answer in time: the stop's budget, or HANG_S, ran out."""


@dataclass
class DrawingProcess:
    """This process's drawing process, and the requests it has not answered yet."""

    popen: subprocess.Popen | None = None
    pending: collections.deque = field(default_factory=collections.deque)  # sent, unread
    sent_any: bool = False  # at exit, a process that has drawn nothing is not waited for
    after_stop_s: float = AFTER_STOP_S  # the figures' time after a stop, for the request sent

    def reset(self) -> None:
        """A new command: the figures' default time after a stop. The process itself stays: it
        serves every command of this process, and ends at exit (`stop`)."""
        self.after_stop_s = AFTER_STOP_S


DRAWER = kept(DrawingProcess())  # reset for each command (process/state.py)


def start() -> None:
    """Start the drawing process, once; without one, figures are drawn in this process."""
    if DRAWER.popen is not None:
        return
    from linreg.figures import mplconfig

    # before the environment is copied: this process and any it starts (the drawing process, a
    # joblib worker) then find a writable matplotlib folder, even with HOME=/dev/null
    mplconfig.ensure_writable()
    # one BLAS thread: it forks (below), which threads make unsafe; and no module from the
    # working folder: it must import what the `linreg` command imports
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONSAFEPATH": "1"}
    try:
        # its own session: a Ctrl-C at the terminal stops the run, which still wants figures
        DRAWER.popen = subprocess.Popen([sys.executable, "-m", "linreg.figures.drawing_process"],
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        start_new_session=True)
    except OSError as exc:
        log.debug("no drawing process (%s); figures are drawn in this one", exc)
        return
    os.set_blocking(DRAWER.popen.stdin.fileno(), False)  # writes wait in _wait, not in write()
    atexit.register(stop)


def stop(wait: bool = True) -> None:
    """End the drawing process and its helper. `wait`: once it has drawn what it was
    sent (and written those metrics.json); False in a signal handler, which must not wait on
    what the interrupted code may be waiting on, and after a stop (Ctrl-C, SIGTERM)."""
    process, DRAWER.popen = DRAWER.popen, None
    unread = bool(DRAWER.pending)  # else it is idle: every reply has been read
    DRAWER.pending.clear()
    if process is None:
        return
    if wait and DRAWER.sent_any and STOP.signum is None:
        # ended, rather than killed, so that its CPU time is counted
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            os.set_blocking(process.stdin.fileno(), True)
            process.stdin.close()  # it ends when it reads the end of its input
            process.wait(timeout=STOP_TIMEOUT_S if unread else 5)
    # whatever is left of its group (it and its helper); SIGKILL ends a stopped process too
    with contextlib.suppress(ProcessLookupError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    if wait:
        process.wait()
        with contextlib.suppress(OSError):
            process.stdin.close()
        process.stdout.close()


def _forget() -> None:
    DRAWER.popen = None  # a forked child (a multiprocessing worker) draws its own figures
    DRAWER.pending.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def draw(run_dir: Path, pictures: dict[str, Picture], lang: str,
         then_write: dict | None = None, wait: bool = True,
         after_stop_s: float = AFTER_STOP_S) -> None:
    """Draw `pictures` ({file name: picture}) into `run_dir`, then write `then_write` (a run's
    metrics) as its metrics.json.

    `wait`: return once done, raising what drawing raised (metrics.json is then not written).
    Otherwise, with a drawing process, return at once: if drawing fails, the process writes
    the failure as the run's metrics.json (status "failed"), and `finish` says so.
    After a stop (Ctrl-C, SIGTERM), figures get what is left of `after_stop_s` since the
    stop; those not drawn by then are skipped, and metrics.json is written all the same."""
    finish()  # the reply to the request before: one at a time in the pipe, read in order
    DRAWER.after_stop_s = after_stop_s
    request = (str(run_dir), pictures, lang, then_write, not wait)
    if DRAWER.popen is not None:
        try:
            _send(pickle.dumps(request))  # whole, before any byte is sent
        except _Late:
            _give_up([request])
            return
        except OSError:  # it has died: draw here
            stop(wait=False)
        else:
            DRAWER.sent_any = True
            DRAWER.pending.append(request)
            if wait:
                finish()
            return
    draw_and_write(*request, draw_pictures=_draw_here)


def finish() -> None:
    """Read the replies to the requests sent: a waiting run's failure is raised, another's
    said (its metrics.json already records it)."""
    while DRAWER.pending:
        request = DRAWER.pending[0]
        run_dir, *_, recorded = request
        try:
            ok, said = _receive()
        except _Late:
            _give_up(list(DRAWER.pending))
            return
        except (EOFError, OSError, pickle.UnpicklingError):  # it died while drawing: draw here
            left = list(DRAWER.pending)
            stop(wait=False)
            for request in left:
                try:
                    draw_and_write(*request, draw_pictures=_draw_here)
                except Exception as exc:
                    if not request[-1]:
                        raise
                    _say_failed(request[0], exc)
            return
        except BaseException:  # a reply left unread would answer the next request
            stop(wait=False)
            raise
        DRAWER.pending.popleft()
        if ok:
            for name, level, message in said:  # its log records (a missing CJK font)
                logging.getLogger(name).log(level, message)
        elif not recorded:  # the run waits for it
            error, remote = said
            raise error from RemoteError(remote)
        else:
            _say_failed(run_dir, said[0])


def _wait(fd: int, writing: bool) -> None:
    """Until `fd` can be read (or written); _Late once a stop's figure budget, or HANG_S of
    silence, has passed. A stopped (SIGSTOP) or hung drawing process holds no run hostage."""
    waited = 0.0
    while True:
        left = STOP.left(DRAWER.after_stop_s)
        if (left is not None and left <= 0) or waited >= HANG_S:
            raise _Late
        step = min(0.1, left) if left is not None else 0.1
        ready = select.select([] if writing else [fd], [fd] if writing else [], [], step)
        if ready[0] or ready[1]:
            return
        waited += step


def _send(data: bytes) -> None:
    fd, view = DRAWER.popen.stdin.fileno(), memoryview(data)
    while view:
        _wait(fd, writing=True)
        with contextlib.suppress(BlockingIOError):
            view = view[os.write(fd, view):]


def _read(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        _wait(fd, writing=False)
        chunk = os.read(fd, n - len(data))
        if not chunk:
            raise EOFError("the drawing process has ended")
        data += chunk
    return data


def _receive() -> tuple:
    """The next reply, (ok, said), read from the pipe itself (no buffer hides a byte from
    select)."""
    fd = DRAWER.popen.stdout.fileno()
    (length,) = REPLY_LENGTH.unpack(_read(fd, REPLY_LENGTH.size))
    return pickle.loads(_read(fd, length))


def _give_up(requests: list[tuple]) -> None:
    """The drawing process did not answer in time: end it, and write each request's
    metrics.json here, with the figures it finished (each is written whole, or not at all)."""
    hung = STOP.signum is None
    stop(wait=False)
    for run_dir, pictures, lang, then_write, _ in requests:
        if hung:  # no stop under way: there is time to draw here
            draw_and_write(run_dir, pictures, lang, then_write, record_failure=True,
                           draw_pictures=_draw_here)
            continue
        # part of the record after a stop, not a warning: the stop's one line is on stderr
        log.info("figures not drawn in %s: the stop left no time for them", run_dir)
        if then_write is not None:
            metrics.write(Path(run_dir), then_write)


def _draw_here(run_dir: Path, pictures: dict[str, Picture], lang: str) -> None:
    """The figures of a request, drawn in this process, within the stop's budget for them."""
    draw_all(run_dir, pictures, lang, DRAWER.after_stop_s)


def _say_failed(run_dir: str, error: BaseException) -> None:
    log.info("job failed: %s (%s)", metrics.failure_reason(error), run_dir)  # a result


