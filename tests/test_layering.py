"""DEVELOPERS.md's layout table is the package's real import graph: three floors, no circles.

The table (``| floor | module | holds | may import |``) names every module of ``mlflow_allowance`` (a row
for ``_dashboard/`` covers the modules of that package) and its floor: ground (pure) < seam < faces; the
tests' aid stands apart (it may import the ground floor; nothing in the package imports it). The graph is
read with ``ast`` from every module, function-level imports included; imports under ``if TYPE_CHECKING:``
are annotations only and do not count. A module may import package modules of its own floor or below, and
third-party packages its "may import" cell names (the standard library always); the ground floor never
imports ``mlflow`` or ``typer``.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mlflow_allowance"
TABLE_HEADER = "| floor | module | holds | may import |"
FLOORS = {"ground (pure)": 0, "seam": 1, "faces": 2}
AID = "tests' aid"
#: What the ground floor must never import, whatever its row says.
NEVER_ON_THE_GROUND = {"mlflow", "typer"}
#: Import names of the distributions a cell may name (``scikit-learn`` is imported as ``sklearn``).
IMPORT_NAMES = {"scikit-learn": "sklearn", "jinja2": "jinja2"}


@dataclass(frozen=True)
class Row:
    floor: str
    module: str  # as written, without backticks: "errors.py", "_dashboard/"
    holds: str
    may_import: str

    @property
    def level(self) -> int | None:
        """The floor's height; ``None`` for the tests' aid."""
        return None if self.floor == AID else FLOORS[self.floor]

    def covers(self, module: str) -> bool:
        return module == self.module or (self.module.endswith("/") and module.startswith(self.module))

    def third_party(self) -> set[str]:
        """The third-party packages the cell names (words that are not the standard library or a module)."""
        words = re.findall(r"[A-Za-z][\w\-]*", re.sub(r"\([^)]*\)", "", self.may_import))
        return {IMPORT_NAMES.get(w, w) for w in words if w in THIRD_PARTY_WORDS}


#: The third-party names a "may import" cell can mention.
THIRD_PARTY_WORDS = {
    "packaging",
    "rich",
    "mlflow",
    "pandas",
    "scikit-learn",
    "typer",
    "click",
    "jinja2",
    "markupsafe",
}


@dataclass(frozen=True)
class Import:
    importer: str  # "client.py"
    target: str  # a package module ("_registry.py") or a third-party top-level name ("mlflow")
    line: int
    in_function: bool
    type_checking: bool

    @property
    def internal(self) -> bool:
        return self.target.endswith(".py")


def table_rows(text: str) -> list[Row]:
    """The rows of the layout table in DEVELOPERS.md's text."""
    lines = text.splitlines()
    start = lines.index(TABLE_HEADER)
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"DEVELOPERS.md: a layout row needs 4 cells: {line}"
        floor, module, holds, may_import = cells
        assert floor in FLOORS or floor == AID, f"DEVELOPERS.md: unknown floor {floor!r} in {line}"
        rows.append(Row(floor, module.strip("`"), holds, may_import))
    return rows


ROWS = table_rows((ROOT / "DEVELOPERS.md").read_text(encoding="utf-8"))


def modules() -> list[str]:
    """Every module of the package, as a path below ``mlflow_allowance/``."""
    return sorted(path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py"))


def _resolve(dotted: str) -> str | None:
    """The module file a dotted ``mlflow_allowance...`` name is, or ``None`` if it names no module."""
    parts = dotted.split(".")[1:]
    base = PACKAGE.joinpath(*parts)
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py").relative_to(PACKAGE).as_posix()
    if (base / "__init__.py").is_file():
        return (base / "__init__.py").relative_to(PACKAGE).as_posix()
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str) -> list[Import]:
    """Every import of ``module``, each name resolved to a package module or a top-level package."""
    path = PACKAGE / module
    return imports_in(path.read_text(encoding="utf-8"), module)


def imports_in(source: str, module: str) -> list[Import]:
    """Every import in ``source``, the text of ``module``: nested ones (in functions, under ``if``) too."""
    package = ["mlflow_allowance", *Path(module).parent.parts]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_one(stmt, in_function, True)
                for stmt in child.orelse:
                    visit_one(stmt, in_function, type_checking)
            else:
                visit_one(child, in_function, type_checking)

    def visit_one(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in _imported_names(node, package):
                if name.partition(".")[0] == "mlflow_allowance":
                    # "from mlflow_allowance.x import Name" imports x; "from mlflow_allowance import _y", _y.
                    resolved = _resolve(name) or _resolve(name.rpartition(".")[0])
                    assert resolved is not None, f"{module}:{node.lineno}: cannot resolve {name}"
                    if resolved != module:
                        found.append(Import(module, resolved, node.lineno, inside, type_checking))
                elif name.partition(".")[0] not in sys.stdlib_module_names and name != "__future__":
                    found.append(Import(module, name.partition(".")[0], node.lineno, inside, type_checking))
        visit(node, inside, type_checking)

    visit(ast.parse(source, module), False, False)
    return found


def _imported_names(node: ast.Import | ast.ImportFrom, package: list[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from . import x, from ..y import z
        base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
    if base.partition(".")[0] != "mlflow_allowance":
        return [base]
    return [f"{base}.{alias.name}" for alias in node.names]


def row_of(module: str) -> Row:
    covering = [row for row in ROWS if row.covers(module)]
    assert len(covering) == 1, f"{module}: {len(covering)} rows of DEVELOPERS.md's layout table cover it"
    return covering[0]


GRAPH = {module: list(imports_of(module)) for module in modules()}


class TestTable:
    def test_has_rows(self) -> None:
        assert len(ROWS) > 10
        assert {row.floor for row in ROWS} == {*FLOORS, AID}

    def test_every_module_has_a_row(self) -> None:
        missing = [module for module in modules() if not any(row.covers(module) for row in ROWS)]
        assert missing == [], f"DEVELOPERS.md's layout table lacks rows for {missing}"

    def test_every_row_is_a_module(self) -> None:
        gone = [row.module for row in ROWS if not any(row.covers(module) for module in modules())]
        assert gone == [], f"DEVELOPERS.md's layout table has rows for modules that do not exist: {gone}"

    def test_no_module_has_two_rows(self) -> None:
        doubled = [m for m in modules() if sum(row.covers(m) for row in ROWS) > 1]
        assert doubled == []

    def test_rows_say_what_they_hold(self) -> None:
        assert [row.module for row in ROWS if not row.holds] == []


@pytest.mark.parametrize("module", modules())
class TestImports:
    def test_imports_nothing_above_its_floor(self, module: str) -> None:
        row = row_of(module)
        wrong = []
        for edge in GRAPH[module]:
            if not edge.internal or edge.type_checking:
                continue
            target = row_of(edge.target)
            if target.level is None and row.level is not None:
                wrong.append(f"{edge.target} (the tests' aid) at line {edge.line}")
            elif row.level is None and target.level != 0:
                wrong.append(
                    f"{edge.target} ({target.floor}) at line {edge.line}: the tests' aid stays on the ground"
                )
            elif row.level is not None and target.level is not None and target.level > row.level:
                wrong.append(f"{edge.target} ({target.floor}) at line {edge.line}")
            elif "but the seam" in row.may_import and target.floor == "seam":
                wrong.append(
                    f"{edge.target} (the seam) at line {edge.line}: its row says all below but the seam"
                )
        assert wrong == [], f"{module} ({row.floor}) imports from above its floor: {wrong}"

    def test_imports_only_the_third_party_packages_its_row_names(self, module: str) -> None:
        row = row_of(module)
        allowed = row.third_party()
        used = {edge.target for edge in GRAPH[module] if not edge.internal and not edge.type_checking}
        assert used - allowed == set(), (
            f"{module}: its row's 'may import' ({row.may_import}) lacks {used - allowed}"
        )
        if row.level == 0:
            assert used & NEVER_ON_THE_GROUND == set()


def test_no_circles_at_import_time() -> None:
    """Module-level imports form no cycle: importing any module never needs itself half-imported."""
    edges = {
        module: {e.target for e in GRAPH[module] if e.internal and not e.in_function and not e.type_checking}
        for module in GRAPH
    }
    # A package's __init__ is imported before its modules, so "module → its own package" is not a cycle.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_the_graph_sees_every_kind_of_import() -> None:
    """Module-level, relative, function-level and TYPE_CHECKING imports are all read (and told apart)."""
    source = (
        "import json\n"
        "import mlflow.tracking\n"
        "from typing import TYPE_CHECKING\n"
        "from mlflow_allowance.errors import InputError\n"
        "from . import _registry\n"
        "if TYPE_CHECKING:\n"
        "    from mlflow_allowance.client import AllowanceClient\n"
        "def f():\n"
        "    from mlflow_allowance import cli\n"
    )
    found = {(i.target, i.in_function, i.type_checking) for i in imports_in(source, "versions.py")}
    assert found == {
        ("mlflow", False, False),
        ("errors.py", False, False),
        ("_registry.py", False, False),
        ("client.py", False, True),
        ("cli.py", True, False),
    }


def test_the_table_orders_the_floors() -> None:
    """The rows the rules lean on are where they should be, so the rules cannot pass on an empty table."""
    floors = {row.module: row.floor for row in ROWS}
    assert (floors["versions.py"], floors["_registry.py"], floors["client.py"]) == (
        "ground (pure)",
        "seam",
        "faces",
    )
    assert floors["testing.py"] == AID
