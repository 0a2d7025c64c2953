"""Dask arrays: a lazy backend. The same training as NumPy, a task graph that stays short, and
results back on the host. Skipped (visibly) where Dask is not installed."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn
from portable_nn.backend._lazy import SETTLE_EVERY

RUN = dict(hidden=4, num_iterations=41, cost_every=20, learning_rate=1.2, seed=1)


def _train(cell, X, Y, **options):
    return pnn.train(X, Y, backend=cell.backend, device=cell.device, **{**RUN, **options})


def _graph_size(array) -> int:
    return len(array.__dask_graph__())


class TestSameAsNumpy:
    """Costs and parameters equal NumPy's run, option by option."""

    @pytest.mark.parametrize("options", [{}, {"optimizer": "adam", "learning_rate": 0.01},
                                         {"optimizer": "momentum", "learning_rate": 0.5},
                                         {"batch_size": 64}, {"keep_prob": 0.8, "hidden": (5, 3)},
                                         {"l2": 0.1, "hidden_activation": "relu"},
                                         {"learning_rate": lambda i: 1.0 / (1 + i)}])
    def test_options(self, lazy_cell, dtype, planar_data, options):
        lazy = _train(lazy_cell, *planar_data, dtype=dtype, **options)
        eager = pnn.train(*planar_data, dtype=dtype, **{**RUN, **options})
        # float32: Adam's sqrt(s) + eps amplifies rounding differences (3.7e-4 relative seen)
        tol = dict(rtol=1e-9, atol=1e-12) if dtype == "float64" else dict(rtol=1e-3, atol=1e-5)
        assert_runs_close(lazy, eager, tol)

    def test_softmax_output(self, lazy_cell):
        rng = np.random.default_rng(0)
        X = rng.standard_normal((3, 90))
        Y = np.eye(3)[:, rng.integers(0, 3, 90)]
        options = dict(output="softmax", hidden=5, num_iterations=40, learning_rate=0.5)
        lazy = pnn.train(X, Y, backend=lazy_cell.backend, **options)
        eager = pnn.train(X, Y, **options)
        for key, value in eager.params.items():
            np.testing.assert_allclose(pnn.to_numpy(lazy.params[key]), value, rtol=1e-9,
                                       err_msg=key)


class TestGraphStaysShort:
    """The loop persists every SETTLE_EVERY iterations: the graph does not grow with the run."""

    def test_graph_size_does_not_grow(self, lazy_cell, planar_data):
        short = _train(lazy_cell, *planar_data, num_iterations=2 * SETTLE_EVERY + 3)
        long = _train(lazy_cell, *planar_data, num_iterations=4 * SETTLE_EVERY + 3)
        assert _graph_size(long.params["W1"]) == _graph_size(short.params["W1"])
        unsettled = _train(lazy_cell, *planar_data, num_iterations=SETTLE_EVERY - 1)
        assert _graph_size(unsettled.params["W1"]) > _graph_size(short.params["W1"])


class TestResults:
    """Predictions stay Dask arrays; Model.to, to_numpy, save and load bring them to NumPy."""

    def test_predict_and_accuracy(self, lazy_cell, planar_data):
        X, Y = planar_data
        model = _train(lazy_cell, X, Y)
        predictions = model.predict(X)
        assert type(predictions).__module__.startswith("dask")
        np.testing.assert_array_equal(pnn.to_numpy(predictions), model.to("numpy").predict(X))
        assert model.accuracy(X, Y) == model.to("numpy").accuracy(X, Y)

    def test_model_to_numpy_and_back(self, lazy_cell, planar_data, tmp_path):
        model = _train(lazy_cell, *planar_data)
        host = model.to("numpy")
        assert all(isinstance(v, np.ndarray) for v in host.params.values())
        loaded = pnn.load(model.save(tmp_path / "dask.npz"), backend="dask")
        for key, value in host.params.items():
            np.testing.assert_array_equal(pnn.to_numpy(loaded.params[key]), value)

    def test_compile_is_refused(self, lazy_cell, planar_data):
        with pytest.raises(ValueError, match="backend='dask' has no compiler"):
            _train(lazy_cell, *planar_data, compile=True)
