"""Print the figures of the core's closing note, measured on the CPU backends installed here.

- planar accuracy per backend after the lesson's run (4 tanh units, lr 1.2, 10,000 iterations),
  in float64 and in the backend's default dtype;
- logistic-regression accuracy (``hidden=0``) on the same data;
- the largest gradient-check relative difference (central differences, float64, every hidden
  activation x output, one and three hidden layers);
- the largest cross-backend parameter difference after 1,000 iterations (float64 and float32).

Run from the repository root::

    python ci/report_figures.py            # every usable CPU backend
    python ci/report_figures.py --quick    # skip the 10,000-iteration runs

The computations are those of ``ci/core_reference.py``, which ``tests/test_core.py`` asserts
on, so the figures are those the tests check.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("JAX_ENABLE_X64", "True")  # float64 cells; before any JAX import

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # portable_nn and ci.core_reference from this checkout

import ci.core_reference as ref  # noqa: E402
import portable_nn as pnn  # noqa: E402

CPU_BACKENDS = {"numpy": None, "array_api_strict": None, "torch": "cpu", "jax": None}


def usable_backends() -> dict[str, object]:
    """The CPU backends usable here, name -> device."""
    report = pnn.available_backends()
    if report["array_api_strict"]["usable"]:
        import array_api_strict

        array_api_strict.set_array_api_strict_flags(api_version=ref.STRICT_API_VERSION)
    return {name: dev for name, dev in CPU_BACKENDS.items() if report[name]["usable"]}


def lesson_figures(backends: dict[str, object]) -> None:
    """Print the 10,000-iteration planar accuracies and the logistic-regression accuracy."""
    print("planar data, 4 tanh units, lr 1.2, 10,000 iterations: training accuracy")
    for name, device in backends.items():
        default = pnn.resolve_backend(name, device).dtype_name
        dtypes = ["float64"] if default == "float64" else ["float64", default]
        for dtype in dtypes:
            accuracy = ref.lesson_accuracy(name, device, dtype)
            print(f"  {name:17s} {dtype}: {accuracy:.4f}")
    print("no hidden layer (logistic regression), 10,000 iterations: training accuracy")
    for name, device in backends.items():
        accuracy = ref.lesson_accuracy(name, device, "float64", hidden=0)
        print(f"  {name:17s} float64: {accuracy:.4f}")


def gradient_figures(backends: dict[str, object]) -> None:
    """Print the largest gradient-check relative difference over every case."""
    worst, worst_case, cases = 0.0, "", 0
    for name, device in backends.items():
        for hidden_activation in ref.HIDDEN_ACTIVATIONS:
            for output in ref.OUTPUTS:
                n_y = 3 if output == "softmax" else 1
                for dims in ((3, 4, n_y), (3, 5, 4, 3, n_y)):
                    diffs = ref.gradient_check(name, dims, hidden_activation, output,
                                              device=device)
                    cases += 1
                    if max(diffs.values()) > worst:
                        worst = max(diffs.values())
                        worst_case = f"{name}, {hidden_activation}/{output}, layer_dims={dims}"
    print(f"largest gradient-check relative difference (per parameter, {cases} cases): "
          f"{worst:.3e} ({worst_case})")


def parity_figures(backends: dict[str, object]) -> None:
    """Print each backend's relative parameter difference from NumPy float64 after 1,000 its."""
    reference = {k: pnn.to_numpy(v) for k, v in ref.parity_params("numpy").items()}
    print(f"parameters after {ref.PARITY_ITERATIONS} planar iterations vs NumPy float64 "
          "(max over parameters of ||p - p_ref|| / ||p_ref||)")
    for dtype in ("float64", "float32"):
        worst = 0.0
        for name, device in backends.items():
            diff = ref.parity_difference(ref.parity_params(name, device, dtype), reference)
            worst = max(worst, diff)
            print(f"  {name:17s} {dtype}: {diff:.3e}")
        print(f"  largest {dtype}: {worst:.3e} (tolerance {ref.PARITY_TOLERANCE[dtype]:g})")


def main(argv: list[str] | None = None) -> int:
    """Print every figure; ``--quick`` skips the 10,000-iteration runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-iteration runs")
    args = parser.parse_args(argv)
    backends = usable_backends()
    print(f"portable_nn {pnn.__version__}; CPU backends here: {', '.join(backends)}")
    if not args.quick:
        lesson_figures(backends)
    gradient_figures(backends)
    parity_figures(backends)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
