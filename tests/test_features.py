"""Training features: mini-batches, optimizers, L2, dropout, regression, schedules, progress."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import numeric_gradient

import portable_nn as pnn
from portable_nn.backend import resolve_backend
from portable_nn.backend._random import epoch_permutation, mask_sampler
from portable_nn.core import cost_from_logits, l2_penalty
from portable_nn.training._feed import Batches


def _small_problem(seed: int = 0, m: int = 12, n_x: int = 3, n_y: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((n_y, m)) > 0.5).astype(float)
    return X, Y


def _numeric_gradient(cost_of, params, eps=1e-6):
    return {f"d{key}": g for key, g in numeric_gradient(cost_of, params, eps).items()}


def _relative_difference(grads, numeric):
    a = np.concatenate([np.ravel(grads[k]) for k in sorted(numeric)])
    b = np.concatenate([np.ravel(numeric[k]) for k in sorted(numeric)])
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


class TestMiniBatches:
    def test_batch_size_of_m_is_full_batch(self, planar_data):
        X, Y = planar_data
        full = pnn.train(X, Y, num_iterations=50, recipe="lesson")
        same = pnn.train(X, Y, num_iterations=50, batch_size=400, recipe="lesson")
        for key in full.params:
            np.testing.assert_array_equal(full.params[key], same.params[key])

    def test_each_epoch_is_a_permutation_with_a_smaller_last_batch(self):
        be = resolve_backend("numpy")
        X = np.arange(10.0).reshape(1, 10)
        batches = Batches(X, X, 4, seed=3, backend=be)
        assert batches.per_epoch == 3
        for epoch in range(2):
            seen = [batches(epoch * 3 + k)[0] for k in range(3)]
            assert [b.shape[1] for b in seen] == [4, 4, 2]
            assert sorted(np.concatenate(seen, axis=1).ravel()) == list(range(10))
        first = np.concatenate([batches(k)[0] for k in range(3)], axis=1).ravel()
        second = np.concatenate([batches(3 + k)[0] for k in range(3)], axis=1).ravel()
        assert not np.array_equal(first, second), "samples must be reshuffled every epoch"

    def test_first_update_uses_the_first_batch(self):
        X, Y = _small_problem(m=12)
        model = pnn.train(X, Y, hidden=3, num_iterations=1, batch_size=5, learning_rate=0.5,
                          seed=4, recipe="lesson")
        order = epoch_permutation(4, 0, 12, resolve_backend("numpy"))[:5]
        params = pnn.init_params((3, 3, 1), seed=4)
        _, cache = pnn.forward(params, X[:, order])
        expected = pnn.update(params, pnn.backward(params, cache, Y[:, order]), 0.5)
        for key in expected:
            np.testing.assert_allclose(model.params[key], expected[key], rtol=0, atol=1e-15)
        # the recorded cost is the mini-batch's cost before its update
        batch_cost = float(cost_from_logits(cache["Z2"], Y[:, order], output="sigmoid", xp=np))
        assert model.costs[0] == pytest.approx(batch_cost, rel=1e-12)

    def test_minibatch_runs_on_every_cpu_cell(self, cpu_cell, dtype, planar_data):
        X, Y = planar_data
        kwargs = dict(num_iterations=30, batch_size=64, seed=1, dtype=dtype,
                      backend=cpu_cell.backend, device=cpu_cell.device)
        first, second = pnn.train(X, Y, **kwargs,
                                  recipe="lesson"), pnn.train(X, Y, **kwargs, recipe="lesson")
        for key in first.params:
            np.testing.assert_array_equal(pnn.to_numpy(first.params[key]),
                                          pnn.to_numpy(second.params[key]))
        reference = pnn.train(X, Y, num_iterations=30, batch_size=64, seed=1, dtype="float64",
                              recipe="lesson")
        tol = 1e-3 if dtype == "float32" else 1e-9
        for key in first.params:
            np.testing.assert_allclose(pnn.to_numpy(first.params[key]),
                                       reference.params[key], rtol=tol, atol=tol * 1e-2)


def _reference_momentum(params, grads_seq, lr, beta1):
    v = {k: np.zeros_like(p) for k, p in params.items()}
    p = {k: a.copy() for k, a in params.items()}
    for grads in grads_seq:
        for k in p:
            v[k] = beta1 * v[k] + (1 - beta1) * grads[f"d{k}"]
            p[k] = p[k] - lr * v[k]
    return p


def _reference_adam(params, grads_seq, lr, beta1, beta2, eps):
    v = {k: np.zeros_like(a) for k, a in params.items()}
    s = {k: np.zeros_like(a) for k, a in params.items()}
    p = {k: a.copy() for k, a in params.items()}
    for t, grads in enumerate(grads_seq, start=1):
        for k in p:
            g = grads[f"d{k}"]
            v[k] = beta1 * v[k] + (1 - beta1) * g
            s[k] = beta2 * s[k] + (1 - beta2) * g**2
            v_hat = v[k] / (1 - beta1**t)
            s_hat = s[k] / (1 - beta2**t)
            p[k] = p[k] - lr * v_hat / (np.sqrt(s_hat) + eps)
    return p


class TestOptimizers:
    @pytest.mark.parametrize("optimizer", ["momentum", "adam"])
    def test_steps_match_a_hand_computed_reference(self, optimizer):
        X, Y = _small_problem(m=8)
        lr, steps = 0.05, 3
        model = pnn.train(X, Y, hidden=4, optimizer=optimizer, learning_rate=lr,
                          num_iterations=steps, beta1=0.8, beta2=0.99, epsilon=1e-7, seed=5,
                              recipe="lesson")
        params = pnn.init_params((3, 4, 1), seed=5)
        # replay with the reference optimizer, recomputing gradients at each reference point
        p = {k: v.copy() for k, v in params.items()}
        grads_seq = []
        for _ in range(steps):
            _, cache = pnn.forward(p, X)
            grads_seq.append(pnn.backward(p, cache, Y))
            if optimizer == "momentum":
                p = _reference_momentum(params, grads_seq, lr, 0.8)
            else:
                p = _reference_adam(params, grads_seq, lr, 0.8, 0.99, 1e-7)
        for key in p:
            np.testing.assert_allclose(model.params[key], p[key], rtol=1e-12, atol=1e-15)

    @pytest.mark.parametrize("optimizer", ["momentum", "adam"])
    def test_state_lives_on_the_backend(self, cpu_cell, dtype, optimizer, planar_data):
        X, Y = planar_data
        model = pnn.train(X, Y, optimizer=optimizer, learning_rate=0.01, num_iterations=20,
                          backend=cpu_cell.backend, device=cpu_cell.device, dtype=dtype,
                              recipe="lesson")
        be = model.backend_info
        for key, value in model.optimizer_state.items():
            if key == "t":
                assert int(value) == 20
                continue
            assert value.dtype == be.dtype
            assert value.shape == model.params[key[1:]].shape

    def test_adam_learns_the_flower(self, planar_data):
        X, Y = planar_data
        model = pnn.train(X, Y, optimizer="adam", learning_rate=0.01, num_iterations=3000,
                          recipe="lesson")
        assert model.accuracy(X, Y) >= 0.88

    def test_unknown_optimizer_is_named(self, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match="optimizer='sgd'"):
            pnn.train(X, Y, optimizer="sgd", recipe="lesson")


class TestL2:
    @pytest.mark.parametrize("activation", ["tanh", "relu"])
    def test_gradient_of_the_regularised_cost(self, activation):
        X, Y = _small_problem(m=7)
        params = pnn.init_params((3, 5, 4, 1), init="he", seed=3)
        l2 = 0.7

        def cost_of(p):
            _, cache = pnn.forward(p, X, hidden_activation=activation)
            return float(cost_from_logits(cache["Z3"], Y, output="sigmoid", xp=np)
                         + l2_penalty(p, l2, 7, xp=np))

        _, cache = pnn.forward(params, X, hidden_activation=activation)
        grads = pnn.backward(params, cache, Y, hidden_activation=activation, l2=l2)
        assert _relative_difference(grads, _numeric_gradient(cost_of, params)) < 1e-7

    def test_recorded_cost_includes_the_penalty(self, planar_data):
        X, Y = planar_data
        plain = pnn.train(X, Y, num_iterations=1, init="he", recipe="lesson")
        reg = pnn.train(X, Y, num_iterations=1, init="he", l2=2.0, recipe="lesson")
        W = pnn.init_params((2, 4, 1), init="he")
        penalty = 2.0 / (2 * 400) * sum(float(np.sum(W[k] ** 2)) for k in ("W1", "W2"))
        assert reg.costs[0] == pytest.approx(plain.costs[0] + penalty, rel=1e-12)

    def test_l2_shrinks_weights(self, planar_data):
        X, Y = planar_data
        plain = pnn.train(X, Y, num_iterations=500, recipe="lesson")
        reg = pnn.train(X, Y, num_iterations=500, l2=5.0, recipe="lesson")
        assert np.sum(reg.params["W1"] ** 2) < np.sum(plain.params["W1"] ** 2)

    def test_compute_cost_adds_the_penalty(self):
        AL, Y = np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])
        params = {"W1": np.array([[3.0]]), "b1": np.array([[1.0]])}
        base = pnn.compute_cost(AL, Y)
        assert pnn.compute_cost(AL, Y, params=params, l2=0.5) == pytest.approx(
            base + 0.5 / 4 * 9.0)


class TestDropout:
    def test_gradient_with_fixed_masks(self):
        X, Y = _small_problem(m=6)
        params = pnn.init_params((3, 4, 4, 1), init="xavier", seed=9)
        rng = np.random.default_rng(0)
        masks = {layer: (rng.random((4, 6)) < 0.7) / 0.7 for layer in (1, 2)}

        def cost_of(p):
            _, cache = pnn.forward(p, X, dropout_masks=masks)
            return float(cost_from_logits(cache["Z3"], Y, output="sigmoid", xp=np))

        _, cache = pnn.forward(params, X, dropout_masks=masks)
        assert set(cache) >= {"D1", "D2"}
        grads = pnn.backward(params, cache, Y)
        assert _relative_difference(grads, _numeric_gradient(cost_of, params)) < 1e-7

    def test_keep_prob_one_is_no_dropout(self, planar_data):
        X, Y = planar_data
        a = pnn.train(X, Y, num_iterations=20, recipe="lesson")
        b = pnn.train(X, Y, num_iterations=20, keep_prob=1.0, recipe="lesson")
        np.testing.assert_array_equal(a.params["W1"], b.params["W1"])

    def test_masks_are_drawn_on_the_device(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        sample = mask_sampler(be, seed=11)
        mask, other_layer = sample(0, [(50, 400), (50, 400)], 0.8)
        assert mask.dtype == be.dtype
        assert type(mask) is type(be.xp.zeros((1,), dtype=be.dtype, device=be.device))
        host = pnn.to_numpy(mask)
        assert set(np.unique(host).round(6)) <= {0.0, round(1 / 0.8, 6)}
        assert abs(np.mean(host > 0) - 0.8) < 0.02
        # layers of the same size get different masks, and so does the next iteration
        assert not np.array_equal(host, pnn.to_numpy(other_layer))
        assert not np.array_equal(host, pnn.to_numpy(sample(1, [(50, 400)], 0.8)[0]))

    def test_masks_depend_only_on_seed_and_iteration(self, cpu_cell, dtype):
        be = cpu_cell.resolve(dtype)
        first = mask_sampler(be, seed=11)
        first(0, [(5, 40)], 0.5)  # draws of earlier iterations change nothing later
        again = mask_sampler(be, seed=11)
        for a, b in zip(first(7, [(5, 40), (3, 40)], 0.5), again(7, [(5, 40), (3, 40)], 0.5),
                        strict=True):
            np.testing.assert_array_equal(pnn.to_numpy(a), pnn.to_numpy(b))
        other_seed = mask_sampler(be, seed=12)(7, [(5, 40)], 0.5)[0]
        assert not np.array_equal(pnn.to_numpy(other_seed), pnn.to_numpy(again(7, [(5, 40)],
                                                                              0.5)[0]))

    def test_dropout_trains_on_every_cpu_cell(self, cpu_cell, dtype, planar_data):
        X, Y = planar_data
        kwargs = dict(hidden=(8, 8), num_iterations=40, keep_prob=0.8, seed=2,
                      backend=cpu_cell.backend, device=cpu_cell.device, dtype=dtype)
        first, second = pnn.train(X, Y, **kwargs,
                                  recipe="lesson"), pnn.train(X, Y, **kwargs, recipe="lesson")
        np.testing.assert_array_equal(pnn.to_numpy(first.params["W1"]),
                                      pnn.to_numpy(second.params["W1"]))
        plain = pnn.train(X, Y, **{**kwargs, "keep_prob": 1.0}, recipe="lesson")
        assert not np.allclose(pnn.to_numpy(first.params["W1"]), pnn.to_numpy(plain.params["W1"]))


class TestLinearOutput:
    def test_gradient_of_half_mse(self):
        X, _ = _small_problem(m=9)
        Y = np.sin(X[:1] * 2.0) + X[1:3]
        params = pnn.init_params((3, 6, 2), init="xavier", seed=1)

        def cost_of(p):
            _, cache = pnn.forward(p, X, output="linear")
            return float(cost_from_logits(cache["Z2"], Y, output="linear", xp=np))

        _, cache = pnn.forward(params, X, output="linear")
        grads = pnn.backward(params, cache, Y, output="linear")
        assert _relative_difference(grads, _numeric_gradient(cost_of, params)) < 1e-7

    def test_regression_fits_a_sine(self, cpu_cell):
        x = np.linspace(-3, 3, 200).reshape(1, 200)
        y = np.sin(x)
        model = pnn.train(x, y, hidden=16, output="linear", init="xavier", learning_rate=0.05,
                          optimizer="adam", num_iterations=1500, backend=cpu_cell.backend,
                          device=cpu_cell.device, dtype="float64", recipe="lesson")
        assert model.cost(x, y) < 0.01 < model.costs[0]
        pred = pnn.to_numpy(model.predict(x))
        assert pred.shape == (1, 200)
        assert float(np.mean((pred - y) ** 2)) / 2 == pytest.approx(model.cost(x, y), rel=1e-6)
        with pytest.raises(ValueError, match="accuracy"):
            model.accuracy(x, y)


class TestLearningRateSchedule:
    def test_constant_schedule_equals_the_float(self, planar_data):
        X, Y = planar_data
        a = pnn.train(X, Y, num_iterations=30, recipe="lesson")
        b = pnn.train(X, Y, num_iterations=30, learning_rate=lambda i: 1.2, recipe="lesson")
        np.testing.assert_array_equal(a.params["W1"], b.params["W1"])

    def test_schedule_is_called_with_each_iteration(self, planar_data):
        X, Y = planar_data
        seen = []

        def rate(i):
            seen.append(i)
            return 1.2 / (1 + 0.01 * i)

        pnn.train(X, Y, num_iterations=25, learning_rate=rate, recipe="lesson")
        assert seen == list(range(25))

    def test_decay_matches_manual_updates(self):
        X, Y = _small_problem(m=10)
        model = pnn.train(X, Y, hidden=2, num_iterations=3, learning_rate=lambda i: 0.5 / (i + 1),
                          recipe="lesson")
        p = pnn.init_params((3, 2, 1))
        for i in range(3):
            _, cache = pnn.forward(p, X)
            p = pnn.update(p, pnn.backward(p, cache, Y), 0.5 / (i + 1))
        for key in p:  # train folds the rate into backprop: equal up to rounding
            np.testing.assert_allclose(model.params[key], p[key], rtol=1e-12, atol=1e-15)

    @pytest.mark.parametrize("bad", [lambda i: -1.0, lambda i: math.nan, lambda i: "fast"])
    def test_bad_schedule_value_is_named(self, bad, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match=r"learning_rate\(0\)"):
            pnn.train(X, Y, num_iterations=5, learning_rate=bad, recipe="lesson")


class TestProgress:
    def test_bar_reaches_the_last_iteration(self, planar_data, capsys):
        X, Y = planar_data
        pnn.train(X, Y, num_iterations=250, progress=True, recipe="lesson")
        err = capsys.readouterr().err
        assert "250/250" in err
        assert "cost=" in err

    def test_print_cost_every_thousand(self, planar_data, capsys):
        X, Y = planar_data
        model = pnn.train(X, Y, num_iterations=2001, print_cost=True, cost_every=300,
                          recipe="lesson")
        lines = [line for line in capsys.readouterr().out.splitlines() if line]
        assert [line.split(":")[0] for line in lines] == [
            f"Cost after iteration {i}" for i in (0, 1000, 2000)]
        assert sorted(model.costs) == list(range(0, 2001, 300))
