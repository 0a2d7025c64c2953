"""Failures during training: saturated outputs, divergence, Ctrl-C, and determinism."""

from __future__ import annotations

import math
import warnings
from typing import ClassVar

import numpy as np
import pytest
from helpers import assert_params_equal, host
from helpers import on as run_kwargs

import portable_nn as pnn
from portable_nn.core import cost_from_logits, cost_from_probabilities


class TestSaturatedOutputs:
    """Probabilities that round to exactly 0 or 1 in float32 keep the cost and gradients right."""

    # one feature, three samples; W = 200 gives Z = (200, -200, 400): sigmoid(Z) is exactly
    # (1, 0, 1) in float32. Sample 1 is confidently wrong (y = 0, z = 200): loss 200.
    X = np.array([[1.0, -1.0, 2.0]])
    Y = np.array([[0.0, 0.0, 1.0]])
    INIT: ClassVar = {"W1": np.array([[200.0]]), "b1": np.array([[0.0]])}
    EXACT_COST = (200.0 + math.log1p(math.exp(-200.0)) + math.log1p(math.exp(-400.0))) / 3

    def test_outputs_really_saturate(self, cpu_cell):
        be = cpu_cell.resolve("float32")
        params = {k: pnn.backend.to_backend(v, be) for k, v in self.INIT.items()}
        AL, _ = pnn.forward(params, pnn.backend.to_backend(self.X, be), xp=be.xp)
        np.testing.assert_array_equal(pnn.to_numpy(AL), [[1.0, 0.0, 1.0]])

    def test_recorded_cost_is_finite_and_exact(self, cpu_cell):
        model = pnn.train(self.X, self.Y, hidden=0, init=self.INIT, learning_rate=1e-3,
                          num_iterations=1, **run_kwargs(cpu_cell, dtype="float32"))
        assert math.isfinite(model.costs[0])
        assert model.costs[0] == pytest.approx(self.EXACT_COST, rel=1e-6)

    def test_gradients_correct(self, cpu_cell):
        be = cpu_cell.resolve("float32")
        xp = be.xp
        params = {k: pnn.backend.to_backend(v, be) for k, v in self.INIT.items()}
        X, Y = pnn.backend.to_backend(self.X, be), pnn.backend.to_backend(self.Y, be)
        _, cache = pnn.forward(params, X, xp=xp)
        grads = pnn.backward(params, cache, Y, xp=xp)
        # exact: dZ = sigmoid(Z) - Y = (1, ~1e-87, ~0) -> dW = 1/3, db = 1/3
        np.testing.assert_allclose(pnn.to_numpy(grads["dW1"]), [[1 / 3]], rtol=1e-6)
        np.testing.assert_allclose(pnn.to_numpy(grads["db1"]), [[1 / 3]], rtol=1e-6)
        model = pnn.train(self.X, self.Y, hidden=0, init=self.INIT, learning_rate=1e-3,
                          num_iterations=1, **run_kwargs(cpu_cell, dtype="float32"))
        np.testing.assert_allclose(pnn.to_numpy(model.params["W1"]), [[200.0 - 1e-3 / 3]],
                                   rtol=1e-7)

    def test_cost_from_logits_beats_log_of_probabilities(self, cpu_cell):
        be = cpu_cell.resolve("float32")
        xp = be.xp
        Z = pnn.backend.to_backend(self.INIT["W1"] @ self.X, be)
        Y = pnn.backend.to_backend(self.Y, be)
        stable = float(cost_from_logits(Z, Y, output="sigmoid", xp=xp))
        AL = pnn.forward({k: pnn.backend.to_backend(v, be) for k, v in self.INIT.items()},
                         pnn.backend.to_backend(self.X, be), xp=xp)[0]
        clipped = float(cost_from_probabilities(AL, Y, output="sigmoid", xp=xp))
        assert stable == pytest.approx(self.EXACT_COST, rel=1e-6)
        assert math.isfinite(clipped)
        assert clipped < self.EXACT_COST / 2  # log(A) must clip: it cannot see the true loss
        AL, cache = pnn.forward({k: pnn.backend.to_backend(v, be) for k, v in self.INIT.items()},
                                pnn.backend.to_backend(self.X, be), xp=xp)
        assert pnn.compute_cost(AL, Y, logits=cache["Z1"]) == pytest.approx(self.EXACT_COST,
                                                                            rel=1e-6)

    def test_softmax_saturated(self, cpu_cell):
        X = np.array([[1.0, -1.0]])
        Y = np.array([[0.0, 1.0], [1.0, 0.0]])  # both samples confidently wrong
        init = {"W1": np.array([[150.0], [-150.0]]), "b1": np.zeros((2, 1))}
        model = pnn.train(X, Y, hidden=0, output="softmax", init=init, learning_rate=1e-3,
                          num_iterations=1, **run_kwargs(cpu_cell, dtype="float32"))
        assert model.costs[0] == pytest.approx(300.0, rel=1e-6)
        proba = pnn.to_numpy(model.predict_proba(X))
        assert np.all(np.isfinite(proba))
        np.testing.assert_allclose(proba.sum(axis=0), 1.0, rtol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
class TestDivergence:
    KW: ClassVar = dict(hidden=4, hidden_activation="relu", output="linear", learning_rate=1e3,
              init="he", num_iterations=200)

    def test_huge_learning_rate_raises(self, cpu_cell, dtype, small_data):
        X, Y = small_data
        with pytest.raises(pnn.TrainingDivergedError) as info:
            pnn.train(X, Y, cost_every=1, **self.KW, **run_kwargs(cpu_cell, dtype=dtype))
        err = info.value
        assert 0 < err.iteration < 200
        assert err.last_finite_cost is not None
        assert math.isfinite(err.last_finite_cost)
        message = str(err)
        assert f"iteration {err.iteration}" in message
        assert f"last finite cost: {err.last_finite_cost:.6g}" in message
        assert "smaller learning rate" in message
        assert "learning_rate=1000.0" in message
        assert isinstance(err, FloatingPointError)

    def test_checked_only_where_cost_is_recorded(self, cpu_cell, small_data):
        X, Y = small_data
        with pytest.raises(pnn.TrainingDivergedError) as info:
            pnn.train(X, Y, cost_every=7, **self.KW, **run_kwargs(cpu_cell))
        assert info.value.iteration % 7 == 0

    def test_last_good_checkpoint_kept(self, tmp_path, small_data):
        X, Y = small_data
        path = tmp_path / "run.npz"
        with pytest.raises(pnn.TrainingDivergedError):
            pnn.train(X, Y, cost_every=1, checkpoint=path, checkpoint_every=2, **self.KW)
        saved = pnn.load(path)
        assert saved.iterations > 0
        assert all(np.all(np.isfinite(v)) for v in saved.params.values())

    def test_non_finite_parameters_at_the_end(self, small_data):
        """A parameter overflowing between recorded costs is caught when the run ends."""
        X, Y = small_data
        with pytest.raises(pnn.TrainingDivergedError, match="smaller learning rate"):
            pnn.train(X, Y, cost_every=10_000, **self.KW)


class Interrupt:
    """A learning-rate schedule that presses Ctrl-C when iteration ``at`` asks for its rate."""

    def __init__(self, at: int, rate: float = 1.2) -> None:
        self.at, self.rate = at, rate

    def __call__(self, iteration: int) -> float:
        if iteration == self.at:
            raise KeyboardInterrupt
        return self.rate


class TestKeyboardInterrupt:
    """Ctrl-C returns the model reached so far: ``interrupted`` is True, costs are kept."""

    def test_returns_model_so_far(self, cpu_cell, small_data):
        X, Y = small_data
        with pytest.warns(RuntimeWarning, match=r"interrupted at iteration 7 of 20"):
            model = pnn.train(X, Y, learning_rate=Interrupt(7), num_iterations=20, cost_every=2,
                              **run_kwargs(cpu_cell))
        assert model.interrupted
        assert model.iterations == 7
        assert sorted(model.costs) == [0, 2, 4, 6]
        reference = pnn.train(X, Y, learning_rate=1.2, num_iterations=7, cost_every=2,
                              **run_kwargs(cpu_cell))
        assert not reference.interrupted
        assert model.costs == reference.costs
        assert_params_equal(host(model), host(reference))

    def test_interrupt_saves_checkpoint_and_resume_finishes(self, cpu_cell, tmp_path,
                                                            small_data):
        X, Y = small_data
        path = tmp_path / "run.npz"
        # eager (compile="auto" compiles on JAX, whose blocks ask the schedule for a block's
        # rates at once): Ctrl-C at exactly iteration 13, and bit-identical runs to compare
        eager = dict(run_kwargs(cpu_cell), compile=False)
        with pytest.warns(RuntimeWarning, match="interrupted"):
            pnn.train(X, Y, learning_rate=Interrupt(13), num_iterations=30, cost_every=5,
                      checkpoint=path, checkpoint_every=10, **eager)
        assert pnn.load(path).iterations == 13
        resumed = pnn.train(X, Y, learning_rate=1.2, num_iterations=30, cost_every=5,
                            resume=path, **eager)
        full = pnn.train(X, Y, learning_rate=1.2, num_iterations=30, cost_every=5, **eager)
        assert resumed.iterations == 30
        assert resumed.costs == full.costs
        assert_params_equal(host(resumed), host(full))

    def test_interrupt_before_first_iteration(self, small_data):
        X, Y = small_data
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            model = pnn.train(X, Y, learning_rate=Interrupt(0), num_iterations=5)
        assert model.interrupted
        assert model.iterations == 0
        assert model.costs == {}
        start = pnn.init_params((2, 4, 1), seed=0)
        assert_params_equal(host(model), {k: np.asarray(v) for k, v in start.items()})


class TestDeterminism:
    """Same data, seed and backend: bit-identical parameters run to run (CPU backends)."""

    KW: ClassVar = dict(hidden=3, num_iterations=8, cost_every=4)

    @pytest.mark.parametrize("options", [
        dict(),
        dict(batch_size=40, keep_prob=0.8, optimizer="adam", learning_rate=0.01, l2=0.1),
    ], ids=["gd", "minibatch-dropout-adam-l2"])
    def test_bit_identical(self, cpu_cell, dtype, small_data, options):
        X, Y = small_data
        first = pnn.train(X, Y, seed=3, **self.KW, **options, **run_kwargs(cpu_cell, dtype=dtype))
        second = pnn.train(X, Y, seed=3, **self.KW, **options,
                           **run_kwargs(cpu_cell, dtype=dtype))
        assert first.costs == second.costs
        assert_params_equal(host(first), host(second))
        other = pnn.train(X, Y, seed=4, **self.KW, **options, **run_kwargs(cpu_cell, dtype=dtype))
        assert not np.array_equal(host(first)["W1"], host(other)["W1"])
