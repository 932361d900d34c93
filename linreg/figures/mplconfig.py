"""A writable folder for matplotlib's config and cache when its default one is not writable.

matplotlib (in the drawing process, a joblib worker, or this process when it draws) keeps its
config and font cache in ~/.config/matplotlib and ~/.cache/matplotlib on Linux. With a home
that cannot be written (HOME=/dev/null, a read-only home in a container) it makes a temporary
folder itself, but first prints two warnings, in every process that imports it, in front of
linreg's own line. So then linreg makes one private temporary folder, names it in
MPLCONFIGDIR for every process it starts, and removes it at exit. The usual case, a writable
home, costs a few stat calls and changes nothing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path


def ensure_writable() -> None:
    """Set MPLCONFIGDIR to a private temporary folder if matplotlib's default is unwritable."""
    if os.environ.get("MPLCONFIGDIR"):  # the user's choice, good or bad: matplotlib's to judge
        return
    folders = _default_folders()
    if folders is not None and all(_writable(folder) for folder in folders):
        return
    try:
        folder = tempfile.mkdtemp(prefix="linreg-matplotlib-")
    except OSError:  # no writable temporary folder either: matplotlib will say so
        return
    os.environ["MPLCONFIGDIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _default_folders() -> list[Path] | None:
    """Where matplotlib would keep its config and cache (matplotlib/__init__.py,
    _get_config_or_cache_dir): None without a home; [] on Windows, not handled here."""
    try:
        home = Path.home()
    except RuntimeError:  # no HOME and no user entry: matplotlib would warn and use a temp folder
        return None
    if sys.platform.startswith(("linux", "freebsd")):
        config = os.environ.get("XDG_CONFIG_HOME") or home / ".config"
        cache = os.environ.get("XDG_CACHE_HOME") or home / ".cache"
        return [Path(config, "matplotlib"), Path(cache, "matplotlib")]
    return [] if sys.platform == "win32" else [home / ".matplotlib"]


def _writable(folder: Path) -> bool:
    """Whether matplotlib could use `folder`: as it does, make it if missing."""
    if not folder.is_dir():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
    return os.access(folder, os.W_OK)
