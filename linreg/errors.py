"""The one place where linreg's errors become the one-line messages a user sees."""

from __future__ import annotations

import errno
import re
import signal
import sys
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
    """Condense a linreg, Hydra, OmegaConf or YAML error into one line that names the key at
    fault, and the config file (and line) when the error is in one."""
    from hydra.errors import MissingConfigException
    from omegaconf.errors import OmegaConfBaseException
    from yaml import MarkedYAMLError

    if isinstance(exc, LinregError):
        return str(exc)
    if (syntax := _in_chain(exc, MarkedYAMLError)) is not None:
        return _yaml_problem(syntax)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        # e.g. optimizer=adam: Hydra says "Could not find 'optimizer/adam'" over several lines
        group, _, option = (exc.missing_cfg_file or "").rpartition("/")
        choices = ", ".join(sorted(exc.options))
        return f"{group}: unknown option '{option}' (choose from {choices})"
    # "In 'experiment/x': ConfigKeyError raised while composing config:", raised by Hydra while
    # handling the error of that file (its __context__), when merging it into the config
    composing = re.match(r"In '([^']+)': \w+ raised while composing config", str(exc))
    if composing and isinstance(exc.__context__, OmegaConfBaseException):
        return _in_file(composing.group(1), exc.__context__)
    cause = exc.__cause__ if isinstance(exc.__cause__, OmegaConfBaseException) else exc
    if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
        return f"{cause.full_key}: {_key_problem(cause)}"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _key_problem(exc: BaseException) -> str:
    problem = str(getattr(exc, "msg", exc)).splitlines()[0]
    if "not in struct" in problem or "not in '" in problem:
        problem = "unknown key" + _valid_keys(exc)
    return problem


def _in_chain(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`exc`, or the first error of type `kind` that it was raised from or while handling."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _yaml_problem(exc) -> str:
    """A config file that is not valid YAML (yaml.MarkedYAMLError): the file, line and column
    where the parser stopped, what it expected, and where the construct began."""
    mark = exc.problem_mark or exc.context_mark
    where = f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
    problem = exc.problem or exc.context or "not valid YAML"
    began = exc.context_mark if exc.problem and exc.context else None
    return f"{where}: {problem}" + (f" ({exc.context} on line {began.line + 1})" if began else "")


def _in_file(config_path: str, exc: BaseException) -> str:
    """A key of the config file `config_path` (experiment/x) that the config rejects: the file,
    the key's line in it, the key and the problem."""
    full_key = str(getattr(exc, "full_key", None) or "")
    file = _config_file(config_path)
    if file is None:
        where = f"config '{config_path}'"
    else:
        line = _key_line(file, full_key)
        where = f"{file}, line {line}" if line else str(file)
    group = config_path.rpartition("/")[0].replace("/", ".")
    if group and full_key == group:  # the whole file landed under its group's key
        problem = (f"not a key of the config: this file's keys go under '{group}' unless its "
                   "first line is '# @package _global_'")
    else:
        problem = _key_problem(exc)
    return f"{where}: {full_key + ': ' if full_key else ''}{problem}"


def _config_file(config_path: str) -> Path | None:
    """The file Hydra read `config_path` from: in linreg's own conf/, else in --config-dir
    (the order Hydra searches them in); None if neither has it (a hydra.searchpath folder)."""
    from importlib.resources import files

    roots = [Path(str(files("linreg.conf")))]
    try:
        from hydra._internal.utils import get_args_parser

        config_dir = get_args_parser().parse_known_args(sys.argv[1:])[0].config_dir
    except (ImportError, SystemExit, AttributeError):  # Hydra's parser moved, or refused
        config_dir = None
    if config_dir:
        roots.append(Path(config_dir))
    for root in roots:
        file = root / f"{config_path}.yaml"
        if file.is_file():
            return file.resolve()
    return None


def _key_line(file: Path, full_key: str) -> int | None:
    """The line of `full_key` (optimizer.lrr) in the YAML `file`, found by its longest tail
    that the file holds: the file's keys may sit below its package (experiment.lr -> lr)."""
    import yaml

    try:
        root = yaml.compose(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):
        return None
    keys = full_key.split(".") if full_key else []
    for start in range(len(keys)):
        node, line = root, None
        for key in keys[start:]:
            if not isinstance(node, yaml.MappingNode):
                break
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        else:
            return line
    return None


def _valid_keys(exc: BaseException) -> str:
    parent = getattr(exc, "parent_node", None)
    try:
        keys = sorted(str(k) for k in parent if k != "hydra") if parent is not None else []
    except Exception:  # a node in a broken state has no keys to offer; the message still stands
        keys = []
    return f" (valid keys: {', '.join(keys)})" if keys else ""
