"""Models that leave portable_nn: ONNX files, PyTorch modules out and in.

:func:`export_onnx` runs the library's own forward pass (:func:`portable_nn.core.forward`)
on ndonnx arrays, which build an ONNX graph instead of computing, so the exported graph is
the forward pass itself: no converter is kept in step with it. The graph takes samples as
rows, ``X`` of shape ``(batch, n_x)`` with a dynamic ``batch``, standardises them when the
model does, and returns the output layer's activations as ``output``, ``(batch, C)``.

:func:`to_torch` and :func:`from_torch` turn a model into a ``torch.nn.Sequential`` of
``Linear`` and activation modules and back (the backend's ``torch_sequential`` and
``sequential_layers``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portable_nn._version import __version__
from portable_nn.backend import (
    from_host,
    resolve_backend,
    sequential_layers,
    to_numpy,
    torch_sequential,
)
from portable_nn.core import forward
from portable_nn.files import onnx_namespace, write_onnx
from portable_nn.training._model import Model, standardized
from portable_nn.training._validate import check_writable_target, param_shapes

__all__ = ["ONNX_FORMAT", "export_onnx", "from_torch", "onnx_classes", "to_torch"]

ONNX_FORMAT = "portable_nn.onnx"
META_KEY = "portable_nn"  # the ONNX metadata_props entry holding the JSON description


def onnx_classes(model: Model, classes: Sequence[Any] | None) -> list[Any] | None:
    """The class labels recorded with an exported classifier, one per output column.

    - softmax: ``classes[j]`` is the label of output column ``j`` (default: the labels
      recorded in ``model.config["classes"]`` when training had them, else ``0 ... C-1``,
      the class indices :meth:`Model.predict` returns);
    - sigmoid with one output: ``[negative, positive]`` (default: the recorded labels, else
      ``[0, 1]``): the output is the probability of ``classes[1]``;
    - sigmoid with several outputs (independent labels) and linear outputs: None (each
      column is its own probability or value); ``classes`` must be None.

    Raises
    ------
    ValueError
        When ``classes`` has the wrong length, repeats a label, or is given where it has no
        meaning.
    TypeError
        When a label is not a str, int, float or bool (it must be stored as JSON).
    """
    n_y = model.layer_dims[-1]
    if model.output == "softmax":
        wanted = n_y
    elif model.output == "sigmoid" and n_y == 1:
        wanted = 2
    else:
        if classes is not None:
            raise ValueError(f"classes has no meaning for output={model.output!r} with {n_y} "
                             "outputs (each output column is its own value); leave it None")
        return None
    if classes is None:
        recorded = model.config.get("classes")  # the labels train() saw (the CLI's data)
        if isinstance(recorded, list) and len(recorded) == wanted:
            classes = recorded
        else:
            return list(range(wanted))
    labels = [label.item() if hasattr(label, "item") else label for label in classes]
    if len(labels) != wanted:
        raise ValueError(f"classes has {len(labels)} labels, but output={model.output!r} with "
                         f"{n_y} outputs needs {wanted}")
    for label in labels:
        if not isinstance(label, (str, int, float, bool)):
            raise TypeError(f"classes must hold str, int, float or bool labels, got "
                            f"{type(label).__name__}: {label!r}")
    if len(set(map(repr, labels))) != len(labels):
        raise ValueError(f"classes {labels!r} repeats a label")
    return labels


def _description(model: Model, classes: list[Any] | None) -> dict[str, Any]:
    return {
        "format": ONNX_FORMAT,
        "package_version": __version__,
        "layer_dims": list(model.layer_dims),
        "hidden_activation": model.hidden_activation,
        "output": model.output,
        "dtype": model.backend_info.dtype_name,
        "standardize": model.standardization is not None,
        "input": "X: (batch, n_x), samples as rows, raw features (standardised in the graph)",
        "output_columns": ("probabilities of classes[j]" if model.output == "softmax" else
                           "probability of classes[1]" if classes is not None else
                           "one value per output" if model.output == "linear" else
                           "probability that label j is 1"),
        "classes": classes,
        "iterations": int(model.iterations),
    }


def export_onnx(model: Model, path: str | os.PathLike[str], *,
                classes: Sequence[Any] | None = None) -> Path:
    """Write ``model`` as an ONNX file (see :meth:`Model.export_onnx`)."""
    path = check_writable_target("path", path)
    labels = onnx_classes(model, classes)
    onnx_namespace()  # ImportError with the extra's name before any work
    L = len(model.layer_dims) - 1
    constants = dict(model.params)
    if model.standardization is not None:
        constants.update(zip(("x_mean", "x_std"), model.standardization, strict=True))
    if model.target_standardization is not None:  # a regression's targets: undone in the graph
        constants.update(zip(("y_mean", "y_std"), model.target_standardization, strict=True))

    def compute(xp: Any, X: Any, arrays: dict[str, Any]) -> Any:
        scaling = None
        if "x_mean" in arrays:
            scaling = (arrays["x_mean"], arrays["x_std"])
        A0 = standardized(xp.matrix_transpose(X), scaling)  # (n_x, batch): the lesson's layout
        params = {key: arrays[key] for key in param_shapes(model.layer_dims)}
        AL, _ = forward(params, A0, hidden_activation=model.hidden_activation,
                        output=model.output, xp=xp)
        if "y_mean" in arrays:  # as Model._unscaled: predictions in the target's units
            AL = AL * arrays["y_std"] + arrays["y_mean"]
        return xp.matrix_transpose(AL)  # (batch, n_L)

    return write_onnx(
        path, compute, n_x=model.layer_dims[0], dtype_name=model.backend_info.dtype_name,
        constants=constants,
        metadata={META_KEY: json.dumps(_description(model, labels)),
                  "classes": json.dumps(labels)},
        doc=(f"portable_nn network {model.layer_dims}, {L} layer(s), hidden "
             f"{model.hidden_activation}, output {model.output}: input X (batch, "
             f"{model.layer_dims[0]}) samples as rows, output (batch, {model.layer_dims[-1]})"))


def to_torch(model: Model) -> Any:
    """``model`` as a ``torch.nn.Sequential`` (see :meth:`Model.to_torch`)."""
    L = len(model.layer_dims) - 1
    weights = [to_numpy(model.params[f"W{layer}"]) for layer in range(1, L + 1)]
    biases = [to_numpy(model.params[f"b{layer}"]) for layer in range(1, L + 1)]
    scaling = None
    if model.standardization is not None:
        mean, std = model.standardization
        scaling = (to_numpy(mean), to_numpy(std))
    if model.target_standardization is not None:
        # a regression's target scaling folded into the last Linear: std * (W a + b) + mean
        y_mean, y_std = (to_numpy(a) for a in model.target_standardization)
        weights[-1], biases[-1] = y_std * weights[-1], y_std * biases[-1] + y_mean
    return torch_sequential(weights, biases, hidden_activation=model.hidden_activation,
                            output=model.output, standardization=scaling)


def from_torch(module: Any, *, backend: Any = "numpy", device: Any = None,
               dtype: Any = None) -> Model:
    """A :class:`Model` computing what a ``torch.nn.Sequential`` computes.

    The Sequential must be what :meth:`Model.to_torch` returns, or one like it: an optional
    first ``Standardize`` module (from ``to_torch``), then ``nn.Linear`` layers with one kind
    of activation module between each pair (``Tanh``, ``ReLU``, ``LeakyReLU(0.01)`` or
    ``Sigmoid``), then optionally ``Sigmoid`` or ``Softmax(dim=-1)`` as the output (none: a
    linear output). ``Identity`` and ``Dropout`` modules are skipped. ``Linear.weight`` is
    ``W[l]`` as it is; a Linear without bias gets ``b[l] = 0``.

    Parameters
    ----------
    module : torch.nn.Sequential
        The network, float32 or float64, on any device.
    backend : str or module
        Where to put the parameters (default ``"numpy"``).
    device : object, optional
        A device of that backend.
    dtype : str, optional
        ``"float32"`` or ``"float64"``; default: the module's.

    Returns
    -------
    Model
        With no training history (``iterations`` 0, no costs).

    Raises
    ------
    ImportError
        When PyTorch is not installed.
    TypeError
        When ``module`` is not a ``torch.nn.Sequential``.
    ValueError
        Naming the module (index and type) that a portable_nn network cannot express: another
        layer type, two different hidden activations, a LeakyReLU slope other than 0.01, a
        Softmax over another axis, mismatched sizes or mixed dtypes.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> import portable_nn as pnn  # doctest: +SKIP
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(),
    ...                           torch.nn.Linear(4, 1), torch.nn.Sigmoid())  # doctest: +SKIP
    >>> pnn.from_torch(net)  # doctest: +SKIP
    Model(layer_dims=(2, 4, 1), hidden_activation='tanh', output='sigmoid', ...)
    """
    layers = sequential_layers(module)
    weights, biases = layers["weights"], layers["biases"]
    dims = (weights[0].shape[1], *(W.shape[0] for W in weights))
    be = resolve_backend(backend, device, dtype if dtype is not None else layers["dtype"])
    params: dict[str, Any] = {}
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        params[f"W{layer}"] = from_host(W, be, name=f"W{layer}")
        params[f"b{layer}"] = from_host(b, be, name=f"b{layer}")
    scaling = None
    if layers["standardization"] is not None:
        scaling = tuple(from_host(a, be, name=key) for a, key in
                        zip(layers["standardization"], ("x_mean", "x_std"), strict=True))
    return Model(params, layer_dims=dims, hidden_activation=layers["hidden_activation"],
                 output=layers["output"], backend=be, standardization=scaling)
