"""Parameter initialisation: host random numbers, moved once to the backend."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from portable_nn.backend import Backend, from_host, resolve_backend, to_backend
from portable_nn.training._check_inputs import check_init_mapping, param_shapes
from portable_nn.training._options import INITS

__all__ = ["init_params"]



def _scale(init: str, n_prev: int) -> float:
    if init == "small":
        return 0.01
    if init == "he":
        return math.sqrt(2.0 / n_prev)
    if init == "xavier":
        return math.sqrt(1.0 / n_prev)
    raise ValueError(f"init={init!r} is unknown; expected one of {list(INITS)} or a mapping")


def check_layer_dims(layer_dims: Sequence[int]) -> tuple[int, ...]:
    """Return ``layer_dims`` as a tuple of positive ints, or raise naming the argument."""
    if isinstance(layer_dims, (str, bytes)) or not isinstance(layer_dims, Sequence):
        raise TypeError(f"layer_dims must be a sequence of ints, got {layer_dims!r}")
    dims = tuple(layer_dims)
    if len(dims) < 2:
        raise ValueError(f"layer_dims needs an input and an output size, got {dims!r}")
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"layer_dims must hold positive ints, got {dims!r}")
    return dims


def _from_mapping(init: Mapping[str, Any], dims: tuple[int, ...], backend: Backend) -> dict:
    """Check ``init`` against ``dims`` (once: :func:`check_init_mapping`), then convert it."""
    check_init_mapping(init, dims)
    params = {key: to_backend(init[key], backend, name=f"init[{key!r}]")
              for key in param_shapes(dims)}
    if any(getattr(init[key], "shape", None) is None for key in params):
        check_init_mapping(params, dims)  # nested lists: their shapes are known only now
    return params


def init_params(
    layer_dims: Sequence[int],
    *,
    init: str | Mapping[str, Any] = "small",
    seed: int = 0,
    backend: str | ModuleType | Backend = "numpy",
    device: Any = None,
    dtype: Any = None,
) -> dict[str, Any]:
    """Create starting parameters ``W1, b1, ..., WL, bL`` for ``layer_dims``.

    Weights are drawn on the host from NumPy's legacy ``seed`` stream, in the order W1, W2, ...,
    scaled, then moved to the backend; biases are zero. The same seed therefore gives the same
    starting weights on every backend (rounded to the run's dtype).

    Parameters
    ----------
    layer_dims : sequence of int
        ``(n_x, n_1, ..., n_L)``: input size first.
    init : str or mapping
        ``"small"``: ``N(0,1) * 0.01`` (the lesson's default); ``"he"``:
        ``N(0,1) * sqrt(2 / n_prev)``; ``"xavier"``: ``N(0,1) * sqrt(1 / n_prev)``; or a mapping
        ``{"W1": ..., "b1": ..., ...}`` used exactly as given (converted to backend and dtype).
    seed : int
        Seed of the host random stream.
    backend, device, dtype
        As in :func:`portable_nn.train`.

    Returns
    -------
    dict
        ``{"W1": (n_1, n_0), "b1": (n_1, 1), ...}`` arrays of the backend.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> params = pnn.init_params((2, 4, 1), seed=2)
    >>> params["W1"].shape, params["b2"].shape
    ((4, 2), (1, 1))
    """
    dims = check_layer_dims(layer_dims)
    be = resolve_backend(backend, device, dtype)
    if isinstance(init, Mapping):
        return _from_mapping(init, dims, be)
    if not isinstance(init, str):
        raise TypeError(f"init must be a name {list(INITS)} or a mapping, got {init!r}")
    scales = [_scale(init, n_prev) for n_prev in dims[:-1]]
    shapes = [(dims[i], dims[i - 1]) for i in range(1, len(dims))]
    draws = be.host_standard_normal(seed, shapes)
    params = {}
    for layer, (weights, scale) in enumerate(zip(draws, scales, strict=True), start=1):
        params[f"W{layer}"] = from_host(weights * scale, be, name=f"W{layer}")
        params[f"b{layer}"] = be.xp.zeros((dims[layer], 1), dtype=be.dtype, device=be.device)
    return params
