"""Lazy backends (Dask): settle a run's arrays now and then, so that its task graph stays short.

A Dask array is a recipe, not a value: after ``k`` training iterations the parameters' graph
holds all ``k`` iterations, and every recorded cost would recompute them from the start. The
training loop therefore asks for a settler once per run and, on a lazy backend, has the
parameters and optimizer state computed and kept in memory (``dask.persist``) every
``SETTLE_EVERY`` iterations. Eager backends get ``None`` and pay nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portable_nn.backend._selector import Backend

__all__ = ["SETTLE_EVERY", "settler"]

SETTLE_EVERY = 25

Settle = Callable[[dict[str, Any]], dict[str, Any]]


def settler(backend: Backend) -> Settle | None:
    """``settle(arrays) -> arrays`` computed and held in memory for Dask; None elsewhere."""
    if backend.name != "dask":
        return None
    import dask

    def settle(arrays: dict[str, Any]) -> dict[str, Any]:
        keys = list(arrays)
        values = dask.persist(*(arrays[k] for k in keys))
        return dict(zip(keys, values, strict=True))

    return settle
