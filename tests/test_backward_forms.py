"""The two forms of backpropagation (issue 13): the lesson-literal ``pnn.backward`` and the
training loop's ``core.backward_fused``, and that the lesson's own step (``update`` of
``backward``) is what ``pnn.train`` runs, to 1e-12 in float64, on every CPU cell."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_problem

import portable_nn as pnn
from portable_nn import core
from portable_nn.backend import from_host

REL = 1e-12  # float64, relative to each array's largest entry
HIDDEN_ACTIVATIONS = sorted(core.ACTIVATIONS)
OUTPUTS = list(core.OUTPUTS)
DEPTHS = {1: (4,), 2: (5, 4), 3: (5, 4, 3)}  # number of hidden layers -> their sizes
REGULARISATION = [  # (keep_prob, l2)
    pytest.param(1.0, 0.0, id="plain"),
    pytest.param(0.7, 0.0, id="dropout"),
    pytest.param(1.0, 0.3, id="l2"),
    pytest.param(0.7, 0.3, id="dropout-l2"),
]


def _relative(a, b) -> float:
    a, b = pnn.to_numpy(a), pnn.to_numpy(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _assert_close(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for key in expected:
        assert tuple(got[key].shape) == tuple(expected[key].shape), key
        assert _relative(got[key], expected[key]) <= REL, (key, _relative(got[key], expected[key]))


def _problem(output: str, hidden: tuple[int, ...], m: int = 29, seed: int = 0):
    """Host float64 parameters, ``X`` and ``Y`` of a 3-hidden-n_y network."""
    return random_problem(output, hidden, m, seed)[:3]


def _on(be, host: dict) -> dict:
    return {key: from_host(value, be) for key, value in host.items()}


def _masks(hidden: tuple[int, ...], m: int, keep_prob: float, seed: int = 1) -> dict | None:
    if keep_prob == 1.0:
        return None
    rng = np.random.default_rng(seed)
    return {layer: (rng.random((n, m)) < keep_prob) / keep_prob
            for layer, n in enumerate(hidden, start=1)}


class TestFusedIsScaledBackward:
    """``backward_fused(scale=s)`` equals ``s * backward`` for every hidden activation, output,
    dropout/L2 combination and depth (1-3 hidden layers), with ``s`` a float or a 0-d array."""

    @pytest.mark.parametrize(("keep_prob", "l2"), REGULARISATION)
    @pytest.mark.parametrize("depth", sorted(DEPTHS))
    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    def test_equal(self, cpu_cell, hidden_activation, output, depth, keep_prob, l2):
        be = cpu_cell.resolve("float64")
        hidden = DEPTHS[depth]
        host_params, host_X, host_Y = _problem(output, hidden)
        params, X, Y = _on(be, host_params), from_host(host_X, be), from_host(host_Y, be)
        host_masks = _masks(hidden, host_X.shape[1], keep_prob)
        masks = None if host_masks is None else _on(be, host_masks)
        options = dict(hidden_activation=hidden_activation, output=output)
        _, cache = pnn.forward(params, X, dropout_masks=masks, **options)
        lesson = pnn.backward(params, cache, Y, l2=l2, **options)
        for scale in (0.37, from_host(np.asarray(0.37), be)):
            fused = core.backward_fused(params, cache, Y, l2=l2, scale=scale, **options)
            _assert_close(fused, {key: 0.37 * value for key, value in lesson.items()})

    def test_default_scale_is_one(self, cpu_cell):
        be = cpu_cell.resolve("float64")
        host_params, host_X, host_Y = _problem("sigmoid", (4,))
        params, X, Y = _on(be, host_params), from_host(host_X, be), from_host(host_Y, be)
        _, cache = pnn.forward(params, X)
        fused = core.backward_fused(params, cache, Y, hidden_activation="tanh", output="sigmoid")
        _assert_close(fused, pnn.backward(params, cache, Y))

    def test_cache_left_untouched(self):
        """The fused form's in-place rewrites write only arrays it made itself."""
        host_params, X, Y = _problem("sigmoid", (5, 4))
        masks = _masks((5, 4), X.shape[1], 0.7)
        _, cache = pnn.forward(host_params, X, dropout_masks=masks)
        before = {key: value.copy() for key, value in cache.items()}
        core.backward_fused(host_params, cache, Y, hidden_activation="tanh", output="sigmoid",
                            scale=0.5)
        for key, value in before.items():
            assert np.array_equal(cache[key], value), key


def _lesson_steps(params, X, Y, lr, n, *, l2, optimizer="gd", **options):
    """``n`` steps of the lesson's loop: forward, backward, then update / optimizer_step."""
    state = core.init_optimizer_state(optimizer, params)
    for _ in range(n):
        _, cache = pnn.forward(params, X, **options)
        grads = pnn.backward(params, cache, Y, l2=l2, **options)
        if optimizer == "gd":
            params = pnn.update(params, grads, lr)
        else:
            params, state = core.optimizer_step(optimizer, params, grads, state, lr)
    return params


TRAIN_CASES = [  # (hidden_activation, output, hidden, l2)
    pytest.param("tanh", "sigmoid", (4,), 0.0, id="planar"),
    pytest.param("relu", "softmax", (5, 4), 0.3, id="relu-softmax-l2"),
    pytest.param("sigmoid", "linear", (5, 4, 3), 0.0, id="sigmoid-linear-deep"),
    pytest.param("leaky_relu", "sigmoid", (5,), 0.3, id="leaky-l2"),
]


def _trained(cpu_cell, host_params, X, Y, lr, n, **options):
    model = pnn.train(X, Y, init=host_params, num_iterations=n, learning_rate=lr,
                      backend=cpu_cell.backend, device=cpu_cell.device, dtype="float64",
                      **options, recipe="lesson")
    return model.params


class TestUpdateOfBackwardIsTrain:
    """``update(params, backward(params, cache, Y), lr)`` is plain gradient descent's step in
    ``pnn.train`` (which runs the fused form): after 1 and after 10 iterations."""

    @pytest.mark.parametrize("iterations", [1, 10])
    @pytest.mark.parametrize(("hidden_activation", "output", "hidden", "l2"), TRAIN_CASES)
    def test_same_parameters(self, cpu_cell, hidden_activation, output, hidden, l2,
                             iterations):
        be = cpu_cell.resolve("float64")
        host_params, host_X, host_Y = _problem(output, hidden)
        options = dict(hidden_activation=hidden_activation, output=output)
        ours = _lesson_steps(_on(be, host_params), from_host(host_X, be), from_host(host_Y, be),
                             0.5, iterations, l2=l2, **options)
        theirs = _trained(cpu_cell, host_params, host_X, host_Y, 0.5, iterations,
                          hidden=hidden, l2=l2, **options)
        assert _relative(theirs["W1"], host_params["W1"]) > 1e-6  # training moved the weights
        _assert_close(ours, theirs)


class TestOptimizerStepIsTrain:
    """``optimizer_step`` on ``backward``'s gradients is ``pnn.train``'s momentum / Adam step,
    over 10 iterations."""

    @pytest.mark.parametrize(("optimizer", "lr"), [("momentum", 0.5), ("adam", 0.01)])
    @pytest.mark.parametrize(("hidden_activation", "output", "hidden", "l2"), TRAIN_CASES[:2])
    def test_same_parameters(self, cpu_cell, hidden_activation, output, hidden, l2, optimizer,
                             lr):
        be = cpu_cell.resolve("float64")
        host_params, host_X, host_Y = _problem(output, hidden)
        options = dict(hidden_activation=hidden_activation, output=output)
        ours = _lesson_steps(_on(be, host_params), from_host(host_X, be), from_host(host_Y, be),
                             lr, 10, l2=l2, optimizer=optimizer, **options)
        theirs = _trained(cpu_cell, host_params, host_X, host_Y, lr, 10, hidden=hidden, l2=l2,
                          optimizer=optimizer, **options)
        assert _relative(theirs["W1"], host_params["W1"]) > 1e-6
        _assert_close(ours, theirs)
