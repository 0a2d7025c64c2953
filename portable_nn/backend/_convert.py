"""Move data between the host (NumPy) and a resolved backend, once, at the edges of a run."""

from __future__ import annotations

from typing import Any

import numpy as np
from array_api_compat import is_array_api_obj, to_device

from portable_nn.backend._dask_steps import check_known_chunks
from portable_nn.backend._libraries import host_copy, ops_of_array
from portable_nn.backend._selector import DTYPE_NAMES, Backend, dtype_name

__all__ = ["check_input", "from_host", "to_backend", "to_numpy"]


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
    check_input(array, "array")
    return host_copy(array)


def _kind_error(name: str, arr_dtype: Any) -> None:
    raise TypeError(
        f"{name} must hold real numbers (float, int or bool), got dtype {arr_dtype}; "
        "convert it to a numeric array first"
    )


def _unsupported_dtype(name: str, dtype: Any) -> None:
    raise TypeError(
        f"{name} has dtype {dtype}, which portable_nn does not train on: give float32 or "
        "float64 (integers and bools are converted); convert it first, e.g. with "
        ".astype('float32') (NumPy, JAX) or .float() (PyTorch)"
    )


def _check_host_dtype(name: str, dtype: np.dtype) -> None:
    """Accept integers, bools, float32 and float64; refuse everything else.

    float16, longdouble, bfloat16 (an ``ml_dtypes`` void-kind dtype), complex, strings and
    objects raise :class:`TypeError` naming ``name``.
    """
    if dtype.kind in "iub" or (dtype.kind == "f" and dtype.name in DTYPE_NAMES):
        return
    if dtype.kind == "f" or (dtype.kind == "V" and "float" in dtype.name):
        _unsupported_dtype(name, dtype)
    _kind_error(name, dtype)


def sparse_library(array: Any) -> str | None:
    """The library of a sparse array or matrix (SciPy, PyTorch, JAX, pydata sparse, CuPy)."""
    module = type(array).__module__
    if "sparse" in module.split("."):
        return module.split(".")[0]
    return ops_of_array(array).sparse_layout(array)


def check_input(array: Any, name: str) -> None:
    """Refuse data no backend can train on, before any conversion, naming ``name``.

    Sparse arrays or matrices of any library, and PyTorch tensors on the ``meta`` device
    (which hold no data), raise; everything else is left to the conversion.

    Raises
    ------
    TypeError
        For sparse data.
    ValueError
        For meta tensors.
    """
    library = sparse_library(array)
    if library is not None:
        raise TypeError(
            f"{name} is a sparse {type(array).__name__} of {library}; portable_nn trains on "
            "dense arrays: convert it first (.toarray() for SciPy, .to_dense() for PyTorch, "
            ".todense() for JAX and pydata sparse)"
        )
    if getattr(array, "is_meta", False) is True:
        raise ValueError(f"{name} is a tensor on the 'meta' device, which holds no data; "
                         "give a tensor with values (on 'cpu' or 'cuda')")


def _detached(array: Any) -> Any:
    """A PyTorch tensor without its autograd history (other arrays unchanged)."""
    if getattr(array, "requires_grad", False) is True and hasattr(array, "detach"):
        return array.detach()
    return array


def from_host(array: np.ndarray, backend: Backend, *, name: str = "array") -> Any:
    """Copy a NumPy array to ``backend``'s device in its dtype.

    Integer and boolean arrays are converted; float16, bfloat16, longdouble, complex, string
    and object arrays raise :class:`TypeError` naming ``name``.
    """
    _check_host_dtype(name, array.dtype)
    host = np.asarray(array, dtype=np.dtype(backend.dtype_name), order="C")  # keeps 0-d as 0-d
    return backend.ops.from_host(host, backend)


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

    Tensors that carry autograd history are detached: a run never extends their graph.

    Raises
    ------
    TypeError
        When the data are not real numbers (complex, strings, objects), have a dtype other
        than float32, float64, an integer or bool (float16, bfloat16), or are sparse.
    ValueError
        For PyTorch tensors on the ``meta`` device.
    """
    xp = backend.xp
    check_input(array, name)
    array = _detached(array)
    foreign = is_array_api_obj(array) and not isinstance(array, np.ndarray)
    if foreign:
        _check_array_dtype(array, name)
    if foreign and _same_library(array, xp):
        check_known_chunks(array, name)  # a lazy (Dask) array kept as it is: its shape is used
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


def _check_array_dtype(array: Any, name: str) -> None:
    """Refuse a library array whose dtype is not float32, float64, an integer or bool."""
    from array_api_compat import array_namespace

    try:
        ns = array_namespace(array)
    except TypeError:
        return  # not a namespace array_api_compat knows: the host conversion checks it
    kind = _array_kind(ns, array)
    if kind not in ("real floating", "integral", "bool"):
        _kind_error(name, array.dtype)
    if kind == "real floating" and dtype_name(ns, array.dtype) not in DTYPE_NAMES:
        _unsupported_dtype(name, array.dtype)


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
