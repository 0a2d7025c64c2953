"""PyTorch modules out and in: Model.to_torch() and pnn.from_torch(sequential).

The Sequential's outputs on samples as rows are compared with ``predict_proba`` (PyTorch's
own Linear, Tanh, Softmax, ... are the independent reference); ``from_torch`` is checked on
Sequentials written by hand with torch.nn, and on what it must refuse.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_model, worst_relative

import portable_nn as pnn
from portable_nn.core import ACTIVATIONS, OUTPUTS

torch = pytest.importorskip("torch", reason="PyTorch (the torch extra)")
nn = torch.nn

RTOL = {"float32": 1e-6, "float64": 1e-12}


def torch_rows(module, X):
    with torch.no_grad():
        return module(torch.from_numpy(np.ascontiguousarray(X.T))).numpy()


CASES = [pytest.param(hidden, act, output, dtype,
                      id=f"depth{len(hidden) + 1}-{act if hidden else 'none'}-{output}-{dtype}")
         for dtype in ("float32", "float64") for output in sorted(OUTPUTS)
         for hidden in ((), (6,), (7, 5)) for act in sorted(ACTIVATIONS)
         if hidden or act == "tanh"]


@pytest.mark.parametrize(("hidden", "hidden_activation", "output", "float_dtype"), CASES)
def test_to_torch_equals_model(hidden, hidden_activation, output, float_dtype):
    model = random_model((4, *hidden, 3), hidden_activation, output, float_dtype)
    module = model.to_torch()
    X = (np.random.default_rng(1).normal(size=(4, 50)) * 3).astype(float_dtype)
    expected = pnn.to_numpy(model.predict_proba(X)).T
    found = torch_rows(module, X)
    assert found.dtype == np.dtype(float_dtype)
    assert worst_relative(found, expected) <= RTOL[float_dtype]
    back = pnn.from_torch(module)
    assert (back.layer_dims, back.hidden_activation if hidden else None, back.output) == (
        model.layer_dims, hidden_activation if hidden else None, output)
    for key, value in model.params.items():
        assert np.array_equal(pnn.to_numpy(back.params[key]), value)  # bit-exact both ways
    for a, b in zip(back.standardization, model.standardization, strict=True):
        assert np.array_equal(pnn.to_numpy(a), pnn.to_numpy(b))


def test_layout_is_linear_s_own():
    model = random_model((3, 4, 2), "relu", "linear", "float64", standardize=False)
    module = model.to_torch()
    linears = [m for m in module if isinstance(m, nn.Linear)]
    assert [type(m).__name__ for m in module] == ["Linear", "ReLU", "Linear"]
    assert np.array_equal(linears[0].weight.detach().numpy(), model.params["W1"])
    assert np.array_equal(linears[1].bias.detach().numpy(), model.params["b2"][:, 0])
    assert not module.training


def test_state_dict_round_trip_and_torch_save(tmp_path):
    """The module is an ordinary torch module: state dict and torch.save / torch.load."""
    model = random_model((3, 5, 2), "leaky_relu", "softmax", "float64")
    module = model.to_torch()
    path = tmp_path / "m.pt"
    torch.save(module, path)
    again = torch.load(path, weights_only=False)
    X = np.random.default_rng(2).normal(size=(3, 9))
    assert np.array_equal(torch_rows(again, X), torch_rows(module, X))
    assert {"0.mean", "0.std", "1.weight", "3.bias"} <= set(module.state_dict())


class TestFromTorch:
    @pytest.mark.parametrize(("activation", "name"), [
        (nn.Tanh, "tanh"), (nn.ReLU, "relu"), (nn.Sigmoid, "sigmoid"),
        (lambda: nn.LeakyReLU(0.01), "leaky_relu")])
    @pytest.mark.parametrize(("last", "output"), [
        ([nn.Softmax(dim=-1)], "softmax"), ([nn.Softmax(dim=1)], "softmax"),
        ([nn.Sigmoid()], "sigmoid"), ([], "linear")])
    def test_hand_written_sequential(self, activation, name, last, output):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 5), activation(), nn.Dropout(0.5), nn.Linear(5, 4),
                            activation(), nn.Linear(4, 2), *last).double().eval()
        model = pnn.from_torch(net)
        assert (model.layer_dims, model.hidden_activation, model.output) == (
            (3, 5, 4, 2), name, output)
        assert model.iterations == 0
        X = np.random.default_rng(0).normal(size=(3, 40))
        expected = torch_rows(net, X)
        assert worst_relative(pnn.to_numpy(model.predict_proba(X)).T, expected) <= 1e-12

    def test_linear_without_bias_and_other_backend(self):
        pytest.importorskip("array_api_strict")
        net = nn.Sequential(nn.Linear(2, 3, bias=False), nn.Tanh(), nn.Linear(3, 1))
        model = pnn.from_torch(net, backend="array_api_strict", dtype="float64")
        assert model.backend == "array_api_strict"
        assert np.array_equal(pnn.to_numpy(model.params["b1"]), np.zeros((3, 1)))

    @pytest.mark.parametrize(("net", "match"), [
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.GELU(), nn.Linear(3, 1)),
         r"module 1 \(GELU\(.*\)\) is not an activation"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.ReLU(),
                               nn.Linear(3, 1)), "differs from the first hidden activation"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Linear(3, 1)),
         "negative_slope 0.2"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), "another axis"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)), "not an activation"),
        (lambda: nn.Sequential(nn.Tanh(), nn.Linear(2, 1)), "where a Linear layer must be"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh()), "ends the network"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 1)),
         "takes 4 inputs but the layer before gives 3"),
        (lambda: nn.Sequential(nn.Conv1d(1, 1, 1)), "where a Linear layer must be"),
        (lambda: nn.Sequential(), "no Linear layer"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1).double()),
         "dtypes"),
        (lambda: nn.Sequential(nn.Linear(2, 1)).half(), "dtypes"),
    ], ids=["gelu", "two-activations", "leaky-slope", "softmax-axis", "linear-linear",
            "starts-with-activation", "ends-with-hidden", "sizes", "conv", "empty",
            "mixed-dtypes", "float16"])
    def test_refuses_what_it_cannot_express(self, net, match):
        with pytest.raises(ValueError, match=match):
            pnn.from_torch(net())

    def test_refuses_a_non_sequential(self):
        with pytest.raises(TypeError, match=r"needs a torch\.nn\.Sequential, got Linear"):
            pnn.from_torch(nn.Linear(2, 1))
