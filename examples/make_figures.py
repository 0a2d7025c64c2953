"""Make the documentation's figures with the package: the planar decision boundary and cost curve.

    python examples/make_figures.py [--backend torch] [--out results/figures]

The figures go to ``results/figures`` by default; ``--out docs`` refreshes the committed ones.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt

import portable_nn as pnn
from portable_nn import plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("results/figures"),
                        help="folder for the PNG files (default: results/figures; "
                             "'docs' refreshes the committed figures)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    X, Y = pnn.datasets.planar()
    model = pnn.train(X, Y, recipe="lesson", hidden=4, learning_rate=1.2,
                      num_iterations=args.iterations,
                      backend=args.backend)
    print(f"planar, {plot.describe_network(model)}, {args.iterations} iterations, backend "
          f"{model.backend}: accuracy {model.accuracy(X, Y):.2%}")

    fig, ax = plt.subplots(figsize=(5, 4))
    plot.decision_boundary(model, X, Y, ax=ax)
    fig.tight_layout()
    fig.savefig(args.out / "planar_boundary.png", dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    plot.costs(model, ax=ax)
    fig.tight_layout()
    fig.savefig(args.out / "planar_costs.png", dpi=80)
    plt.close(fig)
    for name in ("planar_boundary.png", "planar_costs.png"):
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
