"""Scale-out rows (issue 10): the Dask backend against the single-process NumPy backend.

A 20-64-1 network (tanh, sigmoid, plain gradient descent), float64, X of 8 column chunks:

- per-iteration time at m = 1e4, 1e5, 1e6 for NumPy, Dask on the threaded scheduler, Dask on a
  ``LocalCluster`` (2 worker processes x 1 thread), what a user would otherwise write (PyTorch
  DistributedDataParallel over gloo, 2 CPU processes on 127.0.0.1; a hand-written Dask loop:
  ``map_blocks`` + ``sum`` on the same cluster), with tasks per iteration;
- the fixed overhead per iteration (m = 400), threaded and on the cluster;
- one single-threaded worker against two (m = 1e6);
- out of core: an X three times a worker's memory limit, read from a Zarr store chunk by chunk
  every iteration, trains to the NumPy backend's parameters with no worker restarted.

Times are medians of the gaps between consecutive iterations, taken in one run through a
``learning_rate`` schedule that stamps the clock (no setup or data movement counted).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import portable_nn as pnn

# the NumPy data go to the cluster once (the same arrays as the NumPy rows): not a problem here
warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)

LAYERS = (20, 64, 1)
CHUNKS = 8
RATE = 0.1
SIZES = (10_000, 100_000, 1_000_000)
ITERATIONS = {400: 30, 10_000: 20, 100_000: 8, 1_000_000: 4}
OOC_LIMIT = "200MB"  # per worker, out-of-core case
OOC_FEATURES = 100   # 100-16-1 network: X is 800 bytes a column, so 3x200 MB is m = 750,000


def data(m: int, n_x: int = LAYERS[0], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Float64 inputs (n_x, m) and 0/1 labels (1, m) of a planted linear rule, from ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    w = rng.standard_normal((1, n_x))
    return X, (w @ X > 0).astype(np.float64)


class _Clock:
    """A constant learning-rate schedule that records when each iteration starts."""

    def __init__(self, rate: float = RATE) -> None:
        self.rate, self.stamps = rate, []

    def __call__(self, iteration: int) -> float:
        self.stamps.append(time.perf_counter())
        return self.rate

    def per_iteration(self) -> float:
        gaps = np.diff(self.stamps)
        return float(statistics.median(gaps[1:] if len(gaps) > 2 else gaps))


def _train(X: Any, Y: Any, n: int, **options: Any) -> tuple[float, Any]:
    clock = _Clock()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the small-run warning
        model = pnn.train(X, Y, recipe="lesson",
                          hidden=LAYERS[1:-1], num_iterations=n + 1, cost_every=10**9,
                          learning_rate=clock, init="xavier", seed=0, **options)
    clock.stamps.append(time.perf_counter())
    return clock.per_iteration(), model


def _dask_time(X: np.ndarray, Y: np.ndarray, n: int) -> float:
    return _train(*_dask_X(X, Y), n, backend="dask")[0]


def _one_thread_time(X: np.ndarray, Y: np.ndarray, n: int) -> float:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _train(X, Y, n)[0]


def _auto_chunks_time(X: np.ndarray, Y: np.ndarray, n: int) -> float:
    return _train(X, Y, n, chunk_size="auto")[0]


def tasks_per_iteration(chunks: int, *, distributed: bool, fan_in: int = 8) -> int:
    """Chunk tasks and tree-sum tasks (on a cluster the last <= fan_in sums are the client's;
    the 20-64-1 parameters, 11 KB, travel inside the chunk tasks)."""
    total, level = chunks, chunks
    while level > (fan_in if distributed else 1):
        level = math.ceil(level / fan_in)
        total += level
    return total


def _dask_X(X: np.ndarray, Y: np.ndarray, chunks: int = CHUNKS) -> tuple[Any, Any]:
    import dask.array as da

    width = math.ceil(X.shape[1] / chunks)
    return da.from_array(X, chunks=(X.shape[0], width)), da.from_array(Y, chunks=(1, width))


@contextlib.contextmanager
def _cluster(workers: int, **kw: Any) -> Iterator[Any]:
    """A client on a ``LocalCluster`` of ``workers`` single-threaded processes.

    Starting nannies leaves ``MALLOC_TRIM_THRESHOLD_`` and ``OMP_NUM_THREADS`` set in this
    process's environment, which the DDP processes started later would inherit: restored.
    """
    from distributed import Client, LocalCluster

    saved = dict(os.environ)
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=50, **kw) as cluster, \
                Client(cluster) as client:
            yield client
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ------------------------------------------------------------------ what a user would write


def _hand_grad(X: np.ndarray, Y: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray,
               b2: np.ndarray, m: int) -> np.ndarray:
    A1 = np.tanh(W1 @ X + b1)
    A2 = 1.0 / (1.0 + np.exp(-(W2 @ A1 + b2)))
    dZ2 = (A2 - Y) / m
    dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
    parts = (dZ1 @ X.T, dZ1.sum(axis=1, keepdims=True), dZ2 @ A1.T, dZ2.sum(axis=1, keepdims=True))
    return np.concatenate([p.ravel() for p in parts])[:, None]


def hand_written_dask(X: Any, Y: Any, n: int) -> float:
    """``map_blocks`` + ``sum`` on the active scheduler, the parameters on the client."""
    import dask.array as da

    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((64, 20)) * 0.1, np.zeros((64, 1))
    W2, b2 = rng.standard_normal((1, 64)) * 0.1, np.zeros((1, 1))
    m, size = X.shape[1], 64 * 20 + 64 + 64 + 1
    X, Y = X.persist(), Y.persist()
    stamps = []
    for _ in range(n + 1):
        stamps.append(time.perf_counter())
        G = da.map_blocks(_hand_grad, X, Y, W1, b1, W2, b2, m, dtype=float,
                          chunks=((size,), (1,) * X.numblocks[1]))
        g = G.sum(axis=1).compute()
        dW1, db1 = g[:1280].reshape(64, 20), g[1280:1344, None]
        dW2, db2 = g[1344:1408].reshape(1, 64), g[1408:, None]
        W1, b1, W2, b2 = W1 - RATE * dW1, b1 - RATE * db1, W2 - RATE * dW2, b2 - RATE * db2
    stamps.append(time.perf_counter())
    return float(statistics.median(np.diff(stamps)[1:]))


def _ddp_worker(rank: int, m: int, n: int, port: int, out: Any) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    X, Y = data(m)
    half = slice(rank * m // 2, (rank + 1) * m // 2)
    x = torch.from_numpy(np.ascontiguousarray(X[:, half].T))
    y = torch.from_numpy(np.ascontiguousarray(Y[:, half].T))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.Tanh(),
                              torch.nn.Linear(64, 1)).double()
    model = DistributedDataParallel(net)
    opt = torch.optim.SGD(model.parameters(), lr=RATE)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    stamps = []
    for _ in range(n + 1):
        stamps.append(time.perf_counter())
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    stamps.append(time.perf_counter())
    if rank == 0:
        out.put(float(statistics.median(np.diff(stamps)[1:])))
    dist.destroy_process_group()


def torch_ddp(m: int, n: int) -> float:
    """PyTorch DistributedDataParallel, gloo, 2 CPU processes x 1 thread, half the data each."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    out = ctx.SimpleQueue()
    mp.start_processes(_ddp_worker, args=(m, n, port, out), nprocs=2, join=True,
                       start_method="spawn")
    return out.get()


# ------------------------------------------------------------------------------ the rows


def _row(case: str, competitor: str, seconds: float | None, ref: float | None,
         **extra: Any) -> dict[str, Any]:
    row = {"case": case, "competitor": competitor, "seconds_per_iteration": seconds, **extra}
    if seconds is not None and ref:
        row["ratio_to_numpy"] = seconds / ref
    return row


def _guard(log: Callable[[str], None], name: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # one broken competitor is reported, the others still run
        log(f"  FAILED {name}: {type(exc).__name__}: {exc}")
        return None


def size_rows(log: Callable[[str], None], sizes: tuple[int, ...] = SIZES) -> list[dict]:
    """NumPy, Dask threaded, Dask LocalCluster(2x1), hand-written Dask, DDP at each m."""
    import dask

    rows = []
    for m in sizes:
        n, case = ITERATIONS[m], f"20-64-1, m={m:,}, {CHUNKS} chunks"
        X, Y = data(m)
        log(f"{case}: numpy")
        ref, _ = _train(X, Y, n)
        rows.append(_row(case, "portable_nn numpy (1 process)", ref, ref))
        rows.append(_row(case, "portable_nn numpy, 1 BLAS thread", _guard(
            log, "numpy 1 thread", _one_thread_time, X, Y, n), ref))
        rows.append(_row(case, "portable_nn numpy, chunk_size='auto'", _guard(
            log, "numpy auto chunks", _auto_chunks_time, X, Y, n), ref))
        with dask.config.set(scheduler="threads"):
            log(f"{case}: dask threaded")
            t = _guard(log, "threaded", _dask_time, X, Y, n)
        rows.append(_row(case, "portable_nn dask, threaded (2 threads)", t, ref,
                         tasks=tasks_per_iteration(CHUNKS, distributed=False)))
        with _cluster(2):
            log(f"{case}: dask LocalCluster")
            t = _guard(log, "cluster", _dask_time, X, Y, n)
            rows.append(_row(case, "portable_nn dask, LocalCluster 2x1", t, ref,
                             tasks=tasks_per_iteration(CHUNKS, distributed=True)))
            log(f"{case}: hand-written dask")
            t = _guard(log, "hand", hand_written_dask, *_dask_X(X, Y), n)
            rows.append(_row(case, "hand-written dask loop (map_blocks+sum), LocalCluster", t,
                             ref, tasks=2 * CHUNKS + 2))
        log(f"{case}: torch DDP")
        t = _guard(log, "ddp", torch_ddp, m, n)
        rows.append(_row(case, "PyTorch DDP, gloo, 2 processes x 1 thread", t, ref))
    return rows


def overhead_rows(log: Callable[[str], None]) -> list[dict]:
    """Fixed cost per iteration at m = 400 (8 chunks of 50 columns)."""
    import dask

    m, n = 400, ITERATIONS[400]
    case = f"overhead: 20-64-1, m={m}, {CHUNKS} chunks"
    X, Y = data(m)
    ref, _ = _train(X, Y, n)
    rows = [_row(case, "portable_nn numpy (1 process)", ref, ref)]
    with dask.config.set(scheduler="threads"):
        t, _ = _train(*_dask_X(X, Y), n, backend="dask")
    rows.append(_row(case, "portable_nn dask, threaded", t, ref, target_s=0.020))
    with _cluster(2):
        t, _ = _train(*_dask_X(X, Y), n, backend="dask")
    rows.append(_row(case, "portable_nn dask, LocalCluster 2x1", t, ref, target_s=0.100))
    log(f"{case}: done")
    return rows


def workers_rows(log: Callable[[str], None], m: int = 1_000_000) -> list[dict]:
    """One single-threaded worker against two, same data and chunks."""
    n, case = ITERATIONS[m], f"workers: 20-64-1, m={m:,}, {CHUNKS} chunks"
    X, Y = data(m)
    times = {}
    for workers in (1, 2):
        with _cluster(workers):
            log(f"{case}: {workers} worker(s)")
            times[workers] = _train(*_dask_X(X, Y), n, backend="dask")[0]
    one = times[1]
    return [_row(case, "LocalCluster 1x1", one, None, speedup_vs_one=1.0),
            _row(case, "LocalCluster 2x1", times[2], None, speedup_vs_one=one / times[2])]


def out_of_core_rows(log: Callable[[str], None], n: int = 3) -> list[dict]:
    """X of 3x a worker's memory limit, read from Zarr each iteration; same parameters."""
    import dask.array as da
    import zarr
    from dask.utils import parse_bytes

    limit = parse_bytes(OOC_LIMIT)
    m = 3 * limit // (8 * OOC_FEATURES)
    case = f"out of core: {OOC_FEATURES}-16-1, m={m:,}, X {3 * limit / 1e6:.0f} MB, " \
           f"workers 2 x {OOC_LIMIT}"
    X, Y = data(m, OOC_FEATURES)
    where = tempfile.mkdtemp(prefix="pnn-ooc-")
    try:
        width = 10_000
        zx = zarr.open_array(os.path.join(where, "X.zarr"), mode="w", shape=X.shape,
                             chunks=(OOC_FEATURES, width), dtype="f8")
        zx[:] = X
        log(f"{case}: numpy in memory")
        options = dict(hidden=16, num_iterations=n + 1, cost_every=10**9, learning_rate=RATE,
                       seed=0, init="xavier")
        t0 = time.perf_counter()
        ref_model = pnn.train(X, Y, recipe="lesson", **options)
        ref = (time.perf_counter() - t0) / (n + 1)
        del X
        with _cluster(2, memory_limit=OOC_LIMIT) as client:
            pids = client.run(os.getpid)
            Xd = da.from_zarr(os.path.join(where, "X.zarr"))
            log(f"{case}: dask from zarr, {Xd.numblocks[1]} chunks")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                t0 = time.perf_counter()
                model = pnn.train(Xd, Y, recipe="lesson", backend="dask", **options)
                t = (time.perf_counter() - t0) / (n + 1)
            restarted = pids != client.run(os.getpid)
        error = max(float(np.max(np.abs(pnn.to_numpy(model.params[k]) - v)) / np.max(np.abs(v)))
                    for k, v in ref_model.params.items())
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return [_row(case, "portable_nn numpy, X in memory", ref, ref),
            _row(case, "portable_nn dask, X from Zarr (not persisted)", t, ref,
                 max_relative_difference=error, worker_restarted=restarted)]


def run(log: Callable[[str], None], *, quick: bool = False) -> list[dict]:
    """Every scale-out row; ``quick`` drops m = 1e6 and the out-of-core case."""
    sizes = SIZES[:2] if quick else SIZES
    rows = overhead_rows(log) + size_rows(log, sizes)
    if not quick:
        rows += workers_rows(log) + out_of_core_rows(log)
    return rows


def table(rows: list[dict]) -> str:
    """Plain text: time per iteration, ratio to NumPy, and each row's extras."""
    lines = []
    for case in dict.fromkeys(r["case"] for r in rows):
        lines.append(f"\n{case}")
        for r in (r for r in rows if r["case"] == case):
            t = r.get("seconds_per_iteration")
            shown = "failed" if t is None else f"{t * 1e3:10.1f} ms"
            ratio = r.get("ratio_to_numpy")
            extras = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in r.items() if k not in (
                                   "case", "competitor", "seconds_per_iteration",
                                   "ratio_to_numpy"))
            lines.append(f"  {r['competitor']:55s} {shown:>13s} "
                         + (f"{ratio:6.2f}x numpy" if ratio else " " * 12) + f"  {extras}")
    return "\n".join(lines)


def targets(rows: list[dict]) -> list[str]:
    """The issue's Dask targets, each met or missed, from ``rows`` (reported, not asserted)."""
    def t(case_start: str, competitor_start: str) -> float | None:
        for r in rows:
            if r["case"].startswith(case_start) and r["competitor"].startswith(competitor_start):
                return r.get("seconds_per_iteration")
        return None

    big = "20-64-1, m=1,000,000"
    out = []
    numpy_, cluster, ddp = t(big, "portable_nn numpy"), t(big, "portable_nn dask, Local"), \
        t(big, "PyTorch DDP")
    if numpy_ and cluster:
        out.append(f"LocalCluster at m=1e6: {cluster / numpy_:.2f}x NumPy (target <= 0.75): "
                   + ("met" if cluster <= 0.75 * numpy_ else "MISSED"))
    if ddp and cluster:
        out.append(f"LocalCluster vs DDP at m=1e6: {cluster / ddp:.2f}x (target < 1): "
                   + ("met" if cluster < ddp else "MISSED"))
    one, two = t("workers", "LocalCluster 1x1"), t("workers", "LocalCluster 2x1")
    if one and two:
        out.append(f"two workers vs one: {one / two:.2f}x faster (target >= 1.6): "
                   + ("met" if one / two >= 1.6 else "MISSED"))
    for name, limit in (("threaded", 0.020), ("LocalCluster", 0.100)):
        v = t("overhead", f"portable_nn dask, {name}")
        if v:
            out.append(f"overhead at m=400, {name}: {v * 1e3:.1f} ms (target <= {limit * 1e3:.0f}"
                       " ms): " + ("met" if v <= limit else "MISSED"))
    return out
