"""What a new user hits next (issue 17 item 6, library side): ``model.costs[-1]`` is the last
recorded cost; a float64 model on JAX without x64 says how to load it, never "before
training". (The Dask size warning's line is in test_chance_warning.py.)"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import portable_nn as pnn

# every option explicit: the outcome must not depend on train's defaults
RUN = dict(hidden=(4,), hidden_activation="tanh", output="sigmoid", optimizer="gd",
           learning_rate=1.2, num_iterations=500, init="small", seed=0, cost_every=100)


class TestCosts:
    def test_negative_index_counts_from_the_end(self, planar_data):
        model = pnn.train(*planar_data, **RUN)
        recorded = sorted(model.costs.items())
        assert model.costs[-1] == recorded[-1][1]
        assert model.costs[-2] == recorded[-2][1]
        assert model.costs[-len(recorded)] == recorded[0][1]
        assert model.costs[100] == dict(recorded)[100]  # still {iteration: cost}
        assert model.costs.iterations == [i for i, _ in recorded]
        assert model.costs.values_list == [c for _, c in recorded]

    def test_still_a_dict(self, planar_data):
        model = pnn.train(*planar_data, **RUN)
        plain = dict(model.costs)
        assert isinstance(model.costs, dict)
        assert model.costs == plain
        assert list(model.costs) == list(plain)
        assert max(model.costs) == max(plain)

    def test_missing_iterations_and_too_far_back_say_why(self, planar_data):
        model = pnn.train(*planar_data, **RUN)
        with pytest.raises(KeyError, match=r"no cost was recorded at iteration 5.*costs\[-1\]"):
            model.costs[5]
        with pytest.raises(IndexError, match="only 5 costs were recorded"):
            model.costs[-6]

    def test_kept_through_save_load_to_pickle_and_resume(self, planar_data, tmp_path):
        model = pnn.train(*planar_data, **RUN)
        last = model.costs[-1]
        assert pnn.load(model.save(tmp_path / "m.npz")).costs[-1] == last
        assert model.to("numpy", dtype="float32").costs[-1] == last
        assert pickle.loads(pickle.dumps(model.costs))[-1] == last
        half = pnn.train(*planar_data, **dict(RUN, num_iterations=300),
                         checkpoint=tmp_path / "c.npz")
        assert half.costs[-1] == model.costs[200]
        resumed = pnn.train(*planar_data, **RUN, resume=tmp_path / "c.npz")
        assert resumed.costs[-1] == pytest.approx(last, rel=1e-12)

    def test_the_estimators_costs(self, planar_data):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, Y = planar_data
        est = NeuralNetClassifier(**{k: v for k, v in RUN.items() if k != "output"})
        est.fit(X.T, Y[0])
        assert est.model_.costs[-1] == est.loss_curve_[-1]


def _without_x64(code):
    env = {**os.environ, "JAX_ENABLE_X64": "0", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


class TestFloat64OnJaxWithoutX64:
    def test_load_says_how(self, planar_data, tmp_path):
        pytest.importorskip("jax")
        X, Y = planar_data
        model = pnn.train(X, Y, **RUN, dtype="float64")
        path = model.save(tmp_path / "m.npz")
        expected = pnn.to_numpy(model.predict_proba(X))
        np.save(tmp_path / "X.npy", X)
        out = _without_x64(f"""
            import numpy as np
            import portable_nn as pnn
            path = {str(path)!r}
            try:
                pnn.load(path, backend="jax")
            except ValueError as exc:
                print("LOAD:", exc)
            model = pnn.load(path, backend="jax", dtype="float32")
            print("DTYPE:", model.backend_info.dtype_name)
            np.save({str(tmp_path / "p.npy")!r}, pnn.to_numpy(model.predict_proba(
                np.load({str(tmp_path / "X.npy")!r}))))
            host = pnn.load(path)
            try:
                host.to("jax")
            except ValueError as exc:
                print("TO:", exc)
        """)
        load = next(line for line in out.splitlines() if line.startswith("LOAD:"))
        assert "dtype='float32'" in load
        assert "JAX_ENABLE_X64" in load
        assert f"pnn.load({str(path)!r}, backend='jax', dtype='float32')" in load
        to = next(line for line in out.splitlines() if line.startswith("TO:"))
        assert "dtype='float32'" in to
        assert "before training" not in out
        assert "DTYPE: float32" in out
        np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5,
                                   atol=1e-6)
