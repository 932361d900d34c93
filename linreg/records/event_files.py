"""TensorBoard events files written whole, without torch: a run's figures as images, and a
sweep's own run (`SWEEP_RUN`, beside its jobs) with its experiment and summary figures.

The run's scalars go to the events file that records/events.py writes as training goes. The
figures are drawn after that file is closed, by the drawing process (figures/requests.py),
which then adds the very PNG bytes it saved to a second events file in the same folder (one
run in TensorBoard), before metrics.json: no figure is drawn twice, and a run whose
metrics.json is there has its images in TensorBoard. Each file is written to a temporary name
and renamed (outputs.written_whole): TensorBoard reads all of one, or nothing of it.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

from linreg.outputs import EVENTS_PREFIX, SWEEP_RUN, written_whole
from linreg.records.crc32c import masked

FIGURES = "figures"  # an events file's name ends in what it holds


def preload() -> None:
    """Import TensorBoard's protocol buffers now (about 0.1 s), before a run waits on them."""
    from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: F401


def figure_tag(file_name: str) -> str:
    """`loss.png` -> `figures/loss`: TensorBoard's Images tab shows one card per tag and run."""
    return f"figures/{Path(file_name).stem}"


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height): the big-endian integers at bytes 16-24 of a PNG (its IHDR chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", png[16:24])


def image_summary(tag: str, png: bytes):
    """An image summary carrying `png` as it is: TensorBoard decodes nothing until shown."""
    from tensorboard.compat.proto.summary_pb2 import Summary

    width, height = png_size(png)
    image = Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=png)
    return Summary(value=[Summary.Value(tag=tag, image=image)])


def write(folder: Path, summaries: list, step: int, holds: str) -> Path:
    """An events file in `folder` holding `summaries` at `step`, written whole; `holds` ends
    its name. The name sorts after the events file of the run's own process (a digit follows
    the host name there, a letter here), which TensorBoard then reads first."""
    from tensorboard.compat.proto.event_pb2 import Event

    now = time.time()
    events = [Event(wall_time=now, file_version="brain.Event:2")]
    events += [Event(wall_time=now, step=step, summary=summary) for summary in summaries]
    path = folder / f"{EVENTS_PREFIX}{int(now):010d}.{socket.gethostname()}.{holds}"
    with written_whole(path, "wb", staged_as=holds) as f:  # TensorBoard reads no half
        for event in events:
            data = event.SerializeToString()
            header = struct.pack("<Q", len(data))
            f.write(header + struct.pack("<I", masked(header)) + data
                    + struct.pack("<I", masked(data)))
    return path


def log_figures(folder: Path, names: list[str], step: int) -> Path | None:
    """The figures `names` saved in `folder` (those that are there: a stop may have left some
    undrawn), as images at `step`, read back from their files."""
    found = [(name, (folder / name).read_bytes()) for name in names if (folder / name).is_file()]
    if not found:
        return None
    return write(folder, [image_summary(figure_tag(name), png) for name, png in found], step,
                 FIGURES)


def log_sweep_figures(sweep_dir: Path) -> Path | None:
    """The sweep's figures (summary.png, and any other it drew) into its own run."""
    names = sorted(p.name for p in sweep_dir.glob("*.png"))
    if not names:
        return None
    run = sweep_dir / SWEEP_RUN
    run.mkdir(exist_ok=True)
    summaries = [image_summary(figure_tag(name), (sweep_dir / name).read_bytes())
                 for name in names]
    return write(run, summaries, 0, FIGURES)
