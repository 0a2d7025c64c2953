"""A real data set: the 8x8 hand-written digits (1797 images, 10 classes) with a held-out test.

The data come from scikit-learn's bundled copy (``pip install -e '.[datasets]'``, no
download). 20% of the images, chosen at random from a fixed seed, are held out; the rest
train a softmax classifier with mini-batch Adam. Prints the test accuracy of softmax
regression (no hidden layer) and of a network with one hidden layer.

    python examples/digits.py [--backend torch] [--hidden 64] [--iterations 3000]
"""

import argparse
import time

import numpy as np

import portable_nn as pnn


def split(X, Y, test_fraction: float, seed: int):
    """Shuffle the samples (columns) from ``seed`` and hold out ``test_fraction`` of them."""
    order = np.random.default_rng(seed).permutation(X.shape[1])
    n_test = round(X.shape[1] * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return X[:, train], Y[:, train], X[:, test], Y[:, test]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=3000)
    args = parser.parse_args()

    X, Y = pnn.datasets.digits()  # X (64, 1797) in [0, 1], Y one-hot (10, 1797)
    X_train, Y_train, X_test, Y_test = split(X, Y, test_fraction=0.2, seed=0)
    print(f"digits: {X_train.shape[1]} training and {X_test.shape[1]} test images, "
          f"{X.shape[0]} pixels, {Y.shape[0]} classes; backend {args.backend}")
    for label, hidden in (("softmax regression", 0), (f"{args.hidden} tanh hidden units",
                                                        args.hidden)):
        start = time.perf_counter()
        model = pnn.train(X_train, Y_train, hidden=hidden, output="softmax", optimizer="adam",
                          learning_rate=0.01, batch_size=64, num_iterations=args.iterations,
                          init="xavier", backend=args.backend)
        seconds = time.perf_counter() - start
        print(f"{label:<24} train {model.accuracy(X_train, Y_train):7.2%}   "
              f"test {model.accuracy(X_test, Y_test):7.2%}   ({seconds:.2f}s)")


if __name__ == "__main__":
    main()
