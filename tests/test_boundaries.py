"""The sandbox and the Capillary client stand apart: nothing from Django or the rest of lookup."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

LOOKUP = Path(__file__).resolve().parent.parent / "lookup"
# The packages that stand apart from the dashboard: they import neither Django nor the rest
# of lookup, so either could leave the project as it is.
PACKAGES = ("lookup.sandbox", "lookup.capillary")


def modules(package: str) -> list[tuple[str, Path]]:
    """Return (dotted name, path) for every module of the package, subpackages included."""
    root = LOOKUP.parent / package.replace(".", "/")
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(LOOKUP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def imported_names(module: str, path: Path) -> list[tuple[int, str]]:
    """Return (line, absolute module name) for every import in the file, typing-only ones too."""
    is_package = path.name == "__init__.py"
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # A relative import counts from the module's package (a package's own
                # __init__ is that package).
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append((node.lineno, target))
            # `from lookup import services` names a module in the alias, not in `module`.
            names.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return names


def outside(name: str, package: str) -> bool:
    """Return True if importing `name` reaches beyond `package` into Django or lookup."""
    if name == "django" or name.startswith("django."):
        return True
    if name == "lookup":
        return False  # the namespace both packages live in; lookup/__init__.py is empty
    return name.startswith("lookup.") and not (name == package or name.startswith(package + "."))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_stay_inside(package):
    found = modules(package)
    assert len(found) > 3, f"no modules found for {package}"
    crossings = [
        f"{path.relative_to(LOOKUP.parent)}:{line} imports {name}"
        for module, path in found
        for line, name in imported_names(module, path)
        if outside(name, package)
    ]
    assert crossings == []


def test_lookup_package_itself_imports_nothing():
    """Importing lookup.sandbox runs lookup/__init__.py first: it must stay free of imports."""
    tree = ast.parse((LOOKUP / "__init__.py").read_text(encoding="utf-8"))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_sandbox_is_stdlib_only():
    """The sandbox runs anywhere Python does: it needs no installed package at all."""
    third_party = [
        f"{path.relative_to(LOOKUP.parent)}:{line} imports {name}"
        for module, path in modules("lookup.sandbox")
        for line, name in imported_names(module, path)
        if name.split(".")[0] not in sys.stdlib_module_names | {"lookup", "__future__"}
    ]
    assert third_party == []


# Import every module in a fresh interpreter whose import system refuses Django and the rest
# of lookup: this also catches imports the AST cannot see (importlib, __import__).
BLOCKED_IMPORT = """
import importlib, importlib.abc, sys

package, names = sys.argv[1], sys.argv[2:]


class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        inside = name in ("lookup", package) or name.startswith(package + ".")
        if name.split(".")[0] == "django" or (name.startswith("lookup") and not inside):
            raise ImportError(f"{package} must not import {name}")
        return None


sys.meta_path.insert(0, Refuse())
for name in names:
    importlib.import_module(name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] == "django")
assert not leaked, leaked
"""


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_import_with_django_blocked(package):
    names = [module for module, _path in modules(package) if not module.endswith("__main__")]
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT, package, *names],
        cwd=LOOKUP.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
