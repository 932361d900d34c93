"""What conf/ holds, read from its files: the config groups and their options, the lessons.

Nothing here imports the schemas (or torch): `linreg --help` lists the groups from the files
themselves, so it cannot go stale, and shell completion composes with stand-ins for the
schemas (`stand_in_schemas`), because importing them costs torch's import, over a second.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from importlib.resources import files
from pathlib import Path

from omegaconf import OmegaConf

INTERNAL = ("hydra",)  # Hydra's own groups under conf/; schema/* live in the ConfigStore only
WIDTH = 92  # columns of the help's lists
SCHEMA_LINE = re.compile(r"^\s*-\s*/?(schema/[\w/]+|linreg_schema)\b", re.MULTILINE)


def conf_dir() -> Path:
    return Path(str(files("linreg.conf")))


@cache
def groups() -> dict[str, list[str]]:
    """{group: its options}, every folder under conf/ with YAML files (experiment/init too),
    Hydra's own groups left out; options sorted, the default first."""
    root, found = conf_dir(), {}
    defaults = default_options()
    for folder in sorted(p for p in root.rglob("*") if p.is_dir()):
        group = folder.relative_to(root).as_posix()
        options = sorted(p.stem for p in folder.glob("*.yaml"))
        if not options or group.split("/")[0] in INTERNAL or "__" in group:
            continue
        if (first := defaults.get(group)) in options:
            options.remove(first)
            options.insert(0, first)
        found[group] = options
    return found


def default_options() -> dict[str, str]:
    """{group: option} chosen by conf/config.yaml's defaults list."""
    config = OmegaConf.load(conf_dir() / "config.yaml")
    chosen = {}
    for entry in config.get("defaults", []):
        if isinstance(entry, str) or entry is None:
            continue
        for key, value in entry.items():
            if not str(key).startswith("override ") and isinstance(value, str):
                chosen[str(key)] = value
    return chosen


def lessons() -> dict[str, str]:
    """{lesson: the first sentence of its description}, from conf/experiment/*.yaml's
    opening comment ("# Lesson 2. The learning rate, ..."), without its number."""
    found = {}
    for path in sorted((conf_dir() / "experiment").glob("*.yaml")):
        comments = []
        for line in path.read_text().splitlines():
            if not line.startswith("#"):
                break
            if "@package" not in line:
                comments.append(line[1:].strip())
        text = re.sub(r"^Lesson \w+\.\s*", "", " ".join(comments))
        found[path.stem] = re.split(r"(?<=\.)\s", text, maxsplit=1)[0].rstrip(".")
    return found


def groups_text(_: object = None) -> str:
    """The groups for `linreg --help`, one a line: `  optimizer   manual_sgd (default), ...`."""
    defaults = default_options()
    width = max(len(group) for group in groups()) + 2
    lines = []
    for group, options in groups().items():
        shown = [f"{o} (default)" if defaults.get(group) == o else o for o in options]
        lines.append(textwrap.fill(", ".join(shown), WIDTH, initial_indent=f"  {group:{width}}",
                                   subsequent_indent=" " * (width + 2)))
    return "\n".join(lines)


def lessons_text(_: object = None) -> str:
    """The lessons for `linreg --help`, each with its command and first line."""
    lessons_ = lessons()
    width = max(len(name) for name in lessons_) + 2
    return "\n".join(textwrap.fill(line, WIDTH, initial_indent=f"  {name:{width}}",
                                  subsequent_indent=" " * (width + 2))
                     for name, line in lessons_.items())


def schema_names() -> set[str]:
    """Every schema conf/'s YAML files name in their defaults lists (`schema/optimizer/...`)."""
    names: set[str] = set()
    for path in conf_dir().rglob("*.yaml"):
        names.update(SCHEMA_LINE.findall(path.read_text()))
    return names


def stand_in_schemas() -> None:
    """An empty node in Hydra's ConfigStore for each schema, for shell completion: every key
    is in the YAML files too, so the keys it offers are the same, without importing torch."""
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    for name in sorted(schema_names()):
        group, _, option = name.rpartition("/")
        store.store(group=group or None, name=option, node={})


def register() -> None:
    """${linreg_groups:} and ${linreg_lessons:}, which conf/hydra/help/linreg.yaml uses."""
    for name, resolver in (("linreg_groups", groups_text), ("linreg_lessons", lessons_text)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


register()
