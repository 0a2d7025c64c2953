"""The issue's performance targets, checked against one run's rows (reported, never asserted)."""

from __future__ import annotations

import itertools

REF = "raw numpy (reference)"
FLOOR = "floor: 5 matmuls (numpy)"
OURS = "portable_nn numpy"


def _time(rows: list[dict], case: str, name: str) -> float | None:
    for r in rows:
        if r["case"] == case and r["competitor"] == name:
            return r.get("seconds_per_iteration")
    return None


def _row(rows: list[dict], case: str, name: str) -> dict:
    return next((r for r in rows if r["case"] == case and r["competitor"] == name), {})


def _result(target: str, ok: bool | None, measured: str) -> dict:
    status = "n/a" if ok is None else ("met" if ok else "MISS")
    return {"target": target, "status": status, "measured": measured}


def check_targets(rows: list[dict]) -> list[dict]:
    """One entry per target: ``{"target", "status": "met"|"MISS"|"n/a", "measured"}``."""
    out = []
    cases = list(dict.fromkeys(r["case"] for r in rows))
    for case in cases:
        ours, ref, floor = (_time(rows, case, n) for n in (OURS, REF, FLOOR))
        if not (ours and ref):
            continue
        if case.startswith("planar"):
            out.append(_result(f"{case}: numpy <= 1.00x raw", ours / ref <= 1.00,
                               f"{ours / ref:.3f}x ({ours * 1e6:.1f} vs {ref * 1e6:.1f} us)"))
            jit = _time(rows, case, "portable_nn jax compile=True")
            on_gpu = _row(rows, case, "portable_nn jax compile=True").get("gpu", False)
            out.append(_result(f"{case}: jax compile=True >= 3x faster than raw (CPU target)",
                               None if jit is None or on_gpu else ref / jit >= 3.0,
                               "not run" if jit is None else
                               f"{ref / jit:.2f}x faster ({jit * 1e6:.1f} us)"
                               + (", JAX on the GPU: not the CPU target" if on_gpu else "")))
        if case.startswith("large"):
            out.append(_result(f"{case}: numpy <= 1.05x raw", ours / ref <= 1.05,
                               f"{ours / ref:.3f}x"))
            if floor:
                out.append(_result(f"{case}: numpy <= 1.25x floor", ours / floor <= 1.25,
                                   f"{ours / floor:.3f}x (raw: {ref / floor:.3f}x)"))
            mem = _row(rows, case, OURS).get("memory_ratio_to_reference")
            out.append(_result(f"{case}: peak memory <= 1.05x raw", None if mem is None
                               else mem <= 1.05, "n/a" if mem is None else f"{mem:.3f}x"))
        for rival in ("torch eager (hand-written grads)", "sklearn MLPClassifier sgd"):
            theirs = _time(rows, case, rival)
            if theirs:
                out.append(_result(f"{case}: numpy ahead of {rival}", ours < theirs,
                                   f"{ours / theirs:.2f}x of its time"))
        out += _gpu_targets(rows, case)
    return out + _gpu_crossover(rows, cases)


GPU_ROWS = ("portable_nn cupy", "portable_nn torch cuda",
            "portable_nn torch cuda compile=True", "portable_nn jax",
            "portable_nn jax compile=True")


def _work(case: str) -> tuple[int, str]:
    """Multiply-adds of one forward pass, from a label such as ``planar 2-4-1 m=400 float64``."""
    _, layers, m, dtype = case.split()
    n = [int(d) for d in layers.split("-")]
    return sum(a * b for a, b in itertools.pairwise(n)) * int(m[2:].replace(",", "")), dtype


def _gpu_crossover(rows: list[dict], cases: list[str]) -> list[dict]:
    """For each GPU row: the smallest size (least work, whatever the run's order) it wins."""
    cases = sorted(cases, key=_work)
    out = []
    for name in GPU_ROWS:
        if not any(r["competitor"] == name and r.get("gpu") and "seconds_per_iteration" in r
                   for r in rows):
            continue
        found = "none of the sizes run"
        for case in cases:
            theirs, numpy = _time(rows, case, name), _time(rows, case, OURS)
            if theirs and numpy and theirs < numpy:
                found = f"{case} ({theirs / numpy:.2f}x of numpy's time)"
                break
        out.append(_result(f"smallest size where {name} beats portable_nn numpy", None,
                           found))
    return out


def _gpu_targets(rows: list[dict], case: str) -> list[dict]:
    cupy = _time(rows, case, "portable_nn cupy")
    if cupy is None:
        return []
    out = []
    if case.startswith("large") and "float32" in case:
        eager = _time(rows, case, "torch cuda eager (hand-written grads)")
        floor = _time(rows, case, "floor: 5 matmuls (cuBLAS via cupy)")
        for name in ("portable_nn cupy", "portable_nn torch cuda",
                     "portable_nn torch cuda compile=True"):
            ours = _time(rows, case, name)
            if ours and eager:
                out.append(_result(f"{case}: {name} <= 1.10x torch cuda eager",
                                   ours / eager <= 1.10, f"{ours / eager:.3f}x"))
            if ours and floor:
                out.append(_result(f"{case}: {name} <= 1.3x cuBLAS floor",
                                   ours / floor <= 1.3, f"{ours / floor:.3f}x"))
    numpy = _time(rows, case, OURS)
    if numpy:
        out.append(_result(f"{case}: GPU (cupy) beats NumPy", None,
                           f"cupy {cupy / numpy:.3f}x of numpy's time"))
    return out
