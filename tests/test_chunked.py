"""Gradients summed over sample chunks (issue 10): the core's ``chunk_gradients`` and
``train(..., chunk_size=...)``, on every CPU cell."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_problem

import portable_nn as pnn
from portable_nn.backend import from_host
from portable_nn.core import backward_fused, chunk_gradients, cost_from_logits, l2_penalty

HIDDEN_ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax", "linear"]
REL_F64 = 1e-12


def _problem(output: str, m: int = 23, seed: int = 0):
    """Float64 host parameters, inputs, targets and dropout masks of a 3-5-4-n_y network."""
    params, X, Y, rng = random_problem(output, (5, 4), m, seed)
    masks = {layer: (rng.random((size, m)) < 0.7) / 0.7 for layer, size in ((1, 5), (2, 4))}
    return params, X, Y, masks


def _relative(a, b) -> float:
    a, b = pnn.to_numpy(a), pnn.to_numpy(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


class TestChunkGradients:
    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    def test_sum_over_chunks_equals_backward(self, cpu_cell, hidden_activation, output):
        self._check(cpu_cell, hidden_activation, output, dropout=True)

    def test_without_masks(self, cpu_cell):
        self._check(cpu_cell, "tanh", "sigmoid", dropout=False)

    def _check(self, cpu_cell, hidden_activation, output, *, dropout):
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

    def test_one_chunk_is_backward_fused_exactly(self):
        params, X, Y, _ = _problem("softmax")
        grads, _ = chunk_gradients(params, X, Y, m_total=X.shape[1],
                                   hidden_activation="relu", output="softmax")
        _, cache = pnn.forward(params, X, hidden_activation="relu", output="softmax")
        full = backward_fused(params, cache, Y, hidden_activation="relu", output="softmax")
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


# --------------------------------------------------------------------------- train(chunk_size)

# float32: 100 gradient-descent steps at rate 1.2 amplify the rounding of a chunked sum; on this
# session's CPU (its OpenBLAS kernel) NumPy's b1 differed by 1.06e-5 relative, on the commit
# before it too, where earlier CPUs gave under 1e-5: 3e-5 is about 250 float32 ulps
TOL = {"float64": dict(rtol=1e-12, atol=0.0), "float32": dict(rtol=3e-5, atol=1e-7)}
OPTIMIZER_RATES = {"gd": 1.2, "momentum": 1.2, "adam": 0.01}


def _close(a, b, dtype):
    """Parameters equal to ``TOL`` relative to each parameter's largest entry."""
    assert a.iterations == b.iterations
    rel = TOL[dtype]["rtol"]
    for key, value in b.params.items():
        assert _relative(a.params[key], value) <= rel, key
    np.testing.assert_allclose(list(a.costs.values()), list(b.costs.values()), rtol=rel)


def _params(model):
    return {k: pnn.to_numpy(v).copy() for k, v in model.params.items()}


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


class TestTrainChunked:
    """Eager JAX compiles every operation for each new shape (seconds under load), so the JAX
    cells share one data set (80 samples), one network and chunks of 30 (+ 20) columns."""

    def _hundred(self, cell, dtype, data, optimizer):
        X, Y = data
        kw = dict(hidden=(5, 3), init="xavier", num_iterations=100, cost_every=10, l2=0.2,
                  dtype=dtype, optimizer=optimizer, learning_rate=OPTIMIZER_RATES[optimizer],
                  backend=cell.backend, device=cell.device)
        plain = pnn.train(X, Y, **kw, recipe="lesson")
        chunked = pnn.train(X, Y, chunk_size=30, **kw, recipe="lesson")  # 80 = 2 x 30 + 20
        _close(chunked, plain, dtype)

    def test_equals_unchunked_after_100_iterations(self, cpu_cell, dtype, small_data):
        self._hundred(cpu_cell, dtype, small_data, "gd")

    @pytest.mark.parametrize("optimizer", ["momentum", "adam"])
    def test_optimizers_equal_unchunked(self, cpu_cell, small_data, optimizer):
        self._hundred(cpu_cell, "float64", small_data, optimizer)

    @pytest.mark.parametrize(("output", "hidden_activation"),
                             [("softmax", "relu"), ("linear", "leaky_relu")])
    def test_other_outputs(self, cpu_cell, output, hidden_activation):
        if cpu_cell.backend == "jax":
            pytest.skip("on JAX every output is covered by TestChunkGradients (new shapes here "
                        "would compile every eager operation again)")
        rng = np.random.default_rng(1)
        X = rng.normal(size=(4, 50))
        Y = np.eye(3)[:, rng.integers(0, 3, 50)] if output == "softmax" else X[:2] * 0.5
        kw = dict(hidden=6, hidden_activation=hidden_activation, output=output,
                  num_iterations=30, learning_rate=0.1, l2=0.1, dtype="float64",
                  backend=cpu_cell.backend, device=cpu_cell.device)
        _close(pnn.train(X, Y, chunk_size=16, **kw,
                         recipe="lesson"), pnn.train(X, Y, **kw, recipe="lesson"), "float64")

    def test_mini_batches_split_into_chunks(self, cpu_cell, small_data):
        X, Y = small_data
        kw = dict(hidden=(5, 3), num_iterations=4, batch_size=60, optimizer="momentum",
                  learning_rate=0.5, dtype="float64", backend=cpu_cell.backend,
                  device=cpu_cell.device, cost_every=1)
        _close(pnn.train(X, Y, chunk_size=30, **kw,
                         recipe="lesson"), pnn.train(X, Y, **kw, recipe="lesson"), "float64")

    def test_dropout_deterministic_for_a_chunking(self, cpu_cell, small_data):
        X, Y = small_data
        kw = dict(hidden=(5, 3), num_iterations=3, keep_prob=0.7, dtype="float64",
                  backend=cpu_cell.backend, device=cpu_cell.device)
        first = _params(pnn.train(X, Y, chunk_size=30, **kw, recipe="lesson"))
        _same(first, _params(pnn.train(X, Y, chunk_size=30, **kw, recipe="lesson")))
        other = _params(pnn.train(X, Y, chunk_size=20, **kw, recipe="lesson"))
        assert not np.array_equal(first["W1"], other["W1"])  # masks follow the chunks

    @pytest.mark.parametrize("options", [dict(keep_prob=0.7), dict(optimizer="adam",
                                                                      learning_rate=0.01)],
                             ids=["dropout", "adam"])
    def test_resume_is_bit_identical(self, cpu_cell, small_data, tmp_path, options):
        X, Y = small_data
        kw = dict(hidden=(5, 3), dtype="float64", chunk_size=30, cost_every=5,
                  backend=cpu_cell.backend, device=cpu_cell.device, **options)
        straight = pnn.train(X, Y, num_iterations=12, **kw, recipe="lesson")
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=7, checkpoint=path, **kw, recipe="lesson")
        resumed = pnn.train(X, Y, num_iterations=12, resume=path, **kw, recipe="lesson")
        _same(_params(resumed), _params(straight))
        assert resumed.costs == straight.costs

    def test_cost_is_shares_plus_penalty(self, small_data):
        X, Y = small_data
        kw = dict(hidden=3, num_iterations=1, l2=0.7, dtype="float64", recipe="lesson")
        plain, chunked = pnn.train(X, Y, **kw), pnn.train(X, Y, chunk_size=9, **kw)
        assert chunked.costs[0] == pytest.approx(plain.costs[0], rel=1e-14)

    def test_one_chunk_as_wide_as_the_data(self, small_data):
        X, Y = small_data
        kw = dict(hidden=3, num_iterations=10, dtype="float64")
        _close(pnn.train(X, Y, chunk_size=10_000, **kw,
                         recipe="lesson"), pnn.train(X, Y, **kw, recipe="lesson"), "float64")

    def test_config_records_chunk_size(self, small_data):
        X, Y = small_data
        assert pnn.train(X, Y, hidden=2, num_iterations=1,
                         chunk_size="auto", recipe="lesson").config["chunk_size"] == "auto"


class TestChunkSizeOption:
    @pytest.mark.parametrize("value", [0, -3])
    def test_below_one_is_refused(self, small_data, value):
        with pytest.raises(ValueError, match="chunk_size"):
            pnn.train(*small_data, num_iterations=1, chunk_size=value, recipe="lesson")

    @pytest.mark.parametrize("value", [2.5, True, [4]])
    def test_non_int_is_refused(self, small_data, value):
        with pytest.raises(TypeError, match="chunk_size"):
            pnn.train(*small_data, num_iterations=1, chunk_size=value, recipe="lesson")

    def test_unknown_word_is_refused(self, small_data):
        with pytest.raises(ValueError, match="chunk_size='big'"):
            pnn.train(*small_data, num_iterations=1, chunk_size="big", recipe="lesson")

    def test_compile_refused_where_no_compiler(self, small_data):
        with pytest.raises(ValueError, match="compile=True"):
            pnn.train(*small_data, num_iterations=1, chunk_size=10, compile=True, recipe="lesson")


class TestAutoChunkSize:
    def test_large_network_float64_and_float32(self):
        from portable_nn.training._chunked import AUTO_BUDGET_BYTES, auto_chunk_size

        size64 = auto_chunk_size((784, 256, 10), 8, 60_000)
        size32 = auto_chunk_size((784, 256, 10), 4, 60_000)
        assert size32 >= 2 * size64 - 64
        per_column = (784 + 256 + 10 + 10 + 2 * 256) * 8
        assert size64 * per_column <= AUTO_BUDGET_BYTES < (size64 + 64) * per_column

    def test_small_batch_is_one_chunk(self):
        from portable_nn.training._chunked import auto_chunk_size

        assert auto_chunk_size((2, 4, 1), 8, 400) == 400
        assert auto_chunk_size((10_000, 4096, 1), 8, 10**6) == 256  # never narrower

    def test_several_blas_threads_keep_the_batch_whole(self):
        """Narrow products lose to the threads' synchronisation (benchmarks/chunk_auto.py)."""
        from portable_nn.training._chunked import auto_chunk_size

        assert auto_chunk_size((784, 256, 10), 4, 60_000, threads=1) == 1280
        assert auto_chunk_size((784, 256, 10), 4, 60_000, threads=2) == 60_000
        assert auto_chunk_size((784, 256, 10), 4, 500, threads=4) == 500

    @pytest.mark.parametrize(("threads", "width"), [(1, 1280), (2, 3000)])
    def test_the_strategy_reads_the_blas_thread_count(self, threads, width):
        threadpoolctl = pytest.importorskip("threadpoolctl")
        from portable_nn.training._chunked import ChunkedStrategy
        from portable_nn.training._step_spec import StepSpec

        be = pnn.resolve_backend("numpy", None, "float32")
        X, Y = np.zeros((784, 3000), np.float32), np.zeros((10, 3000), np.float32)
        spec = StepSpec((784, 256, 10), "relu", "softmax", 0.0, 1.0, None, "gd", ())
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            strategy = ChunkedStrategy(be, X, Y, spec, compile=False, chunk_size="auto")
        assert strategy.size == width


    @pytest.mark.parametrize(("threads", "m", "kind"), [
        (2, 3000, "EagerStrategy"),      # several threads: the batch is one chunk
        (1, 400, "EagerStrategy"),       # a batch narrower than one chunk
        (1, 3000, "ChunkedStrategy"),    # 1,280-column chunks
    ])
    def test_auto_over_the_whole_batch_is_the_unchunked_step(self, threads, m, kind):
        """``"auto"`` whose width covers the batch runs the unchunked step (no chunk sums)."""
        threadpoolctl = pytest.importorskip("threadpoolctl")
        from portable_nn.training._step_spec import StepSpec
        from portable_nn.training._strategies import build_strategy

        be = pnn.resolve_backend("numpy", None, "float32")
        X, Y = np.zeros((784, m), np.float32), np.zeros((10, m), np.float32)
        spec = StepSpec((784, 256, 10), "relu", "softmax", 0.0, 1.0, None, "gd", ())
        with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
            strategy = build_strategy(be, X, Y, spec, compile=False, chunk_size="auto",
                                      batch_size=None)
        assert type(strategy).__name__ == kind

    def test_auto_over_the_whole_batch_equals_unchunked_bitwise(self):
        X, Y = pnn.datasets.planar()
        runs = [pnn.train(X, Y, recipe="lesson", num_iterations=30, chunk_size=size,
                          keep_prob=0.8, seed=3) for size in ("auto", None)]
        for key in runs[0].params:
            np.testing.assert_array_equal(runs[0].params[key], runs[1].params[key])


@pytest.mark.filterwarnings("ignore::UserWarning")
class TestJaxCompiledChunks:
    def _data(self):
        X, Y = pnn.datasets.planar()
        return X[:, ::5].copy(), Y[:, ::5].copy()

    def test_compiled_equals_unchunked(self):
        pytest.importorskip("jax")
        X, Y = self._data()
        # l2 keeps this run well-conditioned: without it, lr 1.2 amplifies rounding (NumPy and
        # eager JAX runs differ by 3e-8 after 100 iterations, chunked or not)
        kw = dict(hidden=(5, 3), init="xavier", num_iterations=100, backend="jax",
                  dtype="float64", cost_every=50, l2=0.2)
        _close(pnn.train(X, Y, chunk_size=30, compile=True, **kw,
                         recipe="lesson"), pnn.train(X, Y, **kw, recipe="lesson"),
               "float64")

    def test_compiled_dropout_equals_eager_chunked(self):
        pytest.importorskip("jax")
        X, Y = self._data()
        kw = dict(hidden=(5, 3), num_iterations=3, backend="jax", dtype="float64",
                  keep_prob=0.8, chunk_size=30, optimizer="adam", learning_rate=0.01)
        _close(pnn.train(X, Y, compile=True, **kw,
                         recipe="lesson"), pnn.train(X, Y, **kw, recipe="lesson"), "float64")


class TestFrontEnds:
    def test_cli_chunk_size(self, tmp_path, capsys):
        from portable_nn.tools import cli

        X, Y = pnn.datasets.noisy_moons(60)
        data = tmp_path / "moons.csv"
        np.savetxt(data, np.column_stack([X.T, Y[0]]), delimiter=",")
        for value in ("16", "auto"):
            path = tmp_path / f"m{value}.npz"
            assert cli.main(["train", str(data), "--iterations", "5", "--no-progress",
                             "--chunk-size", value, "--save", str(path)]) == 0
            expected = int(value) if value.isdigit() else value
            assert pnn.load(path).config["chunk_size"] == expected
        capsys.readouterr()
        with pytest.raises(SystemExit):
            cli.main(["train", str(data), "--chunk-size", "0"])
        assert "argument --chunk-size: chunk_size must be >= 1" in capsys.readouterr().err

    def test_estimator_chunk_size(self, small_data):
        from portable_nn.tools.sklearn import NeuralNetClassifier

        X, Y = small_data
        kw = dict(hidden=3, num_iterations=20, dtype="float64")
        chunked = NeuralNetClassifier(chunk_size=25, **kw, recipe="lesson").fit(X.T, Y[0])
        plain = NeuralNetClassifier(**kw, recipe="lesson").fit(X.T, Y[0])
        assert chunked.get_params()["chunk_size"] == 25
        for key, value in plain.model_.params.items():
            assert _relative(chunked.model_.params[key], value) <= REL_F64, key
