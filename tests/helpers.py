"""Helpers shared by the test modules (pytest puts tests/ on the path: `import helpers`)."""

from __future__ import annotations

import numpy as np

import portable_nn as pnn
from ci.core_reference import numeric_gradient  # noqa: F401 (central differences, for the tests)


def on(cell, **kwargs):
    """Keyword arguments that put a run on ``cell``'s backend and device."""
    return dict(backend=cell.backend, device=cell.device, **kwargs)


def host(model):
    """The model's parameters as NumPy copies."""
    return {key: pnn.to_numpy(value).copy() for key, value in model.params.items()}


def assert_params_equal(a, b):
    """Bit-identical parameter dicts: same keys, dtypes and values."""
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert np.array_equal(a[key], b[key]), key


def assert_runs_close(a, b, tol):
    """Two training runs agree: same recorded iterations, costs and parameters within ``tol``
    (``assert_allclose`` keywords), same iteration count. Parameters on any backend."""
    assert list(a.costs) == list(b.costs)
    np.testing.assert_allclose(list(a.costs.values()), list(b.costs.values()), **tol)
    for key, value in b.params.items():
        np.testing.assert_allclose(pnn.to_numpy(a.params[key]), pnn.to_numpy(value), **tol,
                                   err_msg=key)
    assert a.iterations == b.iterations
