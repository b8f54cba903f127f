"""The tests as a house: a test module imports shared helpers from tests/helpers only, never
another test module or a conftest (a helper that two modules need lives in tests/helpers)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_no_test_module_imports_another_test_module_or_a_conftest():
    offenders = []
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            offenders += [
                f"{path.relative_to(TESTS)} imports {name}"
                for name in names
                if name.startswith("tests") and not name.startswith("tests.helpers")
            ]
    assert offenders == []
