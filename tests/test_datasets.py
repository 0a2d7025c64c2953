import sys

import numpy as np
import pytest

import portable_nn as pnn

TOY = ["noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"]


class TestToyDataSets:
    @pytest.mark.parametrize("name", TOY)
    def test_shapes_and_labels(self, name):
        X, Y = pnn.datasets.load(name, m=60)
        assert X.shape == (2, 60)
        assert Y.shape == (1, 60)
        assert X.dtype == np.float64
        assert set(np.unique(Y).tolist()) == {0, 1}
        assert np.isfinite(X).all()

    @pytest.mark.parametrize("name", TOY)
    def test_seeded(self, name):
        X1, Y1 = pnn.datasets.load(name, seed=3)
        X2, Y2 = pnn.datasets.load(name, seed=3)
        X3, _ = pnn.datasets.load(name, seed=4)
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(Y1, Y2)
        assert not np.array_equal(X1, X3)

    @pytest.mark.parametrize("name", TOY)
    def test_global_random_state_untouched(self, name):
        np.random.seed(123)
        expected = np.random.rand()
        np.random.seed(123)
        pnn.datasets.load(name)
        assert np.random.rand() == expected

    def test_circles_geometry_without_noise(self):
        X, Y = pnn.datasets.noisy_circles(100, noise=0.0, factor=0.3)
        radius = np.hypot(X[0], X[1])
        np.testing.assert_allclose(radius[Y[0] == 0], 1.0)
        np.testing.assert_allclose(radius[Y[0] == 1], 0.3)

    def test_moons_geometry_without_noise(self):
        X, Y = pnn.datasets.noisy_moons(100, noise=0.0)
        upper, lower = X[:, Y[0] == 0], X[:, Y[0] == 1]
        np.testing.assert_allclose(np.hypot(upper[0], upper[1]), 1.0)
        np.testing.assert_allclose(np.hypot(lower[0] - 1.0, lower[1] - 0.5), 1.0)

    def test_quantiles_split_by_distance(self):
        X, Y = pnn.datasets.gaussian_quantiles(101, n_classes=3)
        radius = np.hypot(X[0], X[1])
        counts = np.bincount(Y[0])
        assert counts.sum() == 101
        assert counts.max() - counts.min() <= 1
        for k in range(2):
            assert radius[Y[0] == k].max() <= radius[Y[0] == k + 1].min()

    def test_blobs_multi_class(self):
        X, Y = pnn.datasets.blobs(90, centers=3, n_classes=3, cluster_std=0.0)
        assert sorted(np.unique(Y).tolist()) == [0, 1, 2]
        # zero spread: every point of a label sits on its blob's centre
        for k in range(3):
            points = X[:, Y[0] == k]
            np.testing.assert_allclose(points, points[:, :1].repeat(points.shape[1], axis=1))

    @pytest.mark.parametrize(
        ("func", "kwargs", "error"),
        [
            (pnn.datasets.noisy_circles, {"m": 1}, ValueError),
            (pnn.datasets.noisy_circles, {"factor": 1.5}, ValueError),
            (pnn.datasets.noisy_moons, {"noise": -0.1}, ValueError),
            (pnn.datasets.noisy_moons, {"noise": "big"}, TypeError),
            (pnn.datasets.blobs, {"n_classes": 7}, ValueError),
            (pnn.datasets.blobs, {"m": 2.5}, ValueError),
            (pnn.datasets.gaussian_quantiles, {"cov": 0.0}, ValueError),
        ],
    )
    def test_bad_arguments(self, func, kwargs, error):
        with pytest.raises(error, match=next(iter(kwargs))):
            func(**kwargs)

    @pytest.mark.parametrize("name", TOY)
    def test_a_network_learns_it(self, name):
        X, Y = pnn.datasets.load(name)
        logistic = pnn.train(X, Y, hidden=0, num_iterations=3000, recipe="lesson")
        network = pnn.train(X, Y, hidden=5, num_iterations=3000, recipe="lesson")
        # the lesson's point: no straight line separates these labels, a small network does
        assert logistic.accuracy(X, Y) < 0.9
        assert network.accuracy(X, Y) > 0.75
        assert network.accuracy(X, Y) > logistic.accuracy(X, Y) + 0.05


class TestRealDataSets:
    def test_breast_cancer(self):
        X, Y = pnn.datasets.breast_cancer()
        assert X.shape == (30, 569)
        assert Y.shape == (1, 569)
        assert int(Y.sum()) == 357
        np.testing.assert_allclose(X.mean(axis=1), 0.0, atol=1e-12)
        np.testing.assert_allclose(X.std(axis=1), 1.0)

    def test_breast_cancer_raw(self):
        X, _ = pnn.datasets.breast_cancer(standardize=False)
        assert X.min() >= 0.0
        assert X.max() > 1000.0

    def test_digits_one_hot(self):
        X, Y = pnn.datasets.digits()
        assert X.shape == (64, 1797)
        assert Y.shape == (10, 1797)
        np.testing.assert_array_equal(Y.sum(axis=0), 1)
        assert X.min() >= 0.0
        assert X.max() == 1.0

    def test_digits_labels_match_one_hot(self):
        _, onehot = pnn.datasets.digits()
        X, labels = pnn.datasets.digits(one_hot=False, scale=False)
        assert labels.shape == (1, 1797)
        np.testing.assert_array_equal(labels[0], onehot.argmax(axis=0))
        assert X.max() == 16.0

    def test_bad_flag(self):
        with pytest.raises(TypeError, match="one_hot"):
            pnn.datasets.digits(one_hot="yes")

    def test_missing_sklearn_names_the_extra(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "sklearn", None)
        monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
        with pytest.raises(ImportError, match=r"pip install -e '\.\[datasets\]'"):
            pnn.datasets.digits()


class TestLoad:
    def test_every_name(self):
        for name, func in pnn.datasets.DATASETS.items():
            X, Y = pnn.datasets.load(name)
            X2, _ = func()
            np.testing.assert_array_equal(X, X2)
            assert X.shape[1] == Y.shape[1]

    def test_planar_unchanged(self):
        X, Y = pnn.datasets.load("planar")
        X2, Y2 = pnn.datasets.planar()
        np.testing.assert_array_equal(X, X2)
        np.testing.assert_array_equal(Y, Y2)

    def test_kwargs_passed(self):
        X, _ = pnn.datasets.load("noisy_moons", m=30)
        assert X.shape == (2, 30)

    def test_unknown_name(self):
        with pytest.raises(ValueError, match=r"unknown data set 'mnist'.*planar"):
            pnn.datasets.load("mnist")

    def test_import_does_not_load_sklearn(self):
        import subprocess

        code = "import sys, portable_nn; print('sklearn' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        assert out.stdout.strip() == "False"
