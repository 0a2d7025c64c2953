"""Never silent at chance (issue 17 item 4): ``train`` and the estimators warn, as the command
line does, with a ``UserWarning`` naming the cause and the fix, pointing at the user's line;
and the Dask size warning points at the user's line too (item 6)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import portable_nn as pnn
from portable_nn.training import ChanceLevelWarning, chance_level

# the lesson's recipe, every option explicit: the outcome must not depend on train's defaults
LESSON = dict(hidden=(4,), hidden_activation="tanh", optimizer="gd", learning_rate=1.2,
              init="small", seed=0)


def _caught(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    return result, [w for w in caught if issubclass(w.category, ChanceLevelWarning)]


class TestTrain:
    def test_features_that_carry_nothing(self):
        X, Y = np.zeros((2, 90)), np.eye(3)[np.arange(90) % 3].T
        _, caught = _caught(lambda: pnn.train(X, Y, **LESSON, output="softmax",
                                              num_iterations=200))
        assert len(caught) == 1
        warning = caught[0]
        assert issubclass(warning.category, UserWarning)
        assert warning.filename == __file__  # the user's line, not the library's
        text = str(warning.message)
        assert "chance level" in text
        assert "ln 3 = 1.0986" in text
        assert "standardize=True" in text
        assert "learning_rate" in text

    def test_majority_class_by_scikit_learns_dummy(self):
        from sklearn.dummy import DummyClassifier

        labels = (np.arange(100) % 4 == 0).astype(np.float64)  # 25% ones
        X = np.zeros((1, 100))
        majority = DummyClassifier().fit(X.T, labels).score(X.T, labels)
        _, caught = _caught(lambda: pnn.train(X, labels[None, :], **LESSON, output="sigmoid",
                                              num_iterations=300))
        assert len(caught) == 1
        assert f"most frequent class ({majority:.2%})" in str(caught[0].message)

    def test_silent_when_learning(self):
        X, Y = pnn.datasets.planar()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ChanceLevelWarning)
            model = pnn.train(X, Y, **LESSON, output="sigmoid", num_iterations=1000)
        assert chance_level(model, X, Y) is None

    def test_a_standardized_model_is_not_told_to_standardize(self):
        X, Y = np.zeros((2, 60)), (np.arange(60) % 2)[None, :].astype(np.float64)
        _, caught = _caught(lambda: pnn.train(X, Y, **LESSON, output="sigmoid",
                                              num_iterations=50, standardize=True))
        assert len(caught) == 1
        assert "standardize=True" not in str(caught[0].message)
        assert "learning_rate" in str(caught[0].message)

    def test_regression_never(self):
        X = np.zeros((2, 50))
        Y = np.arange(50.0)[None, :]
        _, caught = _caught(lambda: pnn.train(X, Y, **dict(LESSON, learning_rate=0.01),
                                              output="linear", num_iterations=20))
        assert caught == []


class TestEstimators:
    def test_classifier_on_unscaled_iris(self):
        sk_datasets = pytest.importorskip("sklearn.datasets")
        from portable_nn.sklearn import NeuralNetClassifier

        X, y = sk_datasets.load_iris(return_X_y=True)
        est = NeuralNetClassifier(**LESSON, num_iterations=2000)
        _, caught = _caught(lambda: est.fit(X, y))
        assert len(caught) == 1
        assert caught[0].filename == __file__
        assert "chance level" in str(caught[0].message)


class TestDaskSizeWarning:
    def test_points_at_the_users_line(self, monkeypatch):
        pytest.importorskip("dask.array")
        from portable_nn.backend import _dask_steps

        monkeypatch.setattr(_dask_steps, "_warned", False)
        X, Y = pnn.datasets.planar()
        with pytest.warns(RuntimeWarning, match="backend='numpy' is faster") as record:
            pnn.train(X, Y, **LESSON, output="sigmoid", num_iterations=2, backend="dask")
        found = [w for w in record if "backend='numpy' is faster" in str(w.message)]
        assert [w.filename for w in found] == [__file__]

    def test_points_at_the_users_line_through_an_estimator(self, monkeypatch):
        pytest.importorskip("dask.array")
        pytest.importorskip("sklearn")
        from portable_nn.backend import _dask_steps
        from portable_nn.sklearn import NeuralNetClassifier

        monkeypatch.setattr(_dask_steps, "_warned", False)
        X, Y = pnn.datasets.planar()
        est = NeuralNetClassifier(**LESSON, num_iterations=2, backend="dask")
        with pytest.warns(RuntimeWarning, match="backend='numpy' is faster") as record:
            est.fit(X.T, Y[0])
        found = [w for w in record if "backend='numpy' is faster" in str(w.message)]
        assert [w.filename for w in found] == [__file__]  # not portable_nn/tools/sklearn.py
