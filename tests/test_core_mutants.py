"""Tests that kill the mutants of ``core/`` the rest of the suite let survive (issue 18).

``mutmut run`` (docs/development.md) mutates ``portable_nn/core/``; every mutant the rest of
the selection let survive, other than the equivalent ones listed there, is killed by a test
here. The references are NumPy float64 written out by hand, never portable_nn's own
numerics. They run on every CPU cell the ``--backend`` option selects (NumPy and
array-api-strict always: those never skip).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn import core
from portable_nn.core.optimizers import OPTIMIZERS, hyperparams_of, make_optimizer, state_names

SHAPES = {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}


@pytest.fixture
def be(cpu_cell):
    return cpu_cell.resolve("float64")


def _on(be, arrays):
    return {k: be.xp.asarray(v, dtype=be.dtype, device=be.device) for k, v in arrays.items()}


def _host(arrays):
    return {k: (pnn.to_numpy(v) if not isinstance(v, int) else v) for k, v in arrays.items()}


def _random(seed, scale=1.0, prefix=""):
    rng = np.random.default_rng(seed)
    return {f"{prefix}{k}": scale * rng.standard_normal(s) for k, s in SHAPES.items()}


# ---------------------------------------------------------------- optimizers, by hand (NumPy)

HYPER = {"beta1": 0.7, "beta2": 0.95, "epsilon": 1e-3, "weight_decay": 0.2}


def _reference_steps(name, params, grads_seq, lr, h):
    """``name``'s update rule written out in NumPy float64 for each gradient in turn."""
    p = {k: v.copy() for k, v in params.items()}
    v = {k: np.zeros_like(x) for k, x in p.items()}
    s = {k: np.zeros_like(x) for k, x in p.items()}
    for t, grads in enumerate(grads_seq, start=1):
        for k in p:
            g = grads[f"d{k}"]
            if name == "gd":
                p[k] = p[k] - lr * g
            elif name == "momentum":
                v[k] = h["beta1"] * v[k] + (1 - h["beta1"]) * g
                p[k] = p[k] - lr * v[k]
            elif name == "nesterov":
                v[k] = h["beta1"] * v[k] + g
                p[k] = p[k] - lr * (g + h["beta1"] * v[k])
            else:  # adam, adamw
                if name == "adamw":
                    p[k] = p[k] * (1 - lr * h["weight_decay"])
                v[k] = h["beta1"] * v[k] + (1 - h["beta1"]) * g
                s[k] = h["beta2"] * s[k] + (1 - h["beta2"]) * g**2
                v_hat = v[k] / (1 - h["beta1"] ** t)
                s_hat = s[k] / (1 - h["beta2"] ** t)
                p[k] = p[k] - lr * v_hat / (np.sqrt(s_hat) + h["epsilon"])
    return p, v, s


class TestOptimizersByHand:
    """Three steps of every optimizer against its rule written out in NumPy float64."""

    @pytest.mark.parametrize("name", OPTIMIZERS)
    def test_three_steps(self, be, name):
        params = _random(0)
        grads_seq = [_random(1 + i, scale=0.5 + i, prefix="d") for i in range(3)]
        h = {k: HYPER[k] for k in hyperparams_of(name)}
        lr = 0.3
        want, v, s = _reference_steps(name, params, grads_seq, lr, h)
        got = _on(be, params)
        state = core.init_optimizer_state(name, got)
        for grads in grads_seq:
            got, state = core.optimizer_step(name, got, _on(be, grads), state, lr, **h)
        for k in SHAPES:
            np.testing.assert_allclose(pnn.to_numpy(got[k]), want[k], rtol=1e-12, atol=1e-14,
                                       err_msg=k)
        state = _host(state)
        if name in ("momentum", "nesterov", "adam", "adamw"):
            for k in SHAPES:
                np.testing.assert_allclose(state[f"v{k}"], v[k], rtol=1e-12, atol=1e-14)
        if name in ("adam", "adamw"):
            assert state["t"] == 3
            for k in SHAPES:
                np.testing.assert_allclose(state[f"s{k}"], s[k], rtol=1e-12, atol=1e-14)

    @pytest.mark.parametrize("name", OPTIMIZERS)
    def test_default_hyperparameters(self, be, name):
        """``optimizer_step``'s defaults: beta1=0.9, beta2=0.999, epsilon=1e-8,
        weight_decay=0.01 (only the optimizer's own are read)."""
        defaults = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01}
        h = {k: defaults[k] for k in hyperparams_of(name)}
        params, grads = _random(2), _random(3, prefix="d")
        want, _, _ = _reference_steps(name, params, [grads, grads], 0.05, h)
        got = _on(be, params)
        state = core.init_optimizer_state(name, got)
        for _ in range(2):
            got, state = core.optimizer_step(name, got, _on(be, grads), state, 0.05)
        for k in SHAPES:
            np.testing.assert_allclose(pnn.to_numpy(got[k]), want[k], rtol=1e-12, atol=1e-14)

    @pytest.mark.parametrize("name", OPTIMIZERS)
    def test_inputs_untouched_and_state_zero(self, be, name):
        params = _on(be, _random(4))
        before = _host(params)
        state = core.init_optimizer_state(name, params)
        names = state_names(name, list(SHAPES))
        assert sorted(state) == sorted(names[0] + names[1])
        for key, value in state.items():
            if key == "t":
                assert value == 0
                assert type(value) is int
            else:
                zero = pnn.to_numpy(value)
                assert zero.shape == SHAPES[key[1:]]
                assert not zero.any()
        grads = _on(be, _random(5, prefix="d"))
        core.optimizer_step(name, params, grads, state, 0.1)
        for k in SHAPES:
            np.testing.assert_array_equal(pnn.to_numpy(params[k]), before[k])

    def test_update_is_gradient_descent(self, be):
        params, grads = _random(6), _random(7, prefix="d")
        got = core.update(_on(be, params), _on(be, grads), 0.25)
        for k in SHAPES:
            np.testing.assert_allclose(pnn.to_numpy(got[k]), params[k] - 0.25 * grads[f"d{k}"],
                                       rtol=1e-15)


class TestOptimizerRegistry:
    def test_names_and_hyperparameters(self):
        assert OPTIMIZERS == ("gd", "momentum", "adam", "nesterov", "adamw")
        assert hyperparams_of("gd") == ()
        assert hyperparams_of("momentum") == ("beta1",)
        assert hyperparams_of("nesterov") == ("beta1",)
        assert hyperparams_of("adam") == ("beta1", "beta2", "epsilon")
        assert hyperparams_of("adamw") == ("beta1", "beta2", "epsilon", "weight_decay")

    def test_state_names(self):
        assert state_names("gd", ["W1", "b1"]) == ([], [])
        assert state_names("momentum", ["W1", "b1"]) == (["vW1", "vb1"], [])
        assert state_names("nesterov", ["W1"]) == (["vW1"], [])
        assert state_names("adamw", ["W1", "b1"]) == (["sW1", "sb1", "vW1", "vb1"], ["t"])

    @pytest.mark.parametrize("bad", [{}, {"beta1": 0.5, "beta2": 0.5}, {"beta2": 0.5}])
    def test_wrong_hyperparameters(self, bad):
        with pytest.raises(TypeError, match=r"^optimizer='momentum' takes the hyperparameters "
                                            r"\['beta1'\], got "):
            make_optimizer("momentum", **bad)

    @pytest.mark.parametrize("bad", ["rmsprop", None, 3, ["adam"], {"adam": 1}])
    def test_unknown(self, bad):
        names = "['gd', 'momentum', 'adam', 'nesterov', 'adamw']"
        with pytest.raises(ValueError, match="^" + re.escape(
                f"optimizer={bad!r} is unknown; expected one of {names}")):
            hyperparams_of(bad)

    def test_gd_state_needs_no_namespace(self):
        assert core.init_optimizer_state("gd", {"W1": object()}) == {}


# ---------------------------------------------------------------- a network by hand (NumPy)

def _g(name, z):
    return {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0.0),
            "leaky_relu": lambda v: np.where(v > 0, v, 0.01 * v),
            "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v))}[name](z)


def _g_prime(name, z):
    a = _g(name, z)
    return {"tanh": 1.0 - a**2, "relu": (z > 0) * 1.0, "leaky_relu": np.where(z > 0, 1.0, 0.01),
            "sigmoid": a * (1.0 - a)}[name]


def _reference(params, X, Y, hidden, output, masks=None):
    """Mean gradients and mean cost (no L2) of the network, forward and backward by hand."""
    masks = masks or {}
    L = len(params) // 2
    A, Zs, As = X, {}, {0: X}
    for layer in range(1, L + 1):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        Zs[layer] = Z
        if layer < L:
            A = _g(hidden, Z)
            As[layer] = A
            A = A * masks.get(layer, 1.0)
    m = X.shape[1]
    if output == "sigmoid":
        AL = 1.0 / (1.0 + np.exp(-Z))
        cost = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
    elif output == "softmax":
        e = np.exp(Z - Z.max(axis=0))
        AL = e / e.sum(axis=0)
        cost = -np.sum(Y * np.log(AL)) / m
    else:
        AL = Z
        cost = np.sum((Z - Y) ** 2) / (2 * m)
    grads = {}
    dZ = AL - Y
    for layer in range(L, 0, -1):
        seen = As[layer - 1] * masks.get(layer - 1, 1.0)
        grads[f"dW{layer}"] = dZ @ seen.T / m
        grads[f"db{layer}"] = dZ.sum(axis=1, keepdims=True) / m
        if layer > 1:
            dA = (params[f"W{layer}"].T @ dZ) * masks.get(layer - 1, 1.0)
            dZ = dA * _g_prime(hidden, Zs[layer - 1])
    return grads, cost


NET = {"W1": (4, 3), "b1": (4, 1), "W2": (2, 4), "b2": (2, 1)}


def _net_case(seed, output):
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s) for k, s in NET.items()}
    X = rng.standard_normal((3, 6))
    if output == "softmax":
        Y = np.eye(2)[:, rng.integers(0, 2, 6)]
    elif output == "sigmoid":
        Y = (rng.random((2, 6)) > 0.5) * 1.0
    else:
        Y = rng.standard_normal((2, 6))
    mask = np.where(rng.random((4, 6)) < 0.7, 1 / 0.7, 0.0)
    return params, X, Y, mask


class TestChunkGradientsByHand:
    """Chunk shares summed over a split of the columns: the mean gradient and cost by hand,
    for every hidden activation and output, with and without a dropout mask."""

    @pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh"])
    @pytest.mark.parametrize("output", ["softmax", "linear", "sigmoid"])
    @pytest.mark.parametrize("dropout", [False, True])
    def test_shares_sum_to_the_mean(self, be, hidden, output, dropout):
        params, X, Y, mask = _net_case(11, output)
        masks = {1: mask} if dropout else None
        want, want_cost = _reference(params, X, Y, hidden, output, masks)
        total, cost = {}, 0.0
        for cols in (slice(0, 2), slice(2, 6)):
            chunk_masks = None if masks is None else _on(be, {1: mask[:, cols]})
            grads, share = core.chunk_gradients(
                _on(be, params), _on(be, {"X": X[:, cols]})["X"], _on(be, {"Y": Y[:, cols]})["Y"],
                m_total=6, hidden_activation=hidden, output=output, dropout_masks=chunk_masks,
                with_cost=True)
            for key, value in grads.items():
                total[key] = total.get(key, 0.0) + pnn.to_numpy(value)
            cost += float(share)
        assert sorted(total) == sorted(want)
        for key in want:
            np.testing.assert_allclose(total[key], want[key], rtol=1e-11, atol=1e-13, err_msg=key)
        assert cost == pytest.approx(want_cost, rel=1e-12)

    def test_no_cost_unless_asked(self, be):
        params, X, Y, _ = _net_case(12, "sigmoid")
        grads, cost = core.chunk_gradients(_on(be, params), _on(be, {"X": X})["X"],
                                           _on(be, {"Y": Y})["Y"], m_total=6,
                                           hidden_activation="tanh", output="sigmoid")
        assert cost is None
        want, _ = _reference(params, X, Y, "tanh", "sigmoid")
        np.testing.assert_allclose(pnn.to_numpy(grads["dW1"]), want["dW1"], rtol=1e-12)

    @pytest.mark.parametrize("m_total", [23.0, "6", None])
    def test_m_total_must_be_an_int(self, m_total):
        params, X, Y, _ = _net_case(13, "sigmoid")
        with pytest.raises(TypeError, match=rf"^m_total must be an int, got {m_total!r}$"):
            core.chunk_gradients(params, X, Y, m_total=m_total, hidden_activation="tanh",
                                 output="sigmoid")


# ---------------------------------------------------------------- namespace inference messages

class TestNamespaceMessages:
    """``infer_namespace``'s refusals, word for word (Python scalars are skipped)."""

    TO_BACKEND = ("every array must come from one library; move them with "
                  "portable_nn.backend.to_backend")

    def test_mixed_after_a_scalar(self):
        import array_api_strict

        from portable_nn.core._namespace import infer_namespace

        with pytest.raises(TypeError) as info:
            infer_namespace(learning_rate=0.5, X=np.ones((2, 1)),
                            params={"W1": array_api_strict.ones((1, 2))})
        assert str(info.value) == (f"params['W1'] is a array_api_strict array but X is a numpy "
                                   f"array: {self.TO_BACKEND}")

    def test_not_an_array(self):
        from portable_nn.core._namespace import infer_namespace

        with pytest.raises(TypeError) as info:
            infer_namespace(X=np.ones((2, 1)), Y=[[1.0]])
        assert str(info.value) == ("Y is a list, not an array of a supported library "
                                   "(numpy, cupy, torch, jax, dask, array_api_strict)")

    @pytest.mark.parametrize("arguments", [{}, {"X": None}, {"learning_rate": 0.5},
                                           {"params": {}}])
    def test_no_array(self, arguments):
        from portable_nn.core._namespace import infer_namespace

        with pytest.raises(TypeError) as info:
            infer_namespace(**arguments)
        assert str(info.value) == ("no array given: pass at least one array, or the namespace "
                                   "as xp=")

    def test_other_refusals_pass_through(self, monkeypatch):
        """A refusal of arrays that each belong to one library is passed on verbatim."""
        from portable_nn.core import _namespace

        real = _namespace.array_namespace

        def refuse_pairs(*arrays, **kw):
            if len(arrays) > 1:
                raise TypeError("the library's own reason")
            return real(*arrays, **kw)

        monkeypatch.setattr(_namespace, "array_namespace", refuse_pairs)
        with pytest.raises(TypeError) as info:
            _namespace.infer_namespace(X=np.ones((2, 1)), Y=np.ones((1, 1)))
        assert str(info.value) == "the library's own reason"


class TestActivationsAtZero:
    """The derivatives' values at exactly ``a = 0`` are documented: 0 for ReLU, 0.01 for
    leaky ReLU (the unit counts as inactive), and the activations there are 0."""

    @pytest.mark.parametrize(("name", "slope"), [("relu", 0.0), ("leaky_relu", 0.01)])
    def test_derivative(self, be, name, slope):
        a = be.xp.asarray([[-2.0, -0.0, 0.0, 3.0]], dtype=be.dtype, device=be.device)
        got = pnn.to_numpy(core.activation_derivative(name)(a, xp=be.xp))
        np.testing.assert_array_equal(got, [[slope, slope, slope, 1.0]])

    @pytest.mark.parametrize(("name", "slope"), [("relu", 0.0), ("leaky_relu", 0.01)])
    def test_activation(self, be, name, slope):
        z = be.xp.asarray([[-2.0, 0.0, 3.0]], dtype=be.dtype, device=be.device)
        got = pnn.to_numpy(core.activation(name)(z, xp=be.xp))
        np.testing.assert_array_equal(got, [[-2.0 * slope, 0.0, 3.0]])



# ---------------------------------------------------------------- dropout masks in forward

NET3 = {"W1": (4, 3), "b1": (4, 1), "W2": (3, 4), "b2": (3, 1), "W3": (1, 3), "b3": (1, 1)}


class TestForwardMasks:
    """Masks apply to the hidden layers they are given for, only: a 3-layer network masked at
    layer 1 (layer 2 not), with masks given for the input and output layers ignored."""

    @pytest.fixture
    def case(self):
        rng = np.random.default_rng(21)
        params = {k: rng.standard_normal(s) for k, s in NET3.items()}
        X = rng.standard_normal((3, 5))
        Y = (rng.random((1, 5)) > 0.5) * 1.0
        masks = {layer: np.where(rng.random((n, 5)) < 0.6, 1 / 0.6, 0.0)
                 for layer, n in ((0, 3), (1, 4), (3, 1))}
        return params, X, Y, masks

    @pytest.mark.parametrize("hidden", ["relu", "tanh"])
    def test_forward_and_backward(self, be, case, hidden):
        params, X, Y, masks = case
        want, want_cost = _reference(params, X, Y, hidden, "sigmoid", {1: masks[1]})
        p = _on(be, params)
        AL, cache = core.forward(p, _on(be, {"X": X})["X"], hidden_activation=hidden,
                                 output="sigmoid", dropout_masks=_on(be, masks))
        assert sorted(cache) == ["A0", "A1", "A2", "A3", "D1", "Z3"]
        np.testing.assert_array_equal(pnn.to_numpy(cache["D1"]), masks[1])
        y = _on(be, {"Y": Y})["Y"]
        cost = core.compute_cost(AL, y, logits=cache["Z3"])
        assert cost == pytest.approx(want_cost, rel=1e-12)
        for backward in (core.backward, core.backward_fused):
            grads = backward(p, cache, y, hidden_activation=hidden, output="sigmoid")
            for key in want:
                np.testing.assert_allclose(pnn.to_numpy(grads[key]), want[key], rtol=1e-11,
                                           atol=1e-13, err_msg=f"{backward.__name__} {key}")


# ---------------------------------------------------------------- a given namespace is used

class TestGivenNamespace:
    """With ``xp`` given, no core function infers a namespace (the training loop's calls):
    inference is made to fail, and the results still equal the references."""

    def test_nothing_inferred(self, be, monkeypatch):
        from portable_nn.core import _namespace

        params, X, Y, mask = _net_case(31, "softmax")
        p, x, y = _on(be, params), _on(be, {"X": X})["X"], _on(be, {"Y": Y})["Y"]
        masks = _on(be, {1: mask})
        xp = be.xp

        def refuse(*arrays, **kw):
            raise AssertionError("a namespace was inferred although xp was given")

        monkeypatch.setattr(_namespace, "array_namespace", refuse)
        _, cache = core.forward(p, x, hidden_activation="relu", output="softmax",
                                dropout_masks=masks, xp=xp)
        lesson = core.backward(p, cache, y, hidden_activation="relu", output="softmax", xp=xp)
        fused = core.backward_fused(p, cache, y, hidden_activation="relu", output="softmax",
                                    scale=0.5, xp=xp)
        shares, cost = core.chunk_gradients(p, x, y, m_total=6, hidden_activation="relu",
                                            output="softmax", dropout_masks=masks,
                                            with_cost=True, xp=xp)
        state = core.init_optimizer_state("adam", p, xp=xp)
        stepped, _ = core.optimizer_step("adam", p, lesson, state, 0.1, xp=xp)
        monkeypatch.undo()
        want, want_cost = _reference(params, X, Y, "relu", "softmax", {1: mask})
        for key in want:
            np.testing.assert_allclose(pnn.to_numpy(lesson[key]), want[key], rtol=1e-11,
                                       atol=1e-13)
            np.testing.assert_allclose(pnn.to_numpy(fused[key]), 0.5 * want[key], rtol=1e-11,
                                       atol=1e-13)
            np.testing.assert_allclose(pnn.to_numpy(shares[key]), want[key], rtol=1e-11,
                                       atol=1e-13)
        assert float(cost) == pytest.approx(want_cost, rel=1e-12)
        assert pnn.to_numpy(stepped["W1"]).shape == NET["W1"]
