"""Reference computations of the core's closing-note figures, shared by CI and the tests.

- :func:`gradient_check`: ``pnn.backward`` against central differences of
  ``pnn.compute_cost`` (:func:`numeric_gradient`), in float64, on a kink-free problem;
- :func:`parity_params` / :func:`parity_difference`: parameters after the planar parity run
  and their relative distance from a reference;
- :func:`lesson_accuracy`: the lesson's planar run and its training accuracy.

``ci/report_figures.py`` prints these figures; ``tests/test_core.py`` asserts on the same
functions, so the figures printed are those the tests check. Only NumPy and portable_nn's
public API are used.
"""

from __future__ import annotations

import math

import numpy as np

import portable_nn as pnn

STRICT_API_VERSION = "2024.12"  # the array-api-strict version the tests and CI figures pin
HIDDEN_ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax", "linear"]
FD_EPS = 1e-5
KINK_MARGIN = 1e-3  # no hidden pre-activation closer to 0 than this (ReLU kinks)

def _targets(output: str, n_y: int, m: int, rng: np.random.Generator) -> np.ndarray:
    if output == "sigmoid":
        Y = (rng.random((n_y, m)) < 0.5).astype(np.float64)
        Y[:, 0], Y[:, 1] = 0.0, 1.0  # both classes present
        return Y
    if output == "softmax":
        labels = np.arange(m) % n_y
        rng.shuffle(labels)
        return np.eye(n_y)[:, labels]
    return rng.normal(size=(n_y, m))


def hidden_preactivations(params: dict[str, np.ndarray], X: np.ndarray, name: str) -> list:
    """Hidden Z[l] computed on the host in NumPy, to keep ReLU kinks away from the check."""
    g = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0),
         "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
         "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}[name]
    L = len(params) // 2
    A, Zs = X, []
    for layer in range(1, L):
        Z = params[f"W{layer}"] @ A + params[f"b{layer}"]
        Zs.append(Z)
        A = g(Z)
    return Zs


def gradcheck_problem(layer_dims: tuple[int, ...], hidden_activation: str, output: str,
                      m: int = 6, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    """Float64 parameters, inputs and targets with every hidden ``|Z|`` above ``KINK_MARGIN``.

    Weights are O(1) so that gradients are far from zero and the relative difference is
    meaningful; the seed is advanced until no hidden pre-activation sits near a ReLU kink.
    """
    for attempt in range(100):
        rng = np.random.default_rng([seed, attempt])
        params = {}
        for layer in range(1, len(layer_dims)):
            n, n_prev = layer_dims[layer], layer_dims[layer - 1]
            params[f"W{layer}"] = rng.normal(size=(n, n_prev)) * 1.5 / math.sqrt(n_prev)
            params[f"b{layer}"] = rng.normal(size=(n, 1)) * 0.5
        X = rng.normal(size=(layer_dims[0], m))
        Y = _targets(output, layer_dims[-1], m, rng)
        Zs = hidden_preactivations(params, X, hidden_activation)
        if all(np.min(np.abs(Z)) > KINK_MARGIN for Z in Zs):
            return params, X, Y
    raise AssertionError("no kink-free draw found")  # pragma: no cover


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / (||a|| + ||b||)``, 0 when both are zero."""
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def gradient_check(backend: str, layer_dims: tuple[int, ...], hidden_activation: str,
                   output: str, *, device=None, seed: int = 0, eps: float = FD_EPS) -> dict:
    """Compare ``pnn.backward`` with central differences of ``pnn.compute_cost``, in float64.

    Returns
    -------
    dict
        ``{"overall": d, "W1": d, "b1": d, ...}``: norm-based relative differences
        ``||g - g_fd|| / (||g|| + ||g_fd||)``, overall (all parameters as one vector) and per
        parameter.
    """
    host_params, X_host, Y_host = gradcheck_problem(layer_dims, hidden_activation, output,
                                                    seed=seed)
    L = len(layer_dims) - 1
    be = pnn.resolve_backend(backend, device, "float64")
    X = pnn.backend.to_backend(X_host, be, name="X")
    Y = pnn.backend.to_backend(Y_host, be, name="Y")

    def on_backend(p: dict[str, np.ndarray]) -> dict:
        return pnn.init_params(layer_dims, init=p, backend=be)

    def cost(p: dict[str, np.ndarray]) -> float:
        AL, cache = pnn.forward(on_backend(p), X, hidden_activation=hidden_activation,
                                output=output)
        return pnn.compute_cost(AL, Y, output=output, logits=cache[f"Z{L}"])

    params = on_backend(host_params)
    _, cache = pnn.forward(params, X, hidden_activation=hidden_activation, output=output)
    grads = pnn.backward(params, cache, Y, hidden_activation=hidden_activation, output=output)
    analytic = {key: pnn.to_numpy(grads[f"d{key}"]).astype(np.float64) for key in host_params}
    numeric = numeric_gradient(cost, host_params, eps)
    diffs = {key: relative_difference(analytic[key], numeric[key]) for key in host_params}
    diffs["overall"] = relative_difference(
        np.concatenate([analytic[k].ravel() for k in host_params]),
        np.concatenate([numeric[k].ravel() for k in host_params]))
    return diffs


def norm_relative(value: np.ndarray, reference: np.ndarray) -> float:
    """``||value - reference|| / ||reference||``."""
    return float(np.linalg.norm(value - reference) / np.linalg.norm(reference))


def parity_difference(params: dict, reference: dict[str, np.ndarray]) -> float:
    """Largest ``||p - p_ref|| / ||p_ref||`` over the parameters (``reference`` in NumPy)."""
    return max(norm_relative(pnn.to_numpy(params[key]).astype(np.float64), reference[key])
               for key in reference)


PARITY_ITERATIONS = 1000
PARITY_TOLERANCE = {"float64": 1e-10, "float32": 1e-3}


def parity_params(backend: str, device=None, dtype: str = "float64") -> dict:
    """Parameters after the parity run: planar data, default network, seed 0."""
    X, Y = pnn.datasets.planar()
    model = pnn.train(X, Y, recipe="lesson",
                      num_iterations=PARITY_ITERATIONS, seed=0, backend=backend,
                      device=device, dtype=dtype)
    return model.params


def lesson_accuracy(backend: str, device=None, dtype: str | None = "float64", hidden=4) -> float:
    """The lesson's run: planar data, tanh, lr 1.2, 10,000 iterations; training accuracy."""
    X, Y = pnn.datasets.planar()
    model = pnn.train(X, Y, recipe="lesson",
                      hidden=hidden, learning_rate=1.2, num_iterations=10_000,
                      backend=backend, device=device, dtype=dtype)
    return model.accuracy(X, Y)


def numeric_gradient(cost_of, params, eps):
    """Central finite differences of ``cost_of(params)`` for every entry of every parameter.

    ``params`` are NumPy arrays; returns ``{name: gradient}`` with the parameters' names.
    """
    numeric = {}
    for key, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][index] += eps
            minus[key][index] -= eps
            grad[index] = (cost_of(plus) - cost_of(minus)) / (2 * eps)
        numeric[key] = grad
    return numeric
