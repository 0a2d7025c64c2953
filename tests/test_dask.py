"""Dask arrays: one fused task per column chunk and a tree sum of the gradients; the same
training as NumPy, results back on the host. Skipped (visibly) where Dask is not installed.
tests/test_dask_distributed.py runs it on a two-process LocalCluster."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn
from portable_nn.backend import _dask_steps

RUN = dict(hidden=4, num_iterations=41, cost_every=20, learning_rate=1.2, seed=1)


def _train(cell, X, Y, **options):
    return pnn.train(X, Y, backend=cell.backend, device=cell.device, **{**RUN, **options})


def _graph_size(array) -> int:
    return len(array.__dask_graph__())


class TestSameAsNumpy:
    """Costs and parameters equal NumPy's run, option by option."""

    @pytest.mark.parametrize("options", [{}, {"optimizer": "adam", "learning_rate": 0.01},
                                         {"optimizer": "momentum", "learning_rate": 0.5},
                                         {"batch_size": 64},
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


def _chunked(X, width):
    import dask.array as da

    return da.from_array(X, chunks=(X.shape[0], width))


def _task_counts(run):
    """``{"chunk": n, "sum": n}``: the tasks of each kind that ``run()`` executed."""
    from dask.callbacks import Callback

    counts = {"chunk": 0, "sum": 0}

    def pretask(key, dsk, state):
        name = key if isinstance(key, str) else key[0]
        for kind in counts:
            counts[kind] += str(name).startswith(f"pnn-{kind}-")

    with Callback(pretask=pretask):
        run()
    return counts


class TestChunkedSteps:
    """One task per column chunk and a tree sum; chunks of any width give the same run."""

    def test_one_task_per_chunk_and_a_tree_sum(self, lazy_cell, planar_data):
        X, Y = planar_data
        counts = _task_counts(lambda: _train(lazy_cell, _chunked(X, 50), Y, num_iterations=3))
        # 8 chunks, fan-in 8: one sum; 3 iterations and the final parameters' cost check
        assert counts == {"chunk": (3 + 1) * 8, "sum": (3 + 1) * 1}
        counts = _task_counts(lambda: _train(lazy_cell, _chunked(X, 20), Y, num_iterations=1))
        assert counts == {"chunk": 2 * 20, "sum": 2 * (3 + 1)}  # 20 chunks: 3 sums, then 1

    @pytest.mark.parametrize("options", [{}, {"optimizer": "adam", "learning_rate": 0.01},
                                         {"batch_size": 64}])
    def test_chunk_widths_agree_with_numpy(self, lazy_cell, planar_data, options):
        X, Y = planar_data
        eager = pnn.train(X, Y, **{**RUN, **options})
        for width in (37, 400):
            lazy = _train(lazy_cell, _chunked(X, width), Y, **options)
            assert_runs_close(lazy, eager, dict(rtol=1e-12, atol=1e-14))

    @pytest.mark.parametrize("options", [{"keep_prob": 0.8, "hidden": (5, 3)},
                                         {"keep_prob": 0.7, "batch_size": 128},
                                         {"optimizer": "adam", "learning_rate": 0.01,
                                          "l2": 0.3}])
    def test_equals_numpy_with_the_same_chunk_size(self, lazy_cell, dtype, planar_data,
                                                   options):
        X, Y = planar_data
        options = {**RUN, "num_iterations": 100, "chunk_size": 64, **options}
        lazy = pnn.train(X, Y, backend="dask", dtype=dtype, **options)
        eager = pnn.train(X, Y, dtype=dtype, **options)  # masks per chunk, as on the workers
        tol = dict(rtol=1e-12, atol=1e-13) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
        assert_runs_close(lazy, eager, tol)

    def test_chunks_wider_than_a_cache_piece(self, lazy_cell):
        # a 512-unit layer: chunk_size="auto"'s rule cuts each 1,000-column task into pieces
        rng = np.random.default_rng(1)
        X = rng.standard_normal((2, 2000))
        Y = (X[:1] > 0).astype(float)
        options = dict(hidden=512, num_iterations=5, cost_every=2, learning_rate=0.1,
                       keep_prob=0.8, chunk_size=1000)
        lazy = pnn.train(X, Y, backend="dask", **options)
        assert_runs_close(lazy, pnn.train(X, Y, **options), dict(rtol=1e-12, atol=1e-14))

    def test_dropout_is_deterministic_and_per_chunk(self, lazy_cell, planar_data):
        X, Y = planar_data
        options = dict(keep_prob=0.8, hidden=(5, 3))
        first = _train(lazy_cell, _chunked(X, 50), Y, **options)
        again = _train(lazy_cell, _chunked(X, 50), Y, **options)
        other = _train(lazy_cell, _chunked(X, 100), Y, **options)
        for key, value in first.params.items():
            np.testing.assert_array_equal(pnn.to_numpy(again.params[key]), pnn.to_numpy(value))
        assert not np.allclose(pnn.to_numpy(other.params["W1"]), pnn.to_numpy(first.params["W1"]))

    def test_data_are_rechunked_to_common_columns(self, lazy_cell):
        X = _chunked(np.ones((3, 100)), 30)
        Xc, Yc, persisted = _dask_steps.rechunk_columns(X, np.ones((1, 100)))
        assert Xc.chunks == ((3,), (30, 30, 30, 10))
        assert Yc.chunks == ((1,), Xc.chunks[1])
        assert persisted
        Xc, _, _ = _dask_steps.rechunk_columns(np.ones((3, 100)), np.ones((1, 100)), chunk_size=40)
        assert Xc.chunks[1] == (40, 40, 20)

    def test_parameters_carry_no_graph(self, lazy_cell, planar_data):
        model = _train(lazy_cell, *planar_data, num_iterations=30)
        assert all(len(v.__dask_graph__()) == 1 for v in model.params.values())

    def test_checkpoint_and_resume(self, lazy_cell, planar_data, tmp_path):
        X, Y = planar_data
        whole = _train(lazy_cell, _chunked(X, 80), Y, optimizer="adam", learning_rate=0.01)
        path = tmp_path / "run.npz"
        _train(lazy_cell, _chunked(X, 80), Y, optimizer="adam", learning_rate=0.01,
               num_iterations=20, checkpoint=path)
        resumed = _train(lazy_cell, _chunked(X, 80), Y, optimizer="adam", learning_rate=0.01,
                         resume=path)
        assert_runs_close(resumed, whole, dict(rtol=0, atol=0))


class TestSmallRunWarning:
    """Below the crossover, the library says once per process that NumPy is faster."""

    def test_warns_once_naming_the_crossover(self, lazy_cell, planar_data, monkeypatch):
        monkeypatch.setattr(_dask_steps, "_warned", False)
        with pytest.warns(RuntimeWarning, match="below about 4.03e.07 .* backend='numpy' is"):
            _train(lazy_cell, *planar_data, num_iterations=2)
        import warnings

        with warnings.catch_warnings():  # once: no second size warning (2 iterations end at
            warnings.simplefilter("error", RuntimeWarning)  # chance level: a UserWarning)
            _train(lazy_cell, *planar_data, num_iterations=2)

    def test_no_warning_above_the_crossover(self, monkeypatch):
        monkeypatch.setattr(_dask_steps, "_warned", False)
        _dask_steps.warn_if_small(2.0 * _dask_steps.CROSSOVER_FLOPS)
        assert _dask_steps._warned is False


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
