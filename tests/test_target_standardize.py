"""Target standardisation (issue 17 item 3): ``standardize=True`` with a linear output trains on
``(Y - mean) / std``; ``Model.target_standardization`` is undone by ``predict``, ``cost`` and
the validation cost, and saved, loaded, resumed, moved and pickled with the model."""

from __future__ import annotations

import json
import pickle
import zipfile

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn

# every option a recipe sets, explicitly: the outcome must not depend on train's defaults
RUN = dict(hidden=(8,), hidden_activation="tanh", output="linear", optimizer="adam",
           learning_rate=0.01, num_iterations=300, init="he", seed=1, cost_every=50)


@pytest.fixture(scope="module")
def far():
    """Three features, 200 samples; two targets far from unit scale (around 5000 and -0.002)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 200)) * np.array([[1.0], [10.0], [0.1]])
    Z = np.tanh(X[0:1] - 0.2 * X[1:2]) + 10 * X[2:3]
    Y = np.concatenate([5000.0 + 800.0 * Z, -0.002 + 1e-4 * Z]) + \
        rng.normal(scale=[[20.0], [2e-6]], size=(2, 200))
    return X, Y


def _stats(A):
    return A.mean(axis=1, keepdims=True), A.std(axis=1, keepdims=True)


class TestTraining:
    def test_statistics_are_the_targets(self, cell, far):
        X, Y = far
        model = pnn.train(X, Y, **on(cell, **RUN), dtype="float64", standardize=True)
        mean, std = model.target_standardization
        expected_mean, expected_std = _stats(Y)
        assert mean.shape == std.shape == (2, 1)
        np.testing.assert_allclose(pnn.to_numpy(mean), expected_mean, rtol=1e-9)
        np.testing.assert_allclose(pnn.to_numpy(std), expected_std, rtol=1e-9)

    def test_same_as_training_on_standardised_targets_by_hand(self, cell, far):
        """The scaled run's parameters; its predictions mapped back to the target's units."""
        X, Y = far
        (mx, sx), (my, sy) = _stats(X), _stats(Y)
        model = pnn.train(X, Y, **on(cell, **RUN), dtype="float64", standardize=True)
        plain = pnn.train((X - mx) / sx, (Y - my) / sy, **on(cell, **RUN), dtype="float64")
        for key, value in plain.params.items():
            np.testing.assert_allclose(pnn.to_numpy(model.params[key]), pnn.to_numpy(value),
                                       rtol=1e-6, atol=1e-9, err_msg=key)
        by_hand = pnn.to_numpy(plain.predict((X - mx) / sx)) * sy + my
        np.testing.assert_allclose(pnn.to_numpy(model.predict(X)), by_hand, rtol=1e-9)
        np.testing.assert_allclose(pnn.to_numpy(model.predict_proba(X)), by_hand, rtol=1e-9)
        assert list(model.costs.values()) == pytest.approx(list(plain.costs.values()),
                                                           rel=1e-6)

    def test_predictions_in_the_targets_units_fit_well(self, far):
        from sklearn.metrics import r2_score

        X, Y = far
        model = pnn.train(X, Y, **RUN, standardize=True)
        pred = pnn.to_numpy(model.predict(X))
        assert pred[0].mean() == pytest.approx(5000.0, rel=0.05)
        for k in range(2):
            assert r2_score(Y[k], pred[k]) > 0.95

    def test_cost_is_in_the_targets_units(self, far):
        X, Y = far
        model = pnn.train(X, Y, **RUN, standardize=True)
        residual = pnn.to_numpy(model.predict(X)) - Y
        assert model.cost(X, Y) == pytest.approx(np.sum(residual**2) / (2 * Y.shape[1]),
                                                 rel=1e-9)

    def test_validation_cost_is_in_the_targets_units(self, far):
        X, Y = far
        held = (X[:, 150:], Y[:, 150:])
        model = pnn.train(X[:, :150], Y[:, :150], **dict(RUN, num_iterations=100),
                          standardize=True, validation=held)
        # the parameters after 50 updates: the same run stopped there
        at_50 = pnn.train(X[:, :150], Y[:, :150], **dict(RUN, num_iterations=50),
                          standardize=True)
        assert model.metrics["validation_cost"][50] == pytest.approx(at_50.cost(*held),
                                                                     rel=1e-9)

    def test_only_for_a_linear_output_with_standardize(self, far):
        X, Y = far
        assert pnn.train(X, Y, **RUN).target_standardization is None
        labels = (Y[:1] > 5000.0).astype(np.float64)
        classifier = pnn.train(X, labels, **dict(RUN, output="sigmoid"), standardize=True)
        assert classifier.target_standardization is None


class TestKept:
    def test_save_load_on_another_backend(self, cell, far, tmp_path):
        X, Y = far
        model = pnn.train(X, Y, **RUN, dtype="float64", standardize=True)
        path = model.save(tmp_path / "model.npz")
        with zipfile.ZipFile(path) as archive:
            assert {"y_mean.npy", "y_std.npy"} <= set(archive.namelist())
        loaded = pnn.load(path, **on(cell))
        for a, b in zip(loaded.target_standardization, model.target_standardization,
                        strict=True):
            np.testing.assert_array_equal(pnn.to_numpy(a), pnn.to_numpy(b))
        np.testing.assert_allclose(pnn.to_numpy(loaded.predict(X)),
                                   pnn.to_numpy(model.predict(X)), rtol=1e-12)

    def test_model_to_and_pickle(self, cpu_cell, far):
        X, Y = far
        model = pnn.train(X, Y, **RUN, standardize=True)
        moved = model.to(cpu_cell.backend, cpu_cell.device)
        assert moved.target_standardization[0] is not model.target_standardization[0]
        np.testing.assert_allclose(pnn.to_numpy(moved.predict(X)),
                                   pnn.to_numpy(model.predict(X)), rtol=1e-12)

    def test_resume_continues_the_same_run(self, far, tmp_path):
        X, Y = far
        straight = pnn.train(X, Y, **RUN, standardize=True)
        path = tmp_path / "ckpt.npz"
        pnn.train(X, Y, **dict(RUN, num_iterations=150), standardize=True, checkpoint=path)
        resumed = pnn.train(X, Y, **RUN, standardize=True, resume=path)
        assert resumed.iterations == 300
        np.testing.assert_allclose(pnn.to_numpy(resumed.predict(X)),
                                   pnn.to_numpy(straight.predict(X)), rtol=1e-9)

    def test_a_file_without_the_field_loads_and_a_bad_field_is_refused(self, far, tmp_path):
        X, Y = far
        path = pnn.train(X, Y, **dict(RUN, num_iterations=2)).save(tmp_path / "m.npz")
        assert pnn.load(path).target_standardization is None
        with np.load(path) as data:
            members = {key: data[key] for key in data.files}
        meta = json.loads(str(members["__portable_nn__"]))
        meta.pop("standardize_target")  # written before this field existed
        np.savez(tmp_path / "old.npz", **{**members, "__portable_nn__": json.dumps(meta)})
        assert pnn.load(tmp_path / "old.npz").target_standardization is None
        meta["standardize_target"] = "yes"
        np.savez(tmp_path / "bad.npz", **{**members, "__portable_nn__": json.dumps(meta)})
        with pytest.raises(pnn.ModelFileError, match="standardize_target"):
            pnn.load(tmp_path / "bad.npz")


class TestRegressor:
    def test_same_as_scikit_learns_transformed_target(self, far):
        """NeuralNetRegressor(standardize=True) equals scikit-learn's TransformedTargetRegressor
        with a StandardScaler around it: scaling already standardised targets changes
        nothing."""
        sklearn = pytest.importorskip("sklearn")
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        from portable_nn.sklearn import NeuralNetRegressor

        assert sklearn
        X, Y = far
        params = {k: v for k, v in RUN.items() if k != "output"}
        ours = NeuralNetRegressor(**params, standardize=True).fit(X.T, Y[0])
        reference = TransformedTargetRegressor(
            regressor=NeuralNetRegressor(**params, standardize=True),
            transformer=StandardScaler()).fit(X.T, Y[0])
        np.testing.assert_allclose(ours.predict(X.T), reference.predict(X.T), rtol=1e-6)
        assert ours.score(X.T, Y[0]) > 0.95
        again = pickle.loads(pickle.dumps(ours))
        np.testing.assert_array_equal(again.predict(X.T), ours.predict(X.T))
