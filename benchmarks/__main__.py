"""``python -m benchmarks [--quick] [--json PATH] [--gpu-only] [--scale] [--real]``: time and
table."""

from __future__ import annotations

import os

# JAX float64 cells need x64 mode, set before JAX is imported anywhere
os.environ.setdefault("JAX_ENABLE_X64", "1")
# JAX would otherwise take 75% of the GPU's memory up front, beside CuPy and PyTorch
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import argparse
import contextlib
import json
import math
import platform
import sys
import time
import traceback
from dataclasses import replace

from benchmarks._cases import COST_EVERY, Case, cases
from benchmarks._competitors import Competitor, Unavailable, competitors
from benchmarks._measure import choose_n, median, peak_memory, per_iteration
from benchmarks._targets import check_targets
from portable_nn.backend import Backend

REFERENCE = "raw numpy (reference)"
FLOOR = "floor: 5 matmuls (numpy)"
GPU_FLOOR = "floor: 5 matmuls (cuBLAS via cupy)"
OURS = "portable_nn numpy"


def machine() -> dict[str, object]:
    """CPU model, core count, GPU (if any) and library versions."""
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info: dict[str, object] = {"cpu": model, "cores": os.cpu_count(),
                               "python": platform.python_version(), "gpu": gpu_name()}
    for lib in ("numpy", "array_api_compat", "array_api_strict", "torch", "jax", "sklearn",
                "cupy"):
        try:
            info[lib] = __import__(lib).__version__
        except Exception:
            continue
    return info


def gpu_name() -> str | None:
    """The CUDA device's name when CuPy or PyTorch can use one, else None."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except Exception:
        pass
    return None


OUT_OF_TIME = "not run: the run's --deadline was reached"


def bench_case(case: Case, entries: list[Competitor], *, rounds: int, budget: float,
               log: callable, deadline: float = math.inf) -> list[dict[str, object]]:
    """Time every competitor on ``case`` (interleaved rounds), then measure peak memory.

    ``deadline`` (a ``time.perf_counter()`` value): past it, no competitor is set up, no
    further round starts and no memory is measured; what was skipped says so in its row.
    """
    runs, rows = {}, {}
    for c in entries:
        row = {"case": case.label, "size": case.name, "dtype": case.dtype,
               "competitor": c.name, "gpu": c.gpu, "memory_method": c.memory}
        rows[c.name] = row
        own = _gpu_lengths(case) if c.gpu else case
        if time.perf_counter() > deadline:
            row["skipped"] = OUT_OF_TIME
            continue
        try:
            t = time.perf_counter()
            run = c.setup(own)
            n = choose_n(run, own.n0, own.step_n, budget, cap=20_000, least=own.min_n)
            log(f"  {c.name}: warm-up {time.perf_counter() - t:.1f} s, N = {n}")
        except Unavailable as exc:
            row["skipped"] = str(exc)
            log(f"  skip {c.name}: {exc}")
            continue
        except Exception as exc:  # a broken competitor is reported, the others still run
            row["skipped"] = f"FAILED: {type(exc).__name__}: {exc}"
            log(f"  FAILED {c.name}: {traceback.format_exc()}")
            continue
        runs[c.name] = (run, n, own)
        row["iterations_timed"] = n
    samples: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for r in range(rounds if order else 0):  # none may be left: unavailable, failed or cut
        if r and time.perf_counter() > deadline:
            log(f"  --deadline reached: {r} of {rounds} rounds")
            break
        for name in order[r % len(order):] + order[: r % len(order)]:
            run, n, own = runs[name]
            samples[name].append(per_iteration(run, own.n0, n))
    for name, (run, _, own) in runs.items():
        rows[name]["seconds_per_iteration"] = median(samples[name])
        rows[name]["samples"] = samples[name]
        if time.perf_counter() > deadline:
            rows[name]["peak_bytes"] = None
            rows[name]["memory_skipped"] = OUT_OF_TIME
            continue
        log(f"  memory: {name}")
        rows[name]["peak_bytes"] = peak_memory(run, own.n0 + own.step_n,
                                               rows[name]["memory_method"])
    ref = rows.get(REFERENCE, {}).get("seconds_per_iteration")
    floor = rows.get(FLOOR, {}).get("seconds_per_iteration")
    gpu_floor = rows.get(GPU_FLOOR, {}).get("seconds_per_iteration")
    ref_mem = rows.get(REFERENCE, {}).get("peak_bytes")
    for row in rows.values():
        t = row.get("seconds_per_iteration")
        if t is not None and ref:
            row["ratio_to_reference"] = t / ref
        own_floor = gpu_floor if row["gpu"] else floor  # GPU rows: against the cuBLAS floor
        if t is not None and own_floor:
            row["ratio_to_floor"] = t / own_floor
        mem = row.get("peak_bytes")
        if mem and ref_mem and row["memory_method"] == "tracemalloc":
            row["memory_ratio_to_reference"] = mem / ref_mem
    return list(rows.values())


def _gpu_lengths(case: Case) -> Case:
    """GPU rows always time whole 100-iteration blocks after 101 untimed iterations.

    A run of ``n0 + N`` iterations then holds only 99-step blocks between recorded costs, so
    what a run pays once (CUDA-graph capture, XLA compilation of the block) is in both timings
    and cancels; on the large sizes the CPU rows keep ``n0 = 1`` (one iteration takes 0.1 s).
    """
    return replace(case, n0=max(case.n0, 101), step_n=max(case.step_n, COST_EVERY))


def _fmt_time(seconds: float) -> str:
    if seconds >= 1e-1:
        return f"{seconds * 1e3:8.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds * 1e6:8.1f} us"


def table(rows: list[dict[str, object]]) -> str:
    """A plain-text table: time per iteration, ratios to the reference and floor, memory."""
    lines = []
    for case in dict.fromkeys(r["case"] for r in rows):
        lines.append(f"\n{case}")
        lines.append(f"  {'competitor':40s} {'time/iter':>11s} {'x ref':>7s} {'x floor':>8s} "
                     f"{'peak MB':>9s} {'mem x ref':>9s}")
        for r in (r for r in rows if r["case"] == case):
            if "seconds_per_iteration" not in r:
                lines.append(f"  {r['competitor']:40s} skipped: {r.get('skipped', '')[:70]}")
                continue
            mem = r.get("peak_bytes")
            mem_s = f"{mem / 1e6:9.1f}" if mem else f"{'n/a':>9s}"
            mem_ratio = r.get("memory_ratio_to_reference")
            lines.append(
                f"  {r['competitor']:40s} {_fmt_time(r['seconds_per_iteration']):>11s} "
                f"{r.get('ratio_to_reference', float('nan')):7.2f} "
                f"{r.get('ratio_to_floor', float('nan')):8.2f} {mem_s} "
                + (f"{mem_ratio:9.2f}" if mem_ratio else f"{'':9s}")
                + ("" if r["memory_method"] == "tracemalloc" else f" ({r['memory_method']})"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table and the targets; write JSON with ``--json``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="under a minute: large size shrunk to m=6,000, 3 rounds")
    parser.add_argument("--json", metavar="PATH", help="write every measurement as JSON")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per case")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds each timed run aims at (default 0.5; 0.05 with --quick)")
    parser.add_argument("--gpu-only", action="store_true",
                        help="only the reference, portable_nn numpy and the GPU competitors "
                             "(JAX on the GPU: compile=True only), large float32 first")
    parser.add_argument("--deadline", type=float, default=None, metavar="SECONDS",
                        help="after this many seconds start nothing new (no competitor, round "
                             "or memory measurement); the report marks what was not run")
    parser.add_argument("--sweep", action="store_true",
                        help="two more sizes between digits and large (float32), to place "
                             "where a GPU starts to beat NumPy")
    parser.add_argument("--scale", action="store_true",
                        help="only the scaling-out report: chunk_size against unchunked and "
                             "the floor, JAX on two virtual devices against one (and the rows "
                             "benchmarks/_scale.py lists), then Dask threaded and on a "
                             "LocalCluster against NumPy, DDP, a hand-written Dask loop, one "
                             "worker against two, out of core (benchmarks/_scale_dask.py)")
    parser.add_argument("--blas-threads", type=int, default=None, metavar="N",
                        help="with --scale: limit BLAS to N threads (threadpoolctl) for the "
                             "chunk_size and JAX rows; on a loaded machine one thread gives "
                             "steadier ratios (the Dask rows set their own)")
    parser.add_argument("--real", action="store_true",
                        help="only the real-data report: every default path (train(dataset), "
                             "train(X, Y), the estimators, the command line) on scikit-learn's "
                             "digits, breast cancer, wine, iris and diabetes, three stratified "
                             "75/25 splits (one with --quick), mean held-out score and fit time "
                             "beside scikit-learn's pipelines (benchmarks/_real.py)")
    parser.add_argument("--data", action="append", metavar="NAME",
                        help="with --real: only this data set (digits, breast, wine, iris, "
                             "diabetes); repeat for more")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rounds = args.rounds or (3 if args.quick else 7)
    budget = args.budget or (0.05 if args.quick else 0.5)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    if args.scale:
        return _scale_report(args, rounds, budget, log, started)
    if args.real:
        return _real_report(args, log, started)

    info = machine()
    # the same malloc state for every competitor, whichever runs first: portable_nn's train
    # raises glibc's thresholds once per process, which every later competitor would inherit
    Backend.keep_freed_memory()
    entries = competitors(gpu=info["gpu"] is not None)
    if args.gpu_only:  # eager JAX on a GPU: about 2 ms per step at every size, 15 s warm-ups;
        # GPU rows are judged against the cuBLAS floor, so the NumPy floor is left out too
        entries = [c for c in entries if (c.gpu and c.name != "portable_nn jax")
                   or c.name in (REFERENCE, OURS)]
    log(f"machine: {info}")
    deadline = started + args.deadline if args.deadline is not None else math.inf
    rows, case_seconds = [], {}
    for case in cases(args.quick, sweep=args.sweep, gpu_first=args.gpu_only):
        log(f"case {case.label} ...")
        t = time.perf_counter()
        rows += bench_case(case, entries, rounds=rounds, budget=budget, log=log,
                           deadline=deadline)
        case_seconds[case.label] = round(time.perf_counter() - t, 1)
        log(f"  ({case_seconds[case.label]:.1f} s)")
        if args.json:  # what is done so far survives a run cut short
            _write(args.json, info, args, rounds, started, rows, None, case_seconds)
    targets = check_targets(rows)
    print(f"machine: {info['cpu']}, {info['cores']} cores, GPU: {info['gpu'] or 'none'}")
    print(f"time per iteration: median of {rounds} rounds; memory: peak above baseline "
          "(tracemalloc unless marked); 'x floor' of GPU rows: against the cuBLAS floor")
    print(table(rows))
    print("\ntargets:")
    for t in targets:
        print(f"  [{t['status']:>4s}] {t['target']}: {t['measured']}")
    elapsed = time.perf_counter() - started
    print(f"\n({elapsed:.0f} s)")
    cut = _cut_by_deadline(rows)
    if cut:
        print(f"--deadline reached: {len(cut)} timings or memory measurements not run "
              f"(first: {cut[0]})")
    if args.json:
        _write(args.json, info, args, rounds, started, rows, targets, case_seconds)
    return 0


def _scale_report(args: argparse.Namespace, rounds: int, budget: float, log: callable,
                  started: float) -> int:
    """``--scale``: the row producers of benchmarks/_scale.py, their table and targets, then
    the Dask rows of benchmarks/_scale_dask.py, their table and targets."""
    from benchmarks import _scale_dask
    from benchmarks._scale import ScaleOptions, run_scale

    Backend.keep_freed_memory()
    deadline = started + args.deadline if args.deadline is not None else math.inf
    limits = contextlib.nullcontext()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=args.blas_threads, user_api="blas")
    with limits:
        rows = run_scale(ScaleOptions(
            quick=args.quick, log=log,
            measure=lambda case, entries: bench_case(case, entries, rounds=min(rounds, 3),
                                                     budget=budget, log=log,
                                                     deadline=deadline)))
    dask_rows = _scale_dask.run(log, quick=args.quick)
    print("\nDask (ratios to the NumPy backend in one process, default BLAS threads):")
    print(_scale_dask.table(dask_rows))
    print("\ntargets (reported, not asserted; the machine may be loaded):")
    for line in _scale_dask.targets(dask_rows):
        print(f"  {line}")
    info = machine()
    print(f"\nmachine: {info['cpu']}, {info['cores']} cores; time per iteration: median of "
          f"{min(rounds, 3)} rounds (Dask rows: median gap between iterations of one run); "
          f"BLAS threads: {args.blas_threads or 'default'}; memory: tracemalloc peak above the "
          f"baseline ({time.perf_counter() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "scale": rows, "dask": dask_rows,
                       "dask_targets": _scale_dask.targets(dask_rows)}, f, indent=1,
                      default=str)
    return 0


def _real_report(args: argparse.Namespace, log: callable, started: float) -> int:
    """``--real``: the default paths on real data beside scikit-learn (benchmarks/_real.py)."""
    from benchmarks._real import SPLITS, TEST_FRACTION, real_table, run_real

    rows = run_real(quick=args.quick, names=args.data, log=log)
    info = machine()
    splits = 1 if args.quick else SPLITS
    print(f"machine: {info['cpu']}, {info['cores']} cores; portable_nn on NumPy; "
          f"scikit-learn {info.get('sklearn', '?')}")
    print(f"held-out score (accuracy; R^2 for regression), mean of {splits} stratified "
          f"{1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} split(s); fit time: mean seconds of "
          "the fit; 'x MLP': fit time over StandardScaler + MLPClassifier/MLPRegressor's")
    print(real_table(rows))
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "quick": args.quick, "real": rows}, f, indent=1,
                      default=str)
    return 0


def _cut_by_deadline(rows: list[dict]) -> list[str]:
    """``"case: competitor"`` for every timing or memory measurement the deadline left out."""
    return [f"{r['case']}: {r['competitor']}" for r in rows
            if OUT_OF_TIME in (r.get("skipped"), r.get("memory_skipped"))]


def _write(path: str, info: dict, args: argparse.Namespace, rounds: int, started: float,
           rows: list[dict], targets: list[dict] | None, case_seconds: dict) -> None:
    """The JSON report; ``partial`` while cases remain or when the deadline cut anything."""
    cut = bool(_cut_by_deadline(rows))
    with open(path, "w") as f:
        json.dump({"machine": info, "quick": args.quick, "rounds": rounds,
                   "budget": args.budget, "deadline": args.deadline,
                   "seconds": time.perf_counter() - started, "case_seconds": case_seconds,
                   "partial": targets is None or cut, "rows": rows,
                   "targets": targets or []}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
