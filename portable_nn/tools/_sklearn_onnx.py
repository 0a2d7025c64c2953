"""skl2onnx converters for the estimators, so that ``to_onnx(pipeline)`` converts them too.

A fitted :class:`~portable_nn.sklearn.NeuralNetClassifier` or ``NeuralNetRegressor`` in a
scikit-learn pipeline converts with ``skl2onnx.to_onnx`` like scikit-learn's own models.
The converter does not write the network again: it embeds the graph of
:meth:`portable_nn.Model.export_onnx` (the forward pass run on ndonnx), its values renamed
into the converter's scope, between a cast of the input to the model's dtype and, for a
classifier, scikit-learn's two outputs: ``label`` (``classes_[argmax]``) and
``probabilities`` (one column per class in ``classes_`` order; ``[1 - p, p]`` for two
classes). A regressor's output is ``variable``, ``(N, n_targets)``.

Registration: immediately when skl2onnx is already imported when :mod:`portable_nn.sklearn`
is; otherwise when skl2onnx is first imported (an import hook), so that importing the
estimators does not import skl2onnx (seconds) for those who never convert.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["register_onnx_converters", "register_when_imported"]

_ALIASES = {"NeuralNetClassifier": "PortableNNClassifier",
            "NeuralNetRegressor": "PortableNNRegressor"}

#: The estimator classes to register, ``{"classifier": ..., "regressor": ...}``: given by
#: :mod:`portable_nn.tools.sklearn` (:func:`register_when_imported`), which this module does
#: not import.
_ESTIMATORS: dict[str, type] = {}


def _network_graph(model: Any) -> Any:
    """The ONNX graph of ``model`` (its ``export_onnx``), as an ``onnx.ModelProto``."""
    import onnx

    with tempfile.TemporaryDirectory() as folder:
        path = model.export_onnx(Path(folder) / "network.onnx")
        return onnx.load(str(path))


def _embed(scope: Any, container: Any, graph: Any, x_name: str, out_name: str) -> None:
    """Add ``graph``'s initializers and nodes to ``container``, renamed into ``scope``.

    The graph reads ``x_name`` as its input ``X`` and writes its output to ``out_name``;
    every other value gets a unique name of ``scope`` (in subgraphs too, which read outer
    values by name).
    """
    renamed: dict[str, str] = {graph.graph.input[0].name: x_name,
                               graph.graph.output[0].name: out_name}

    def name(old: str) -> str:
        if not old:
            return old
        if old not in renamed:
            renamed[old] = scope.get_unique_variable_name("pnn_" + old)
        return renamed[old]

    def rename_node(node: Any) -> None:
        node.input[:] = [name(n) for n in node.input]
        node.output[:] = [name(n) for n in node.output]
        for attribute in node.attribute:
            if attribute.HasField("g"):
                rename(attribute.g)
            for sub in attribute.graphs:
                rename(sub)

    def rename(g: Any) -> None:
        for values in (g.input, g.output, g.value_info):
            for value in values:
                value.name = name(value.name)
        for tensor in g.initializer:
            tensor.name = name(tensor.name)
        for node in g.node:
            rename_node(node)

    from onnx import helper, numpy_helper

    opset = next(e.version for e in graph.opset_import if e.domain in ("", "ai.onnx"))
    main = graph.graph
    for tensor in main.initializer:
        container.add_initializer(name(tensor.name), tensor.data_type, list(tensor.dims),
                                  numpy_helper.to_array(tensor).ravel().tolist())
    for node in main.node:
        rename_node(node)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(node.op_type, list(node.input), list(node.output),
                           op_domain=node.domain, op_version=opset,
                           name=scope.get_unique_operator_name("pnn_" + node.op_type), **attrs)


def _shape_calculator(operator: Any) -> None:
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )

    estimator = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    float_type = (DoubleTensorType if isinstance(operator.inputs[0].type, DoubleTensorType)
                  else FloatTensorType)
    if hasattr(estimator, "classes_"):
        labels = estimator.classes_
        label_type = (Int64TensorType if np.issubdtype(labels.dtype, np.integer)
                      else StringTensorType)
        operator.outputs[0].type = label_type([n])
        operator.outputs[1].type = float_type([n, len(labels)])
    else:
        operator.outputs[0].type = float_type([n, estimator.model_.layer_dims[-1]])


def _converter(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType

    estimator = operator.raw_operator
    model = estimator.model_
    graph = _network_graph(model)
    wide = model.backend_info.dtype_name == "float64"
    model_type = TensorProto.DOUBLE if wide else TensorProto.FLOAT
    out_double = isinstance(operator.inputs[0].type, DoubleTensorType)
    out_type = TensorProto.DOUBLE if out_double else TensorProto.FLOAT
    x = scope.get_unique_variable_name("pnn_X")
    container.add_node("Cast", [operator.inputs[0].full_name], [x], to=model_type,
                       name=scope.get_unique_operator_name("pnn_cast_in"))
    network = scope.get_unique_variable_name("pnn_output")
    _embed(scope, container, graph, x, network)
    if not hasattr(estimator, "classes_"):
        container.add_node("Cast", [network], [operator.outputs[0].full_name], to=out_type,
                           name=scope.get_unique_operator_name("pnn_cast_out"))
        return
    probabilities = network
    if len(estimator.classes_) == 2 and model.layer_dims[-1] == 1:  # [1 - p, p]
        one = scope.get_unique_variable_name("pnn_one")
        container.add_initializer(one, model_type, [1], [1.0])
        negative = scope.get_unique_variable_name("pnn_negative")
        container.add_node("Sub", [one, network], [negative],
                           name=scope.get_unique_operator_name("pnn_sub"))
        probabilities = scope.get_unique_variable_name("pnn_probabilities")
        container.add_node("Concat", [negative, network], [probabilities], axis=1,
                           name=scope.get_unique_operator_name("pnn_concat"))
    container.add_node("Cast", [probabilities], [operator.outputs[1].full_name], to=out_type,
                       name=scope.get_unique_operator_name("pnn_cast_out"))
    index = scope.get_unique_variable_name("pnn_index")
    container.add_node("ArgMax", [probabilities], [index], axis=1, keepdims=0,
                       name=scope.get_unique_operator_name("pnn_argmax"))
    classes = scope.get_unique_variable_name("pnn_classes")
    labels = estimator.classes_
    if np.issubdtype(labels.dtype, np.integer):
        container.add_initializer(classes, TensorProto.INT64, [len(labels)],
                                  [int(c) for c in labels])
    else:
        container.add_initializer(classes, TensorProto.STRING, [len(labels)],
                                  [str(c).encode() for c in labels])
    container.add_node("Gather", [classes, index], [operator.outputs[0].full_name], axis=0,
                       name=scope.get_unique_operator_name("pnn_label"))


def register_onnx_converters() -> None:
    """Register the estimators' converters with skl2onnx (a no-op when it is missing).

    Examples
    --------
    >>> from portable_nn.sklearn import register_onnx_converters
    >>> register_onnx_converters()  # doctest: +SKIP
    """
    if importlib.util.find_spec("skl2onnx") is None:
        return
    from skl2onnx import update_registered_converter

    for kind, estimator in _ESTIMATORS.items():
        options = {"zipmap": [True, False, "columns"], "nocl": [True, False]} \
            if kind == "classifier" else None
        update_registered_converter(estimator, _ALIASES[estimator.__name__], _shape_calculator,
                                    _converter, options=options)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs :func:`register_onnx_converters` right after skl2onnx is first imported."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != "skl2onnx":
            return None
        sys.meta_path.remove(self)  # once; and find_spec below must not find this finder
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            register_onnx_converters()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def register_when_imported(*, classifier: type, regressor: type) -> None:
    """Register the estimators now if skl2onnx is imported, else when it is.

    Nothing happens where skl2onnx is not installed.
    """
    _ESTIMATORS.update(classifier=classifier, regressor=regressor)
    if "skl2onnx" in sys.modules:
        register_onnx_converters()
    elif importlib.util.find_spec("skl2onnx") is not None and not any(
            isinstance(finder, _AfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
