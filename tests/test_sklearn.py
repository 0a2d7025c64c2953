import inspect
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import portable_nn as pnn
from portable_nn.sklearn import NeuralNetClassifier, NeuralNetRegressor

FAST = {"num_iterations": 300, "optimizer": "adam", "learning_rate": 0.05}


@pytest.fixture(scope="module")
def planar_samples():
    """The planar data, samples as rows, shuffled (the data set is sorted by label and angle)."""
    X, Y = pnn.datasets.planar()
    order = np.random.default_rng(0).permutation(X.shape[1])
    return X.T[order], Y[0][order]


@pytest.fixture(scope="module")
def digits_subset():
    X, labels = pnn.datasets.digits(one_hot=False)
    keep = np.isin(labels[0], [0, 1, 2])
    return X.T[keep][:300], labels[0][keep][:300]


class TestScikitLearnChecks:
    @parametrize_with_checks([NeuralNetClassifier(), NeuralNetRegressor()])  # the defaults
    def test_check_estimator(self, estimator, check):
        check(estimator)


class TestParameters:
    @pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
    def test_every_train_option_is_a_parameter(self, cls):
        train_options = set(inspect.signature(pnn.train).parameters) - {
            "X", "Y", "output", "validation", "callbacks"}
        tool_options = {"validation_fraction", "n_iter_no_change"}
        assert set(cls().get_params()) == train_options | tool_options

    @pytest.mark.parametrize("cls", [NeuralNetClassifier, NeuralNetRegressor])
    def test_defaults_match_train(self, cls):
        train_defaults = {name: p.default
                          for name, p in inspect.signature(pnn.train).parameters.items()}
        own = {"early_stopping": False, "validation_fraction": 0.1}
        for name, value in cls().get_params().items():
            assert value == own.get(name, train_defaults.get(name)), name

    def test_unknown_parameter_is_a_type_error(self):
        with pytest.raises(TypeError, match=r"NeuralNetRegressor got unexpected parameter\(s\) "
                                            r"\['hiden'\]"):
            NeuralNetRegressor(hiden=4)
        with pytest.raises(TypeError):
            NeuralNetClassifier(4)  # keyword-only, as the signature says

    def test_signature_is_keyword_only_with_defaults(self):
        parameters = list(inspect.signature(NeuralNetRegressor).parameters.values())
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
        assert parameters[0].name == "recipe"
        assert [p.name for p in parameters[-2:]] == ["early_stopping", "validation_fraction"]
        assert NeuralNetRegressor().learning_rate is None  # the recipe's
        assert NeuralNetClassifier().recipe == "tabular"

    def test_repr_shows_only_changed_parameters(self):
        assert repr(NeuralNetRegressor(hidden=3)) == "NeuralNetRegressor(hidden=3)"
        assert repr(NeuralNetRegressor(learning_rate=1.2)) == \
            "NeuralNetRegressor(learning_rate=1.2)"

    def test_stored_unchanged_and_not_validated_in_init(self):
        clf = NeuralNetClassifier(hidden=[5, 3], optimizer="nonsense", backend="torch",
                                  recipe="lesson")
        assert clf.get_params()["hidden"] == [5, 3]
        assert clf.optimizer == "nonsense"
        assert clf.backend == "torch"

    def test_invalid_option_raises_at_fit(self, planar_samples):
        X, y = planar_samples
        with pytest.raises(ValueError, match="optimizer"):
            NeuralNetClassifier(optimizer="nonsense", num_iterations=1, recipe="lesson").fit(X, y)

    def test_set_params_and_clone(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(**FAST, recipe="lesson").set_params(hidden=6, seed=3)
        assert clf.hidden == 6
        fitted = clf.fit(X, y)
        copy = clone(fitted)
        assert copy.get_params() == fitted.get_params()
        assert not hasattr(copy, "model_")
        np.testing.assert_array_equal(copy.fit(X, y).predict_proba(X), fitted.predict_proba(X))


class TestClassifier:
    def test_binary_planar(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(hidden=4, num_iterations=2000, recipe="lesson").fit(X, y)
        assert clf.model_.output == "sigmoid"
        assert clf.model_.layer_dims == (2, 4, 1)
        assert clf.n_features_in_ == 2
        np.testing.assert_array_equal(clf.classes_, [0, 1])
        assert clf.score(X, y) > 0.85
        # the estimator is the model: same predictions as the Model it wraps
        np.testing.assert_array_equal(clf.predict(X), pnn.to_numpy(clf.model_.predict(X.T))[0])

    def test_fitted_attributes(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(num_iterations=250, recipe="lesson").fit(X, y)
        assert clf.n_iter_ == 250
        assert list(clf.costs_) == [0, 100, 200]
        assert clf.loss_curve_ == [clf.costs_[i] for i in (0, 100, 200)]
        assert clf.loss_curve_[-1] < clf.loss_curve_[0]

    def test_predict_proba(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(**FAST, recipe="lesson").fit(X, y)
        proba = clf.predict_proba(X)
        assert isinstance(proba, np.ndarray)
        assert proba.shape == (400, 2)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])

    def test_string_labels(self, planar_samples):
        X, y = planar_samples
        labels = np.where(y == 1, "blue", "red")
        clf = NeuralNetClassifier(**FAST, recipe="lesson").fit(X, labels)
        np.testing.assert_array_equal(clf.classes_, ["blue", "red"])
        pred = clf.predict(X)
        assert set(pred) <= {"blue", "red"}
        # "blue" sorts first, so it is class 0 here although it was label 1
        numeric = NeuralNetClassifier(**FAST, recipe="lesson").fit(X, 1 - y)
        np.testing.assert_allclose(clf.predict_proba(X), numeric.predict_proba(X))

    def test_multi_class_digits(self, digits_subset):
        X, y = digits_subset
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
        clf = NeuralNetClassifier(hidden=16, **FAST, recipe="lesson").fit(X_train, y_train)
        assert clf.model_.output == "softmax"
        assert clf.model_.layer_dims == (64, 16, 3)
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        proba = clf.predict_proba(X_test)
        assert proba.shape == (len(X_test), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert clf.score(X_test, y_test) > 0.9

    def test_one_class_is_an_error(self, planar_samples):
        X, _ = planar_samples
        with pytest.raises(ValueError, match="at least 2 classes"):
            NeuralNetClassifier(num_iterations=1, recipe="lesson").fit(X, np.zeros(len(X)))

    def test_torch_backend_and_float32(self, planar_samples):
        pytest.importorskip("torch")
        X, y = planar_samples
        clf = NeuralNetClassifier(backend="torch", device="cpu", dtype="float32",
                                  **FAST, recipe="lesson").fit(X, y)
        assert clf.model_.backend == "torch"
        assert clf.model_.backend_info.dtype_name == "float32"
        reference = NeuralNetClassifier(dtype="float32", **FAST, recipe="lesson").fit(X, y)
        np.testing.assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=1e-3)
        assert clf.predict_proba(X).dtype == np.float64

    def test_pickle_round_trip(self, planar_samples):
        pytest.importorskip("torch")
        X, y = planar_samples
        for backend in ("numpy", "torch"):
            clf = NeuralNetClassifier(backend=backend, **FAST, recipe="lesson").fit(X, y)
            again = pickle.loads(pickle.dumps(clf))
            assert again.model_.backend == backend
            np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
            assert again.costs_ == clf.costs_


class TestRegressor:
    def test_r2_on_a_smooth_function(self):
        rng = np.random.default_rng(0)
        X = rng.uniform(-2, 2, size=(200, 1))
        y = np.sin(X[:, 0]) + 0.5 * X[:, 0]
        reg = NeuralNetRegressor(hidden=8, optimizer="adam", learning_rate=0.01,
                                 num_iterations=1500, recipe="lesson").fit(X, y)
        assert reg.model_.output == "linear"
        assert reg.n_outputs_ == 1
        assert reg.predict(X).shape == (200,)
        assert reg.score(X, y) > 0.98

    def test_multi_output(self):
        rng = np.random.default_rng(1)
        X = rng.normal(size=(100, 3))
        y = np.column_stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 0]])
        reg = NeuralNetRegressor(hidden=6, optimizer="adam", learning_rate=0.02,
                                 num_iterations=800, recipe="lesson").fit(X, y)
        assert reg.n_outputs_ == 2
        assert reg.predict(X).shape == (100, 2)
        assert reg.score(X, y) > 0.95


class TestScikitLearnTools:
    def test_grid_search_round_trip(self, planar_samples):
        X, y = planar_samples
        search = GridSearchCV(NeuralNetClassifier(**FAST,
                                                  recipe="lesson"), {"hidden": [1, 5]}, cv=3)
        search.fit(X, y)
        assert search.best_params_ == {"hidden": 5}
        assert search.best_estimator_.model_.layer_dims == (2, 5, 1)
        means = search.cv_results_["mean_test_score"]
        assert means[1] > means[0]
        assert search.score(X, y) == search.best_estimator_.score(X, y)

    def test_pipeline_with_scaler(self):
        X, y = pnn.datasets.breast_cancer(standardize=False)
        X, y = X.T, y[0]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                            random_state=0, stratify=y)
        pipe = make_pipeline(StandardScaler(), NeuralNetClassifier(hidden=5, **FAST,
                                                                   recipe="lesson"))
        pipe.fit(X_train, y_train)
        assert pipe.score(X_test, y_test) > 0.93
        params = pipe.get_params()
        assert params["neuralnetclassifier__hidden"] == 5

    def test_cross_val_score(self, planar_samples):
        X, y = planar_samples
        scores = cross_val_score(NeuralNetClassifier(hidden=5, **FAST, recipe="lesson"), X, y, cv=3)
        assert scores.shape == (3,)
        assert scores.min() > 0.6

    def test_regressor_in_grid_search(self):
        rng = np.random.default_rng(2)
        X = rng.uniform(-1, 1, size=(120, 2))
        y = X[:, 0] * X[:, 1]
        search = GridSearchCV(NeuralNetRegressor(hidden=6, optimizer="adam", num_iterations=400,
                                                 recipe="lesson", learning_rate=0.1),
                              {"learning_rate": [1e-4, 0.02]}, cv=3)
        search.fit(X, y)
        assert search.best_params_ == {"learning_rate": 0.02}


class TestCheckpointOption:
    def test_fit_writes_a_loadable_checkpoint(self, planar_samples, tmp_path):
        X, y = planar_samples
        path = tmp_path / "run.npz"
        clf = NeuralNetClassifier(num_iterations=50, checkpoint=str(path),
                                  recipe="lesson").fit(X, y)
        assert path.exists()
        loaded = pnn.load(path)
        assert loaded.iterations == 50
        np.testing.assert_allclose(pnn.to_numpy(loaded.predict_proba(X.T))[0],
                                   clf.predict_proba(X)[:, 1])


class TestEarlyStopping:
    def test_without_it_sklearn_attributes_are_none(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(**FAST, recipe="lesson").fit(X, y)
        assert clf.validation_scores_ is None
        assert clf.best_validation_score_ is None
        assert clf.best_loss_ == min(clf.loss_curve_)
        assert clf.n_iter_ == clf.model_.iterations == 300

    @pytest.mark.parametrize(("name", "value", "message"), [
        ("early_stopping", 1, "early_stopping must be True or False"),
        ("validation_fraction", 1.0, "validation_fraction must be a finite number in"),
        ("n_iter_no_change", 0, "n_iter_no_change"),
    ])
    def test_invalid_parameters_raise_at_fit(self, planar_samples, name, value, message):
        X, y = planar_samples
        params = {"early_stopping": True, name: value}
        with pytest.raises((TypeError, ValueError), match=message):
            NeuralNetClassifier(num_iterations=1, **params, recipe="lesson").fit(X, y)

    def test_hold_out_is_stratified_and_passed_to_train(self, planar_samples, monkeypatch):
        X, y = planar_samples
        seen = {}

        def fake_train(X, Y, **options):
            seen.update(X=X, Y=Y, **options)
            raise RuntimeError("stop here")

        monkeypatch.setattr(pnn, "train", fake_train)
        clf = NeuralNetClassifier(early_stopping=True, validation_fraction=0.25,
                                  n_iter_no_change=3, seed=5, recipe="lesson")
        with pytest.raises(RuntimeError, match="stop here"):
            clf.fit(X, y)
        X_val, Y_val = seen["validation"]
        assert seen["early_stopping"] == 3
        assert X_val.shape == (2, 100)
        assert seen["X"].shape == (2, 300)
        assert Y_val.mean() == y.mean() == 0.5  # stratified: both classes keep their share
        expected = train_test_split(X, y, test_size=0.25, random_state=5, stratify=y)
        np.testing.assert_array_equal(X_val, expected[1].T)  # scikit-learn's MLP split

    def test_regressor_hold_out_is_random_from_seed(self, monkeypatch):
        rng = np.random.default_rng(3)
        X, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
        seen = {}
        monkeypatch.setattr(pnn, "train", lambda X, Y, **o: seen.update(o) or 1 / 0)
        with pytest.raises(ZeroDivisionError):
            NeuralNetRegressor(early_stopping=True, seed=2,
                               recipe="lesson", learning_rate=0.1).fit(X, y)
        X_val, Y_val = seen["validation"]
        expected = train_test_split(X, y, test_size=0.1, random_state=2)
        np.testing.assert_array_equal(X_val, expected[1].T)
        np.testing.assert_array_equal(Y_val, expected[3].T)

    def test_classifier_fit(self, planar_samples):
        X, y = planar_samples
        clf = NeuralNetClassifier(early_stopping=True, n_iter_no_change=2, cost_every=50,
                                  **FAST, recipe="lesson").fit(X, y)
        model = clf.model_
        accuracy = model.history["validation_accuracy"]
        assert clf.validation_scores_ == [accuracy[i] for i in sorted(accuracy)]
        assert clf.best_validation_score_ == accuracy[model.best_iteration]
        assert clf.best_loss_ is None
        assert clf.n_iter_ == model.iterations == model.best_iteration

    def test_regressor_scores_are_r2(self):
        rng = np.random.default_rng(4)
        X = rng.uniform(-2, 2, size=(200, 1))
        y = np.sin(X[:, 0])
        reg = NeuralNetRegressor(hidden=8, optimizer="adam", learning_rate=0.01,
                                 num_iterations=1500, early_stopping=True, seed=1,
                                     recipe="lesson").fit(X, y)
        _, X_val, _, y_val = train_test_split(X, y, test_size=0.1, random_state=1)
        assert len(reg.validation_scores_) == len(reg.model_.history["validation_cost"])
        assert reg.best_validation_score_ == pytest.approx(reg.score(X_val, y_val), rel=1e-9)
