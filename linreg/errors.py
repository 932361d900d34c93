"""The one place where linreg's errors become the one-line messages a user sees."""

from __future__ import annotations

import errno
import signal
from pathlib import Path


class LinregError(Exception):
    """A problem with the user's input: reported as one line, exit status 2, no traceback."""


class ConfigError(LinregError):
    """A config value that is out of range or inconsistent, named by its full key."""


class DataError(LinregError):
    """Data linreg cannot train on: the message names the file, column or row at fault."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM, raised by cli.py's signal handlers.

    A KeyboardInterrupt, so nothing that catches Exception swallows it and the training loop
    catches both signals alike; the command then exits with 128 + the signal's number.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_status(self) -> int:
        return 128 + self.signum  # 130 for SIGINT, 143 for SIGTERM, as shells report them


class Fatal(BaseException):
    """A LinregError raised where Hydra would turn an Exception into a warning (its callbacks):
    not an Exception, so it reaches cli.main, which says `error` in one line."""

    def __init__(self, error: LinregError) -> None:
        super().__init__(str(error))
        self.error = error


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def unwritable_folder(exc: BaseException, key: str,
                      folder: Path | None = None) -> ConfigError | None:
    """The error for an output folder that cannot be made or written (`key` is hydra.run.dir
    or hydra.sweep.dir), if an OSError about a path, or a full disk under `folder` (the run
    under way), is behind `exc`; else None."""
    seen = exc
    while seen is not None and not (isinstance(seen, OSError)
                                    and (seen.filename or seen.errno in DISK_FULL)):
        if isinstance(seen, LinregError):  # already says what is wrong (a CSV file, ...)
            return None
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    if seen is None:
        return None
    if seen.errno in DISK_FULL:  # name the folder, not the temporary file that met it
        where = folder or (Path(seen.filename).parent if seen.filename else None)
        named = f"{Path(where).resolve()}: " if where is not None else f"{key}: "
        return ConfigError(f"{named}no space left on the device; linreg stopped and removed "
                           f"what it had not finished (free some space, or choose another "
                           f"folder with {key}=...)")
    if seen.filename is None:
        return None
    return ConfigError(f"{Path(seen.filename).resolve()}: cannot write the output folder "
                       f"({seen.strerror}); choose another with {key}=...")


def one_line(exc: BaseException) -> str:
    """Condense a linreg, Hydra or OmegaConf error into one line that names the key at fault."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, LinregError):
        return str(exc)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        # e.g. optimizer=adam: Hydra says "Could not find 'optimizer/adam'" over several lines
        group, _, option = (exc.missing_cfg_file or "").rpartition("/")
        choices = ", ".join(sorted(exc.options))
        return f"{group}: unknown option '{option}' (choose from {choices})"
    cause = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
    if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
        problem = str(getattr(cause, "msg", cause)).splitlines()[0]
        if "not in struct" in problem or "not in '" in problem:
            problem = "unknown key" + _valid_keys(cause)
        return f"{cause.full_key}: {problem}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _valid_keys(exc: BaseException) -> str:
    parent = getattr(exc, "parent_node", None)
    try:
        keys = sorted(str(k) for k in parent if k != "hydra") if parent is not None else []
    except Exception:  # a node in a broken state has no keys to offer; the message still stands
        keys = []
    return f" (valid keys: {', '.join(keys)})" if keys else ""
