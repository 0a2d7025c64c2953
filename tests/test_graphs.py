"""CUDA-graph blocks (``compile=True`` on PyTorch CUDA; CuPy refuses).

On a GPU the real captures run (``TestCapturedOnGpu``). Everywhere, the bookkeeping around them
(static buffers, learning-rate buffers, graph lengths, eager fallbacks) runs against a host
stand-in whose "graph" is the body bound at capture time, replayed as a Python call: a bug that
rebinds a buffer instead of writing into it, or forgets a changed rate, gives wrong numbers here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn
from portable_nn.backend import _compile
from portable_nn.backend._graphs import GraphBlocks, divisor_block

RUN = dict(hidden=4, num_iterations=258, cost_every=100, learning_rate=1.2, seed=3)
TOL = {"float64": dict(rtol=1e-9, atol=1e-12), "float32": dict(rtol=2e-4, atol=1e-6)}


class HostCapture:
    """The Capture protocol on NumPy: a "graph" replays the captured body."""

    def __init__(self) -> None:
        self.captured: list[int] = []
        self.launches = 0
        self.rate_writes = 0

    def ordered(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def copy(self, array):
        return array.copy()

    def assign(self, target, source) -> None:
        target[...] = source

    def set_rates(self, rates, values) -> None:
        self.rate_writes += 1
        rates[...] = np.asarray(values, dtype=rates.dtype)

    def capture(self, body: Callable[[], None], warmup: Callable[[], None]) -> Callable[[], None]:
        warmup()
        self.captured.append(1)

        def launch() -> None:
            self.launches += 1
            body()

        return launch


@pytest.fixture
def host_capture(monkeypatch):
    capture = HostCapture()
    monkeypatch.setattr(_compile, "capture_for",
                        lambda be: capture if be.name == "numpy" else None)
    return capture


class TestDivisorBlock:
    @pytest.mark.parametrize(("n", "expected"), [(0, 1), (1, 1), (3, 3), (4, 4), (99, 11),
                                                 (100, 10), (97, 16), (13, 13), (32, 16)])
    def test_values(self, n, expected):
        assert divisor_block(n) == expected


class TestGraphBookkeeping:
    """compile=True through GraphBlocks on the host stand-in equals the eager loop."""

    def test_gradient_descent(self, planar_data, host_capture):
        eager = pnn.train(*planar_data, **RUN, compile=False, recipe="lesson")
        graphs = pnn.train(*planar_data, **RUN, compile=True, recipe="lesson")
        assert_runs_close(graphs, eager, TOL["float64"])
        # 99-step blocks: 9 launches of an 11-step graph each; the 57-step tail (201-257):
        # 3 launches of a 16-step graph and 9 of a one-step graph
        assert len(host_capture.captured) == 3
        assert host_capture.launches == 9 + 9 + 3 + 9
        assert host_capture.rate_writes == len(host_capture.captured)  # fixed rate: once each

    def test_schedule_rewrites_the_rates(self, planar_data, host_capture):
        options = {**RUN, "learning_rate": lambda i: 1.2 / (1 + 0.01 * i)}
        eager = pnn.train(*planar_data, **options, compile=False, recipe="lesson")
        graphs = pnn.train(*planar_data, **options, compile=True, recipe="lesson")
        assert_runs_close(graphs, eager, TOL["float64"])
        assert host_capture.rate_writes == host_capture.launches

    def test_momentum_state_is_captured(self, planar_data, host_capture):
        options = {**RUN, "optimizer": "momentum", "learning_rate": 0.5}
        assert_runs_close(pnn.train(*planar_data, **options, compile=True, recipe="lesson"),
              pnn.train(*planar_data, **options, compile=False, recipe="lesson"), TOL["float64"])
        assert host_capture.launches > 0

    def test_adam_runs_eagerly_with_the_same_results(self, planar_data, host_capture):
        options = {**RUN, "optimizer": "adam", "learning_rate": 0.01}
        assert_runs_close(pnn.train(*planar_data, **options, compile=True, recipe="lesson"),
              pnn.train(*planar_data, **options, compile=False, recipe="lesson"), TOL["float64"])
        assert host_capture.launches == 0  # Adam's step count t is a Python int

    def test_checkpoints_split_blocks(self, planar_data, host_capture, tmp_path):
        path = tmp_path / "ckpt.npz"
        options = {**RUN, "checkpoint": path, "checkpoint_every": 30}
        assert_runs_close(pnn.train(*planar_data, **options, compile=True, recipe="lesson"),
              pnn.train(*planar_data, **RUN, compile=False, recipe="lesson"), TOL["float64"])

    def test_params_handed_in_are_never_written(self, planar_data):
        be = pnn.resolve_backend("numpy")
        from portable_nn.training import TrainOptions
        from portable_nn.training._step_spec import StepSpec
        from portable_nn.training._steps import make_step

        step = make_step(be.xp, StepSpec.from_options(
            TrainOptions(recipe="lesson").resolved("sigmoid"), (2, 4, 1)))
        X, Y = planar_data
        rng = np.random.default_rng(0)
        params = {"W1": rng.standard_normal((4, 2)) * 0.01, "b1": np.zeros((4, 1)),
                  "W2": rng.standard_normal((1, 4)) * 0.01, "b2": np.zeros((1, 1))}
        before = {k: v.copy() for k, v in params.items()}
        blocks = GraphBlocks(be, step, HostCapture())
        out, _ = blocks(params, {}, X, Y, [1.2] * 20)
        for key, value in params.items():
            np.testing.assert_array_equal(value, before[key])
        p, s = params, {}
        for _ in range(20):
            p, s, _ = step(p, s, X, Y, 1.2, None)
        for key, value in p.items():
            np.testing.assert_allclose(out[key], value, rtol=1e-12, err_msg=key)


def test_capture_for_names_only_cuda_backends():
    assert _compile.capture_for(pnn.resolve_backend("numpy")) is None
    torch = pytest.importorskip("torch")
    assert _compile.capture_for(pnn.resolve_backend("torch", torch.device("cpu"))) is None


def _compiled(cell, X, Y, **options):
    """``train(..., compile=True)`` on ``cell``; on CuPy, assert the refusal and skip."""
    if cell.backend == "cupy":
        with pytest.raises(ValueError, match="refused by CuPy itself"):
            pnn.train(X, Y, **options, compile=True, recipe="lesson")
        pytest.skip("CuPy refuses compile=True (asserted): no compiled run to compare")
    return pnn.train(X, Y, **options, compile=True, recipe="lesson")


class TestCapturedOnGpu:
    """On each GPU cell, compile=True (CUDA graphs on PyTorch, jit on JAX) gives the eager
    loop's results; CuPy refuses with its reason."""

    @pytest.mark.parametrize("optimizer", ["gd", "momentum"])
    def test_same_as_eager(self, gpu_cell, dtype, optimizer, planar_data):
        options = {**RUN, "optimizer": optimizer,
                   "learning_rate": 1.2 if optimizer == "gd" else 0.5,
                   "backend": gpu_cell.backend, "device": gpu_cell.device, "dtype": dtype}
        graphs = _compiled(gpu_cell, *planar_data, **options)
        eager = pnn.train(*planar_data, **options, recipe="lesson")
        assert_runs_close(graphs, eager, TOL[dtype])
        assert graphs.backend_info.name == gpu_cell.backend

    def test_schedule_and_deeper_net(self, gpu_cell, planar_data):
        options = {**RUN, "hidden": (8, 5), "hidden_activation": "relu",
                   "learning_rate": lambda i: 0.5 / (1 + 0.01 * i),
                   "backend": gpu_cell.backend, "device": gpu_cell.device, "dtype": "float64"}
        assert_runs_close(_compiled(gpu_cell, *planar_data, **options),
              pnn.train(*planar_data, **options, recipe="lesson"), TOL["float64"])

    def test_adam_falls_back_to_eager_steps(self, gpu_cell, planar_data):
        options = {**RUN, "optimizer": "adam", "learning_rate": 0.01,
                   "backend": gpu_cell.backend, "device": gpu_cell.device, "dtype": "float64"}
        assert_runs_close(_compiled(gpu_cell, *planar_data, **options),
              pnn.train(*planar_data, **options, recipe="lesson"), TOL["float64"])
