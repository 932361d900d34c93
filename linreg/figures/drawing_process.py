"""The drawing process itself (`python -m linreg.figures.drawing_process`, started by
figures/drawing.py): it warms up, forks its helper, then draws what each run sends it.

It reads requests (a run's folder, pictures, language, metrics) on stdin and answers each on
stdout, in order. Its helper, a copy forked once it is warm, draws one picture of each request
(the trajectory, the slowest) while the process draws the others, then the process writes the
run's metrics.json. No torch here: this process must be ready before the run's torch import
has finished.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import signal
import sys
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np

from linreg.figures.fit import LineFit, PredictedFit
from linreg.figures.loss_curves import LossCurves
from linreg.figures.requests import (
    REPLY_LENGTH,
    Picture,
    RemoteError,
    draw_all,
    draw_and_write,
    draw_picture,
    error_to_send,
)
from linreg.figures.trajectory import PathPicture
from linreg.records import event_files

log = logging.getLogger(__name__)

_helper: tuple[int, BinaryIO, BinaryIO] | None = None  # pid, requests to it, replies from it


def _warm_up() -> None:
    """Draw one small figure of each kind into memory: the imports, fonts and caches that
    the first real figure would otherwise wait for."""
    x = np.linspace(0.0, 1.0, 5)
    axis = np.linspace(-1.0, 1.0, 5)
    for picture in (LineFit(x=x, y=x, ols=(1.0, 0.0), fit=(1.0, 0.0)),
                    PredictedFit(y=x, ols_pred=x, fit_pred=x, n_features=2),
                    LossCurves([2.0, 1.0], [2.0, 1.0], 1.0, "mse"),
                    PathPicture(w_axis=axis, b_axis=axis, loss=np.add.outer(axis, axis) ** 2,
                                loss_name="mse", route=[(0.5, 0.5), (0.0, 0.0)],
                                steps_per_epoch=1, ols=(0.0, 0.0))):
        draw_picture(io.BytesIO(), picture, "en")
    event_files.preload()  # each run's figures go to TensorBoard too


def _draw_in_two(run_dir: Path, pictures: dict[str, Picture], lang: str) -> None:
    """The last picture (the trajectory if there is one: the slowest) by the helper and the
    others here: the run waits for its figures on an otherwise idle core."""
    *others, (name, last) = pictures.items()
    if not others or _helper is None:
        draw_all(run_dir, pictures, lang)
        return
    _, to_helper, from_helper = _helper
    try:
        pickle.dump((str(run_dir / name), last, lang), to_helper)
        to_helper.flush()
    except OSError:  # it has died
        _end_helper()
        draw_all(run_dir, pictures, lang)
        return
    try:
        draw_all(run_dir, dict(others), lang)
    finally:  # its reply is read even so: the next request must not find it
        try:
            failure = pickle.load(from_helper)
        except (EOFError, OSError, pickle.UnpicklingError):  # it died drawing: draw it here
            _end_helper()
            failure = None
            draw_picture(run_dir / name, last, lang)
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
    try:
        pid = os.fork()
    except OSError as exc:  # no memory or processes to spare: this process draws everything
        log.debug("no drawing helper (%s)", exc)
        for fd in (requests_in, requests_out, replies_in, replies_out):
            os.close(fd)
        return
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
                draw_picture(Path(target), picture, lang)
                failure = None
            except Exception as exc:
                failure = error_to_send(exc)
            pickle.dump(failure, replies)
            replies.flush()
    finally:
        os._exit(0)


def _end_helper() -> None:
    """Close the helper's pipes, so that it ends (if it has not died), and wait for it: its
    CPU time then counts in this process's children's, where `time` and the bench read it."""
    global _helper
    if _helper is not None:
        pid, *pipes = _helper
        _helper = None
        for pipe in pipes:
            with contextlib.suppress(OSError):  # a broken pipe: it has died
                pipe.close()
        os.waitpid(pid, 0)


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
            draw_and_write(*request, draw_pictures=_draw_in_two)
            reply = (True, list(said))
        except Exception as exc:
            reply = (False, error_to_send(exc))
        data = pickle.dumps(reply)
        try:
            replies.write(REPLY_LENGTH.pack(len(data)) + data)  # framed: the run reads it by select
            replies.flush()
        except BrokenPipeError:  # the run left without waiting (a second Ctrl-C)
            return


if __name__ == "__main__":
    _serve()
    os._exit(0)  # every reply is flushed; Python's own exit would collect matplotlib's garbage
