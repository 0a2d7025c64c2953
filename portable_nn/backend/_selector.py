"""Turn ``backend=``, ``device=`` and ``dtype=`` into one resolved :class:`Backend`."""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from portable_nn.backend._jax_devices import is_device_group, replicated_sharding
from portable_nn.backend._registry import KNOWN_BACKENDS, BackendUnavailableError

__all__ = ["DTYPE_NAMES", "Backend", "device_name", "dtype_name", "resolve_backend"]

#: The floating dtypes portable_nn trains in, by name: the one list every check and choice uses.
DTYPE_NAMES = ("float32", "float64")


@dataclass(frozen=True)
class Backend:
    """A resolved backend: an array-API namespace, a device and a floating dtype.

    Attributes
    ----------
    name : str
        The backend's name (``"numpy"``, ``"torch"``, ...), or the namespace module's name.
    xp : module
        The array-API namespace every computation of a run goes through.
    device : object
        The device every array of the run lives on.
    dtype : object
        The real floating dtype every array of the run has.
    """

    name: str
    xp: ModuleType
    device: Any
    dtype: Any

    @property
    def dtype_name(self) -> str:
        """The dtype as a plain string, such as ``"float32"``."""
        return dtype_name(self.xp, self.dtype)

    def full_precision(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which matrix products keep the dtype's full precision.

        JAX on a GPU multiplies float32 matrices in TF32 (10-bit mantissas) by default; inside
        this context it uses full float32 (``jax.default_matmul_precision("highest")``). Every
        other backend already does (PyTorch keeps ``allow_tf32`` off by default, CuPy needs
        ``CUPY_TF32=1``): a no-op for them.
        """
        if self.name == "jax":
            import jax

            return jax.default_matmul_precision("highest")
        return contextlib.nullcontext()

    def float_warnings_silenced(self) -> contextlib.AbstractContextManager[Any]:
        """A context in which floating-point warnings of the array library are not shown.

        NumPy (and array-api-strict and Dask, which compute with it) warns about overflow in
        a matrix product or an invalid value in a multiply when training diverges; inside this
        context those warnings are neither computed (``numpy.errstate``) nor shown (including
        from Dask's worker threads): training reports divergence with one clear error
        instead. Other warnings are shown as usual.
        """
        return _float_warnings_silenced()


_FLOAT_WARNING = r".*(overflow|invalid value|divide by zero|underflow) encountered"


@contextlib.contextmanager
def _float_warnings_silenced() -> Iterator[None]:
    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_FLOAT_WARNING, category=RuntimeWarning)
        yield


def dtype_name(xp: ModuleType, dtype: Any) -> str:
    """Return ``"float32"`` or ``"float64"`` for a floating dtype of ``xp``."""
    for name in DTYPE_NAMES:
        if hasattr(xp, name) and dtype == getattr(xp, name):
            return name
    return str(dtype)


def _namespace_name(xp: ModuleType) -> str:
    module = xp.__name__
    for name, spec in KNOWN_BACKENDS.items():
        if module in (spec.module, f"array_api_compat.{spec.module}", f"{spec.module}.numpy"):
            return name
    return module


def _from_module(module: ModuleType) -> tuple[str, ModuleType]:
    """Resolve a module given as ``backend=`` to ``(name, namespace)``.

    A known library, raw or wrapped, becomes its array-API namespace (``torch`` ->
    ``array_api_compat.torch``); another module must itself be an array-API namespace.
    """
    name = _namespace_name(module)
    if name in KNOWN_BACKENDS:
        return name, KNOWN_BACKENDS[name].load()
    if not all(hasattr(module, attr) for attr in ("__array_namespace_info__", "asarray",
                                                  "matmul", "astype")):
        known = ", ".join(repr(n) for n in KNOWN_BACKENDS)
        raise TypeError(
            f"backend={module.__name__!r} is a module but not an array-API namespace (it lacks "
            f"__array_namespace_info__, asarray, matmul or astype): pass a backend name "
            f"({known}) or an array-API namespace, such as "
            f"array_api_compat.array_namespace(your_array)"
        )
    return name, module


def _load_namespace(backend: str | ModuleType) -> tuple[str, ModuleType]:
    if isinstance(backend, ModuleType):
        return _from_module(backend)
    if not isinstance(backend, str):
        raise TypeError(
            f"backend must be a name such as 'numpy' or an array namespace module, "
            f"got {type(backend).__name__}: {backend!r}"
        )
    if backend == "auto":
        try:
            return "cupy", KNOWN_BACKENDS["cupy"].load()
        except BackendUnavailableError:
            return "numpy", KNOWN_BACKENDS["numpy"].load()
    spec = KNOWN_BACKENDS.get(backend)
    if spec is None:
        known = ", ".join(repr(n) for n in (*KNOWN_BACKENDS, "auto"))
        raise ValueError(f"unknown backend={backend!r}; expected one of {known} or a namespace")
    return backend, spec.load()


def _resolve_device(name: str, xp: ModuleType, device: Any) -> Any:
    if name == "jax" and is_device_group(device):  # several devices: samples sharded
        return replicated_sharding(device)
    info = xp.__array_namespace_info__()
    if device is None:
        default = info.default_device()
        if default is None:  # JAX: "default placement"; name the device a new array lands on
            from array_api_compat import device as device_of

            default = device_of(xp.empty((0,)))
        return default
    if name == "torch" and isinstance(device, (str, int)):
        import torch

        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device={device!r} is not a PyTorch device: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={str(device)!r} was asked of backend='torch', but PyTorch sees no CUDA "
                "device here (torch.cuda.is_available() is False)"
            )
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"device={str(device)!r} does not exist for backend='torch'")
        return _check_torch_device(device)
    devices = [d for d in info.devices() if d is not None]
    for candidate in devices:
        if device == candidate or str(device) == str(candidate) or _cuda_index(candidate) == device:
            return candidate
    for candidate in devices:  # a platform name ("cpu", "gpu" for JAX): its first device
        if isinstance(device, str) and getattr(candidate, "platform", None) == device:
            return candidate
    for candidate in devices:  # a bare device name: "device1" for Device('device1')
        if isinstance(device, str) and device_name(candidate) == device:
            return candidate
    raise ValueError(
        f"device={device!r} is not a device of backend={name!r}; "
        f"its devices here are {[str(d) for d in devices]}"
    )


def _check_torch_device(device: Any) -> Any:
    """Refuse a PyTorch device that cannot hold data or is not present.

    ``meta`` holds no data; ``mps`` needs MPS; any other non-CPU, non-CUDA device (``xpu``,
    ...) must run a tiny computation.
    """
    import torch

    if device.type == "meta":
        raise ValueError("device='meta' holds no data (PyTorch's shape-only device): it cannot "
                         "train; use 'cpu' or 'cuda'")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={str(device)!r} was asked of backend='torch', but MPS is not "
                         "available here (torch.backends.mps.is_available() is False)")
    if device.type not in ("cpu", "cuda"):
        try:
            float(torch.ones(1, device=device).sum())
        except Exception as exc:
            raise ValueError(f"device={str(device)!r} is not usable by backend='torch' here: "
                             f"{type(exc).__name__}: {exc}") from exc
    return device


def device_name(device: Any) -> str:
    """Return a device's name as a user writes it in ``device=``.

    array-api-strict's devices print as ``Device('device1')``: their name is the quoted part.
    Every other device is named by its ``str`` (``cpu``, ``cuda:0``, ``TFRT_CPU_0``, ...).

    Parameters
    ----------
    device : object
        A device of any backend.

    Returns
    -------
    str

    Examples
    --------
    >>> import array_api_strict
    >>> device_name(array_api_strict.Device("device1"))
    'device1'
    >>> device_name("cuda:0")
    'cuda:0'
    """
    text = str(device)
    quoted = re.fullmatch(r"[\w.]*Device\('([^']+)'\)", text)
    return quoted.group(1) if quoted else text


def _cuda_index(device: Any) -> Any:
    return getattr(device, "id", None)


def _resolve_dtype(name: str, xp: ModuleType, device: Any, dtype: Any) -> Any:
    info = xp.__array_namespace_info__()
    supported = info.dtypes(device=device, kind="real floating")
    if dtype is None:
        return info.default_dtypes(device=device)["real floating"]
    if isinstance(dtype, str):
        if dtype not in DTYPE_NAMES:
            raise ValueError(f"dtype={dtype!r} is not supported; expected one of "
                             f"{list(DTYPE_NAMES)}")
        wanted: str | None = dtype
    else:
        wanted = next((n for n, d in supported.items() if d == dtype), None)
        if wanted is None and dtype_name(xp, dtype) not in DTYPE_NAMES:
            raise ValueError(
                f"dtype={dtype!r} is not a real floating dtype; expected float32 or float64"
            )
        wanted = wanted or dtype_name(xp, dtype)
    if wanted not in supported:
        hint = ""
        if name == "jax" and wanted == "float64":
            hint = (
                " JAX needs its x64 mode for float64: set the environment variable "
                "JAX_ENABLE_X64=1 before JAX is imported (or call "
                "jax.config.update('jax_enable_x64', True) first), or use dtype='float32'."
            )
        raise ValueError(
            f"dtype={wanted!r} is not supported by backend={name!r} on device={str(device)!r}; "
            f"it supports {sorted(supported)}.{hint}"
        )
    return supported[wanted]


def resolve_backend(
    backend: str | ModuleType | Backend = "numpy", device: Any = None, dtype: Any = None
) -> Backend:
    """Resolve a backend name (or namespace), a device and a dtype into a :class:`Backend`.

    Parameters
    ----------
    backend : str, module or Backend
        ``"numpy"``, ``"array_api_strict"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"dask"``,
        ``"auto"``, or an array-API namespace module. Here, without the size of the work,
        ``"auto"`` is CuPy when a CUDA device is usable, else NumPy; :func:`portable_nn.train`
        resolves ``"auto"`` by the work per iteration instead (see
        :func:`~portable_nn.backend.choose_auto_backend`). A :class:`Backend` is returned
        unchanged when device and dtype are None.
    device : object, optional
        A device of that backend (``"cuda:0"`` for PyTorch, ``0`` for CuPy, ...).
        Default: the namespace's default device. For JAX, a list of devices or a
        ``jax.sharding.Mesh``: the device becomes a replicated ``NamedSharding`` and ``train``
        splits the samples across the devices.
    dtype : str or dtype, optional
        ``"float32"``, ``"float64"`` or a floating dtype of the namespace. Default: the
        namespace's default real floating dtype on that device.

    Returns
    -------
    Backend

    Raises
    ------
    ValueError
        Unknown backend name, missing device, or a dtype the device does not support.
    BackendUnavailableError
        The backend is known but not installed or (CuPy) has no usable CUDA device.

    Examples
    --------
    >>> from portable_nn.backend import resolve_backend
    >>> resolve_backend("numpy", dtype="float32").dtype_name
    'float32'
    """
    if isinstance(backend, Backend):
        if device is None and dtype is None:
            return backend
        backend = backend.xp
    name, xp = _load_namespace(backend)
    resolved_device = _resolve_device(name, xp, device)
    resolved_dtype = _resolve_dtype(name, xp, resolved_device, dtype)
    return Backend(name=name, xp=xp, device=resolved_device, dtype=resolved_dtype)
