"""Doctests of ``portable_nn`` that import an optional library skip, visibly, without it.

``pytest`` collects the package's docstring examples (``--doctest-modules``); an example that
needs Dask (or another extra) is a skip naming the library when it is not installed, as the
test cells are, instead of a failure of the README's test command on a fresh machine.
"""

from __future__ import annotations

import re
from importlib.util import find_spec

import pytest

OPTIONAL = ("dask", "torch", "jax", "cupy", "sklearn", "matplotlib", "scipy")

#: package modules that import an optional library at their top (only the backend's PyTorch
#: module builder): without the library their doctests cannot even be collected, so they are
#: left out, and the report's header says so
OPTIONAL_MODULES = {"portable_nn/backend/_torch_modules.py": "torch"}
collect_ignore = [path for path, library in OPTIONAL_MODULES.items()
                  if find_spec(library) is None]

#: package modules whose examples need an optional library without importing it themselves
#: (the module imports it on first use)
DOCTESTS_NEED = {"portable_nn.files._safetensors": "safetensors"}


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the package modules whose doctests are not collected (their library is missing)."""
    return [f"not collected: {path} (needs {OPTIONAL_MODULES[path]}, not installed)"
            for path in collect_ignore]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the doctests whose examples import a missing optional library as skipped."""
    for item in items:
        if not isinstance(item, pytest.DoctestItem) or item.dtest is None:
            continue
        source = "\n".join(example.source for example in item.dtest.examples)
        imported = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", source, flags=re.MULTILINE))
        needed = imported & set(OPTIONAL)
        needed |= {library for module, library in DOCTESTS_NEED.items()
                   if item.dtest.name.startswith(module + ".")}
        missing = sorted(name for name in needed if find_spec(name) is None)
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)} (not installed)"))
