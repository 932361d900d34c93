"""A sweep job's worker process ends soon after the process that launched it is gone.

joblib's workers (loky) outlive a `linreg -m hydra/launcher=joblib ...` that was killed
(SIGKILL, the out-of-memory killer): each finishes the job it has, however long it trains,
then waits for more for loky's idle timeout (300 s), or for ever: seen once, a worker ended
426 s after the kill and the other was still blocked reading loky's queue 28 minutes later,
keeping loky's two resource trackers alive with it.
hydra-joblib-launcher 1.2.0 has no setting that changes this: its keys (JobLibLauncherConf)
are some of joblib.Parallel's, and loky's idle_worker_timeout, which Parallel would pass on, is
not one of them and would only shorten the wait after the job. So the job watches: a daemon
thread, one per worker process, ends the process within a second of its parent's end.
A job cut short leaves its folder without metrics.json, as a killed run does.

Only processes started by multiprocessing (loky's workers are) are watched: the `linreg`
command itself carries on when its shell goes away (`nohup linreg ... &`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

POLL_S = 0.5  # how often the parent is looked for: a worker ends at most this late

_started = False


def watch_parent() -> None:
    """In a worker process of a launcher, start the thread that ends it with its parent."""
    global _started
    parent = multiprocessing.parent_process()
    if _started or parent is None:
        return
    _started = True
    threading.Thread(target=_watch, args=(parent.pid,), name="linreg-watchdog",
                     daemon=True).start()


def _watch(parent_pid: int) -> None:
    # an orphan is adopted by init (or a subreaper): its parent's pid is no longer this one
    while os.getppid() == parent_pid:
        time.sleep(POLL_S)
    # nobody is left to read what this job would return; atexit handlers and flushes could
    # wait on pipes to the dead parent, so leave at once
    os._exit(1)
