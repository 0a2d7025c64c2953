"""Input standardisation: ``train(..., standardize=True)``, ``Model.standardization`` applied
by the model on every backend, through ``Model.to``, save/load, the estimators and the CLI."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn
from portable_nn.tools import cli

RUN = dict(hidden=3, num_iterations=60, learning_rate=0.5, seed=2)


@pytest.fixture(scope="module")
def unscaled():
    """Two features on very different scales (x 1000 and x 0.001), 60 samples, labels 0/1."""
    X, Y = pnn.datasets.noisy_moons(60, seed=3)
    return X * np.array([[1000.0], [0.001]]) + np.array([[5000.0], [-2.0]]), Y


def _stats(X):
    return X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)


class TestTrainStandardize:
    def test_default_is_none(self, unscaled):
        assert pnn.train(*unscaled, num_iterations=2, recipe="lesson").standardization is None

    def test_rejects_non_bool(self, unscaled):
        with pytest.raises(TypeError, match="standardize must be True or False"):
            pnn.train(*unscaled, num_iterations=2, standardize=1, recipe="lesson")

    def test_statistics_on_backend(self, cell, unscaled):
        X, Y = unscaled
        model = pnn.train(X, Y, **on(cell, **RUN), standardize=True, recipe="lesson")
        mean, std = model.standardization
        for array in (mean, std):
            assert array.shape == (2, 1)
            assert array.dtype == model.dtype
            assert pnn.to_numpy(array).dtype == pnn.to_numpy(model.params["W1"]).dtype
        expected_mean, expected_std = _stats(X)
        # float32 (torch's default): -2 +- 0.001 holds ~7 digits, so the std ~4 fewer
        rtol = 1e-6 if model.backend_info.dtype_name == "float64" else 1e-3
        np.testing.assert_allclose(pnn.to_numpy(mean), expected_mean, rtol=rtol)
        np.testing.assert_allclose(pnn.to_numpy(std), expected_std, rtol=rtol)
        assert model.config["standardize"] is True

    def test_same_as_training_on_scaled_inputs(self, cell, unscaled):
        """The model applies (X - mean) / std itself: raw X in, the scaled run's results out."""
        X, Y = unscaled
        mean, std = _stats(X)
        model = pnn.train(X, Y, **on(cell, **RUN), dtype="float64", standardize=True,
                          recipe="lesson")
        plain = pnn.train((X - mean) / std, Y, **on(cell, **RUN), dtype="float64", recipe="lesson")
        for key, value in plain.params.items():
            np.testing.assert_allclose(pnn.to_numpy(model.params[key]), pnn.to_numpy(value),
                                       rtol=1e-6, atol=1e-9, err_msg=key)
        scaled = (X - mean) / std
        np.testing.assert_allclose(pnn.to_numpy(model.predict_proba(X)),
                                   pnn.to_numpy(plain.predict_proba(scaled)), rtol=1e-6)
        np.testing.assert_array_equal(pnn.to_numpy(model.predict(X)),
                                      pnn.to_numpy(plain.predict(scaled)))
        assert model.accuracy(X, Y) == plain.accuracy(scaled, Y)
        assert model.cost(X, Y) == pytest.approx(plain.cost(scaled, Y), rel=1e-6)

    def test_constant_feature_has_std_one(self, cpu_cell):
        X, Y = pnn.datasets.planar()
        X = np.vstack([X, np.full((1, X.shape[1]), 0.1)])  # constant, mean not exact in float
        model = pnn.train(X, Y, **on(cpu_cell, hidden=2, num_iterations=20), standardize=True,
                          recipe="lesson")
        std = pnn.to_numpy(model.standardization[1])
        assert std[2, 0] == 1.0
        assert np.all(np.isfinite(pnn.to_numpy(model.predict_proba(X))))

    def test_unscaled_needs_it(self, unscaled):
        """What standardisation is for: the raw run stalls, the standardised one learns."""
        X, Y = unscaled
        options = dict(hidden=4, num_iterations=1000, seed=0)
        raw = pnn.train(X, Y, **options, recipe="lesson").accuracy(X, Y)
        scaled = pnn.train(X, Y, standardize=True, **options, recipe="lesson").accuracy(X, Y)
        assert raw == 0.5  # chance: the 1000x feature saturates tanh, the 0.001x one is lost
        assert scaled >= 0.8


class TestCarried:
    def test_model_to(self, cpu_cell, unscaled):
        X, Y = unscaled
        model = pnn.train(X, Y, **RUN, standardize=True, recipe="lesson")
        moved = model.to(cpu_cell.backend, cpu_cell.device)
        assert moved.standardization is not None
        assert moved.standardization[0] is not model.standardization[0]
        np.testing.assert_allclose(pnn.to_numpy(moved.predict_proba(X)),
                                   model.predict_proba(X), rtol=1e-12)

    def test_save_load_round_trip(self, cell, unscaled, tmp_path):
        X, Y = unscaled
        model = pnn.train(X, Y, **on(cell, **RUN), dtype="float64", standardize=True,
                          recipe="lesson")
        path = model.save(tmp_path / "model.npz")
        for backend, device in ((cell.backend, cell.device), ("numpy", None)):
            loaded = pnn.load(path, backend=backend, device=device)
            assert loaded.standardization is not None
            for a, b in zip(loaded.standardization, model.standardization, strict=True):
                assert a.shape == (2, 1)
                np.testing.assert_array_equal(pnn.to_numpy(a), pnn.to_numpy(b))
            np.testing.assert_array_equal(pnn.to_numpy(loaded.predict(X)),
                                          pnn.to_numpy(model.predict(X)))
            assert loaded.accuracy(X, Y) == model.accuracy(X, Y)

    def test_save_load_without(self, tmp_path, unscaled):
        path = pnn.train(*unscaled, num_iterations=2, recipe="lesson").save(tmp_path / "m.npz")
        assert pnn.load(path).standardization is None

    def test_lazy_backend(self, lazy_cell, unscaled):
        X, Y = unscaled
        lazy = pnn.train(X, Y, **on(lazy_cell, **RUN), standardize=True, recipe="lesson")
        eager = pnn.train(X, Y, **RUN, standardize=True, recipe="lesson")
        np.testing.assert_allclose(pnn.to_numpy(lazy.predict_proba(X)),
                                   eager.predict_proba(X), rtol=1e-9)


class TestEstimators:
    def test_classifier_standardize(self, unscaled):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, Y = unscaled
        clf = NeuralNetClassifier(hidden=4, num_iterations=1000, standardize=True, recipe="lesson")
        clf.fit(X.T, Y[0])
        assert clf.model_.standardization is not None
        assert clf.score(X.T, Y[0]) >= 0.8
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.predict(X.T), clf.predict(X.T))
        assert clf.get_params()["standardize"] is True

    def test_regressor_has_parameter(self):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetRegressor

        assert NeuralNetRegressor(standardize=True).get_params()["standardize"] is True


def _csv(path, X, labels):
    np.savetxt(path, np.column_stack([X.T, labels]), delimiter=",", fmt="%.10g")
    return path


class TestCommandLine:
    def test_standardize_then_predict_raw(self, tmp_path, capsys, unscaled):
        X, Y = unscaled
        data = _csv(tmp_path / "unscaled.csv", X, Y[0])
        model_path = tmp_path / "m.npz"
        status = cli.main(["train", str(data), "--standardize", "--iterations", "1000",
                           "--no-progress", "--save", str(model_path)])
        out, err = capsys.readouterr()
        assert status == 0
        assert "inputs standardized" in out
        assert "chance level" not in err
        model = pnn.load(model_path)
        assert model.standardization is not None
        assert f"training accuracy {model.accuracy(X, Y):.2%}" in out
        status = cli.main(["predict", str(model_path), str(data)])
        out, err = capsys.readouterr()
        assert status == 0
        assert f"accuracy {model.accuracy(X, Y):.2%} on 60 labelled samples" in err


class TestChanceLevelWarning:
    """train warns (one line on stderr) when it ends at chance level."""

    def _train(self, capsys, path, *options):
        status = cli.main(["train", str(path), "--no-progress", *options])
        out, err = capsys.readouterr()
        assert status == 0
        return out, err

    def test_cost_at_ln_c(self, tmp_path, capsys):
        """Features that carry nothing: the softmax cost stays at ln 3."""
        labels = np.arange(90) % 3
        data = _csv(tmp_path / "flat.csv", np.zeros((2, 90)), labels)
        _, err = self._train(capsys, data, "--iterations", "200", "--recipe", "lesson")
        lines = err.strip().splitlines()
        assert len(lines) == 1
        assert "warning: training ended at chance level" in lines[0]
        assert "ln 3" in lines[0]
        assert "--standardize" in lines[0]
        assert "smaller --learning-rate" in lines[0]

    def test_majority_rate(self, tmp_path, capsys):
        """Imbalanced classes: the cost is below ln 2 but the accuracy is the majority's."""
        labels = (np.arange(100) % 4 == 0).astype(int)  # 25% ones
        data = _csv(tmp_path / "imbalanced.csv", np.zeros((1, 100)), labels)
        _, err = self._train(capsys, data, "--iterations", "300")
        assert "no better than always predicting the most frequent class (75.00%)" in err
        assert len(err.strip().splitlines()) == 1

    def test_unscaled_iris(self, tmp_path, capsys):
        sklearn_datasets = pytest.importorskip("sklearn.datasets")
        X, y = sklearn_datasets.load_iris(return_X_y=True)
        data = _csv(tmp_path / "iris.csv", X.T, y)
        _, err = self._train(capsys, data, "--iterations", "2000", "--recipe", "lesson")
        assert "chance level" in err

    def test_silent_when_learning(self, capsys):
        _, err = self._train(capsys, "planar", "--iterations", "1000")
        assert err == ""

    def test_standardized_run_suggests_learning_rate_only(self, tmp_path, capsys):
        data = _csv(tmp_path / "flat.csv", np.zeros((2, 60)), np.arange(60) % 2)
        _, err = self._train(capsys, data, "--iterations", "50", "--standardize")
        assert "chance level" in err
        assert "try a smaller --learning-rate" in err
