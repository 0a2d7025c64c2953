"""The known array backends: how to import each, how to install it, and whether it is usable here.

This is one of the few modules that name array libraries. Everything above the backend
selector sees only an array namespace (``xp``), a device and a dtype.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["KNOWN_BACKENDS", "BackendSpec", "BackendUnavailableError", "available_backends"]


class BackendUnavailableError(ImportError, ValueError):
    """A backend that portable_nn knows cannot be used on this machine.

    Subclasses both :class:`ImportError` (the library is missing or broken) and
    :class:`ValueError` (the ``backend=`` argument cannot be honoured).
    """


@dataclass(frozen=True)
class BackendSpec:
    """How one named backend is imported and installed."""

    name: str
    module: str
    install: str
    needs_cuda: bool = False

    def load(self) -> ModuleType:
        """Import and return the array-API namespace of this backend.

        Raises
        ------
        BackendUnavailableError
            If the library is not installed, fails to import, or (CuPy) finds no usable CUDA device.
        """
        try:
            xp = importlib.import_module(_NAMESPACES.get(self.name, self.module))
        except Exception as exc:  # ImportError, or a CUDA library failing at import time
            raise BackendUnavailableError(
                f"backend={self.name!r} is not usable here: importing {self.module!r} failed "
                f"({type(exc).__name__}: {exc}). Install it with: {self.install}"
            ) from exc
        if self.needs_cuda:
            _probe_cuda(self)
        return xp


def _probe_cuda(spec: BackendSpec) -> None:
    """Raise unless CuPy can really run a kernel on a CUDA device (an import is not enough)."""
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            raise RuntimeError("no CUDA device found")
        float((cupy.arange(3, dtype=cupy.float32) * 2).sum())  # a real kernel launch
    except Exception as exc:
        raise BackendUnavailableError(
            f"backend={spec.name!r} needs a usable CUDA device, and none was found "
            f"({type(exc).__name__}: {exc}). Use backend='numpy' (or 'auto') on this machine, "
            f"or install the CuPy build for your CUDA version: {spec.install}"
        ) from exc


#: The install hints name the extra for an installed package (pip adds an installed
#: distribution's missing extras, also one installed from a wheel file) and for a clone.
TORCH_INSTALL = (
    "pip install 'portable-nn[torch]' (from a clone: pip install -e '.[torch]'; on Linux this "
    "pulls the CUDA wheels, several GB; for the CPU-only build first: pip install torch "
    "--index-url https://download.pytorch.org/whl/cpu)"
)

# the array-API namespace each known library is used through (others: the spec's module)
_NAMESPACES = {"numpy": "array_api_compat.numpy", "torch": "array_api_compat.torch",
               "cupy": "array_api_compat.cupy", "jax": "jax.numpy",
               "dask": "array_api_compat.dask.array"}


def _extra(name: str) -> str:
    return f"pip install 'portable-nn[{name}]' (from a clone: pip install -e '.[{name}]')"


KNOWN_BACKENDS: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in (
        BackendSpec("numpy", "numpy", "pip install portable-nn (from a clone: pip install -e .)"),
        BackendSpec("array_api_strict", "array_api_strict", _extra("strict")),
        BackendSpec("torch", "torch", TORCH_INSTALL),
        BackendSpec("jax", "jax", _extra("jax")),
        BackendSpec(
            "cupy",
            "cupy",
            "pip install 'portable-nn[cuda13]' (CUDA 13) or 'portable-nn[cuda12]' (CUDA 12) "
            "(from a clone: pip install -e '.[cuda13]' or -e '.[cuda12]')",
            needs_cuda=True,
        ),
        BackendSpec("dask", "dask.array", _extra("dask")),
    )
}


def _version_of(module_name: str) -> str | None:
    try:
        top = importlib.import_module(module_name.split(".")[0])
    except Exception:
        return None
    return getattr(top, "__version__", None)


def available_backends() -> dict[str, dict[str, Any]]:
    """Report every known backend and whether it is usable on this machine.

    Returns
    -------
    dict
        ``{name: {"usable": bool, "version": str | None, "reason": str | None,
        "install": str}}``. ``reason`` says why a backend is not usable (``None`` when it is).
        CuPy counts as usable only when a CUDA kernel really runs.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> pnn.available_backends()["numpy"]["usable"]
    True
    """
    report: dict[str, dict[str, Any]] = {}
    reason: str | None
    for name, spec in KNOWN_BACKENDS.items():
        try:
            spec.load()
        except BackendUnavailableError as exc:
            usable, reason = False, str(exc)
        else:
            usable, reason = True, None
        report[name] = {
            "usable": usable,
            "version": _version_of(spec.module) if usable else None,
            "reason": reason,
            "install": spec.install,
        }
    return report
