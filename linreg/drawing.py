"""The figures (a run's, and a sweep's summary.png), drawn by a second process started at
launch, or else by this one; then the run's metrics.json, last.

Importing matplotlib and drawing three figures takes about as long as importing torch. So
`linreg` starts a drawing process first thing (cli.main): it imports matplotlib, draws a
throwaway figure of each kind and forks a helper (which draws each run's slowest figure
beside it) while the run imports torch and trains. The run then sends it
its pictures (plain numbers, linreg/pictures.py) and its metrics; the process draws the
figures, then writes metrics.json, so a complete metrics.json still means a complete run. A
single run waits for that. A sweep's job does not: the process draws it while the next job
runs, and that job reads the reply before sending its own. Without that process (a test
calling run(), a sweep job in a joblib or submitit worker, a process that died) the figures
are drawn here, by the same functions.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import io
import logging
import os
import pickle
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np

from linreg import metrics, plots, summary_figure, trajectory

Picture = (plots.LineFit | plots.PredictedFit | plots.LossCurves | trajectory.PathPicture
           | summary_figure.SummaryPicture)

log = logging.getLogger(__name__)

_process: subprocess.Popen | None = None
_pending: collections.deque[tuple] = collections.deque()  # requests sent, reply not yet read
# in the drawing process: its helper (pid, requests to it, replies from it), _start_helper
_helper: tuple[int, BinaryIO, BinaryIO] | None = None
STOP_TIMEOUT_S = 60  # at exit, for it to finish what it was sent


def start() -> None:
    """Start the drawing process, once; without one, figures are drawn in this process."""
    global _process
    if _process is not None:
        return
    # one BLAS thread: it forks (below), which threads make unsafe; and no module from the
    # working folder: it must import what the `linreg` command imports
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONSAFEPATH": "1"}
    try:
        # its own session: a Ctrl-C at the terminal stops the run, which still wants figures
        _process = subprocess.Popen([sys.executable, "-m", "linreg.drawing"], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    start_new_session=True)
    except OSError as exc:
        log.debug("no drawing process (%s); figures are drawn in this one", exc)
        return
    atexit.register(stop)


def stop(wait: bool = True) -> None:
    """End the drawing process and its helper. `wait`: once it has drawn what it was
    sent (and written those metrics.json); False in a signal handler, which must not wait on
    what the interrupted code may be waiting on."""
    global _process
    process, _process = _process, None
    unread = bool(_pending)  # else it is idle: every reply has been read
    _pending.clear()
    if process is None:
        return
    if wait:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.stdin.close()  # it ends when it reads the end of its input
            process.wait(timeout=STOP_TIMEOUT_S if unread else 5)
    # whatever is left of its group (it and its helper)
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
    global _process
    _process = None  # a forked child (a multiprocessing worker) draws its own figures
    _pending.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def draw(run_dir: Path, pictures: dict[str, Picture], lang: str,
         then_write: dict | None = None, wait: bool = True) -> None:
    """Draw `pictures` ({file name: picture}) into `run_dir`, then write `then_write` (a run's
    metrics) as its metrics.json.

    `wait`: return once done, raising what drawing raised (metrics.json is then not written).
    Otherwise, with a drawing process, return at once: if drawing fails, the process writes
    the failure as the run's metrics.json (status "failed"), and `finish` says so."""
    finish()  # the reply to the request before: one at a time in the pipe, read in order
    request = (str(run_dir), pictures, lang, then_write, not wait)
    process = _process
    if process is not None:
        sent = pickle.dumps(request)  # whole, before any byte is sent
        try:
            process.stdin.write(sent)
            process.stdin.flush()
        except OSError:  # it has died: draw here
            stop(wait=False)
        else:
            _pending.append(request)
            if wait:
                finish()
            return
    _draw_and_write(*request)


def finish() -> None:
    """Read the replies to the requests sent: a waiting run's failure is raised, another's
    said (its metrics.json already records it)."""
    while _pending:
        request = _pending.popleft()
        run_dir, *_, recorded = request
        try:
            ok, said = pickle.load(_process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):  # it died while drawing: draw here
            left = [request, *_pending]
            stop(wait=False)
            for request in left:
                try:
                    _draw_and_write(*request)
                except Exception as exc:
                    if not request[-1]:
                        raise
                    _say_failed(request[0], exc)
            return
        except BaseException:  # a reply left unread would answer the next request
            stop(wait=False)
            raise
        if ok:
            for name, level, message in said:  # its log records (a missing CJK font)
                logging.getLogger(name).log(level, message)
        elif not recorded:  # the run waits for it
            error, remote = said
            raise error from RemoteError(remote)
        else:
            _say_failed(run_dir, said[0])


def _say_failed(run_dir: str, error: BaseException) -> None:
    log.error("job failed: %s (%s)", metrics.failure_reason(error), run_dir)


class RemoteError(Exception):
    """The traceback of an error in the drawing process, as the cause of the error raised."""


def draw_all(run_dir: Path, pictures: dict[str, Picture], lang: str) -> None:
    """Draw every picture into run_dir, here."""
    for name, picture in pictures.items():
        _draw(Path(run_dir) / name, picture, lang)


def _draw_and_write(run_dir: str, pictures: dict[str, Picture], lang: str,
                    then_write: dict | None, record_failure: bool, in_two: bool = False) -> None:
    """A request, done here: the figures, then metrics.json; a failure is raised, after being
    written as the run's metrics.json if `record_failure`."""
    try:
        (_draw_in_two if in_two else draw_all)(Path(run_dir), pictures, lang)
        if then_write is not None:
            metrics.write(Path(run_dir), then_write)
    except Exception as exc:
        if record_failure and then_write is not None:
            with contextlib.suppress(Exception):  # the folder itself may be what failed
                metrics.write(Path(run_dir), metrics.failure(exc, then_write["wall_s"]))
        raise


def _draw(target: Path | io.BytesIO, picture: Picture, lang: str) -> None:
    if isinstance(picture, plots.LossCurves):
        plots.draw_loss(target, picture, lang)
    elif isinstance(picture, trajectory.PathPicture):
        trajectory.draw_trajectory(target, picture, lang)
    elif isinstance(picture, summary_figure.SummaryPicture):
        summary_figure.draw(target, picture)
    else:
        plots.draw_fit(target, picture, lang)


def _warm_up() -> None:
    """Draw one small figure of each kind into memory: the imports, fonts and caches that
    the first real figure would otherwise wait for."""
    x = np.linspace(0.0, 1.0, 5)
    axis = np.linspace(-1.0, 1.0, 5)
    for picture in (plots.LineFit(x=x, y=x, ols=(1.0, 0.0), fit=(1.0, 0.0)),
                    plots.PredictedFit(y=x, ols_pred=x, fit_pred=x, n_features=2),
                    plots.LossCurves([2.0, 1.0], [2.0, 1.0], 1.0, "mse"),
                    trajectory.PathPicture(w_axis=axis, b_axis=axis,
                                           loss=np.add.outer(axis, axis) ** 2, loss_name="mse",
                                           route=[(0.5, 0.5), (0.0, 0.0)], steps_per_epoch=1,
                                           ols=(0.0, 0.0))):
        _draw(io.BytesIO(), picture, "en")


def _draw_in_two(run_dir: Path, pictures: dict[str, Picture], lang: str) -> None:
    """The last picture (the trajectory, the slowest) by the helper and the others here: the
    run waits for its figures on an otherwise idle core."""
    global _helper
    *others, (name, last) = pictures.items()
    if not others or _helper is None:
        draw_all(run_dir, pictures, lang)
        return
    _, to_helper, from_helper = _helper
    try:
        pickle.dump((str(run_dir / name), last, lang), to_helper)
        to_helper.flush()
    except OSError:  # it has died
        _helper = None
        draw_all(run_dir, pictures, lang)
        return
    try:
        draw_all(run_dir, dict(others), lang)
    finally:  # its reply is read even so: the next request must not find it
        try:
            failure = pickle.load(from_helper)
        except (EOFError, OSError, pickle.UnpicklingError):  # it died drawing: draw it here
            _helper = failure = None
            _draw(run_dir / name, last, lang)
    if failure is not None:
        error, remote = failure
        raise error from RemoteError(remote)


def _start_helper(not_its: tuple[int, ...]) -> None:
    """Fork the helper: a copy of this warmed-up process that draws one picture of each
    request while this one draws the others. Forked once, not per request: each new copy
    would pay again for the memory it touches (about 0.03 s a run). `not_its`: this process's
    pipes to the run, closed in the helper, so that the run sees them end with this process."""
    global _helper
    if not hasattr(os, "fork"):
        return
    requests_in, requests_out = os.pipe()
    replies_in, replies_out = os.pipe()
    pid = os.fork()
    if pid == 0:
        for fd in (*not_its, requests_out, replies_in):
            os.close(fd)
        _help(os.fdopen(requests_in, "rb"), os.fdopen(replies_out, "wb"))
    os.close(requests_in)
    os.close(replies_out)
    _helper = pid, os.fdopen(requests_out, "wb"), os.fdopen(replies_in, "rb")


def _help(requests: BinaryIO, replies: BinaryIO) -> NoReturn:
    """The helper: a picture in, None or its failure out, until the drawing process ends (the
    end of its requests, or of its replies if that process was killed)."""
    try:
        while True:
            target, picture, lang = pickle.load(requests)
            try:
                _draw(Path(target), picture, lang)
                failure = None
            except Exception as exc:
                failure = _failure(exc)
            pickle.dump(failure, replies)
            replies.flush()
    finally:
        os._exit(0)


def _end_helper() -> None:
    """Close the helper's input, so that it ends, and wait for it: its CPU time then counts
    in this process's children's, where `time` and scripts/bench.py read it."""
    if _helper is not None:
        pid, to_helper, _ = _helper
        with contextlib.suppress(OSError):
            to_helper.close()
        os.waitpid(pid, 0)


def _failure(exc: BaseException) -> tuple[BaseException, str]:
    """What crosses a pipe of an error being handled: itself (or a RuntimeError saying it,
    if it cannot be pickled) and its traceback as text (a pickled error loses it)."""
    remote = (str(exc.__cause__) if isinstance(exc.__cause__, RemoteError)
              else traceback.format_exc())
    try:
        pickle.dumps(exc)
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc, remote


def _serve() -> None:
    """The drawing process: requests in on stdin, and out on stdout for each one either
    (True, its log records) or (False, (the error, its traceback))."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # should a Ctrl-C reach it all the same
    # replies go out on the real stdout; anything else printed goes to stderr
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    said: list[tuple[str, int, str]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append((record.name, record.levelno, record.getMessage()))

    logging.getLogger("linreg").addHandler(Keep(logging.WARNING))
    logging.getLogger("linreg").propagate = False
    _warm_up()
    _start_helper(not_its=(sys.stdin.fileno(), replies.fileno()))
    while True:
        try:
            request = pickle.load(sys.stdin.buffer)
        except EOFError:  # the run has ended
            _end_helper()
            return
        said.clear()
        try:
            _draw_and_write(*request, in_two=True)
            reply = (True, list(said))
        except Exception as exc:
            reply = (False, _failure(exc))
        try:
            pickle.dump(reply, replies)
            replies.flush()
        except BrokenPipeError:  # the run left without waiting (a second Ctrl-C)
            return


if __name__ == "__main__":
    _serve()
    os._exit(0)  # every reply is flushed; Python's own exit would collect matplotlib's garbage
