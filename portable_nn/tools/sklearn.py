"""scikit-learn estimators around :func:`portable_nn.train` (the optional ``sklearn`` extra).

:class:`NeuralNetClassifier` and :class:`NeuralNetRegressor` take scikit-learn's
``(n_samples, n_features)`` layout and transpose to portable_nn's ``(n_features, n_samples)``
internally. Every option of :func:`portable_nn.train` except ``output`` (chosen by the
estimator) is a constructor parameter, ``backend``, ``device`` and ``dtype`` included.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import portable_nn as pnn
from portable_nn.datasets import one_hot

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "portable_nn.sklearn needs scikit-learn: pip install -e '.[sklearn]'"
    ) from exc

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - scikit-learn < 1.6

    def validate_data(estimator: Any, X: Any = "no_validation", y: Any = "no_validation",
                      reset: bool = True, **check_params: Any) -> Any:
        """Validate like scikit-learn >= 1.6's ``validate_data`` on older releases."""
        return estimator._validate_data(X, y, reset=reset, **check_params)

__all__ = ["NeuralNetClassifier", "NeuralNetRegressor"]

#: The options of :func:`portable_nn.train` every estimator passes through, in that order.
TRAIN_OPTIONS = (
    "hidden", "hidden_activation", "learning_rate", "num_iterations", "init", "seed",
    "backend", "device", "dtype", "cost_every", "print_cost", "batch_size", "optimizer",
    "beta1", "beta2", "epsilon", "l2", "keep_prob", "progress", "compile", "checkpoint",
    "checkpoint_every", "resume", "standardize", "chunk_size",
)



class _NeuralNetBase(BaseEstimator):
    """The parameters and training shared by the classifier and the regressor."""

    _output: str = "sigmoid"

    def __init__(
        self,
        hidden: int | tuple[int, ...] = 4,
        hidden_activation: str = "tanh",
        learning_rate: Any = 1.2,
        num_iterations: int = 10_000,
        init: Any = "small",
        seed: int = 0,
        backend: Any = "numpy",
        device: Any = None,
        dtype: Any = None,
        cost_every: int = 100,
        print_cost: bool = False,
        batch_size: int | None = None,
        optimizer: str = "gd",
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        l2: float = 0.0,
        keep_prob: float = 1.0,
        progress: bool = False,
        compile: bool = False,
        checkpoint: Any = None,
        checkpoint_every: int | None = None,
        resume: Any = None,
        standardize: bool = False,
        chunk_size: int | str | None = None,
    ) -> None:
        self.hidden = hidden
        self.hidden_activation = hidden_activation
        self.learning_rate = learning_rate
        self.num_iterations = num_iterations
        self.init = init
        self.seed = seed
        self.backend = backend
        self.device = device
        self.dtype = dtype
        self.cost_every = cost_every
        self.print_cost = print_cost
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.l2 = l2
        self.keep_prob = keep_prob
        self.progress = progress
        self.compile = compile
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.resume = resume
        self.standardize = standardize
        self.chunk_size = chunk_size

    def _fit_model(self, X: np.ndarray, Y: np.ndarray, output: str) -> None:
        """Train on ``X`` (n_samples, n_features) and ``Y`` (n_outputs, n_samples)."""
        options = {name: getattr(self, name) for name in TRAIN_OPTIONS}
        hidden = options["hidden"]
        if isinstance(hidden, list):  # GridSearchCV users write lists; train wants int/tuple
            options["hidden"] = tuple(hidden)
        with warnings.catch_warnings():  # the estimator transposes: the layout is certain
            warnings.filterwarnings("ignore", message="X is square", category=UserWarning)
            self.model_ = pnn.train(X.T, Y, output=output, **options)
        self.costs_ = dict(self.model_.costs)
        self.loss_curve_ = [self.costs_[i] for i in sorted(self.costs_)]
        self.n_iter_ = self.model_.iterations

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
                      metrics=saved.get("metrics"), best_iteration=saved.get("best_iteration"))
    if saved["backend"] == "numpy":
        return model
    return model.to(saved["backend"], self_device, saved["dtype"])


class NeuralNetClassifier(ClassifierMixin, _NeuralNetBase):
    """A fully-connected network classifier with scikit-learn's interface.

    Two classes train one sigmoid output unit (binary cross-entropy); more train a softmax
    output over one-hot targets. Class labels may be any sortable values (ints, strings, ...).

    Parameters
    ----------
    hidden : int or tuple of int, default=4
        Hidden layer sizes: ``4``, ``(20, 7, 5)``, or ``0`` / ``()`` for none.
    hidden_activation : {"tanh", "relu", "leaky_relu", "sigmoid"}, default="tanh"
        Activation of every hidden layer.
    learning_rate : float or callable, default=1.2
        Step size, or a schedule ``iteration -> rate``.
    <shared parameters>

    Attributes
    ----------
    classes_ : numpy.ndarray, shape (n_classes,)
        The class labels, sorted; ``predict_proba``'s columns follow this order.
    n_features_in_ : int
        Number of features seen in ``fit``.
    model_ : portable_nn.Model
        The trained network, on the chosen backend and device.
    costs_ : dict
        ``{iteration: cost}`` recorded while fitting.
    loss_curve_ : list of float
        The recorded costs in iteration order.
    n_iter_ : int
        Number of parameter updates made.

    Examples
    --------
    >>> import numpy as np
    >>> from portable_nn.sklearn import NeuralNetClassifier
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    >>> y = np.array(["no", "yes", "yes", "no"] * 5)  # XOR
    >>> clf = NeuralNetClassifier(hidden=4, init="xavier", num_iterations=2000).fit(X, y)
    >>> clf.classes_.tolist()
    ['no', 'yes']
    >>> clf.predict([[0.0, 1.0], [1.0, 1.0]]).tolist()
    ['yes', 'no']

    """

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
        if classes.shape[0] == 2:
            Y, output = encoded.reshape(1, -1).astype(np.float64), "sigmoid"
        else:
            Y, output = one_hot(encoded, classes.shape[0]), "softmax"
        self._fit_model(X, Y, output)
        self.classes_ = classes
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_classes), float64
            Each row sums to 1.
        """
        A = self._network_output(X)
        if A.shape[1] == 1:
            return np.hstack([1.0 - A, A])
        return A

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, shape (n_samples,), taken from ``classes_``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        numpy.ndarray, shape (n_samples,)
            The most probable class of each sample (ties go to the first class).
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class NeuralNetRegressor(RegressorMixin, _NeuralNetBase):
    """A fully-connected network regressor with scikit-learn's interface.

    The output layer is linear and the cost is half the mean squared error. ``y`` may have one
    target (n_samples,) or several (n_samples, n_targets). The network does not scale its
    targets: for targets far from unit scale, wrap it in
    :class:`sklearn.compose.TransformedTargetRegressor` with a ``StandardScaler``.

    Parameters
    ----------
    hidden : int or tuple of int, default=4
        Hidden layer sizes: ``4``, ``(20, 7, 5)``, or ``0`` / ``()`` for none.
    hidden_activation : {"tanh", "relu", "leaky_relu", "sigmoid"}, default="tanh"
        Activation of every hidden layer.
    learning_rate : float or callable, default=0.1
        Step size, or a schedule ``iteration -> rate``.
    <shared parameters>

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    n_outputs_ : int
        Number of targets.
    model_ : portable_nn.Model
        The trained network, on the chosen backend and device.
    costs_ : dict
        ``{iteration: cost}`` recorded while fitting.
    loss_curve_ : list of float
        The recorded costs in iteration order.
    n_iter_ : int
        Number of parameter updates made.

    Examples
    --------
    >>> import numpy as np
    >>> from portable_nn.sklearn import NeuralNetRegressor
    >>> X = np.linspace(-2, 2, 50).reshape(-1, 1)
    >>> y = np.sin(X).ravel()
    >>> reg = NeuralNetRegressor(hidden=8, optimizer="adam", learning_rate=0.01,
    ...                          num_iterations=3000).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True

    """

    def __init__(
        self,
        hidden: int | tuple[int, ...] = 4,
        hidden_activation: str = "tanh",
        learning_rate: Any = 0.1,
        num_iterations: int = 10_000,
        init: Any = "small",
        seed: int = 0,
        backend: Any = "numpy",
        device: Any = None,
        dtype: Any = None,
        cost_every: int = 100,
        print_cost: bool = False,
        batch_size: int | None = None,
        optimizer: str = "gd",
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        l2: float = 0.0,
        keep_prob: float = 1.0,
        progress: bool = False,
        compile: bool = False,
        checkpoint: Any = None,
        checkpoint_every: int | None = None,
        resume: Any = None,
        standardize: bool = False,
        chunk_size: int | str | None = None,
    ) -> None:
        super().__init__(
            hidden=hidden, hidden_activation=hidden_activation, learning_rate=learning_rate,
            num_iterations=num_iterations, init=init, seed=seed, backend=backend, device=device,
            dtype=dtype, cost_every=cost_every, print_cost=print_cost, batch_size=batch_size,
            optimizer=optimizer, beta1=beta1, beta2=beta2, epsilon=epsilon, l2=l2,
            keep_prob=keep_prob, progress=progress, compile=compile, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, resume=resume, standardize=standardize,
            chunk_size=chunk_size,
        )

    def fit(self, X: Any, y: Any) -> NeuralNetRegressor:
        """Train the network on ``X`` (n_samples, n_features) and targets ``y``.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Training inputs.
        y : array-like, shape (n_samples,) or (n_samples, n_targets)
            Real-valued targets.

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
        Y = y.reshape(1, -1) if y.ndim == 1 else y.T
        self._fit_model(X, Y, "linear")
        self.n_outputs_ = Y.shape[0]
        self._single_target = y.ndim == 1
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets: shape (n_samples,) for 1-D ``y``, else (n_samples, n_targets).

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        numpy.ndarray, float64
        """
        A = self._network_output(X)
        return A[:, 0] if self._single_target else A

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self) -> dict[str, Any]:  # scikit-learn < 1.6
        return {"multioutput": True}


# Parameters that the classifier and the regressor document alike (filled in below).
_SHARED_PARAMETERS = """    num_iterations : int, default=10000
        Number of parameter updates (one per mini-batch with ``batch_size``).
    init : {"small", "he", "xavier"} or mapping, default="small"
        Weight initialisation (see :func:`portable_nn.init_params`).
    seed : int, default=0
        Seeds the starting weights, the mini-batch order and the dropout masks: two fits with
        the same parameters and data give the same model.
    backend : str or module, default="numpy"
        ``"numpy"``, ``"torch"``, ``"jax"``, ``"cupy"``, ``"dask"``, ``"array_api_strict"``,
        ``"auto"`` (chosen by the size of the work), or an array-API namespace.
    device : object, default=None
        Device of the backend (``"cuda:0"``, ``0``, ...); ``None`` is the backend's default.
    dtype : {"float32", "float64"} or None, default=None
        Floating dtype of the run; ``None`` is the backend's default.
    cost_every : int, default=100
        Record the cost every that many iterations (``costs_``).
    print_cost : bool, default=False
        Print the cost every 1000 iterations.
    batch_size : int or None, default=None
        Mini-batch size; ``None`` is full-batch gradient descent.
    optimizer : {"gd", "momentum", "adam"}, default="gd"
        The update rule.
    beta1, beta2, epsilon : float, default=0.9, 0.999, 1e-8
        Momentum / Adam coefficients.
    l2 : float, default=0.0
        L2 regularization strength (weights only).
    keep_prob : float, default=1.0
        Inverted-dropout keep probability on hidden layers during training.
    progress : bool, default=False
        Show a tqdm progress bar while fitting.
    compile : bool, default=False
        Compile the training step (JAX only: ``jax.jit`` and ``lax.scan``).
    checkpoint : str or path-like or None, default=None
        Save the run to this ``.npz`` file while fitting (see :func:`portable_nn.train`). Every
        fit writes the same file: leave it ``None`` inside cross-validation or a grid search.
    checkpoint_every : int or None, default=None
        Checkpoint period in iterations; ``None``: only at the end of the fit.
    resume : str or path-like or None, default=None
        A checkpoint of this run to continue fitting from, up to ``num_iterations``.
    standardize : bool, default=False
        Scale every feature to mean 0 and standard deviation 1 over the training samples;
        the fitted model keeps the scaling and applies it when predicting (so no
        ``StandardScaler`` is needed in front).
    chunk_size : int or "auto" or None, default=None
        Compute each step's gradient over chunks of this many samples and sum it (less memory,
        the same result to rounding; see :func:`portable_nn.train`).
"""
for _estimator in (NeuralNetClassifier, NeuralNetRegressor):
    _estimator.__doc__ = _estimator.__doc__.replace("    <shared parameters>\n",
                                                    _SHARED_PARAMETERS)
