"""What a model is, listed once: ``ModelFields``, and its host copy ``ModelSnapshot``.

:class:`~portable_nn.Model` is a ``ModelFields`` on a backend. Every way a model
leaves its device and comes back goes through one ``ModelSnapshot`` (the fields with every
array a NumPy copy, plus the backend, device and dtype it lived on), made by
``model_to_host`` and turned back into a Model by ``host_to_model``
(:mod:`portable_nn.training._model`): saving and loading, ``Model.to``, pickling, resuming
from a checkpoint, the ONNX and PyTorch exports and the scikit-learn estimators' pickles.

Arrays are found by walking a field's value (dicts and tuples of arrays, such as ``params``,
``optimizer_state`` and the ``(mean, std)`` pairs); every other value is plain data (numbers,
strings, lists and dicts of them) and is copied as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["ARRAY_FIELDS", "FIELD_NAMES", "TRAINED_FIELDS", "ModelFields", "ModelSnapshot",
           "map_arrays"]


@dataclass(eq=False, repr=False)
class ModelFields:
    """Every field of a model, in one place (see :class:`~portable_nn.Model`).

    ``params``, ``optimizer_state`` and the two ``(mean, std)`` pairs hold arrays (of the
    model's backend in a Model, NumPy in a snapshot; ``metadata["arrays"]``); the rest is
    plain data. The fields marked ``metadata["trained"]`` are what training reached: a run
    resumed from a checkpoint takes them from it (the rest, such as ``config``, is the run's).
    """

    params: dict[str, Any] = field(metadata={"arrays": True, "trained": True})
    layer_dims: tuple[int, ...]
    hidden_activation: str
    output: str
    costs: dict[int, float] = field(default_factory=dict, metadata={"trained": True})
    iterations: int = field(default=0, metadata={"trained": True})
    interrupted: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    optimizer_state: dict[str, Any] | None = field(default=None,
                                                   metadata={"arrays": True, "trained": True})
    standardization: tuple[Any, Any] | None = field(default=None,
                                                    metadata={"arrays": True, "trained": True})
    target_standardization: tuple[Any, Any] | None = field(
        default=None, metadata={"arrays": True, "trained": True})
    metrics: dict[str, dict[int, float]] = field(default_factory=dict,
                                                 metadata={"trained": True})
    best_iteration: int | None = None
    classes: list[Any] | None = None
    feature_names: list[str] | None = None
    target_name: str | None = None
    choices: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.layer_dims = tuple(self.layer_dims)
        self.costs = dict(self.costs or {})
        self.config = dict(self.config or {})
        self.metrics = {name: dict(values) for name, values in (self.metrics or {}).items()}
        self.classes = None if self.classes is None else list(self.classes)
        self.feature_names = None if self.feature_names is None else list(self.feature_names)
        self.choices = dict(self.choices or {})


#: The fields of a model, in order.
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ModelFields))

#: The fields holding arrays (a dict of them, or a ``(mean, std)`` pair, or None).
ARRAY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModelFields)
                                      if f.metadata.get("arrays"))

#: The fields a resumed run takes from its checkpoint: what training reached.
TRAINED_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ModelFields)
                                        if f.metadata.get("trained"))


def map_arrays(value: Any, convert: Callable[[str, Any], Any], name: str = "array") -> Any:
    """``value`` with every array ``a`` (anything with a ``shape``) replaced by ``convert``.

    Dicts and tuples are walked (an array's name is its key, or ``name`` for a pair's
    items); ``None`` and plain values (Adam's step count ``t``) are copied as they are.
    """
    if isinstance(value, dict):
        return {key: map_arrays(item, convert, key) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(map_arrays(item, convert, name) for item in value)
    if hasattr(value, "shape"):
        return convert(name, value)
    return copy.deepcopy(value)


@dataclass(eq=False)
class ModelSnapshot:
    """A model on the host: its ``ModelFields`` with NumPy arrays, and where it lived.

    Made by :func:`~portable_nn.training.model_to_host`, put on a backend by
    :func:`~portable_nn.training.host_to_model`; it pickles (NumPy arrays and plain data).

    Attributes
    ----------
    fields : ModelFields
        Every field; arrays are NumPy copies (0-d optimizer scalars are Python numbers).
    backend : str
        The backend's name the model was on (``"numpy"``, ``"torch"``, ...).
    device : str
        Its device, as ``str(device)``.
    dtype : str
        ``"float32"`` or ``"float64"``.
    """

    fields: ModelFields
    backend: str
    device: str
    dtype: str
