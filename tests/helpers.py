"""Helpers shared by the test modules (pytest puts tests/ on the path: `import helpers`)."""

from __future__ import annotations

import numpy as np

import portable_nn as pnn


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
