"""An independent oracle: the same network in PyTorch autograd, compared with portable_nn.

The oracle builds the forward pass from ``torch.nn.functional`` and the costs from PyTorch's own
losses (``binary_cross_entropy_with_logits``, ``cross_entropy``, ``mse_loss``), then lets
autograd compute the gradients. None of portable_nn's numerics is reused: only the parameters
and data are shared. portable_nn runs on NumPy in float64; agreement is expected to ~1e-12.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import portable_nn as pnn

torch = pytest.importorskip("torch", reason="the PyTorch oracle needs torch installed")
F = torch.nn.functional

HIDDEN_ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax", "linear"]
ARCHITECTURES = {
    "shallow": (3, 4),
    "deep": (3, 6, 5, 4),
    "single-unit": (1, 1, 1),
}
RTOL, ATOL = 1e-12, 1e-13


def _hidden(name: str, z):
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return F.relu(z)
    if name == "leaky_relu":
        return F.leaky_relu(z, negative_slope=0.01)
    return torch.sigmoid(z)


def _oracle_cost(ZL, Y, output: str):
    m = ZL.shape[1]
    if output == "sigmoid":
        return F.binary_cross_entropy_with_logits(ZL, Y, reduction="sum") / m
    if output == "softmax":
        labels = torch.argmax(Y, dim=0)
        return F.cross_entropy(ZL.T, labels, reduction="sum") / m
    return F.mse_loss(ZL, Y, reduction="sum") / (2 * m)


def _oracle_output(ZL, output: str):
    if output == "sigmoid":
        return torch.sigmoid(ZL)
    if output == "softmax":
        return torch.softmax(ZL, dim=0)
    return ZL


def torch_oracle(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray,
                 hidden_activation: str, output: str) -> tuple[list, float, dict]:
    """Activations ``[A0, ..., AL]``, the cost and the gradients, by PyTorch autograd."""
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    A = torch.tensor(X, dtype=torch.float64)
    Yt = torch.tensor(Y, dtype=torch.float64)
    L = len(params) // 2
    activations = [A]
    for layer in range(1, L):
        A = _hidden(hidden_activation, tp[f"W{layer}"] @ A + tp[f"b{layer}"])
        activations.append(A)
    ZL = tp[f"W{L}"] @ A + tp[f"b{L}"]
    activations.append(_oracle_output(ZL, output))
    cost = _oracle_cost(ZL, Yt, output)
    cost.backward()
    grads = {f"d{k}": v.grad.numpy() for k, v in tp.items()}
    return [a.detach().numpy() for a in activations], float(cost.detach()), grads


def _problem(dims: tuple[int, ...], hidden_activation: str, output: str, seed: int):
    rng = np.random.default_rng(seed)
    m = 9
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = rng.normal(size=(dims[layer], dims[layer - 1]))
        params[f"b{layer}"] = rng.normal(size=(dims[layer], 1)) * 0.5
    X = rng.normal(size=(dims[0], m)) * 2.0
    n_y = dims[-1]
    if output == "sigmoid":
        Y = (rng.random((n_y, m)) < 0.5).astype(np.float64)
    elif output == "softmax":
        Y = np.eye(n_y)[:, rng.integers(0, n_y, size=m)]
    else:
        Y = rng.normal(size=(n_y, m))
    return params, X, Y


def _dims(architecture: str, output: str) -> tuple[int, ...]:
    n_y = {"sigmoid": 1, "softmax": 3, "linear": 2}[output]
    if architecture == "single-unit" and output == "linear":
        n_y = 1
    return (*ARCHITECTURES[architecture], n_y)


class TestTorchOracle:
    """Forward pass, cost and gradients of portable_nn (NumPy, float64) vs PyTorch autograd."""

    @pytest.mark.parametrize("architecture", list(ARCHITECTURES))
    @pytest.mark.parametrize("output", OUTPUTS)
    @pytest.mark.parametrize("hidden_activation", HIDDEN_ACTIVATIONS)
    def test_forward_cost_and_gradients(self, hidden_activation, output, architecture):
        dims = _dims(architecture, output)
        if architecture == "single-unit" and output == "softmax":
            dims = (1, 1, 2)
        params, X, Y = _problem(dims, hidden_activation, output, seed=len(dims))
        activations, cost, grads = torch_oracle(params, X, Y, hidden_activation, output)

        AL, cache = pnn.forward(params, X, hidden_activation=hidden_activation, output=output)
        L = len(dims) - 1
        ours_cost = pnn.compute_cost(AL, Y, output=output, logits=cache[f"Z{L}"])
        ours_grads = pnn.backward(params, cache, Y, hidden_activation=hidden_activation,
                                  output=output)

        for layer, expected in enumerate(activations):
            np.testing.assert_allclose(cache[f"A{layer}"], expected, rtol=RTOL, atol=ATOL,
                                       err_msg=f"A{layer}")
        np.testing.assert_allclose(AL, activations[-1], rtol=RTOL, atol=ATOL)
        assert ours_cost == pytest.approx(cost, rel=RTOL, abs=ATOL)
        assert sorted(ours_grads) == sorted(grads)
        for key, expected in grads.items():
            np.testing.assert_allclose(ours_grads[key], expected, rtol=1e-11, atol=ATOL,
                                       err_msg=key)

    @pytest.mark.parametrize("output", ["sigmoid", "softmax"])
    def test_cost_without_logits_matches(self, output):
        """The probability-based cost agrees with the oracle when nothing saturates."""
        dims = _dims("shallow", output)
        params, X, Y = _problem(dims, "tanh", output, seed=11)
        _, cost, _ = torch_oracle(params, X, Y, "tanh", output)
        AL, _ = pnn.forward(params, X, output=output)
        assert pnn.compute_cost(AL, Y, output=output) == pytest.approx(cost, rel=1e-10)

    def test_oracle_is_sensitive(self):
        """Sanity: the oracle sees a different network when one weight changes."""
        params, X, Y = _problem(_dims("shallow", "sigmoid"), "tanh", "sigmoid", seed=5)
        _, cost, _ = torch_oracle(params, X, Y, "tanh", "sigmoid")
        params["W1"] = params["W1"].copy()
        params["W1"][0, 0] += 1e-3
        _, moved, _ = torch_oracle(params, X, Y, "tanh", "sigmoid")
        assert not math.isclose(cost, moved, rel_tol=1e-9)
