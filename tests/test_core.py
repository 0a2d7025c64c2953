"""The core's numerics, checked on every backend cell.

- gradient check by central finite differences (float64) for every hidden activation x output,
  shallow and with three hidden layers;
- the documented shapes of parameters, cache entries and gradients;
- backend parity after 1,000 iterations on the planar data;
- the lesson's results (planar, 4 tanh units, lr 1.2, 10,000 iterations);
- compute_cost against hand-computed numbers, functional update, initialisation, planar data.

The reference computations (``gradient_check``, ``parity_params``, ``lesson_accuracy``, ...)
live in ``ci/core_reference.py``, which ``ci/report_figures.py`` also uses to print the figures
of the closing note: the figures printed are those checked here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from array_api_compat import device as array_device

import portable_nn as pnn
from ci.core_reference import (
    HIDDEN_ACTIVATIONS,
    KINK_MARGIN,
    OUTPUTS,
    PARITY_TOLERANCE,
    gradcheck_problem,
    gradient_check,
    hidden_preactivations,
    lesson_accuracy,
    norm_relative,
    parity_difference,
    parity_params,
    relative_difference,
)

GRAD_TOL = 1e-7

# Largest gradient-check relative difference seen in this session, per case (printed by -s).
GRADCHECK_DIFFS: dict[str, float] = {}


# --------------------------------------------------------------------------- helpers


def _tolerance(dtype: str) -> dict[str, float]:
    """Keyword arguments for numpy.testing.assert_allclose."""
    return {"rtol": 1e-12, "atol": 1e-14} if dtype == "float64" else {"rtol": 1e-5, "atol": 1e-6}


def _approx(expected: float, dtype: str):
    """pytest.approx with the dtype's tolerance."""
    tol = _tolerance(dtype)
    return pytest.approx(expected, rel=tol["rtol"], abs=tol["atol"])


# --------------------------------------------------------------------------- gradient check


class TestGradientCheck:
    """backward agrees with central finite differences of compute_cost (float64)."""

    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    def test_one_hidden_layer(self, cpu_cell, hidden_activation, output):
        n_y = 3 if output == "softmax" else 2 if output == "linear" else 1
        diffs = gradient_check(cpu_cell.backend, (3, 4, n_y), hidden_activation, output,
                               device=cpu_cell.device)
        GRADCHECK_DIFFS[f"{cpu_cell.id}/{hidden_activation}/{output}/shallow"] = max(
            diffs.values())
        assert diffs["overall"] < GRAD_TOL, diffs
        assert max(diffs.values()) < GRAD_TOL, diffs

    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    def test_three_hidden_layers(self, cpu_cell, hidden_activation, output):
        n_y = 3 if output == "softmax" else 1
        diffs = gradient_check(cpu_cell.backend, (3, 5, 4, 3, n_y), hidden_activation, output,
                               device=cpu_cell.device)
        GRADCHECK_DIFFS[f"{cpu_cell.id}/{hidden_activation}/{output}/deep"] = max(diffs.values())
        assert diffs["overall"] < GRAD_TOL, diffs
        assert max(diffs.values()) < GRAD_TOL, diffs

    def test_check_detects_a_wrong_gradient(self):
        """The check itself is sensitive: a 1e-4 error in one gradient entry is caught."""
        host_params, X, Y = gradcheck_problem((3, 4, 1), "tanh", "sigmoid")
        _, cache = pnn.forward(host_params, X)
        grads = pnn.backward(host_params, cache, Y)
        wrong = grads["dW1"].copy()
        wrong[0, 0] += 1e-4
        assert relative_difference(wrong, grads["dW1"]) > GRAD_TOL

    def test_kinks_are_avoided(self):
        host_params, X, _ = gradcheck_problem((3, 5, 4, 3, 1), "relu", "sigmoid")
        for Z in hidden_preactivations(host_params, X, "relu"):
            assert np.min(np.abs(Z)) > KINK_MARGIN

    def test_report_largest_difference(self):
        """Prints the largest difference seen by the checks above (run with -s)."""
        if not GRADCHECK_DIFFS:
            pytest.skip("no gradient check ran in this session (deselected)")
        case, worst = max(GRADCHECK_DIFFS.items(), key=lambda item: item[1])
        print(f"\nlargest gradient-check relative difference: {worst:.3e} ({case}, "
              f"{len(GRADCHECK_DIFFS)} cases)")
        assert worst < GRAD_TOL


# --------------------------------------------------------------------------- shapes

SHAPE_CASES = [
    pytest.param((2, 4, 1), 5, id="planar-shallow"),
    pytest.param((3, 5, 4, 3, 2), 7, id="deep"),
    pytest.param((1, 1, 1, 1), 4, id="single-unit"),
    pytest.param((1, 1, 1, 1), 1, id="single-unit-m1"),
    pytest.param((4, 1), 1, id="no-hidden-m1"),
]


class TestShapes:
    """Every parameter, cache entry and gradient has its documented shape, dtype and device."""

    @pytest.mark.parametrize(("layer_dims", "m"), SHAPE_CASES)
    def test_params_cache_grads(self, cpu_cell, dtype, layer_dims, m):
        be = cpu_cell.resolve(dtype)
        L = len(layer_dims) - 1
        params = pnn.init_params(layer_dims, init="he", seed=3, backend=be)
        assert sorted(params) == sorted([f"{p}{k}" for k in range(1, L + 1) for p in "Wb"])
        rng = np.random.default_rng(0)
        X = pnn.backend.to_backend(rng.normal(size=(layer_dims[0], m)), be)
        Y = pnn.backend.to_backend((rng.random((layer_dims[-1], m)) < 0.5) * 1.0, be)
        AL, cache = pnn.forward(params, X)
        grads = pnn.backward(params, cache, Y)
        assert tuple(AL.shape) == (layer_dims[-1], m)
        assert sorted(cache) == sorted([f"A{k}" for k in range(L + 1)] + [f"Z{L}"])
        assert tuple(cache[f"Z{L}"].shape) == (layer_dims[-1], m)
        assert sorted(grads) == sorted(f"d{key}" for key in params)
        for layer in range(1, L + 1):
            n, n_prev = layer_dims[layer], layer_dims[layer - 1]
            assert tuple(params[f"W{layer}"].shape) == (n, n_prev)
            assert tuple(params[f"b{layer}"].shape) == (n, 1)
            assert tuple(grads[f"dW{layer}"].shape) == (n, n_prev)
            assert tuple(grads[f"db{layer}"].shape) == (n, 1)
        for layer in range(L + 1):
            assert tuple(cache[f"A{layer}"].shape) == (layer_dims[layer], m)
        everything = [*params.values(), *cache.values(), *grads.values()]
        expected_device = array_device(X) if be.device is None else be.device
        for array in everything:
            assert array.dtype == be.dtype
            assert array_device(array) == expected_device
        assert math.isfinite(pnn.compute_cost(AL, Y, logits=cache[f"Z{L}"]))

    def test_single_unit_network_trains(self, cpu_cell, dtype):
        X = np.linspace(-2.0, 2.0, 8).reshape(1, 8)
        Y = (X > 0).astype(np.float64)
        model = pnn.train(X, Y, hidden=(1, 1), learning_rate=0.5, num_iterations=300,
                          init="xavier", backend=cpu_cell.backend, device=cpu_cell.device,
                          dtype=dtype, cost_every=50, recipe="lesson")
        assert model.layer_dims == (1, 1, 1, 1)
        assert tuple(model.params["W2"].shape) == (1, 1)
        assert all(math.isfinite(c) for c in model.costs.values())
        assert model.costs[250] < model.costs[0]
        assert tuple(model.predict(X).shape) == (1, 8)
        assert tuple(model.predict_proba(X[:, :1]).shape) == (1, 1)


# --------------------------------------------------------------------------- parity

_REFERENCE: dict[str, dict[str, np.ndarray]] = {}


def _numpy_reference() -> dict[str, np.ndarray]:
    if "ref" not in _REFERENCE:
        _REFERENCE["ref"] = {k: np.asarray(v) for k, v in parity_params("numpy").items()}
    return _REFERENCE["ref"]


class TestBackendParity:
    """After 1,000 planar iterations every cell agrees with the NumPy float64 run."""

    def test_parameters_agree(self, cell, dtype):
        reference = _numpy_reference()
        params = parity_params(cell.backend, cell.device, dtype)
        difference = parity_difference(params, reference)
        print(f"\n{cell.id} {dtype}: largest relative parameter difference {difference:.3e}")
        assert difference < PARITY_TOLERANCE[dtype]

    def test_reference_moved(self):
        """The comparison is meaningful: 1,000 iterations moved the weights far from the start."""
        reference = _numpy_reference()
        start = pnn.init_params((2, 4, 1), seed=0)
        assert norm_relative(start["W1"], reference["W1"]) > 0.5


# --------------------------------------------------------------------------- lesson results


@pytest.mark.slow
class TestLessonResults:
    """Planar data, 4 tanh units, learning rate 1.2, 10,000 iterations (one run per cell)."""

    def test_four_tanh_units_reach_90_percent(self, cpu_cell):
        accuracy = lesson_accuracy(cpu_cell.backend, cpu_cell.device, "float64")
        print(f"\n{cpu_cell.id} float64 planar accuracy: {accuracy:.4f}")
        assert accuracy >= 0.90

    def test_torch_default_float32(self):
        pytest.importorskip("torch")
        accuracy = lesson_accuracy("torch", "cpu", None)
        print(f"\ntorch float32 planar accuracy: {accuracy:.4f}")
        assert accuracy >= 0.90

    def test_no_hidden_layer_stays_near_047(self, cpu_cell):
        accuracy = lesson_accuracy(cpu_cell.backend, cpu_cell.device, "float64", hidden=0)
        print(f"\n{cpu_cell.id} logistic regression accuracy: {accuracy:.4f}")
        assert 0.44 <= accuracy <= 0.50


# --------------------------------------------------------------------------- compute_cost


class TestComputeCost:
    """compute_cost against numbers computed by hand."""

    def _arrays(self, be, *arrays):
        return [pnn.backend.to_backend(np.asarray(a, dtype=np.float64), be) for a in arrays]

    def test_binary_cross_entropy(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        AL, Y = self._arrays(be, [[0.8, 0.1, 0.6]], [[1.0, 0.0, 0.0]])
        expected = -(math.log(0.8) + math.log(0.9) + math.log(0.4)) / 3
        assert pnn.compute_cost(AL, Y) == _approx(expected, dtype)

    def test_binary_cross_entropy_from_logits(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        z = [math.log(0.8 / 0.2), math.log(0.1 / 0.9)]
        AL, Y, Z = self._arrays(be, [[0.8, 0.1]], [[1.0, 0.0]], [z])
        expected = -(math.log(0.8) + math.log(0.9)) / 2
        cost = pnn.compute_cost(AL, Y, output="sigmoid", logits=Z)
        assert cost == _approx(expected, dtype)

    def test_saturated_logits_stay_finite(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        AL, Y, Z = self._arrays(be, [[1.0]], [[0.0]], [[800.0]])
        assert pnn.compute_cost(AL, Y, logits=Z) == pytest.approx(800.0, rel=1e-6)
        assert math.isfinite(pnn.compute_cost(AL, Y))

    def test_categorical_cross_entropy(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        probs = [[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]]
        onehot = [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
        AL, Y = self._arrays(be, probs, onehot)
        expected = -(math.log(0.7) + math.log(0.3)) / 2
        assert pnn.compute_cost(AL, Y, output="softmax") == _approx(expected, dtype)
        logits = [[math.log(p) + 1.5 for p in row] for row in probs]  # any shift per column
        (Z,) = self._arrays(be, logits)
        assert pnn.compute_cost(AL, Y, output="softmax", logits=Z) == _approx(expected, dtype)

    def test_half_mean_squared_error(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        AL, Y = self._arrays(be, [[1.0, 2.0, 4.0], [0.0, 0.5, 1.0]],
                             [[1.5, 2.0, 1.0], [0.0, 0.0, 1.0]])
        expected = (0.25 + 0 + 9 + 0 + 0.25 + 0) / (2 * 3)
        assert pnn.compute_cost(AL, Y, output="linear") == _approx(expected, dtype)
        assert pnn.compute_cost(AL, Y, output="linear", logits=AL) == _approx(expected, dtype)

    def test_returns_python_float(self, cpu_cell):
        be = cpu_cell.resolve("float64")
        AL, Y = self._arrays(be, [[0.5]], [[1.0]])
        assert type(pnn.compute_cost(AL, Y)) is float

    def test_shape_mismatch_is_an_error(self):
        with pytest.raises(ValueError, match="same shape"):
            pnn.compute_cost(np.full((1, 3), 0.5), np.ones((1, 2)))


# --------------------------------------------------------------------------- update


class TestUpdate:
    """update is W - lr dW, returns new arrays and leaves the old ones untouched."""

    def test_functional_and_correct(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        params = pnn.init_params((3, 2, 1), init="he", seed=4, backend=be)
        grads = {f"d{k}": v * 0.5 + 1.0 for k, v in params.items()}
        before = {k: pnn.to_numpy(v).copy() for k, v in params.items()}
        new = pnn.update(params, grads, 0.1)
        assert sorted(new) == sorted(params)
        for key, old in before.items():
            np.testing.assert_array_equal(pnn.to_numpy(params[key]), old)
            expected = old - 0.1 * (old * 0.5 + 1.0)
            np.testing.assert_allclose(pnn.to_numpy(new[key]), expected, **_tolerance(dtype))
            assert new[key] is not params[key]
            assert new[key].dtype == be.dtype


# --------------------------------------------------------------------------- init_params


class TestInitParams:
    """Host draws from the seed: the same starting weights on every backend."""

    def test_same_seed_same_weights_on_every_backend(self, cell, dtype):
        reference = pnn.init_params((2, 4, 3, 1), seed=7)
        params = pnn.init_params((2, 4, 3, 1), seed=7, backend=cell.backend,
                                 device=cell.device, dtype=dtype)
        for key, value in reference.items():
            np.testing.assert_array_equal(pnn.to_numpy(params[key]), value.astype(dtype))
            assert params[key].dtype == cell.resolve(dtype).dtype

    def test_seed_2_matches_the_lesson(self):
        params = pnn.init_params((2, 4, 1), seed=2)
        state = np.random.get_state()
        try:
            np.random.seed(2)
            W1 = np.random.randn(4, 2) * 0.01
            W2 = np.random.randn(1, 4) * 0.01
        finally:
            np.random.set_state(state)
        np.testing.assert_array_equal(params["W1"], W1)
        np.testing.assert_array_equal(params["W2"], W2)
        np.testing.assert_array_equal(params["b1"], np.zeros((4, 1)))
        np.testing.assert_array_equal(params["b2"], np.zeros((1, 1)))

    def test_different_seeds_differ(self):
        a, b = pnn.init_params((2, 4, 1), seed=0), pnn.init_params((2, 4, 1), seed=1)
        assert not np.array_equal(a["W1"], b["W1"])

    @pytest.mark.parametrize(("init", "scale"), [("he", 2.0), ("xavier", 1.0)])
    def test_scaled_inits(self, init, scale):
        params = pnn.init_params((5, 3, 2), init=init, seed=2)
        rng = np.random.RandomState(2)
        W1 = rng.standard_normal((3, 5)) * math.sqrt(scale / 5)
        W2 = rng.standard_normal((2, 3)) * math.sqrt(scale / 3)
        np.testing.assert_array_equal(params["W1"], W1)
        np.testing.assert_array_equal(params["W2"], W2)

    def test_mapping_used_exactly(self, cpu_cell, dtype):
        given = {"W1": [[1.0, -2.0]], "b1": [[0.5]]}
        params = pnn.init_params((2, 1), init=given, backend=cpu_cell.backend,
                                 device=cpu_cell.device, dtype=dtype)
        np.testing.assert_array_equal(pnn.to_numpy(params["W1"]), [[1.0, -2.0]])
        np.testing.assert_array_equal(pnn.to_numpy(params["b1"]), [[0.5]])


# --------------------------------------------------------------------------- planar data


def _lesson_recipe(m: int = 400, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The lesson's load_planar_dataset, re-implemented here independently."""
    np.random.seed(seed)
    N = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = 4 * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


class TestPlanar:
    """pnn.datasets.planar(): the flower data, bit for bit."""

    def test_shapes_dtypes_balance(self):
        X, Y = pnn.datasets.planar()
        assert X.shape == (2, 400)
        assert Y.shape == (1, 400)
        assert X.dtype == np.float64
        assert np.issubdtype(Y.dtype, np.integer)
        assert set(np.unique(Y)) == {0, 1}
        assert int(Y.sum()) == 200

    @pytest.mark.parametrize(("m", "seed"), [(400, 1), (10, 3)])
    def test_bit_exact_against_the_recipe(self, m, seed):
        state = np.random.get_state()
        try:
            X_ref, Y_ref = _lesson_recipe(m, seed)
        finally:
            np.random.set_state(state)
        X, Y = pnn.datasets.planar(m=m, seed=seed)
        np.testing.assert_array_equal(X, X_ref)
        np.testing.assert_array_equal(Y, Y_ref)

    def test_global_random_state_untouched(self):
        np.random.seed(123)
        expected = np.random.rand()
        np.random.seed(123)
        pnn.datasets.planar()
        assert np.random.rand() == expected
