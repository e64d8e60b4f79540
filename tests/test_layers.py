"""The house's layers, read from the source: `models` ← `bridgehead` ← `tasks` ← `flows` ← `deployments`.

Every import counts, at the top of a module or inside a function: no module imports a layer above its
own, no import loop runs between modules (a parent package's own names count, its submodules don't),
`tasks/` has no Prefect in it, and no file in `tasks/` is longer than a sitting's reading. In `tests/`,
no module imports a `test_*` module: what tests share lives in helper modules (`factories.py`, `scenario.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("models", "bridgehead", "tasks", "flows", "deployments")
MAX_TASK_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "migrations" in path.parts:  # Alembic's scripts, loaded by path, not imported
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def _owner(name: str) -> str | None:
    """The project module an imported name lives in (`tasks.review.build.build_review` → its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str) -> Iterator[tuple[str, int]]:
    """(project module imported, line) for every import statement in module `name`."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            owner = _owner(target)
            if owner and owner != name:
                yield owner, node.lineno


GRAPH = {name: sorted(set(imports_of(name))) for name in MODULES}


def test_no_import_runs_up_the_layers() -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = [
        f"{MODULES[name].relative_to(ROOT)}:{line} imports {target}"
        for name, edges in GRAPH.items()
        for target, line in edges
        if rank[target.split(".")[0]] > rank[name.split(".")[0]]
    ]
    assert upward == []


def cycles() -> list[list[str]]:
    """The import loops: strongly connected groups of two or more modules (Tarjan's algorithm)."""
    edges = {name: {t for t, _ in targets} for name, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while (w := stack.pop()) != v:
                group.append(w)
            if group:
                found.append(sorted([v, *group]))

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return found


def test_no_import_loop() -> None:
    assert cycles() == []


def test_the_test_finds_a_loop_and_an_upward_import(tmp_path: Path) -> None:
    """The checks above can fail: a loop and an upward import written on purpose are found."""
    saved = dict(GRAPH)
    try:
        GRAPH["models.common"] = [*GRAPH["models.common"], ("tasks.jurisdiction", 1)]
        assert any({"models.common", "tasks.jurisdiction"} <= set(group) for group in cycles())
        with pytest.raises(AssertionError):
            test_no_import_runs_up_the_layers()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_tasks_have_no_prefect_in_them() -> None:
    prefect = [
        f"{path.relative_to(ROOT)}"
        for name, path in MODULES.items()
        if name.startswith("tasks")
        and any(
            isinstance(n, ast.Import | ast.ImportFrom)
            and any((getattr(n, "module", None) or a.name).split(".")[0] == "prefect" for a in n.names)
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert prefect == []


def test_no_file_in_tasks_is_longer_than_a_sitting() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for name, path in MODULES.items()
        if name.startswith("tasks")
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_TASK_LINES
    }
    assert long == {}


TESTS = ROOT / "tests"


def imports_of_test_modules(source: str, package: str) -> list[tuple[str, int]]:
    """(`test_*` module imported, line) for every import in `source` of a test module of the project;
    `package` is the importing module's package, for relative imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            targets = [base] + [f"{base}.{a.name}" for a in node.names if a.name.startswith("test_")]
        else:
            continue
        tested = [
            t
            for t in targets
            if t.split(".")[0] == "tests" and any(p.startswith("test_") for p in t.split("."))
        ]
        if tested:
            found.append((tested[0], node.lineno))
    return found


def test_no_test_module_imports_another() -> None:
    """A helper two test files share lives in a module of its own, not in one of them: importing a test
    module ties one stage's tests to another's, so renaming or splitting one file breaks the other."""
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = ".".join(parts if parts[-1] == "__init__" else parts[:-1])
        found += [
            f"{path.relative_to(ROOT)}:{line} imports {target}"
            for target, line in imports_of_test_modules(path.read_text(encoding="utf-8"), package)
        ]
    assert found == []


def test_the_test_finds_an_import_of_a_test_module() -> None:
    """The check above can fail: imports of test modules written on purpose are found, in every form."""
    source = "\n".join(
        [
            "from tests.factories import ingest",
            "from tests.tasks.follow_up.scenario import at",
            "from tests.tasks.follow_up.test_cadence import at",
            "from tests.tasks.review import story, test_lifecycle",
            "import tests.flows.test_intake_flow",
            "from .test_load import call_row",
            "from . import rows",
            "def helper():",
            "    from tests.tasks.review.test_build import pct",
        ]
    )
    assert imports_of_test_modules(source, "tests.tasks.intake") == [
        ("tests.tasks.follow_up.test_cadence", 3),
        ("tests.tasks.review.test_lifecycle", 4),
        ("tests.flows.test_intake_flow", 5),
        ("tests.tasks.intake.test_load", 6),
        ("tests.tasks.review.test_build", 9),
    ]
