"""The package's doors are one-way and public: no module reaches into another package's privates.

- no module outside ``portable_nn/backend`` imports a private module of the backend
  (``portable_nn.backend._io`` and the like): the backend's ``__init__`` exports what others use;
- more generally, no module imports a private module of a package it is not part of
  (``portable_nn.datasets._table`` from ``tools/cli.py``, for instance);
- no script of ``ci/`` or ``benchmarks/`` imports a test module (``test_*`` or ``conftest``).

Imports are read from the source with :mod:`ast` (``import a.b``, ``from a.b import c``,
``from a import _b`` and relative imports), so nothing is executed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "portable_nn"

def module_name(path: Path) -> str:
    """``portable_nn.training._init`` for ``portable_nn/training/_init.py``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, importer: str, *, is_package: bool = False) -> list[str]:
    """Every dotted name an import statement of ``source`` reaches, resolved to absolute names.

    ``from a.b import c`` reaches ``a.b`` and ``a.b.c`` (``c`` may be a module); relative
    imports are resolved against ``importer`` (a package's ``__init__`` counts as the package).
    """
    names = []
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = base[:len(base) - node.level + 1] if node.level else []
            module = ".".join([*parent, *([node.module] if node.module else [])])
            names.append(module)
            names += [f"{module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return names


def private_owner(name: str) -> tuple[str, str] | None:
    """``(private module, the package that owns it)`` for the first private part of ``name``.

    ``portable_nn.backend._io.NpzArchive`` -> ``("portable_nn.backend._io",
    "portable_nn.backend")``; dunder names (``__version__``) are not private modules.
    """
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index + 1]), ".".join(parts[:index])
    return None


def foreign_private_imports(source: str, importer: str, *, is_package: bool = False,
                            owner_prefix: str = "portable_nn") -> list[str]:
    """The private modules of other packages that ``source`` (module ``importer``) imports."""
    found = []
    for name in imported_names(source, importer, is_package=is_package):
        owned = private_owner(name)
        if owned is None or not name.startswith(owner_prefix):
            continue
        module, owner = owned
        if not (importer == owner or importer.startswith(owner + ".")) and module not in found:
            found.append(module)
    return found


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _params(paths: list[Path]) -> list:
    return [pytest.param(path, id=str(path.relative_to(ROOT))) for path in paths]


def _imports_of(path: Path) -> list[str]:
    return foreign_private_imports(path.read_text(encoding="utf-8"), module_name(path),
                                   is_package=path.name == "__init__.py")


class TestFinder:
    """The finder itself: each kind of import statement is caught, and public ones are not."""

    @pytest.mark.parametrize(("source", "importer", "expected"), [
        ("from portable_nn.backend._io import NpzArchive", "portable_nn.training._x",
         ["portable_nn.backend._io"]),
        ("import portable_nn.backend._random", "portable_nn.tools.cli",
         ["portable_nn.backend._random"]),
        ("from portable_nn.backend import _compile", "portable_nn.training._x",
         ["portable_nn.backend._compile"]),
        ("from ..backend._io import write_npz_atomic", "portable_nn.training._x",
         ["portable_nn.backend._io"]),
        ("from portable_nn.datasets._table import read_table", "portable_nn.tools.cli",
         ["portable_nn.datasets._table"]),
        ("def f():\n    from portable_nn.backend._compile import compile_steps\n",
         "portable_nn.training._x", ["portable_nn.backend._compile"]),
    ])
    def test_private_imports_are_found(self, source, importer, expected):
        assert foreign_private_imports(source, importer) == expected

    @pytest.mark.parametrize(("source", "importer"), [
        ("from portable_nn.backend import NpzArchive, compile_steps", "portable_nn.training._x"),
        ("from portable_nn.backend._io import NpzArchive", "portable_nn.backend._persist"),
        ("from portable_nn.backend._io import NpzArchive", "portable_nn.backend"),
        ("from portable_nn._version import __version__", "portable_nn.training._persistence"),
        ("from portable_nn.training import _check_inputs as check", "portable_nn.training._train"),
        ("from . import _check_inputs", "portable_nn.training._train"),
    ])
    def test_own_and_public_imports_pass(self, source, importer):
        assert foreign_private_imports(source, importer) == []

    def test_package_init_resolves_relative_imports_to_itself(self):
        found = foreign_private_imports("from ._io import NpzArchive", "portable_nn.backend",
                                        is_package=True)
        assert found == []


class TestBackendPrivateModules:
    """Outside ``portable_nn/backend``, the backend is used through its public names only."""

    @pytest.mark.parametrize("path", _params([p for p in package_files()
                                              if "backend" not in p.relative_to(PACKAGE).parts]))
    def test_no_private_backend_module(self, path):
        backend_private = [m for m in _imports_of(path) if m.startswith("portable_nn.backend.")]
        assert backend_private == [], (
            f"{path.relative_to(ROOT)} imports {backend_private}: import the names from "
            "portable_nn.backend (export them in its __init__ and __all__)")


class TestCrossPackagePrivateModules:
    """No module imports a private module of a package it is not part of."""

    @pytest.mark.parametrize("path", _params(package_files()))
    def test_no_foreign_private_module(self, path):
        found = _imports_of(path)
        assert found == [], (
            f"{path.relative_to(ROOT)} imports the private modules {found} of another package: "
            "use that package's public names")


class TestScriptsImportNoTests:
    """``ci/`` and ``benchmarks/`` are built on the package (and ``ci/core_reference.py``)."""

    @pytest.mark.parametrize("path", sorted([*(ROOT / "ci").glob("*.py"),
                                             *(ROOT / "benchmarks").glob("*.py")]),
                             ids=lambda p: str(p.relative_to(ROOT)))
    def test_no_test_module_imported(self, path):
        names = imported_names(path.read_text(encoding="utf-8"), module_name(path))
        tests = [n for n in names
                 if n.split(".")[0].startswith("test_") or n.split(".")[0] == "conftest"]
        assert tests == [], f"{path.relative_to(ROOT)} imports the test modules {tests}"
