"""The backend selector: the only package that names NumPy, CuPy, PyTorch, JAX or Dask.

It turns ``backend=``, ``device=`` and ``dtype=`` into a :class:`Backend` (an array-API
namespace, a device, a dtype and its library's ``ops``), moves data in and out, and says what
is usable here.

What differs by library lives in one object per library (``backend._libraries``: NumPy,
CuPy, PyTorch, JAX, Dask, array-api-strict and any other namespace), picked from the
namespace with array-api-compat's ``is_*_namespace``; training reaches it through the
:class:`Backend` of its run (``backend.compile_steps(...)``, ``backend.mask_sampler(...)``,
``backend.ops.sum_over_chunks(...)``) and never names a library.

The other packages of portable_nn use the names exported here and nothing of the private
modules: the selector and its error, the conversions in and out, out-of-core columns
(``ColumnReader``), the targets' output layer, ``backend="auto"``'s choice, PyTorch
modules in and out, Dask's lost-workers error and where warnings point. Files (``.npz``,
``.safetensors``, ONNX) are read and written by ``portable_nn.files``, a floor above.
"""

from portable_nn.backend._auto import choose_auto_backend
from portable_nn.backend._columns import ColumnReader
from portable_nn.backend._convert import from_host, to_backend, to_numpy
from portable_nn.backend._dask_steps import WorkersLostError
from portable_nn.backend._interop import sequential_layers, torch_sequential
from portable_nn.backend._registry import BackendUnavailableError, available_backends
from portable_nn.backend._selector import DTYPE_NAMES, Backend, resolve_backend
from portable_nn.backend._stack import user_stacklevel
from portable_nn.backend._targets import infer_output

__all__ = [
    "DTYPE_NAMES",
    "Backend",
    "BackendUnavailableError",
    "ColumnReader",
    "WorkersLostError",
    "available_backends",
    "choose_auto_backend",
    "from_host",
    "infer_output",
    "resolve_backend",
    "sequential_layers",
    "to_backend",
    "to_numpy",
    "torch_sequential",
    "user_stacklevel",
]
