"""Random numbers: host draws for initialisation and shuffling, device draws for dropout.

Initial weights and mini-batch orders are drawn on the host with NumPy from ``seed`` and moved
to the backend, so the same seed gives the same run on every backend. Dropout masks are drawn
on the backend's own device every iteration (one small path per library: its ``ops``'
``uniform_source``), so a GPU run never
ships masks from the host; they are derived from ``(seed, iteration)`` (CuPy: from ``seed``), so
a resumed run draws what the uninterrupted one would have.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["chunk_mask_sampler", "chunk_masks", "epoch_permutation", "host_standard_normal",
           "mask_sampler"]


def host_standard_normal(seed: int, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Draw N(0, 1) float64 arrays of ``shapes``, in order, from NumPy's legacy ``seed`` stream.

    The legacy stream (``np.random.seed(seed); np.random.randn(...)``) is the one the lesson
    uses, so ``seed=2`` reproduces its starting weights.
    """
    rng = np.random.RandomState(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def epoch_permutation(seed: int, epoch: int, m: int, backend: Any) -> Any:
    """The sample order of mini-batch epoch ``epoch``: a permutation of ``range(m)`` on device.

    Derived from ``(seed, epoch)`` alone, so a resumed run reshuffles exactly as the original.
    """
    order = np.random.default_rng([seed, epoch]).permutation(m)
    if backend.ops.host_indices:  # NumPy; Dask: host indices keep the batches' chunks known
        return order
    return backend.xp.asarray(order, device=backend.device)


def mask_sampler(
    backend: Any, seed: int
) -> Callable[[int, list[tuple[int, int]], float], list[Any]]:
    """Return ``sample(iteration, shapes, keep_prob) -> masks`` drawing on ``backend``'s device.

    Each mask holds ``0`` or ``1 / keep_prob`` in the run's dtype (inverted dropout), one per
    shape, all different. The masks of an iteration depend only on ``(seed, iteration)`` on
    NumPy, array-api-strict, Dask, PyTorch (CPU and CUDA) and JAX, so a run resumed from a
    checkpoint draws the same masks as the run it continues. CuPy's generator is a stream
    from ``seed`` (one per run), so there a resumed dropout run is valid but not identical.
    """
    xp, dtype = backend.xp, backend.dtype
    uniforms = backend.ops.uniform_source(backend, seed)

    def sample(iteration: int, shapes: list[tuple[int, int]], keep_prob: float) -> list[Any]:
        return [xp.astype(u < keep_prob, dtype) * (1.0 / keep_prob)
                for u in uniforms(iteration, shapes)]

    return sample


def chunk_mask_sampler(
    backend: Any, seed: int
) -> Callable[[Any, Any, list[tuple[int, int]], float], list[Any]]:
    """Return ``sample(iteration, chunk, shapes, keep_prob) -> masks`` for sample chunks.

    Like :func:`mask_sampler`, but the masks of chunk ``chunk`` of an iteration are drawn from
    ``(seed, iteration, chunk)``: a chunked run is deterministic for a given chunking, and only
    one chunk's masks exist at a time. On JAX ``iteration`` and ``chunk`` may be traced
    integers (masks drawn inside a compiled step).
    """
    xp, dtype = backend.xp, backend.dtype
    uniforms = backend.ops.uniform_source(backend, seed)

    def sample(iteration: Any, chunk: Any, shapes: list[tuple[int, int]],
               keep_prob: float) -> list[Any]:
        return [xp.astype(u < keep_prob, dtype) * (1.0 / keep_prob)
                for u in uniforms((iteration, chunk), shapes)]

    return sample


_MASKS = 0x6D61736B  # a third seed word, so mask streams never equal epoch_permutation's
CHUNKS = 0x63686E6B  # JAX: folded in with the chunk index, apart from the layer indices


def seed_words(seed: int, i: Any) -> list[int]:
    """``[seed, iteration, _MASKS]``, or ``[seed, iteration, _MASKS, chunk]`` for a chunk."""
    if isinstance(i, tuple):
        return [seed, int(i[0]), _MASKS, int(i[1])]
    return [seed, i, _MASKS]


def iteration_seed(seed: int, iteration: Any) -> int:
    """A 32-bit seed for iteration ``iteration`` (or ``(iteration, chunk)``) of the run."""
    return int(np.random.SeedSequence(seed_words(seed, iteration)).generate_state(1)[0])


def chunk_masks(seed: int, iteration: int, chunk: int, shapes: list[tuple[int, int]],
                keep_prob: float, *, xp: Any, dtype: Any) -> list[Any]:
    """Dropout masks of column chunk ``chunk`` of iteration ``iteration``, in ``xp``.

    The masks :func:`chunk_mask_sampler` draws on NumPy (from ``(seed, iteration, chunk)``,
    uniforms of the run's dtype), for a chunk that lives on a Dask worker: drawn on the host
    and moved to ``xp`` (CuPy chunks: to their GPU), so a Dask run's masks equal the NumPy
    backend's with the same ``chunk_size``, whichever worker computes a chunk.
    """
    rng = np.random.default_rng(seed_words(seed, (iteration, chunk)))
    host_dtype = np.dtype(str(dtype))
    return [xp.astype(xp.asarray(rng.random(s, dtype=host_dtype) < keep_prob), dtype)
            * (1.0 / keep_prob) for s in shapes]
