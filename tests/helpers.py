"""Helpers shared by the test modules (pytest puts tests/ on the path: `import helpers`)."""

from __future__ import annotations

import numpy as np

import portable_nn as pnn
from benchmarks.export import network
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


def random_problem(output: str, hidden: tuple[int, ...], m: int, seed: int = 0):
    """Host float64 parameters, ``X`` and ``Y`` of a ``(3, *hidden, n_y)`` network, and the
    generator they came from (for further draws): N(0, 1) parameters and inputs, 0/1, one-hot
    (3 classes) or N(0, 1) targets for ``output`` sigmoid, softmax or linear."""
    rng = np.random.default_rng(seed)
    n_y = 3 if output == "softmax" else 1
    dims = (3, *hidden, n_y)
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.normal(size=(dims[layer], dims[layer - 1]))
        params[f"b{layer}"] = rng.normal(size=(dims[layer], 1))
    X = rng.normal(size=(dims[0], m))
    if output == "sigmoid":
        Y = (rng.random((1, m)) < 0.5).astype(np.float64)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, m)]
    else:
        Y = rng.normal(size=(1, m))
    return params, X, Y, rng


# ------------------------------------------------- exported models (ONNX, PyTorch)


def random_model(dims, hidden_activation, output, dtype, *, seed=0, standardize=True):
    """A Model of N(0, 4/n) weights, N(0, 1) biases and a random standardisation (the export
    benchmark's networks, :func:`benchmarks.export.network`)."""
    return network(dims, hidden_activation, output, dtype, seed, standardize=standardize)


def worst_relative(found, expected):
    """The largest ``|found - expected| / scale``, ``scale`` each element's magnitude or, when
    larger, the largest magnitude of its output column over the batch.

    Relative to the output's own scale: a linear output near 0 is a cancellation, and a tiny
    probability is ``exp`` of a pre-activation whose absolute rounding error (a few float32
    epsilons times its size, since the two libraries sum the matrix products in different
    orders) becomes its relative error; neither is a property of the export.
    ``benchmarks/export.py --accuracy`` prints both this and the element-by-element worst.
    """
    scale = np.maximum(np.abs(expected), np.abs(expected).max(axis=0, keepdims=True))
    return float(np.max(np.abs(found - expected) / np.maximum(scale, np.finfo(scale.dtype).tiny)))
