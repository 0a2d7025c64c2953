"""What the chunked and the Dask strategies share: the chunk width, chunk sums and the update.

``chunk_size="auto"`` picks the number of columns whose activations (and backprop
temporaries) fill :data:`AUTO_BUDGET_BYTES` (8 MiB) with one BLAS thread, and leaves the batch
whole with more (see :func:`auto_chunk_size`); :func:`sum_over_chunks` adds a body's gradient
shares chunk by chunk, and :func:`update_from_sums` ends a step from the sums. Imports nothing
of training/: the strategies that use it are siblings.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import ModuleType
from typing import Any

from portable_nn.backend import ColumnReader
from portable_nn.core import l2_penalty

__all__ = ["AUTO_BUDGET_BYTES", "auto_chunk_size", "blas_threads", "sum_over_chunks",
           "update_from_sums"]

# a chunk's activations and backprop temporaries: 8 MiB stay in a CPU's last-level cache (32 MiB
# shared on the 2-core EPYC here, 8-64 MiB on most) while the next layer reads them, and leave
# the matrix products hundreds of columns wide, where BLAS runs near its peak
AUTO_BUDGET_BYTES = 8 * 2**20
AUTO_MIN, AUTO_MULTIPLE = 256, 64


def auto_chunk_size(layer_dims: tuple[int, ...], itemsize: int, m: int, *,
                    threads: int = 1) -> int:
    """The columns per chunk ``chunk_size="auto"`` picks for a batch of ``m`` samples.

    Per column a chunk holds its input (a copy when read out of core), every layer's
    activation, the output's pre-activation, and in backprop two ``(n_l,)`` temporaries of the
    widest layer: ``(n_0 + n_1 + ... + 2 n_L + 2 max(n_l)) * itemsize`` bytes. With one BLAS
    thread the chunk is the number of columns that fits :data:`AUTO_BUDGET_BYTES` (8 MiB),
    rounded down to a multiple of 64, at least 256 (narrower products waste BLAS time), at most
    ``m``.

    With ``threads > 1`` BLAS threads the batch is one chunk (``m``): each chunk's products
    are split across the threads, and narrow ones lose more to the threads' synchronisation
    than the cache saves (784-256-10, float32, m = 60,000, two threads: 1,280 columns took
    1.9x the unchunked time, 10,240 columns 1.07x; ``python -m benchmarks.chunk_auto``).

    Examples
    --------
    >>> auto_chunk_size((784, 256, 10), 8, 60_000)
    640
    >>> auto_chunk_size((784, 256, 10), 4, 60_000)
    1280
    >>> auto_chunk_size((784, 256, 10), 4, 60_000, threads=2)
    60000
    >>> auto_chunk_size((2, 4, 1), 8, 400)
    400
    """
    if threads > 1:
        return max(1, m)
    per_column = (sum(layer_dims) + layer_dims[-1] + 2 * max(layer_dims[1:])) * itemsize
    size = AUTO_BUDGET_BYTES // per_column // AUTO_MULTIPLE * AUTO_MULTIPLE
    return max(1, min(m, max(AUTO_MIN, size)))


def blas_threads() -> int:
    """The threads the loaded BLAS libraries run on (threadpoolctl; its limits count).

    Without threadpoolctl, the number of CPUs (OpenBLAS's and MKL's default).
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # an optional dependency (the dask extra)
        return os.cpu_count() or 1
    counts = [int(info.get("num_threads") or 1) for info in threadpool_info()
              if info.get("user_api") == "blas"]
    return max(counts, default=1)


def update_from_sums(params: dict, state: dict, grads: dict, cost: Any, lr: Any, *, m: int,
                     with_cost: bool, l2: float, update: Callable[..., tuple[dict, dict]],
                     xp: ModuleType) -> tuple[dict, dict, Any]:
    """The end of a chunked step: L2 once on the summed chunk gradients, then the update.

    ``grads`` and ``cost`` are sums of ``chunk_gradients`` shares over all ``m`` samples (no
    L2 term); ``update`` is the spec's optimizer's (``StepSpec.make_optimizer().update``).
    Returns ``(new_params, new_state, cost)``, the cost with its L2 penalty when ``with_cost``.
    """
    if l2:
        grads = {k: g + (l2 / m) * params[k[1:]] if k[1] == "W" else g
                 for k, g in grads.items()}
        if with_cost:
            cost = cost + l2_penalty(params, l2, m, xp=xp)
    new_params, new_state = update(params, grads, state, lr, xp=xp)
    return new_params, new_state, cost


def sum_over_chunks(body: Callable[..., tuple[dict, Any]], X: Any, Y: Any,
                    size: int) -> tuple[dict[str, Any], Any]:
    """``sum_k body(X[:, chunk k], Y[:, chunk k], k)`` in chunk order, one chunk at a time."""
    total, cost = None, None
    for k, (Xc, Yc) in enumerate(ColumnReader.chunks((X, Y), size)):
        grads, share = body(Xc, Yc, k)
        del Xc, Yc
        if total is None:  # the first chunk's gradients are fresh arrays: accumulate into them
            total, cost = grads, share
            continue
        for key, g in grads.items():
            total[key] += g
        if share is not None:
            cost = cost + share
    if total is None:
        raise ValueError("sum_over_chunks: X has no columns")
    return total, cost
