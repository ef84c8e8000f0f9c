"""Every third-party package the code imports is declared in pyproject.toml, so a fresh `pip install` has it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from paths import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*extras: str) -> set[str]:
    wanted = PROJECT["dependencies"] + [d for e in extras for d in PROJECT["optional-dependencies"][e]]
    return {normalised(re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0]) for d in wanted}


def imported_top_level(files: list[Path]) -> dict[str, str]:
    """Each imported top-level module name, with the first file:line importing it."""
    found: dict[str, str] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def undeclared(files: list[Path], local: set[str], allowed: set[str]) -> list[str]:
    owners = packages_distributions()
    missing = []
    for module, where in sorted(imported_top_level(files).items()):
        if module in sys.stdlib_module_names or module in local or module == "__future__":
            continue
        dists = {normalised(d) for d in owners.get(module, [])}
        if not dists & allowed:
            missing.append(f"{module} ({where}; distribution {sorted(dists) or 'not installed'})")
    return missing


def python_files(folder: str) -> list[Path]:
    return [p for p in sorted((REPO / folder).rglob("*.py")) if "vendor" not in p.parts]


def test_the_package_and_its_tools_import_only_declared_dependencies():
    tools = python_files("tools")
    assert undeclared(python_files("kgapp") + tools, {"kgapp"} | {p.stem for p in tools}, declared()) == []


def test_the_tests_import_only_declared_dependencies_and_test_extras():
    tests = python_files("tests")
    helpers = {p.stem for p in tests} | {p.name for p in (REPO / "tests").iterdir() if p.is_dir()}
    assert undeclared(tests, {"kgapp"} | helpers, declared("test")) == []


def test_the_check_finds_an_undeclared_import(tmp_path):
    module = tmp_path / "uses_numpy.py"
    module.write_text("import numpy\nimport json\nfrom kgapp import config\n", encoding="utf-8")
    module = module.rename(REPO / "tests" / f"_probe_{module.stem}.py")
    try:
        assert [m.split(" ")[0] for m in undeclared([module], {"kgapp"}, {"rdflib"})] == ["numpy"]
        assert undeclared([module], {"kgapp"}, {"numpy"}) == []
    finally:
        module.unlink()


@pytest.mark.parametrize("name, expected", [("simple_icd_10_cm", "simple-icd-10-cm"), ("SPARQLWrapper", "sparqlwrapper")])
def test_names_are_compared_as_pip_compares_them(name, expected):
    assert normalised(name) == expected
