"""Models that leave portable_nn: ONNX files, PyTorch modules out and in.

:func:`export_onnx` runs the library's own forward pass (:func:`portable_nn.core.forward`)
on ndonnx arrays, which build an ONNX graph instead of computing, so the exported graph is
the forward pass itself: no converter is kept in step with it. The graph takes samples as
rows, ``X`` of shape ``(batch, n_x)`` with a dynamic ``batch``, standardises them when the
model does, and returns the output layer's activations as ``output``, ``(batch, C)``.

:func:`to_torch` and :func:`snapshot_from_torch` turn a model's host snapshot into a
``torch.nn.Sequential`` of ``Linear`` and activation modules and back (the backend's
``torch_sequential`` and ``sequential_layers``; ``portable_nn.from_torch`` puts the snapshot
on a backend). Every function here works on a :class:`~._snapshot.ModelSnapshot`, NumPy arrays
on the host, so this module needs nothing of the Model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portable_nn._version import __version__
from portable_nn.backend import (
    sequential_layers,
    torch_sequential,
)
from portable_nn.core import forward
from portable_nn.files import onnx_namespace, write_onnx
from portable_nn.training._check_inputs import check_writable_target, param_shapes
from portable_nn.training._snapshot import ModelFields, ModelSnapshot
from portable_nn.training._statistics import standardized

__all__ = ["ONNX_FORMAT", "export_onnx", "onnx_classes", "snapshot_from_torch", "to_torch"]

ONNX_FORMAT = "portable_nn.onnx"
META_KEY = "portable_nn"  # the ONNX metadata_props entry holding the JSON description


def onnx_classes(model: ModelFields, classes: Sequence[Any] | None) -> list[Any] | None:
    """The class labels recorded with an exported classifier, one per output column.

    - softmax: ``classes[j]`` is the label of output column ``j`` (default: the labels
      recorded in ``model.classes`` when training had them, else ``0 ... C-1``,
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
        recorded = model.classes  # the labels train() saw (the CLI's data)
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


def _description(snapshot: ModelSnapshot, classes: list[Any] | None) -> dict[str, Any]:
    model = snapshot.fields
    return {
        "format": ONNX_FORMAT,
        "package_version": __version__,
        "layer_dims": list(model.layer_dims),
        "hidden_activation": model.hidden_activation,
        "output": model.output,
        "dtype": snapshot.dtype,
        "standardize": model.standardization is not None,
        "input": "X: (batch, n_x), samples as rows, raw features (standardised in the graph)",
        "output_columns": ("probabilities of classes[j]" if model.output == "softmax" else
                           "probability of classes[1]" if classes is not None else
                           "one value per output" if model.output == "linear" else
                           "probability that label j is 1"),
        "classes": classes,
        "iterations": int(model.iterations),
    }


def export_onnx(snapshot: ModelSnapshot, path: str | os.PathLike[str], *,
                classes: Sequence[Any] | None = None) -> Path:
    """Write a model (its host ``snapshot``) as an ONNX file (see :meth:`Model.export_onnx`)."""
    path = check_writable_target("path", path)
    model = snapshot.fields
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
        path, compute, n_x=model.layer_dims[0], dtype_name=snapshot.dtype,
        constants=constants,
        metadata={META_KEY: json.dumps(_description(snapshot, labels)),
                  "classes": json.dumps(labels)},
        doc=(f"portable_nn network {model.layer_dims}, {L} layer(s), hidden "
             f"{model.hidden_activation}, output {model.output}: input X (batch, "
             f"{model.layer_dims[0]}) samples as rows, output (batch, {model.layer_dims[-1]})"))


def to_torch(snapshot: ModelSnapshot) -> Any:
    """A model (its host ``snapshot``) as a ``torch.nn.Sequential`` (see :meth:`Model.to_torch`)."""
    model = snapshot.fields
    L = len(model.layer_dims) - 1
    weights = [model.params[f"W{layer}"] for layer in range(1, L + 1)]
    biases = [model.params[f"b{layer}"] for layer in range(1, L + 1)]
    scaling = model.standardization
    if model.target_standardization is not None:
        # a regression's target scaling folded into the last Linear: std * (W a + b) + mean
        y_mean, y_std = model.target_standardization
        weights[-1], biases[-1] = y_std * weights[-1], y_std * biases[-1] + y_mean
    return torch_sequential(weights, biases, hidden_activation=model.hidden_activation,
                            output=model.output, standardization=scaling)


def snapshot_from_torch(module: Any) -> ModelSnapshot:
    """The host snapshot of a ``torch.nn.Sequential`` (see :func:`portable_nn.from_torch`)."""
    layers = sequential_layers(module)
    weights, biases = layers["weights"], layers["biases"]
    dims = (weights[0].shape[1], *(W.shape[0] for W in weights))
    params: dict[str, Any] = {}
    for layer, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
        params[f"W{layer}"], params[f"b{layer}"] = W, b
    scaling = layers["standardization"]
    fields = ModelFields(params, layer_dims=dims, hidden_activation=layers["hidden_activation"],
                         output=layers["output"],
                         standardization=None if scaling is None else tuple(scaling))
    return ModelSnapshot(fields, backend="torch", device="cpu", dtype=layers["dtype"])
