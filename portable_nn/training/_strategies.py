"""The one place that chooses a run's execution strategy (see :mod:`._strategy`).

``backend="dask"``: :class:`DaskStrategy`; else with ``chunk_size``: :class:`ChunkedStrategy`
(eager or compiled), except that ``chunk_size="auto"`` whose width covers the whole batch
runs the unchunked step; else :class:`CompiledStrategy` with ``compile=True``, or
:class:`EagerStrategy`. :func:`prepare_data` prepares the data as the chosen strategy reads
them; :func:`build_strategy` builds it for the prepared data and the run's step spec.
"""

from __future__ import annotations

from typing import Any

from portable_nn.backend import Backend
from portable_nn.training import _chunked
from portable_nn.training._chunked import ChunkedStrategy
from portable_nn.training._dask_train import DaskStrategy
from portable_nn.training._step_spec import StepSpec
from portable_nn.training._steps import CompiledStrategy, EagerStrategy
from portable_nn.training._strategy import Strategy

__all__ = ["build_strategy", "prepare_data", "strategy_class"]


def strategy_class(backend: Backend, *, chunk_size: Any, compile: bool = False) -> type[Strategy]:
    """The strategy of a run on ``backend`` with ``chunk_size`` and ``compile``."""
    if backend.ops.lazy:  # Dask: one task per column chunk, a tree sum on the workers
        return DaskStrategy
    if chunk_size is not None:  # gradients summed over sample chunks
        return ChunkedStrategy
    return CompiledStrategy if compile else EagerStrategy


def prepare_data(X: Any, Y: Any, backend: Backend, *, output: str,
                 chunk_size: Any) -> tuple[Any, Any]:
    """``X`` and ``Y`` converted and checked as the run's strategy reads them.

    Whole (a Dask array stays Dask), or, for a strategy that reads in chunks, checked chunk
    by chunk with out-of-core arrays left lazy (:func:`._chunked.prepare_data`).
    """
    kind = strategy_class(backend, chunk_size=chunk_size)
    X, Y = _chunked.prepare_data(X, Y, backend, output=output,
                                 chunk_size=chunk_size if kind.reads_in_chunks else None)
    return X, Y


def build_strategy(backend: Backend, X: Any, Y: Any, spec: StepSpec, *, compile: bool,
                   chunk_size: Any, batch_size: int | None) -> Strategy:
    """The run's strategy for its prepared data ``X``/``Y`` and its step spec.

    The step is built from ``spec`` alone (it is also the compiled step's cache key); the
    other arguments say only how it is executed.
    """
    kind = strategy_class(backend, chunk_size=chunk_size, compile=compile)
    if kind is ChunkedStrategy and chunk_size == "auto":  # auto's width, found once here
        chunk_size = _chunked.chunk_width(backend, X, spec, chunk_size=chunk_size,
                                          batch_size=batch_size)
        if not _chunked.is_streamed(X) and chunk_size >= min(X.shape[1], batch_size or
                                                              X.shape[1]):
            # the batch whole (several BLAS threads, or a small batch): one chunk is the
            # unchunked step, which skips the chunk sums' extra passes
            kind = CompiledStrategy if compile else EagerStrategy
    return kind(backend, X, Y, spec, compile=compile, chunk_size=chunk_size,
                batch_size=batch_size)
