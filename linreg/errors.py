"""The one place where linreg's errors become the one-line messages a user sees."""

from __future__ import annotations


class LinregError(Exception):
    """A problem with the user's input: reported as one line, exit status 2, no traceback."""


class ConfigError(LinregError):
    """A config value that is out of range or inconsistent, named by its full key."""


class DataError(LinregError):
    """Data linreg cannot train on: the message names the file, column or row at fault."""


def one_line(exc: BaseException) -> str:
    """Condense a linreg, Hydra or OmegaConf error into one line that names the key at fault."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, LinregError):
        return str(exc)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        # e.g. optimizer=adam: Hydra says "Could not find 'optimizer/adam'" over several lines
        group, _, option = (exc.missing_cfg_file or "").rpartition("/")
        choices = ", ".join(sorted(o for o in exc.options if not o.endswith("_schema")))
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
