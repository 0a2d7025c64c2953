"""The backend x device x dtype matrix every test suite cell runs in.

Cells: NumPy and array-api-strict always run (they are in the test extra: an error resolving
or probing them fails every test of theirs, never a skip); PyTorch (CPU) and JAX run when
installed; the GPU cells (CuPy, PyTorch CUDA, JAX GPU) run only when a *device probe* finds a
usable CUDA device; Dask, a lazy backend, runs in tests/test_dask.py only, when installed.
An optional cell that cannot run, for a missing library or device only, is a visible skip with
its reason; any other error fails. ``--backend NAME`` (repeatable) selects cells by backend
name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

os.environ.setdefault("JAX_ENABLE_X64", "True")  # float64 cells; before any JAX import

import portable_nn as pnn
from portable_nn.backend import BackendUnavailableError, resolve_backend

STRICT_API_VERSION = "2024.12"


@dataclass(frozen=True)
class Cell:
    """One backend x device cell of the matrix."""

    backend: str
    device: Any = None
    gpu: bool = False

    @property
    def id(self) -> str:
        return self.backend if self.device is None else f"{self.backend}-{self.device}"

    def resolve(self, dtype: str | None = None) -> pnn.Backend:
        return resolve_backend(self.backend, self.device, dtype)


CELLS = [
    Cell("numpy"),
    Cell("array_api_strict"),
    Cell("torch", "cpu"),
    Cell("jax"),
    Cell("cupy", 0, gpu=True),
    Cell("torch", "cuda:0", gpu=True),
    Cell("jax", "gpu", gpu=True),
]
CPU_CELLS = [c for c in CELLS if not c.gpu]
GPU_CELLS = [c for c in CELLS if c.gpu]
# lazy backends: correct but slow (a task graph per iteration), so only tests/test_dask.py runs
# them, through the ``lazy_cell`` fixture, instead of every ``cell`` test
LAZY_CELLS = [Cell("dask")]
DTYPES = ["float32", "float64"]
#: Cells every installation of the test extra can run: they never skip.
REQUIRED = frozenset({"numpy", "array_api_strict"})


class RequiredCellError(Exception):
    """A required cell (NumPy, array-api-strict) could not be resolved or probed."""


def _missing(cell: Cell) -> tuple[type[BaseException], ...]:
    """The errors that mean ``cell``'s library (or, for a GPU cell, its device) is missing."""
    if cell.backend in REQUIRED:
        return ()
    if cell.gpu:  # no CUDA device, a driver too old: ValueError / RuntimeError from the probe
        return (BackendUnavailableError, ImportError, ValueError, RuntimeError)
    return (BackendUnavailableError, ImportError)


@cache
def skip_reason(cell: Cell) -> str | None:
    """Why ``cell`` cannot run here (None when it can): an actual probe, not an import check.

    Raises :class:`RequiredCellError` for a required cell that fails, and lets any error of an
    optional cell other than a missing library or device through: neither is a skip.
    """
    try:
        _probe(cell)
    except _missing(cell) as exc:
        return f"{cell.id} not usable here: {str(exc).splitlines()[0][:200]}"
    except Exception as exc:
        if cell.backend in REQUIRED:
            raise RequiredCellError(
                f"the {cell.id} cell must run wherever the test extra is installed, but "
                f"resolving it failed: {type(exc).__name__}: {exc}") from exc
        raise
    return None


def _probe(cell: Cell) -> None:
    """Resolve ``cell`` and multiply two small arrays on it; raise when it cannot."""
    if cell.backend == "jax" and cell.gpu:
        import jax

        if not any(d.platform == "gpu" for d in jax.devices()):
            raise RuntimeError("JAX sees no GPU device")
        return
    if cell.backend == "array_api_strict":
        import array_api_strict

        array_api_strict.set_array_api_strict_flags(api_version=STRICT_API_VERSION)
    be = cell.resolve()
    xp = be.xp
    probe = xp.ones((2, 2), dtype=be.dtype, device=be.device) @ xp.ones(
        (2, 1), dtype=be.dtype, device=be.device)
    float(xp.sum(probe))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", action="append", default=None,
                     help="run only the cells of this backend (repeatable): numpy, "
                          "array_api_strict, torch, jax, cupy, dask")


def _selected(config: pytest.Config, cells: list[Cell]) -> list[Cell]:
    wanted = config.getoption("--backend")
    return [c for c in cells if not wanted or c.backend in wanted]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the cell fixtures (``cell``, ``cpu_cell``, ``gpu_cell``, ...) and ``dtype``."""
    for fixture, cells in (("cell", CELLS), ("cpu_cell", CPU_CELLS), ("gpu_cell", GPU_CELLS),
                           ("lazy_cell", LAZY_CELLS)):
        if fixture in metafunc.fixturenames:
            chosen = _selected(metafunc.config, cells)
            params = [pytest.param(c, id=c.id, marks=[pytest.mark.gpu] if c.gpu else [])
                      for c in chosen]
            metafunc.parametrize(fixture, params)
    if "dtype" in metafunc.fixturenames:
        metafunc.parametrize("dtype", DTYPES)


def _skip_unusable(cell: Cell, dtype: str | None) -> None:
    reason = skip_reason(cell)
    if reason:
        pytest.skip(reason)
    if dtype is not None:
        try:
            cell.resolve(dtype)
        except ValueError as exc:
            if cell.backend in REQUIRED:
                raise RequiredCellError(f"the {cell.id} cell must have {dtype}, but resolving "
                                        f"it failed: {exc}") from exc
            pytest.skip(f"{cell.id} has no {dtype}: {str(exc).splitlines()[0]}")


@pytest.fixture(autouse=True)
def _cell_guard(request: pytest.FixtureRequest) -> None:
    for name in ("cell", "cpu_cell", "gpu_cell", "lazy_cell"):
        if name in request.fixturenames:
            dtype = request.getfixturevalue("dtype") if "dtype" in request.fixturenames else None
            _skip_unusable(request.getfixturevalue(name), dtype)


@pytest.fixture
def planar_data():
    """The lesson's flower data set, NumPy (2, 400) and (1, 400)."""
    return pnn.datasets.planar()


@pytest.fixture(scope="module")
def small_data():
    """80 samples of the planar flower: enough to train, quick on every backend."""
    X, Y = pnn.datasets.planar()
    return X[:, ::5].copy(), Y[:, ::5].copy()
