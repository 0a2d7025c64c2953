"""Time ``train`` in two checkouts side by side: ``python ci/ab_train_speed.py BEFORE AFTER``.

For the planar (2-4-1, m=400) and digits (64-64-10, m=1,797) runs of ``benchmarks --quick``,
alternates fresh subprocesses of each checkout (``PYTHONPATH`` set to it, one BLAS thread) and
keeps, per checkout, the smallest CPU time per iteration over all rounds. Printing the ratio
AFTER / BEFORE, it measures what a change did to the training loop on a machine whose speed
drifts (a shared VM): alternating and taking minima cancels most of the drift that a pair of
consecutive ``benchmarks --quick`` runs picks up.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import time, sys
import portable_nn as pnn
case, n = sys.argv[1], int(sys.argv[2])
if case == "planar":
    X, Y = pnn.datasets.planar()
    options = dict(hidden=4)
else:
    X, Y = pnn.datasets.digits()
    options = dict(hidden=64, output="softmax", learning_rate=0.5)
pnn.train(X, Y, recipe="lesson", num_iterations=n // 10, **options)
best = float("inf")
for _ in range(3):
    start = time.process_time()
    pnn.train(X, Y, recipe="lesson", num_iterations=n, **options)
    best = min(best, time.process_time() - start)
print(best / n)
"""

CASES = {"planar": 3000, "digits": 100}


def per_iteration(checkout: str, case: str) -> float:
    """Smallest CPU seconds per iteration of one fresh subprocess of ``checkout``."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD, case, str(CASES[case])], env=env,
                         check=True, capture_output=True, text=True, cwd=checkout)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Print, per case, each checkout's best time per iteration and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    for case in CASES:
        best = {"before": float("inf"), "after": float("inf")}
        for _ in range(args.rounds):
            for name in ("before", "after"):
                best[name] = min(best[name], per_iteration(getattr(args, name), case))
        ratio = best["after"] / best["before"]
        print(f"{case}: before {best['before'] * 1e6:.1f} us/it, after "
              f"{best['after'] * 1e6:.1f} us/it, after/before {ratio:.3f} "
              f"({args.rounds} alternating rounds, CPU time, 1 BLAS thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
