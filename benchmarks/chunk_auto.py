"""``python -m benchmarks.chunk_auto [--quick] [--rounds N] [--threads 1,2]``: is auto fast?

``chunk_size="auto"`` against the unchunked run and the five-matmul floor on the large network
(784-256-10, softmax, float32, m = 60,000; m = 6,000 with ``--quick``), at each BLAS thread
count (threadpoolctl limits), in one run: seconds per iteration of each, the median of
interleaved rounds (each round ``(t(n0 + N) - t(n0)) / N``, see ``benchmarks/_measure.py``),
and the ratios ``auto / unchunked`` and ``x floor``. The target (issue 20): ``auto`` at most
1.05x the unchunked run at every thread count. Load from other processes makes absolute
times noisy; the ratios within one run are what counts.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from benchmarks._cases import COST_EVERY, Case
from benchmarks._competitors import numpy_floor
from benchmarks._measure import median, per_iteration
from benchmarks._scale import chunked

TARGET = 1.05
NAMES = ("floor: 5 matmuls (numpy)", "unchunked", 'chunk_size="auto"')


def large_case(quick: bool) -> Case:
    """The issue's size: 784-256-10, float32, m = 60,000 (6,000 with ``quick``)."""
    return Case("large", 784, 256, 10, 6_000 if quick else 60_000, "float32", "softmax", 0.1,
                1, 1, min_n=3)


def measure(case: Case, threads: int, rounds: int, n: int) -> dict[str, float]:
    """Median seconds per iteration of the floor, the unchunked run and auto at ``threads``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random data: the chance-level warning of every run
        runs = [numpy_floor(case), chunked(None)(case), chunked("auto")(case)]
        for run in runs:  # warm-up
            run(case.n0 + 1)
        samples: list[list[float]] = [[] for _ in runs]
        for _ in range(rounds):  # interleaved: load hits every competitor alike
            for run, times in zip(runs, samples, strict=True):
                times.append(per_iteration(run, case.n0, n))
    return {name: median(times) for name, times in zip(NAMES, samples, strict=True)}


def auto_width(case: Case, threads: int) -> int:
    """The width auto picks for the case at ``threads`` BLAS threads."""
    from portable_nn.training._chunked import auto_chunk_size

    return auto_chunk_size((case.n_x, case.n_h, case.n_y), 4, case.m, threads=threads)


def table(case: Case, results: dict[int, dict[str, float]]) -> list[str]:
    """The report's lines: per thread count, each competitor's time and ratios, the target."""
    lines = [f"{case.label}, seconds per iteration (median), cost every {COST_EVERY}",
             f"{'BLAS threads':>12} {'competitor':<28} {'s/iter':>9} {'x floor':>8} "
             f"{'x unchunked':>12}"]
    for threads, times in results.items():
        floor, unchunked = times[NAMES[0]], times[NAMES[1]]
        for name in NAMES:
            label = name if name != NAMES[2] else f"{name} (= {auto_width(case, threads)})"
            lines.append(f"{threads:>12} {label:<28} {times[name]:>9.4f} "
                         f"{times[name] / floor:>8.2f} {times[name] / unchunked:>12.3f}")
    for threads, times in results.items():
        ratio = times[NAMES[2]] / times[NAMES[1]]
        status = "met" if ratio <= TARGET else "MISS"
        lines.append(f"target: auto <= {TARGET:.2f}x unchunked at {threads} BLAS thread(s): "
                     f"{ratio:.3f}x ({status})")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chunk_auto", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="m = 6,000, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="timed iterations per round (3; 1 with --quick)")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts, comma-separated")
    args = parser.parse_args(argv)
    case = large_case(args.quick)
    rounds = args.rounds or (2 if args.quick else 5)
    n = args.iterations or (1 if args.quick else 3)
    started = time.perf_counter()
    results = {}
    for threads in (int(t) for t in args.threads.split(",")):
        print(f"BLAS threads {threads} ...", file=sys.stderr, flush=True)
        results[threads] = measure(case, threads, rounds, n)
    print("\n".join(table(case, results)))
    print(f"({time.perf_counter() - started:.0f} s; {rounds} rounds of {n} iterations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
