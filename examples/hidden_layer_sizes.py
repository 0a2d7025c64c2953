"""The lesson's hidden-layer-size sweep on the planar "flower" data set.

One hidden tanh layer of 1, 2, 3, 4, 5, 20 and 50 units, 5000 iterations of gradient descent
at learning rate 1.2, accuracy on the training set (as in the lesson). Runs in seconds on a CPU:

    python examples/hidden_layer_sizes.py [--backend torch] [--plot sweep.png]
"""

import argparse
import time

import portable_nn as pnn

SIZES = (1, 2, 3, 4, 5, 20, 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--plot", default=None, help="also save the decision boundaries (PNG)")
    args = parser.parse_args()

    X, Y = pnn.datasets.planar()
    models = {}
    print(f"planar data, {X.shape[1]} samples; {args.iterations} iterations, learning rate 1.2, "
          f"backend {args.backend}")
    print(f"{'hidden units':>12}  {'accuracy':>8}  {'final cost':>10}  {'time':>6}")
    for n_h in SIZES:
        start = time.perf_counter()
        model = pnn.train(X, Y, recipe="lesson", hidden=n_h, learning_rate=1.2,
                          num_iterations=args.iterations, backend=args.backend)
        seconds = time.perf_counter() - start
        cost = list(model.costs.values())[-1]
        print(f"{n_h:>12}  {model.accuracy(X, Y):>8.2%}  {cost:>10.4f}  {seconds:>5.2f}s")
        models[n_h] = model
    if args.plot:
        save_grid(models, X, Y, args.plot)
        print(f"saved {args.plot}")


def save_grid(models: dict, X, Y, path: str) -> None:
    from matplotlib.figure import Figure

    from portable_nn import plot

    fig = Figure(figsize=(16, 8))
    axes = fig.subplots(2, 4).ravel()
    for ax, (n_h, model) in zip(axes, models.items(), strict=False):
        plot.decision_boundary(model, X, Y, ax=ax, resolution=100)
        ax.set_title(f"{n_h} hidden units: {model.accuracy(X, Y):.1%}")
    axes[-1].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=70)


if __name__ == "__main__":
    main()
