"""The optimizers added as single modules: ``"nesterov"`` and ``"adamw"``, against torch.optim.

The oracle is ``torch.optim.SGD(momentum=beta1, nesterov=True)`` and ``torch.optim.AdamW``
(every parameter decays, biases too), fed the same gradients, or, in whole training runs,
PyTorch autograd's gradients of the same network: none of portable_nn's numerics is reused.
Agreement is float64 rounding (~1e-12) over many steps, on every CPU backend, compiled,
chunked and on Dask; checkpoints of both resume bit-identically.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_params_equal, assert_runs_close, host, on

import portable_nn as pnn
from portable_nn.backend import to_backend
from portable_nn.core.optimizers import make_optimizer, state_names

torch = pytest.importorskip("torch", reason="the torch.optim oracle needs torch installed")
F = torch.nn.functional

HYPER = {
    "nesterov": {"beta1": 0.85},
    "adamw": {"beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7, "weight_decay": 0.3},
}
NEW = list(HYPER)
TOL = dict(rtol=1e-12, atol=1e-13)
SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}


def torch_optimizer(name: str, tensors: list, lr: float):
    """The torch.optim oracle of ``name`` with :data:`HYPER`'s values."""
    h = HYPER[name]
    if name == "nesterov":
        return torch.optim.SGD(tensors, lr=lr, momentum=h["beta1"], nesterov=True)
    return torch.optim.AdamW(tensors, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["epsilon"],
                             weight_decay=h["weight_decay"])


def torch_run(name: str, params: dict, grads: list[dict], lr: float) -> dict:
    """``torch.optim`` over the gradient sequence ``grads``; the final parameters (NumPy)."""
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    opt = torch_optimizer(name, list(tp.values()), lr)
    for g in grads:
        for key, tensor in tp.items():
            tensor.grad = torch.tensor(g[f"d{key}"], dtype=torch.float64)
        opt.step()
    return {k: v.detach().numpy() for k, v in tp.items()}


class TestAgainstTorchOptim:
    """The update rules alone: the same 150 random gradients, every CPU backend, float64."""

    @pytest.mark.parametrize("name", NEW)
    def test_many_steps(self, cpu_cell, name):
        rng = np.random.default_rng(3)
        params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
        grads = [{f"d{k}": rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(150)]
        want = torch_run(name, params, grads, lr=0.05)
        be = cpu_cell.resolve("float64")
        to = lambda d: {k: to_backend(v, be) for k, v in d.items()}  # noqa: E731
        opt = make_optimizer(name, **HYPER[name])
        p = to(params)
        state = opt.init(p, xp=be.xp)
        for g in grads:
            p, state = opt.update(p, to(g), state, 0.05, xp=be.xp)
        for key, value in want.items():
            np.testing.assert_allclose(pnn.to_numpy(p[key]), value, **TOL, err_msg=key)

    @pytest.mark.parametrize("name", NEW)
    def test_compat_functions_agree(self, name):
        """``init_optimizer_state`` / ``optimizer_step`` (by name, keywords) are the same pair."""
        rng = np.random.default_rng(4)
        params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
        grads = [{f"d{k}": rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(20)]
        want = torch_run(name, params, grads, lr=0.05)
        state = pnn.core.init_optimizer_state(name, params)
        for g in grads:
            params, state = pnn.core.optimizer_step(name, params, g, state, 0.05, **HYPER[name])
        for key, value in want.items():
            np.testing.assert_allclose(params[key], value, **TOL, err_msg=key)

    def test_nesterov_is_not_damped_momentum(self):
        """torch's buffer is ``v = beta1 v + g``: the package's ``"momentum"`` differs."""
        rng = np.random.default_rng(5)
        params = {"W1": rng.normal(size=(2, 2))}
        grads = [{"dW1": rng.normal(size=(2, 2))} for _ in range(5)]
        want = torch_run("nesterov", params, grads, lr=0.1)["W1"]
        for other in ("momentum", "gd"):
            p, state = params, pnn.core.init_optimizer_state(other, params)
            for g in grads:
                p, state = pnn.core.optimizer_step(other, p, g, state, 0.1, beta1=0.85)
            assert not np.allclose(p["W1"], want, rtol=1e-6)

    def test_adamw_decays_biases_and_weights(self):
        """With zero gradients AdamW only shrinks: every parameter by ``1 - lr wd`` per step."""
        opt = make_optimizer("adamw", **HYPER["adamw"])
        params = {"W1": np.full((2, 2), 2.0), "b1": np.full((2, 1), 3.0)}
        state = opt.init(params, xp=np)
        new, state = opt.update(params, {"dW1": np.zeros((2, 2)), "db1": np.zeros((2, 1))},
                                state, 0.1, xp=np)
        np.testing.assert_allclose(new["W1"], 2.0 * (1 - 0.1 * 0.3), rtol=1e-15)
        np.testing.assert_allclose(new["b1"], 3.0 * (1 - 0.1 * 0.3), rtol=1e-15)
        assert state["t"] == 1

    def test_state_names_come_from_init(self):
        assert state_names("nesterov", ["W1", "b1"]) == (["vW1", "vb1"], [])
        assert state_names("adamw", ["W1", "b1"]) == (["sW1", "sb1", "vW1", "vb1"], ["t"])


# ------------------------------------------------------------------------ whole training runs

RUN = dict(recipe="lesson", hidden=(5,), hidden_activation="tanh", output="sigmoid",
           num_iterations=60, cost_every=20, init="xavier", seed=2)
RATES = {"nesterov": 0.3, "adamw": 0.02}


def train_options(name: str) -> dict:
    return {**RUN, "optimizer": name, "learning_rate": RATES[name], **HYPER[name]}


def torch_training(name: str, X: np.ndarray, Y: np.ndarray, start: dict, iterations: int,
                   l2: float = 0.0) -> dict:
    """The same network trained by torch autograd and ``torch.optim`` from ``start``."""
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in start.items()}
    opt = torch_optimizer(name, list(tp.values()), RATES[name])
    Xt, Yt = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    m = X.shape[1]
    for _ in range(iterations):
        opt.zero_grad()
        A = torch.tanh(tp["W1"] @ Xt + tp["b1"])
        ZL = tp["W2"] @ A + tp["b2"]
        loss = F.binary_cross_entropy_with_logits(ZL, Yt, reduction="sum") / m
        if l2:
            loss = loss + l2 / (2 * m) * (tp["W1"].pow(2).sum() + tp["W2"].pow(2).sum())
        loss.backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in tp.items()}


def starting_params(X, Y) -> dict:
    return pnn.init_params((X.shape[0], 5, Y.shape[0]), init="xavier", seed=2)


def assert_matches_torch(model, want: dict) -> None:
    for key, value in want.items():
        np.testing.assert_allclose(pnn.to_numpy(model.params[key]), value, rtol=1e-10,
                                   atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", NEW)
class TestTraining:
    def test_every_cpu_backend(self, cpu_cell, name, small_data):
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60)
        model = pnn.train(X, Y, **on(cpu_cell, dtype="float64"), **train_options(name))
        assert_matches_torch(model, want)

    def test_l2_beside_the_optimizer(self, name, small_data):
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60, l2=0.5)
        assert_matches_torch(pnn.train(X, Y, **train_options(name), l2=0.5), want)

    def test_compiled(self, name, small_data):
        pytest.importorskip("jax", reason="compile=True needs JAX here")
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60)
        model = pnn.train(X, Y, backend="jax", dtype="float64", compile=True,
                          **train_options(name))
        assert_matches_torch(model, want)

    def test_chunked(self, name, small_data):
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60)
        assert_matches_torch(pnn.train(X, Y, chunk_size=24, **train_options(name)), want)

    def test_chunked_compiled(self, name, small_data):
        pytest.importorskip("jax", reason="compile=True needs JAX here")
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60)
        model = pnn.train(X, Y, backend="jax", dtype="float64", compile=True, chunk_size=24,
                          **train_options(name))
        assert_matches_torch(model, want)

    @pytest.mark.filterwarnings("ignore:backend=.dask. on:RuntimeWarning")
    def test_dask(self, name, small_data):
        da = pytest.importorskip("dask.array", reason="the Dask backend needs dask installed")
        X, Y = small_data
        want = torch_training(name, X, Y, starting_params(X, Y), 60)
        model = pnn.train(da.from_array(X, chunks=(2, 20)), da.from_array(Y, chunks=(1, 20)),
                          backend="dask", **train_options(name))
        assert_matches_torch(model, want)

    def test_resume_is_bit_exact(self, name, small_data, tmp_path):
        X, Y = small_data
        whole = pnn.train(X, Y, **train_options(name))
        path = tmp_path / "run.npz"
        pnn.train(X, Y, **{**train_options(name), "num_iterations": 25}, checkpoint=path)
        saved = pnn.load(path)
        arrays, scalars = state_names(name, list(saved.params))
        assert sorted(saved.optimizer_state) == sorted(arrays + scalars)
        resumed = pnn.train(X, Y, **train_options(name), resume=path)
        assert_params_equal(host(resumed), host(whole))
        assert_runs_close(resumed, whole, dict(rtol=0, atol=0))

    def test_chunked_resume_is_bit_exact(self, name, small_data, tmp_path):
        X, Y = small_data
        options = {**train_options(name), "chunk_size": 24}
        whole = pnn.train(X, Y, **options)
        path = tmp_path / "run.npz"
        pnn.train(X, Y, **{**options, "num_iterations": 25}, checkpoint=path)
        resumed = pnn.train(X, Y, **options, resume=path)
        assert_params_equal(host(resumed), host(whole))


class TestWeightDecayOption:
    def test_checked_naming_the_option(self, small_data):
        with pytest.raises(ValueError, match="weight_decay"):
            pnn.train(*small_data, optimizer="adamw", weight_decay=-0.1, num_iterations=1)

    def test_recorded_in_config(self, small_data):
        model = pnn.train(*small_data, **{**train_options("adamw"), "num_iterations": 2})
        assert model.config["weight_decay"] == HYPER["adamw"]["weight_decay"]
        assert model.config["optimizer"] == "adamw"

    def test_command_line_flag(self, monkeypatch):
        from portable_nn.tools import cli

        seen = {}

        def fake_train(X, Y, **options):
            seen.update(options)
            raise KeyboardInterrupt

        monkeypatch.setattr(pnn, "train", fake_train)
        with pytest.raises(KeyboardInterrupt):
            cli.main(["train", "planar", "--optimizer", "adamw", "--weight-decay", "0.25"])
        assert seen["optimizer"] == "adamw"
        assert seen["weight_decay"] == 0.25

    def test_estimators_take_it(self):
        from portable_nn.sklearn import NeuralNetClassifier

        assert NeuralNetClassifier(weight_decay=0.2).get_params()["weight_decay"] == 0.2
