"""Plots of a trained model with matplotlib (the optional ``plot`` extra).

Both functions draw on a given matplotlib ``Axes`` (or a new figure's) and return it; they
never call ``show``. They work for a model on any backend: predictions are brought to the host
with :func:`portable_nn.to_numpy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

import portable_nn as pnn

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["costs", "decision_boundary", "describe_network"]


def _new_axes() -> Axes:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "portable_nn.plot needs matplotlib: install the extra: pip install "
            "'portable-nn[plot]' (from a clone: pip install -e '.[plot]')"
        ) from exc
    _, ax = plt.subplots()
    return ax


def _colormap() -> Any:
    from matplotlib import colormaps

    return colormaps["Spectral"]


_REGRESSION = {"sigmoid": "logistic regression", "softmax": "softmax regression",
               "linear": "linear regression"}


def describe_network(model: pnn.Model) -> str:
    """Say in words what the network is, as plot titles show it.

    Parameters
    ----------
    model : portable_nn.Model
        A trained model.

    Returns
    -------
    str
        ``"1 hidden layer of 4 units, tanh"``, ``"2 hidden layers (20, 7), relu"`` or
        ``"no hidden layer (logistic regression)"``.

    Examples
    --------
    >>> import portable_nn as pnn
    >>> X, Y = pnn.datasets.planar()
    >>> describe_network(pnn.train(X, Y, recipe="lesson", hidden=4, num_iterations=1))
    '1 hidden layer of 4 units, tanh'
    >>> describe_network(pnn.train(X, Y, hidden=(20, 7), hidden_activation="relu",
    ...                            num_iterations=1))
    '2 hidden layers (20, 7), relu'
    >>> describe_network(pnn.train(X, Y, hidden=0, num_iterations=1))
    'no hidden layer (logistic regression)'
    """
    _check_model(model)
    hidden = model.layer_dims[1:-1]
    if not hidden:
        return f"no hidden layer ({_REGRESSION.get(model.output, model.output)})"
    if len(hidden) == 1:
        units = "unit" if hidden[0] == 1 else "units"
        return f"1 hidden layer of {hidden[0]} {units}, {model.hidden_activation}"
    sizes = ", ".join(str(n) for n in hidden)
    return f"{len(hidden)} hidden layers ({sizes}), {model.hidden_activation}"


def _check_model(model: Any) -> None:
    if not isinstance(model, pnn.Model):
        raise TypeError(f"model must be a portable_nn.Model, got {type(model).__name__}")


def _labels(Y: Any, m: int) -> np.ndarray:
    """Return one value per sample: the class index of one-hot ``Y``, else its first row."""
    Y = np.asarray(pnn.to_numpy(Y))
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2 or Y.shape[1] != m:
        raise ValueError(f"Y must have shape (n_y, {m}) to match X, got {Y.shape}")
    return Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0]


def _grid(X: np.ndarray, resolution: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    lows, highs = X.min(axis=1) - margin, X.max(axis=1) + margin
    return np.meshgrid(np.linspace(lows[0], highs[0], resolution),
                       np.linspace(lows[1], highs[1], resolution))


def decision_boundary(
    model: pnn.Model,
    X: Any,
    Y: Any,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    margin: float = 1.0,
) -> Axes:
    """Draw the model's prediction over the plane and the samples on top (two-feature data).

    The background is the predicted class (sigmoid: 0/1, softmax: the class index) or, for a
    linear output, the predicted value, evaluated on a ``resolution x resolution`` grid that
    covers the data plus ``margin``; the samples are coloured by ``Y``.

    Parameters
    ----------
    model : portable_nn.Model
        A trained model with two input features, on any backend.
    X : array-like, shape (2, m)
        The samples, one column each (NumPy or any backend's array).
    Y : array-like, shape (n_y, m)
        Their labels: 0/1, class indices, one-hot ``(C, m)`` or target values.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.
    resolution : int
        Grid points per axis.
    margin : float
        How far the grid extends past the data, in data units.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When the model or ``X`` does not have exactly two features, or ``Y`` does not match.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import portable_nn as pnn
    >>> from portable_nn import plot
    >>> X, Y = pnn.datasets.planar()
    >>> model = pnn.train(X, Y, num_iterations=100)
    >>> ax = plot.decision_boundary(model, X, Y)
    >>> ax.get_xlabel()
    '$x_1$'

    """
    _check_model(model)
    if model.layer_dims[0] != 2:
        raise ValueError(
            f"decision_boundary needs a model with 2 input features, got {model.layer_dims[0]}"
        )
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    X = np.asarray(pnn.to_numpy(X), dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X must have shape (2, m), one column per sample, got {X.shape}")
    labels = _labels(Y, X.shape[1])
    xx, yy = _grid(X, resolution, float(margin))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    if model.output == "linear":
        values = pnn.to_numpy(model.predict_proba(grid))[0]
    else:
        values = pnn.to_numpy(model.predict(grid))[0]
    values = np.asarray(values, dtype=np.float64).reshape(xx.shape)
    ax = _new_axes() if ax is None else ax
    cmap = _colormap()
    if model.output == "linear":
        ax.contourf(xx, yy, values, levels=20, cmap=cmap, alpha=0.5)
        colors: dict[str, Any] = {}
    else:  # one colour band per class, the same colours as the samples' labels
        top = max(float(values.max()), float(labels.max()), 1.0)
        colors = {"vmin": 0.0, "vmax": top}
        ax.contourf(xx, yy, values, levels=np.arange(-0.5, top + 1.0), cmap=cmap, alpha=0.5,
                    **colors)
    ax.scatter(X[0], X[1], c=labels, s=20, cmap=cmap, edgecolors="k", linewidths=0.4, **colors)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(f"Decision boundary: {describe_network(model)}")
    return ax


def costs(model: pnn.Model, ax: Axes | None = None) -> Axes:
    """Plot the recorded cost against the iteration (the lesson's learning curve).

    With ``train(..., validation=(X_val, Y_val))`` the validation cost
    (``model.metrics["validation_cost"]``) is drawn beside the training cost, with a legend
    (``ax.lines[0]`` is the training cost, ``ax.lines[1]`` the validation cost).

    Parameters
    ----------
    model : portable_nn.Model
        A trained model; its ``costs`` (``{iteration: cost}``) are plotted.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's axes by default.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on; raises ``ValueError`` when the model recorded no cost
        (``num_iterations=0``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import portable_nn as pnn
    >>> from portable_nn.plot import costs
    >>> ax = costs(pnn.train(*pnn.datasets.planar(), recipe="lesson", num_iterations=1000))
    >>> len(ax.lines[0].get_xdata())
    10

    """
    _check_model(model)
    if not model.costs:
        raise ValueError("the model recorded no cost (was it trained for 0 iterations?)")
    ax = _new_axes() if ax is None else ax
    validation = model.metrics.get("validation_cost")
    for values, label in ((model.costs, "training"), (validation, "validation")):
        if values:
            iterations = sorted(values)
            ax.plot(iterations, [values[i] for i in iterations], label=label)
    if validation:
        ax.legend()
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost")
    rate = model.config.get("learning_rate")
    ax.set_title("Cost" if rate is None else f"Cost (learning rate = {rate})")
    return ax
