"""Move data between the host (NumPy) and a resolved backend, once, at the edges of a run."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj, to_device

from portable_nn.backend._selector import Backend

__all__ = ["from_host", "to_backend", "to_numpy"]


def to_numpy(array: Any) -> np.ndarray:
    """Return a NumPy copy (or view) of any supported array, wherever it lives.

    Works for NumPy, CuPy (copied from the GPU), PyTorch on any device (detached and
    copied to the CPU), JAX and array-api-strict arrays, and for nested lists and scalars.

    Parameters
    ----------
    array : array-like
        The array to bring to the host.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import portable_nn as pnn
    >>> pnn.to_numpy([[1.0, 2.0]]).shape
    (1, 2)
    """
    if isinstance(array, np.ndarray):
        return array
    module = type(array).__module__.split(".")[0]
    if module == "torch":
        return array.detach().cpu().numpy()
    if module == "cupy":
        return array.get()
    if module == "array_api_strict":
        import array_api_strict

        if str(array.device) != "CPU_DEVICE":
            array = array_api_strict.asarray(array, device=array_api_strict.Device("CPU_DEVICE"))
        return np.from_dlpack(array)
    if module == "dask":
        return np.asarray(array.compute())
    return np.asarray(array)


def _kind_error(name: str, arr_dtype: Any) -> None:
    raise TypeError(
        f"{name} must hold real numbers (float, int or bool), got dtype {arr_dtype}; "
        "convert it to a numeric array first"
    )


def from_host(array: np.ndarray, backend: Backend, *, name: str = "array") -> Any:
    """Copy a NumPy array to ``backend``'s device in its dtype.

    Integer and boolean arrays are converted; complex, string and object arrays raise
    :class:`TypeError` naming ``name``.
    """
    if array.dtype.kind not in "fiub":
        _kind_error(name, array.dtype)
    xp = backend.xp
    host = np.asarray(array, dtype=np.dtype(backend.dtype_name), order="C")  # keeps 0-d as 0-d
    if backend.name == "numpy":
        return host
    return xp.asarray(host, dtype=backend.dtype, device=backend.device)


def to_backend(array: Any, backend: Backend, *, name: str = "array") -> Any:
    """Convert ``array`` (NumPy, list, or any supported library's array) to ``backend``.

    An array already of ``backend``'s namespace stays on the device it should be on and is only
    cast when its dtype differs; arrays of another library go through the host once.

    Parameters
    ----------
    array : array-like
        The data to convert.
    backend : Backend
        The resolved backend.
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    array
        An array of ``backend.xp`` on ``backend.device`` with dtype ``backend.dtype``.

    Raises
    ------
    TypeError
        When the data are not real numbers (complex, strings, objects).
    """
    xp = backend.xp
    if is_array_api_obj(array) and not isinstance(array, np.ndarray) and _same_library(array, xp):
        kind = _array_kind(xp, array)
        if kind not in ("real floating", "integral", "bool"):
            _kind_error(name, array.dtype)
        if array.dtype != backend.dtype:
            array = xp.astype(array, backend.dtype)
        if backend.device is not None and _device_of(array) != backend.device:
            array = to_device(array, backend.device)
        return array
    if is_array_api_obj(array):
        host = to_numpy(array)
    else:
        try:
            host = np.asarray(array)
        except (ValueError, TypeError) as exc:  # ragged nested lists, odd objects
            raise ValueError(
                f"{name} could not be converted to an array: {str(exc).rstrip('.')}. Give a "
                "rectangular array-like of numbers"
            ) from exc
    return from_host(host, backend, name=name)


def _device_of(array: Any) -> Any:
    from array_api_compat import device

    return device(array)


def _same_library(array: Any, xp: Any) -> bool:
    from array_api_compat import array_namespace

    try:
        ns = array_namespace(array)
    except TypeError:
        return False
    root = xp.__name__.replace("array_api_compat.", "").split(".")[0]
    return ns.__name__.replace("array_api_compat.", "").split(".")[0] == root


def _array_kind(xp: Any, array: Any) -> str:
    for kind in ("bool", "integral", "real floating", "complex floating"):
        if xp.isdtype(array.dtype, kind):
            return kind
    return "other"
