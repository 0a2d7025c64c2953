"""The lesson's other 2-D data sets: logistic regression versus a one-hidden-layer network.

For each data set (noisy circles, noisy moons, blobs, Gaussian quantiles; generated with
NumPy, no scikit-learn needed) draw 400 points, train on 200 of them logistic regression (no
hidden layer) and a network with 5 tanh hidden units, both by gradient descent at learning
rate 1.2 for 5000 iterations, and print their accuracies on those 200 training points and on
the 200 held-out ones.

    python examples/other_datasets.py [--backend jax] [--plot other.png]
"""

import argparse

import portable_nn as pnn

DATASETS = ("noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles")
SETTINGS = {"recipe": "lesson", "learning_rate": 1.2, "num_iterations": 5000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--plot", default=None, help="also save the decision boundaries (PNG)")
    args = parser.parse_args()

    print(f"{'data set':<20} {'logistic regression':>22} {'network, 5 hidden':>22}")
    print(f"{'':<20} {'train':>10} {'held out':>11} {'train':>10} {'held out':>11}")
    panels = []
    for name in DATASETS:
        X_all, Y_all = pnn.datasets.load(name, m=400)  # shuffled: split in halves
        X, Y, X_new, Y_new = X_all[:, :200], Y_all[:, :200], X_all[:, 200:], Y_all[:, 200:]
        row = [name]
        for hidden in (0, 5):
            model = pnn.train(X, Y, hidden=hidden, backend=args.backend, **SETTINGS)
            row += [model.accuracy(X, Y), model.accuracy(X_new, Y_new)]
            panels.append((name, hidden, model, X, Y))
        print(f"{row[0]:<20} {row[1]:>10.1%} {row[2]:>11.1%} {row[3]:>10.1%} {row[4]:>11.1%}")
    if args.plot:
        save_grid(panels, args.plot)
        print(f"saved {args.plot}")


def save_grid(panels: list, path: str) -> None:
    from matplotlib.figure import Figure

    from portable_nn import plot

    fig = Figure(figsize=(16, 8))
    axes = fig.subplots(2, 4)
    for k, (name, hidden, model, X, Y) in enumerate(panels):
        ax = axes[k % 2][k // 2]
        plot.decision_boundary(model, X, Y, ax=ax, resolution=100)
        kind = "logistic regression" if hidden == 0 else f"{hidden} hidden units"
        ax.set_title(f"{name}, {kind}: {model.accuracy(X, Y):.0%}")
    fig.tight_layout()
    fig.savefig(path, dpi=70)


if __name__ == "__main__":
    main()
