"""Model and data files: checked readers and atomic writers, below the training layer.

Everything that reads or writes a file for portable_nn: ``.npz`` archives read without ever
unpickling, ``.safetensors`` files, ONNX graphs built on ndonnx, and the atomic writer they
share (a temporary file renamed over the target, interrupts deferred meanwhile). Arrays are
files' host format, NumPy; arrays of any backend are brought to the host with
:func:`portable_nn.backend.to_numpy` before writing, and what is read is moved to a backend
by the caller. The package names no array library but NumPy and imports only the public
names of :mod:`portable_nn.backend`.
"""

from portable_nn.files._io import (
    NpzArchive,
    NpzReadError,
    interrupts_deferred,
    open_regular_file,
    read_npz,
    write_atomic,
    write_npz_atomic,
)
from portable_nn.files._onnx import ONNX_INSTALL_HINT, onnx_namespace, onnx_opset, write_onnx
from portable_nn.files._safetensors import SafetensorsArchive, write_safetensors_atomic

__all__ = [
    "ONNX_INSTALL_HINT",
    "NpzArchive",
    "NpzReadError",
    "SafetensorsArchive",
    "interrupts_deferred",
    "onnx_namespace",
    "onnx_opset",
    "open_regular_file",
    "read_npz",
    "write_atomic",
    "write_npz_atomic",
    "write_onnx",
    "write_safetensors_atomic",
]
