"""The chunked strategy (``chunk_size``): each step's gradient summed over sample chunks.

A step splits its batch (all of ``X``, or one mini-batch) into chunks of ``chunk_size``
columns, runs :func:`portable_nn.core.chunk_gradients` on each and sums the shares, then adds
the L2 term once and makes the same optimizer update as the unchunked step. Only one chunk's
activations exist at a time. Dropout masks are drawn per chunk from ``(seed, iteration,
chunk)``, so a chunked run is deterministic (and resumes bit-identically) for a given chunking.

``chunk_size="auto"`` picks the number of columns whose activations (and backprop
temporaries) fill :data:`AUTO_BUDGET_BYTES` (8 MiB) with one BLAS thread, the whole batch with
more: see :func:`auto_chunk_size`. The data of a chunked run are checked chunk by chunk, and
out-of-core arrays read chunk by chunk (:func:`prepare_data`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from portable_nn.backend import ColumnReader, to_backend
from portable_nn.core import chunk_gradients
from portable_nn.training import _check_inputs as check
from portable_nn.training._chunk_sums import (
    AUTO_BUDGET_BYTES,
    auto_chunk_size,
    blas_threads,
    sum_over_chunks,
    update_from_sums,
)
from portable_nn.training._step_spec import StepSpec
from portable_nn.training._strategy import Strategy

__all__ = ["AUTO_BUDGET_BYTES", "ChunkedStrategy", "auto_chunk_size", "chunk_width", "is_streamed",
           "make_chunked_step", "prepare_data"]

CHECK_BYTES = 8 * 2**20

Loop = Callable[..., tuple[dict[str, Any], Any]]


def prepare_data(X: Any, Y: Any, backend: Any, *, output: str, chunk_size: Any) -> tuple:
    """Convert and check ``X`` and ``Y``; with ``chunk_size``, keep out-of-core ones lazy.

    On JAX with several devices, in-memory data are split along the samples axis.

    Out-of-core array-likes (memmaps, h5py datasets, zarr arrays) become
    :class:`ColumnReader`s. With ``chunk_size`` the checks (NaN, shapes, targets) run chunk by
    chunk, in memory too: out-of-core data are never loaded whole, and no check allocates a
    temporary the size of ``X`` (``isfinite(X)`` alone would be ``n_x m`` bytes). Without
    ``chunk_size`` everything is converted and checked whole, as before.
    """
    lazy = chunk_size is not None

    def converted(array: Any, name: str) -> Any:
        if not ColumnReader.accepts(array):
            return to_backend(array, backend, name=name)
        return ColumnReader(array, backend, name=name) if lazy else ColumnReader.read_whole(
            array, backend, name=name)  # without chunk_size: read whole (memmaps checked)

    X, Y = converted(X, "X"), converted(Y, "Y")
    if not lazy:
        check.check_data(X, Y, output=output, xp=backend.xp)
    else:
        check.check_layout(X, Y)
        # the checking pass reads chunk_size columns at a time ("auto": 8 MiB of X and Y)
        size = chunk_size if isinstance(chunk_size, int) else max(
            1, CHECK_BYTES // (8 * (X.shape[0] + Y.shape[0])))
        for Xc, Yc in ColumnReader.chunks((X, Y), size):
            check.check_values(Xc, Yc, output=output, xp=backend.xp)
    # JAX over several devices: in-memory samples split across them (else unchanged)
    return tuple(a if isinstance(a, ColumnReader) else backend.shard_samples(a, name=name)
                 for a, name in ((X, "X"), (Y, "Y")))


def is_streamed(array: Any) -> bool:
    """Whether ``prepare_data`` left ``array`` out of core (read chunk by chunk)."""
    return isinstance(array, ColumnReader)


class ChunkedStrategy(Strategy):
    """The chunked step, eager or compiled (cached by the spec and the chunk width).

    ``chunk_size`` is a width or ``"auto"`` (:func:`auto_chunk_size` for a batch of
    ``batch_size`` samples, or all of ``X``, at the BLAS thread count; cache-sized for data
    read out of core). Dropout masks come per chunk from ``(seed, iteration, chunk)``. Raises a
    ``ValueError`` for what a chunked run cannot do: compile or mini-batches over out-of-core
    data (compiled steps take device arrays; shuffled batches would gather rows from the file).
    """

    reads_in_chunks = True

    def __init__(self, backend: Any, X: Any, Y: Any, spec: StepSpec, *, compile: bool,
                 chunk_size: int | str, batch_size: int | None = None) -> None:
        out_of_core = isinstance(X, ColumnReader)
        batch_m = min(X.shape[1], batch_size or X.shape[1])
        if out_of_core and compile:
            raise ValueError("compile=True needs X in memory: with out-of-core X (a memmap, "
                             "h5py or zarr array) use compile=False, which streams its chunks")
        if out_of_core and batch_m < X.shape[1]:
            raise ValueError("batch_size needs X in memory: out-of-core X (a memmap, h5py or "
                             "zarr array) trains full-batch, chunk by chunk")
        self.size = chunk_width(backend, X, spec, chunk_size=chunk_size, batch_size=batch_size)
        loop = backend.ops.chunk_loop if compile else None
        step = make_chunked_step(backend.xp, spec, size=self.size, backend=backend, loop=loop)
        self.X, self.Y, self.backend = X, Y, backend
        self._step = step
        if compile:
            compiled = backend.compile_steps(step, key=(spec, self.size))
            self._step = compiled.step
            self.block = compiled.block if spec.dropout_seed is None else None

    def step(self, params: dict, state: Any, X: Any, Y: Any, rate: Any, iteration: int,
             with_cost: bool = False) -> tuple[dict, Any, Any]:
        if with_cost:
            return self._step(params, state, X, Y, rate, iteration, with_cost=True)
        return self._step(params, state, X, Y, rate, iteration)


def chunk_width(backend: Any, X: Any, spec: StepSpec, *, chunk_size: int | str,
                batch_size: int | None) -> int:
    """The columns per chunk of a chunked run: ``chunk_size``, or ``"auto"``'s width.

    ``"auto"`` is :func:`auto_chunk_size` for a batch of ``batch_size`` samples (or all of
    ``X``) at the BLAS thread count; out of core, where chunks bound the memory, it is the
    cache-sized width whatever the threads.
    """
    if chunk_size != "auto":
        return int(chunk_size)
    batch_m = min(X.shape[1], batch_size or X.shape[1])
    threads = 1 if isinstance(X, ColumnReader) else blas_threads()
    return auto_chunk_size(spec.layer_dims, _itemsize(backend), batch_m, threads=threads)


def _itemsize(backend: Any) -> int:
    return 4 if backend.dtype_name == "float32" else 8


def make_chunked_step(
    xp: ModuleType,
    spec: StepSpec,
    *,
    size: int,
    backend: Any = None,
    loop: Loop | None = None,
) -> Callable[..., tuple[Any, Any, Any]]:
    """Build ``step(params, state, X, Y, lr, iteration, with_cost)``, the chunked step.

    Like ``make_step``'s step, except that the sixth argument is the iteration number (used
    for the chunks' dropout masks; ``None`` without dropout) and ``X``/``Y`` may be
    :class:`ColumnReader`s. With dropout in ``spec`` the masks are drawn on ``backend`` from
    ``(spec.dropout_seed, iteration, chunk)``; ``loop(body, X, Y, size)`` sums
    ``body(X_chunk, Y_chunk, k)`` over the chunks (default: a Python loop; JAX compiled steps
    pass a ``lax.scan``).
    """
    sample = None
    keep_prob, hidden_sizes = spec.keep_prob, spec.hidden
    if spec.dropout_seed is not None:
        if backend is None:
            raise ValueError("make_chunked_step: a spec with dropout needs the backend= the "
                             "masks are drawn on")
        sample = backend.chunk_mask_sampler(spec.dropout_seed)
    loop = sum_over_chunks if loop is None else loop
    activation, output, l2 = spec.hidden_activation, spec.output, spec.l2
    update = spec.make_optimizer().update

    def step(params: dict, state: dict, X: Any, Y: Any, lr: Any, iteration: Any,
             with_cost: bool = False) -> tuple[dict, dict, Any]:
        m = X.shape[1]

        def body(Xc: Any, Yc: Any, k: Any) -> tuple[dict[str, Any], Any]:
            masks = None
            if sample is not None and iteration is not None:
                width = Xc.shape[1]
                drawn = sample(iteration, k, [(n, width) for n in hidden_sizes], keep_prob)
                masks = dict(enumerate(drawn, start=1))
            return chunk_gradients(params, Xc, Yc, m_total=m, hidden_activation=activation,
                                   output=output, dropout_masks=masks, with_cost=with_cost, xp=xp)

        grads, cost = loop(body, X, Y, size)
        return update_from_sums(params, state, grads, cost, lr, m=m, with_cost=with_cost,
                                l2=l2, update=update, xp=xp)

    return step
