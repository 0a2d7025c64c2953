"""Everything that is timed: portable_nn on each backend and the hand-written competitors.

Each competitor's ``setup(case)`` puts the data where it computes (excluded from the timing)
and returns ``run(n)``: a complete training run of ``n`` full-batch iterations from the same
starting weights, recording the cost every ``COST_EVERY`` iterations, that returns only when
the device is done (GPU runs synchronise at the end).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks._cases import COST_EVERY, Case

Run = Callable[[int], object]


class Unavailable(Exception):
    """This competitor cannot run here (library missing, no GPU, unsupported dtype)."""


@dataclass(frozen=True)
class Competitor:
    """A named thing to time; ``memory`` says how its peak memory is measured."""

    name: str
    setup: Callable[[Case], Run]
    memory: str  # "tracemalloc" (NumPy allocations), "rss" (process peak RSS) or "cuda"
    gpu: bool = False


# ----------------------------------------------------------------------------- NumPy


def raw_numpy(case: Case) -> Run:
    """The reference: the lesson's loop written by hand in NumPy, naturally."""
    X, Y = case.data()
    m = X.shape[1]
    start = case.init()
    softmax = case.output == "softmax"

    def run(n: int) -> object:
        W1, b1, W2, b2 = start["W1"], start["b1"], start["W2"], start["b2"]
        lr = case.lr
        for i in range(n):
            Z1 = W1 @ X + b1
            A1 = np.tanh(Z1)
            Z2 = W2 @ A1 + b2
            if softmax:
                E = np.exp(Z2 - np.max(Z2, axis=0, keepdims=True))
                A2 = E / np.sum(E, axis=0, keepdims=True)
            else:
                A2 = 1 / (1 + np.exp(-Z2))
            if i % COST_EVERY == 0:
                if softmax:
                    cost = -np.sum(Y * np.log(A2)) / m
                else:
                    cost = -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m
                float(cost)
            dZ2 = A2 - Y
            dW2 = dZ2 @ A1.T / m
            db2 = np.sum(dZ2, axis=1, keepdims=True) / m
            dZ1 = (W2.T @ dZ2) * (1 - A1**2)
            dW1 = dZ1 @ X.T / m
            db1 = np.sum(dZ1, axis=1, keepdims=True) / m
            W1 = W1 - lr * dW1
            b1 = b1 - lr * db1
            W2 = W2 - lr * dW2
            b2 = b2 - lr * db2
        return W1

    return run


def _floor(xp: object, case: Case, sync: Callable[[], None]) -> Run:
    X, _ = case.data()
    rng = np.random.default_rng(1)

    def arr(*shape: int) -> object:
        return xp.asarray(rng.standard_normal(shape).astype(case.dtype))

    X = xp.asarray(X)
    W1, W2 = arr(case.n_h, case.n_x), arr(case.n_y, case.n_h)
    A1, dZ2, dZ1 = arr(case.n_h, case.m), arr(case.n_y, case.m), arr(case.n_h, case.m)

    def run(n: int) -> object:
        for _ in range(n):
            W1 @ X
            W2 @ A1
            dZ2 @ A1.T
            W2.T @ dZ2
            out = dZ1 @ X.T
        sync()
        return None if n == 0 else out

    return run


def numpy_floor(case: Case) -> Run:
    """The floor: only the five matrix products of one iteration, nothing else."""
    return _floor(np, case, lambda: None)


def sklearn_mlp(case: Case) -> Run:
    """scikit-learn's MLPClassifier, full-batch SGD without momentum or L2 (time per epoch)."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError as exc:
        raise Unavailable(f"scikit-learn: {exc}") from exc
    X, Y = case.data()
    Xs = np.ascontiguousarray(X.T)
    ys = Y[0] if case.n_y == 1 else np.argmax(Y, axis=0)

    def run(n: int) -> object:
        clf = MLPClassifier(hidden_layer_sizes=(case.n_h,), activation="tanh", solver="sgd",
                            batch_size=case.m, learning_rate_init=case.lr, momentum=0.0,
                            alpha=0.0, max_iter=max(n, 1), shuffle=False, tol=0.0,
                            n_iter_no_change=max(n, 1) + 1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return clf.fit(Xs, ys)

    return run


# ----------------------------------------------------------------------------- portable_nn


def portable(backend: str, device: object = None,
             compile: bool = False) -> Callable[[Case], Run]:
    """portable_nn through its public ``pnn.train``, data already on the backend's device."""

    def setup(case: Case) -> Run:
        import portable_nn as pnn

        try:
            be = pnn.resolve_backend(backend, device, case.dtype)
        except (ImportError, ValueError) as exc:
            raise Unavailable(str(exc).splitlines()[0]) from exc
        X, Y = case.data()
        X, Y = pnn.backend.to_backend(X, be), pnn.backend.to_backend(Y, be)
        init = case.init()

        def run(n: int) -> object:
            return pnn.train(X, Y, recipe="lesson",
                             hidden=case.n_h, output=case.output, learning_rate=case.lr,
                             num_iterations=n, init=init, backend=backend, device=device,
                             dtype=case.dtype, cost_every=COST_EVERY, compile=compile)

        return run

    return setup


# ----------------------------------------------------------------------------- PyTorch


def _torch(device: str) -> object:
    try:
        import torch
    except ImportError as exc:
        raise Unavailable(f"torch: {exc}") from exc
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise Unavailable("PyTorch sees no CUDA device")
    return torch


def _torch_data(torch: object, case: Case, device: str) -> tuple:
    X, Y = case.data()
    to = {k: torch.asarray(v, device=device) for k, v in case.init().items()}
    return torch.asarray(X, device=device), torch.asarray(Y, device=device), to


def _sync(torch: object, device: str) -> Callable[[], None]:
    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def torch_eager(device: str = "cpu") -> Callable[[Case], Run]:
    """PyTorch eager with the same hand-written gradients as the reference."""

    def setup(case: Case) -> Run:
        torch = _torch(device)
        X, Y, start = _torch_data(torch, case, device)
        m, softmax, sync = X.shape[1], case.output == "softmax", _sync(torch, device)

        def run(n: int) -> object:
            W1, b1, W2, b2 = start["W1"], start["b1"], start["W2"], start["b2"]
            lr = case.lr
            with torch.no_grad():
                for i in range(n):
                    A1 = torch.tanh(W1 @ X + b1)
                    Z2 = W2 @ A1 + b2
                    A2 = torch.softmax(Z2, dim=0) if softmax else torch.sigmoid(Z2)
                    if i % COST_EVERY == 0:
                        if softmax:
                            cost = -(Y * torch.log_softmax(Z2, dim=0)).sum() / m
                        else:
                            cost = torch.nn.functional.binary_cross_entropy_with_logits(Z2, Y)
                        float(cost)
                    dZ2 = A2 - Y
                    dW2 = dZ2 @ A1.T / m
                    db2 = dZ2.sum(dim=1, keepdim=True) / m
                    dZ1 = (W2.T @ dZ2) * (1 - A1 * A1)
                    dW1 = dZ1 @ X.T / m
                    db1 = dZ1.sum(dim=1, keepdim=True) / m
                    W1, b1 = W1 - lr * dW1, b1 - lr * db1
                    W2, b2 = W2 - lr * dW2, b2 - lr * db2
            sync()
            return W1

        return run

    return setup


def torch_autograd(device: str = "cpu") -> Callable[[Case], Run]:
    """PyTorch autograd and ``torch.optim.SGD`` on the same network and cost."""

    def setup(case: Case) -> Run:
        torch = _torch(device)
        X, Y, start = _torch_data(torch, case, device)
        m, softmax, sync = X.shape[1], case.output == "softmax", _sync(torch, device)
        functional = torch.nn.functional

        def run(n: int) -> object:
            params = [start[k].clone().requires_grad_(True) for k in ("W1", "b1", "W2", "b2")]
            W1, b1, W2, b2 = params
            opt = torch.optim.SGD(params, lr=case.lr)
            for i in range(n):
                Z2 = W2 @ torch.tanh(W1 @ X + b1) + b2
                if softmax:
                    loss = -(Y * torch.log_softmax(Z2, dim=0)).sum() / m
                else:
                    loss = functional.binary_cross_entropy_with_logits(Z2, Y)
                if i % COST_EVERY == 0:
                    float(loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            sync()
            return W1

        return run

    return setup


# ----------------------------------------------------------------------------- CuPy (GPU)


def _cupy() -> object:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device")
        float(cupy.arange(3).sum())
    except Exception as exc:
        raise Unavailable(f"CuPy with a usable CUDA device: {exc}") from exc
    return cupy


def cublas_floor(case: Case) -> Run:
    """The GPU floor: the five matrix products of one iteration in CuPy (cuBLAS)."""
    cupy = _cupy()
    return _floor(cupy, case, cupy.cuda.Device().synchronize)


def jax_on_gpu() -> bool:
    """Whether JAX's default device is a GPU (then the JAX rows are GPU rows)."""
    try:
        import jax

        return jax.devices()[0].platform == "gpu"
    except Exception:
        return False


def competitors(gpu: bool) -> list[Competitor]:
    """The CPU competitors, then the GPU ones when ``gpu``."""
    jax_gpu = gpu and jax_on_gpu()
    jax_memory = "none" if jax_gpu else "rss"
    cpu = [
        Competitor("raw numpy (reference)", raw_numpy, "tracemalloc"),
        Competitor("floor: 5 matmuls (numpy)", numpy_floor, "tracemalloc"),
        Competitor("portable_nn numpy", portable("numpy"), "tracemalloc"),
        Competitor("portable_nn array_api_strict", portable("array_api_strict"), "tracemalloc"),
        Competitor("portable_nn torch cpu", portable("torch", "cpu"), "rss"),
        # JAX runs on its default device: the GPU where JAX has one, else the CPU
        Competitor("portable_nn jax", portable("jax"), jax_memory, gpu=jax_gpu),
        Competitor("portable_nn jax compile=True", portable("jax", compile=True), jax_memory,
                   gpu=jax_gpu),
        Competitor("torch eager (hand-written grads)", torch_eager("cpu"), "rss"),
        Competitor("torch autograd + optim.SGD", torch_autograd("cpu"), "rss"),
        Competitor("sklearn MLPClassifier sgd", sklearn_mlp, "tracemalloc"),
    ]
    if not gpu:
        return cpu
    return [
        *cpu,
        Competitor("portable_nn cupy", portable("cupy", 0), "cupy", gpu=True),
        Competitor("portable_nn torch cuda", portable("torch", "cuda:0"), "cuda", gpu=True),
        Competitor("portable_nn torch cuda compile=True",
                   portable("torch", "cuda:0", compile=True), "cuda", gpu=True),
        Competitor("torch cuda eager (hand-written grads)", torch_eager("cuda:0"), "cuda",
                   gpu=True),
        Competitor("floor: 5 matmuls (cuBLAS via cupy)", cublas_floor, "cupy", gpu=True),
    ]
