"""The backend cell fixture never hides a broken required cell (issue 18, family 10).

NumPy and array-api-strict are in the test extra: an error resolving or probing them (a broken
selector, a failed import) must fail their tests, not turn them into skips and leave the suite
green. Optional cells skip, visibly, only for a missing library or device.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from portable_nn.backend import BackendUnavailableError


@pytest.fixture
def cells(request, monkeypatch):
    """The suite's tests/conftest.py module, its probe cache cleared before and after."""
    here = Path(__file__).with_name("conftest.py").resolve()
    module = next(p for p in request.config.pluginmanager.get_plugins()
                  if getattr(p, "__file__", None) and Path(p.__file__).resolve() == here)
    module.skip_reason.cache_clear()
    yield module
    monkeypatch.undo()
    module.skip_reason.cache_clear()


def _broken(error):
    def resolve(self, dtype=None):
        raise error
    return resolve


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
@pytest.mark.parametrize("error", [ValueError("broken selector"), ImportError("broken import"),
                                   RuntimeError("broken probe"),
                                   BackendUnavailableError("reported unusable")])
def test_required_cell_fails_instead_of_skipping(cells, monkeypatch, backend, error):
    monkeypatch.setattr(cells.Cell, "resolve", _broken(error))
    with pytest.raises(cells.RequiredCellError, match=str(error)):
        cells._skip_unusable(cells.Cell(backend), None)


def test_required_cell_missing_module_fails(cells, monkeypatch):
    monkeypatch.setitem(sys.modules, "array_api_strict", None)  # import raises ImportError
    with pytest.raises(cells.RequiredCellError, match="array_api_strict"):
        cells._skip_unusable(cells.Cell("array_api_strict"), None)


@pytest.mark.parametrize("backend", ["numpy", "array_api_strict"])
def test_required_cell_dtype_error_fails(cells, monkeypatch, backend):
    original = cells.Cell.resolve

    def resolve(self, dtype=None):
        if dtype is not None:
            raise ValueError(f"no {dtype}")
        return original(self, dtype)

    monkeypatch.setattr(cells.Cell, "resolve", resolve)
    with pytest.raises(cells.RequiredCellError, match="no float64"):
        cells._skip_unusable(cells.Cell(backend), "float64")


def test_required_cells_run_here(cells):
    for backend in ("numpy", "array_api_strict"):
        assert cells.skip_reason(cells.Cell(backend)) is None


@pytest.mark.parametrize("error", [BackendUnavailableError("torch is not installed"),
                                   ImportError("No module named 'torch'")])
def test_optional_cell_skips_for_a_missing_library(cells, monkeypatch, error):
    monkeypatch.setattr(cells.Cell, "resolve", _broken(error))
    with pytest.raises(pytest.skip.Exception, match="torch-cpu not usable here"):
        cells._skip_unusable(cells.Cell("torch", "cpu"), None)


@pytest.mark.parametrize("error", [ValueError("a bug"), RuntimeError("a bug")])
def test_optional_cpu_cell_fails_on_other_errors(cells, monkeypatch, error):
    monkeypatch.setattr(cells.Cell, "resolve", _broken(error))
    with pytest.raises(type(error), match="a bug"):
        cells._skip_unusable(cells.Cell("torch", "cpu"), None)


def test_gpu_cell_skips_without_a_device(cells, monkeypatch):
    monkeypatch.setattr(cells.Cell, "resolve", _broken(ValueError("no CUDA device here")))
    with pytest.raises(pytest.skip.Exception, match="no CUDA device"):
        cells._skip_unusable(cells.Cell("torch", "cuda:0", gpu=True), None)
