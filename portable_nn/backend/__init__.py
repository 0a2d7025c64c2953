"""The backend selector: the only package that names NumPy, CuPy, PyTorch or JAX.

It turns ``backend=``, ``device=`` and ``dtype=`` into a :class:`Backend` (an array-API
namespace, a device and a dtype), moves data in and out, and says what is usable here.

The other packages of portable_nn use the names exported here and nothing of the private
modules: besides the selector, the training layer's building blocks (compiled step blocks,
host random streams and dropout masks, out-of-core column chunks, JAX sample sharding, the
Dask chunk sums), the checked ``.npz`` and ``.safetensors`` readers and atomic writers, and
the ways out of portable_nn: ONNX graphs built on ndonnx, PyTorch modules in and out.
"""

from portable_nn.backend._auto import (
    CROSSOVER_FLOPS,
    choose_auto_backend,
    flops_per_iteration,
    shape_of,
)
from portable_nn.backend._columns import (
    ColumnReader,
    column_chunks,
    is_out_of_core,
    read_whole,
)
from portable_nn.backend._compile import compile_steps, compiler_of, jax_chunk_loop
from portable_nn.backend._convert import from_host, to_backend, to_numpy
from portable_nn.backend._dask_steps import rechunk_columns, warn_if_small
from portable_nn.backend._dask_steps import sum_over_chunks as dask_sum_over_chunks
from portable_nn.backend._host_memory import keep_freed_memory_in_process
from portable_nn.backend._interop import sequential_layers, torch_sequential
from portable_nn.backend._io import (
    NpzArchive,
    NpzReadError,
    interrupts_deferred,
    read_npz,
    write_atomic,
    write_npz_atomic,
)
from portable_nn.backend._jax_devices import shard_samples
from portable_nn.backend._onnx import ONNX_INSTALL_HINT, onnx_namespace, onnx_opset, write_onnx
from portable_nn.backend._random import (
    chunk_mask_sampler,
    chunk_masks,
    epoch_permutation,
    host_standard_normal,
    mask_sampler,
)
from portable_nn.backend._registry import (
    KNOWN_BACKENDS,
    BackendUnavailableError,
    available_backends,
)
from portable_nn.backend._safetensors import SafetensorsArchive, write_safetensors_atomic
from portable_nn.backend._selector import (
    DTYPE_NAMES,
    Backend,
    device_name,
    dtype_name,
    resolve_backend,
)
from portable_nn.backend._stack import user_stacklevel

__all__ = [
    "CROSSOVER_FLOPS",
    "DTYPE_NAMES",
    "KNOWN_BACKENDS",
    "Backend",
    "BackendUnavailableError",
    "ColumnReader",
    "NpzArchive",
    "ONNX_INSTALL_HINT",
    "NpzReadError",
    "SafetensorsArchive",
    "available_backends",
    "choose_auto_backend",
    "chunk_mask_sampler",
    "chunk_masks",
    "column_chunks",
    "compile_steps",
    "compiler_of",
    "dask_sum_over_chunks",
    "device_name",
    "dtype_name",
    "epoch_permutation",
    "flops_per_iteration",
    "from_host",
    "host_standard_normal",
    "interrupts_deferred",
    "is_out_of_core",
    "jax_chunk_loop",
    "keep_freed_memory_in_process",
    "mask_sampler",
    "onnx_namespace",
    "onnx_opset",
    "read_npz",
    "read_whole",
    "rechunk_columns",
    "resolve_backend",
    "sequential_layers",
    "shape_of",
    "shard_samples",
    "to_backend",
    "to_numpy",
    "torch_sequential",
    "user_stacklevel",
    "warn_if_small",
    "write_atomic",
    "write_npz_atomic",
    "write_onnx",
    "write_safetensors_atomic",
]
