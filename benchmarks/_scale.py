"""``python -m benchmarks --scale``: scaling out (issue 10), as ratios measured in one run.

The report is a list of *row producers* (:data:`SCALE_ROWS`): functions ``rows(options)``
returning table rows (dicts with ``group``, ``competitor``, ``seconds_per_iteration``,
``peak_bytes`` and ratios). Add a function to the list to add rows (Dask, DDP, ...).

- :func:`chunked_rows`: ``train(chunk_size=...)`` against the unchunked run and the five-matmul
  floor on the large network (784-256-10, m = 60,000; m = 6,000 with ``--quick``), float32 and
  float64: time per iteration and peak memory (tracemalloc) as ratios to the unchunked run.
- :func:`jax_device_rows`: JAX ``compile=True`` on two virtual CPU devices against one, on a
  20-64-1 network (m = 1e6; 1e5 with ``--quick``), in a subprocess (``XLA_FLAGS`` must be set
  before JAX starts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks._cases import COST_EVERY, Case
from benchmarks._competitors import Competitor, Run, Unavailable, numpy_floor

FLOOR = "floor: 5 matmuls (numpy)"
UNCHUNKED = "portable_nn numpy (unchunked)"
CHUNK_SIZES = ("auto", 1024, 4096)


@dataclass
class ScaleOptions:
    """What every row producer gets: the run's settings and the shared measuring function.

    ``measure(case, competitors)`` times competitors in interleaved rounds and measures peak
    memory (``benchmarks.__main__.bench_case`` with the run's rounds, budget and deadline).
    """

    quick: bool
    log: Callable[[str], None]
    measure: Callable[[Case, list[Competitor]], list[dict]]
    extra: dict = field(default_factory=dict)


def chunked(chunk_size: object) -> Callable[[Case], Run]:
    """portable_nn's NumPy backend with ``chunk_size`` (None: unchunked), data on the host."""

    def setup(case: Case) -> Run:
        import portable_nn as pnn

        X, Y = case.data()
        init = case.init()

        def run(n: int) -> object:
            return pnn.train(X, Y, recipe="lesson",
                             hidden=case.n_h, output=case.output, learning_rate=case.lr,
                             num_iterations=n, init=init, dtype=case.dtype,
                             cost_every=COST_EVERY, chunk_size=chunk_size)

        return run

    return setup


def _auto_size(case: Case) -> int:
    from portable_nn.training._chunked import auto_chunk_size

    itemsize = 4 if case.dtype == "float32" else 8
    return auto_chunk_size((case.n_x, case.n_h, case.n_y), itemsize, case.m)


def chunked_rows(options: ScaleOptions) -> list[dict]:
    """Chunked against unchunked and the floor, large network, float32 and float64."""
    m = 6_000 if options.quick else 60_000
    rows = []
    for dtype in ("float32", "float64"):
        case = Case("large", 784, 256, 10, m, dtype, "softmax", 0.1, 1, 1, min_n=3)
        auto = _auto_size(case)
        entries = [Competitor(FLOOR, numpy_floor, "tracemalloc"),
                   Competitor(UNCHUNKED, chunked(None), "tracemalloc")]
        for size in CHUNK_SIZES:
            label = f"auto = {auto}" if size == "auto" else str(size)
            entries.append(Competitor(f"portable_nn numpy chunk_size={label}",
                                      chunked(size), "tracemalloc"))
        options.log(f"scale: chunked, {case.label} (auto picks {auto})")
        measured = options.measure(case, entries)
        base = next((r for r in measured if r["competitor"] == UNCHUNKED), {})
        for row in measured:
            row["group"] = f"chunk_size: {case.label}"
            _ratio(row, base, "seconds_per_iteration", "ratio_to_unchunked")
            _ratio(row, base, "peak_bytes", "memory_ratio_to_unchunked")
        rows += measured
    return rows


def _ratio(row: dict, base: dict, key: str, name: str) -> None:
    if row.get(key) and base.get(key):
        row[name] = row[key] / base[key]


JAX_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import jax, numpy as np
    import portable_nn as pnn
    m, n = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, m))
    Y = (X[:1] + 0.5 * X[1:2] > 0).astype(np.float64)
    out = {}
    for label, device in (("1 device", None), ("2 devices", jax.devices()[:2])):
        kw = dict(hidden=64, learning_rate=0.5, backend="jax", device=device, dtype="float64",
                  cost_every=1000, compile=True)
        pnn.train(X, Y, recipe="lesson",
                  num_iterations=n, **kw)  # compile the blocks of both lengths
        times = []
        for _ in range(3):
            t = time.perf_counter()
            pnn.train(X, Y, recipe="lesson", num_iterations=1, **kw)
            base = time.perf_counter() - t
            t = time.perf_counter()
            pnn.train(X, Y, recipe="lesson", num_iterations=1 + n, **kw)
            times.append((time.perf_counter() - t - base) / n)
        out[label] = sorted(times)[1]
    print(json.dumps(out))
""")


def jax_device_rows(options: ScaleOptions) -> list[dict]:
    """JAX compile=True on two virtual CPU devices against one (20-64-1, float64)."""
    m, n = (100_000, 5) if options.quick else (1_000_000, 5)
    group = f"jax devices: 20-64-1 m={m:,} float64, compile=True"
    options.log(f"scale: {group}")
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_ENABLE_X64="1", JAX_PLATFORMS="cpu")
    try:
        done = subprocess.run([sys.executable, "-c", JAX_SCRIPT, str(m), str(n)], env=env,
                              capture_output=True, text=True, timeout=1800, check=True)
        times = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError, Unavailable) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        return [{"group": group, "competitor": "jax", "skipped": str(detail)[-300:]}]
    one = times["1 device"]
    return [{"group": group, "competitor": f"portable_nn jax {label}",
             "seconds_per_iteration": t, "ratio_to_one_device": t / one,
             "memory_method": "none"} for label, t in times.items()]


#: The row producers ``--scale`` runs, in order (append to extend the report).
SCALE_ROWS: list[Callable[[ScaleOptions], list[dict]]] = [chunked_rows, jax_device_rows]


def _fmt(value: float | None, spec: str) -> str:
    return format(value, spec) if value is not None else "n/a".rjust(len(format(0.0, spec)))


RATIO_COLUMNS = (("ratio_to_unchunked", "x unchunked"), ("ratio_to_floor", "x floor"),
                 ("memory_ratio_to_unchunked", "mem x unch"),
                 ("ratio_to_one_device", "x 1 device"))


def scale_table(rows: list[dict]) -> str:
    """Rows grouped by ``group``: time per iteration, peak MB and every ratio the group has."""
    lines = []
    for group in dict.fromkeys(r["group"] for r in rows):
        members = [r for r in rows if r["group"] == group]
        ratios = [(k, h) for k, h in RATIO_COLUMNS if any(k in r for r in members)]
        lines.append(f"\n{group}")
        lines.append(f"  {'competitor':44s} {'time/iter':>11s} {'peak MB':>9s} "
                     + " ".join(f"{h:>11s}" for _, h in ratios))
        for r in members:
            if "seconds_per_iteration" not in r:
                lines.append(f"  {r['competitor']:44s} skipped: {r.get('skipped', '')[:70]}")
                continue
            mem = r.get("peak_bytes")
            lines.append(f"  {r['competitor']:44s} {r['seconds_per_iteration'] * 1e3:8.1f} ms "
                         f"{_fmt(mem / 1e6 if mem else None, '9.1f')} "
                         + " ".join(_fmt(r.get(k), "11.2f") for k, _ in ratios))
    return "\n".join(lines)


def scale_targets(rows: list[dict]) -> list[str]:
    """The issue's chunk_size targets, reported (never asserted) from the rows."""
    out = []
    for group in dict.fromkeys(r["group"] for r in rows if r["group"].startswith("chunk_size")):
        chunked_rows_ = [r for r in rows if r["group"] == group and "chunk_size=" in
                         r["competitor"] and "seconds_per_iteration" in r]
        for r in chunked_rows_:
            mem, t = r.get("memory_ratio_to_unchunked"), r.get("ratio_to_floor")
            mem_s = "n/a" if mem is None else f"{mem:.2f}x ({'met' if mem <= 0.25 else 'MISS'})"
            t_s = "n/a" if t is None else f"{t:.2f}x ({'met' if t <= 1.15 else 'MISS'})"
            out.append(f"{group}: {r['competitor']}: peak memory {mem_s} of unchunked "
                       f"(target <= 0.25x), time {t_s} of the floor (target <= 1.15x)")
    return out


def run_scale(options: ScaleOptions, producers: list | None = None) -> list[dict]:
    """Run every row producer and print the table and the targets; return the rows."""
    rows = []
    for produce in SCALE_ROWS if producers is None else producers:
        rows += produce(options)
    print(scale_table(rows))
    print("\ntargets (reported, not asserted; the machine may be loaded):")
    for line in scale_targets(rows):
        print(f"  {line}")
    return rows
