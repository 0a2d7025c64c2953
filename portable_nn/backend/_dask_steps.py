"""Dask, the data-parallel way: one fused task per column chunk of ``(X, Y)`` and a tree sum.

Training on ``backend="dask"`` keeps the (small) parameters and the optimizer on the client as
NumPy arrays and sends only the per-iteration work to where the data are:

- :func:`rechunk_columns` gives ``X`` and ``Y`` one row chunk and the same column chunks, and
  persists them on the workers once (unless they are larger than the workers can hold: then
  every iteration reads each chunk from its source, a file for instance);
- :func:`sum_over_chunks` runs ``fn(params, X_chunk, Y_chunk, chunk_index, xp=...)`` as one
  task per chunk, on the chunk's own array library (NumPy on CPU workers, CuPy on GPU
  workers), and adds the returned dicts of small arrays in a tree (fan-in :data:`FAN_IN`;
  on a cluster the last level, at most :data:`FAN_IN` partial sums, is added on the client);
  only sums travel back to the client, as NumPy arrays.

It runs on the scheduler Dask would pick for ``.compute()``: a ``dask.distributed.Client``
when one is active (the default client), else the local threaded scheduler.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from portable_nn.backend._stack import user_stacklevel

__all__ = [
    "CLUSTER_CROSSOVER_FLOPS",
    "CROSSOVER_FLOPS",
    "DEFAULT_CHUNKS",
    "FAN_IN",
    "INLINE_PARAMS",
    "WORKER_LOSS_TIMEOUT",
    "WorkersLostError",
    "active_client",
    "check_known_chunks",
    "rechunk_columns",
    "sum_over_chunks",
    "warn_if_small",
]

FAN_IN = 8
INLINE_PARAMS = 2**20
DEFAULT_CHUNKS = 8
MIN_CHUNK_COLUMNS = 1024
# Work per iteration (multiply-adds of one forward and backward pass, 3 m sum(n_l n_{l-1}))
# below which the Dask backend is slower than NumPy in one process, measured by
# benchmarks/_scale_dask.py (20-64-1 network, 8 chunks, 2 cores; docs/scaling.md): on the
# threaded scheduler Dask drew level with NumPy at m = 10,000; on a two-worker LocalCluster
# between m = 10,000 and 100,000 on a lightly loaded machine (not even at 1e6 under heavy load).
CROSSOVER_FLOPS = 3 * 10_000 * (20 * 64 + 64 * 1)
CLUSTER_CROSSOVER_FLOPS = 3 * 100_000 * (20 * 64 + 64 * 1)

#: Seconds a distributed iteration may have a task that no worker can run (every worker that
#: held the data lost, none in their place) before training raises :class:`WorkersLostError`
#: instead of waiting forever. Dask's configuration key ``portable_nn.worker-loss-timeout``
#: overrides it (``dask.config.set({"portable_nn.worker-loss-timeout": 300})``).
WORKER_LOSS_TIMEOUT = 60.0
_POLL = 1.0  # seconds between two looks at the scheduler while an iteration runs

ChunkFn = Callable[..., dict[str, Any]]
ToHost = Callable[[Any], np.ndarray]


class WorkersLostError(RuntimeError):
    """A distributed iteration could not run: its data had no worker for too long."""


def check_known_chunks(array: Any, name: str) -> None:
    """Refuse a Dask array whose chunk sizes are unknown (``nan``), naming ``name``.

    A boolean mask or a filter (``X[:, X[0] > 0]``) leaves Dask unable to know how many
    columns each chunk has until it computes them; its shape then holds ``nan``.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(6.0).reshape(2, 3))
    >>> check_known_chunks(X[:, X[0] > 0], "X")
    Traceback (most recent call last):
    ...
    ValueError: X has unknown (nan) chunk sizes, shape (2, nan): ...
    """
    shape = getattr(array, "shape", None)
    if shape is None or not any(isinstance(n, float) and math.isnan(n) for n in shape):
        return
    shown = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    raise ValueError(
        f"{name} has unknown (nan) chunk sizes, shape {shown}: Dask cannot tell how many "
        f"samples each chunk holds (after a boolean mask or a filter). Call "
        f"{name}.compute_chunk_sizes() first ({name} = {name}.compute_chunk_sizes()), or "
        "give the sizes when building it (e.g. to_dask_array(lengths=True))")


def active_client() -> Any:
    """The ``dask.distributed.Client`` that ``.compute()`` would use now, or None.

    None without ``distributed``, without a client, or when Dask's configuration picks another
    scheduler (``dask.config.set(scheduler="threads")`` while a client exists).
    """
    try:
        from distributed import Client
    except ImportError:
        return None
    from dask.base import get_scheduler

    try:
        get = get_scheduler()
    except ValueError:  # "distributed" configured but no client left
        return None
    owner = getattr(get, "__self__", None)
    return owner if isinstance(owner, Client) else None


def _column_width(X: Any, chunk_size: int | None) -> int:
    m = X.shape[1]
    if chunk_size is not None:
        return min(chunk_size, max(m, 1))
    if len(X.chunks[1]) > 1:
        return X.chunks[1][0]
    chunks = max(1, min(DEFAULT_CHUNKS, m // MIN_CHUNK_COLUMNS))
    return math.ceil(m / chunks)


def _memory_budget() -> float:
    """Bytes the scheduler's workers can hold for data: half their memory limits (or RAM)."""
    client = active_client()
    if client is not None:
        workers = client.scheduler_info().get("workers", {}).values()
        limits = [w.get("memory_limit") or 0 for w in workers]
        if limits and all(limits):
            return 0.5 * sum(limits)
    try:
        return 0.5 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return math.inf


def rechunk_columns(X: Any, Y: Any, *, chunk_size: int | None = None,
                  persist: bool | None = None) -> tuple[Any, Any, bool]:
    """``(X, Y, persisted)``: Dask arrays in one row chunk and the same column chunks.

    The column width is ``chunk_size`` when given, else ``X``'s own column chunks, else
    ``ceil(m / 8)`` (at least 1,024 columns a chunk). ``persist=None`` persists both on the
    workers (once: every iteration then reads them where they are) when they take at most half
    of the workers' memory limits, and otherwise leaves them lazy: each iteration reads every
    chunk from its source (a file, for data larger than the cluster's memory).
    """
    import dask
    import dask.array as da

    X = X if isinstance(X, da.Array) else da.from_array(X)
    Y = Y if isinstance(Y, da.Array) else da.from_array(Y)
    check_known_chunks(X, "X")
    check_known_chunks(Y, "Y")
    width = _column_width(X, chunk_size)
    m = X.shape[1]
    columns = (width,) * (m // width) + ((m % width,) if m % width else ())
    if X.chunks != ((X.shape[0],), columns):
        X = X.rechunk(((X.shape[0],), columns))
    if Y.chunks != ((Y.shape[0],), columns):
        Y = Y.rechunk(((Y.shape[0],), columns))
    if persist is None:
        budget = _memory_budget()
        persist = X.nbytes + Y.nbytes <= budget
        if not persist and Y.nbytes <= 0.1 * budget:  # small targets: kept on the workers
            (Y,) = dask.persist(Y)
    if persist:
        client = active_client()
        X, Y = dask.persist(X, Y) if client is None else _persist_side_by_side(client, X, Y)
    return X, Y, persist


def _persist_side_by_side(client: Any, X: Any, Y: Any) -> tuple[Any, Any]:
    """Persist on ``client``'s workers, chunk ``j`` of ``X`` and of ``Y`` on worker ``j mod n``.

    Each worker gets its share of the chunks and no chunk task waits for a ``Y`` block from
    another worker (``dask.persist`` had put 5 of 8 chunks on one of two workers and 3 ``Y``
    blocks away from their ``X``). The placement is a preference: once the chunks are in
    memory it is cleared on the scheduler, so a lost chunk is recomputed from its source on
    any worker, also when every worker was lost and new ones took their place (distributed
    keeps a task restricted to workers that are all gone in ``no-worker`` for good, even with
    ``allow_other_workers=True``: dask/distributed#7346).
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    workers = sorted(client.scheduler_info().get("workers", {}))
    if not workers:
        import dask

        return dask.persist(X, Y)
    out: list[Any] = []
    placed: list[Any] = []
    pinned: set[Any] = set()
    for A in (X, Y):
        blocks = A.to_delayed(optimize_graph=True).ravel()
        futures = [client.compute(b, workers=[workers[j % len(workers)]],
                                  allow_other_workers=True) for j, b in enumerate(blocks)]
        placed += futures
        pinned.update(k for b in blocks for k in b.__dask_graph__())
        graph = {f.key: f for f in futures}
        keys = [f.key for f in futures]
        name = keys[0][0] if isinstance(keys[0], tuple) else A.name
        if any(not (isinstance(k, tuple) and k[0] == name) for k in keys):  # pragma: no cover
            import dask

            return dask.persist(X, Y)
        layer = HighLevelGraph.from_collections(name, graph, dependencies=())
        out.append(da.Array(layer, name, A.chunks, meta=A._meta))
    _wait(client, placed, "persisting X and Y on the workers")
    client.run_on_scheduler(_unpin(), keys=list(pinned))
    return out[0], out[1]


def _unpin() -> Callable[..., None]:
    """A scheduler function clearing the worker restrictions of ``keys`` (those it still has).

    Made here, so that it is pickled by value: the scheduler need not import portable_nn.
    """
    def unpin(keys: list[Any], dask_scheduler: Any) -> None:
        for key in keys:
            ts = dask_scheduler.tasks.get(key)
            if ts is not None:
                ts.worker_restrictions = None
                ts.loose_restrictions = False
    return unpin


def _stuck() -> Callable[..., bool]:
    """A scheduler function: whether a task that ``keys`` need is waiting for a worker.

    So it is when one is in ``no-worker``, or when the cluster has no worker at all.
    """
    def stuck(keys: list[Any], dask_scheduler: Any) -> bool:
        if not dask_scheduler.workers:
            return True
        seen: set[Any] = set()
        todo = [dask_scheduler.tasks.get(k) for k in keys]
        while todo:
            ts = todo.pop()
            if ts is None or ts.key in seen:
                continue
            seen.add(ts.key)
            if ts.state == "no-worker":
                return True
            todo.extend(ts.dependencies)
        return False
    return stuck


def worker_loss_timeout() -> float:
    """:data:`WORKER_LOSS_TIMEOUT`, or Dask's ``portable_nn.worker-loss-timeout`` when set."""
    import dask

    return float(dask.config.get("portable_nn.worker-loss-timeout", WORKER_LOSS_TIMEOUT))


def _gather(client: Any, futures: list[Any], what: str) -> list[Any]:
    """``client.gather(futures)``, raising :class:`WorkersLostError` rather than hanging.

    Results lost after their tasks finished (a worker killed before they were fetched) send
    the gather back to :func:`_wait`: a run that lost every worker raises after at most about
    twice :func:`worker_loss_timeout`.
    """
    while True:
        _wait(client, futures, what)
        try:
            return client.sync(lambda: client.gather(futures, asynchronous=True),
                               callback_timeout=worker_loss_timeout())
        except (TimeoutError, asyncio.TimeoutError):
            continue


def _wait(client: Any, futures: list[Any], what: str) -> None:
    """Wait for ``futures``; raise :class:`WorkersLostError` when they cannot progress.

    The futures are waited for as long as they run; only when a task they need has had no
    worker to run on (``no-worker``) for :func:`worker_loss_timeout` seconds in a row does
    this give up, instead of waiting forever (every worker lost and none restarted).
    """
    from distributed import wait

    timeout, since = worker_loss_timeout(), None
    keys = [f.key for f in futures]
    stuck = _stuck()
    while True:
        try:
            wait(futures, timeout=_POLL)
            return
        except (TimeoutError, asyncio.TimeoutError):  # the same class from Python 3.11 on
            pass
        if not client.run_on_scheduler(stuck, keys=keys):
            since = None
            continue
        now = time.monotonic()
        since = now if since is None else since
        if now - since >= timeout:
            workers = len(client.scheduler_info().get("workers", {}))
            raise WorkersLostError(
                f"backend='dask': {what}: a task has had no worker to run on for "
                f"{now - since:.0f} s (the workers holding the data were lost; {workers} "
                "worker(s) connected now), so training stops instead of waiting forever. "
                "Start workers again and resume from a checkpoint (train(..., checkpoint=...)"
                ", then resume=...); the limit is Dask's configuration key "
                f"'portable_nn.worker-loss-timeout' ({timeout:g} s)")


def _chunk_task(fn: ChunkFn, params: dict[str, np.ndarray], X: Any, Y: Any,
                chunk: int, to_host: ToHost) -> dict[str, np.ndarray]:
    """``fn`` on one chunk, in the chunk's own array library; the result as NumPy arrays.

    ``to_host`` brings a result of another library (CuPy chunks) to NumPy.
    """
    from array_api_compat import array_namespace, is_numpy_array

    _keep_freed_memory_on_worker()
    xp = array_namespace(X)
    if not is_numpy_array(X):  # CuPy chunks on a GPU worker: parameters to its device
        params = {k: xp.asarray(v) for k, v in params.items()}
    out = fn(params, X, Y, chunk, xp=xp)
    if is_numpy_array(X):
        return out
    return {k: to_host(v) for k, v in out.items()}


_worker_memory_kept = False
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters


def _keep_freed_memory_on_worker() -> None:
    """Once per process: keep freed temporaries in the heap (glibc).

    Up to 64 MiB, on workers with at least 1 GiB of memory limit (smaller ones are left as
    distributed set them: a 200 MB worker keeping 64 MiB pauses at its 80% mark).

    distributed's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which fixes
    glibc's thresholds: every freed temporary above 64 KiB goes back to the kernel and the next
    chunk faults it in again. A 125,000-column chunk of a 20-64-1 network took 0.25-0.31 s on
    such a worker and 0.09-0.11 s after this (0.06-0.09 s in the client process).
    """
    global _worker_memory_kept
    if _worker_memory_kept:
        return
    _worker_memory_kept = True
    import ctypes
    import ctypes.util

    keep = 64 * 2**20
    if _worker_memory_limit() < 16 * keep:  # a small worker needs every byte it can free
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, keep // 2)
        libc.mallopt(_M_TRIM_THRESHOLD, keep)
    except (OSError, AttributeError):  # not glibc: its allocator is left as it is
        pass


def _worker_memory_limit() -> int:
    """The memory limit of the distributed worker running this, in bytes (else 1 TiB)."""
    try:
        from distributed import get_worker

        return int(get_worker().memory_manager.memory_limit or 2**40)
    except (ImportError, ValueError, AttributeError):
        return 2**40


def _sum_parts(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The key-wise sum of dicts of arrays, in order (new arrays; the parts are untouched)."""
    total = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            total[key] = total[key] + value
    return total


class _Blocks:
    """The column blocks of ``(X, Y)``, found once per array pair.

    The futures of persisted blocks when a distributed client is active (tasks are then
    submitted to it directly), else Delayed objects (run by the threaded scheduler, or by
    the client from their source).
    """

    def __init__(self) -> None:
        self._ids: tuple[int, int] | None = None
        self.pairs: list[tuple[Any, Any]] = []
        self.client: Any = None

    def of(self, X: Any, Y: Any) -> list[tuple[Any, Any]]:
        if self._ids != (id(X), id(Y)):
            self.client = active_client()
            xs = _futures(X, self.client)
            ys = _futures(Y, self.client) if xs is not None else None
            if xs is None or ys is None:
                self.client = None
                xs = X.to_delayed(optimize_graph=True).ravel()
                ys = Y.to_delayed(optimize_graph=True).ravel()
            self.pairs, self._ids = list(zip(xs, ys, strict=True)), (id(X), id(Y))
        return self.pairs


def _futures(A: Any, client: Any) -> list[Any] | None:
    """The futures of ``A``'s blocks in column order, if ``A`` is persisted on ``client``."""
    if client is None:
        return None
    from distributed import futures_of

    by_key = {f.key: f for f in futures_of(A)}
    keys = [k for row in A.__dask_keys__() for k in row]
    if not all(k in by_key for k in keys) or any(f.client is not client for f in by_key.values()):
        return None
    return [by_key[k] for k in keys]


def _tree(parts: list[Any], add: Callable[..., Any], fan_in: int) -> Any:
    """Add ``parts`` ``fan_in`` at a time, level by level, until one is left."""
    level = 0
    while len(parts) > 1:
        parts = [add(parts[k:k + fan_in], level, k) for k in range(0, len(parts), fan_in)]
        level += 1
    return parts[0]


def _params_task(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return params


def _sum_on_client(client: Any, fn: ChunkFn, pairs: list[tuple[Any, Any]],
                   params: dict[str, np.ndarray], token: str, fan_in: int,
                   to_host: ToHost) -> dict:
    """The distributed tree sum, the last level on the client.

    Sums run on the workers until at most ``fan_in`` partial sums are left, which come back to
    the client (small arrays) and are added there in order.

    Parameters of at most :data:`INLINE_PARAMS` bytes travel inside each chunk task (no task
    of their own to wait for and copy between workers); larger ones are one task per
    iteration that each worker fetches once.
    """
    shared: Any = params
    if sum(v.nbytes for v in params.values()) > INLINE_PARAMS:
        shared = client.submit(_params_task, params, key=f"pnn-params-{token}")
    parts = [client.submit(_chunk_task, fn, shared, x, y, j, to_host, key=f"pnn-chunk-{token}-{j}")
             for j, (x, y) in enumerate(pairs)]
    level = 0
    while len(parts) > fan_in:
        parts = [client.submit(_sum_parts, *parts[k:k + fan_in],
                               key=f"pnn-sum-{token}-{level}-{k}")
                 for k in range(0, len(parts), fan_in)]
        level += 1
    return _sum_parts(*_gather(client, parts, "summing the chunks' gradients"))


def sum_over_chunks(fn: ChunkFn, X: Any, Y: Any, params: dict[str, np.ndarray], *,
                    blocks: _Blocks | None = None, fan_in: int = FAN_IN,
                    to_host: ToHost = np.asarray) -> dict[str, np.ndarray]:
    """Sum ``fn(params, X_chunk, Y_chunk, chunk_index, xp=xp)`` over the column chunks.

    Parameters
    ----------
    fn : callable
        Returns a dict of arrays of one chunk (gradients, a 0-d cost share ...); it runs on
        the worker that holds the chunk, in the chunk's library (``xp``). Picklable.
    X, Y : dask.array.Array
        One row chunk each, the same column chunks (see :func:`rechunk_columns`).
    params : dict of numpy.ndarray
        Sent once per iteration, as one task of the iteration's graph: each worker that
        needs them receives them once.
    blocks : optional
        A cache of the arrays' blocks (``sum_over_chunks.blocks()``), reused while ``X`` and
        ``Y`` are the same arrays.
    fan_in : int
        How many partial sums one task of the tree adds.
    to_host : callable
        Brings a chunk's result of another library than NumPy (CuPy chunks on GPU workers) to
        NumPy; picklable (the backend's ``ops.sum_over_chunks`` passes its own).

    Returns
    -------
    dict of numpy.ndarray
        The sum over all chunks, chunk 0 first, in a fixed tree: deterministic for a chunking.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> X = da.from_array(np.arange(12.0).reshape(2, 6), chunks=(2, 2))
    >>> count = lambda p, X, Y, j, xp: {"s": xp.sum(X, axis=1, keepdims=True) * p["k"]}
    >>> sum_over_chunks(count, X, X, {"k": np.ones((1, 1))})["s"].ravel()
    array([15., 51.])
    """
    blocks = blocks or _Blocks()
    pairs = blocks.of(X, Y)
    token = uuid.uuid4().hex
    client = blocks.client
    if client is not None:  # futures: submitted straight to the scheduler, one round trip
        return _sum_on_client(client, fn, pairs, params, token, fan_in, to_host)
    import dask

    shared = dask.delayed(params, name=f"pnn-params-{token}", pure=False, traverse=False)
    task = dask.delayed(_chunk_task, pure=False)
    parts = [task(fn, shared, x, y, j, to_host, dask_key_name=f"pnn-chunk-{token}-{j}")
             for j, (x, y) in enumerate(pairs)]
    add = dask.delayed(_sum_parts, pure=False)
    total = _tree(parts, lambda group, level, k: add(
        *group, dask_key_name=f"pnn-sum-{token}-{level}-{k}"), fan_in)
    with _one_blas_thread():  # threads x BLAS threads would oversubscribe the cores
        (result,) = dask.compute(total)
    return result


def _one_blas_thread() -> Any:
    """One BLAS thread per Dask thread while the threaded scheduler runs.

    Distributed's workers do the same: without it each task's matmul starts its own threads
    on the same cores.
    """
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl comes with the dask extra
            import contextlib

            return contextlib.nullcontext()
        _controller = ThreadpoolController()  # finds the loaded BLAS libraries once
    return _controller.limit(limits=1, user_api="blas")


_controller: Any = None


sum_over_chunks.blocks = _Blocks  # type: ignore[attr-defined]

_warned = False


def warn_if_small(flops: float) -> None:
    """Warn once per process when a run's work per iteration is below the crossover.

    The crossover is :data:`CROSSOVER_FLOPS` on the threaded scheduler and
    :data:`CLUSTER_CROSSOVER_FLOPS` with a distributed client active. The warning points at
    the user's line (the first frame outside portable_nn), not the library's.
    """
    global _warned
    cluster = active_client() is not None
    crossover = CLUSTER_CROSSOVER_FLOPS if cluster else CROSSOVER_FLOPS
    if _warned or flops >= crossover:
        return
    _warned = True
    where = "a distributed cluster" if cluster else "the threaded scheduler"
    samples = crossover / (3 * (20 * 64 + 64))
    warnings.warn(
        f"backend='dask' on {flops:.3g} multiply-adds per iteration: below about "
        f"{crossover:.3g} (a 20-64-1 network on {samples:,.0f} samples) the fixed cost of "
        f"each iteration on {where} outweighs the parallel work, and backend='numpy' is "
        "faster unless the data do not fit in memory. See docs/scaling.md.",
        RuntimeWarning, stacklevel=user_stacklevel())
