"""Make the README's figures with the package: the planar decision boundary and cost curve.

    python examples/make_figures.py [OUTPUT_DIR]   # default: docs/
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window

import matplotlib.pyplot as plt

import portable_nn as pnn
from portable_nn import plot


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    X, Y = pnn.datasets.planar()
    model = pnn.train(X, Y, hidden=4, learning_rate=1.2, num_iterations=10_000)
    print(f"planar, 4 hidden units, 10000 iterations: accuracy {model.accuracy(X, Y):.2%}")

    fig, ax = plt.subplots(figsize=(5, 4))
    plot.decision_boundary(model, X, Y, ax=ax)
    fig.tight_layout()
    fig.savefig(out_dir / "planar_boundary.png", dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.2))
    plot.costs(model, ax=ax)
    fig.tight_layout()
    fig.savefig(out_dir / "planar_costs.png", dpi=80)
    plt.close(fig)
    for name in ("planar_boundary.png", "planar_costs.png"):
        path = out_dir / name
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs")
