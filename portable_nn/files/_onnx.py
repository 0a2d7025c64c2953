"""ONNX files built by running array-API code on ndonnx, whose arrays build an ONNX graph.

ndonnx implements the array API standard; every operation on its arrays adds a node to an
ONNX graph instead of computing. :func:`write_onnx` hands a function (the training layer's
forward pass, written against the array API) an ndonnx input and ndonnx constants, and saves
the graph it builds: nothing here knows what a network is, and there is no converter to
keep in step with the forward pass.

The graph ndonnx builds is then made smaller without changing a node: node names and
documentation strings are dropped and intermediate value names shortened (ndonnx names
values by their path through inlined sub-models, tens of bytes each), so a small network's
file is a few tens of kilobytes and a large one's is nearly all parameter bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from portable_nn.backend import to_numpy
from portable_nn.files._io import write_atomic

__all__ = ["ONNX_INSTALL_HINT", "onnx_namespace", "onnx_opset", "write_onnx"]

ONNX_INSTALL_HINT = ("install the extra: pip install 'portable-nn[onnx]' (from a clone: "
                     "pip install -e '.[onnx]')")
INPUT_NAME = "X"
OUTPUT_NAME = "output"
BATCH = "batch"


def onnx_namespace() -> Any:
    """The ndonnx namespace (an array-API library whose arrays build ONNX graphs).

    Raises
    ------
    ImportError
        When ndonnx or onnx is not installed (the message says how to install them).

    Examples
    --------
    >>> xp = onnx_namespace()  # doctest: +SKIP
    >>> xp.__name__  # doctest: +SKIP
    'ndonnx'
    """
    try:
        import ndonnx
        import onnx  # noqa: F401 (ndonnx builds onnx protos)
    except ImportError as exc:
        raise ImportError(f"ONNX export needs ndonnx and onnx: {ONNX_INSTALL_HINT}") from exc
    return ndonnx


def onnx_opset(model: Any) -> int:
    """The default-domain (``ai.onnx``) opset version of an ONNX ``ModelProto``."""
    return next(int(entry.version) for entry in model.opset_import
                if entry.domain in ("", "ai.onnx"))


def _compact(model: Any) -> Any:
    """Drop node names and doc strings and shorten value names, in every (sub)graph, in place.

    Graph inputs and outputs keep their names; a value keeps one short name everywhere it
    appears, including subgraphs that read it from the outer scope, so the graph computes
    exactly what it did.
    """
    keep = {value.name for value in (*model.graph.input, *model.graph.output)}
    names: dict[str, str] = {}

    def short(name: str) -> str:
        if not name or name in keep:
            return name
        return names.setdefault(name, f"t{len(names)}")

    def walk(graph: Any) -> None:
        for values in (graph.input, graph.output, graph.value_info):
            for value in values:
                value.name = short(value.name)
        for tensor in graph.initializer:
            tensor.name = short(tensor.name)
        for node in graph.node:
            node.name = ""
            node.doc_string = ""
            node.input[:] = [short(name) for name in node.input]
            node.output[:] = [short(name) for name in node.output]
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    walk(attribute.g)
                for subgraph in attribute.graphs:
                    walk(subgraph)

    walk(model.graph)
    return model


def write_onnx(path: str | os.PathLike[str], compute: Callable[[Any, Any, dict[str, Any]], Any],
               *, n_x: int, dtype_name: str, constants: Mapping[str, Any],
               metadata: Mapping[str, str], doc: str = "") -> Path:
    """Build an ONNX model by running ``compute`` on ndonnx arrays; write it atomically.

    Parameters
    ----------
    path : str or path-like
        The ``.onnx`` file to write (used as given).
    compute : callable
        ``compute(xp, X, constants) -> output``: ``xp`` is the ndonnx namespace, ``X`` the
        graph's input of shape ``(batch, n_x)`` (``batch`` dynamic) and ``constants`` the
        ``constants`` given here as ndonnx arrays. Its result is the graph's output.
    n_x : int
        The number of input features (columns of ``X``).
    dtype_name : str
        ``"float32"`` or ``"float64"``: the input's dtype (constants must have it too).
    constants : mapping
        ``{name: array}`` of any backend, embedded in the graph (brought to the host first).
    metadata : mapping
        ``{key: str}`` recorded as the model's ``metadata_props``, with ``"opset"``: the
        default domain's opset version the graph was built for (also in ``opset_import``).
    doc : str
        The model's ``doc_string``.

    Returns
    -------
    pathlib.Path
        The file written; the graph's input is ``"X"``, its output ``"output"``.

    Raises
    ------
    ImportError
        When ndonnx or onnx is missing.
    """
    xp = onnx_namespace()
    import onnx

    X = xp.argument(shape=(BATCH, n_x), dtype=getattr(xp, dtype_name))
    host = {name: xp.asarray(np.ascontiguousarray(to_numpy(value)))
            for name, value in constants.items()}
    output = compute(xp, X, host)
    model = _compact(xp.build({INPUT_NAME: X}, {OUTPUT_NAME: output}))
    model.producer_name = "portable_nn (ndonnx)"
    model.doc_string = doc
    del model.metadata_props[:]  # ndonnx's own schema entry: the file is read as plain ONNX
    for key, value in {**metadata, "opset": str(onnx_opset(model))}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    return write_atomic(path, lambda handle: handle.write(data))
