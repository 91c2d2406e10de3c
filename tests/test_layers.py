"""The layers of clvlib: imports run one way (down), never in a cycle, and modules stay small.

Every module under ``clvlib/`` is parsed with :mod:`ast` (nothing is imported), and every
``clvlib.*`` import is collected, including the ones inside functions: a lazy import is still a
dependency. A module may import its own subpackage or a lower rank:

====  =========================================================================
rank  packages
====  =========================================================================
0     ``clvlib`` itself and the bottom modules: io, dates, schemas, paths, caveats, progress, memory, and the
      ``clvlib.engine`` package (the SQL aggregates every layer above computes through)
1     ``clvlib.data`` and ``clvlib.demo`` (which must not import each other)
2     ``clvlib.features``
3     ``clvlib.models``
4     ``clvlib.evaluation``
5     ``clvlib.report``
6     ``clvlib.pipeline``
====  =========================================================================
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "clvlib"

BOTTOM = ("clvlib", "clvlib.io", "clvlib.dates", "clvlib.schemas", "clvlib.paths", "clvlib.caveats", "clvlib.progress",
          "clvlib.memory")
#: Packages that belong to the bottom layer as a whole.
BOTTOM_PACKAGES = ("clvlib.engine",)
RANKS = {
    **{name: 0 for name in BOTTOM},
    "clvlib.data": 1,
    "clvlib.demo": 1,
    "clvlib.features": 2,
    "clvlib.models": 3,
    "clvlib.evaluation": 4,
    "clvlib.report": 5,
    "clvlib.pipeline": 6,
}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The group a module belongs to: a bottom module, or the top-level subpackage holding it."""
    if module in BOTTOM or ".".join(module.split(".")[:2]) in BOTTOM_PACKAGES:
        return "bottom"
    return ".".join(module.split(".")[:2])


def rank(module: str) -> int | None:
    return 0 if layer(module) == "bottom" else RANKS.get(layer(module))


def resolve(module: str, node: ast.Import | ast.ImportFrom, is_package: bool) -> list[str]:
    """The clvlib modules an import statement refers to (``from pkg import mod`` -> ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name == "clvlib" or a.name.startswith("clvlib.")]
    base = node.module or ""
    if node.level:  # relative: from .x import y
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    if not (base == "clvlib" or base.startswith("clvlib.")):
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def imports_of(module: str) -> dict[str, int]:
    """clvlib modules imported anywhere in ``module`` (at top level or inside functions) -> first line."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in resolve(module, node, path.name == "__init__.py"):
                if target != module:
                    found.setdefault(target, node.lineno)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """``module:line imports target`` for every import of a higher rank or of another layer of the same rank."""
    bad = []
    for module, targets in graph.items():
        for target, line in targets.items():
            if layer(target) == layer(module):
                continue
            if rank(target) is None or rank(module) is None or rank(target) >= rank(module):
                bad.append(f"{module}:{line} (rank {rank(module)}) imports {target} (rank {rank(target)})")
    return bad


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as a sorted list of names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_walk_finds_the_modules_and_their_imports():
    assert {"clvlib", "clvlib.io", "clvlib.pipeline.context", "clvlib.data.sources"} <= set(MODULES)
    # a top-level import and one inside a function are both seen
    assert "clvlib.pipeline.catalog" in GRAPH["clvlib.pipeline.context"]
    assert "clvlib.pipeline.datasource" in GRAPH["clvlib.pipeline.context"]  # inside default_workspace()


def test_every_module_belongs_to_a_ranked_layer():
    assert [m for m in MODULES if rank(m) is None] == []


def test_no_module_imports_a_higher_or_sibling_layer():
    assert upward_imports(GRAPH) == []


def test_no_import_cycle_between_modules():
    assert import_cycles(GRAPH) == []


def test_no_module_is_longer_than_600_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in MODULES.values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("clvlib.data.transactions", "from clvlib.data.droplog import DropLog", ["clvlib.data.droplog"]),
        ("clvlib.data.transactions", "from clvlib.data import droplog", ["clvlib.data.droplog"]),
        ("clvlib.data.transactions", "from clvlib.data import find_raw_files", ["clvlib.data"]),
        ("clvlib.data.transactions", "from . import droplog", ["clvlib.data.droplog"]),
        ("clvlib.data", "from .sources import find_raw_files", ["clvlib.data.sources"]),
        ("clvlib.data.transactions", "import clvlib.io as io", ["clvlib.io"]),
        ("clvlib.data.transactions", "import pandas as pd", []),
    ],
    ids=["absolute-name", "submodule-by-from", "name-from-package", "relative-sibling", "relative-in-package",
         "import-as", "not-clvlib"],
)
def test_imports_resolve_to_the_module_they_load(module, source, expected):
    node = ast.parse(source).body[0]
    assert resolve(module, node, is_package=MODULES[module].name == "__init__.py") == expected


def test_the_checks_catch_an_upward_import_a_sibling_import_and_a_cycle():
    graph = {
        "clvlib.io": {},
        "clvlib.features.rfm": {"clvlib.models.scores": 3, "clvlib.io": 4},  # up: 2 imports 3
        "clvlib.models.scores": {"clvlib.features.rfm": 5},  # down: fine, but closes a cycle
        "clvlib.data.sources": {"clvlib.demo.generate": 7},  # data and demo share rank 1
        "clvlib.demo.generate": {},
        "clvlib.pipeline.run": {"clvlib.pipeline.catalog": 1},  # its own package
        "clvlib.pipeline.catalog": {},
    }
    assert upward_imports(graph) == [
        "clvlib.features.rfm:3 (rank 2) imports clvlib.models.scores (rank 3)",
        "clvlib.data.sources:7 (rank 1) imports clvlib.demo.generate (rank 1)",
    ]
    assert import_cycles(graph) == [["clvlib.features.rfm", "clvlib.models.scores"]]
