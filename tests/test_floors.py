"""The house has floors: packages import each other one way only.

Every module's imports are read with ``ast`` (imports inside functions included, since those are
where cycles hide), mapped to the project's top-level packages, and the package graph must have
no cycle. The ground floor, ``vocab``, imports no other package of the project.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOT_PACKAGES = {"tests", "docs", "runs", "build", "dist"}


def project_packages() -> set[str]:
    return {p.name for p in REPO_ROOT.iterdir()
            if p.is_dir() and (p / "__init__.py").is_file() and p.name not in NOT_PACKAGES}


def imported_modules(path: Path) -> set[str]:
    """Every absolute module name a file imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def package_graph() -> dict[str, dict[str, list[str]]]:
    """``{package: {imported package: [files that import it]}}`` between project packages."""
    packages = project_packages()
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for package in packages:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            for module in imported_modules(path):
                target = module.split(".")[0]
                if target in packages and target != package:
                    graph[package][target].append(str(path.relative_to(REPO_ROOT)))
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of packages (first package repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if state.get(nxt) is None and (cycle := visit(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None and (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b": ["a/x.py"]}, "b": {"c": ["b/y.py"]}, "c": {"a": ["c/z.py"]}, "d": {"a": ["d/w.py"]}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) is None


def test_imports_inside_functions_are_read(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from db.engine import open_engine\n    import bot.pipeline\n")
    assert {"os", "db.engine", "bot.pipeline"} <= imported_modules(module)


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    cycle = find_cycle(graph)
    if cycle is not None:
        steps = [f"{a} -> {b} (in {', '.join(sorted(set(graph[a][b]))[:3])})"
                 for a, b in zip(cycle, cycle[1:], strict=False)]
        raise AssertionError("import cycle between packages: " + "; ".join(steps))


def test_the_ground_floor_imports_nothing_of_the_project() -> None:
    assert "vocab" in project_packages()
    assert dict(package_graph().get("vocab", {})) == {}


if __name__ == "__main__":  # python tests/test_floors.py: which package imports which
    for package, targets in sorted(package_graph().items()):
        print(f"{package:<10} -> {', '.join(sorted(targets))}")
