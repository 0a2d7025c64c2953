"""The trained model: parameters as plain data plus what is needed to use them."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from portable_nn.backend import (
    Backend,
    from_host,
    resolve_backend,
    to_backend,
    to_numpy,
)
from portable_nn.core import cost_from_logits, forward
from portable_nn.training._check_inputs import check_features, check_target_shape
from portable_nn.training._export import export_onnx, snapshot_from_torch, to_torch
from portable_nn.training._persistence import ModelFile, read_model, write_model
from portable_nn.training._snapshot import FIELD_NAMES, ModelFields, ModelSnapshot, map_arrays
from portable_nn.training._statistics import standardized

__all__ = ["Costs", "Model", "from_torch", "host_to_model", "load", "loaded", "model_to_host",
           "save_model"]


class Costs(dict):
    """``{iteration: cost}``, the recorded training costs, in the order they were recorded.

    A ``dict`` (iterations are its keys: ``costs[100]`` is the cost recorded at iteration
    100), where a *negative* index counts records from the end, as in a list: ``costs[-1]`` is
    the last recorded cost, ``costs[-2]`` the one before. :attr:`iterations` and
    :attr:`values_list` give the record points and the costs as lists.

    Examples
    --------
    >>> costs = Costs({0: 0.69, 100: 0.5, 200: 0.3})
    >>> costs[-1], costs[100], costs.iterations
    (0.3, 0.5, [0, 100, 200])
    """

    def __getitem__(self, key: object) -> float:
        if isinstance(key, int) and not isinstance(key, bool) and key < 0 and key not in self:
            values = list(self.values())
            if -key > len(values):
                raise IndexError(f"costs[{key}]: only {len(values)} costs were recorded")
            return values[key]
        try:
            return super().__getitem__(key)
        except KeyError:
            recorded = list(self)
            shown = recorded if len(recorded) <= 6 else [*recorded[:3], "...", *recorded[-2:]]
            raise KeyError(f"no cost was recorded at iteration {key!r}; costs are recorded at "
                           f"iterations {shown} (every cost_every); costs[-1] is the last "
                           "recorded cost") from None

    @property
    def iterations(self) -> list[int]:
        """The iterations where a cost was recorded, in order."""
        return list(self)

    @property
    def values_list(self) -> list[float]:
        """The recorded costs, in order (``values_list[-1] == costs[-1]``)."""
        return list(self.values())


class Model(ModelFields):
    """A trained fully-connected network on one backend, device and dtype.

    Attributes
    ----------
    params : dict
        ``{"W1": ..., "b1": ..., ...}``, arrays of the backend.
    layer_dims : tuple of int
        Layer sizes, input size first.
    hidden_activation : str
        Activation of every hidden layer.
    output : str
        ``"sigmoid"``, ``"softmax"`` or ``"linear"``.
    costs : Costs
        ``{iteration: cost}`` as Python floats, a ``dict`` where a negative index counts
        records from the end: ``model.costs[-1]`` is the last recorded cost (see
        ``portable_nn.training.Costs``). The training cost the optimizer minimised. With
        ``target_standardization``, it is the cost of the *standardised* targets (half
        the mean squared error in units of each target's standard deviation: about
        ``(1 - R^2) / 2`` on the training samples); :meth:`cost`, :meth:`predict` and the
        recorded validation cost are in the target's own units.
    iterations : int
        The number of parameter updates made so far.
    interrupted : bool
        True when training was stopped early by Ctrl-C (KeyboardInterrupt).
    config : dict
        The training options that produced the model (learning rate, optimizer, ...): the
        recorded options only (what ``train`` was given or the recipe filled in).
    optimizer_state : dict or None
        The optimizer's state after the last update (momentum/Adam moments), on the device.
    standardization : tuple or None
        ``(mean, std)``, arrays of shape ``(n_x, 1)`` of the model's backend, device and dtype,
        when the model was trained with ``standardize=True``: every ``X`` given to the model
        is used as ``(X - mean) / std`` (``std`` is 1 for features that were constant). None
        when inputs are used as they are.
    target_standardization : tuple or None
        ``(mean, std)``, arrays of shape ``(n_y, 1)`` like ``standardization``, when the
        targets were standardised too: ``train(..., standardize=True, output="linear")``
        trains on ``(Y - mean) / std`` (``std`` is 1 for a constant target) and the model
        undoes it, ``A * std + mean``, in :meth:`predict`, :meth:`predict_proba` and
        :meth:`cost`, so predictions come back in the target's units. Saved, loaded and
        resumed with the model. None otherwise.
    metrics : dict
        ``{name: {iteration: value}}``: what callbacks recorded beside the cost with
        :meth:`record`, such as ``"validation_cost"`` and ``"validation_accuracy"`` (Python
        floats; a validation cost may be NaN or infinite). See also :attr:`history`.
    best_iteration : int or None
        With ``early_stopping``: the iteration whose parameters the model holds, the one of the
        lowest validation cost (``iterations`` equals it). None otherwise.
    classes : list or None
        The class labels of the training data, when it had them (``train(dataset)`` of a
        :class:`~portable_nn.datasets.Dataset` with classes, the command line's data): output
        ``j``'s label (softmax), or ``[negative, positive]`` (one sigmoid output). None
        otherwise.
    feature_names : list of str or None
        The names of the input features, when the training data had them.
    target_name : str or None
        The name of the target column (the command line's ``--target``), when known.
    choices : dict
        How the options left to ``"auto"`` were decided: ``choices["backend"]`` (with
        ``backend="auto"``) and ``choices["compile"]`` (with ``compile="auto"``) say what was
        chosen and why. Empty when nothing was chosen.

    Every field but the backend is listed once, in :class:`~portable_nn.training.ModelFields`
    (which a Model extends); ``Model(params, backend=..., **fields)`` takes them as keywords
    (``layer_dims``, ``hidden_activation`` and ``output`` are needed). A model pickles as its
    host copy (:func:`~portable_nn.training.model_to_host`) and unpickles on the backend,
    device and dtype it was on.
    """

    def __init__(self, params: dict[str, Any], *, backend: Backend, **fields: Any) -> None:
        super().__init__(params, **fields)
        self._backend = backend

    @property
    def costs(self) -> Costs:
        """``{iteration: cost}``; ``costs[-1]`` is the last recorded cost (see the class)."""
        return self._costs

    @costs.setter
    def costs(self, value: dict[int, float]) -> None:
        self._costs = value if isinstance(value, Costs) else Costs(value)

    def record(self, name: str, iteration: int, value: float) -> None:
        """Record ``value`` of the metric ``name`` at ``iteration`` in ``model.metrics``.

        Callbacks call it at their record points (see ``portable_nn.Callback``).

        Parameters
        ----------
        name : str
            The metric, such as ``"validation_cost"``; ``"cost"`` is the training cost's
            (``model.costs``) and cannot be recorded here.
        iteration : int
            The record point, ``run.iteration``.
        value : float
            Stored as a Python float (NaN and infinities are kept).

        Examples
        --------
        >>> import portable_nn as pnn
        >>> X, Y = pnn.datasets.planar()
        >>> model = pnn.train(X, Y, num_iterations=1)
        >>> model.record("my_metric", 0, 0.5)
        >>> model.history["my_metric"]
        {0: 0.5}
        """
        if not isinstance(name, str) or not name or name == "cost":
            raise ValueError(f"a metric name must be a non-empty string other than 'cost' "
                             f"(model.costs), got {name!r}")
        if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
            raise TypeError(f"iteration must be an int >= 0, got {iteration!r}")
        self.metrics.setdefault(name, {})[iteration] = float(value)

    @property
    def history(self) -> dict[str, dict[int, float]]:
        """Everything recorded during training: ``{"cost": model.costs, **model.metrics}``.

        Each entry is ``{iteration: value}``; with ``validation=(X_val, Y_val)`` it holds
        ``"validation_cost"`` (and ``"validation_accuracy"`` for sigmoid and softmax outputs)
        at the iterations of ``"cost"``. A fresh dict of copies: changing it changes nothing.
        """
        history = {"cost": dict(self.costs)}
        history.update({name: dict(values) for name, values in self.metrics.items()})
        return history

    @property
    def backend(self) -> str:
        """The backend's name, such as ``"numpy"`` or ``"cupy"``.

        For ``train(..., backend="auto")`` it is what auto chose; ``choices["backend"]``
        says why.
        """
        return self._backend.name

    xp = property(lambda self: self._backend.xp, doc="The array namespace of the parameters.")
    dtype = property(lambda self: self._backend.dtype, doc="The dtype of every parameter.")
    device = property(lambda self: self._backend.device,
                      doc="The device every parameter lives on.")

    @property
    def backend_info(self) -> Backend:
        """The resolved :class:`~portable_nn.backend.Backend` (namespace, device, dtype)."""
        return self._backend

    def __repr__(self) -> str:
        return (
            f"Model(layer_dims={self.layer_dims}, hidden_activation={self.hidden_activation!r}, "
            f"output={self.output!r}, backend={self.backend!r}, device={str(self.device)!r}, "
            f"dtype={self._backend.dtype_name!r}, iterations={self.iterations})"
        )

    def _inputs(self, X: Any) -> Any:
        X = to_backend(X, self._backend, name="X")
        check_features(X, self.layer_dims[0])
        return X

    def _targets(self, Y: Any, m: int, *, class_indices: bool = False) -> Any:
        Y = to_backend(Y, self._backend, name="Y")
        check_target_shape(Y, self.layer_dims[-1], m, class_indices=class_indices)
        return Y

    def _scaled(self, X: Any) -> Any:
        """``X`` as the network sees it: ``(X - mean) / std`` when standardised, else ``X``.

        ``X`` must already be an array of the model's backend (shape ``(n_x, m)``).
        """
        return standardized(X, self.standardization)

    def _unscaled(self, A: Any) -> Any:
        """A linear output in the target's units (``A * std + mean``, or ``A`` itself)."""
        if self.target_standardization is None:
            return A
        mean, std = self.target_standardization
        return A * std + mean

    def _forward(self, X: Any) -> tuple[Any, dict[str, Any]]:
        """Forward pass on checked inputs, standardised first when the model says so."""
        with self.backend_info.full_precision():
            return forward(self.params, self._scaled(X), hidden_activation=self.hidden_activation,
                           output=self.output, xp=self.xp)

    def _label_dtype(self) -> Any:
        """The namespace's default integer dtype (int64; int32 for JAX without x64)."""
        info = self.xp.__array_namespace_info__()
        return info.default_dtypes(device=self.device)["integral"]

    def _labels(self, AL: Any) -> Any:
        xp = self.xp
        if self.output == "sigmoid":
            return xp.astype(AL > 0.5, self._label_dtype())
        if self.output == "softmax":
            indices = xp.reshape(xp.argmax(AL, axis=0), (1, AL.shape[1]))
            dtype = self._label_dtype()
            return indices if indices.dtype == dtype else xp.astype(indices, dtype)
        return AL

    def predict_proba(self, X: Any) -> Any:
        """Output of the network for ``X`` of shape ``(n_x, m)``: ``A[L]``, shape ``(n_y, m)``.

        Probabilities for sigmoid and softmax outputs, predicted values for a linear output
        (in the target's units: a ``target_standardization`` is undone), as a floating
        array of the model's backend, device and dtype.
        """
        return self._unscaled(self._forward(self._inputs(X))[0])

    def predict(self, X: Any) -> Any:
        """Predictions for ``X`` of shape ``(n_x, m)``, as an array of the model's backend.

        Returns
        -------
        array
            - sigmoid: integer 0/1 labels of shape ``(n_y, m)`` (``A[L] > 0.5``);
            - softmax: integer class indices of shape ``(1, m)`` (``argmax`` of ``A[L]``);
            - linear: the predicted values, shape ``(n_y, m)``, the model's float dtype.

            Integer labels have the namespace's default integer dtype (int64; int32 for JAX
            without x64 mode). Compare them with labels on the host:
            ``(pnn.to_numpy(model.predict(X)) == Y).mean()``, or use :meth:`accuracy`.

        Examples
        --------
        >>> import portable_nn as pnn
        >>> X, Y = pnn.datasets.planar()
        >>> model = pnn.train(X, Y, num_iterations=1000)
        >>> labels = pnn.to_numpy(model.predict(X))
        >>> labels.shape, labels.dtype.kind
        ((1, 400), 'i')
        >>> bool((labels == Y).mean() == model.accuracy(X, Y))
        True
        """
        return self._labels(self.predict_proba(X))

    def accuracy(self, X: Any, Y: Any) -> float:
        """Fraction of correct predictions, a float in [0, 1].

        ``Y`` is 0/1 of shape ``(n_y, m)`` for sigmoid; one-hot ``(C, m)`` or class indices
        ``(1, m)`` for softmax. A linear (regression) model has no accuracy: use :meth:`cost`.
        """
        if self.output == "linear":
            raise ValueError("accuracy is undefined for output='linear'; use model.cost(X, Y)")
        X = self._inputs(X)
        Y = self._targets(Y, X.shape[1], class_indices=self.output == "softmax")
        xp = self.xp
        labels = self._labels(self._forward(X)[0])
        if self.output == "softmax" and Y.shape[0] != 1:
            Y = xp.reshape(xp.argmax(Y, axis=0), (1, Y.shape[1]))
        Y = xp.astype(Y, labels.dtype)
        correct = int(xp.sum(xp.astype(labels == Y, xp.int32)))
        return correct / (Y.shape[0] * Y.shape[1])

    def cost(self, X: Any, Y: Any) -> float:
        """The model's cost on ``(X, Y)`` (computed stably from ``Z[L]``), as a Python float.

        ``Y`` and the cost are in the target's units (a ``target_standardization`` is
        undone on the output first), unlike ``model.costs`` of such a model.
        """
        X = self._inputs(X)
        Y = self._targets(Y, X.shape[1])
        _, cache = self._forward(X)
        ZL = self._unscaled(cache[f"Z{len(self.layer_dims) - 1}"])
        return float(cost_from_logits(ZL, Y, output=self.output, xp=self.xp))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the model to ``path`` as one ``.npz`` (or ``.safetensors``) file, atomically.

        The file holds every parameter plus JSON metadata (format and package version,
        ``layer_dims``, activations, output, dtype, the backend and device trained on, costs,
        metrics, iterations, ``best_iteration``, training options) and the optimizer state.
        It is written to a temporary file in the same folder, flushed and fsynced, then
        renamed over ``path``: a crash leaves the old file or the new one, never a torn file.
        Load it with :func:`portable_nn.load` on any backend. A path ending in
        ``.safetensors`` is written in the safetensors format (same contents, the metadata
        as JSON in its header; needs the ``safetensors`` extra); ``.npz`` is the default.

        Parameters
        ----------
        path : str or path-like
            The target file, used exactly as given (write ``"model.npz"`` or
            ``"model.safetensors"``).

        Returns
        -------
        pathlib.Path
            The file written.

        Examples
        --------
        >>> import os, tempfile
        >>> import portable_nn as pnn
        >>> X, Y = pnn.datasets.planar()
        >>> model = pnn.train(X, Y, num_iterations=10)
        >>> model.save(os.path.join(tempfile.mkdtemp(), "model.npz")).name
        'model.npz'
        """
        return save_model(self, path)

    def export_onnx(self, path: str | os.PathLike[str], *,
                    classes: Sequence[Any] | None = None) -> Path:
        """Write the model as an ONNX file, built by running its own forward pass on ndonnx.

        The graph's input ``X`` is samples as rows, ``(batch, n_x)`` with a dynamic
        ``batch``, of the model's dtype, raw features: standardisation is inside the graph
        (and a regression's target scaling, so outputs come in the target's units).
        Its output ``output`` is the output layer's activations, ``(batch, n_y)``
        (probabilities for sigmoid and softmax, values for linear). The opset is in the
        file's ``opset_import`` and its ``"opset"`` metadata entry. The metadata entry
        ``"portable_nn"`` is JSON describing the network; ``"classes"`` is the JSON list of
        class labels: with softmax, ``classes[j]`` is output column ``j``'s label (default
        ``[0, ..., C-1]``, what :meth:`predict` returns); with one sigmoid output, the output
        is the probability of ``classes[1]`` (default ``[0, 1]``); otherwise ``null``. Needs
        the ``onnx`` extra (ndonnx, onnx; onnxruntime to run it).

        Parameters
        ----------
        path : str or path-like
            The target file, used as given (write ``"model.onnx"``); written atomically.
        classes : sequence, optional
            Class labels to record (see above); str, int, float or bool.

        Returns
        -------
        pathlib.Path
            The file written.

        Examples
        --------
        >>> import os, tempfile
        >>> import portable_nn as pnn
        >>> model = pnn.train(*pnn.datasets.planar(), num_iterations=10)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
        >>> model.export_onnx(path).name  # doctest: +SKIP
        'model.onnx'
        """
        return export_onnx(model_to_host(self), path, classes=classes)

    def to_torch(self) -> Any:
        """The model as a ``torch.nn.Sequential`` of ``Linear`` and activation modules.

        ``[Standardize,] Linear, activation, ..., Linear[, Sigmoid or Softmax(dim=-1)]``:
        ``Linear.weight`` is ``W[l]`` (the same layout), ``Linear.bias`` is ``b[l]``
        flattened; ``Standardize`` (present when the model standardises) computes
        ``(x - mean) / std``; a regression's ``target_standardization`` is folded into the
        last ``Linear`` (``std * (W a + b) + mean``). It takes samples as rows,
        ``(batch, n_x)``, and returns
        ``predict_proba``'s output transposed, on the CPU in the model's dtype, in evaluation
        mode. :func:`portable_nn.from_torch` turns it back into a Model. Needs PyTorch.

        Returns
        -------
        torch.nn.Sequential

        Examples
        --------
        >>> import portable_nn as pnn
        >>> model = pnn.train(*pnn.datasets.planar(), num_iterations=10)
        >>> model.to_torch()  # doctest: +SKIP
        Sequential(
          (0): Linear(in_features=2, out_features=4, bias=True)
          (1): Tanh()
          (2): Linear(in_features=4, out_features=1, bias=True)
          (3): Sigmoid()
        )
        """
        return to_torch(model_to_host(self))

    def to(self, backend: str | ModuleType = "numpy", device: Any = None,
           dtype: Any = None) -> Model:
        """Return a copy of the model on another backend, device or dtype.

        ``dtype=None`` keeps the model's dtype (``"float32"`` or ``"float64"``).

        Examples
        --------
        >>> import portable_nn as pnn
        >>> X, Y = pnn.datasets.planar()
        >>> model = pnn.train(X, Y, num_iterations=10)
        >>> model.to("numpy", dtype="float32").dtype
        dtype('float32')
        """
        target = resolve_backend(backend, device, dtype or self._backend.dtype_name)
        return host_to_model(model_to_host(self), target)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the host copy (``model_to_host``); unpickle on the same backend and device."""
        return _unpickled, (model_to_host(self),)


def _host_copy(name: str, array: Any) -> Any:
    """A NumPy copy of ``array``; a 0-d optimizer scalar as a Python int or float."""
    host = to_numpy(array)
    if host.ndim == 0:
        return int(host) if host.dtype.kind in "iub" else float(host)
    return host.copy()


def model_to_host(model: Model) -> ModelSnapshot:
    """The model on the host: every field, each array a NumPy copy.

    What save, ``Model.to``, pickling, the exports, a resume and the estimators' pickles
    start from; :func:`~portable_nn.training.host_to_model` is the way back.

    Parameters
    ----------
    model : Model

    Returns
    -------
    ModelSnapshot
        Its :class:`~portable_nn.training.ModelFields` with NumPy copies of every array
        (Adam's step count as a Python int), and the backend, device and dtype it was on.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> from portable_nn.training import host_to_model, model_to_host
    >>> model = pnn.train(*pnn.datasets.planar(), recipe="lesson", num_iterations=10)
    >>> snapshot = model_to_host(model)
    >>> snapshot.backend, snapshot.dtype, type(snapshot.fields.params["W1"]).__name__
    ('numpy', 'float64', 'ndarray')
    >>> host_to_model(snapshot, pnn.resolve_backend("numpy", None, "float32")).dtype
    dtype('float32')
    """
    for name in ("standardization", "target_standardization"):
        pair = getattr(model, name)
        if pair is not None and (not isinstance(pair, tuple) or len(pair) != 2):
            raise TypeError(f"model.{name} must be None or a (mean, std) tuple, got "
                            f"{type(pair).__name__}")
    fields = {name: map_arrays(getattr(model, name), _host_copy, name) for name in FIELD_NAMES}
    fields["costs"] = dict(model.costs)
    be = model.backend_info
    return ModelSnapshot(ModelFields(**fields), backend=be.name, device=str(be.device),
                         dtype=be.dtype_name)


def host_to_model(snapshot: ModelSnapshot, backend: Backend) -> Model:
    """A :class:`~portable_nn.Model` on ``backend`` (its device and dtype) from a ``snapshot``.

    The inverse of :func:`~portable_nn.training.model_to_host`: every array is copied to the
    backend's device in its dtype; every other field is copied as it is.

    Parameters
    ----------
    snapshot : ModelSnapshot
    backend : Backend
        The resolved backend (``pnn.resolve_backend(name, device, dtype)``).

    Returns
    -------
    Model
    """
    def moved(name: str, array: Any) -> Any:
        return from_host(array, backend, name=name)

    fields = {name: map_arrays(getattr(snapshot.fields, name), moved, name)
              for name in FIELD_NAMES}
    return Model(fields.pop("params"), backend=backend, **fields)


def _unpickled(snapshot: ModelSnapshot) -> Model:
    """A pickled model back on its backend, device and dtype."""
    device = Backend.device_name(snapshot.device)
    return host_to_model(snapshot, resolve_backend(snapshot.backend, device, snapshot.dtype))


def save_model(model: Model, path: str | os.PathLike[str], *,
               checkpoint: Mapping[str, Any] | None = None,
               callback_state: Mapping[str, Any] | None = None) -> Path:
    """Write ``model`` to ``path`` (see :meth:`Model.save` and :func:`._persistence.write_model`).

    ``checkpoint`` and ``callback_state`` are a training checkpoint's extras.
    """
    return write_model(model_to_host(model), path, checkpoint=checkpoint,
                       callback_state=callback_state)


def load(path: str | os.PathLike[str], *, backend: Any = "numpy", device: Any = None,
         dtype: Any = None) -> Model:
    """Load a model saved with :meth:`Model.save` (or a training checkpoint) onto a backend.

    Loading never runs code from the file (nothing is unpickled) and trusts nothing in it:
    only a regular file is opened (a FIFO, device or socket is refused at once, without
    blocking); the metadata is read first and every field checked; then only the members the
    metadata implies are read, each refused from the zip directory and its NPY header (size,
    dtype, shape) before any data is inflated, so memory stays within a small multiple of the
    model's real size whatever the file declares. A model trained on any backend loads on any
    other: values are copied exactly (bit-identical when the dtype is kept).

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file, or a ``.safetensors`` file (a path ending so) saved by
        :meth:`Model.save`: the same checks apply (safetensors checks its header itself).
    backend : str or module
        Where to put the parameters: ``"numpy"`` (default), ``"torch"``, ``"jax"``, ...
    device : object, optional
        A device of that backend; default: its default device.
    dtype : str or dtype, optional
        ``"float32"`` or ``"float64"``; default: the dtype the model was saved in. A float64
        model on a backend without float64 (JAX without its x64 mode) needs
        ``dtype="float32"`` (the error says so) or, on JAX, ``JAX_ENABLE_X64=1``.

    Returns
    -------
    Model
        With its parameters, costs, iterations, training options and optimizer state.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path`` (the message names it).
    PermissionError
        When the file may not be read.
    TypeError, ValueError
        When ``path`` is not a path (not a str or path-like, empty, a NUL byte).
    ModelFileError
        (a :class:`ValueError`) when the file is not a regular file, not a zip archive,
        truncated or corrupted, not a portable_nn model, has a newer format version, has a
        metadata field of the wrong type or value (the message names the field), or holds a
        member of the wrong size, shape or dtype, or one a model does not have.

    Examples
    --------
    >>> import os, tempfile
    >>> import portable_nn as pnn
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> _ = pnn.train(*pnn.datasets.planar(), recipe="lesson", num_iterations=10).save(path)
    >>> pnn.load(path).layer_dims
    (2, 4, 1)
    """
    return loaded(read_model(path), backend=backend, device=device, dtype=dtype)


def loaded(saved: ModelFile, *, backend: Any = "numpy", device: Any = None,
           dtype: Any = None) -> Model:
    """The model of a file already read, on ``backend`` (see ``load``)."""
    snapshot = saved.snapshot
    try:
        be = resolve_backend(backend, device, dtype if dtype is not None else snapshot.dtype)
    except ValueError as exc:
        if dtype is not None or snapshot.dtype == "float32":
            raise
        shown = backend if isinstance(backend, str) else getattr(backend, "__name__", backend)
        raise ValueError(
            f"model file {saved.name!r} holds {snapshot.dtype} parameters, which cannot "
            f"be loaded as they are: {exc} To load them rounded to float32: "
            f"pnn.load({saved.name!r}, backend={shown!r}, dtype='float32')") from None
    return host_to_model(snapshot, be)


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
    snapshot = snapshot_from_torch(module)
    return host_to_model(snapshot, resolve_backend(backend, device, dtype if dtype is not None
                                                   else snapshot.dtype))


def _signature() -> inspect.Signature:
    """``Model(params, *, layer_dims, hidden_activation, output, backend, costs=..., ...)``."""
    fields = list(inspect.signature(ModelFields).parameters.values())
    keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in fields[1:]]
    backend = inspect.Parameter("backend", inspect.Parameter.KEYWORD_ONLY, annotation="Backend")
    return inspect.Signature([fields[0], *keyword[:3], backend, *keyword[3:]])


Model.__signature__ = _signature()  # type: ignore[attr-defined]  # help() and the docs
