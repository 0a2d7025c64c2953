"""Timing and peak memory of one competitor's ``run(n)``.

Time per iteration: ``(t(n0 + N) - t(n0)) / N`` for each round (after an untimed ``run(n0)``),
the median over rounds, with the competitors interleaved round by round (so load on the machine
hits all of them alike) and a warm-up before the first round (JIT compilation, caches).
Subtracting ``t(n0)`` removes what does not scale with the iterations: setup, moving data, the
first recorded cost, compilation.

Peak memory above the baseline of one ``run(n0 + step)``, by one of three methods:

- ``tracemalloc``: the peak of Python's traced allocations, which include every NumPy array
  buffer (NumPy reports its allocations to tracemalloc); used for NumPy-based competitors;
- ``rss``: the process's peak resident set size (``VmHWM``, reset through
  ``/proc/self/clear_refs``) minus its RSS before the run; for PyTorch and JAX, whose buffers
  tracemalloc cannot see; coarser (page granularity, allocator caches);
- ``cuda``: ``torch.cuda.max_memory_allocated`` for PyTorch on CUDA (graphs' private pools
  included);
- ``cupy``: the bytes a fresh CuPy memory pool holds after the run: the pool keeps every freed
  block, so this is the run's peak, rounded up to CuPy's block sizes. Not seen: what a captured
  graph allocates from its own private pool;
- ``none``: not measured (JAX on a GPU).
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable

Run = Callable[[int], object]


def timed(run: Run, n: int) -> float:
    """Seconds taken by ``run(n)``, with the garbage collector paused (as timeit does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        run(n)
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def per_iteration(run: Run, n0: int, n: int) -> float:
    """One round: ``(t(n0 + n) - t(n0)) / n`` seconds, after an untimed ``run(n0)``.

    The untimed run lets the previous competitor's worker threads (OpenBLAS, OpenMP, XLA),
    which spin for a while after their last task, go idle before anything is timed: on two
    cores they would otherwise slow down whichever timing comes first.
    """
    run(n0)
    base = timed(run, n0)
    return (timed(run, n0 + n) - base) / n


def choose_n(run: Run, n0: int, step: int, budget: float, cap: int, least: int = 1) -> int:
    """Warm up, then pick ``N`` (a multiple of ``step``): ``N`` iterations take ``budget``."""
    timed(run, n0)
    # whole-run time per iteration: an overestimate (setup included), never a noisy near-zero
    estimate = max(timed(run, n0 + step) / (n0 + step), 1e-7)
    n = max(step, least, min(cap, int(budget / estimate) // step * step))
    if n != step:
        timed(run, n0 + n)  # warm up the exact lengths that will be timed (JAX block shapes)
    return n


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    return statistics.median(values)


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) * 1024
    return out


def peak_memory(run: Run, n: int, method: str) -> float | None:
    """Peak bytes above the baseline during ``run(n)``, or None where not measurable."""
    gc.collect()
    if method == "tracemalloc":
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            run(n)
            return float(tracemalloc.get_traced_memory()[1] - base)
        finally:
            tracemalloc.stop()
    if method == "rss":
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
            base = _status()["VmRSS"]
            run(n)
            return float(_status()["VmHWM"] - base)
        except OSError:
            return None
    if method == "none":
        return None
    if method == "cupy":
        import cupy

        pool = cupy.cuda.MemoryPool()
        with cupy.cuda.using_allocator(pool.malloc):
            run(n)
            cupy.cuda.Device().synchronize()
        return float(pool.total_bytes()) or None
    if method == "cuda":
        try:
            import torch

            if not torch.cuda.is_available():
                return None
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            run(n)
            return float(torch.cuda.max_memory_allocated() - base) or None
        except ImportError:
            return None
    raise ValueError(f"unknown memory method {method!r}")
