"""Gradients summed over sample chunks (issue 10): the core's ``chunk_gradients`` and
``train(..., chunk_size=...)``, on every CPU cell."""

from __future__ import annotations

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.backend import from_host
from portable_nn.core import chunk_gradients, cost_from_logits, l2_penalty

HIDDEN_ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax", "linear"]
REL_F64 = 1e-12


def _problem(output: str, m: int = 23, seed: int = 0):
    """Float64 host parameters, inputs, targets and dropout masks of a 3-5-4-n_y network."""
    rng = np.random.default_rng(seed)
    n_y = 3 if output == "softmax" else 1
    dims = (3, 5, 4, n_y)
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
    masks = {layer: (rng.random((dims[layer], m)) < 0.7) / 0.7 for layer in (1, 2)}
    return params, X, Y, masks


def _relative(a, b) -> float:
    a, b = pnn.to_numpy(a), pnn.to_numpy(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


class TestChunkGradients:
    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    @pytest.mark.parametrize("dropout", [False, True], ids=["plain", "dropout"])
    def test_sum_over_chunks_equals_backward(self, cpu_cell, hidden_activation, output,
                                             dropout):
        be = cpu_cell.resolve("float64")
        host_params, host_X, host_Y, host_masks = _problem(output)
        params = {k: from_host(v, be) for k, v in host_params.items()}
        X, Y = from_host(host_X, be), from_host(host_Y, be)
        masks = {k: from_host(v, be) for k, v in host_masks.items()} if dropout else None
        l2, m, size = 0.3, host_X.shape[1], 5  # 23 = 4 x 5 + an uneven last chunk of 3
        options = dict(hidden_activation=hidden_activation, output=output, xp=be.xp)
        total, cost = None, 0.0
        for start in range(0, m, size):
            cols = slice(start, min(start + size, m))
            chunk_masks = None if masks is None else {k: v[:, cols] for k, v in masks.items()}
            grads, share = chunk_gradients(params, X[:, cols], Y[:, cols], m_total=m,
                                           dropout_masks=chunk_masks, with_cost=True,
                                           **options)
            total = grads if total is None else {k: total[k] + g for k, g in grads.items()}
            cost = cost + share
        for key, W in params.items():
            if key.startswith("W"):
                total[f"d{key}"] = total[f"d{key}"] + (l2 / m) * W
        _, cache = pnn.forward(params, X, dropout_masks=masks, **options)
        full = pnn.backward(params, cache, Y, l2=l2, **options)
        assert list(total) == list(full)
        for key in full:
            assert tuple(total[key].shape) == tuple(full[key].shape), key
            assert _relative(total[key], full[key]) <= REL_F64, key
        xp = be.xp
        expected = cost_from_logits(cache["Z3"], Y, output=output, xp=xp)
        got = cost + l2_penalty(params, l2, m, xp=xp)
        expected = expected + l2_penalty(params, l2, m, xp=xp)
        assert abs(float(got) - float(expected)) <= REL_F64 * abs(float(expected))

    def test_no_cost_unless_asked(self):
        params, X, Y, _ = _problem("sigmoid")
        _, cost = chunk_gradients(params, X, Y, m_total=X.shape[1],
                                  hidden_activation="tanh", output="sigmoid")
        assert cost is None

    def test_one_chunk_is_backward_exactly(self):
        params, X, Y, _ = _problem("softmax")
        grads, _ = chunk_gradients(params, X, Y, m_total=X.shape[1],
                                   hidden_activation="relu", output="softmax")
        _, cache = pnn.forward(params, X, hidden_activation="relu", output="softmax")
        full = pnn.backward(params, cache, Y, hidden_activation="relu", output="softmax")
        for key in full:
            assert np.array_equal(grads[key], full[key]), key

    @pytest.mark.parametrize("m_total", [0, 3, -1])
    def test_m_total_below_the_chunk_is_refused(self, m_total):
        params, X, Y, _ = _problem("sigmoid")
        with pytest.raises(ValueError, match="m_total"):
            chunk_gradients(params, X[:, :5], Y[:, :5], m_total=m_total,
                            hidden_activation="tanh", output="sigmoid")

    def test_m_total_must_be_an_int(self):
        params, X, Y, _ = _problem("sigmoid")
        with pytest.raises(TypeError, match="m_total"):
            chunk_gradients(params, X, Y, m_total=23.0, hidden_activation="tanh",
                            output="sigmoid")
