"""A drawing request, done by whichever process has it (the drawing process, or the run's own
when there is none): its figures, then the run's metrics.json; and how its reply and errors
cross the pipe between the two (figures/drawing.py, figures/drawing_process.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import pickle
import struct
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from linreg.figures import fit, landscape, loss_curves, summary, trajectory
from linreg.process.stopping import AFTER_STOP_S, STOP
from linreg.records import event_files, metrics

Picture = (fit.LineFit | fit.CurveFit | fit.PredictedFit | loss_curves.LossCurves
           | trajectory.PathPicture | summary.SummaryPicture | landscape.LandscapePicture)
REPLY_LENGTH = struct.Struct("<Q")  # each reply is its length, then its pickle

log = logging.getLogger(__name__)


class RemoteError(Exception):
    """The traceback of an error in the drawing process, as the cause of the error raised."""


def draw_all(run_dir: Path, pictures: dict[str, Picture], lang: str,
             after_stop_s: float = AFTER_STOP_S) -> None:
    """Draw every picture into run_dir, here; after a stop, those that `after_stop_s` since
    the stop allows."""
    for name, picture in pictures.items():
        if (left := STOP.left(after_stop_s)) is not None and left <= 0:
            # part of the record after a stop (train.log); the stop's one line is on stderr
            log.info("%s not drawn in %s: the stop left no time for it", name, run_dir)
            continue
        draw_picture(Path(run_dir) / name, picture, lang)


def render(pictures: dict[str, Picture], lang: str) -> dict[str, bytes]:
    """Every picture drawn here, as PNG bytes in memory ({file name: bytes})."""
    rendered = {}
    for name, picture in pictures.items():
        buffer = io.BytesIO()
        draw_picture(buffer, picture, lang)
        rendered[name] = buffer.getvalue()
    return rendered


def draw_and_write(run_dir: str, pictures: dict[str, Picture], lang: str,
                   then_write: dict | None, record_failure: bool,
                   draw_pictures: Callable[[Path, dict, str], None] = draw_all) -> None:
    """A request, done here: the figures, then (for a run's request, with `then_write`) the
    same PNG bytes as TensorBoard images, then metrics.json; a failure is raised, after being
    written as the run's metrics.json if `record_failure`."""
    try:
        draw_pictures(Path(run_dir), pictures, lang)
        if then_write is not None:
            event_files.log_figures(Path(run_dir), list(pictures), then_write.get("epochs_run", 0))
            metrics.write(Path(run_dir), then_write)
    except Exception as exc:
        if record_failure and then_write is not None:
            with contextlib.suppress(Exception):  # the folder itself may be what failed
                metrics.write(Path(run_dir), metrics.failure(exc, then_write["wall_s"]))
        raise


def draw_picture(target: Path | BinaryIO, picture: Picture, lang: str) -> None:
    if isinstance(picture, loss_curves.LossCurves):
        loss_curves.draw_loss(target, picture, lang)
    elif isinstance(picture, trajectory.PathPicture):
        trajectory.draw_trajectory(target, picture, lang)
    elif isinstance(picture, summary.SummaryPicture):
        summary.draw(target, picture)
    elif isinstance(picture, landscape.LandscapePicture):
        landscape.draw_landscape(target, picture)
    else:
        fit.draw_fit(target, picture, lang)


def error_to_send(exc: BaseException) -> tuple[BaseException, str]:
    """What crosses a pipe of an error being handled: itself (or a RuntimeError saying it,
    if it cannot be pickled and unpickled) and its traceback as text (a pickled error loses
    it)."""
    remote = (str(exc.__cause__) if isinstance(exc.__cause__, RemoteError)
              else traceback.format_exc())
    try:
        pickle.loads(pickle.dumps(exc))  # an error whose __init__ takes other arguments fails
    except Exception:
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc, remote
