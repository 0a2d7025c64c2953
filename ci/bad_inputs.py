"""Try every bad input of the robustness issue on every CPU backend and print what it raised.

Run: ``.venv/bin/python ci/bad_inputs.py`` (``--backend numpy`` to pick one backend).
Each line: backend, case, exception type, message (first 160 characters). The hostile model
files and crashes of issue 11 are in the sibling ``ci/hostile_files.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

os.environ.setdefault("JAX_ENABLE_X64", "True")

import numpy as np

import portable_nn as pnn

CPU_BACKENDS = ("numpy", "array_api_strict", "torch", "jax")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 6))
    Y = (X[:1] > 0).astype(np.float64)
    return X, Y


def _native(backend: str, array: np.ndarray):
    """The array as the backend's own array (so checks run on every library's arrays)."""
    return pnn.resolve_backend(backend).xp.asarray(array)


def train_cases(backend: str) -> list[tuple[str, dict]]:
    """Bad arguments to ``train`` on ``backend``: (label, keyword arguments)."""
    X, Y = _data()
    nan_X = X.copy()
    nan_X[0, 0] = np.nan
    inf_Y = Y.copy()
    inf_Y[0, 1] = np.inf
    onehot = np.vstack([Y, 1 - Y])
    bad_onehot = onehot.copy()
    bad_onehot[:, 0] = 1.0
    kw = {"num_iterations": 2, "backend": backend}
    params = pnn.init_params((2, 4, 1), seed=0)
    return [
        ("X 1-D", dict(X=X[0], Y=Y, **kw)),
        ("Y 1-D", dict(X=X, Y=Y[0], **kw)),
        ("X 3-D", dict(X=X[None], Y=Y, **kw)),
        ("Y 3-D", dict(X=X, Y=Y[None], **kw)),
        ("X, Y sample counts differ", dict(X=X, Y=Y[:, :5], **kw)),
        ("zero samples", dict(X=X[:, :0], Y=Y[:, :0], **kw)),
        ("zero features", dict(X=X[:0], Y=Y, **kw)),
        ("X holds NaN", dict(X=nan_X, Y=Y, **kw)),
        ("Y holds inf", dict(X=X, Y=inf_Y, **kw)),
        ("X of strings", dict(X=X.astype(str), Y=Y, **kw)),
        ("X of objects", dict(X=X.astype(object), Y=Y, **kw)),
        ("X complex (numpy array)", dict(X=X.astype(complex), Y=Y, **kw)),
        ("X complex (backend array)", dict(X=_native(backend, X.astype(np.complex128)), Y=Y, **kw)),
        ("Y not 0/1 for sigmoid", dict(X=X, Y=Y * 2, **kw)),
        ("Y not one-hot for softmax", dict(X=X, Y=bad_onehot, output="softmax", **kw)),
        ("Y rows != output layer (init mapping)", dict(X=X, Y=onehot, output="softmax",
                                                       init=params, **kw)),
        ("hidden=-1", dict(X=X, Y=Y, hidden=-1, **kw)),
        ("hidden=4.5", dict(X=X, Y=Y, hidden=4.5, **kw)),
        ("hidden='4'", dict(X=X, Y=Y, hidden="4", **kw)),
        ("hidden=(4, 0)", dict(X=X, Y=Y, hidden=(4, 0), **kw)),
        ("hidden=(4, 2.0)", dict(X=X, Y=Y, hidden=(4, 2.0), **kw)),
        ("learning_rate=0", dict(X=X, Y=Y, learning_rate=0, **kw)),
        ("learning_rate=-0.1", dict(X=X, Y=Y, learning_rate=-0.1, **kw)),
        ("learning_rate=nan", dict(X=X, Y=Y, learning_rate=float("nan"), **kw)),
        ("learning_rate='0.1'", dict(X=X, Y=Y, learning_rate="0.1", **kw)),
        ("num_iterations=-1", dict(X=X, Y=Y, **{**kw, "num_iterations": -1})),
        ("num_iterations=10.0", dict(X=X, Y=Y, **{**kw, "num_iterations": 10.0})),
        ("cost_every=0", dict(X=X, Y=Y, cost_every=0, **kw)),
        ("hidden_activation='swish'", dict(X=X, Y=Y, hidden_activation="swish", **kw)),
        ("output='tanh'", dict(X=X, Y=Y, output="tanh", **kw)),
        ("init='gaussian'", dict(X=X, Y=Y, init="gaussian", **kw)),
        ("init mapping missing b2", dict(X=X, Y=Y, init={k: v for k, v in params.items()
                                                         if k != "b2"}, **kw)),
        ("init mapping extra W3", dict(X=X, Y=Y, init={**params, "W3": np.ones((1, 1))}, **kw)),
        ("init mapping W1 wrong shape", dict(X=X, Y=Y, init={**params, "W1": np.ones((4, 3))},
                                             **kw)),
        ("checkpoint_every=0", dict(X=X, Y=Y, checkpoint="x.npz", checkpoint_every=0, **kw)),
        ("checkpoint_every=2.5", dict(X=X, Y=Y, checkpoint="x.npz", checkpoint_every=2.5,
                                      **kw)),
        ("checkpoint_every without checkpoint", dict(X=X, Y=Y, checkpoint_every=5, **kw)),
        ("checkpoint in missing folder", dict(X=X, Y=Y, checkpoint="no/such/dir/x.npz", **kw)),
        ("resume missing file", dict(X=X, Y=Y, resume="no_such_run.npz", **kw)),
        ("X holds NaN (backend array)", dict(X=_native(backend, np.where(X > 1, np.nan, X)),
                                            Y=Y, **kw)),
        ("Y wrong rows vs init output layer", dict(X=X, Y=np.vstack([Y, Y]), output="linear",
                                                     init=params, **kw)),
        *odd_data_cases(X, Y, kw),
    ]


def odd_data_cases(X: np.ndarray, Y: np.ndarray, kw: dict) -> list[tuple[str, dict]]:
    """Sparse, low-precision, meta and autograd inputs, and sizes no backend can allocate."""
    import scipy.sparse
    import torch

    return [
        ("X scipy sparse", dict(X=scipy.sparse.csr_matrix(X), Y=Y, **kw)),
        ("X torch sparse", dict(X=torch.tensor(X).to_sparse(), Y=Y, **kw)),
        ("X torch bfloat16", dict(X=torch.tensor(X).bfloat16(), Y=Y, **kw)),
        ("Y numpy float16", dict(X=X, Y=Y.astype(np.float16), **kw)),
        ("X torch meta tensor", dict(X=torch.empty(X.shape, device="meta"), Y=Y, **kw)),
        ("hidden=2**63", dict(X=X, Y=Y, hidden=2**63, **kw)),
    ]


def backend_cases() -> list[tuple[str, dict]]:
    """Bad backend, device and dtype choices: (label, keyword arguments)."""
    X, Y = _data()
    kw = {"X": X, "Y": Y, "num_iterations": 2}
    return [
        ("backend='tensorflow' (unknown)", dict(backend="tensorflow", **kw)),
        ("backend='dask' (not installed here)", dict(backend="dask", **kw)),
        ("backend='cupy' (no CUDA here)", dict(backend="cupy", **kw)),
        ("torch device='cuda:0' (no CUDA)", dict(backend="torch", device="cuda:0", **kw)),
        ("torch device='tpu'", dict(backend="torch", device="tpu", **kw)),
        ("numpy device='gpu'", dict(backend="numpy", device="gpu", **kw)),
        ("jax device='gpu'", dict(backend="jax", device="gpu", **kw)),
        ("array_api_strict device='nope'", dict(backend="array_api_strict", device="nope",
                                                  **kw)),
        ("dtype='float16'", dict(backend="numpy", dtype="float16", **kw)),
        ("backend=math (a module, not a namespace)", dict(backend=__import__("math"), **kw)),
        ("torch device='meta'", dict(backend="torch", device="meta", **kw)),
        ("torch device='mps' (no MPS here)", dict(backend="torch", device="mps", **kw)),
        ("dtype='int32'", dict(backend="numpy", dtype="int32", **kw)),
        ("array_api_strict no_float64 device, float64", dict(
            backend="array_api_strict", device=_strict_device("no_float64"), dtype="float64",
            **kw)),
    ]


def _strict_device(name: str):
    import array_api_strict

    return array_api_strict.Device(name)


def file_cases(folder: str) -> list[tuple[str, object]]:
    """Bad model files for pnn.load."""
    X, Y = _data()
    good = os.path.join(folder, "good.npz")
    pnn.train(X, Y, recipe="lesson", num_iterations=2).save(good)
    run = os.path.join(folder, "run.npz")
    pnn.train(X, Y, recipe="lesson", num_iterations=2, checkpoint=run)
    with open(good, "rb") as handle:
        data = handle.read()
    paths = {}
    for label, content in (("truncated", data[: len(data) // 2]), ("empty", b""),
                           ("text", b"hello")):
        paths[label] = os.path.join(folder, f"{label}.npz")
        with open(paths[label], "wb") as handle:
            handle.write(content)
    other = os.path.join(folder, "other.npz")
    np.savez(other, weights=np.ones(3))
    with np.load(good) as archive:
        entries = {k: archive[k] for k in archive.files}
    meta = json.loads(str(entries["__portable_nn__"][()]))
    newer = os.path.join(folder, "newer.npz")
    np.savez(newer, **{**entries, "__portable_nn__": np.asarray(json.dumps(
        {**meta, "format_version": 99}))})
    shape = os.path.join(folder, "shape.npz")
    np.savez(shape, **{**entries, "W1": np.ones((4, 3))})
    pickled = os.path.join(folder, "pickled.npz")
    np.savez(pickled, **{**entries, "payload": np.array([{"a": 1}], dtype=object)})
    return [
        ("load missing file", lambda: pnn.load(os.path.join(folder, "absent.npz"))),
        ("load truncated file", lambda: pnn.load(paths["truncated"])),
        ("load empty file", lambda: pnn.load(paths["empty"])),
        ("load text file", lambda: pnn.load(paths["text"])),
        ("load other .npz", lambda: pnn.load(other)),
        ("load newer format version", lambda: pnn.load(newer)),
        ("load W1 of wrong shape", lambda: pnn.load(shape)),
        ("load .npz with object array", lambda: pnn.load(pickled)),
        ("resume with other hidden", lambda: pnn.train(X, Y, recipe="lesson",
                                                       hidden=5, num_iterations=4,
                                                       resume=good)),
        ("resume with fewer samples", lambda: pnn.train(X[:, :4], Y[:, :4], recipe="lesson",
                                                        num_iterations=4,
                                                        resume=run)),
        ("resume with other optimizer", lambda: pnn.train(X, Y, recipe="lesson",
                                                          num_iterations=4, resume=run,
                                                          optimizer="adam")),
        ("resume past num_iterations", lambda: pnn.train(X, Y, recipe="lesson",
                                                         num_iterations=1, resume=run)),
    ]


def model_cases(backend: str) -> list[tuple[str, object]]:
    """Bad data given to a trained model: (label, call)."""
    X, Y = _data()
    model = pnn.train(X, Y, recipe="lesson", num_iterations=2, backend=backend)
    return [
        ("predict X with 3 features", lambda: model.predict(np.ones((3, 4)))),
        ("predict X 1-D", lambda: model.predict(np.ones(2))),
        ("accuracy X with 3 features", lambda: model.accuracy(np.ones((3, 6)), Y)),
        ("accuracy Y wrong samples", lambda: model.accuracy(X, Y[:, :3])),
        ("predict zero samples", lambda: model.predict(X[:, :0])),
        ("accuracy zero samples", lambda: model.accuracy(X[:, :0], Y[:, :0])),
        ("cost zero samples", lambda: model.cost(X[:, :0], Y[:, :0])),
    ]


def _run(label: str, backend: str, call) -> None:
    try:
        call()
    except Exception as exc:  # we report whatever was raised
        msg = " ".join(str(exc).split())
        print(f"{backend:17} | {label:40} | {type(exc).__name__:26} | {msg[:200]}")
    else:
        print(f"{backend:17} | {label:40} | NO ERROR")


def main(argv: list[str] | None = None) -> int:
    """Print one line per bad input: backend, case, exception type, message."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", action="append", choices=CPU_BACKENDS)
    args = parser.parse_args(argv)
    import array_api_strict

    array_api_strict.set_array_api_strict_flags(api_version="2024.12")
    for backend in args.backend or CPU_BACKENDS:
        for label, kwargs in train_cases(backend):
            _run(label, backend, lambda kwargs=kwargs: pnn.train(**kwargs))
        for label, call in model_cases(backend):
            _run(label, backend, call)
    for label, kwargs in backend_cases():
        _run(label, "-", lambda kwargs=kwargs: pnn.train(**kwargs))
    with tempfile.TemporaryDirectory() as folder:
        for label, call in file_cases(folder):
            _run(label, "-", call)
    return 0


if __name__ == "__main__":
    sys.exit(main())
