"""Time and peak memory of ``train``'s standardisation statistics, in two checkouts.

``python ci/standardize_stats_cost.py BEFORE AFTER [--m 1000000] [--rounds 2]`` runs, for each
checkout (``PYTHONPATH`` set to it, one BLAS thread), a fresh subprocess that builds a NumPy
float32 ``X`` of shape ``(100, m)`` (N(0, 1), 400 MB at ``m = 10**6``) and calls
``portable_nn.training._train._standardization(X, numpy)``, the function
``train(..., standardize=True)`` calls. It prints the best wall time over ``--rounds`` calls
and the peak of NumPy's allocations during one call beyond ``X`` itself (:mod:`tracemalloc`,
which NumPy reports its buffers to), plus whether the results are finite (``--scale 1e20``
multiplies the first feature by 1e20, whose square overflows float32).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import sys, time, tracemalloc
import numpy as np
from portable_nn.training._train import _standardization
m, rounds, scale = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
X = np.random.default_rng(0).standard_normal((100, m), dtype=np.float32)
X[0] *= np.float32(scale)
tracemalloc.start()
tracemalloc.reset_peak()
before = tracemalloc.get_traced_memory()[0]
mean, std = _standardization(X, np)
peak = tracemalloc.get_traced_memory()[1] - before
tracemalloc.stop()
best = float("inf")
for _ in range(rounds):
    start = time.perf_counter()
    _standardization(X, np)
    best = min(best, time.perf_counter() - start)
finite = bool(np.isfinite(mean).all() and np.isfinite(std).all())
print(f"{best:.3f} {peak / 2**20:.1f} {finite}")
"""


def measure(checkout: str, m: int, rounds: int, scale: float) -> tuple[float, float, str]:
    """``(best seconds, peak MiB beyond X, finite)`` of the statistics in ``checkout``."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", CHILD, str(m), str(rounds), str(scale)], env=env,
                         cwd=checkout,  # -c puts the working directory first on sys.path
                         capture_output=True, text=True, check=True)
    seconds, mib, finite = out.stdout.split()
    return float(seconds), float(mib), finite


def main() -> None:
    """Measure BEFORE and AFTER and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--m", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the first feature by this (1e20: its square overflows)")
    args = parser.parse_args()
    print(f"X: (100, {args.m}) float32, {100 * args.m * 4 / 2**20:.0f} MiB, first feature "
          f"x {args.scale:g}")
    for label, checkout in (("before", args.before), ("after", args.after)):
        seconds, mib, finite = measure(checkout, args.m, args.rounds, args.scale)
        print(f"{label:6s} {checkout}: {seconds:.3f} s, peak {mib:.1f} MiB beyond X, "
              f"finite {finite}")


if __name__ == "__main__":
    main()
