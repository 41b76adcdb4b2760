"""The dependency direction: classifiers/ and alerts/ are libraries that know nothing of the
application, and nothing is built at import time."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("package, forbidden", [
    ("classifiers", {"listener", "alerts"}),
    ("alerts", {"listener", "classifiers"}),
])
def test_libraries_do_not_import_the_application(package, forbidden):
    offenders = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n.split(".")[0] in forbidden]
    assert offenders == []


def test_shipped_weights_stay_small():
    weights = list((ROOT / "classifiers" / "weights").glob("*"))
    assert weights and sum(p.stat().st_size for p in weights) < 20 * 1024 * 1024
