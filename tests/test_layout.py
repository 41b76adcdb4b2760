"""The layout's rules, checked on the code's own imports (docs/architecture.md draws them):
classifiers/ and alerts/ are libraries that know nothing of the application or of each other;
inside listener/, each folder may import only the folders below it; no module of listener/ is
named like a module of alerts/ or classifiers/ for something else."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# for each folder of listener/: the folders of listener/ it must never import
NEVER = {
    "storage": {"pipeline", "incidents", "queue", "web", "cli", "tools", "daemon"},
    "config": {"pipeline", "incidents", "queue", "web", "cli", "tools", "daemon", "storage"},
    "query": {"pipeline", "incidents", "queue", "web", "cli", "tools", "daemon", "storage"},
    "sources": {"pipeline", "incidents", "queue", "web", "cli", "tools", "daemon", "storage"},
    "incidents": {"pipeline", "queue", "web", "cli", "tools", "daemon"},
    "queue": {"pipeline", "web", "cli", "tools", "daemon"},
    "pipeline": {"web", "cli", "tools", "daemon", "queue"},
    "tools": {"web", "cli"},
    "web": {"pipeline", "cli", "daemon"},
    "daemon": {"cli"},
}


def imports_of(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


@pytest.mark.parametrize("package, forbidden", [
    ("classifiers", {"listener", "alerts"}),
    ("alerts", {"listener", "classifiers"}),
])
def test_libraries_do_not_import_the_application(package, forbidden):
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for path in (ROOT / package).rglob("*.py") for name in imports_of(path)
                 if name.split(".")[0] in forbidden]
    assert offenders == []


@pytest.mark.parametrize("folder", sorted(NEVER))
def test_each_folder_imports_only_the_folders_below_it(folder):
    offenders = []
    for path in (ROOT / "listener" / folder).rglob("*.py"):
        for name in imports_of(path):
            parts = name.split(".")
            if parts[0] == "listener" and len(parts) > 1 and parts[1] in NEVER[folder]:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_every_module_of_listener_is_in_a_folder():
    loose = {p.name for p in (ROOT / "listener").glob("*.py")}
    assert loose <= {"__init__.py", "errors.py", "clock.py"}


def test_no_module_of_listener_is_named_like_one_of_the_libraries():
    def names(package: str) -> set[str]:
        return {p.stem for p in (ROOT / package).rglob("*.py")} - {"__init__", "errors"}
    libraries = names("alerts") | names("classifiers")
    clashes = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "listener").rglob("*.py")
                     if p.stem in libraries)
    assert clashes == []


def test_shipped_weights_stay_small():
    weights = list((ROOT / "classifiers" / "weights").glob("*"))
    assert weights and sum(p.stat().st_size for p in weights) < 20 * 1024 * 1024
