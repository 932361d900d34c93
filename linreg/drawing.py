"""The figures, drawn by a second process started at launch, or else by this one.

Importing matplotlib and drawing three figures takes about as long as importing torch. So
`linreg` starts a drawing process first thing (cli.main): it imports matplotlib and draws a
throwaway set of figures while the run imports torch and trains. The run then sends it its
pictures (plain numbers, linreg/pictures.py), writes its TensorBoard events while they are
drawn, and waits for them before writing metrics.json. Without that process (a test calling
run(), a sweep job in a joblib or submitit worker, a process that died) the figures are drawn
here, by the same functions.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from linreg import plots, trajectory

log = logging.getLogger(__name__)

_process: subprocess.Popen | None = None


def start() -> None:
    """Start the drawing process, once; without one, figures are drawn in this process."""
    global _process
    if _process is not None:
        return
    try:
        # one BLAS thread: it draws, and it forks (below), which threads make unsafe
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        _process = subprocess.Popen([sys.executable, "-m", "linreg.drawing"], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError as exc:
        log.debug("no drawing process (%s); figures are drawn in this one", exc)
        return
    atexit.register(stop)


def stop() -> None:
    global _process
    if _process is not None:
        _process.kill()  # idle (every reply read) or not needed any more
        _process.wait()
        _process = None


def draw(run_dir: Path, pictures: dict[str, Any], lang: str) -> Callable[[], None]:
    """Start drawing `pictures` ({file name: picture}) into `run_dir`; returns `wait`, which
    returns once every file is written and raises what drawing raised."""
    if _process is not None:
        try:
            pickle.dump((str(run_dir), pictures, lang), _process.stdin)
            _process.stdin.flush()
        except OSError:  # it has died: draw here
            stop()
        else:
            return lambda: _reply(run_dir, pictures, lang)
    draw_all(run_dir, pictures, lang)
    return lambda: None


def _reply(run_dir: Path, pictures: dict[str, Any], lang: str) -> None:
    try:
        ok, said = pickle.load(_process.stdout)
    except (EOFError, OSError, pickle.UnpicklingError):  # it died while drawing: draw here
        stop()
        draw_all(run_dir, pictures, lang)
        return
    if not ok:
        raise RuntimeError(f"drawing the figures failed in the drawing process:\n{said}")
    for message in said:  # its warnings (a missing CJK font), said here as they would be
        logging.getLogger(plots.__name__).warning(message)


def draw_all(run_dir: Path, pictures: dict[str, Any], lang: str) -> None:
    for name, picture in pictures.items():
        _draw(Path(run_dir) / name, picture, lang)


def _draw(target: Path | io.BytesIO, picture: Any, lang: str) -> None:
    if isinstance(picture, plots.LossCurves):
        plots.draw_loss(target, picture, lang)
    elif isinstance(picture, trajectory.PathPicture):
        trajectory.draw_trajectory(target, picture, lang)
    else:
        plots.draw_fit(target, picture, lang)


def _warm_up() -> None:
    """Draw one small figure of each kind into memory: the imports, fonts and caches that
    the first real figure would otherwise wait for."""
    x = np.linspace(0.0, 1.0, 5)
    axis = np.linspace(-1.0, 1.0, 5)
    for picture in (plots.LineFit(x=x, y=x, ols=(1.0, 0.0), fit=(1.0, 0.0)),
                    plots.LossCurves([2.0, 1.0], [2.0, 1.0], 1.0, "mse"),
                    trajectory.PathPicture(w_axis=axis, b_axis=axis,
                                           loss=np.add.outer(axis, axis) ** 2, loss_name="mse",
                                           route=[(0.5, 0.5), (0.0, 0.0)], steps_per_epoch=1,
                                           ols=(0.0, 0.0))):
        _draw(io.BytesIO(), picture, "en")


def _draw_in_two(run_dir: Path, pictures: dict[str, Any], lang: str) -> None:
    """The last picture (the trajectory, the slowest) in a forked copy of this process and the
    others here: the run waits for the figures on an otherwise idle core."""
    *others, last = pictures.items()
    if not others or not hasattr(os, "fork"):
        draw_all(run_dir, pictures, lang)
        return
    pid = os.fork()
    if pid == 0:  # the copy: draw, and report only through the exit status
        code = 1
        try:
            draw_all(run_dir, dict([last]), lang)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    draw_all(run_dir, dict(others), lang)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        raise RuntimeError(f"drawing {last[0]} failed (its traceback is above)")


def _serve() -> None:
    """The drawing process: pictures in on stdin, (ok, warnings or traceback) out on stdout."""
    # a Ctrl-C stops the run, which then still sends the figures of what it trained
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # replies go out on the real stdout; anything else printed goes to stderr
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logging.getLogger("linreg").addHandler(Keep(logging.WARNING))
    logging.getLogger("linreg").propagate = False
    _warm_up()
    while True:
        try:
            run_dir, pictures, lang = pickle.load(sys.stdin.buffer)
        except EOFError:  # the run has ended
            return
        said.clear()
        try:
            _draw_in_two(Path(run_dir), pictures, lang)
            reply = (True, list(said))
        except Exception:
            reply = (False, traceback.format_exc())
        try:
            pickle.dump(reply, replies)
            replies.flush()
        except BrokenPipeError:  # the run left without waiting (a second Ctrl-C)
            return


if __name__ == "__main__":
    _serve()
