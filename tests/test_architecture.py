"""The layout's rules (README, Development): imports run one way, from the entry point down to
the rooms below it, with no circle among modules nor among rooms; the figures import no torch
but pictures.py; the process's state is kept in one object per subsystem, reset by one call;
and every module stays short. Read from the source with ast: nothing is imported to check it,
except by the state test."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import linreg

ROOT = Path(linreg.__file__).resolve().parent
SCRIPTS = ROOT.parent / "scripts"
MAX_LINES = 300
TORCH_FREE = "linreg.figures"  # the drawing process's modules, ready before torch is imported
WITH_TORCH = {"linreg.figures.pictures"}  # computes the pictures from the run's tensors


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name | ast.Attribute) and \
        ast.unparse(node.test).endswith("TYPE_CHECKING")


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """The modules `path` imports, for its annotations (`if TYPE_CHECKING:`) too; with
    `top_level_only`, only those imported when it is imported (not inside functions, not for
    annotations)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if top_level_only and (isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                                   or isinstance(child, ast.If) and _type_checking(child)):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:  # relative: from the package this module is in
                    up = package.split(".")[:len(package.split(".")) - child.level + 1]
                    base = ".".join(up + ([base] if base else []))
                found.add(base)
                # `from linreg.figures import drawing` imports the module linreg.figures.drawing
                found.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


FACADE = "linreg"  # the package's __init__: the Python API (linreg.run, ...), above every room


def graph(top_level_only: bool = False) -> dict[str, set[str]]:
    """linreg's modules and the linreg modules each imports. `from linreg import config`
    imports linreg.config; that Python runs the facade's __init__ first, whatever a module
    imports, is no dependency of that module's, so edges to the facade are left out."""
    known = modules()
    return {name: {m for m in imports(path, top_level_only)
                   if m in known and m != name and m != FACADE}
            for name, path in known.items()}


def room(module: str) -> str:
    """A top-level module is a room of its own; a subpackage, with its modules, is one room."""
    parts = module.split(".")
    return ".".join(parts[:2])


def circle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of `edges`, if there is one."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := walk(node)):
            return found
    return None


def rooms(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    between: dict[str, set[str]] = {}
    for module, targets in edges.items():
        between.setdefault(room(module), set()).update(
            room(t) for t in targets if room(t) != room(module)
            and not (module == room(module) and t.startswith(module + ".")))
    return between


def test_no_module_imports_itself_round_a_circle():
    assert circle(graph()) is None


def test_no_room_imports_itself_round_a_circle():
    # a subpackage's __init__ may gather its own modules; between rooms, one way only
    assert circle(rooms(graph())) is None


def test_the_finder_sees_a_circle():
    """The check above can fail: a circle made on purpose is found, among rooms too."""
    edges = graph()
    edges["linreg.records.metrics"].add("linreg.runner")  # run imports records: now a circle
    assert circle(edges) is not None
    assert circle(rooms(edges)) is not None
    assert "linreg.figures.drawing" in imports(ROOT / "sweeps" / "compare.py")  # lazy, counted


def test_the_figures_import_no_torch_but_pictures():
    edges = graph(top_level_only=True)
    for name, path in modules().items():
        if not name.startswith(TORCH_FREE) or name in WITH_TORCH:
            continue
        assert not any(m.split(".")[0] == "torch" for m in imports(path)), name
        # nor does any linreg module it imports on being imported
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            top = imports(modules()[current], top_level_only=True)
            assert not any(m.split(".")[0] == "torch" for m in top), f"{name} -> {current}"
            todo += edges[current]


@pytest.mark.parametrize("path", [*sorted(ROOT.rglob("*.py")), *sorted(SCRIPTS.glob("*.py"))],
                         ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_every_module_is_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_one_state_object_per_subsystem_and_one_reset():
    for info in pkgutil.walk_packages(linreg.__path__, "linreg."):
        if not info.name.startswith("linreg.hydra_plugins"):
            importlib.import_module(info.name)
    from linreg import cli, outputs, runner
    from linreg.figures import drawing
    from linreg.process import state, stopping
    from linreg.sweeps import callback

    kept = {id(s) for s in state.KEPT}
    assert len(kept) == len(state.KEPT)
    assert kept == {id(s) for s in (stopping.STOP, outputs.LEDGER, drawing.DRAWER,
                                    callback.SWEEP, runner.CACHE, cli.COMMAND)}
    stopping.STOP.signum, outputs.LEDGER.run_folder = 15, Path("x")
    callback.SWEEP.started.append(Path("x"))
    runner.CACHE.data_key, cli.COMMAND.run_dir, drawing.DRAWER.after_stop_s = "k", Path("x"), 9.0
    state.reset()
    assert stopping.STOP.signum is None and outputs.LEDGER.run_folder is None
    assert callback.SWEEP.started == [] and runner.CACHE.data_key is None
    assert cli.COMMAND.run_dir is None and drawing.DRAWER.after_stop_s == stopping.AFTER_STOP_S
