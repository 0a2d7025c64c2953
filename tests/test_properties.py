"""Property-based tests (hypothesis) over random networks and data.

Random layer sizes (1-unit layers included), sample counts (``m = 1`` included), hidden
activations, outputs, initialisations and dtypes: shapes hold, costs are finite, backprop
matches central finite differences in float64, and models survive a save/load round trip.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import portable_nn as pnn
from portable_nn.core import ACTIVATIONS, OUTPUTS, cost_from_logits, l2_penalty

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Net:
    layer_dims: tuple[int, ...]
    m: int
    hidden_activation: str
    output: str
    init: str
    seed: int

    @property
    def hidden(self) -> tuple[int, ...]:
        return self.layer_dims[1:-1]

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        n_x, n_y = self.layer_dims[0], self.layer_dims[-1]
        X = rng.standard_normal((n_x, self.m))
        if self.output == "sigmoid":
            Y = rng.integers(0, 2, size=(n_y, self.m)).astype(np.float64)
        elif self.output == "softmax":
            Y = np.eye(n_y)[:, rng.integers(0, n_y, size=self.m)]
        else:
            Y = rng.standard_normal((n_y, self.m))
        return X, Y


@st.composite
def networks(draw) -> Net:
    output = draw(st.sampled_from(sorted(OUTPUTS)))
    n_x = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
    n_y = draw(st.integers(2, 4)) if output == "softmax" else draw(st.integers(1, 3))
    return Net(
        layer_dims=(n_x, *hidden, n_y),
        m=draw(st.integers(1, 7)),
        hidden_activation=draw(st.sampled_from(sorted(ACTIVATIONS))),
        output=output,
        init=draw(st.sampled_from(["small", "he", "xavier"])),
        seed=draw(st.integers(0, 2**16)),
    )


class TestShapesAndFiniteCosts:
    @pytest.mark.filterwarnings("ignore:X is square")  # drawn shapes: (n_x, m) by construction
    @SETTINGS
    @given(net=networks(), dtype=st.sampled_from(["float32", "float64"]),
           backend=st.sampled_from(["numpy", "array_api_strict"]))
    def test_train_predict_shapes(self, net, dtype, backend):
        X, Y = net.data()
        model = pnn.train(X, Y, hidden=net.hidden, hidden_activation=net.hidden_activation,
                          output=net.output, init=net.init, seed=net.seed, num_iterations=3,
                          cost_every=1, learning_rate=0.1, backend=backend, dtype=dtype,
                              recipe="lesson")
        assert model.layer_dims == net.layer_dims
        for layer in range(1, len(net.layer_dims)):
            assert tuple(model.params[f"W{layer}"].shape) == (net.layer_dims[layer],
                                                             net.layer_dims[layer - 1])
            assert tuple(model.params[f"b{layer}"].shape) == (net.layer_dims[layer], 1)
            assert model.params[f"W{layer}"].dtype == model.dtype
        assert sorted(model.costs) == [0, 1, 2]
        assert all(np.isfinite(c) for c in model.costs.values())
        n_y = net.layer_dims[-1]
        assert tuple(model.predict_proba(X).shape) == (n_y, net.m)
        expected = (1, net.m) if net.output == "softmax" else (n_y, net.m)
        assert tuple(model.predict(X).shape) == expected
        assert np.isfinite(model.cost(X, Y))

    @SETTINGS
    @given(net=networks())
    def test_forward_backward_shapes(self, net):
        X, Y = net.data()
        params = pnn.init_params(net.layer_dims, init=net.init, seed=net.seed)
        AL, cache = pnn.forward(params, X, hidden_activation=net.hidden_activation,
                                output=net.output)
        assert AL.shape == (net.layer_dims[-1], net.m)
        for layer, n in enumerate(net.layer_dims):
            assert cache[f"A{layer}"].shape == (n, net.m)
        grads = pnn.backward(params, cache, Y, hidden_activation=net.hidden_activation,
                             output=net.output)
        assert sorted(grads) == sorted(f"d{key}" for key in params)
        for key, value in params.items():
            assert grads[f"d{key}"].shape == value.shape
            assert np.all(np.isfinite(grads[f"d{key}"]))


def total_cost(params, X, Y, net: Net, l2: float) -> float:
    _, cache = pnn.forward(params, X, hidden_activation=net.hidden_activation,
                           output=net.output)
    L = len(net.layer_dims) - 1
    cost = cost_from_logits(cache[f"Z{L}"], Y, output=net.output, xp=np)
    return float(cost + l2_penalty(params, l2, net.m, xp=np)) if l2 else float(cost)


def numerical_gradients(params, X, Y, net: Net, l2: float, eps: float = 1e-6) -> dict:
    grads = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = value.copy(), value.copy()
            plus[index] += eps
            minus[index] -= eps
            grad[index] = (total_cost({**params, key: plus}, X, Y, net, l2)
                           - total_cost({**params, key: minus}, X, Y, net, l2)) / (2 * eps)
        grads[f"d{key}"] = grad
    return grads


class TestGradientCheck:
    @SETTINGS
    @given(net=networks(), l2=st.sampled_from([0.0, 0.7]))
    def test_backprop_matches_finite_differences(self, net, l2):
        X, Y = net.data()
        init = "xavier" if net.init == "small" else net.init  # informative, non-tiny weights
        params = pnn.init_params(net.layer_dims, init=init, seed=net.seed, dtype="float64")
        rng = np.random.default_rng(net.seed + 1)
        params = {k: v + (0.1 * rng.standard_normal(v.shape) if k.startswith("b") else 0.0)
                  for k, v in params.items()}
        _, cache = pnn.forward(params, X, hidden_activation=net.hidden_activation,
                               output=net.output)
        analytic = pnn.backward(params, cache, Y, hidden_activation=net.hidden_activation,
                                output=net.output, l2=l2)
        numeric = numerical_gradients(params, X, Y, net, l2)
        for key, value in analytic.items():
            np.testing.assert_allclose(value, numeric[key], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{key} of {net}")

    def test_check_can_fail(self):
        """A wrong gradient is caught: the check is not vacuous."""
        net = Net((2, 3, 1), 4, "tanh", "sigmoid", "xavier", 0)
        X, Y = net.data()
        params = pnn.init_params(net.layer_dims, init="xavier", seed=0)
        _, cache = pnn.forward(params, X)
        analytic = pnn.backward(params, cache, Y)
        numeric = numerical_gradients(params, X, Y, net, 0.0)
        with pytest.raises(AssertionError):
            np.testing.assert_allclose(analytic["dW1"] * 1.01, numeric["dW1"], rtol=1e-5,
                                       atol=1e-7)


class TestSaveLoadProperty:
    @settings(max_examples=15, deadline=None)
    @given(net=networks(), dtype=st.sampled_from(["float32", "float64"]))
    def test_round_trip_bit_identical(self, net, dtype):
        X, Y = net.data()
        model = pnn.train(X, Y, hidden=net.hidden, hidden_activation=net.hidden_activation,
                          output=net.output, init=net.init, seed=net.seed, num_iterations=2,
                          cost_every=1, learning_rate=0.1, dtype=dtype, recipe="lesson")
        with tempfile.TemporaryDirectory() as folder:
            path = model.save(os.path.join(folder, "m.npz"))
            loaded = pnn.load(path)
        assert loaded.layer_dims == net.layer_dims
        assert loaded.costs == model.costs
        for key, value in model.params.items():
            assert loaded.params[key].dtype == value.dtype
            assert np.array_equal(loaded.params[key], value)
