"""Package-level rules: no web framework imports, no I/O in core modules, small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import judging

PACKAGE = Path(judging.__file__).parent
IO_MODULES = {"csvio.py", "cli.py", "__main__.py"}


def modules():
    return sorted(PACKAGE.glob("*.py"))


def imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_web_framework_imports():
    for path in modules():
        assert not imported_names(path) & {"flask", "flask_login", "flask_wtf", "sqlalchemy", "pandas"}, path.name


def test_core_modules_do_no_io():
    for path in modules():
        if path.name in IO_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert not calls & {"open", "print", "input"}, path.name
        assert not imported_names(path) & {"os", "sys", "csv", "pathlib", "subprocess"}, path.name


def test_modules_stay_small():
    for path in modules():
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name


def test_public_api():
    expected = {
        "Criterion",
        "Score",
        "RankedEntry",
        "rank",
        "judge_totals",
        "agreement",
        "assign",
        "METHODS",
        "JudgingError",
    }
    assert expected <= set(judging.__all__)
    for name in judging.__all__:
        assert hasattr(judging, name)
