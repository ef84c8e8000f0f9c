"""The package layering holds: imports point down, no cycles, Flask only in web/, small documented modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from paths import REPO

ROOT = REPO / "kgapp"
# Lower layers never import higher ones. Helpers at the top of the package are layer 0.
LAYERS = {"store": 1, "config": 2, "build": 3, "sparql": 3, "read": 3, "export": 3, "check": 4, "web": 5,
          "cli": 6, "__main__": 6}
MAX_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def imports(path: Path, top_level_only: bool = False) -> list[tuple[str, int]]:
    """kgapp modules imported by ``path`` (with line numbers); ``from kgapp.x import y`` counts kgapp.x.y
    when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("kgapp")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kgapp"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.append((sub if sub in MODULES else node.module, node.lineno))
    return found


def test_every_import_points_down_the_layers():
    wrong = [f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)}) at line {line}"
             for name, path in MODULES.items() for target, line in imports(path) if layer(target) > layer(name)]
    assert wrong == []


def test_the_import_graph_has_no_cycle():
    graph = {name: {t for t, _ in imports(path) if t in MODULES and t != name} for name, path in MODULES.items()}
    # A package's __init__ re-exporting its own modules is not a cycle of the code's design.
    graph = {n: {t for t in ts if not n.startswith(t + ".")} for n, ts in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt])
                return True
            if nxt not in state and visit(nxt, trail + [node]):
                return True
        state[node] = 2
        return False

    assert not any(visit(n, []) for n in sorted(graph) if n not in state), " → ".join(cycle)


def test_imports_inside_functions_are_only_the_clis_lazy_stage_imports():
    """A function-level import hides a dependency (and so a cycle); the CLI alone defers heavy stages."""
    late = [f"{name}:{line} {target}" for name, path in MODULES.items() if name != "kgapp.cli"
            for target, line in set(imports(path)) - set(imports(path, top_level_only=True))]
    assert late == []


@pytest.mark.parametrize("framework", ["flask", "werkzeug", "jinja2"])
def test_the_web_framework_is_imported_only_by_the_web_package(framework):
    users = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] == framework for n in names) and not name.startswith("kgapp.web"):
                users.append(name)
    assert users == []


def test_every_module_says_what_it_is_in_one_line_and_stays_small():
    problems = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text))
        if not doc or not doc.splitlines()[0].strip():
            problems.append(f"{name}: no one-line docstring")
        if len(text.splitlines()) > MAX_LINES:
            problems.append(f"{name}: {len(text.splitlines())} lines (split it)")
    assert problems == []


def test_the_layering_test_can_fail(tmp_path):
    """The checks above read real imports: a store module importing the web is seen."""
    bad = tmp_path / "bad.py"
    bad.write_text("from kgapp.web.app import create_app\n\ndef f():\n    import kgapp.read.search\n")
    found = imports(bad)
    assert ("kgapp.web.app", 1) in found and ("kgapp.read.search", 4) in found
    assert imports(bad, top_level_only=True) == [("kgapp.web.app", 1)]
    assert layer("kgapp.web.app") > layer("kgapp.store.embedded")


def test_every_test_folder_is_collected(pytestconfig):
    """pytest skips folders named like its norecursedirs (by default "build"): none of ours may be."""
    from fnmatch import fnmatch

    folders = {p.parent.name for p in (REPO / "tests").rglob("test_*.py")}
    patterns = pytestconfig.getini("norecursedirs")
    assert [f for f in sorted(folders) if any(fnmatch(f, pat) for pat in patterns)] == []
