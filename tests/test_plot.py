import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import portable_nn as pnn  # noqa: E402
from portable_nn import plot  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def small_model(planar_data):
    X, Y = planar_data
    return pnn.train(X, Y, num_iterations=300, recipe="lesson")


def _saved_png(ax, path):
    ax.figure.savefig(path)
    plt.close(ax.figure)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return data


class TestDecisionBoundary:
    def test_writes_png(self, small_model, planar_data, tmp_path):
        X, Y = planar_data
        ax = plot.decision_boundary(small_model, X, Y, resolution=50)
        assert len(ax.collections) >= 2  # filled contours + scatter
        assert len(_saved_png(ax, tmp_path / "boundary.png")) > 1000

    def test_draws_on_given_axes(self, small_model, planar_data):
        X, Y = planar_data
        fig, ax = plt.subplots()
        assert plot.decision_boundary(small_model, X, Y, ax=ax, resolution=20) is ax
        plt.close(fig)

    def test_background_is_the_model_prediction(self, small_model, planar_data):
        X, Y = planar_data
        ax = plot.decision_boundary(small_model, X, Y, resolution=30)
        scatter = ax.collections[-1]
        np.testing.assert_allclose(scatter.get_offsets(), X.T)
        np.testing.assert_array_equal(scatter.get_array(), Y[0])
        plt.close(ax.figure)

    def test_every_cpu_backend(self, cpu_cell, planar_data, tmp_path):
        X, Y = planar_data
        model = pnn.train(X, Y, num_iterations=20, backend=cpu_cell.backend,
                          device=cpu_cell.device, recipe="lesson")
        be = model.backend_info
        Xb = be.xp.asarray(X, dtype=be.dtype, device=be.device)
        ax = plot.decision_boundary(model, Xb, Y, resolution=20)
        _saved_png(ax, tmp_path / "b.png")

    def test_softmax_and_linear_models(self, tmp_path):
        X, labels = pnn.datasets.blobs(90, centers=3, n_classes=3)
        onehot = (np.arange(3)[:, None] == labels).astype(float)
        softmax = pnn.train(X, onehot, output="softmax", num_iterations=50, learning_rate=0.1,
                            recipe="lesson")
        _saved_png(plot.decision_boundary(softmax, X, onehot, resolution=20), tmp_path / "s.png")
        target = X[:1] * 0.1
        linear = pnn.train(X, target, output="linear", num_iterations=50, learning_rate=0.01,
                           recipe="lesson")
        _saved_png(plot.decision_boundary(linear, X, target, resolution=20), tmp_path / "l.png")

    def test_needs_two_features(self):
        X, Y = pnn.datasets.digits(one_hot=False)
        X, Y = X[:, :50], (Y[:, :50] > 4).astype(float)
        model = pnn.train(X, Y, num_iterations=1, recipe="lesson")
        with pytest.raises(ValueError, match="2 input features, got 64"):
            plot.decision_boundary(model, X, Y)

    def test_bad_shapes(self, small_model, planar_data):
        X, Y = planar_data
        with pytest.raises(ValueError, match="X must have shape"):
            plot.decision_boundary(small_model, X.T, Y)
        with pytest.raises(ValueError, match="Y must have shape"):
            plot.decision_boundary(small_model, X, Y[:, :10])

    def test_not_a_model(self, planar_data):
        with pytest.raises(TypeError, match=r"portable_nn\.Model"):
            plot.decision_boundary("model", *planar_data)


class TestTitles:
    """Titles say what the network is."""

    @pytest.mark.parametrize(
        ("options", "title"),
        [
            (dict(hidden=4), "1 hidden layer of 4 units, tanh"),
            (dict(hidden=1, hidden_activation="sigmoid"), "1 hidden layer of 1 unit, sigmoid"),
            (dict(hidden=(20, 7), hidden_activation="relu"), "2 hidden layers (20, 7), relu"),
            (dict(hidden=0), "no hidden layer (logistic regression)"),
        ],
    )
    def test_decision_boundary_title(self, planar_data, options, title):
        model = pnn.train(*planar_data, num_iterations=1, **options, recipe="lesson")
        assert plot.describe_network(model) == title
        ax = plot.decision_boundary(model, *planar_data, resolution=10)
        assert ax.get_title() == f"Decision boundary: {title}"
        plt.close(ax.figure)

    def test_softmax_without_hidden_layer(self):
        X, labels = pnn.datasets.blobs(30, centers=3, n_classes=3)
        model = pnn.train(X, pnn.datasets.one_hot(labels, 3), output="softmax", hidden=0,
                          num_iterations=1, recipe="lesson")
        assert plot.describe_network(model) == "no hidden layer (softmax regression)"


class TestCosts:
    def test_writes_png(self, small_model, tmp_path):
        ax = plot.costs(small_model)
        line = ax.lines[0]
        np.testing.assert_array_equal(line.get_xdata(), [0, 100, 200])
        np.testing.assert_allclose(line.get_ydata(), list(small_model.costs.values()))
        assert "1.2" in ax.get_title()
        _saved_png(ax, tmp_path / "costs.png")

    def test_draws_on_given_axes(self, small_model):
        fig, ax = plt.subplots()
        assert plot.costs(small_model, ax=ax) is ax
        plt.close(fig)

    def test_no_costs(self, planar_data):
        model = pnn.train(*planar_data, num_iterations=0, recipe="lesson")
        with pytest.raises(ValueError, match="no cost"):
            plot.costs(model)


class TestOptional:
    def test_import_portable_nn_does_not_load_matplotlib(self):
        import subprocess
        import sys

        code = "import sys, portable_nn; print('matplotlib' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        assert out.stdout.strip() == "False"
