"""The backend selector: the only package that names NumPy, CuPy, PyTorch or JAX.

It turns ``backend=``, ``device=`` and ``dtype=`` into a :class:`Backend` (an array-API
namespace, a device and a dtype), moves data in and out, and says what is usable here.
"""

from portable_nn.backend._auto import (
    CROSSOVER_FLOPS,
    choose_auto_backend,
    flops_per_iteration,
    shape_of,
)
from portable_nn.backend._convert import from_host, to_backend, to_numpy
from portable_nn.backend._host_memory import keep_freed_memory_in_process
from portable_nn.backend._registry import (
    KNOWN_BACKENDS,
    BackendUnavailableError,
    available_backends,
)
from portable_nn.backend._selector import Backend, dtype_name, resolve_backend

__all__ = [
    "CROSSOVER_FLOPS",
    "KNOWN_BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "available_backends",
    "choose_auto_backend",
    "dtype_name",
    "flops_per_iteration",
    "from_host",
    "keep_freed_memory_in_process",
    "resolve_backend",
    "shape_of",
    "to_backend",
    "to_numpy",
]
