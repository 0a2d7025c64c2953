"""The core infers its array namespace from *all* the arrays of a call (issue 13): one array of
another library anywhere is a ``TypeError`` naming both arguments and libraries, in
``forward``, ``backward``, ``update``, ``optimizer_step`` and ``chunk_gradients``; with ``xp``
given nothing is inferred, and ``"adam"`` works without ``xp``."""

from __future__ import annotations

import re

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn import core
from portable_nn.backend import BackendUnavailableError, from_host, resolve_backend

LIBRARIES = ["numpy", "array_api_strict", "torch", "jax"]
TANH_SIGMOID = dict(hidden_activation="tanh", output="sigmoid")


@pytest.fixture(params=LIBRARIES)
def other(request, cpu_cell):
    """A float64 backend of another library than ``cpu_cell``'s (skipped when not installed)."""
    if request.param == cpu_cell.backend:
        pytest.skip("the same library")
    try:
        return resolve_backend(request.param, None, "float64")
    except (BackendUnavailableError, ValueError, ImportError) as exc:
        pytest.skip(f"{request.param} not usable here: {str(exc).splitlines()[0]}")


def _network(be, m: int = 6):
    """Parameters of a 2-3-1 network, X, Y and one dropout mask, all on ``be``."""
    rng = np.random.default_rng(0)
    params = pnn.init_params((2, 3, 1), init="he", seed=0, backend=be)
    X = from_host(rng.normal(size=(2, m)), be)
    Y = from_host((rng.random((1, m)) < 0.5) * 1.0, be)
    masks = {1: from_host((rng.random((3, m)) < 0.5) * 2.0, be)}
    return params, X, Y, masks


def _moved(array, be):
    """``array`` as an array of ``be``'s library."""
    return from_host(np.array(pnn.to_numpy(array)), be)  # a writable copy


def _refused(offender: str, library: str, reference: str, base: str):
    """``pytest.raises`` for the mixed-library message naming both arguments."""
    message = (f"{offender} is a {library} array but {reference} is a {base} array: every array "
               "must come from one library")
    return pytest.raises(TypeError, match=re.escape(message))


class TestForward:
    def test_foreign_parameter(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, X, _, _ = _network(be)
        params["W1"] = _moved(params["W1"], other)
        with _refused("params['W1']", other.name, "X", be.name):
            pnn.forward(params, X)

    def test_foreign_inputs(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, X, _, _ = _network(be)
        with _refused("params['W1']", be.name, "X", other.name):
            pnn.forward(params, _moved(X, other))

    def test_foreign_mask(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, X, _, masks = _network(be)
        with _refused("dropout_masks[1]", other.name, "X", be.name):
            pnn.forward(params, X, dropout_masks={1: _moved(masks[1], other)})

    def test_non_array_parameter(self):
        params, X, _, _ = _network(resolve_backend("numpy", None, "float64"))
        params["b2"] = [[0.0]]
        with pytest.raises(TypeError, match=r"params\['b2'\] is a list, not an array"):
            pnn.forward(params, X)


class TestBackward:
    @pytest.fixture
    def problem(self, cpu_cell):
        be = cpu_cell.resolve("float64")
        params, X, Y, _ = _network(be)
        _, cache = pnn.forward(params, X)
        return be, params, cache, Y

    def test_foreign_targets(self, problem, other):
        be, params, cache, Y = problem
        with _refused("Y", other.name, "params['W1']", be.name):
            pnn.backward(params, cache, _moved(Y, other))

    def test_foreign_cache_array(self, problem, other):
        be, params, cache, Y = problem
        cache = {**cache, "A1": _moved(cache["A1"], other)}
        with _refused("cache['A1']", other.name, "params['W1']", be.name):
            pnn.backward(params, cache, Y)

    def test_foreign_parameter(self, problem, other):
        be, params, cache, Y = problem
        params = {**params, "b2": _moved(params["b2"], other)}
        with _refused("params['b2']", other.name, "params['W1']", be.name):
            pnn.backward(params, cache, Y)

    def test_fused_form_too(self, problem, other):
        be, params, cache, Y = problem
        with _refused("Y", other.name, "params['W1']", be.name):
            core.backward_fused(params, cache, _moved(Y, other), **TANH_SIGMOID)


def _grads(be):
    params, X, Y, _ = _network(be)
    _, cache = pnn.forward(params, X)
    return params, pnn.backward(params, cache, Y)


class TestUpdate:
    def test_foreign_gradient(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, grads = _grads(be)
        grads["db1"] = _moved(grads["db1"], other)
        with _refused("grads['db1']", other.name, "params['W1']", be.name):
            pnn.update(params, grads, 0.1)


class TestOptimizerStep:
    @pytest.mark.parametrize(("optimizer", "where", "key"), [
        *((name, "grads", "dW2") for name in core.OPTIMIZERS),
        ("momentum", "state", "vb1"), ("adam", "state", "vb1"),
    ])
    def test_foreign_gradient_or_state(self, cpu_cell, other, optimizer, where, key):
        be = cpu_cell.resolve("float64")
        params, grads = _grads(be)
        arrays = {"grads": grads, "state": core.init_optimizer_state(optimizer, params)}
        arrays[where][key] = _moved(arrays[where][key], other)
        with _refused(f"{where}[{key!r}]", other.name, "params['W1']", be.name):
            core.optimizer_step(optimizer, params, arrays["grads"], arrays["state"], 0.1)


class TestChunkGradients:
    def test_foreign_targets(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, X, Y, _ = _network(be)
        with _refused("Y", other.name, "X", be.name):
            core.chunk_gradients(params, X, _moved(Y, other), m_total=6, **TANH_SIGMOID)

    def test_foreign_parameter(self, cpu_cell, other):
        be = cpu_cell.resolve("float64")
        params, X, Y, masks = _network(be)
        params["W2"] = _moved(params["W2"], other)
        with _refused("params['W2']", other.name, "X", be.name):
            core.chunk_gradients(params, X, Y, m_total=6, dropout_masks=masks, **TANH_SIGMOID)


class TestInferredNamespace:
    """Without ``xp`` every function runs on the arrays' own library; ``"adam"`` included."""

    @pytest.mark.parametrize("optimizer", core.OPTIMIZERS)
    def test_optimizer_without_xp(self, cpu_cell, optimizer):
        be = cpu_cell.resolve("float64")
        params, grads = _grads(be)
        state = core.init_optimizer_state(optimizer, params)
        inferred, _ = core.optimizer_step(optimizer, params, grads, state, 0.1)
        explicit, _ = core.optimizer_step(optimizer, params, grads, state, 0.1, xp=be.xp)
        for key, value in explicit.items():
            assert type(inferred[key]) is type(value), key
            assert np.array_equal(pnn.to_numpy(inferred[key]), pnn.to_numpy(value)), key
        assert _relative_change(inferred["W1"], params["W1"]) > 0

    def test_core_without_xp_matches_with_xp(self, cpu_cell):
        be = cpu_cell.resolve("float64")
        params, X, Y, masks = _network(be)
        _, cache = pnn.forward(params, X, dropout_masks=masks)
        _, cache_xp = pnn.forward(params, X, dropout_masks=masks, xp=be.xp)
        grads = pnn.backward(params, cache, Y)
        grads_xp = pnn.backward(params, cache_xp, Y, xp=be.xp)
        chunk, _ = core.chunk_gradients(params, X, Y, m_total=6, **TANH_SIGMOID)
        chunk_xp, _ = core.chunk_gradients(params, X, Y, m_total=6, xp=be.xp, **TANH_SIGMOID)
        for a, b in ((grads, grads_xp), (chunk, chunk_xp)):
            for key in b:
                assert np.array_equal(pnn.to_numpy(a[key]), pnn.to_numpy(b[key])), key


def _relative_change(a, b) -> float:
    a, b = pnn.to_numpy(a), pnn.to_numpy(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))
