"""The independent oracle (tests/independent.py, tests/independent_outlook.py) takes
nothing from the pipeline: no import of `pipelines` or `schemas`, at module level or
inside a function, directly or through another test module it imports."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ORACLE = ("independent", "independent_outlook")
PIPELINE = ("pipelines", "schemas")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (`from tests import x` counts as
    `tests.x`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def pipeline_imports(module: str, root: Path = TESTS) -> dict[str, set[str]]:
    """Test module → the pipeline modules it imports, over every test module `module`
    reaches."""
    found: dict[str, set[str]] = {}
    todo, seen = [module], set()
    while todo:
        name = todo.pop()
        seen.add(name)
        names = imported(root / f"{name}.py")
        if bad := {n for n in names if n.split(".")[0] in PIPELINE}:
            found[name] = bad
        todo += [n.split(".")[1] for n in names if n.startswith("tests.")
                 and (root / f"{n.split('.')[1]}.py").exists() and n.split(".")[1] not in seen]
    return found


def test_the_oracle_imports_nothing_of_the_pipeline() -> None:
    for module in ORACLE:
        assert pipeline_imports(module) == {}, module
    assert "tests.independent" in imported(TESTS / "independent_outlook.py")


def test_the_scan_finds_an_import_inside_a_function_through_a_helper(tmp_path: Path) -> None:
    (tmp_path / "oracle.py").write_text("from tests import helper\n")
    (tmp_path / "helper.py").write_text(
        "def hubs():\n    from pipelines.reference import Reference\n    return Reference\n")
    assert pipeline_imports("oracle", tmp_path) == {
        "helper": {"pipelines.reference", "pipelines.reference.Reference"}}
