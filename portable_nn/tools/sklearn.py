"""scikit-learn estimators around :func:`portable_nn.train` (the optional ``sklearn`` extra).

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` take scikit-learn's
``(n_samples, n_features)`` layout and transpose to portable_nn's ``(n_features, n_samples)``
internally. Their parameters are derived from the option specification
(:data:`portable_nn.training.OPTIONS`), in this order: every option of
:func:`portable_nn.train` in ``train``'s order, except ``output`` (chosen by the estimator),
``validation`` and ``callbacks``, with ``early_stopping`` a bool (scikit-learn's meaning); then
``validation_fraction`` (:data:`portable_nn.training.TOOL_OPTIONS`). Names, defaults and
documentation are the specification's: the options left ``None`` take the ``recipe``'s values
(``"tabular"``: standardised inputs, 100 ReLU units, Adam; see ``docs/defaults.md``).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

import portable_nn as pnn
from portable_nn.datasets import one_hot
from portable_nn.training import (
    OPTIONS,
    TOOL_OPTIONS,
    EstimatorParam,
    Option,
    numpydoc_parameters,
)

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "portable_nn.sklearn needs scikit-learn: install the extra: pip install "
        "'portable-nn[sklearn]' (from a clone: pip install -e '.[sklearn]')"
    ) from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6

    def validate_data(estimator: Any, X: Any = "no_validation", y: Any = "no_validation",
                      reset: bool = True, **check_params: Any) -> Any:
        """Validate like scikit-learn >= 1.6's ``validate_data`` on older releases."""
        return estimator._validate_data(X, y, reset=reset, **check_params)

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor", "estimator_parameters", "make_init",
           "register_onnx_converters"]

#: ``early_stopping``'s patience when ``n_iter_no_change`` is ``None`` (the tabular value).
_PATIENCE = 10


def estimator_parameters(options: Sequence[Option] = OPTIONS,
                         tool_options: Sequence[Option] = TOOL_OPTIONS,
                         **defaults: Any) -> tuple[Option, ...]:
    """The estimators' parameters, derived from the option specification, in their order.

    Parameters
    ----------
    options : sequence of Option
        ``train``'s options: those with ``estimator=True`` are parameters as they are, those
        with an :class:`~portable_nn.training.EstimatorParam` are replaced by it (same name).
    tool_options : sequence of Option
        The options only the tools have; those with ``estimator=True`` follow.
    **defaults
        Defaults that differ from the specification's (the regressor's ``learning_rate``).

    Returns
    -------
    tuple of Option

    Examples
    --------
    >>> [spec.name for spec in estimator_parameters()][-2:]
    ['early_stopping', 'validation_fraction']
    >>> {s.name: s.default for s in estimator_parameters(learning_rate=0.1)}["learning_rate"]
    0.1
    """
    specs = []
    for spec in (*options, *tool_options):
        own = spec.estimator
        if isinstance(own, EstimatorParam):
            spec = replace(spec, default=own.default, kind=own.kind, doc=own.doc.strip(),
                           check=own.check, choices=None)
        elif own is not True:
            continue
        specs.append(replace(spec, default=defaults.pop(spec.name, spec.default)))
    if defaults:
        raise TypeError(f"defaults for unknown estimator parameters: {sorted(defaults)}")
    return tuple(specs)


def make_init(specs: Sequence[Option]) -> Callable[..., None]:
    """An estimator ``__init__(self, **params)`` with the parameters ``specs``.

    It stores every parameter unchanged (scikit-learn validates in ``fit``), the default for
    those not given, and refuses unknown names with a ``TypeError``. Its ``__signature__``
    lists the parameters (keyword-only, with their defaults): scikit-learn's ``get_params`` and
    ``clone`` read it.

    Parameters
    ----------
    specs : sequence of Option
        The parameters, in order (:func:`estimator_parameters`).

    Returns
    -------
    callable
    """
    defaults = {spec.name: spec.default for spec in specs}

    def init(self: Any, **params: Any) -> None:
        unknown = sorted(set(params) - defaults.keys())
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected parameter(s) {unknown}; "
                            f"its parameters are {list(defaults)}")
        for name, default in defaults.items():
            setattr(self, name, params.get(name, default))

    Parameter = inspect.Parameter
    init.__name__ = "__init__"
    init.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [Parameter("self", Parameter.POSITIONAL_OR_KEYWORD),
         *(Parameter(name, Parameter.KEYWORD_ONLY, default=value)
           for name, value in defaults.items())], return_annotation=None)
    return init


#: The fitted attributes both estimators document (``<score>``: what the scores are).
_FITTED_ATTRIBUTES = """    model_ : portable_nn.Model
        The trained network, on the chosen backend and device.
    costs_ : dict
        ``{iteration: cost}`` recorded while fitting.
    loss_curve_ : list of float
        The recorded costs in iteration order.
    n_iter_ : int
        Number of parameter updates of the returned model (with ``early_stopping``, those of
        the best record point).
    best_loss_ : float or None
        The lowest recorded training cost; ``None`` with ``early_stopping``.
    validation_scores_ : list of float or None
        With ``early_stopping``, the score on the held-out samples at each record point
        (<score>); ``None`` otherwise.
    best_validation_score_ : float or None
        With ``early_stopping``, the validation score of the model kept (the record point of
        the lowest validation cost); ``None`` otherwise.
"""


class _NeuralNetBase(BaseEstimator):
    """The parameters and training shared by the classifier and the regressor.

    A subclass gets its ``__init__`` and the ``<parameters>`` of its docstring from the
    specification, with ``_default_overrides`` (name -> default) applied.
    """

    _default_overrides: ClassVar[dict[str, Any]] = {}
    #: What ``validation_scores_`` holds (written into ``<fitted attributes>``).
    _score = "the score"
    _parameters: tuple[Option, ...] = estimator_parameters()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._parameters = estimator_parameters(**cls._default_overrides)
        if "__init__" not in cls.__dict__:
            init = make_init(cls._parameters)
            init.__qualname__ = f"{cls.__qualname__}.__init__"
            cls.__init__ = init  # type: ignore[method-assign]
        if cls.__doc__ is not None:
            parameters = numpydoc_parameters(cls._parameters, with_default=True)
            attributes = _FITTED_ATTRIBUTES.replace("<score>", cls._score)
            cls.__doc__ = cls.__doc__.replace("    <parameters>\n", parameters).replace(
                "    <fitted attributes>\n", attributes)

    def _checked(self, name: str) -> Any:
        """The parameter ``name``, checked by its specification (raises naming it)."""
        spec = next(spec for spec in self._parameters if spec.name == name)
        return spec.validate(getattr(self, name))

    def _train_options(self) -> dict[str, Any]:
        """The parameters that are ``train`` options of the same meaning, by name."""
        options = {spec.name: getattr(self, spec.name) for spec in OPTIONS
                   if spec.estimator is True}
        if isinstance(options["hidden"], list):  # GridSearchCV users write lists
            options["hidden"] = tuple(options["hidden"])
        return options

    def _fit_model(self, X: np.ndarray, y: np.ndarray, output: str,
                   encode: Callable[[np.ndarray], np.ndarray], *, stratify: bool) -> None:
        """Train on ``X`` (n_samples, n_features) and ``encode(y)`` (n_outputs, n_samples).

        With ``early_stopping``, ``validation_fraction`` of the samples are held out first
        (shuffled from ``seed``, stratified by ``y`` when ``stratify``, as scikit-learn's MLP
        does) and passed as ``validation`` with ``early_stopping=n_iter_no_change``.
        """
        options, held = self._train_options(), None
        if self._checked("early_stopping"):
            X, X_val, y, y_val = train_test_split(
                X, y, test_size=self._checked("validation_fraction"),
                random_state=self._checked("seed"), stratify=y if stratify else None)
            held = (X_val.T, encode(y_val))
            # as scikit-learn's MLP: the validation cost, not the training cost, decides
            patience = self._checked("n_iter_no_change")
            if patience == 0:
                raise ValueError("n_iter_no_change must be >= 1 with early_stopping=True (the "
                                 "validation patience), got 0")
            patience = _PATIENCE if patience is None else patience
            options.update(validation=held, early_stopping=patience, n_iter_no_change=0)
        with warnings.catch_warnings():  # the estimator transposes: the layout is certain
            warnings.filterwarnings("ignore", message="X is square", category=UserWarning)
            self.model_ = pnn.train(X.T, encode(y), output=output, **options)
        self._set_fit_attributes(held)

    def _set_fit_attributes(self, held: tuple[np.ndarray, np.ndarray] | None) -> None:
        """``costs_``, ``loss_curve_``, ``n_iter_`` and scikit-learn's early-stopping ones."""
        self.costs_ = dict(self.model_.costs)
        self.loss_curve_ = [self.costs_[i] for i in sorted(self.costs_)]
        self.n_iter_ = self.model_.iterations
        self.validation_scores_ = self.best_validation_score_ = None
        self.best_loss_ = min(self.loss_curve_) if held is None and self.loss_curve_ else None
        if held is not None:
            scores = self._validation_scores(self.model_.history, held[1])
            self.validation_scores_ = [scores[i] for i in sorted(scores)]
            best = self.model_.best_iteration
            self.best_validation_score_ = None if best is None else scores.get(best)

    def _validation_scores(self, history: dict[str, dict[int, float]],
                           Y_val: np.ndarray) -> dict[int, float]:
        """``{iteration: score}`` on the validation samples (``score``'s measure)."""
        raise NotImplementedError

    def _network_output(self, X: Any) -> np.ndarray:
        """Return the network's output for ``X`` (n_samples, n_features): (n_samples, n_y)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        A = pnn.to_numpy(self.model_.predict_proba(X.T))
        return np.asarray(A, dtype=np.float64).T

    # The fitted Model holds its array namespace (a module), which pickle cannot store:
    # keep the parameters as NumPy arrays in the pickle and rebuild the model on load.
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        model = state.get("model_")
        if isinstance(model, pnn.Model):
            state = dict(state)
            state["model_"] = _model_to_host(model)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.get("model_")
        if isinstance(saved, dict) and saved.get("__portable_nn_model__"):
            state = dict(state)
            state["model_"] = _model_from_host(saved, self_device=state.get("device"))
        super().__setstate__(state)


def _model_to_host(model: pnn.Model) -> dict[str, Any]:
    return {
        "__portable_nn_model__": True,
        "params": {key: np.array(pnn.to_numpy(value)) for key, value in model.params.items()},
        "layer_dims": model.layer_dims,
        "hidden_activation": model.hidden_activation,
        "output": model.output,
        "costs": dict(model.costs),
        "iterations": model.iterations,
        "interrupted": model.interrupted,
        "config": dict(model.config),
        "backend": model.backend,
        "dtype": model.backend_info.dtype_name,
        "standardization": None if model.standardization is None else
        tuple(np.array(pnn.to_numpy(a)) for a in model.standardization),
        "target_standardization": None if model.target_standardization is None else
        tuple(np.array(pnn.to_numpy(a)) for a in model.target_standardization),
        "metrics": {name: dict(values) for name, values in model.metrics.items()},
        "best_iteration": model.best_iteration,
    }


def _model_from_host(saved: dict[str, Any], self_device: Any) -> pnn.Model:
    host = pnn.resolve_backend("numpy", None, saved["dtype"])
    model = pnn.Model(dict(saved["params"]), layer_dims=saved["layer_dims"],
                      hidden_activation=saved["hidden_activation"], output=saved["output"],
                      backend=host, costs=saved["costs"], iterations=saved["iterations"],
                      interrupted=saved["interrupted"], config=saved["config"],
                      standardization=saved.get("standardization"),
                      target_standardization=saved.get("target_standardization"),
                      metrics=saved.get("metrics"), best_iteration=saved.get("best_iteration"))
    if saved["backend"] == host.name:
        return model
    return model.to(saved["backend"], self_device, saved["dtype"])


class NeuralNetClassifier(ClassifierMixin, _NeuralNetBase):
    """A fully-connected network classifier with scikit-learn's interface.

    Two classes train one sigmoid output unit (binary cross-entropy); more train a softmax
    output over one-hot targets. Class labels may be any sortable values (ints, strings, ...).

    Parameters
    ----------
    <parameters>

    Attributes
    ----------
    classes_ : numpy.ndarray, shape (n_classes,)
        The class labels, sorted; ``predict_proba``'s columns follow this order.
    n_features_in_ : int
        Number of features seen in ``fit``.
    <fitted attributes>

    Examples
    --------
    >>> import numpy as np
    >>> from portable_nn.sklearn import NeuralNetClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    >>> y = np.array(["no", "yes", "yes", "no"] * 5)  # XOR
    >>> clf = NeuralNetClassifier(recipe="lesson", init="xavier", num_iterations=2000)
    >>> clf = clf.fit(X, y)
    >>> clf.classes_.tolist()
    ['no', 'yes']
    >>> clf.predict([[0.0, 1.0], [1.0, 1.0]]).tolist()
    ['yes', 'no']

    """

    _score = "the accuracy"

    def fit(self, X: Any, y: Any) -> NeuralNetClassifier:
        """Train the network on ``X`` (n_samples, n_features) and labels ``y`` (n_samples,).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Training inputs.
        y : array-like, shape (n_samples,)
            Class labels, at least two distinct ones.

        Returns
        -------
        self : NeuralNetClassifier
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid data, fewer than 2 classes, or invalid training options.
        portable_nn.TrainingDivergedError
            When the cost becomes NaN or infinite (lower ``learning_rate``).
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, encoded = np.unique(y, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes to fit, but y has "
                f"only 1 class: {classes[0]!r}"
            )
        n_classes = classes.shape[0]

        def encode(codes: np.ndarray) -> np.ndarray:
            if n_classes == 2:
                return codes.reshape(1, -1).astype(np.float64)
            return one_hot(codes, n_classes)

        self._fit_model(X, encoded, "sigmoid" if n_classes == 2 else "softmax", encode,
                        stratify=True)
        self.classes_ = classes
        return self

    def _validation_scores(self, history: dict[str, dict[int, float]],
                           Y_val: np.ndarray) -> dict[int, float]:
        """The validation accuracy (what ``score`` measures) at each record point."""
        return dict(history["validation_accuracy"])

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the samples ``X``, ``(n_samples, n_features)``.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_classes), float64
            One row per sample, one column per class in ``classes_`` order; each row sums to 1.
        """
        A = self._network_output(X)
        if A.shape[1] == 1:
            return np.hstack([1.0 - A, A])
        return A

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample of ``X``, ``(n_samples, n_features)``.

        Returns
        -------
        numpy.ndarray, shape (n_samples,)
            Labels taken from ``classes_`` (ties go to the first class).
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNetBase):
    """A fully-connected network regressor with scikit-learn's interface.

    The output layer is linear and the cost is half the mean squared error. ``y`` may have one
    target (n_samples,) or several (n_samples, n_targets). With ``standardize`` (on in the
    default tabular recipe) the targets are standardised too (their mean and standard deviation
    are kept in the model and undone by ``predict``).

    Parameters
    ----------
    <parameters>

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_outputs_ : int
        Number of targets.
    <fitted attributes>

    Examples
    --------
    >>> import numpy as np
    >>> from portable_nn.sklearn import NeuralNetRegressor
    >>> X = np.linspace(-2, 2, 50).reshape(-1, 1)
    >>> y = np.sin(X).ravel()
    >>> NeuralNetRegressor().fit(X, y).score(X, y) > 0.95  # the tabular recipe
    True
    >>> reg = NeuralNetRegressor(l2=0.0, num_iterations=1000).fit(X, y)  # no noise to fear
    >>> reg.score(X, y) > 0.999
    True

    """

    _score = "R^2, from the validation cost"

    def fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """Train the network on ``X`` (n_samples, n_features) and targets ``y``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Training inputs, one row per sample.
        y : array-like, shape (n_samples,) or (n_samples, n_targets)
            Real-valued targets: one per sample, or one row of several per sample.

        Returns
        -------
        self : NeuralNetRegressor
            The fitted estimator.

        Raises
        ------
        ValueError
            For invalid data or training options.
        portable_nn.TrainingDivergedError
            When the cost becomes NaN or infinite (lower ``learning_rate``).
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self._fit_model(X, y, "linear", _targets, stratify=False)
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._single_target = y.ndim == 1
        return self

    def _validation_scores(self, history: dict[str, dict[int, float]],
                           Y_val: np.ndarray) -> dict[int, float]:
        """The validation R^2 at each record point, from the validation cost.

        The cost is half the mean squared error, ``SS_res / (2m)``, so ``R^2 = 1 - 2 m cost /
        SS_tot``: ``score``'s R^2 for one target, its variance-weighted average for several.
        """
        m = Y_val.shape[1]
        total = float(np.sum((Y_val - Y_val.mean(axis=1, keepdims=True)) ** 2))
        return {i: 1.0 - 2.0 * m * cost / total if total > 0 else math.nan
                for i, cost in history["validation_cost"].items()}

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets of the samples ``X``, ``(n_samples, n_features)``.

        Returns
        -------
        numpy.ndarray, float64
            Shape (n_samples,) when ``fit`` had a 1-D ``y``, else (n_samples, n_targets).
        """
        A = self._network_output(X)
        return A[:, 0] if self._single_target else A

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"multioutput": True}


def _targets(y: np.ndarray) -> np.ndarray:
    """Regression targets ``(n_samples,)`` or ``(n_samples, n_targets)`` as ``(n_y, m)``."""
    return y.reshape(1, -1) if y.ndim == 1 else y.T


# skl2onnx converters (where skl2onnx is installed): to_onnx converts the estimators
from portable_nn.tools._sklearn_onnx import (  # noqa: E402 (the estimators are defined first)
    register_onnx_converters,
    register_when_imported,
)

register_when_imported()
