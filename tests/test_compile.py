"""``train(..., compile=True)``: JAX compiles and PyTorch CUDA captures the same step (equal
results); the others refuse."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn
from portable_nn.backend import _libraries
from portable_nn.backend._compile import compile_steps

RUN = dict(hidden=4, num_iterations=25, cost_every=10, learning_rate=1.2, seed=3)
TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=2e-4, atol=1e-6)}


def _pair(X, Y, backend, device, dtype, **options):
    eager = pnn.train(X, Y, backend=backend, device=device, dtype=dtype, **options, recipe="lesson")
    compiled = pnn.train(X, Y, backend=backend, device=device, dtype=dtype, compile=True,
                         **options, recipe="lesson")
    return eager, compiled


class TestJaxCompile:
    """jit + scanned blocks give the eager loop's costs and parameters within float tolerance."""

    @pytest.fixture(autouse=True)
    def _jax(self):
        pytest.importorskip("jax")

    def test_gradient_descent(self, dtype, planar_data):
        eager, compiled = _pair(*planar_data, "jax", None, dtype, **RUN)
        assert_runs_close(compiled, eager, TOL[dtype])
        assert compiled.costs[20] < compiled.costs[0]

    def test_adam_with_schedule(self, planar_data):
        options = {**RUN, "optimizer": "adam", "learning_rate": lambda i: 0.05 / (1 + i)}
        eager, compiled = _pair(*planar_data, "jax", None, "float64", **options)
        assert_runs_close(compiled, eager, TOL["float64"])

    def test_minibatches_and_dropout_use_the_jitted_step(self, planar_data):
        options = {**RUN, "batch_size": 128, "keep_prob": 0.8, "hidden": (5, 3)}
        eager, compiled = _pair(*planar_data, "jax", None, "float64", **options)
        assert_runs_close(compiled, eager, TOL["float64"])

    def test_compiled_steps_are_cached_by_options(self):
        be = pnn.resolve_backend("jax", dtype="float32")

        def step(*args, **kwargs):  # pragma: no cover - never traced here
            raise AssertionError

        first = compile_steps(be, step, key=("tanh", "sigmoid", "gd", "cache-test"))
        again = compile_steps(be, lambda *a, **k: None, key=("tanh", "sigmoid", "gd",
                                                             "cache-test"))
        other = compile_steps(be, step, key=("relu", "sigmoid", "gd", "cache-test"))
        assert again is first
        assert other is not first


class TestCompileRefused:
    """Every backend but JAX and PyTorch CUDA raises a ValueError naming the reason."""

    def test_every_cell(self, cell, planar_data):
        X, Y = planar_data
        if cell.backend == "jax" or str(cell.device).startswith("cuda"):
            model = pnn.train(X, Y, backend="jax", device=cell.device, compile=True,
                              num_iterations=3, recipe="lesson")
            assert model.iterations == 3
            return
        with pytest.raises(ValueError,
                           match=rf"compile=True is not available for backend='{cell.backend}'"):
            pnn.train(X, Y, backend=cell.backend, device=cell.device, compile=True,
                      num_iterations=3, recipe="lesson")

    @pytest.mark.parametrize(("backend", "reason"), [
        ("numpy", "has no compiler"),
        ("array_api_strict", "has no compiler"),
        ("torch", "torch.compile is not offered on the CPU"),
        ("dask", "has no compiler"),
        ("cupy", "refused by CuPy itself"),
    ])
    def test_reason_is_given(self, backend, reason):
        ops = {"numpy": _libraries.NUMPY, "array_api_strict": _libraries.STRICT,
               "torch": _libraries.TORCH, "dask": _libraries.DASK, "cupy": _libraries.CUPY}
        be = pnn.Backend(name=backend, xp=np, device="cpu", dtype=np.float64, ops=ops[backend])
        with pytest.raises(ValueError, match=reason):
            compile_steps(be, lambda *a, **k: None)

    def test_not_a_bool(self, planar_data):
        with pytest.raises(TypeError, match=r"compile must be 'auto', True or False"):
            pnn.train(*planar_data, compile="yes", num_iterations=1, recipe="lesson")
