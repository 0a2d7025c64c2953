"""CUDA-graph capture of the training step: ``compile=True`` for PyTorch on a CUDA device.

The step captured is the same array-API step the eager loop runs. A captured graph replays
``length`` full-batch iterations with one launch instead of some thirty kernel launches per
iteration, which is what a small network on a GPU spends its time on.

How it works (only :class:`TorchCapture` names the library; :class:`GraphBlocks` needs only
the small :class:`Capture` protocol, which the tests also implement on the host):

- *static buffers*: the parameters and optimizer state live in arrays allocated once; a graph
  reads them and, at its end, copies the new values back into them. Parameters handed in from
  an eager step are copied into the buffers first, and the buffers themselves are handed out
  (no copy) until the next block;
- *learning rates*: a device vector of ``length`` rates, refreshed from the host only when the
  rates change (a schedule), never for a fixed rate;
- *memory*: everything a graph allocates comes from a private pool that nothing else uses, so
  replays can never write into memory handed to someone else;
- *lengths*: a block of ``n`` iterations runs as launches of a graph of ``g`` iterations (a
  divisor of ``n`` up to 16, as JAX's unrolled scan) and, for a remainder, of a one-iteration
  graph; each length is captured once per run.

Optimizer state that is not all arrays (Adam's step count ``t``, a Python int that a graph
would freeze) is not captured: those blocks run the eager step, with the same results.

CuPy is not offered: CuPy 14.2 raises ``NotImplementedError: calling cuBLAS API during stream
capture is currently unsupported`` at the step's first matrix product (its cuBLAS wrapper refuses
capturing streams on purpose), seen on an NVIDIA H200 by ``ci/gpu-check``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Capture", "GraphBlocks", "TorchCapture", "divisor_block"]

_MAX_UNROLL = 16


def divisor_block(n: int, most: int = _MAX_UNROLL) -> int:
    """Iterations per graph (or unrolled scan body) for a block of ``n`` steps.

    A divisor of ``n`` of at least 4 and at most ``most`` (11 for the 99 steps between two
    recorded costs: no remainder), else ``min(n, most)``.

    Examples
    --------
    >>> divisor_block(99), divisor_block(100), divisor_block(7), divisor_block(3)
    (11, 10, 7, 3)
    """
    if n < 4:
        return max(n, 1)
    divisor = max(d for d in range(1, min(n, most) + 1) if n % d == 0)
    return divisor if divisor >= 4 else min(n, most)


class Capture(Protocol):
    """What :class:`GraphBlocks` needs from a library: ordering, copies and capture."""

    def ordered(self) -> contextlib.AbstractContextManager[None]:
        """A context in which copies and launches run in order on the capture's stream."""

    def copy(self, array: Any) -> Any:
        """A new array with the contents of ``array``."""

    def assign(self, target: Any, source: Any) -> None:
        """Write ``source`` into ``target`` (same shape and dtype), in stream order."""

    def set_rates(self, rates: Any, values: list[float]) -> None:
        """Write the host floats ``values`` into the device vector ``rates``."""

    def capture(self, body: Callable[[], None], warmup: Callable[[], None]) -> Callable[[], None]:
        """Run ``warmup`` eagerly, capture ``body`` into a graph and return its launcher."""


class GraphBlocks:
    """``block(params, state, X, Y, lrs)`` for one training run, by replaying captured graphs."""

    def __init__(self, backend: Any, step: Callable[..., tuple[Any, Any, Any]],
                 capture: Capture) -> None:
        self.backend, self.step, self.api = backend, step, capture
        self.params: dict[str, Any] = {}
        self.state: dict[str, Any] = {}
        self.inputs: tuple[Any, Any] | None = None
        self.graphs: dict[int, tuple[Callable[[], None], Any, list[list[float] | None]]] = {}

    def __call__(self, params: dict, state: dict, X: Any, Y: Any,
                 lrs: list[float]) -> tuple[dict, dict]:
        """Run ``len(lrs)`` full-batch iterations from ``params``; return the new ones."""
        if not all(hasattr(v, "shape") for v in state.values()):
            return self._eager(params, state, X, Y, lrs)
        with self.api.ordered():
            self._load(params, state, X, Y)
            n, done = len(lrs), 0
            size = divisor_block(n)
            while done < n:
                length = size if n - done >= size else 1
                self._launch(length, [float(r) for r in lrs[done:done + length]])
                done += length
        return dict(self.params), dict(self.state)

    def _eager(self, params: dict, state: dict, X: Any, Y: Any,
               lrs: list[float]) -> tuple[dict, dict]:
        for lr in lrs:
            params, state, _ = self.step(params, state, X, Y, lr, None, with_cost=False)
        return params, state

    def _load(self, params: dict, state: dict, X: Any, Y: Any) -> None:
        """Copy what an eager step produced into the static buffers (made on first use)."""
        if self.inputs is None or self.inputs[0] is not X or self.inputs[1] is not Y:
            self.params = {k: self.api.copy(v) for k, v in params.items()}
            self.state = {k: self.api.copy(v) for k, v in state.items()}
            self.inputs, self.graphs = (X, Y), {}
            return
        for static, given in ((self.params, params), (self.state, state)):
            for key, value in given.items():
                if value is not static[key]:
                    self.api.assign(static[key], value)

    def _launch(self, length: int, rates: list[float]) -> None:
        if length not in self.graphs:
            self.graphs[length] = self._capture(length)
        launch, buffer, current = self.graphs[length]
        if current[0] != rates:
            self.api.set_rates(buffer, rates)
            current[0] = rates
        launch()

    def _capture(self, length: int) -> tuple[Callable[[], None], Any, list[list[float] | None]]:
        xp, be = self.backend.xp, self.backend
        rates = xp.zeros((length,), dtype=be.dtype, device=be.device)
        # bound now, as the graph binds addresses: replays read and write these very arrays
        if self.inputs is None:
            raise RuntimeError("GraphBlocks: a graph is captured only after _load set its inputs")
        params, state, (X, Y), step, assign = (
            self.params, self.state, self.inputs, self.step, self.api.assign)

        def run(count: int) -> tuple[dict, dict]:
            p, s = params, state
            for j in range(count):
                p, s, _ = step(p, s, X, Y, rates[j], None, with_cost=False)
            return p, s

        def body() -> None:
            p, s = run(length)
            for static, new in ((params, p), (state, s)):
                for key, value in new.items():
                    assign(static[key], value)

        def warmup() -> None:  # compiles kernels, fills the private pool; writes no buffer
            p, _ = run(min(length, 2))
            for value in p.values():
                assign(self.api.copy(value), value)

        return self.api.capture(body, warmup), rates, [None]


class TorchCapture:
    """PyTorch on CUDA: ``torch.cuda.CUDAGraph`` with one private pool for the run's graphs."""

    def __init__(self, backend: Any) -> None:
        import torch

        self.torch = torch
        self.device = backend.device
        self.pool = torch.cuda.graph_pool_handle()
        self.graphs: list[Any] = []

    def ordered(self) -> contextlib.AbstractContextManager[None]:
        return self.torch.cuda.device(self.device)

    def copy(self, array: Any) -> Any:
        return array.clone()

    def assign(self, target: Any, source: Any) -> None:
        target.copy_(source)

    def set_rates(self, rates: Any, values: list[float]) -> None:
        rates.copy_(self.torch.tensor(values, dtype=rates.dtype))

    def capture(self, body: Callable[[], None], warmup: Callable[[], None]) -> Callable[[], None]:
        cuda = self.torch.cuda
        side = cuda.Stream(self.device)
        side.wait_stream(cuda.current_stream(self.device))
        with cuda.stream(side):
            warmup()
        cuda.current_stream(self.device).wait_stream(side)
        graph = cuda.CUDAGraph()
        with cuda.graph(graph, pool=self.pool):
            body()
        self.graphs.append(graph)
        return graph.replay

