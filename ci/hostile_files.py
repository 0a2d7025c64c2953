"""Run the hostile-file and crash families of issue 11 and print one line per case.

Run: ``python ci/hostile_files.py`` (from the repository root). Each line: family, case,
what happened (the exception raised, or the figure measured), the message (160 characters).
``--figures`` also measures: peak memory of ``load`` on a 2 MB file whose member inflates to
2 GiB, stale temporaries after twenty SIGKILLs during saves (and after the next save), and
the time to refuse a FIFO. ``--old DIR`` runs the SIGKILL, FIFO and bomb figures against
another checkout's ``portable_nn`` too (for a before/after comparison).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import hostile_cases as hc  # noqa: E402
import numpy as np  # noqa: E402

import portable_nn as pnn  # noqa: E402


def _line(family: str, case: str, outcome: str, message: str = "") -> None:
    message = " ".join(message.split())
    print(f"{family:8} | {case:42} | {outcome:24} | {message[:160]}", flush=True)


def _attempt(family: str, case: str, call) -> None:
    try:
        call()
    except Exception as exc:  # report whatever was raised
        _line(family, case, type(exc).__name__, str(exc))
    else:
        _line(family, case, "no error")


def file_family(folder: str) -> None:
    """Every hostile model file of tests/hostile_cases.py, loaded once."""
    for number, case in enumerate(hc.CASES):
        sub = os.path.join(folder, f"case{number}")
        os.mkdir(sub)
        if case.label == "FIFO":
            start = time.perf_counter()
            _attempt("file", case.label, lambda sub=sub: pnn.load(hc.fifo(sub)))
            _line("file", "FIFO refused after", f"{time.perf_counter() - start:.4f} s")
            continue
        _attempt("file", case.label, lambda case=case, sub=sub: pnn.load(case.build(sub)))


def _model() -> pnn.Model:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 12))
    return pnn.train(X, (X[:1] > 0) * 1.0, recipe="lesson", num_iterations=2)


def save_family(folder: str) -> None:
    """Unusable save and checkpoint paths, and the longest legal name."""
    model = _model()
    limit = os.pathconf(folder, "PC_NAME_MAX") if os.name == "posix" else 255
    longest = os.path.join(folder, "m" * (limit - 4) + ".npz")
    _attempt("save", f"save to a {limit}-byte name", lambda: model.save(longest))
    for label, path in (("save('')", ""), ("save with a NUL byte", "a\0b.npz"),
                        ("save to a folder", folder), ("save(None)", None),
                        ("save to a 300-byte name", os.path.join(folder, "m" * 300)),
                        ("save into a missing folder", os.path.join(folder, "no", "m.npz"))):
        _attempt("save", label, lambda path=path: model.save(path))
    X, Y = np.ones((2, 4)), np.ones((1, 4))
    for label, path in (("checkpoint=folder", folder), ("checkpoint=''", ""),
                        ("checkpoint with a NUL byte", "a\0b.npz"),
                        ("checkpoint in a missing folder", os.path.join(folder, "no", "r.npz")),
                        ("checkpoint 300-byte name", os.path.join(folder, "r" * 300))):
        _attempt("save", label,
                 lambda path=path: pnn.train(X, Y, recipe="lesson",
                                             num_iterations=500, checkpoint=path))


def _env(package_root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(package_root), "PYTHONWARNINGS": "ignore"}


def crash_family(folder: str, package_root: Path = ROOT, tag: str = "") -> None:
    """SIGINT during the interrupt's checkpoint, and twenty SIGKILLs during saves."""
    path = os.path.join(folder, f"run{tag}.npz")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(hc.SECOND_INTERRUPT), path],
                          capture_output=True, text=True, timeout=300, cwd=folder,
                          env=_env(package_root))
    _line("crash", f"second Ctrl-C during checkpoint{tag}", "subprocess rc=" + str(
        done.returncode), done.stdout or done.stderr[-300:])
    stale, after = sigkill_saves(folder, 20, package_root)
    _line("crash", f"20 SIGKILLs during saves{tag}", f"{stale} stale temporaries",
          f"after the next save: {after}")


SAVER = """
    import sys
    import numpy as np
    import portable_nn as pnn
    params = pnn.init_params((2, 1500, 1500, 1), seed=0)  # 18 MB per save
    model = pnn.Model(params, layer_dims=(2, 1500, 1500, 1), hidden_activation="tanh",
                      output="sigmoid", backend=pnn.resolve_backend("numpy"))
    print("ready", flush=True)
    while True:
        model.save(sys.argv[1])
"""


def sigkill_saves(folder: str, kills: int, package_root: Path = ROOT) -> tuple[int, int]:
    """Kill a process saving in a loop ``kills`` times; count the temporaries left.

    Then save once more (a fresh process) and count again.
    """
    target = os.path.join(folder, f"killed-{package_root.name}", "model.npz")
    os.makedirs(os.path.dirname(target))
    rng = random.Random(0)
    for _ in range(kills):
        child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SAVER), target],
                                 stdout=subprocess.PIPE, text=True, cwd=folder,
                                 env=_env(package_root))
        child.stdout.readline()
        time.sleep(rng.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()

    def stale() -> int:
        return len([n for n in os.listdir(os.path.dirname(target)) if n != "model.npz"])
    before = stale()
    subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import sys, portable_nn as pnn
        m = pnn.Model(pnn.init_params((2, 3, 1)), layer_dims=(2, 3, 1), hidden_activation="tanh",
                      output="sigmoid", backend=pnn.resolve_backend("numpy"))
        m.save(sys.argv[1])
    """), target], check=True, cwd=folder, env=_env(package_root), timeout=300)
    return before, stale()


BOMB_LOAD = """
    import resource, sys, time
    import portable_nn as pnn

    def peak_kib():  # VmHWM: this process's peak (ru_maxrss would include the pre-exec parent)
        try:
            with open("/proc/self/status") as status:
                return next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    before = peak_kib()
    start = time.perf_counter()
    try:
        pnn.load(sys.argv[1])
        outcome = "loaded"
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    took = time.perf_counter() - start
    print(f"peak {(peak_kib() - before) / 1024:.1f} MiB above the {before / 1024:.0f} MiB after "
          f"import, {took:.2f} s | {outcome}")
"""


def figures(folder: str, old: Path | None) -> None:
    """Peak memory of load on a 2 GiB-inflating file; FIFO refusal time (and the old code's)."""
    bomb = hc.deflate_bomb(folder, "bomb2g", 2 << 30, honest_header=True)
    size = os.path.getsize(bomb) / 2**20
    for root, tag in ((ROOT, ""), *(((old, " (old code)"),) if old else ())):
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(BOMB_LOAD), bomb],
                              capture_output=True, text=True, timeout=600, env=_env(root),
                              cwd=folder)
        _line("figure", f"load peak memory, 2 GiB bomb{tag}", f"file {size:.1f} MiB",
              done.stdout or done.stderr[-300:])
    big = os.path.join(folder, "big.npz")
    dims = (2, 2000, 2000, 1)
    pnn.Model(pnn.init_params(dims), layer_dims=dims, hidden_activation="tanh",
              output="sigmoid", backend=pnn.resolve_backend("numpy")).save(big)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(BOMB_LOAD), big],
                          capture_output=True, text=True, timeout=600, env=_env(ROOT), cwd=folder)
    _line("figure", "load peak memory, real 32 MB model",
          f"file {os.path.getsize(big) / 2**20:.1f} MiB", done.stdout or done.stderr[-300:])
    if old:
        pipe = os.path.join(folder, "old-pipe.npz")
        os.mkfifo(pipe)
        try:
            subprocess.run([sys.executable, "-c", f"import portable_nn as p; p.load({pipe!r})"],
                           timeout=10, env=_env(old), capture_output=True, cwd=folder)
            _line("figure", "FIFO (old code)", "returned")
        except subprocess.TimeoutExpired:
            _line("figure", "FIFO (old code)", "blocked > 10 s (killed)")
        crash_family(folder, old, " (old code)")


def main(argv: list[str] | None = None) -> int:
    """Print one line per case of the file, save and crash families (and the figures)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--figures", action="store_true", help="also measure the figures")
    parser.add_argument("--old", type=Path, help="a checkout of the code before the fixes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for sub in ("files", "saves"):
            os.mkdir(os.path.join(folder, sub))
        file_family(os.path.join(folder, "files"))
        save_family(os.path.join(folder, "saves"))
        crash_family(folder)
        if args.figures:
            figures(folder, args.old)
    return 0


if __name__ == "__main__":
    sys.exit(main())
