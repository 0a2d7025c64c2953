"""Random numbers: host draws for initialisation and shuffling, device draws for dropout.

Initial weights and mini-batch orders are drawn on the host with NumPy from ``seed`` and moved
to the backend, so the same seed gives the same run on every backend. Dropout masks are drawn
on the backend's own device every iteration (one small path per backend), so a GPU run never
ships masks from the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from portable_nn.backend._selector import Backend

__all__ = ["epoch_permutation", "host_standard_normal", "mask_sampler"]


def host_standard_normal(seed: int, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """Draw N(0, 1) float64 arrays of ``shapes``, in order, from NumPy's legacy ``seed`` stream.

    The legacy stream (``np.random.seed(seed); np.random.randn(...)``) is the one the lesson
    uses, so ``seed=2`` reproduces its starting weights.
    """
    rng = np.random.RandomState(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def epoch_permutation(seed: int, epoch: int, m: int, backend: Backend) -> Any:
    """The sample order of mini-batch epoch ``epoch``: a permutation of ``range(m)`` on device.

    Derived from ``(seed, epoch)`` alone, so a resumed run reshuffles exactly as the original.
    """
    order = np.random.default_rng([seed, epoch]).permutation(m)
    if backend.name == "numpy":
        return order
    return backend.xp.asarray(order, device=backend.device)


def mask_sampler(backend: Backend, seed: int) -> Callable[[tuple[int, ...], float, int], Any]:
    """Return ``sample(shape, keep_prob, iteration) -> mask`` drawing on ``backend``'s device.

    The mask holds ``0`` or ``1 / keep_prob`` in the run's dtype (inverted dropout).
    """
    xp, dtype = backend.xp, backend.dtype
    uniform = _uniform_source(backend, seed)

    def sample(shape: tuple[int, ...], keep_prob: float, iteration: int) -> Any:
        u = uniform(shape, iteration)
        return xp.astype(u < keep_prob, dtype) * (1.0 / keep_prob)

    return sample


def _uniform_source(backend: Backend, seed: int) -> Callable[[tuple[int, ...], int], Any]:
    name, dtype, device = backend.name, backend.dtype, backend.device
    if name == "torch":
        import torch

        gen = torch.Generator(device=device)
        gen.manual_seed(seed)
        return lambda shape, _i: torch.rand(shape, generator=gen, device=device, dtype=dtype)
    if name == "cupy":
        import cupy

        with cupy.cuda.Device(getattr(device, "id", device)):
            gen = cupy.random.default_rng(seed)
        return lambda shape, _i: gen.random(shape, dtype=dtype)
    if name == "jax":
        import jax

        key = jax.random.key(seed)
        return lambda shape, i: jax.random.uniform(jax.random.fold_in(key, i), shape, dtype)
    host = np.random.default_rng(seed)
    host_dtype = np.dtype(backend.dtype_name)
    if name == "numpy":
        return lambda shape, _i: host.random(shape, dtype=host_dtype)
    # array_api_strict, dask and other namespaces have no random module in the standard:
    # their arrays live on the host, so a host draw costs no device transfer.
    return lambda shape, _i: backend.xp.asarray(
        host.random(shape, dtype=host_dtype), device=device
    )
