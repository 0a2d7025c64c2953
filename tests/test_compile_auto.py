"""``compile="auto"`` (issue 17 item 5): compiled on JAX (and PyTorch on a CUDA device) by
default, eager without error elsewhere, ``model.config`` saying what was used; eager is
``compile=False`` away."""

from __future__ import annotations

import numpy as np
import pytest

import portable_nn as pnn

# every option explicit: the outcome must not depend on train's defaults
RUN = dict(recipe="lesson", hidden=(4,), hidden_activation="tanh", output="sigmoid", optimizer="gd",
           learning_rate=1.2, num_iterations=300, init="small", seed=0, dtype="float32")


def _host(model):
    return {key: np.asarray(pnn.to_numpy(value)) for key, value in model.params.items()}


class TestJax:
    @pytest.fixture(autouse=True)
    def _jax(self):
        pytest.importorskip("jax")

    def test_compiles_by_default_and_says_so(self, planar_data):
        X, Y = planar_data
        auto = pnn.train(X, Y, **RUN, backend="jax")
        assert auto.config["compile"] is True
        assert "compiled" in auto.choices["compile"]
        assert "jax.jit" in auto.choices["compile"]
        asked = pnn.train(X, Y, **RUN, backend="jax", compile=True)
        for key, value in _host(asked).items():  # the same compiled path
            np.testing.assert_array_equal(_host(auto)[key], value, err_msg=key)

    def test_eager_is_one_option_away(self, planar_data):
        X, Y = planar_data
        eager = pnn.train(X, Y, **RUN, backend="jax", compile=False)
        assert eager.config["compile"] is False
        assert "compile" not in eager.choices
        reference = pnn.train(X, Y, **RUN, backend="numpy")  # independent: NumPy's run
        for key, value in _host(reference).items():
            np.testing.assert_allclose(_host(eager)[key], value, rtol=2e-3, atol=2e-4,
                                       err_msg=key)

    def test_out_of_core_x_runs_eagerly_without_error(self, planar_data, tmp_path):
        X, Y = planar_data
        np.save(tmp_path / "X.npy", X.astype(np.float32))
        mX = np.load(tmp_path / "X.npy", mmap_mode="r")
        model = pnn.train(mX, Y.astype(np.float32), **dict(RUN, num_iterations=20),
                          backend="jax", chunk_size=100)
        assert model.config["compile"] is False
        assert "out of core" in model.choices["compile"]
        with pytest.raises(ValueError, match="compile=True needs X in memory"):
            pnn.train(mX, Y.astype(np.float32), **dict(RUN, num_iterations=20),
                      backend="jax", chunk_size=100, compile=True)

    def test_estimator_compiles_on_jax(self, planar_data):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, Y = planar_data
        est = NeuralNetClassifier(**{k: v for k, v in RUN.items() if k != "output"},
                                  backend="jax").fit(X.T, Y[0])
        assert est.get_params()["compile"] == "auto"
        assert est.model_.config["compile"] is True


class TestElsewhere:
    def test_numpy_runs_eagerly_without_error(self, planar_data):
        X, Y = planar_data
        auto = pnn.train(X, Y, **RUN)
        assert auto.config["compile"] is False
        assert "eager" in auto.choices["compile"]
        eager = pnn.train(X, Y, **RUN, compile=False)
        for key, value in _host(eager).items():
            np.testing.assert_array_equal(_host(auto)[key], value, err_msg=key)

    def test_true_still_insists(self, planar_data):
        with pytest.raises(ValueError, match="compile=True is not available for "
                                             "backend='numpy'"):
            pnn.train(*planar_data, **dict(RUN, num_iterations=2), compile=True)

    def test_bad_values_name_the_choices(self, planar_data):
        with pytest.raises(TypeError, match="compile must be 'auto', True or False"):
            pnn.train(*planar_data, **dict(RUN, num_iterations=2), compile="yes")

    def test_saved_config_loads(self, planar_data, tmp_path):
        model = pnn.train(*planar_data, **dict(RUN, num_iterations=2))
        loaded = pnn.load(model.save(tmp_path / "m.npz"))
        assert loaded.config["compile"] is False
        assert loaded.choices["compile"] == model.choices["compile"]
