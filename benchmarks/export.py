"""``python -m benchmarks.export [--accuracy] [--sizes]``: ONNX Runtime against the NumPy backend.

Times ``predict_proba`` of one network (784-256-10, ReLU, softmax, standardised inputs,
float32 and float64) on the NumPy backend and the exported ONNX file under onnxruntime
(CPU, default session options), at 1, 1,000 and 100,000 samples, in one run, and prints the
ratio. Each figure is the median of interleaved rounds (``min_time`` seconds of calls per
round); both take the samples in their own layout (NumPy columns, ONNX rows), prepared
before timing. ``--accuracy`` also prints the worst differences of ONNX, PyTorch and
safetensors against the model on random networks of every activation, output and depth;
``--sizes`` the file sizes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import portable_nn as pnn

SAMPLES = (1, 1_000, 100_000)
DIMS = (784, 256, 10)


def network(dims, hidden_activation, output, dtype, seed=0, *, standardize=True):
    """A Model of N(0, 4/n) weights, N(0, 1) biases and (with ``standardize``) a random
    standardisation, on NumPy in ``dtype``: the networks the export is timed and checked on."""
    rng = np.random.default_rng(seed)
    be = pnn.resolve_backend("numpy", None, dtype)
    params = {}
    for layer in range(1, len(dims)):
        params[f"W{layer}"] = (rng.normal(size=(dims[layer], dims[layer - 1]))
                               * 2 / np.sqrt(dims[layer - 1])).astype(dtype)
        params[f"b{layer}"] = rng.normal(size=(dims[layer], 1)).astype(dtype)
    scaling = None
    if standardize:
        scaling = (rng.normal(size=(dims[0], 1)).astype(dtype),
                   rng.uniform(0.5, 2.0, size=(dims[0], 1)).astype(dtype))
    return pnn.Model(params, layer_dims=tuple(dims), hidden_activation=hidden_activation,
                     output=output, backend=be, standardization=scaling)


def per_call(call, min_time: float) -> float:
    """Seconds per call: as many calls as fit in ``min_time`` (at least one), averaged."""
    calls, start = 0, time.perf_counter()
    while True:
        call()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def predict_table(folder: Path, rounds: int, min_time: float) -> None:
    import onnxruntime as ort

    print(f"predict_proba of a {'-'.join(map(str, DIMS))} network (ReLU, softmax), seconds "
          f"per call, median of {rounds} rounds; onnxruntime {ort.__version__}, NumPy "
          f"{np.__version__}")
    print(f"{'dtype':<8} {'samples':>8} {'numpy':>11} {'onnxruntime':>12} {'numpy/ort':>10}")
    for dtype in ("float32", "float64"):
        model = network(DIMS, "relu", "softmax", dtype)
        path = model.export_onnx(folder / f"bench-{dtype}.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(1)
        for m in SAMPLES:
            columns = rng.normal(size=(DIMS[0], m)).astype(dtype)
            rows = np.ascontiguousarray(columns.T)
            calls = {"numpy": lambda c=columns, p=model: p.predict_proba(c),
                     "ort": lambda r=rows, s=session: s.run(None, {"X": r})}
            times: dict[str, list[float]] = {name: [] for name in calls}
            for call in calls.values():
                call()  # warm-up
            for _ in range(rounds):
                for name, call in calls.items():
                    times[name].append(per_call(call, min_time))
            numpy_s, ort_s = (statistics.median(times[name]) for name in ("numpy", "ort"))
            print(f"{dtype:<8} {m:>8,} {numpy_s:>11.3e} {ort_s:>12.3e} {numpy_s / ort_s:>10.2f}")


def accuracy(folder: Path) -> None:
    """Worst differences against predict_proba: per format, dtype, over every network."""
    import onnxruntime as ort
    import torch

    worst: dict[tuple[str, str], list[float]] = {}
    for dtype in ("float32", "float64"):
        for output in ("sigmoid", "softmax", "linear"):
            for act in ("tanh", "relu", "leaky_relu", "sigmoid"):
                for hidden in ((), (6,), (7, 5)):
                    model = network((4, *hidden, 3), act, output, dtype, seed=len(hidden))
                    X = (np.random.default_rng(1).normal(size=(4, 200)) * 3).astype(dtype)
                    expected = pnn.to_numpy(model.predict_proba(X)).T
                    session = ort.InferenceSession(str(model.export_onnx(folder / "a.onnx")))
                    with torch.no_grad():
                        found_torch = model.to_torch()(torch.from_numpy(X.T.copy())).numpy()
                    loaded = pnn.load(model.save(folder / "a.safetensors"))
                    found = {"onnx": session.run(None, {"X": X.T.copy()})[0],
                             "torch": found_torch,
                             "safetensors": pnn.to_numpy(loaded.predict_proba(X)).T}
                    column = np.abs(expected).max(axis=0, keepdims=True)
                    for name, values in found.items():
                        diff = np.abs(values - expected)
                        tiny = np.finfo(dtype).tiny
                        scaled = diff / np.maximum(np.maximum(np.abs(expected), column), tiny)
                        element = diff / np.maximum(np.abs(expected), tiny)
                        entry = worst.setdefault((name, dtype), [0.0, 0.0])
                        entry[0] = max(entry[0], float(scaled.max()))
                        entry[1] = max(entry[1], float(element.max()))
    print("worst relative difference from predict_proba over 60 networks per dtype "
          "(relative to the column's scale / element by element)")
    for (name, dtype), (scaled, element) in worst.items():
        print(f"{name:<12} {dtype:<8} {scaled:.2e} / {element:.2e}")


def sizes(folder: Path) -> None:
    for dims, act, output in ((DIMS, "relu", "softmax"), ((2, 4, 1), "tanh", "sigmoid")):
        for dtype in ("float32", "float64"):
            model = network(dims, act, output, dtype)
            params = sum(v.nbytes for v in model.params.values())
            onnx_size = model.export_onnx(folder / "s.onnx").stat().st_size
            st_size = model.save(folder / "s.safetensors").stat().st_size
            npz_size = model.save(folder / "s.npz").stat().st_size
            print(f"{'-'.join(map(str, dims)):<10} {dtype:<8} parameters {params:>9,} B  "
                  f"onnx {onnx_size:>9,} B ({onnx_size / params:.3f}x)  safetensors "
                  f"{st_size:>9,} B  npz {npz_size:>9,} B")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds of calls per round and competitor (default 0.2)")
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--sizes", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if args.sizes:
            sizes(Path(folder))
        if args.accuracy:
            accuracy(Path(folder))
        predict_table(Path(folder), args.rounds, args.min_time)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
