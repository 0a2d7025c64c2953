"""Print the worst difference of ``nesterov`` and ``adamw`` against ``torch.optim``.

For each optimizer: 150 steps of the update rule alone on the same random gradients as
``torch.optim.SGD(momentum=0.85, nesterov=True)`` / ``torch.optim.AdamW(betas=(0.8, 0.99),
eps=1e-7, weight_decay=0.3)``, on every CPU backend in float64; then 60 training iterations of a
2-5-1 tanh network on 80 planar samples against PyTorch autograd with the same torch.optim,
eagerly on every CPU backend, compiled (JAX), chunked, chunked and compiled, and on Dask. The
figure is the largest ``|ours - torch| / max|torch|`` over the parameters. The same checks,
with their tolerances, are ``tests/test_new_optimizers.py``.

Run from the repository root: ``PYTHONPATH=. python ci/optimizer_oracle.py`` (needs torch, jax,
dask).
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import torch

import portable_nn as pnn
from portable_nn.backend import to_backend
from portable_nn.core.optimizers import make_optimizer

jax.config.update("jax_enable_x64", True)
F = torch.nn.functional
HYPER = {"nesterov": {"beta1": 0.85},
         "adamw": {"beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7, "weight_decay": 0.3}}
RATES = {"nesterov": 0.3, "adamw": 0.02}
SHAPES = {"W1": (4, 3), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}
RUN = dict(recipe="lesson", hidden=(5,), hidden_activation="tanh", output="sigmoid",
           num_iterations=60, cost_every=20, init="xavier", seed=2)


def torch_optimizer(name: str, tensors: list, lr: float):
    """The torch.optim oracle of ``name`` with :data:`HYPER`'s values."""
    h = HYPER[name]
    if name == "nesterov":
        return torch.optim.SGD(tensors, lr=lr, momentum=h["beta1"], nesterov=True)
    return torch.optim.AdamW(tensors, lr=lr, betas=(h["beta1"], h["beta2"]), eps=h["epsilon"],
                             weight_decay=h["weight_decay"])


def torch_steps(name: str, params: dict, grads: list, lr: float) -> dict:
    """``torch.optim`` over the gradients ``grads``: the final parameters (NumPy)."""
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    opt = torch_optimizer(name, list(tp.values()), lr)
    for g in grads:
        for key, tensor in tp.items():
            tensor.grad = torch.tensor(g[f"d{key}"])
        opt.step()
    return {k: v.detach().numpy() for k, v in tp.items()}


def torch_training(name: str, X: np.ndarray, Y: np.ndarray) -> dict:
    """The 2-5-1 network trained by PyTorch autograd and ``torch.optim``."""
    start = pnn.init_params((X.shape[0], 5, Y.shape[0]), init="xavier", seed=2)
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt = torch_optimizer(name, list(tp.values()), RATES[name])
    Xt, Yt = torch.tensor(X, dtype=torch.float64), torch.tensor(Y, dtype=torch.float64)
    for _ in range(RUN["num_iterations"]):
        opt.zero_grad()
        ZL = tp["W2"] @ torch.tanh(tp["W1"] @ Xt + tp["b1"]) + tp["b2"]
        (F.binary_cross_entropy_with_logits(ZL, Yt, reduction="sum") / X.shape[1]).backward()
        opt.step()
    return {k: v.detach().numpy() for k, v in tp.items()}


def worst(params: dict, want: dict) -> float:
    """The largest ``|params - want| / max|want|`` over the parameters."""
    return max(float(np.max(np.abs(pnn.to_numpy(params[k]) - v)) / np.max(np.abs(v)))
               for k, v in want.items())


def main() -> None:
    """Print both optimizers' figures, one line per backend or execution mode."""
    X, Y = pnn.datasets.planar()
    X, Y = X[:, ::5].copy(), Y[:, ::5].copy()
    rng = np.random.default_rng(3)
    params = {k: rng.normal(size=s) for k, s in SHAPES.items()}
    grads = [{f"d{k}": rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(150)]
    for name, hyper in HYPER.items():
        want_steps, want_run = torch_steps(name, params, grads, 0.05), torch_training(name, X, Y)
        options = {**RUN, "optimizer": name, "learning_rate": RATES[name], **hyper}
        for backend in ("numpy", "array_api_strict", "torch", "jax"):
            be = pnn.resolve_backend(backend, None, "float64")
            opt = make_optimizer(name, **hyper)
            p = {k: to_backend(v, be) for k, v in params.items()}
            state = opt.init(p, xp=be.xp)
            for g in grads:
                p, state = opt.update(p, {k: to_backend(v, be) for k, v in g.items()}, state,
                                      0.05, xp=be.xp)
            model = pnn.train(X, Y, backend=backend, dtype="float64", **options)
            print(f"{name:9s} {backend:22s} 150 steps {worst(p, want_steps):.1e}   "
                  f"60 iterations {worst(model.params, want_run):.1e}")
        runs = {"jax compile=True": dict(backend="jax", dtype="float64", compile=True),
                "numpy chunk_size=24": dict(chunk_size=24),
                "jax compiled chunks": dict(backend="jax", dtype="float64", compile=True,
                                            chunk_size=24)}
        for label, kw in runs.items():
            model = pnn.train(X, Y, **kw, **options)
            print(f"{name:9s} {label:22s} {'':19s}60 iterations "
                  f"{worst(model.params, want_run):.1e}")
        import dask.array as da

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # below Dask's crossover
            model = pnn.train(da.from_array(X, chunks=(2, 20)), da.from_array(Y, chunks=(1, 20)),
                              backend="dask", **options)
        print(f"{name:9s} {'dask':22s} {'':19s}60 iterations {worst(model.params, want_run):.1e}")


if __name__ == "__main__":
    main()
