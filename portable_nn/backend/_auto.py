"""``backend="auto"``: run on the GPU (CuPy) only when the work is large enough to gain.

A GPU step costs a roughly fixed launch overhead (about 0.4 ms per iteration for CuPy on an
H200, whatever the size up to 8e9 floating-point operations), while a NumPy step on the host
costs about 35 us plus its arithmetic. Below the crossover, NumPy is faster: the lesson's
planar network (400 samples, 2-4-1) ran at 35.5 us per iteration on NumPy against 416 us on
CuPy. The measured points are kept here as data; :data:`CROSSOVER_FLOPS` is derived from them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from portable_nn.backend._dask_steps import check_known_chunks
from portable_nn.backend._registry import KNOWN_BACKENDS, BackendUnavailableError

__all__ = ["CROSSOVER_FLOPS", "MEASURED", "choose_auto_backend", "choose_by_work",
           "flops_per_iteration", "shape_of"]

#: Where :data:`MEASURED` comes from.
SOURCE = "docs/gpu/h200-2026-11-26-run2/bench-gpu.json (NVIDIA H200, 16-core Xeon host)"

#: ``(case, flops per iteration, NumPy us per iteration, CuPy us per iteration)`` as measured
#: (portable_nn's own training step, full batch).
MEASURED: tuple[tuple[str, int, float, float], ...] = (
    ("planar 2-4-1 m=400 float64", 28_800, 35.5, 416.2),
    ("digits 64-64-10 m=1,797 float64", 51_063_552, 1206.2, 441.3),
    ("medium 128-128-10 m=8,000 float32", 847_872_000, 3804.4, 419.3),
    ("big 256-256-10 m=20,000 float32", 8_171_520_000, 19295.5, 466.2),
)


def _crossover(points: Sequence[tuple[str, int, float, float]]) -> int:
    """The work at which NumPy's time (linear between the bracketing points) meets CuPy's."""
    for (_, f0, cpu0, gpu0), (_, f1, cpu1, gpu1) in itertools.pairwise(points):
        if cpu0 <= gpu0 and cpu1 > gpu1:
            rate = (cpu1 - cpu0) / (f1 - f0)  # us per flop on the host
            gpu = min(gpu0, gpu1)
            return int(f0 + (gpu - cpu0) / rate)
    raise ValueError("the measured points show no crossover")


#: Floating-point operations per training iteration above which ``"auto"`` picks CuPy
#: (about 1.7e7, derived from :data:`MEASURED`).
CROSSOVER_FLOPS: int = _crossover(MEASURED)


def flops_per_iteration(layer_dims: Sequence[int], m: int) -> int:
    """Floating-point operations of one training iteration: ``6 m sum(n_l n_{l-1})``.

    The forward pass multiplies ``W[l] A[l-1]`` (``2 n_l n_{l-1} m``); backprop computes
    ``dW`` and ``dA`` (twice that).

    Examples
    --------
    >>> flops_per_iteration((2, 4, 1), 400)
    28800
    """
    pairs = itertools.pairwise(layer_dims)
    return 6 * int(m) * sum(int(a) * int(b) for a, b in pairs)


def choose_by_work(flops: int) -> tuple[str, str]:
    """Pick the backend for ``backend="auto"`` by the size of the work: ``(name, why)``.

    CuPy when the work per iteration is at least :data:`CROSSOVER_FLOPS` and a CUDA device
    is usable, NumPy otherwise.

    Examples
    --------
    >>> choose_by_work(28_800)[0]
    'numpy'
    """
    if flops < CROSSOVER_FLOPS:
        return "numpy", (f"auto chose numpy: {flops:.3g} flops per iteration is below the GPU "
                         f"crossover of {CROSSOVER_FLOPS:.2g} measured on an H200")
    try:
        KNOWN_BACKENDS["cupy"].load()
    except BackendUnavailableError:
        return "numpy", (f"auto chose numpy: {flops:.3g} flops per iteration is above the GPU "
                         f"crossover of {CROSSOVER_FLOPS:.2g}, but no usable CUDA device (CuPy)")
    return "cupy", (f"auto chose cupy: {flops:.3g} flops per iteration is above the GPU "
                    f"crossover of {CROSSOVER_FLOPS:.2g} measured on an H200")


def shape_of(array: object, name: str = "array") -> tuple[int, ...] | None:
    """The shape of an array of any library, or of nested lists, without converting it.

    None when it cannot be known without converting (ragged nested lists, a dimension that is
    not a number): the conversion's own checks then say what is wrong.

    Raises
    ------
    ValueError
        For a Dask array of unknown (``nan``) chunk sizes, naming ``name`` and
        ``compute_chunk_sizes()``: how much work it is cannot be known without computing it.

    Examples
    --------
    >>> shape_of([[1.0, 2.0, 3.0]])
    (1, 3)
    >>> shape_of([[1.0, 2.0], [3.0]]) is None
    True
    """
    check_known_chunks(array, name)
    shape = getattr(array, "shape", None)
    try:
        if shape is None:
            shape = np.shape(array)  # type: ignore[call-overload]
        return tuple(int(n) for n in shape)
    except (ValueError, TypeError):  # ragged lists (NumPy's "inhomogeneous shape"), None sizes
        return None


def choose_auto_backend(X: Any, Y: Any, *, hidden: Sequence[int],
                        batch_size: int | None = None) -> tuple[str, str]:
    """The backend ``train(backend="auto")`` runs on, and why: ``(name, why)``.

    CuPy when the work of one iteration (a forward and backward pass over a batch of the
    network with ``hidden`` layers between ``X``'s and ``Y``'s rows) is at least the crossover
    measured on an H200 (about 1.7e7 floating-point operations) and a CUDA device is usable;
    NumPy otherwise, and when the data's shape is not a 2-D array's (the conversion's checks
    then say what is wrong). The shapes are read without converting the data.

    Raises
    ------
    ValueError
        For a Dask array of unknown (``nan``) chunk sizes, naming it.

    Examples
    --------
    >>> choose_auto_backend([[0.0, 1.0]], [[1.0, 0.0]], hidden=(4,))[0]
    'numpy'
    """
    shapes = []
    for array, name in ((X, "X"), (Y, "Y")):  # X first: an unknown Dask size raises for X
        shape = shape_of(array, name)
        if shape is None or len(shape) != 2:
            return "numpy", "auto chose numpy: the data's shape is not a 2-D array's"
        shapes.append(shape)
    x_shape, y_shape = shapes
    m = x_shape[1] if batch_size is None else min(batch_size, x_shape[1])
    return choose_by_work(flops_per_iteration((x_shape[0], *hidden, y_shape[0]), m))
