"""The Model's fields listed once and its one host snapshot pair (issue 20).

``model_to_host`` and ``host_to_model`` carry every field of ``ModelFields`` through save,
load, ``Model.to``, pickling, the estimators' pickles and resume; ``config`` holds recorded
options only, and a file written by the code before (``classes``, ``feature_names``,
``target_name``, ``backend_choice`` and ``compile_choice`` inside ``config``) still loads with
them in their own fields. ``tests/data/main_config_layout.npz`` is such a file, written by
``main`` before the change (a 3-2-1 network, Adam, standardised, trained 4 iterations).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn
from portable_nn.training import (
    OPTIONS,
    ModelFields,
    ModelSnapshot,
    host_to_model,
    model_to_host,
)
from portable_nn.training._file_schema import FieldError, check_metadata
from portable_nn.training._snapshot import ARRAY_FIELDS, FIELD_NAMES

OLD_FILE = Path(__file__).parent / "data" / "main_config_layout.npz"
OPTION_NAMES = {spec.name for spec in OPTIONS}


def _dataset(m: int = 40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, 3))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return pnn.datasets.from_samples(X, labels, feature_names=["a", "b", "c"])


def _trained(**kwargs):
    model = pnn.train(_dataset(), hidden=(3,), num_iterations=6, cost_every=2,
                      optimizer="adam", backend="auto", compile="auto", **kwargs)
    model.target_name = "kind"
    return model


def _host(value):
    return pnn.to_numpy(value)


def assert_same_fields(a: ModelFields, b: ModelFields) -> None:
    """Every field equal: arrays bit for bit (dtype too), plain values by ``==``."""
    for name in FIELD_NAMES:
        left, right = getattr(a, name), getattr(b, name)
        if name not in ARRAY_FIELDS or left is None or right is None:
            assert left == right, name
            continue
        items = left.items() if isinstance(left, dict) else enumerate(left)
        others = right if isinstance(right, dict) else dict(enumerate(right))
        assert len(others) == len(left), name
        for key, value in items:
            if not hasattr(value, "shape"):
                assert value == others[key], (name, key)
                continue
            x, y = _host(value), _host(others[key])
            assert x.dtype == y.dtype, (name, key)
            assert np.array_equal(x, y), (name, key)


class TestOlderFiles:
    def test_the_old_layout_loads_into_the_fields(self):
        model = pnn.load(OLD_FILE)
        assert model.classes == ["no", "yes"]
        assert model.feature_names == ["a", "b", "c"]
        assert model.target_name == "kind"
        assert model.choices["backend"].startswith("auto chose numpy")
        assert model.choices["compile"].startswith("auto chose eager")
        assert set(model.config) <= OPTION_NAMES  # the options only
        assert model.config["optimizer"] == "adam"
        assert model.iterations == 4
        assert model.optimizer_state["t"] == 4
        labels = pnn.to_numpy(model.predict(np.zeros((3, 2))))
        assert labels.shape == (1, 2)

    def test_saved_again_in_the_new_layout(self, tmp_path):
        model = pnn.load(OLD_FILE)
        again = pnn.load(model.save(tmp_path / "again.npz"))
        assert_same_fields(model_to_host(again).fields, model_to_host(model).fields)
        assert set(again.config) <= OPTION_NAMES

    def test_resume_from_an_old_checkpoint(self, tmp_path):
        dataset = _dataset(12)
        # the fixture (a 3-2-1 network, Adam, 4 iterations, costs at 0 and 2) goes on to 6
        model = pnn.train(dataset, hidden=(2,), num_iterations=6, cost_every=2,
                          optimizer="adam", resume=OLD_FILE)
        assert model.iterations == 6
        assert list(model.costs) == [0, 2, 4]
        assert model.optimizer_state["t"] == 6


class TestSnapshotPair:
    def test_round_trip_keeps_every_field(self, cpu_cell):
        model = _trained().to(cpu_cell.backend, cpu_cell.device)
        snapshot = model_to_host(model)
        assert isinstance(snapshot, ModelSnapshot)
        assert all(isinstance(a, np.ndarray) for a in snapshot.fields.params.values())
        back = host_to_model(snapshot, model.backend_info)
        assert (back.backend, str(back.device), back.dtype) == (model.backend,
                                                                 str(model.device), model.dtype)
        assert_same_fields(back, model)

    def test_snapshot_is_a_copy(self):
        model = _trained().to("numpy")
        snapshot = model_to_host(model)
        snapshot.fields.params["W1"][...] = 0.0
        snapshot.fields.classes.append("maybe")
        snapshot.fields.config["optimizer"] = "gd"
        assert np.any(model.params["W1"] != 0.0)
        assert model.classes == ["no", "yes"]
        assert model.config["optimizer"] == "adam"

    def test_to_keeps_every_field(self):
        model = _trained()
        moved = model.to("numpy", dtype="float32")
        assert moved.dtype == np.float32
        for name in FIELD_NAMES:
            if name not in ARRAY_FIELDS:
                assert getattr(moved, name) == getattr(model, name), name

    def test_config_holds_options_only(self):
        model = _trained()
        assert set(model.config) <= OPTION_NAMES
        assert model.classes == ["no", "yes"]
        assert model.feature_names == ["a", "b", "c"]
        assert set(model.choices) == {"backend", "compile"}

    def test_save_and_load_keep_every_field(self, tmp_path):
        model = _trained()
        loaded = pnn.load(model.save(tmp_path / "m.npz"))
        assert_same_fields(loaded, model)


class TestPickle:
    def test_model_pickles_on_its_backend(self, cpu_cell):
        model = _trained().to(cpu_cell.backend, cpu_cell.device)
        again = pickle.loads(pickle.dumps(model))
        assert isinstance(again, pnn.Model)
        assert (again.backend, str(again.device), again.dtype) == (
            model.backend, str(model.device), model.dtype)
        assert_same_fields(again, model)
        assert type(again.costs) is type(model.costs)

    def test_estimator_pickle_holds_the_snapshot(self):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, y = _dataset().X.T, np.arange(40) % 2
        clf = NeuralNetClassifier(recipe="lesson", num_iterations=5).fit(X, y)
        assert isinstance(clf.__getstate__()["model_"], ModelSnapshot)
        again = pickle.loads(pickle.dumps(clf))
        assert_same_fields(again.model_, clf.model_)


    def test_estimator_pickled_before_the_snapshot(self):
        pytest.importorskip("sklearn")
        from portable_nn.sklearn import NeuralNetClassifier

        X, y = _dataset().X.T, np.arange(40) % 2
        clf = NeuralNetClassifier(recipe="lesson", num_iterations=5).fit(X, y)
        model = clf.model_
        state = clf.__getstate__()
        # main's layout: the fields as a dict, the compile choice inside config
        state["model_"] = {
            "__portable_nn_model__": True, "params": dict(model_to_host(model).fields.params),
            "layer_dims": model.layer_dims, "hidden_activation": model.hidden_activation,
            "output": model.output, "costs": dict(model.costs), "iterations": model.iterations,
            "interrupted": False, "backend": "numpy", "dtype": "float64",
            "config": {**model.config, "compile_choice": model.choices["compile"]},
            "standardization": None, "target_standardization": None,
            "metrics": model.metrics, "best_iteration": None}
        again = NeuralNetClassifier.__new__(NeuralNetClassifier)
        again.__setstate__(state)
        assert again.model_.optimizer_state is None  # main's pickles left it out
        again.model_.optimizer_state = model.optimizer_state
        assert_same_fields(again.model_, model)
        np.testing.assert_array_equal(again.predict(X), clf.predict(X))


class TestResumeReadsOnce:
    def test_one_read(self, tmp_path, monkeypatch):
        from portable_nn.training import _persistence

        X, Y = pnn.datasets.planar()
        path = tmp_path / "run.npz"
        pnn.train(X, Y, recipe="lesson", num_iterations=4, checkpoint=path)
        reads = []
        original = _persistence.NpzArchive

        def counted(*args, **kwargs):
            reads.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(_persistence, "NpzArchive", counted)
        resumed = pnn.train(X, Y, recipe="lesson", num_iterations=6, resume=path)
        assert resumed.iterations == 6
        assert len(reads) == 1

    def test_resume_is_bit_exact(self, tmp_path, cpu_cell):
        X, Y = pnn.datasets.planar()
        # eager: JAX's compiled Adam resumes within rounding, not bit for bit (as on main)
        options = dict(recipe="lesson", optimizer="adam", learning_rate=0.01, compile=False,
                       **on(cpu_cell))
        whole = pnn.train(X, Y, num_iterations=8, **options)
        path = tmp_path / "run.npz"
        pnn.train(X, Y, num_iterations=4, checkpoint=path, **options)
        resumed = pnn.train(X, Y, num_iterations=8, resume=path, **options)
        for key in whole.params:
            assert np.array_equal(_host(whole.params[key]), _host(resumed.params[key])), key
        assert whole.costs == resumed.costs


META = {"layer_dims": [2, 1], "hidden_activation": "tanh", "output": "sigmoid",
        "dtype": "float64", "iterations": 0, "costs": []}


class TestSchema:

    @pytest.mark.parametrize(("field", "value"), [
        ("classes", "no,yes"), ("classes", [["no"]]), ("feature_names", [1, 2]),
        ("target_name", 3), ("choices", {"backend": 1}), ("choices", ["auto"]),
    ])
    def test_refused(self, field, value):
        with pytest.raises(FieldError, match=f"'{field}'"):
            check_metadata({**META, field: value})

    def test_refused_inside_an_old_config(self):
        with pytest.raises(FieldError, match="'classes'"):
            check_metadata({**META, "config": {"classes": "no,yes"}})

    def test_accepted(self):
        check_metadata({**META, "classes": ["no", "yes"], "feature_names": ["a", "b"],
                        "target_name": None, "choices": {"backend": "auto chose numpy"}})
