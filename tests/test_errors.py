"""One drawn exception tree: every exception class of listener/, alerts/ and classifiers/ is
defined in its package's errors.py and drawn, under its own base, in that module's docstring and
in the whole project's tree in listener/errors.py."""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import pathlib
import pkgutil
import re

import pytest

PACKAGES = ("listener", "alerts", "classifiers")
# Not imported (read instead, and held to defining no class): alembic runs env.py inside a
# migration, on its own it fails; a __main__ module runs its program when imported.
NOT_IMPORTABLE = {"listener.storage.migrations.env"}

BRANCH = re.compile(r"^(?P<lead>[ │]*[├└]── )(?P<name>[A-Z]\w*)")
ROOT = re.compile(r"^    (?P<name>[A-Z]\w*)")
HEADER = re.compile(r"^(?P<module>[a-z_]+(?:\.[a-z_]+)+)$")


def not_importable(module: str) -> bool:
    return module in NOT_IMPORTABLE or module.endswith(".__main__")


def module_names(package: str) -> list[str]:
    root = importlib.import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(root.__path__, f"{package}.")]


@functools.cache
def exception_classes(package: str) -> dict[str, type]:
    """Qualified name -> class, for every exception class defined in a module of `package`."""
    modules = [importlib.import_module(name) for name in module_names(package)
               if not not_importable(name)]
    return {f"{mod.__name__}.{obj.__name__}": obj for mod in modules for obj in vars(mod).values()
            if isinstance(obj, type) and issubclass(obj, BaseException)
            and obj.__module__ == mod.__name__}


def drawn(docstring: str) -> dict[str | None, dict[str, str | None]]:
    """The trees drawn in a docstring: header module (None before any) -> class -> drawn parent.
    A class is a line's first word: at four spaces (a root) or after a branch; its parent is the
    nearest class above it drawn further left."""
    trees: dict[str | None, dict[str, str | None]] = {}
    module, stack = None, []
    for line in docstring.splitlines():
        if header := HEADER.match(line):
            module, stack = header["module"], []
            continue
        m = BRANCH.match(line) or ROOT.match(line)
        if m is None:
            continue
        column = m.start("name")
        while stack and stack[-1][0] >= column:
            stack.pop()
        tree = trees.setdefault(module, {})
        assert m["name"] not in tree, f"{m['name']} is drawn twice"
        tree[m["name"]] = stack[-1][1] if stack else None
        stack.append((column, m["name"]))
    return trees


def parents(classes: dict[str, type]) -> dict[str, str | None]:
    """Class name -> its base among the project's exceptions (None for a root)."""
    ours = set(classes.values())
    return {cls.__name__: next((b.__name__ for b in cls.__bases__ if b in ours), None)
            for cls in classes.values()}


@pytest.mark.parametrize("package", PACKAGES)
def test_the_modules_left_unimported_define_no_class(package):
    for name in filter(not_importable, module_names(package)):
        path = importlib.util.find_spec(name).origin
        tree = ast.parse(pathlib.Path(path).read_text(encoding="utf-8"))
        assert not any(isinstance(node, ast.ClassDef) for node in ast.walk(tree)), name


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exception_class_is_defined_in_its_packages_errors_module(package):
    elsewhere = sorted(name for name, cls in exception_classes(package).items()
                       if cls.__module__ != f"{package}.errors")
    assert elsewhere == []


@pytest.mark.parametrize("package", PACKAGES)
def test_each_errors_module_draws_its_packages_tree_as_the_classes_derive(package):
    doc = importlib.import_module(f"{package}.errors").__doc__
    trees = drawn(doc)
    own = trees.get(f"{package}.errors", trees.get(None))   # listener's is under its header
    assert own == parents(exception_classes(package))


def test_the_whole_projects_tree_is_drawn_in_listener_errors_by_module():
    trees = drawn(importlib.import_module("listener.errors").__doc__)
    assert trees == {f"{package}.errors": parents(exception_classes(package))
                     for package in PACKAGES}


def test_the_drawing_is_read_as_drawn():
    doc = """Prose, not drawn.

a.errors

    Base                 what it is
     ├── Child           with a description
     │    └── Grand      (continued on
     │                    Another line, not a class)
     └── Second
    Other
"""
    assert drawn(doc) == {"a.errors": {"Base": None, "Child": "Base", "Grand": "Child",
                                       "Second": "Base", "Other": None}}
